// Explicit, biased ALS (docs/user_guide/explicit.md): r̂_ui = mu + b_u + b_i + p_u·q_i.
#pragma once

#include "cholesky.hpp"
#include "common.hpp"
#include "gram.hpp"
#include "simd.hpp"

#include <numeric>
#include <optional>
#include <vector>

namespace fastmf {

// A = factor * s sᵀ, every entry of the padded kp x kp matrix.
template <typename S>
inline void set_outer(const Vector<S>& s, S factor, Matrix<S>& A) {
  constexpr Index W = Simd<S>::width;
  const Index kp = A.rows();
  for (Index c = 0; c < kp; ++c) {
    const S f = factor * s[c];
    S* col = A.col(c).data();
    for (Index r = 0; r < kp; r += W) Simd<S>::store(col + r, f * Simd<S>::load(s.data() + r));
  }
}

// Per-thread scratch of als_half_step for rows shorter than `limit`, solved in the
// n-space: systems of padded order W, 2W, ... (index order / W - 1), and Zt, whose column l
// holds the row's w_j[l] / sqrt(lam_u) (w_j below).
template <typename S>
class ShortRows {
  Index k_, kp_, limit_;
  std::vector<SpdSystem<S>> systems_;
  std::vector<S> zt_;
  Vector<S> s_, sum_, unused_;

 public:
  ShortRows(Index k, Index limit)
      : k_(k), kp_(padded_order<S>(k)), limit_(limit), zt_(padded_order<S>(limit) * k),
        s_(kp_), sum_(kp_), unused_(kp_) {
    for (Index order = Simd<S>::width; order <= padded_order<S>(limit); order += Simd<S>::width) {
      systems_.emplace_back(order);
    }
  }

  Index limit() const { return limit_; }

