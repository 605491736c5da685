// Implicit-feedback ALS (Hu, Koren, Volinsky 2008), in the form of Rendle, Krichene, Zhang
// and Koren (RecSys 2022): preference 1 for observed pairs, 0 otherwise; confidence
// c_ui = 1 + alpha values_ui on observed pairs (values: the counts, or log(1 + r/ε) for the
// log confidence), weight α0 on the unobserved ones, and a regularization λ_u per row.
// With G = α0 YᵀY, row u of X solves
//   (G + λ_u I + Σ_{i∈u} w_ui y_i y_iᵀ) x_u = Σ_{i∈u} c_ui y_i,   w_ui = c_ui − α0,
// O(n_u k² + k³) per row. The kernels take base = 1 − α0, so w_ui = base + alpha values_ui;
// w may be negative (α0 > c_ui), the system stays positive definite (it is
// α0 Σ_{unobserved} y yᵀ + Σ_{observed} c y yᵀ + λ_u I).
#pragma once

#include "cholesky.hpp"
#include "common.hpp"
#include "gram.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

namespace fastmf {

// A row's item vectors are gathered into a per-thread k x width buffer, in chunks of at
// most `width` columns (about 2 MB), so scratch memory stays small for any row length.
template <typename S>
Index gather_width(Index k) {
  return std::max<Index>(256, (Index(1) << 21) / (k * Index(sizeof(S))));
}

// Exact half-step by Cholesky. The n_u weighted outer products are Gram updates by the
// gathered rows sqrt(|w_ui|) y_i, a chunk at a time: rows with w >= 0 into Z, added; rows
// with w < 0 into Zn, subtracted (Zn is allocated only when base < 0, the only case where
// a weight can be negative).
// With a prior (prior.rows() == X.rows(); an empty prior means 0), x_u is shrunk toward
// prior_u instead of 0: λ_u prior_u joins the right-hand side, and a row without
// interactions gets (G + λ_u I)⁻¹ λ_u prior_u. Without a prior such a row gets 0.
// Caller guarantees: valid CSR with C.rows() == X.rows(), indices < Y.rows(),
// alpha > 0, values >= 0 and finite, base + alpha values finite, G == α0 YᵀY (k x k) with
// α0 = 1 - base > 0, reg.size() == X.rows() with every reg > 0, X.cols() == Y.cols(),
// prior empty or of X's shape, finite.
// Returns -1 or the first row whose factorization failed (that row left unchanged).
template <typename S>
std::int64_t implicit_als_half_step(ConstVecRef<std::int64_t> indptr,
                                    ConstVecRef<std::int32_t> indices, ConstVecRef<S> values,
                                    S alpha, S base, ConstRowRef<S> Y, ConstRowRef<S> G,
                                    ConstVecRef<S> reg, ConstRowRef<S> prior, RowRef<S> X,
                                    int num_threads) {
  const CsrView<S> C{indptr, indices, values};
  const Index k = Y.cols(), width = gather_width<S>(k);
  const bool has_prior = prior.rows() > 0;
  FirstFailure failed;
  ParallelGuard guard;
  struct Scratch {  // per thread
    Scratch(Index k, Index width, ConstRowRef<S> G, bool negatives)
        : system(k),
          start(Matrix<S>::Zero(system.padded(), system.padded())),
          Z(Matrix<S>::Zero(system.padded(), width)),
          Zn(Matrix<S>::Zero(system.padded(), negatives ? width : 0)) {
      start.topLeftCorner(k, k) = G;
    }
    SpdSystem<S> system;
    Matrix<S> start, Z, Zn;
  };
  auto solve = [&](Index u, Scratch& w) {
    const Index n = C.count(u);
    if (n == 0 && !has_prior) {
      X.row(u).setZero();
      return;
    }
    w.system.A = w.start;
    w.system.A.diagonal().head(k).array() += reg[u];
    w.system.b.setZero();
    if (has_prior) w.system.b.head(k) = reg[u] * prior.row(u).transpose();
    Index m = 0, mn = 0;  // columns gathered into Z and Zn
    for (Index j = 0; j < n; ++j) {
      const std::int64_t e = C.begin(u) + j;
      if (j + kPrefetchAhead < n) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
      const S conf = alpha * C.data[e], weight = base + conf;
      const S* y = Y.row(C.indices[e]).data();
      if (weight >= S(0)) {
        gather_row(y, k, std::sqrt(weight), S(1) + conf, w.Z.col(m++).data(), w.system.b.data());
        if (m == width) w.system.add_gram(w.Z, std::exchange(m, 0));
      } else {
        gather_row(y, k, std::sqrt(-weight), S(1) + conf, w.Zn.col(mn++).data(),
                   w.system.b.data());
        if (mn == width) w.system.template add_gram<-1>(w.Zn, std::exchange(mn, 0));
      }
    }
    if (m > 0) w.system.add_gram(w.Z, m);
    if (mn > 0) w.system.template add_gram<-1>(w.Zn, mn);
    if (!w.system.solve()) {
      failed.record(u);
      return;
    }
    X.row(u) = w.system.b.head(k).transpose();
  };
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<Scratch> scratch;
    guard.run([&] { scratch.emplace(k, width, G, base < S(0)); });
#pragma omp for schedule(dynamic, 16)
    for (Index u = 0; u < C.rows(); ++u) {
      guard.run([&] { solve(u, *scratch); });
    }
  }
  guard.rethrow();
  return failed.row();
}


