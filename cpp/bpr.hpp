// Bayesian personalized ranking (Rendle et al. 2009) for implicit data (docs/user_guide/implicit.md).
#pragma once

#include "common.hpp"
#include "compiler.hpp"
#include "rng.hpp"
#include "simd.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

namespace fastmf {

// (objective, ordered, used): Σ over the steps of the sample objective (see bpr_step),
// the number of steps whose x was > 0, and the number of steps taken.
using BprTotals = std::tuple<double, std::int64_t, std::int64_t>;

// The most candidates drawn for the negative of one sample before it is skipped (a user
// who has seen most items); counter space reserved per sample: one positive, then the
// candidates. A sampler may stop sooner (tries = 1: a seen first candidate skips the
// sample, as implicit's sampler does), leaving the draws of every other sample as they are.
constexpr int kNegativeTries = 32;
constexpr std::uint64_t kDrawsPerSample = 1 + kNegativeTries;
// Samples a thread draws before it steps through them (bpr_epoch).
constexpr std::int64_t kBprBatch = 32;

// The draws of an epoch, a pure function of (seed, sample). Sample s uses the values
// s·kDrawsPerSample + t of the stream of `seed`: t = 0 picks an observed pair uniformly
// over the nnz entries of the positives CSR (its row is the user u, its column the item i);
// t = 1, 2, ... are candidates j, uniform over n_items or, when cdf is not empty, the first
// index with cdf[j] > U·cdf.back() (U uniform in [0, 1)); the first candidate not in u's
// sorted row among the first `tries` is the negative, found by binary search.
struct BprSampler {
  ConstVecRef<std::int64_t> indptr;
  ConstVecRef<std::int32_t> indices;
  ConstVecRef<std::int32_t> user_of;   // the row of every entry
  ConstVecRef<double> cdf;             // cumulative weights of the items, or empty
  std::uint64_t seed, n_items;
  int tries;                           // 1 .. kNegativeTries
  // With a cdf: guide[b] is where candidate() starts for U in [b/G, (b+1)/G), the first j
  // with cdf[j] > b/G · cdf.back() (Chen and Asau's guide table), so a draw by popularity
  // reads one or two cache lines instead of searching the whole cdf.
  std::vector<std::int32_t> guide;

  BprSampler(ConstVecRef<std::int64_t> indptr_, ConstVecRef<std::int32_t> indices_,
             ConstVecRef<std::int32_t> user_of_, ConstVecRef<double> cdf_, std::uint64_t seed_,
             std::uint64_t n_items_, int tries_)
      : indptr(indptr_), indices(indices_), user_of(user_of_), cdf(cdf_), seed(seed_),
        n_items(n_items_), tries(tries_) {
    if (cdf.size() == 0) return;
    guide.resize(cdf.size());
    const double total = cdf[cdf.size() - 1];
    std::int64_t j = 0;
    for (std::size_t b = 0; b < guide.size(); ++b) {
      const double start = double(b) / double(guide.size()) * total;
      while (j < cdf.size() - 1 && cdf[j] <= start) ++j;
      guide[b] = std::int32_t(j);
    }
  }

