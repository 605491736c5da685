// Top-n items per query by score, for serving, and with the AUC counts, for evaluation.
#pragma once

#include "common.hpp"
#include "simd.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
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

// Σ_j 2·#{i: t[i] > score[j]} + #{i: t[i] == score[j]} over j < len, for t[0..m) sorted
// ascending: twice the pairs (t[i], score[j]) that t[i] wins, a tie counting one half. For
// m up to 12 vectors' lanes every score meets each t[i] in a branch-free loop over kGroup
// scores that the compiler vectorizes: the counts are integers as wide as S (a vector of
// counts has the lanes of a vector of scores) that add up the compares' masks, -1 where a
// compare holds, so each compare costs one addition. Past that m, or where a vector holds
// fewer than 4 lanes (double without AVX), each score is placed in t by a branch-free
// binary search, 16 scores in step so that their loads overlap, and ties (rare) are counted
// one by one. No value may be NaN.
template <typename S>
std::int64_t doubled_wins(const S* score, Index len, const S* t, Index m) {
  using Count = std::conditional_t<sizeof(S) == 4, std::int32_t, std::int64_t>;
  constexpr Index kLanes = Simd<S>::width, kSearchStep = 16;
  std::int64_t total = 0;
  Index j0 = 0;
  if (kLanes >= 4 && m <= 12 * kLanes) {
    for (; j0 + kGroup <= len; j0 += kGroup) {
      Count negated[kGroup] = {};
      for (Index i = 0; i < m; ++i) {
        const S ti = t[i];
        for (Index j = 0; j < kGroup; ++j) {
          negated[j] += Count(ti > score[j0 + j] ? -1 : 0) + Count(ti >= score[j0 + j] ? -1 : 0);
        }
      }
      for (Index j = 0; j < kGroup; ++j) total -= negated[j];
    }
    for (; j0 < len; ++j0) {
      for (Index i = 0; i < m; ++i) total += int(t[i] > score[j0]) + int(t[i] >= score[j0]);
    }
    return total;
  }
  for (; j0 < len; j0 += kSearchStep) {
    const Index step = std::min(kSearchStep, len - j0);
    S s[kSearchStep];                        // a short last step repeats its last score
    const S* base[kSearchStep];
    for (Index l = 0; l < kSearchStep; ++l) s[l] = score[j0 + std::min(l, step - 1)];
    std::fill(base, base + kSearchStep, t);
    for (Index size = m; size > 1; size -= size / 2) {
      for (Index l = 0; l < kSearchStep; ++l) {
        base[l] = base[l][size / 2] < s[l] ? base[l] + size / 2 : base[l];
      }
    }
    for (Index l = 0; l < step; ++l) {
      const Index below = (base[l] - t) + Index(*base[l] < s[l]);   // #{t < s}
      Index through = below;                                         // #{t <= s}
      while (through < m && t[through] == s[l]) ++through;
      total += 2 * m - below - through;
    }
  }
  return total;
}

