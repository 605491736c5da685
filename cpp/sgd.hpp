// SGD for the explicit, biased model (Funk SVD; docs/user_guide/explicit.md).
#pragma once

#include "common.hpp"
#include "compiler.hpp"
#include "rng.hpp"

#include <utility>
#include <vector>

namespace fastmf {

// One SGD epoch over ratings stored block by block: block b holds the ratings
// block_ptr[b] .. block_ptr[b+1]-1 of (uidx, iidx, ratings). Blocks are visited in
// block_order, the ratings inside a block in stored order. For each rating,
//   e = r - (mu + b_u + b_i + x_u·y_i)
//   b_u += lr (e - bias_reg b_u),  b_i += lr (e - bias_reg b_i)
//   x_u += lr (e y_i - reg x_u),   y_i += lr (e x_u - reg y_i)
// with both vectors updated from their values before the step. Threads take whole blocks
// (Hogwild: shared factors, no locks); with one thread the run is deterministic.
// Returns Σ e² over the epoch (each e taken before its update), in double.
// Caller guarantees: block_ptr non-decreasing from 0 to ratings.size(); block_order a
// permutation of 0..n_blocks-1; indices in range; X.cols() == Y.cols(); finite inputs.
template <typename S>
double sgd_epoch(ConstVecRef<std::int64_t> block_ptr, ConstVecRef<std::int32_t> block_order,
                 ConstVecRef<std::int32_t> uidx, ConstVecRef<std::int32_t> iidx,
                 ConstVecRef<S> ratings, RowRef<S> X, VecRef<S> x_bias, RowRef<S> Y,
                 VecRef<S> y_bias, S mu, S lr, S reg, S bias_reg, int num_threads) {
  const Index k = X.cols();
  const Index n_blocks = block_order.size();
  double sse = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sse) \
    num_threads(resolve_threads(num_threads))
  for (Index position = 0; position < n_blocks; ++position) {
    const std::int32_t block = block_order[position];
    const std::int64_t end = block_ptr[block + 1];
    for (std::int64_t e = block_ptr[block]; e < end; ++e) {
      if (e + kPrefetchAhead < end) {
        prefetch_row(X, uidx[e + kPrefetchAhead]);
        prefetch_row(Y, iidx[e + kPrefetchAhead]);
      }
      const std::int32_t u = uidx[e], i = iidx[e];
      S* FASTMF_RESTRICT x = X.row(u).data();
      S* FASTMF_RESTRICT y = Y.row(i).data();
      // Eigen's dot sums in SIMD lanes; a plain loop would be one serial chain of FMAs.
      const S dot = X.row(u).dot(Y.row(i));
      const S err = ratings[e] - (mu + x_bias[u] + y_bias[i] + dot);
      sse += double(err) * double(err);
      x_bias[u] += lr * (err - bias_reg * x_bias[u]);
      y_bias[i] += lr * (err - bias_reg * y_bias[i]);
      for (Index f = 0; f < k; ++f) {
        const S xf = x[f], yf = y[f];
        x[f] = xf + lr * (err * yf - reg * xf);
        y[f] = yf + lr * (err * xf - reg * yf);
      }
    }
  }
  return sse;
}

// The ratings laid out for sgd_epoch: the ratings of the CSR (indptr, indices, ratings),
// rating e of user u and item i going to block b = user_block[u] * side + item_block[i],
// by a stable counting scatter (block_ptr, side² + 1 entries, receives the cumulative
// counts); then each block is shuffled by Fisher-Yates from its end, draw j (for
// j = n_b - 1, ..., 1) swapping entry j with entry below(stream_value(s_b, j), j + 1),
// s_b = stream_value(seed, b) (rng.hpp). The layout depends on the seed alone, not on the
// thread count, and no permutation of all the ratings is held: O(nnz) time, no memory
// beyond the outputs and side² counters.
// Caller guarantees: indptr of n_users + 1 offsets from 0 to nnz; user_block of n_users
// and item_block values in [0, side) for every rated item; outputs of nnz entries;
// block_ptr of side² + 1; blocks of fewer than 2^32 ratings.
template <typename S>
void sgd_block_layout(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                      ConstVecRef<S> ratings, ConstVecRef<std::int32_t> user_block,
                      ConstVecRef<std::int32_t> item_block, std::int64_t side,
                      std::uint64_t seed, VecRef<std::int64_t> block_ptr,
                      VecRef<std::int32_t> out_uidx, VecRef<std::int32_t> out_iidx,
                      VecRef<S> out_ratings, int num_threads) {
  const Index n_users = indptr.size() - 1, n_blocks = side * side;
  block_ptr.setZero();
  for (Index u = 0; u < n_users; ++u) {
    const std::int64_t row = std::int64_t(user_block[u]) * side;
    for (std::int64_t e = indptr[u]; e < indptr[u + 1]; ++e) {
      ++block_ptr[row + item_block[indices[e]] + 1];
    }
  }
  for (Index b = 0; b < n_blocks; ++b) block_ptr[b + 1] += block_ptr[b];
  {
    std::vector<std::int64_t> next(block_ptr.data(), block_ptr.data() + n_blocks);
    for (Index u = 0; u < n_users; ++u) {
      const std::int64_t row = std::int64_t(user_block[u]) * side;
      for (std::int64_t e = indptr[u]; e < indptr[u + 1]; ++e) {
        const std::int64_t slot = next[row + item_block[indices[e]]]++;
        out_uidx[slot] = std::int32_t(u);
        out_iidx[slot] = indices[e];
        out_ratings[slot] = ratings[e];
      }
    }
  }
#pragma omp parallel for schedule(dynamic, 16) num_threads(resolve_threads(num_threads))
  for (Index b = 0; b < n_blocks; ++b) {
    const std::int64_t lo = block_ptr[b], n = block_ptr[b + 1] - lo;
    const std::uint64_t block_seed = stream_value(seed, std::uint64_t(b));
    for (std::int64_t j = n - 1; j > 0; --j) {
      const std::uint64_t x = stream_value(block_seed, std::uint64_t(j));
      const std::int64_t pick = lo + std::int64_t(below(x, std::uint64_t(j + 1)));
      std::swap(out_uidx[lo + j], out_uidx[pick]);
      std::swap(out_iidx[lo + j], out_iidx[pick]);
      std::swap(out_ratings[lo + j], out_ratings[pick]);
    }
  }
}
}  // namespace fastmf
