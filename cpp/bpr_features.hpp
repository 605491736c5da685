// BPR with side features in LightFM's formulation (Kula 2015): a row is the weighted sum of
// the embeddings of its features, its own per-id embedding among them when the model keeps
// one (docs/user_guide/hybrid.md).
#pragma once

#include "bpr.hpp"
#include "common.hpp"
#include "simd.hpp"

#include <cmath>
#include <optional>
#include <vector>

namespace fastmf {

// The vector loops of a step, on NarrowSimd's vectors as bpr.hpp's (the same reasons):
// out += w·row, returning ‖row‖²; p·(a − b); row = decay·row + c·d.
template <typename S>
inline S add_scaled_row(S* out, S w, const S* row, Index k) {
  using N = NarrowSimd<S>;
  typename N::type norm{};
  Index f = 0;
  for (; f + N::width <= k; f += N::width) {
    const auto r = N::load(row + f);
    N::store(out + f, N::load(out + f) + w * r);
    norm += r * r;
  }
  if (f < k) {
    const auto r = N::load_first(row + f, k - f);
    N::store_first(out + f, N::load_first(out + f, k - f) + w * r, k - f);
    norm += r * r;
  }
  return N::sum(norm);
}

template <typename S>
inline S dot_difference(const S* p, const S* a, const S* b, Index k) {
  using N = NarrowSimd<S>;
  typename N::type x{};
  Index f = 0;
  for (; f + N::width <= k; f += N::width) {
    x += N::load(p + f) * (N::load(a + f) - N::load(b + f));
  }
  if (f < k) {
    x += N::load_first(p + f, k - f) * (N::load_first(a + f, k - f) -
                                       N::load_first(b + f, k - f));
  }
  return N::sum(x);
}

template <typename S>
inline void decay_and_add(S* row, S decay, S c, const S* d, Index k) {
  using N = NarrowSimd<S>;
  Index f = 0;
  for (; f + N::width <= k; f += N::width) {
    N::store(row + f, decay * N::load(row + f) + c * N::load(d + f));
  }
  if (f < k) {
    N::store_first(row + f, decay * N::load_first(row + f, k - f) +
                                c * N::load_first(d + f, k - f), k - f);
  }
}

// The steps of one side's feature embeddings that a thread holds back until the end of its
// batch (EmbeddingSide::flush): a feature such as a gender or a genre is in a large share
// of the samples, and threads that all wrote its row at every step would pass its cache
// line between them at every step (measured: two threads slower than one).
// The steps are kept for the features a batch touched only (a slot each, in the order
// touched), so a thread holds 4 bytes per feature and a row per feature the batch touched
// however large the vocabulary.
template <typename S>
struct HeldSteps {
  std::vector<std::int32_t> slot;      // per feature: its slot in rows, or -1
  std::vector<std::int32_t> touched;   // per slot: its feature
  std::vector<S> rows, biases;         // per slot: the held step of the row (and bias)
  explicit HeldSteps(Index features) : slot(features, -1) {}

  // The slot of feature h, added (its step 0) when the batch had not touched it yet.
  Index slot_of(std::int32_t h, Index k) {
    if (slot[h] < 0) {
      slot[h] = std::int32_t(touched.size());
      touched.push_back(h);
      rows.resize(touched.size() * k, S(0));
      biases.resize(touched.size(), S(0));
    }
    return slot[h];
  }
};

// One side of the model: row r's factors are Σ_e w_re E_e and its bias Σ_e w_re c_e over
// the entries (e, w_re) of its CSR row. Embeddings e < n_own are the rows' own (the
// regularization reg_own), the others features' (reg_feature).
template <typename S>
struct EmbeddingSide {
  ConstVecRef<std::int64_t> indptr;
  ConstVecRef<std::int32_t> indices;
  ConstVecRef<S> weights;
  S* E;                                // embeddings × k, rows contiguous
  S* bias;                             // an embedding's bias, or null: no biases
  Index embeddings, k;
  std::int32_t n_own;
  S reg_own, reg_feature;

  S reg(std::int32_t e) const { return e < n_own ? reg_own : reg_feature; }
  Index rows() const { return indptr.size() - 1; }
  Index features() const { return embeddings - n_own; }

