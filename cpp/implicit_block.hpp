// Implicit-feedback ALS by subspace (block coordinate) descent, as in iALS++ (Rendle, Zhang,
// Koren 2021). Row u minimises its part of the implicit objective,
//   f_u(x) = xᵀ A_u x - 2 b_uᵀ x,  A_u = G + λ_u I + Σ_{i∈u} w_ui y_i y_iᵀ,
//   b_u = Σ_{i∈u} c_ui y_i,  c_ui = 1 + α v_ui,  w_ui = c_ui - α0 = base + α v_ui,
// with G = α0 YᵀY passed in. Instead of solving the k x k system, one sweep solves it
// exactly on each block B of b coordinates in turn, the others fixed:
//   (A_u)_BB Δ = (b_u - A_u x)_B,  x_B += Δ,
// which never increases f_u (A_u is positive definite, so is (A_u)_BB), and repeated
// sweeps converge to the exact solve (block Gauss-Seidel). The residual needs A_u x only on
// B: (G x)_B costs O(k b), and the observed part Σ_i w_ui s_i y_iB comes from the kept
// predictions s_i = y_i·x, updated after each block in O(n_u b). A row costs
// O(n_u k b + k² + k b²) instead of Cholesky's O(n_u k² + k³).
#pragma once

#include "common.hpp"
#include "implicit_als.hpp"

#include <algorithm>
#include <optional>

namespace fastmf {

// One block-coordinate sweep per row of X, warm started from X, in blocks of
// b = min(block_size, k) coordinates (the last block shorter); block_size >= k is one exact
// solve of the whole system. The row's item vectors are gathered into a per-thread k x width
// buffer once when the row fits it; a longer row is gathered a chunk of width items at a
// time, only the block's coordinates, for each block. Rows without interactions get 0.
// Caller guarantees: valid CSR with C.rows() == X.rows(), indices < Y.rows(), values and
// alpha finite, G == α0 YᵀY (k x k, symmetric) with α0 = 1 - base > 0, reg.size() ==
// X.rows() and reg > 0, X.cols() == Y.cols(), X finite, block_size >= 1. w_ui may be
// negative. Returns -1 or the first row whose block factorization failed (that row left
// unchanged).
template <typename S>
std::int64_t implicit_als_block_step(ConstVecRef<std::int64_t> indptr,
                                     ConstVecRef<std::int32_t> indices, ConstVecRef<S> values,
                                     S alpha, S base, ConstRowRef<S> Y, ConstRowRef<S> G,
                                     ConstVecRef<S> reg, RowRef<S> X, int block_size,
                                     int num_threads) {
  const CsrView<S> C{indptr, indices, values};
  const Index k = Y.cols(), b = std::min<Index>(block_size, k), width = gather_width<S>(k);
  FirstFailure failed;
  ParallelGuard guard;
  struct Scratch {  // per thread
    Scratch(Index k, Index b, Index width)
        : Z(k, width), WZ(b, width), A(b, b), x(k), r(b), c(width), w(width) {}
    Matrix<S> Z, WZ, A;   // Z: gathered y_i as columns; WZ: a block's rows of Z diag(w)
    Vector<S> x, r, c, w, s;
  };
  // Coordinates j0..j0+mb of the row's items lo..lo+m, into the same rows of Z's columns.
  auto gather = [&](Scratch& t, Index u, Index lo, Index m, Index j0, Index mb) {
    for (Index j = 0; j < m; ++j) {
      const std::int64_t e = C.begin(u) + lo + j;
      t.Z.col(j).segment(j0, mb) = Y.row(C.indices[e]).segment(j0, mb).transpose();
    }
  };
  auto solve = [&](Index u, Scratch& t) {
    const Index n = C.count(u);
    if (n == 0) {
      X.row(u).setZero();
      return;
    }
    if (t.s.size() < n) t.s.resize(n);
    const bool whole = n <= width;
    if (whole) gather(t, u, 0, n, 0, k);
    t.x = X.row(u).transpose();
    for (Index j = 0; j < n; ++j) {
      const std::int64_t e = C.begin(u) + j;
      if (j + kPrefetchAhead < n) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
      t.s[j] = Y.row(C.indices[e]).dot(X.row(u));
    }
    for (Index j0 = 0; j0 < k; j0 += b) {
      const Index mb = std::min(b, k - j0);
      auto A = t.A.topLeftCorner(mb, mb);
      auto r = t.r.head(mb);
      A = G.block(j0, j0, mb, mb);
      A.diagonal().array() += reg[u];
      r.noalias() = -(G.middleRows(j0, mb) * t.x);
      r -= reg[u] * t.x.segment(j0, mb);
      for (Index lo = 0; lo < n; lo += width) {  // r += Σ (c - w s) y_iB, A += Σ w y_iB y_iBᵀ
        const Index m = std::min(width, n - lo);
        if (!whole) gather(t, u, lo, m, j0, mb);
        const auto Zb = t.Z.block(j0, 0, mb, m);
        for (Index j = 0; j < m; ++j) {
          const S v = alpha * C.data[C.begin(u) + lo + j];
          t.w[j] = base + v;
          t.c[j] = S(1) + v - t.w[j] * t.s[lo + j];
        }
        t.WZ.topLeftCorner(mb, m).noalias() = Zb * t.w.head(m).asDiagonal();
        A.template triangularView<Eigen::Lower>() += t.WZ.topLeftCorner(mb, m) * Zb.transpose();
        r.noalias() += Zb * t.c.head(m);
      }
      Eigen::LLT<Eigen::Ref<Matrix<S>>, Eigen::Lower> llt(A);  // in place, lower triangle
      if (llt.info() != Eigen::Success) {
        failed.record(u);
        return;
      }
      llt.solveInPlace(r);
      t.x.segment(j0, mb) += r;
      for (Index lo = 0; lo < n; lo += width) {  // s_i += y_iB·Δ
        const Index m = std::min(width, n - lo);
        if (!whole) gather(t, u, lo, m, j0, mb);
        t.s.segment(lo, m).noalias() += t.Z.block(j0, 0, mb, m).transpose() * r;
      }
    }
    X.row(u) = t.x.transpose();
  };
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<Scratch> scratch;
    guard.run([&] { scratch.emplace(k, b, width); });
#pragma omp for schedule(dynamic, 16)
    for (Index u = 0; u < C.rows(); ++u) {
      guard.run([&] { solve(u, *scratch); });
    }
  }
  guard.rethrow();
  return failed.row();
}

}  // namespace fastmf
