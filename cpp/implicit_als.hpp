// Implicit-feedback ALS (Hu, Koren, Volinsky 2008; DESIGN.md). Preference 1 for observed
// pairs, 0 otherwise; confidence c_ui = 1 + conf_ui with conf_ui >= 0 on observed pairs
// (and c = 1 elsewhere). Row u of X solves
//   (YᵀY + λI + Σ_{i∈u} conf_ui y_i y_iᵀ) x_u = Σ_{i∈u} (1 + conf_ui) y_i,
// i.e. (YᵀC_uY + λI) x_u = YᵀC_u p(u) with YᵀY passed in: O(n_u k² + k³) per row.
#pragma once

#include "common.hpp"
#include "linalg.hpp"

#include <cmath>

namespace fastmf {

// Exact half-step by Cholesky. The n_u weighted outer products are one dense rank-n_u
// update of the gathered rows sqrt(conf_ui) y_i. Rows without interactions get 0.
// Caller guarantees: valid CSR with C.rows() == X.rows(), indices < Y.rows(),
// conf >= 0 and finite, reg > 0, YtY == YᵀY (k x k), X.cols() == Y.cols().
// Returns -1 or the first row whose factorization failed (that row left unchanged).
template <typename S>
std::int64_t implicit_als_half_step(ConstVecRef<std::int64_t> indptr,
                                    ConstVecRef<std::int32_t> indices, ConstVecRef<S> conf,
                                    ConstRowRef<S> Y, ConstRowRef<S> YtY, S reg, RowRef<S> X,
                                    int num_threads) {
  const CsrView<S> C{indptr, indices, conf};
  const Index k = Y.cols();
  FirstFailure failed;
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    Matrix<S> A(k, k), Z(k, 64);  // per-thread scratch; Z grows to the longest row seen
    Vector<S> b(k);
#pragma omp for schedule(dynamic, 16)
    for (Index u = 0; u < C.rows(); ++u) {
      const Index n = C.count(u);
      if (n == 0) {
        X.row(u).setZero();
        continue;
      }
      if (Z.cols() < n) Z.resize(k, n);
      b.setZero();
      for (Index j = 0; j < n; ++j) {
        const std::int64_t e = C.begin(u) + j;
        const std::int32_t i = C.indices[e];
        if (j + kPrefetchAhead < n) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
        Z.col(j) = std::sqrt(C.data[e]) * Y.row(i).transpose();
        b.noalias() += (S(1) + C.data[e]) * Y.row(i).transpose();
      }
      A.template triangularView<Eigen::Lower>() = YtY.template triangularView<Eigen::Lower>();
      A.diagonal().array() += reg;
      A.template selfadjointView<Eigen::Lower>().rankUpdate(Z.leftCols(n));
      if (!cholesky_solve_in_place(A, b)) {
        failed.record(u);
        continue;
      }
      X.row(u) = b.transpose();
    }
  }
  return failed.row();
}

// Approximate half-step: `steps` conjugate-gradient iterations on the same system, warm
// started from the current X (Takács et al. 2011). The row's item vectors are gathered
// once into Z (k x n_u), so each product with the system matrix,
//   A p = (YᵀY + λI) p + Z (conf ∘ Zᵀ p),
// is two contiguous matrix-vector products; nothing of size k x k is formed per row.
// Rows without interactions get 0. Same contract as implicit_als_half_step, plus
// steps >= 1.
template <typename S>
void implicit_als_cg_step(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                          ConstVecRef<S> conf, ConstRowRef<S> Y, ConstRowRef<S> YtY, S reg,
                          RowRef<S> X, int steps, int num_threads) {
  const CsrView<S> C{indptr, indices, conf};
  const Index k = Y.cols();
  // YtY is symmetric: its row-major storage read as column-major is the same matrix.
  const Eigen::Map<const Matrix<S>> G(YtY.data(), k, k);
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    Matrix<S> Z(k, 64);
    Vector<S> c(64), q(64), x(k), r(k), p(k), Ap(k);
#pragma omp for schedule(dynamic, 32)
    for (Index u = 0; u < C.rows(); ++u) {
      const Index n = C.count(u);
      if (n == 0) {
        X.row(u).setZero();
        continue;
      }
      if (Z.cols() < n) {
        Z.resize(k, n);
        c.resize(n);
        q.resize(n);
      }
      for (Index j = 0; j < n; ++j) {
        const std::int64_t e = C.begin(u) + j;
        if (j + kPrefetchAhead < n) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
        Z.col(j) = Y.row(C.indices[e]).transpose();
        c[j] = C.data[e];
      }
      const auto Zu = Z.leftCols(n);
      const auto cu = c.head(n);
      auto qu = q.head(n);
      x = X.row(u).transpose();
      // r = b - A x with b = Z (1 + conf).
      qu.noalias() = Zu.transpose() * x;
      qu = (S(1) + cu.array() - cu.array() * qu.array()).matrix();
      r.noalias() = Zu * qu;
      r.noalias() -= G * x;
      r -= reg * x;
      p = r;
      S rs_old = r.squaredNorm();
      for (int step = 0; step < steps && rs_old > S(0); ++step) {
        qu.noalias() = Zu.transpose() * p;
        qu = (cu.array() * qu.array()).matrix();
        Ap.noalias() = Zu * qu;
        Ap.noalias() += G * p;
        Ap += reg * p;
        const S alpha = rs_old / p.dot(Ap);
        x += alpha * p;
        r -= alpha * Ap;
        const S rs_new = r.squaredNorm();
        p = r + (rs_new / rs_old) * p;
        rs_old = rs_new;
      }
      X.row(u) = x.transpose();
    }
  }
}

// The observed part of the implicit loss, per row, in double: for each observed (u, i)
// with s = x_u·y_i, c_ui (1 - s)² replaces the 1·s² that Σ_u x_uᵀ(YᵀY)x_u counts for it:
//   out[u] = Σ_{i∈u} [(1 + conf_ui)(1 - s)² - s²].
// Caller guarantees as for implicit_als_half_step; out.size() == X.rows().
template <typename S>
void implicit_observed_loss(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                            ConstVecRef<S> conf, ConstRowRef<S> X, ConstRowRef<S> Y,
                            VecRef<double> out, int num_threads) {
  const CsrView<S> C{indptr, indices, conf};
#pragma omp parallel for schedule(dynamic, 64) num_threads(resolve_threads(num_threads))
  for (Index u = 0; u < C.rows(); ++u) {
    double total = 0;
    for (std::int64_t e = C.begin(u); e < C.end(u); ++e) {
      const double s = X.row(u).dot(Y.row(C.indices[e]));
      total += (1.0 + C.data[e]) * (1.0 - s) * (1.0 - s) - s * s;
    }
    out[u] = total;
  }
}

}  // namespace fastmf