// Offers the scores score[0..len) of the items item_of(0..len) to `heap`, which keeps the
// best n (see before): a group of kGroup scores is tested against the heap's worst by a
// vectorized compare, and only a group that holds a possible entry is read item by item,
// skip(item) asked only for an item that would enter the heap.
template <typename S, typename ItemOf, typename Skip>
void offer(std::vector<Entry<S>>& heap, Index n, const S* score, Index len, ItemOf item_of,
           Skip skip) {
  for (Index g = 0; g < len; g += kGroup) {
    const Index end = std::min(len, g + kGroup);
    if (static_cast<Index>(heap.size()) == n &&
        !any_at_least(score + g, end - g, heap.front().first)) {
      continue;
    }
    for (Index j = g; j < end; ++j) {
      const Entry<S> entry{score[j], item_of(j)};
      const bool full = static_cast<Index>(heap.size()) == n;
      if ((full && !before(entry, heap.front())) || skip(entry.second)) continue;
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

// What a top-n scan does beside ranking, as hooks on the query rows of a block, run by the
// thread that ranks the block (Rows is that thread's state): begin(r, q) before query q,
// row r of the block, meets its first item chunk; chunk(r, p0, len, score) on its scores of
// items p0..p0+len (offset and bias added), which the hook may change before they are
// ranked; end(r) after its last chunk. kSlabs: whether the items may be split in slabs.
// Serving ranks and nothing else: these hooks do nothing and compile away.
template <typename S>
struct RankOnly {
  static constexpr bool kSlabs = true;
  struct Rows {
    explicit Rows(const RankOnly&) {}
    void begin(Index, Index) {}
    void chunk(Index, Index, Index, S*) {}
    void end(Index) {}
  };
};

// The blocked scan of topk_filtered, whose contract it implements, with the hooks of
// `visitor` (see RankOnly) called on every query row and chunk. Kept as one function of
// about 130 lines: its phases (packing a chunk of items, the block's score products, the
// per-row offers and hooks) share the block's buffers, heaps and loop bounds, which parts
// would have to pass to one another.
template <typename S, typename Visitor>
void scan_topn(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
               ConstVecRef<S> y_bias, bool all_items, ConstVecRef<std::int32_t> candidates,
               ConstVecRef<std::int64_t> exclude_indptr,
               ConstVecRef<std::int32_t> exclude_indices,
               ConstVecRef<std::int32_t> exclude_shared, Index first_item,
               Index catalog_items, RowRef<std::int32_t> out_items, RowRef<S> out_scores,
               int num_threads, const Visitor& visitor) {
  const Index n_queries = Q.rows(), n = out_items.cols(), k = Y.cols();
  const Index m = all_items ? Y.rows() : candidates.size();
  const int threads = resolve_threads(num_threads);
  const Index block = std::clamp<Index>((n_queries + 4 * threads - 1) / (4 * threads),
                                        kMinBlock, kMaxBlock);
  const Index n_blocks = (n_queries + block - 1) / block;
  const Index slabs = !Visitor::kSlabs ? 1 : std::max<Index>(
      1, std::min<Index>(threads / std::max<Index>(n_blocks, 1), m / kMinSlab));
  const Index slab_size = (m + slabs - 1) / std::max<Index>(slabs, 1);
  const std::int32_t* shared_first = exclude_shared.data();
  const std::int32_t* shared_last = shared_first + exclude_shared.size();
  // best[(q * slabs + s) * n + j], count[q * slabs + s]: each slab's sorted best n
  std::vector<Entry<S>> best;
  std::vector<Index> count;
  if (slabs > 1) {
    best.resize(static_cast<std::size_t>(n_queries * slabs * n));
    count.resize(static_cast<std::size_t>(n_queries * slabs));
  }
  struct Scratch {  // per thread
    Scratch(Index k, Index n, const Visitor& visitor)
        : scores(kMaxBlock, kChunk), gathered(kChunk, k), gathered_bias(kChunk),
          heaps(kMaxBlock), hooks(visitor) {
      for (auto& heap : heaps) heap.reserve(n);
    }
    RowMatrix<S> scores, gathered;
    Vector<S> gathered_bias;
    std::vector<std::vector<Entry<S>>> heaps;
    std::vector<std::vector<std::int32_t>> copies{static_cast<std::size_t>(kMaxBlock)};
    typename Visitor::Rows hooks;
  };
  auto run_task = [&](Index task, Scratch& w) {
    const Index b = task / slabs, s = task % slabs;
    const Index first = b * block, rows = std::min(block, n_queries - first);
    const Index p_begin = s * slab_size, p_end = std::min(m, p_begin + slab_size);
    std::pair<const std::int32_t*, const std::int32_t*> excluded[kMaxBlock];
    for (Index r = 0; r < rows; ++r) {
      const std::int32_t* row = exclude_indices.data();
      excluded[r] = sorted_row(row + exclude_indptr[first + r],
                               row + exclude_indptr[first + r + 1], w.copies[r]);
      w.heaps[r].clear();
      w.hooks.begin(r, first + r);
    }
    auto skip = [&](Index r, std::int32_t item) {
      return std::binary_search(excluded[r].first, excluded[r].second, item) ||
             std::binary_search(shared_first, shared_last, item);
    };
    for (Index p0 = p_begin, len = 0; p0 < p_end; p0 += len) {
      // Over every item, the chunks are those of the whole catalog (Y its rows first_item
      // ..): item p0 is column `at` of its catalog chunk's product, `width` columns wide,
      // and a chunk Y covers in part is a product of that width with zero rows for the
      // items Y lacks, so that every score has the bits the whole catalog's scan gives it.
      const Index at = all_items ? (first_item + p0) % kChunk : 0;
      len = std::min(kChunk - at, p_end - p0);
      const Index width = all_items ? std::min(kChunk, catalog_items - (first_item + p0 - at))
                                    : len;
      const S* bias = all_items ? y_bias.data() + p0 : w.gathered_bias.data();
      if (rows == 1) {            // one query: a dot product per item beats a GEMV call
        const auto query = Q.row(first);
        for (Index j = 0; j < len; ++j) {
          const Index item = all_items ? p0 + j : candidates[p0 + j];
          w.scores(0, at + j) = Y.row(item).dot(query);
          if (!all_items) w.gathered_bias[j] = y_bias[item];
        }
      } else if (!all_items) {
        for (Index j = 0; j < len; ++j) {
          w.gathered.row(j) = Y.row(candidates[p0 + j]);
          w.gathered_bias[j] = y_bias[candidates[p0 + j]];
        }
        w.scores.topLeftCorner(rows, len).noalias() =
            Q.middleRows(first, rows) * w.gathered.topRows(len).transpose();
      } else if (len == width) {
        w.scores.topLeftCorner(rows, len).noalias() =
            Q.middleRows(first, rows) * Y.middleRows(p0, len).transpose();
      } else {
        w.gathered.topRows(width).setZero();
        w.gathered.middleRows(at, len) = Y.middleRows(p0, len);
        w.scores.topLeftCorner(rows, width).noalias() =
            Q.middleRows(first, rows) * w.gathered.topRows(width).transpose();
      }
      auto item_of = [&](Index j) {
        return static_cast<std::int32_t>(all_items ? p0 + j : candidates[p0 + j]);
      };
      for (Index r = 0; r < rows; ++r) {
        S* score = &w.scores(r, at);
        const S offset = q_offset[first + r];
        for (Index j = 0; j < len; ++j) score[j] = score[j] + offset + bias[j];
        w.hooks.chunk(r, p0, len, score);
        offer(w.heaps[r], n, score, len, item_of,
              [&](std::int32_t item) { return skip(r, item); });
      }
    }
    for (Index r = 0; r < rows; ++r) {
      w.hooks.end(r);
      std::vector<Entry<S>>& heap = w.heaps[r];
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
    guard.run([&] { scratch.emplace(k, n, visitor); });
#pragma omp for schedule(dynamic, 1)
    for (Index task = 0; task < tasks; ++task) {
      guard.run([&] { run_task(task, *scratch); });
    }
  }
  guard.rethrow();
  if (slabs == 1) return;
  std::vector<Entry<S>> merged;              // few queries here: merged serially
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

// The score topk_auc gives a relevant item: one dot product, whatever the item's place.
template <typename S>
inline S relevant_score(const ConstRowRef<S>& Q, const ConstVecRef<S>& q_offset,
                        const ConstRowRef<S>& Y, const ConstVecRef<S>& y_bias, Index q,
                        Index item) {
  return Y.row(item).dot(Q.row(q)) + q_offset[q] + y_bias[item];
}

// The hooks of topk_auc: each query's doubled Mann-Whitney U, counted on the scores as
// they are ranked (see topk_auc). With probes (probe_indptr not null), each query's
// items are counted against its probe scores instead of its relevant items' scores.
template <typename S>
struct AucCounts {
  static constexpr bool kSlabs = false;
  const ConstRowRef<S>& Q;
  const ConstVecRef<S>& q_offset;
  const ConstRowRef<S>& Y;
  const ConstVecRef<S>& y_bias;
  const std::int64_t* exclude_indptr;
  const std::int32_t* exclude_indices;
  const std::int64_t* relevant_indptr;
  const std::int32_t* relevant_indices;
  const std::int64_t* probe_indptr;
  const S* probe_scores;
  std::int64_t* out_wins;

  class Rows {
   public:
    explicit Rows(const AucCounts& counts)
        : c_(counts), exact_(kMaxBlock), sorted_(kMaxBlock), rows_(kMaxBlock) {}

    // The relevant items' scores, one dot product each, and what the items are counted
    // against, sorted: those scores, or the query's probes.
    void begin(Index r, Index q) {
      Row& row = rows_[r];
      const std::int64_t rel = c_.relevant_indptr[q], excl = c_.exclude_indptr[q];
      row = Row{q, c_.relevant_indices + rel, c_.relevant_indptr[q + 1] - rel,
                c_.exclude_indices + excl, c_.exclude_indptr[q + 1] - excl};
      exact_[r].resize(static_cast<std::size_t>(row.n_relevant));
      for (Index a = 0; a < row.n_relevant; ++a) {
        exact_[r][a] = relevant_score(c_.Q, c_.q_offset, c_.Y, c_.y_bias, q, row.relevant[a]);
      }
      if (c_.probe_indptr != nullptr) {
        sorted_[r].assign(c_.probe_scores + c_.probe_indptr[q],
                          c_.probe_scores + c_.probe_indptr[q + 1]);
      } else {
        sorted_[r] = exact_[r];
        std::sort(sorted_[r].begin(), sorted_[r].end());
      }
      row.n_sorted = static_cast<std::int64_t>(sorted_[r].size());
    }

    // The chunk's relevant scores become their dot products and its excluded scores -inf,
    // found by two cursors that walk the sorted rows along the chunks; then every score of
    // the chunk is counted against the relevant ones.
    void chunk(Index r, Index p0, Index len, S* score) {
      Row& row = rows_[r];
      if (row.n_sorted == 0) return;
      for (; row.next_relevant < row.n_relevant && row.relevant[row.next_relevant] < p0 + len;
           ++row.next_relevant) {
        score[row.relevant[row.next_relevant] - p0] = exact_[r][row.next_relevant];
      }
      for (; row.next_excluded < row.n_excluded && row.excluded[row.next_excluded] < p0 + len;
           ++row.next_excluded) {
        score[row.excluded[row.next_excluded] - p0] = -std::numeric_limits<S>::infinity();
      }
      row.wins += doubled_wins(score, len, sorted_[r].data(), row.n_sorted);
    }

    // Every item was counted: an excluded one (-inf) as 2·m (m scores counted against),
    // the relevant ones against themselves as m² (each pair of them wins 2 in all, a tie
    // 1 + 1, and each ties itself once); what is left is the count over the other items.
    // With probes the relevant ones stay in: the caller, which adds up the counts of the
    // parts of a catalog, takes the m² off once.
    void end(Index r) {
      const Row& row = rows_[r];
      const std::int64_t m = row.n_sorted;
      const std::int64_t own = c_.probe_indptr != nullptr ? 0 : m * m;
      c_.out_wins[row.q] = m == 0 ? 0 : row.wins - 2 * m * row.n_excluded - own;
    }

   private:
    struct Row {
      Index q;
      const std::int32_t* relevant;
      std::int64_t n_relevant;
      const std::int32_t* excluded;
      std::int64_t n_excluded;
      std::int64_t next_relevant = 0, next_excluded = 0, wins = 0, n_sorted = 0;
    };
    const AucCounts& c_;
    std::vector<std::vector<S>> exact_, sorted_;   // per block row: in item order, sorted
    std::vector<Row> rows_;
  };
};

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
// Y may be a part of a catalog of catalog_items items, its rows those numbered first_item
// ..: over every item the chunks then follow the whole catalog's, so that a score has the
// same bits as when the whole catalog is ranked (item indices stay Y's own).
// Caller guarantees: Q.cols() == Y.cols(), q_offset.size() == Q.rows(), y_bias.size() ==
// Y.rows(), candidates sorted ascending, unique and < Y.rows() (ignored when all_items),
// exclude a valid CSR with Q.rows() rows and indices < Y.rows() (rows in any order),
// exclude_shared sorted ascending, out arrays of shape (Q.rows(), n), 1 <= n, finite
// scores, 0 <= first_item and first_item + Y.rows() <= catalog_items.
template <typename S>
void topk_filtered(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
                   ConstVecRef<S> y_bias, bool all_items,
                   ConstVecRef<std::int32_t> candidates,
                   ConstVecRef<std::int64_t> exclude_indptr,
                   ConstVecRef<std::int32_t> exclude_indices,
                   ConstVecRef<std::int32_t> exclude_shared, Index first_item,
                   Index catalog_items, RowRef<std::int32_t> out_items, RowRef<S> out_scores,
                   int num_threads) {
  topk_detail::scan_topn<S>(Q, q_offset, Y, y_bias, all_items, candidates, exclude_indptr,
                            exclude_indices, exclude_shared, first_item, catalog_items,
                            out_items, out_scores, num_threads, topk_detail::RankOnly<S>{});
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
                   0, Y.rows(), out_items, out_scores, num_threads);
}

// Evaluation in one pass: for each query row q, the best n items of score_i = Q_q·y_i +
// q_offset[q] + y_bias[i] over every item not in row q of `exclude`, as topk_scores writes
// them, and, in the same scoring pass, out_wins[q] = Σ_j (2·#{r: s_r > s_j} + #{r: s_r ==
// s_j}) over the other items j (neither excluded nor relevant), r over the relevant items
// in row q of `relevant`: twice the Mann-Whitney U, so that the row's ROC AUC is
// out_wins[q] / (2 · n_relevant · n_other); 0 for a row with no relevant item. Nothing is
// sorted but the relevant scores: each chunk of scores is counted against them where it is
// ranked (doubled_wins: O(n_relevant) vectorized compares per item, O(log n_relevant) past
// a few dozen; with 20 relevant items a query on average, it adds about 85% to the time
// of topk_scores at k = 64). A relevant item's score is one dot product (it may differ in
// the last bits from what the chunk's matrix product gives), written over its chunk score,
// so that the count and the top n see one score per item; equal scores (as small integer
// factors give) are counted as ties. Items are not split in slabs: a batch of fewer blocks
// than threads runs on fewer threads.
// With probes (probe_indptr not empty), Y is one part of a catalog whose relevant items
// lie partly elsewhere: every item of Y but the excluded ones (the relevant ones of Y
// included) is counted against the scores in row q of the probes CSR, the relevant_scores
// of all the query's relevant items, and out_wins[q] leaves the relevant items' count
// against themselves (m² for m probes) in, for the caller to take off once the parts are
// added up.
// Caller guarantees: as topk_scores, and exclude and relevant valid CSRs with Q.rows()
// rows, each row sorted ascending without repeats, indices < Y.rows(), no item in both rows
// of a query; out_wins.size() == Q.rows(); every score finite; probes empty or a CSR with
// Q.rows() rows, each row sorted ascending, holding the relevant_scores of the query's
// relevant items of Y; first_item and catalog_items as for topk_filtered.
template <typename S>
void topk_auc(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
              ConstVecRef<S> y_bias, ConstVecRef<std::int64_t> exclude_indptr,
              ConstVecRef<std::int32_t> exclude_indices,
              ConstVecRef<std::int64_t> relevant_indptr,
              ConstVecRef<std::int32_t> relevant_indices, ConstVecRef<std::int64_t> probe_indptr,
              ConstVecRef<S> probe_scores, Index first_item, Index catalog_items,
              RowRef<std::int32_t> out_items, RowRef<S> out_scores,
              VecRef<std::int64_t> out_wins, int num_threads) {
  const Vector<std::int32_t> none(0);
  const bool probes = probe_indptr.size() > 0;
  const topk_detail::AucCounts<S> counts{Q, q_offset, Y, y_bias,
                                         exclude_indptr.data(), exclude_indices.data(),
                                         relevant_indptr.data(), relevant_indices.data(),
                                         probes ? probe_indptr.data() : nullptr,
                                         probes ? probe_scores.data() : nullptr,
                                         out_wins.data()};
  topk_detail::scan_topn<S>(Q, q_offset, Y, y_bias, true, none, exclude_indptr,
                            exclude_indices, none, first_item, catalog_items, out_items,
                            out_scores, num_threads, counts);
}

// out[e] = relevant_score of the item of entry e of the `relevant` CSR (rows: queries),
// the probes that topk_auc takes for the parts of a catalog. Caller guarantees: relevant a
// valid CSR with Q.rows() rows and indices < Y.rows(), out.size() == its entries, shapes
// as topk_auc.
template <typename S>
void relevant_scores(ConstRowRef<S> Q, ConstVecRef<S> q_offset, ConstRowRef<S> Y,
                     ConstVecRef<S> y_bias, ConstVecRef<std::int64_t> relevant_indptr,
                     ConstVecRef<std::int32_t> relevant_indices, VecRef<S> out,
                     int num_threads) {
  const Index n_queries = Q.rows();
#pragma omp parallel for schedule(static) num_threads(resolve_threads(num_threads))
  for (Index q = 0; q < n_queries; ++q) {
    for (std::int64_t e = relevant_indptr[q]; e < relevant_indptr[q + 1]; ++e) {
      out[e] = topk_detail::relevant_score(Q, q_offset, Y, y_bias, q, relevant_indices[e]);
    }
  }
}

}  // namespace fastmf
