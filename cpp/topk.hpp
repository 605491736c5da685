// Top-n items per query by score, for serving.
#pragma once

#include "common.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace fastmf {

namespace topk_detail {

// Queries per block: up to kMaxBlock (one packing of an item chunk then serves that many
// queries), fewer when a batch is small, so that there are about 4 blocks per thread.
constexpr Index kMinBlock = 16, kMaxBlock = 256, kChunk = 512, kGroup = 32, kMinSlab = 65536;

template <typename S>
using Entry = std::pair<S, std::int32_t>;

// "a before b": a ranks higher (ties: lower item index first). As a heap's order it keeps
// the worst entry on top.
template <typename S>
inline bool before(const Entry<S>& a, const Entry<S>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// A sorted view of one query's excluded items: the row itself when it is sorted, else a
// sorted copy in `copy`.
inline std::pair<const std::int32_t*, const std::int32_t*> sorted_row(
    const std::int32_t* first, const std::int32_t* last, std::vector<std::int32_t>& copy) {
  if (std::is_sorted(first, last)) return {first, last};
  copy.assign(first, last);
  std::sort(copy.begin(), copy.end());
  return {copy.data(), copy.data() + copy.size()};
}

// Whether some score[j], j < len, is >= threshold: a branch-free reduction the compiler
// vectorizes, so a group of scores that cannot enter a full heap is passed over at the
// speed of a load and a compare.
template <typename S>
inline bool any_at_least(const S* score, Index len, S threshold) {
  int hits = 0;
  for (Index j = 0; j < len; ++j) hits |= score[j] >= threshold;
  return hits != 0;
}

}  // namespace topk_detail

// For each query row q: score_i = Q_q·y_i + q_offset[q] + y_bias[i] over the candidate
// items (every item when `all_items`, else the items listed in `candidates`), skipping the
// items in row q of the `exclude` CSR and those in `exclude_shared` (excluded for every
// query). The best n (ties: lower item index first) are written best first to
// out_items/out_scores, padded with -1 and -inf when fewer than n candidates remain, so a
// row holds exactly min(n, candidates left) items. Queries are scored in blocks of up to
// kMaxBlock and items in chunks of kChunk by one matrix product each (candidates gathered
// per chunk), so scratch memory is kMaxBlock x kChunk scores per thread whatever the
// catalog size. Each row keeps its n best in a small heap; its scores are tested kGroup at
// a time against the heap's worst by a vectorized compare, and only a group that holds a
// possible entry is read item by item, exclusion tested (a binary search) only for an item
// that would enter the heap. With fewer query blocks than threads the items are split in
// slabs too, each slab's best n merged at the end, so one query uses every thread.
// Caller guarantees: Q.cols() == Y.cols(), q_offset.size() == Q.rows(), y_bias.size() ==
// Y.rows(), candidates sorted ascending, unique and < Y.rows() (ignored when all_items),
// exclude a valid CSR with Q.rows() rows and indices < Y.rows() (rows in any order),
// exclude_shared sorted ascending, out arrays of shape (Q.rows(), n), 1 <= n, finite
// scores.
template <typename S>
void topk_filtered(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
                   ConstVecRef<S> y_bias, bool all_items,
                   ConstVecRef<std::int32_t> candidates,
                   ConstVecRef<std::int64_t> exclude_indptr,
                   ConstVecRef<std::int32_t> exclude_indices,
                   ConstVecRef<std::int32_t> exclude_shared, RowRef<std::int32_t> out_items,
                   RowRef<S> out_scores, int num_threads) {
  using topk_detail::before;
  using Entry = topk_detail::Entry<S>;
  using topk_detail::kChunk;
  using topk_detail::kGroup;
  using topk_detail::kMinSlab;
  using topk_detail::kMaxBlock;
  const Index n_queries = Q.rows(), n = out_items.cols(), k = Y.cols();
  const Index m = all_items ? Y.rows() : candidates.size();
  const int threads = resolve_threads(num_threads);
  const Index block = std::clamp<Index>((n_queries + 4 * threads - 1) / (4 * threads),
                                        topk_detail::kMinBlock, kMaxBlock);
  const Index n_blocks = (n_queries + block - 1) / block;
  const Index slabs = std::max<Index>(
      1, std::min<Index>(threads / std::max<Index>(n_blocks, 1), m / kMinSlab));
  const Index slab_size = (m + slabs - 1) / std::max<Index>(slabs, 1);
  const std::int32_t* shared_first = exclude_shared.data();
  const std::int32_t* shared_last = shared_first + exclude_shared.size();
  // best[(q * slabs + s) * n + j], count[q * slabs + s]: each slab's sorted best n
  std::vector<Entry> best;
  std::vector<Index> count;
  if (slabs > 1) {
    best.resize(static_cast<std::size_t>(n_queries * slabs * n));
    count.resize(static_cast<std::size_t>(n_queries * slabs));
  }
  struct Scratch {  // per thread
    Scratch(Index k, Index n)
        : scores(kMaxBlock, kChunk), gathered(kChunk, k), gathered_bias(kChunk),
          heaps(kMaxBlock) {
      for (auto& heap : heaps) heap.reserve(n);
    }
    RowMatrix<S> scores, gathered;
    Vector<S> gathered_bias;
    std::vector<std::vector<Entry>> heaps;
    std::vector<std::vector<std::int32_t>> copies{static_cast<std::size_t>(kMaxBlock)};
  };
  auto run_task = [&](Index task, Scratch& w) {
    const Index b = task / slabs, s = task % slabs;
    const Index first = b * block, rows = std::min(block, n_queries - first);
    const Index p_begin = s * slab_size, p_end = std::min(m, p_begin + slab_size);
    std::pair<const std::int32_t*, const std::int32_t*> excluded[kMaxBlock];
    for (Index r = 0; r < rows; ++r) {
      const std::int32_t* row = exclude_indices.data();
      excluded[r] = topk_detail::sorted_row(row + exclude_indptr[first + r],
                                            row + exclude_indptr[first + r + 1], w.copies[r]);
      w.heaps[r].clear();
    }
    auto skip = [&](Index r, std::int32_t item) {
      return std::binary_search(excluded[r].first, excluded[r].second, item) ||
             std::binary_search(shared_first, shared_last, item);
    };
    for (Index p0 = p_begin; p0 < p_end; p0 += kChunk) {
      const Index len = std::min(kChunk, p_end - p0);
      auto scores = w.scores.topLeftCorner(rows, len);
      const S* bias = all_items ? y_bias.data() + p0 : w.gathered_bias.data();
      if (rows == 1) {            // one query: a dot product per item beats a GEMV call
        const auto query = Q.row(first);
        for (Index j = 0; j < len; ++j) {
          const Index item = all_items ? p0 + j : candidates[p0 + j];
          scores(0, j) = Y.row(item).dot(query);
          if (!all_items) w.gathered_bias[j] = y_bias[item];
        }
      } else if (all_items) {
        scores.noalias() = Q.middleRows(first, rows) * Y.middleRows(p0, len).transpose();
      } else {
        for (Index j = 0; j < len; ++j) {
          w.gathered.row(j) = Y.row(candidates[p0 + j]);
          w.gathered_bias[j] = y_bias[candidates[p0 + j]];
        }
        scores.noalias() = Q.middleRows(first, rows) * w.gathered.topRows(len).transpose();
      }
      for (Index r = 0; r < rows; ++r) {
        std::vector<Entry>& heap = w.heaps[r];
        S* score = &w.scores(r, 0);
        const S offset = q_offset[first + r];
        for (Index j = 0; j < len; ++j) score[j] = score[j] + offset + bias[j];
        for (Index g = 0; g < len; g += kGroup) {
          const Index end = std::min(len, g + kGroup);
          if (static_cast<Index>(heap.size()) == n &&
              !topk_detail::any_at_least(score + g, end - g, heap.front().first)) {
            continue;
          }
          for (Index j = g; j < end; ++j) {
            const auto item = static_cast<std::int32_t>(all_items ? p0 + j : candidates[p0 + j]);
            const Entry entry{score[j], item};
            const bool full = static_cast<Index>(heap.size()) == n;
            if ((full && !before(entry, heap.front())) || skip(r, item)) continue;
            if (full) {
              std::pop_heap(heap.begin(), heap.end(), before<S>);
              heap.back() = entry;
            } else {
              heap.push_back(entry);
            }
            std::push_heap(heap.begin(), heap.end(), before<S>);
          }
        }
      }
    }
    for (Index r = 0; r < rows; ++r) {
      std::vector<Entry>& heap = w.heaps[r];
      std::sort_heap(heap.begin(), heap.end(), before<S>);
      const Index q = first + r, size = static_cast<Index>(heap.size());
      if (slabs > 1) {
        std::copy(heap.begin(), heap.end(), best.begin() + (q * slabs + s) * n);
        count[q * slabs + s] = size;
        continue;
      }
      for (Index j = 0; j < n; ++j) {
        out_items(q, j) = j < size ? heap[j].second : -1;
        out_scores(q, j) = j < size ? heap[j].first : -std::numeric_limits<S>::infinity();
      }
    }
  };
  ParallelGuard guard;
  const Index tasks = n_blocks * slabs;   // no idle threads to wake for a single task
#pragma omp parallel num_threads(static_cast<int>(std::min<Index>(threads, std::max<Index>(tasks, 1))))
  {
    std::optional<Scratch> scratch;
    guard.run([&] { scratch.emplace(k, n); });
#pragma omp for schedule(dynamic, 1)
    for (Index task = 0; task < tasks; ++task) {
      guard.run([&] { run_task(task, *scratch); });
    }
  }
  guard.rethrow();
  if (slabs == 1) return;
  std::vector<Entry> merged;                 // few queries here: merged serially
  for (Index q = 0; q < n_queries; ++q) {
    merged.clear();
    for (Index s = 0; s < slabs; ++s) {
      const auto from = best.begin() + (q * slabs + s) * n;
      merged.insert(merged.end(), from, from + count[q * slabs + s]);
    }
    const Index size = std::min(n, static_cast<Index>(merged.size()));
    std::partial_sort(merged.begin(), merged.begin() + size, merged.end(), before<S>);
    for (Index j = 0; j < n; ++j) {
      out_items(q, j) = j < size ? merged[j].second : -1;
      out_scores(q, j) = j < size ? merged[j].first : -std::numeric_limits<S>::infinity();
    }
  }
}

// topk_filtered over every item with no shared exclusions: for each query row q the best n
// of score_i = Q_q·y_i + q_offset[q] + y_bias[i], the items in row q of `exclude`
// skipped, padded with -1 and -inf. Caller guarantees: as topk_filtered.
template <typename S>
void topk_scores(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
                 ConstVecRef<S> y_bias, ConstVecRef<std::int64_t> exclude_indptr,
                 ConstVecRef<std::int32_t> exclude_indices, RowRef<std::int32_t> out_items,
                 RowRef<S> out_scores, int num_threads) {
  const Vector<std::int32_t> none(0);
  topk_filtered<S>(Q, q_offset, Y, y_bias, true, none, exclude_indptr, exclude_indices, none,
                   out_items, out_scores, num_threads);
}

}  // namespace fastmf