  // The row of n < limit() ratings whose items' rows y_j are Z (kp entries each, zero
  // padding), with targets t summing to beta. With s = Σ_j y_j, a = n + bias_reg,
  // c = (1 - sqrt(bias_reg / a)) / n, Q = I - c 11ᵀ (so Q² = I - 11ᵀ/a) and W = Q Y_u
  // (rows w_j = y_j - c s), the bias-eliminated system (WᵀW + lam I) x = Wᵀ Q t + lam prior
  // becomes, by the push-through identity,
  //   (I + W Wᵀ/lam) v = Q t - W prior,   x = prior + Wᵀ v / lam,   bias = (beta - s·x)/a;
  // no 1/bias_reg appears, so a small bias_reg costs no accuracy. prior may be null
  // (meaning 0). Returns false, writing nothing, if the n x n system is not numerically
  // positive definite (lam far too small for S).
  bool solve(Listed<S> Z, const S* t, S beta, Index n, S lam, S bias_reg, const S* prior,
             S* x, S& bias) {
    const Index np = padded_order<S>(n);
    SpdSystem<S>& G = systems_[np / Simd<S>::width - 1];
    s_.setZero();
    unused_.setZero();
    row_sums<S>(Z, t, n, kp_, unused_.data(), s_.data());
    const S a = S(n) + bias_reg, c = (S(1) - std::sqrt(bias_reg / a)) / S(n);
    const S scale = S(1) / std::sqrt(lam);
    S* zt = zt_.data();
    for (Index j = 0; j < n; ++j) {
      for (Index l = 0; l < k_; ++l) zt[l * np + j] = scale * (Z[j][l] - c * s_[l]);
    }
    for (Index l = 0; l < k_; ++l) std::fill(zt + l * np + n, zt + (l + 1) * np, S(0));
    G.A.setIdentity();
    G.add_gram(Strided<S>{zt, np}, k_);  // I + W Wᵀ/lam
    G.b.setZero();
    const S ct = c * beta;  // Q t = t - c beta 1
    const S cs_prior = prior ? c * std::inner_product(s_.data(), s_.data() + k_, prior, S(0)) : 0;
    for (Index j = 0; j < n; ++j) {
      G.b[j] = t[j] - ct;
      if (prior) {  // w_j·prior = y_j·prior - c s·prior
        G.b[j] -= std::inner_product(Z[j], Z[j] + k_, prior, S(0)) - cs_prior;
      }
    }
    if (!G.solve()) return false;
    sum_.setZero();
    row_sums<S>(Z, G.b.data(), n, kp_, sum_.data(), unused_.data());  // Σ v_j y_j
    const S v_sum = G.b.head(n).sum();
    for (Index l = 0; l < k_; ++l) {
      x[l] = (prior ? prior[l] : S(0)) + (sum_[l] - c * v_sum * s_[l]) / lam;
    }
    bias = (beta - std::inner_product(s_.data(), s_.data() + k_, x, S(0))) / a;
    return true;
  }
};

// One ALS half-step: with the "other side" (Y, y_bias) fixed, solve every row u of R for
// its bias and factors jointly. With z_i = [1, y_i] and targets t_ui = r_ui - mu - y_bias_i,
// row u solves
//   (Σ_i z_i z_iᵀ + diag(bias_reg, lam_u, ..., lam_u)) [b_u, x_u] = Σ_i t_ui z_i,
// lam_u = row_reg[u] (the caller scales it: plain, weighted-λ, ...). The bias is eliminated
// first: with a = n_u + bias_reg, s = Σ_i y_i, beta = Σ_i t_ui,
//   (Σ_i y_i y_iᵀ + lam_u I - s sᵀ/a) x_u = Σ_i t_ui y_i - (beta/a) s,   b_u = (beta - s·x_u)/a,
// a k x k system whose Gram matrix is built by register tiles straight from the rows of Y
// (from a padded copy of them when k is not a whole number of SIMD vectors).
// A row with fewer than min(3k/4, 256) ratings (and lam_u > 0) is solved in the n_u-space
// instead, at O(n_u² k + n_u³) rather than O(n_u k² + k³), by the push-through identity
// (WᵀW + lam I)⁻¹ Wᵀ = Wᵀ (W Wᵀ + lam I)⁻¹ on the bias-eliminated system (ShortRows; the
// k x k system remains the fallback should that one fail).
// With a prior (prior.rows() == X.rows(); an empty prior means 0), x_u is shrunk toward
// prior_u instead of 0: lam_u prior_u joins the right-hand side.
// Rows with no ratings get zero bias and factors equal to their prior.
// Caller guarantees: valid CSR with R.rows() == X.rows() == x_bias.size(), indices <
// Y.rows() == y_bias.size(), X.cols() == Y.cols(), row_reg.size() == X.rows(), finite
// values, row_reg, bias_reg >= 0.
// With row_sse of X.rows() entries (empty: none), row_sse[u] gets the squared residuals of
// row u's ratings under the factors it leaves, Σ_i (t_ui - b_u - x_u·y_i)² in double, from
// the rows still in the caches: after the second half-step of an iteration these add up
// to the training loss's squared errors, with no pass over the ratings of its own.
// Returns -1, or the first row whose Cholesky factorization failed (row left unchanged).
// Per-thread scratch of als_half_step; rows, t and Z grow to the longest row.
template <typename S>
struct AlsScratch {
  explicit AlsScratch(Index k)
      : system(k),
        copy_rows(system.padded() != k),
        Z(Matrix<S>::Zero(system.padded(), copy_rows ? 64 : 0)),
        rows(64),
        s(system.padded()),
        t(64),
        // (capped: the scratch holds a system of every padded order up to the limit)
        short_rows(k, std::min<Index>(k * 3 / 4, 256)) {}
  SpdSystem<S> system;
  bool copy_rows;  // rows of Y lack the zero padding the tiles read
  Matrix<S> Z;
  std::vector<const S*> rows;
  Vector<S> s, t;
  ShortRows<S> short_rows;
};

template <typename S>
std::int64_t als_half_step(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                           ConstVecRef<S> ratings, ConstRowRef<S> Y, ConstVecRef<S> y_bias, S mu,
                           ConstVecRef<S> row_reg, S bias_reg, ConstRowRef<S> prior,
                           RowRef<S> X, VecRef<S> x_bias, int num_threads,
                           VecRef<double> row_sse) {
  const CsrView<S> R{indptr, indices, ratings};
  const Index k = Y.cols();
  const bool has_prior = prior.rows() > 0;
  FirstFailure failed;
  ParallelGuard guard;
  auto solve = [&](Index u, AlsScratch<S>& w) {
    const Index n = R.count(u), kp = w.system.padded();
    if (n == 0) {
      if (has_prior) {
        X.row(u) = prior.row(u);
      } else {
        X.row(u).setZero();
      }
      x_bias[u] = S(0);
      return;
    }
    if (Index(w.rows.size()) < n) {
      w.rows.resize(n);
      w.t.resize(n);
      if (w.copy_rows) w.Z = Matrix<S>::Zero(kp, n);
    }
    S beta = 0;
    for (Index j = 0; j < n; ++j) {
      const std::int64_t e = R.begin(u) + j;
      const std::int32_t i = R.indices[e];
      w.t[j] = R.data[e] - mu - y_bias[i];
      beta += w.t[j];
      w.rows[j] = Y.row(i).data();
      if (w.copy_rows) {
        std::copy_n(w.rows[j], k, w.Z.col(j).data());
        w.rows[j] = w.Z.col(j).data();
      }
    }
    const Listed<S> Zu{w.rows.data()};
    if (n < w.short_rows.limit() && row_reg[u] > S(0) &&
        w.short_rows.solve(Zu, w.t.data(), beta, n, row_reg[u], bias_reg,
                           has_prior ? prior.row(u).data() : nullptr, X.row(u).data(),
                           x_bias[u])) {
      return;
    }
    SpdSystem<S>& system = w.system;
    w.s.setZero();
    system.b.setZero();
    row_sums<S>(Zu, w.t.data(), n, kp, system.b.data(), w.s.data());
    const S a = S(n) + bias_reg;
    set_outer(w.s, -S(1) / a, system.A);
    system.A.diagonal().head(k).array() += row_reg[u];
    system.add_gram(Zu, n);
    system.b.head(k) -= (beta / a) * w.s.head(k);
    if (has_prior) system.b.head(k) += row_reg[u] * prior.row(u).transpose();
    if (!system.solve()) {
      failed.record(u);
      return;
    }
    X.row(u) = system.b.head(k).transpose();
    x_bias[u] = (beta - w.s.head(k).dot(system.b.head(k))) / a;
  };
  // The squared residuals of row u after its solve (its gathered rows and targets still in
  // the scratch).
  auto squared_residuals = [&](Index u, const AlsScratch<S>& w) {
    LaneSums<Simd<S>::width> sums;
    dots_with<S>([&](Index j) { return w.rows[j]; }, R.count(u), k, X.row(u).data(),
                 [&](Index j, const S* dots, Index m) {
                   for (Index c = 0; c < m; ++c) {
                     const double residual = w.t[j + c] - (x_bias[u] + dots[c]);
                     sums.lane[c] += residual * residual;
                   }
                 });
    return sums.total();
  };
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<AlsScratch<S>> scratch;
    guard.run([&] { scratch.emplace(k); });
#pragma omp for schedule(dynamic, 16)
    for (Index u = 0; u < R.rows(); ++u) {
      guard.run([&] {
        solve(u, *scratch);
        if (row_sse.size() > 0) row_sse[u] = squared_residuals(u, *scratch);
      });
    }
  }
  guard.rethrow();
  return failed.row();
}