  // out = row r's factors; returns its bias. Adds Σ_e reg_e (‖E_e‖² + c_e²) to penalty.
  S gather(Index r, S* out, double& penalty) const {
    for (Index f = 0; f < k; ++f) out[f] = S(0);
    S b = 0;
    for (std::int64_t a = indptr[r]; a < indptr[r + 1]; ++a) {
      const std::int32_t e = indices[a];
      const S w = weights[a];
      const S norm = add_scaled_row(out, w, E + Index(e) * k, k);
      const S c = bias ? bias[e] : S(0);
      b += w * c;
      penalty += double(reg(e)) * (double(norm) + double(c) * c);
    }
    return b;
  }

  // A step along the gradient d of the factors and gb of the bias of row r, every
  // embedding of the row regularized: E_e += lr (w_re d − reg_e E_e), c_e likewise; the
  // own embedding's at once, the features' into `held` (from the values of E now).
  void scatter(Index r, const S* d, S gb, S lr, HeldSteps<S>& held) const {
    for (std::int64_t a = indptr[r]; a < indptr[r + 1]; ++a) {
      const std::int32_t e = indices[a];
      const S w = weights[a], decay = S(1) - lr * reg(e);
      if (e < n_own) {
        decay_and_add(E + Index(e) * k, decay, lr * w, d, k);
        if (bias) bias[e] = decay * bias[e] + lr * w * gb;
        continue;
      }
      const Index h = held.slot_of(e - n_own, k);
      S* step = held.rows.data() + h * k;
      const S* row = E + Index(e) * k;
      for (Index f = 0; f < k; ++f) step[f] += lr * (w * d[f] - reg(e) * row[f]);
      if (bias) held.biases[h] += lr * (w * gb - reg(e) * bias[e]);
    }
  }

