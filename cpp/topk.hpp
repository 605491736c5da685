// Top-n items per query by score, for serving.
#pragma once

#include "common.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace fastmf {

// For each query row q: score_i = Q_q·y_i + q_offset[q] + y_bias[i] over all items, items
// listed in row q of the `exclude` CSR skipped; the best n (ties: lower index first) are
// written best first to out_items/out_scores, padded with -1 and -inf when fewer than n
// items remain. Queries are scored in blocks of 64 by one matrix product each, then each
// row keeps its n best by a partial selection, never a full sort of all items.
// Caller guarantees: Q.cols() == Y.cols(), q_offset.size() == Q.rows(), y_bias.size() ==
// Y.rows(), exclude a valid CSR with Q.rows() rows and indices < Y.rows(), out arrays of
// shape (Q.rows(), n), 1 <= n.
template <typename S>
void topk_scores(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
                 ConstVecRef<S> y_bias, ConstVecRef<std::int64_t> exclude_indptr,
                 ConstVecRef<std::int32_t> exclude_indices, RowRef<std::int32_t> out_items,
                 RowRef<S> out_scores, int num_threads) {
  constexpr Index block = 64;
  const Index n_queries = Q.rows(), n_items = Y.rows(), n = out_items.cols();
  const Index n_blocks = (n_queries + block - 1) / block;
  const S excluded = -std::numeric_limits<S>::infinity();
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    RowMatrix<S> scores(block, n_items);
    std::vector<std::int32_t> order(n_items);
#pragma omp for schedule(dynamic, 1)
    for (Index b = 0; b < n_blocks; ++b) {
      const Index first = b * block, rows = std::min(block, n_queries - first);
      scores.topRows(rows).noalias() = Q.middleRows(first, rows) * Y.transpose();
      for (Index r = 0; r < rows; ++r) {
        const Index q = first + r;
        auto row = scores.row(r);
        row.array() += y_bias.transpose().array() + q_offset[q];
        for (std::int64_t e = exclude_indptr[q]; e < exclude_indptr[q + 1]; ++e) {
          row[exclude_indices[e]] = excluded;
        }
        for (Index i = 0; i < n_items; ++i) order[i] = static_cast<std::int32_t>(i);
        const auto better = [&row](std::int32_t a, std::int32_t c) {
          return row[a] > row[c] || (row[a] == row[c] && a < c);
        };
        const Index keep = std::min(n, n_items);
        std::nth_element(order.begin(), order.begin() + (keep - 1), order.end(), better);
        std::sort(order.begin(), order.begin() + keep, better);
        for (Index j = 0; j < n; ++j) {
          const bool valid = j < keep && row[order[j]] != excluded;
          out_items(q, j) = valid ? order[j] : -1;
          out_scores(q, j) = valid ? row[order[j]] : excluded;
        }
      }
    }
  }
}

}  // namespace fastmf