// Approximate half-step: `steps` conjugate-gradient iterations on the same system, warm
// started from the current X (Takács et al. 2011). The row's item vectors are gathered
// into Z (k x n_u; a row longer than the buffer is gathered again, chunk by chunk, for
// every product), so each product with the system matrix,
//   A p = (G + λ_u I) p + Z (w ∘ Zᵀ p),   w = base + alpha values,
// is two contiguous matrix-vector products; nothing of size k x k is formed per row.
// Rows without interactions get 0, or with a prior start from 0 toward (G + λ_u I)⁻¹ λ_u
// prior_u. Same contract as implicit_als_half_step (prior included), plus steps >= 1.
template <typename S>
void implicit_als_cg_step(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                          ConstVecRef<S> values, S alpha, S base, ConstRowRef<S> Y,
                          ConstRowRef<S> G, ConstVecRef<S> reg, ConstRowRef<S> prior,
                          RowRef<S> X, int steps, int num_threads) {
  const CsrView<S> C{indptr, indices, values};
  const Index k = Y.cols(), width = gather_width<S>(k);
  const bool has_prior = prior.rows() > 0;
  // G is symmetric: its row-major storage read as column-major is the same matrix.
  const Eigen::Map<const Matrix<S>> Gm(G.data(), k, k);
  ParallelGuard guard;
  struct Scratch {  // per thread
    Scratch(Index k, Index width) : Z(k, width), c(width), q(width), x(k), r(k), p(k), Ap(k) {}
    Matrix<S> Z;
    Vector<S> c, q, x, r, p, Ap;
  };
  auto gather = [&](Scratch& w, Index u, Index lo, Index m) {
    for (Index j = 0; j < m; ++j) {
      const std::int64_t e = C.begin(u) + lo + j;
      if (lo + j + kPrefetchAhead < C.count(u)) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
      w.Z.col(j) = Y.row(C.indices[e]).transpose();
      w.c[j] = alpha * C.data[e];
    }
  };
  // out = Σ_{i∈u} t_i y_i with t_i = weight(conf_ui, y_i·v), chunk by chunk.
  auto product = [&](Scratch& w, Index u, const Vector<S>& v, Vector<S>& out, auto weight) {
    const Index n = C.count(u);
    out.setZero();
    for (Index lo = 0; lo < n; lo += width) {
      const Index m = std::min(width, n - lo);
      if (n > width) gather(w, u, lo, m);
      auto qm = w.q.head(m);
      qm.noalias() = w.Z.leftCols(m).transpose() * v;
      weight(qm.array(), w.c.head(m).array());
      out.noalias() += w.Z.leftCols(m) * qm;
    }
  };
  auto solve = [&](Index u, Scratch& w) {
    const Index n = C.count(u);
    if (n == 0 && !has_prior) {
      X.row(u).setZero();
      return;
    }
    if (n <= width) gather(w, u, 0, n);          // once, for every product below
    Vector<S>&x = w.x, &r = w.r, &p = w.p, &Ap = w.Ap;
    const S lambda = reg[u];
    x = X.row(u).transpose();
    // r = b - A x with b = Σ c y_i + λ_u prior_u, c = 1 + conf.
    product(w, u, x, r, [base](auto t, auto conf) { t = S(1) + conf - (base + conf) * t; });
    r.noalias() -= Gm * x;
    r -= lambda * x;
    if (has_prior) r += lambda * prior.row(u).transpose();
    p = r;
    S rs_old = r.squaredNorm();
    for (int step = 0; step < steps && rs_old > S(0); ++step) {
      product(w, u, p, Ap, [base](auto t, auto conf) { t = (base + conf) * t; });
      Ap.noalias() += Gm * p;
      Ap += lambda * p;
      const S step_size = rs_old / p.dot(Ap);
      x += step_size * p;
      r -= step_size * Ap;
      const S rs_new = r.squaredNorm();
      p = r + (rs_new / rs_old) * p;
      rs_old = rs_new;
    }
    X.row(u) = x.transpose();
  };
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<Scratch> scratch;
    guard.run([&] { scratch.emplace(k, width); });
#pragma omp for schedule(dynamic, 32)
    for (Index u = 0; u < C.rows(); ++u) {
      guard.run([&] { solve(u, *scratch); });
    }
  }
  guard.rethrow();
}

// The observed part of the implicit loss, per row, in double: for each observed (u, i)
// with s = x_u·y_i, c_ui (1 - s)² replaces the α0 s² that α0 Σ_u x_uᵀ(YᵀY)x_u counts for it:
//   out[u] = Σ_{i∈u} [(1 + alpha values_ui)(1 - s)² - α0 s²].
// Caller guarantees as for implicit_als_half_step; out.size() == X.rows().
template <typename S>
void implicit_observed_loss(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                            ConstVecRef<S> values, S alpha, S alpha0, ConstRowRef<S> X,
                            ConstRowRef<S> Y, VecRef<double> out, int num_threads) {
  const CsrView<S> C{indptr, indices, values};
  const double a0 = double(alpha0);
#pragma omp parallel for schedule(dynamic, 64) num_threads(resolve_threads(num_threads))
  for (Index u = 0; u < C.rows(); ++u) {
    double total = 0;
    for (std::int64_t e = C.begin(u); e < C.end(u); ++e) {
      // the row kPrefetchAhead ratings on, asked for while this one is summed (the rows of
      // Y come in a random order; without it each product waits for its row)
      if (e + kPrefetchAhead < C.end(u)) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
      const double s = X.row(u).dot(Y.row(C.indices[e]));
      total += (1.0 + double(alpha * C.data[e])) * (1.0 - s) * (1.0 - s) - a0 * s * s;
    }
    out[u] = total;
  }
}

}  // namespace fastmf