// Predicted ratings for index pairs: out_j = mu + b_u + b_i + x_u·y_i. An index of -1
// stands for an id the model has not seen and contributes nothing (so an unknown user
// gets mu + b_i, an unknown item mu + b_u, both unknown mu).
// Caller guarantees: uidx, iidx, out of equal length; -1 <= uidx < X.rows(),
// -1 <= iidx < Y.rows(); X.cols() == Y.cols().
template <typename S>
void predict_pairs(ConstRowRef<S> X, ConstVecRef<S> x_bias, ConstRowRef<S> Y,
                   ConstVecRef<S> y_bias, S mu, ConstVecRef<std::int64_t> uidx,
                   ConstVecRef<std::int64_t> iidx, VecRef<S> out, int num_threads) {
  const Index n = uidx.size();
#pragma omp parallel for schedule(static) num_threads(resolve_threads(num_threads))
  for (Index j = 0; j < n; ++j) {
    const std::int64_t u = uidx[j], i = iidx[j];
    S value = mu;
    if (u >= 0) value += x_bias[u];
    if (i >= 0) value += y_bias[i];
    if (u >= 0 && i >= 0) value += X.row(u).dot(Y.row(i));
    out[j] = value;
  }
}

// Squared residuals of the biased model summed per row of R, in double:
//   out[u] = Σ_{i∈u} (r_ui - mu - x_bias_u - y_bias_i - x_u·y_i)².
// The training loss reads the ratings where they already are (CSR) instead of building
// a prediction per rating; summing `out` in a fixed order keeps it thread-independent.
// Caller guarantees: valid CSR with R.rows() == X.rows() == x_bias.size() == out.size(),
// indices < Y.rows() == y_bias.size(), X.cols() == Y.cols().
template <typename S>
void row_squared_errors(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                        ConstVecRef<S> ratings, ConstRowRef<S> X, ConstVecRef<S> x_bias,
                        ConstRowRef<S> Y, ConstVecRef<S> y_bias, S mu, VecRef<double> out,
                        int num_threads) {
  const CsrView<S> R{indptr, indices, ratings};
#pragma omp parallel for schedule(dynamic, 64) num_threads(resolve_threads(num_threads))
  for (Index u = 0; u < R.rows(); ++u) {
    double total = 0;
    const S base = mu + x_bias[u];
    for (std::int64_t e = R.begin(u); e < R.end(u); ++e) {
      const std::int32_t i = R.indices[e];
      if (e + kPrefetchAhead < R.end(u)) prefetch_row(Y, R.indices[e + kPrefetchAhead]);
      const double residual = R.data[e] - (base + y_bias[i] + X.row(u).dot(Y.row(i)));
      total += residual * residual;
    }
    out[u] = total;
  }
}

}  // namespace fastmf
