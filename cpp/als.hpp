// Explicit, biased ALS (DESIGN.md): r̂_ui = mu + b_u + b_i + p_u·q_i.
#pragma once

#include "common.hpp"
#include "linalg.hpp"

namespace fastmf {

// One ALS half-step: with the "other side" (Y, y_bias) fixed, solve every row u of R for
// its bias and factors jointly by augmentation. With z_i = [1, y_i] and targets
// t_ui = r_ui - mu - y_bias_i, row u solves
//   (Σ_i z_i z_iᵀ + diag(bias_reg, lam_u, ..., lam_u)) [b_u, x_u] = Σ_i t_ui z_i,
// lam_u = row_reg[u] (the caller scales it: plain, weighted-λ, ...). The Gram matrix is built as one dense
// product of the gathered rows Z (a rank-n_u update), not n_u rank-one updates.
// With a prior (prior.rows() == X.rows(); an empty prior means 0), x_u is shrunk toward
// prior_u instead of 0: lam_u prior_u joins the right-hand side of the factor entries.
// Rows with no ratings get zero bias and factors equal to their prior.
// Caller guarantees: valid CSR with R.rows() == X.rows() == x_bias.size(), indices <
// Y.rows() == y_bias.size(), X.cols() == Y.cols(), row_reg.size() == X.rows(), finite
// values, row_reg, bias_reg >= 0.
// Returns -1, or the first row whose Cholesky factorization failed (row left unchanged).
template <typename S>
std::int64_t als_half_step(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                           ConstVecRef<S> ratings, ConstRowRef<S> Y, ConstVecRef<S> y_bias, S mu,
                           ConstVecRef<S> row_reg, S bias_reg, ConstRowRef<S> prior,
                           RowRef<S> X, VecRef<S> x_bias, int num_threads) {
  const CsrView<S> R{indptr, indices, ratings};
  const Index k = Y.cols();
  const Index d = k + 1;
  FirstFailure failed;
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    Matrix<S> A(d, d), Z(d, 64);  // per-thread scratch; Z grows to the longest row seen
    Vector<S> b(d), t(64);
#pragma omp for schedule(dynamic, 16)
    for (Index u = 0; u < R.rows(); ++u) {
      const Index n = R.count(u);
      const bool has_prior = prior.rows() > 0;
      if (n == 0) {
        if (has_prior) {
          X.row(u) = prior.row(u);
        } else {
          X.row(u).setZero();
        }
        x_bias[u] = S(0);
        continue;
      }
      if (Z.cols() < n) {
        Z.resize(d, n);
        t.resize(n);
      }
      for (Index j = 0; j < n; ++j) {
        const std::int64_t e = R.begin(u) + j;
        const std::int32_t i = R.indices[e];
        if (j + kPrefetchAhead < n) prefetch_row(Y, R.indices[e + kPrefetchAhead]);
        Z(0, j) = S(1);
        Z.col(j).tail(k) = Y.row(i).transpose();
        t[j] = R.data[e] - mu - y_bias[i];
      }
      auto Zu = Z.leftCols(n);
      A.template triangularView<Eigen::Lower>().setZero();
      A.template selfadjointView<Eigen::Lower>().rankUpdate(Zu);
      b.noalias() = Zu * t.head(n);
      A(0, 0) += bias_reg;
      A.diagonal().tail(k).array() += row_reg[u];
      if (has_prior) b.tail(k).noalias() += row_reg[u] * prior.row(u).transpose();
      if (!cholesky_solve_in_place(A, b)) {  // reads the lower triangle only
        failed.record(u);
        continue;
      }
      x_bias[u] = b[0];
      X.row(u) = b.tail(k).transpose();
    }
  }
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