  // Add the held steps to the feature embeddings and clear them (keeping the memory).
  void flush(HeldSteps<S>& held) const {
    for (std::size_t h = 0; h < held.touched.size(); ++h) {
      const std::int32_t feature = held.touched[h];
      const S* step = held.rows.data() + Index(h) * k;
      S* row = E + (Index(n_own) + feature) * k;
      for (Index f = 0; f < k; ++f) row[f] += step[f];
      if (bias) bias[n_own + feature] += held.biases[h];
      held.slot[feature] = -1;
    }
    held.touched.clear();
    held.rows.clear();
    held.biases.clear();
  }
};

// Scratch of one thread: the three rows of a step, the user's gradient, and each side's
// held steps.
template <typename S>
struct FeatureStepRows {
  std::vector<S> p, qi, qj, d;
  HeldSteps<S> user_held, item_held;
  FeatureStepRows(const EmbeddingSide<S>& users, const EmbeddingSide<S>& items)
      : p(users.k), qi(users.k), qj(users.k), d(users.k), user_held(users.features()),
        item_held(items.features()) {}
  void flush(const EmbeddingSide<S>& users, const EmbeddingSide<S>& items) {
    users.flush(user_held);
    items.flush(item_held);
  }
};

// The moves of a step with gradient g (rows.p, qi, qj gathered before it): the user's
// embeddings along g (q_i − q_j), the positive's along g p_u and g, the negative's along
// −g p_u and −g.
template <typename S>
inline void feature_update(const EmbeddingSide<S>& users, const EmbeddingSide<S>& items,
                           FeatureStepRows<S>& rows, Index u, Index i, Index j, S g, S lr) {
  const Index k = users.k;
  for (Index f = 0; f < k; ++f) rows.d[f] = g * (rows.qi[f] - rows.qj[f]);
  users.scatter(u, rows.d.data(), S(0), lr, rows.user_held);
  for (Index f = 0; f < k; ++f) rows.d[f] = g * rows.p[f];
  items.scatter(i, rows.d.data(), g, lr, rows.item_held);
  for (Index f = 0; f < k; ++f) rows.d[f] = -rows.d[f];
  items.scatter(j, rows.d.data(), -g, lr, rows.item_held);
}

// One step up ln σ(x) − ½ Σ reg_e (‖E_e‖² + c_e²) over the embeddings the three rows sum
// (an embedding counted once per row it appears in), x = p_u·(q_i − q_j) + b_i − b_j with
// the rows and biases gathered before the step and g = σ(−x): the user's embeddings move
// along g (q_i − q_j), the positive's along g p_u and g, the negative's along −g p_u and
// −g, each weighted by its entry and decayed by its regularization (EmbeddingSide::scatter;
// the features' steps held in rows until its flush). With every row its own embedding
// alone (weight 1) this is bpr_step. Adds the sample's objective before the step to
// totals. Needs i != j.
template <typename S>
inline void bpr_feature_step(const EmbeddingSide<S>& users, const EmbeddingSide<S>& items,
                             FeatureStepRows<S>& rows, Index u, Index i, Index j, S lr,
                             BprTotals& totals) {
  const Index k = users.k;
  double penalty = 0;
  users.gather(u, rows.p.data(), penalty);
  const S bi = items.gather(i, rows.qi.data(), penalty);
  const S bj = items.gather(j, rows.qj.data(), penalty);
  const S x = bi - bj + dot_difference(rows.p.data(), rows.qi.data(), rows.qj.data(), k);
  const S ex = std::exp(x), g = S(1) / (S(1) + ex);
  const S nll = x > 0 ? std::log1p(S(1) / ex) : std::log1p(ex) - x;
  std::get<0>(totals) += double(nll) + 0.5 * penalty;
  std::get<1>(totals) += x > 0;
  std::get<2>(totals) += 1;
  feature_update(users, items, rows, u, i, j, g, lr);
}

// One Hogwild epoch of bpr_feature_step on the draws of BprSampler(seed), split over the
// threads as bpr_epoch splits its samples (the same draws, skipped samples alike). A
// thread's steps of the feature embeddings are held back over each of its batches of
// kBprBatch samples, then added (the own embeddings step at once).
// Caller guarantees: the positives as for bpr_epoch over items.rows() items and
// users.rows() users; each side a CSR of weights >= 0 over the rows of its E (< 2^31 rows
// of k entries, the same k on both sides), users.bias null; finite inputs.
template <typename S>
BprTotals bpr_feature_epoch(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                            ConstVecRef<std::int32_t> user_of, ConstVecRef<double> cdf,
                            const EmbeddingSide<S>& users, const EmbeddingSide<S>& items,
                            S lr, std::int64_t samples, std::uint64_t seed, int tries,
                            int num_threads) {
  const BprSampler draws{indptr, indices, user_of, cdf, seed, std::uint64_t(items.rows()),
                         tries};
  ParallelGuard guard;     // the scratch's allocations: an exception, not a terminate
  const BprTotals totals = bpr_threads(samples, num_threads, [&](std::int64_t begin,
                                                                 std::int64_t end,
                                                                 BprTotals& mine) {
    std::optional<FeatureStepRows<S>> rows;
    guard.run([&] { rows.emplace(users, items); });
    std::int32_t batch_u[kBprBatch], batch_i[kBprBatch], batch_j[kBprBatch];
    for (std::int64_t first = begin; rows && first < end; first += kBprBatch) {
      const int n = int(std::min<std::int64_t>(kBprBatch, end - first));
      draws.draw_batch(first, n, batch_u, batch_i, batch_j);
      guard.run([&] {
        for (int t = 0; t < n; ++t) {
          if (batch_j[t] >= 0) {
            bpr_feature_step(users, items, *rows, batch_u[t], batch_i[t], batch_j[t], lr,
                             mine);
          }
        }
        rows->flush(users, items);
      });
    }
  });
  guard.rethrow();
  return totals;
}

// The steps of bpr_feature_step on given triples, in order, on one thread; j < 0 skips. The
// feature embeddings' steps are held back over each kBprBatch triples, as an epoch's are
// over each batch of its samples.
template <typename S>
BprTotals bpr_feature_steps(ConstVecRef<std::int32_t> u, ConstVecRef<std::int32_t> i,
                            ConstVecRef<std::int32_t> j, const EmbeddingSide<S>& users,
                            const EmbeddingSide<S>& items, S lr) {
  BprTotals totals{0.0, 0, 0};
  FeatureStepRows<S> rows(users, items);
  for (Index s = 0; s < u.size(); ++s) {
    if (j[s] >= 0) bpr_feature_step(users, items, rows, u[s], i[s], j[s], lr, totals);
    if ((s + 1) % kBprBatch == 0 || s + 1 == u.size()) rows.flush(users, items);
  }
  return totals;
}

}  // namespace fastmf