  std::int64_t positive(std::int64_t s) const {
    return std::int64_t(below(stream_value(seed, s * kDrawsPerSample), indices.size()));
  }
  std::int32_t candidate(std::int64_t s, int t) const {
    const std::uint64_t x = stream_value(seed, s * kDrawsPerSample + 1 + t);
    if (cdf.size() == 0) return std::int32_t(below(x, n_items));
    // The first j < n - 1 with cdf[j] > target, else n - 1 (std::upper_bound over
    // cdf[0..n-1)): from the guide table's start, a step or two along the cdf.
    const double target = unit_interval(x) * cdf[cdf.size() - 1];
    const std::int64_t last = cdf.size() - 1;
    std::int64_t j = guide[std::min<std::int64_t>(std::int64_t(unit_interval(x) * guide.size()),
                                                  guide.size() - 1)];
    while (j > 0 && cdf[j - 1] > target) --j;
    while (j < last && cdf[j] <= target) ++j;
    return std::int32_t(j);
  }
  // The negative of sample s for user u, or -1 when all `tries` candidates were observed.
  std::int32_t negative(std::int64_t s, std::int32_t u) const {
    for (int t = 0; t < tries; ++t) {
      const std::int32_t j = candidate(s, t);
      if (!in_sorted(indices.data() + indptr[u], indptr[u + 1] - indptr[u], j)) return j;
    }
    return -1;
  }
  // The triples of samples first .. first + n - 1 (n <= kBprBatch): users, positives and
  // negatives (-1: skipped), as negative() gives them. Every user's row is searched for its
  // first candidate (in_sorted) a level at a time: each row's next probe is asked for while
  // the other rows take their turn, so the searches' cache misses overlap instead of
  // following one another.
  void draw_batch(std::int64_t first, int n, std::int32_t* u, std::int32_t* i,
                  std::int32_t* j) const {
    const std::int32_t* row[kBprBatch];
    std::int64_t length[kBprBatch];
    for (int t = 0; t < n; ++t) {
      const std::int64_t e = positive(first + t);
      u[t] = user_of[e];
      i[t] = indices[e];
      j[t] = candidate(first + t, 0);
      row[t] = indices.data() + indptr[u[t]];
      length[t] = indptr[u[t] + 1] - indptr[u[t]];
    }
    for (bool more = true; more;) {
      more = false;
      for (int t = 0; t < n; ++t) {
        if (length[t] > 1) {
          const std::int64_t half = length[t] / 2;
          row[t] = row[t][half] <= j[t] ? row[t] + half : row[t];
          length[t] -= half;
          prefetch(row[t] + length[t] / 2);
          more = true;
        }
      }
    }
    for (int t = 0; t < n; ++t) {      // a seen first candidate: the others, in turn
      if (length[t] == 1 && *row[t] == j[t]) j[t] = negative(first + t, u[t]);
    }
  }

  // Prefetching, in the order bpr_epoch asks: sample s's entry; its user's row offsets
  // (reads the entry); the first probe of the search of the user's row for the first
  // candidate, and the user's, the positive's and that candidate's factor rows (reads the
  // offsets).
  FASTMF_ALWAYS_INLINE void prefetch_entry(std::int64_t s) const {
    const std::int64_t e = positive(s);
    prefetch(user_of.data() + e);
    prefetch(indices.data() + e);
  }
  FASTMF_ALWAYS_INLINE void prefetch_offsets(std::int64_t s) const {
    prefetch(indptr.data() + user_of[positive(s)]);
  }
  template <typename S>
  FASTMF_ALWAYS_INLINE void prefetch_rows(std::int64_t s, const RowRef<S>& X,
                                         const RowRef<S>& Y) const {
    const std::int64_t e = positive(s);
    const std::int32_t u = user_of[e], j = candidate(s, 0);
    prefetch(indices.data() + indptr[u] + (indptr[u + 1] - indptr[u]) / 2);
    prefetch_row(X, u);
    prefetch_row(Y, indices[e]);
    prefetch_row(Y, j);
  }

