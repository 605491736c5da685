// Stochastic gradient descent for the explicit, biased model (docs/user_guide/explicit.md, Funk SVD).
#pragma once

#include "common.hpp"
#include "compiler.hpp"

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

}  // namespace fastmf
