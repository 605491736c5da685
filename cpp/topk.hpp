// Top-n items per query by score, for serving.
#pragma once

#include "common.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace fastmf {

// For each query row q: score_i = Q_q·y_i + q_offset[q] + y_bias[i] over all items, items
// listed in row q of the `exclude` CSR skipped; the best n (ties: lower index first) are
// written best first to out_items/out_scores, padded with -1 and -inf when fewer than n
// items remain. Queries are scored in blocks of 64 by one matrix product each; each row
// then keeps its n best in a small heap in one pass, never sorting all items.
// Caller guarantees: Q.cols() == Y.cols(), q_offset.size() == Q.rows(), y_bias.size() ==
// Y.rows(), exclude a valid CSR with Q.rows() rows and indices < Y.rows(), out arrays of
// shape (Q.rows(), n), 1 <= n, finite scores.
template <typename S>
void topk_scores(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
                 ConstVecRef<S> y_bias, ConstVecRef<std::int64_t> exclude_indptr,
                 ConstVecRef<std::int32_t> exclude_indices, RowRef<std::int32_t> out_items,
                 RowRef<S> out_scores, int num_threads) {
  using Entry = std::pair<S, std::int32_t>;
  constexpr Index block = 64;
  const Index n_queries = Q.rows(), n_items = Y.rows(), n = out_items.cols();
  const Index n_blocks = (n_queries + block - 1) / block;
  const S excluded = -std::numeric_limits<S>::infinity();
  // "a before b": a ranks higher. As the heap's order it keeps the worst entry on top.
  const auto before = [](const Entry& a, const Entry& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  struct Scratch {  // per thread
    Scratch(Index rows, Index n_items, Index n) : scores(rows, n_items) { heap.reserve(n); }
    RowMatrix<S> scores;
    std::vector<Entry> heap;
  };
  auto score_block = [&](Index b, Scratch& w) {
    const Index first = b * block, rows = std::min(block, n_queries - first);
    w.scores.topRows(rows).noalias() = Q.middleRows(first, rows) * Y.transpose();
    std::vector<Entry>& heap = w.heap;
    for (Index r = 0; r < rows; ++r) {
      const Index q = first + r;
      auto row = w.scores.row(r);
      row.array() += y_bias.transpose().array() + q_offset[q];
      for (std::int64_t e = exclude_indptr[q]; e < exclude_indptr[q + 1]; ++e) {
        row[exclude_indices[e]] = excluded;
      }
      heap.clear();
      for (Index i = 0; i < n_items; ++i) {
        const Entry entry{row[i], static_cast<std::int32_t>(i)};
        if (entry.first == excluded) continue;
        if (static_cast<Index>(heap.size()) < n) {
          heap.push_back(entry);
          std::push_heap(heap.begin(), heap.end(), before);
        } else if (before(entry, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), before);
          heap.back() = entry;
          std::push_heap(heap.begin(), heap.end(), before);
        }
      }
      std::sort_heap(heap.begin(), heap.end(), before);
      for (Index j = 0; j < n; ++j) {
        const bool valid = j < static_cast<Index>(heap.size());
        out_items(q, j) = valid ? heap[j].second : -1;
        out_scores(q, j) = valid ? heap[j].first : excluded;
      }
    }
  };
  ParallelGuard guard;
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<Scratch> scratch;
    guard.run([&] { scratch.emplace(block, n_items, n); });
#pragma omp for schedule(dynamic, 1)
    for (Index b = 0; b < n_blocks; ++b) {
      guard.run([&] { score_block(b, *scratch); });
    }
  }
  guard.rethrow();
}

}  // namespace fastmf