  // Whether the sorted run row[0..n) holds value: a binary search without branches on the
  // data (the comparison becomes a conditional move), so no mispredicted jumps.
  static bool in_sorted(const std::int32_t* row, std::int64_t n, std::int32_t value) {
    if (n == 0) return false;
    while (n > 1) {
      const std::int64_t half = n / 2;
      row = row[half] <= value ? row + half : row;
      n -= half;
    }
    return *row == value;
  }
};


// One pass over a step's three rows p, q_i, q_j (k entries each): x = p·(q_i − q_j) and the
// squared norms of the three rows. The vectors are NarrowSimd's (simd.hpp): a step is a
// little vector work between its draws and its exp and log1p.
template <typename S>
struct BprSums {
  S x, p2, qi2, qj2;
};

template <typename S>
inline BprSums<S> bpr_sums(const S* p, const S* qi, const S* qj, Index k) {
  using N = NarrowSimd<S>;
  using V = typename N::type;
  constexpr Index W = N::width;
  V x{}, p2{}, qi2{}, qj2{};
  auto add = [&](V vp, V vi, V vj) {
    x += vp * (vi - vj);
    p2 += vp * vp;
    qi2 += vi * vi;
    qj2 += vj * vj;
  };
  Index f = 0;
  for (; f + W <= k; f += W) add(N::load(p + f), N::load(qi + f), N::load(qj + f));
  if (f < k) {
    add(N::load_first(p + f, k - f), N::load_first(qi + f, k - f),
        N::load_first(qj + f, k - f));
  }
  return {N::sum(x), N::sum(p2), N::sum(qi2), N::sum(qj2)};
}

// p += lr (g (q_i − q_j) − reg p), q_i += lr (g p − reg q_i), q_j += lr (−g p − reg q_j),
// all from the values before the step (q_i and q_j distinct rows).
template <typename S>
inline void bpr_update(S* p, S* qi, S* qj, Index k, S lr, S g, S reg) {
  using N = NarrowSimd<S>;
  using V = typename N::type;
  constexpr Index W = N::width;
  Index f = 0;
  for (; f + W <= k; f += W) {
    const V vp = N::load(p + f), vi = N::load(qi + f), vj = N::load(qj + f);
    N::store(p + f, vp + lr * (g * (vi - vj) - reg * vp));
    N::store(qi + f, vi + lr * (g * vp - reg * vi));
    N::store(qj + f, vj + lr * (-g * vp - reg * vj));
  }
  if (f < k) {
    const Index n = k - f;
    const V vp = N::load_first(p + f, n), vi = N::load_first(qi + f, n),
            vj = N::load_first(qj + f, n);
    N::store_first(p + f, vp + lr * (g * (vi - vj) - reg * vp), n);
    N::store_first(qi + f, vi + lr * (g * vp - reg * vi), n);
    N::store_first(qj + f, vj + lr * (-g * vp - reg * vj), n);
  }
}

// One step up ln σ(x) − reg/2 (‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²), with
// x = p_u·(q_i − q_j) + b_i − b_j and g = σ(−x) = 1 − σ(x):
//   p_u += lr (g (q_i − q_j) − reg p_u),  q_i += lr (g p_u − reg q_i),
//   q_j += lr (−g p_u − reg q_j),  b_i += lr (g − reg b_i),  b_j += lr (−g − reg b_j),
// all from the values before the step; no biases when y_bias is empty. Adds the sample's
// objective −ln σ(x) + reg/2 (...) before the step to `totals`. Needs i != j.
template <typename S>
inline void bpr_step(RowRef<S>& X, RowRef<S>& Y, VecRef<S>& y_bias, Index u, Index i, Index j,
                     S lr, S reg, BprTotals& totals) {
  const bool biased = y_bias.size() > 0;
  const S bi = biased ? y_bias[i] : S(0), bj = biased ? y_bias[j] : S(0);
  S* p = X.row(u).data();
  S* qi = Y.row(i).data();
  S* qj = Y.row(j).data();
  const BprSums<S> sums = bpr_sums(p, qi, qj, X.cols());
  const S x = sums.x + bi - bj;
  const S ex = std::exp(x), g = S(1) / (S(1) + ex);
  // −ln σ(x) = ln(1 + e^{−x}), from e^x without overflow: e^x = inf gives ln(1 + 0).
  const S nll = x > 0 ? std::log1p(S(1) / ex) : std::log1p(ex) - x;
  const double norms = double(sums.p2) + double(sums.qi2) + double(sums.qj2) +
                       double(bi) * bi + double(bj) * bj;
  std::get<0>(totals) += double(nll) + 0.5 * double(reg) * norms;
  std::get<1>(totals) += x > 0;
  std::get<2>(totals) += 1;
  bpr_update(p, qi, qj, X.cols(), lr, g, reg);
  if (biased) {
    y_bias[i] = bi + lr * (g - reg * bi);
    y_bias[j] = bj + lr * (-g - reg * bj);
  }
}

// The threads of an epoch of `samples` samples: thread t of T runs work(begin, end, totals)
// on the samples [samples·t/T, samples·(t+1)/T), and the epoch's totals are their sum.
template <typename Work>
BprTotals bpr_threads(std::int64_t samples, int num_threads, Work&& work) {
  double objective = 0;
  std::int64_t ordered = 0, used = 0;
#pragma omp parallel num_threads(resolve_threads(num_threads)) \
    reduction(+ : objective, ordered, used)
  {
    const std::int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    BprTotals totals{0.0, 0, 0};
    work(samples * thread / threads, samples * (thread + 1) / threads, totals);
    objective += std::get<0>(totals);
    ordered += std::get<1>(totals);
    used += std::get<2>(totals);
  }
  return {objective, ordered, used};
}

// One Hogwild epoch of `samples` BPR steps on the draws of BprSampler(seed). Thread t of T
// takes the samples [samples·t/T, samples·(t+1)/T) and updates the shared factors without
// locks. The draws do not depend on the thread count; with one thread the epoch equals
// bpr_steps on the triples of bpr_draws. A sample whose `tries` candidates were all
// observed is skipped. A thread works in batches of kBprBatch samples: it draws a batch's
// triples (searching the users' rows side by side), then steps through them, having asked
// for their memory while it stepped through the three batches before.
// Caller guarantees: a CSR of positives with sorted rows, 1 <= nnz < 2^32, user_of[e] the
// row of entry e, indices < Y.rows() < 2^32, X.rows() == indptr.size() - 1, X.cols() ==
// Y.cols(), y_bias empty or of size Y.rows(), cdf empty or Y.rows() non-decreasing
// weights with cdf.back() > 0, 1 <= tries <= kNegativeTries, finite inputs. Returns the
// BprTotals of the epoch.
template <typename S>
BprTotals bpr_epoch(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                    ConstVecRef<std::int32_t> user_of, ConstVecRef<double> cdf, RowRef<S> X,
                    RowRef<S> Y, VecRef<S> y_bias, S lr, S reg, std::int64_t samples,
                    std::uint64_t seed, int tries, int num_threads) {
  const BprSampler draws{indptr, indices, user_of, cdf, seed, std::uint64_t(Y.rows()), tries};
  return bpr_threads(samples, num_threads, [&](std::int64_t begin, std::int64_t end,
                                               BprTotals& totals) {
    std::int32_t batch_u[kBprBatch], batch_i[kBprBatch], batch_j[kBprBatch];
    for (std::int64_t first = begin; first < end; first += kBprBatch) {
      const int n = int(std::min<std::int64_t>(kBprBatch, end - first));
      draws.draw_batch(first, n, batch_u, batch_i, batch_j);
      // Step through the batch; beside each step, ask for the memory of the sample at the
      // same place in the batches to come, one level per batch: its entry three batches
      // ahead, its user's row offsets two ahead, its first probe and factor rows one ahead
      // (each request reads only what an earlier one asked for; spread out, so that the
      // requests in flight stay few enough for the CPU to keep them all).
      for (int t = 0; t < n; ++t) {
        if (first + 3 * kBprBatch + t < end) draws.prefetch_entry(first + 3 * kBprBatch + t);
        if (first + 2 * kBprBatch + t < end) draws.prefetch_offsets(first + 2 * kBprBatch + t);
        if (first + kBprBatch + t < end) draws.prefetch_rows(first + kBprBatch + t, X, Y);
        if (batch_j[t] >= 0) {
          bpr_step(X, Y, y_bias, batch_u[t], batch_i[t], batch_j[t], lr, reg, totals);
        }
      }
    }
  });
}

// The BPR steps on given triples, in order, on one thread; j < 0 skips a sample.
// Caller guarantees: indices in range, i != j, the rest as for bpr_epoch.
template <typename S>
BprTotals bpr_steps(ConstVecRef<std::int32_t> u, ConstVecRef<std::int32_t> i,
                    ConstVecRef<std::int32_t> j, RowRef<S> X, RowRef<S> Y, VecRef<S> y_bias,
                    S lr, S reg) {
  BprTotals totals{0.0, 0, 0};
  for (Index s = 0; s < u.size(); ++s) {
    if (j[s] >= 0) bpr_step(X, Y, y_bias, u[s], i[s], j[s], lr, reg, totals);
  }
  return totals;
}

// The triples bpr_epoch draws for samples first, first + 1, ... (as many as out_u holds):
// the user, the positive and the negative (-1 for a skipped sample).
// Caller guarantees: as for bpr_epoch; out arrays of one length.
inline void bpr_draws(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                      ConstVecRef<std::int32_t> user_of, ConstVecRef<double> cdf,
                      std::int64_t n_items, std::uint64_t seed, int tries, std::int64_t first,
                      VecRef<std::int32_t> out_u, VecRef<std::int32_t> out_i,
                      VecRef<std::int32_t> out_j) {
  const BprSampler draws{indptr, indices, user_of, cdf, seed, std::uint64_t(n_items), tries};
  for (Index s = 0; s < out_u.size(); ++s) {
    const std::int64_t e = draws.positive(first + s);
    out_u[s] = user_of[e];
    out_i[s] = indices[e];
    out_j[s] = draws.negative(first + s, out_u[s]);
  }
}

}  // namespace fastmf
