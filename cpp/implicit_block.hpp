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
#include "cholesky.hpp"
#include "implicit_als.hpp"
#include "simd.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace fastmf {

// One block-coordinate sweep per row of X, warm started from X, in blocks of
// b = min(block_size, k) coordinates (the last block shorter); block_size >= k is one exact
// solve of the whole system. The loop runs block by block over all rows (as in iALS++),
// not row by row: block B's coordinates of every row of Y are first copied into a compact
// matrix Yb (bp x Y.rows(), bp = b padded to whole SIMD vectors with zeros), small enough
// to stay in the caches, so the gathers of all rows at that block read it instead of
// Y's scattered full rows; the block's columns of G are copied likewise, into Gb.
// The predictions s = y_i·x of all observed pairs are kept in one array beside the CSR
// values: computed block by block from Yb first, then updated after each block's solve.
// A block's system is formed by the hand-vectorized Gram tiles from the columns of Yb
// scaled by sqrt(|w|) (those with w < 0 subtracted) and solved by the padded Cholesky of
// cholesky.hpp, as in the exact solver. Rows without interactions get 0.
// Caller guarantees: valid CSR with C.rows() == X.rows(), indices < Y.rows(), values and
// alpha finite, G == α0 YᵀY (k x k, symmetric) with α0 = 1 - base > 0, reg.size() ==
// X.rows() and reg > 0, X.cols() == Y.cols(), X finite, X and Y distinct, block_size >= 1.
// w_ui may be negative. With row_loss of X.rows() entries (empty: none), row_loss[u] gets
// row u's part of the observed loss (observed_row_loss, α0 = alpha0) from the kept
// predictions, as implicit_als_half_step's. Returns -1 or the first row whose block
// factorization failed; a failed row keeps the blocks solved before the failure and skips
// the rest.
// Kept as one function of about 130 lines: the copy of a block, the predictions, the row
// solves and their updates share the per-thread scratch and the block loop's state.
template <typename S>
std::int64_t implicit_als_block_step(ConstVecRef<std::int64_t> indptr,
                                     ConstVecRef<std::int32_t> indices, ConstVecRef<S> values,
                                     S alpha, S base, ConstRowRef<S> Y, ConstRowRef<S> G,
                                     ConstVecRef<S> reg, RowRef<S> X, int block_size,
                                     int num_threads, S alpha0, VecRef<double> row_loss) {
  using V = typename Simd<S>::type;
  constexpr Index W = Simd<S>::width;
  const CsrView<S> C{indptr, indices, values};
  const Index k = Y.cols(), b = std::min<Index>(block_size, k), blocks = (k + b - 1) / b;
  const Index bp = padded_order<S>(b), last = k - (blocks - 1) * b;
  const Index chunk = std::max<Index>(64, (Index(64) << 10) / (bp * Index(sizeof(S))));
  // G is symmetric: its row-major storage read as column-major is the same matrix.
  const Eigen::Map<const Matrix<S>, 0, Eigen::OuterStride<>> Gc(
      G.data(), k, k, Eigen::OuterStride<>(G.outerStride()));
  Matrix<S> Yb(bp, Y.rows());
  RowMatrix<S> Gb(k, bp);  // block B's columns of G, zero padded
  Vector<S> s(C.indptr[C.rows()]);
  std::vector<char> failed_rows(C.rows(), 0);
  FirstFailure failed;
  ParallelGuard guard;
  struct Scratch {  // per thread
    Scratch(Index b, Index last, Index bp, Index chunk)
        : full(b), tail(last), r(Vector<S>::Zero(bp)), delta(Vector<S>::Zero(bp)),
          Z(Matrix<S>::Zero(bp, chunk)), Zn(Matrix<S>::Zero(bp, chunk)) {}
    SpdSystem<S> full, tail;  // the systems of a block of b coordinates and of the last one
    Vector<S> r, delta;       // the block's residual and step, zero padded
    Matrix<S> Z, Zn;          // a chunk's columns of Yb times sqrt(w) (w >= 0), sqrt(-w)
  };
  auto dot = [](const S* a, const S* c, Index n) {  // n a multiple of W
    V sum{};
    for (Index i = 0; i < n; i += W) sum += Simd<S>::load(a + i) * Simd<S>::load(c + i);
    return Simd<S>::sum(sum);
  };
  // Block j0..j0+mb of row u from its current factors and predictions (Yb and Gb holding
  // the block).
  auto solve_block = [&](Scratch& t, Index u, Index j0, Index mb) {
    const std::int64_t begin = C.begin(u), n = C.count(u);
    SpdSystem<S>& system = mb == b ? t.full : t.tail;
    system.A.topLeftCorner(mb, mb) = Gc.block(j0, j0, mb, mb);
    system.A.diagonal().head(mb).array() += reg[u];
    weighted_row_sum(Gb.data(), bp, k, bp, X.row(u).data(), t.r.data());  // (G x)_B
    auto r = t.r.head(mb);
    r = -r - reg[u] * X.row(u).segment(j0, mb).transpose();
    S* rv = t.r.data();
    // r += Σ (c - w s) y_iB and A += Σ w y_iB y_iBᵀ, a chunk of the row's items at a time.
    for (std::int64_t lo = 0; lo < n; lo += t.Z.cols()) {
      const Index m = std::min<Index>(t.Z.cols(), n - lo);
      Index p = 0, q = 0;  // columns in Z and Zn
      for (Index j = 0; j < m; ++j) {
        const std::int64_t e = begin + lo + j;
        const S v = alpha * C.data[e], w = base + v, c = S(1) + v - w * s[e];
        const S* y = Yb.col(C.indices[e]).data();
        S* to = w >= S(0) ? t.Z.col(p++).data() : t.Zn.col(q++).data();
        const S scale = std::sqrt(std::abs(w));
        for (Index i = 0; i < bp; i += W) {
          const V yi = Simd<S>::load(y + i);
          Simd<S>::store(to + i, scale * yi);
          Simd<S>::store(rv + i, Simd<S>::load(rv + i) + c * yi);
        }
      }
      if (p > 0) system.add_gram(t.Z, p);
      if (q > 0) system.template add_gram<-1>(t.Zn, q);
    }
    system.b.head(mb) = r;
    if (!system.solve()) return false;
    t.delta.setZero();  // the padding: zero
    t.delta.head(mb) = system.b.head(mb);
    X.row(u).segment(j0, mb) += t.delta.head(mb).transpose();
    for (std::int64_t e = begin; e < begin + n; ++e) {  // s_i += y_iB·Δ
      s[e] += dot(Yb.col(C.indices[e]).data(), t.delta.data(), bp);
    }
    return true;
  };
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<Scratch> scratch;
    guard.run([&] { scratch.emplace(b, last, bp, chunk); });
    // Block B's coordinates of Y's rows into Yb's columns; its columns of G into Gb.
    auto fill = [&](Index j0, Index mb) {
#pragma omp for schedule(static)
      for (Index i = 0; i < Y.rows(); ++i) {
        guard.run([&] {
          Yb.col(i).head(mb) = Y.row(i).segment(j0, mb).transpose();
          Yb.col(i).tail(bp - mb).setZero();
        });
      }
    };
    auto fill_g = [&](Index j0, Index mb) {
#pragma omp for schedule(static)
      for (Index j = 0; j < k; ++j) {
        Gb.row(j).head(mb) = G.row(j).segment(j0, mb);
        Gb.row(j).tail(bp - mb).setZero();
      }
    };
    for (Index j0 = 0; j0 < k; j0 += b) {  // the predictions, block by block
      const Index mb = std::min(b, k - j0);
      fill(j0, mb);
#pragma omp for schedule(dynamic, 64)
      for (Index u = 0; u < C.rows(); ++u) {
        guard.run([&] {
          for (std::int64_t e = C.begin(u); e < C.end(u); ++e) {
            const S part = Yb.col(C.indices[e]).head(mb).dot(X.row(u).segment(j0, mb));
            s[e] = j0 == 0 ? part : s[e] + part;
          }
        });
      }
    }
    for (Index j0 = 0; j0 < k; j0 += b) {  // the sweep
      const Index mb = std::min(b, k - j0);
      if (blocks > 1) fill(j0, mb);  // (one block: Yb still holds it)
      fill_g(j0, mb);
#pragma omp for schedule(dynamic, 16)
      for (Index u = 0; u < C.rows(); ++u) {
        guard.run([&] {
          if (C.count(u) == 0) {
            X.row(u).segment(j0, mb).setZero();
          } else if (!failed_rows[u] && !solve_block(*scratch, u, j0, mb)) {
            failed_rows[u] = 1;
            failed.record(u);
          }
        });
      }
    }
    if (row_loss.size() > 0) {
#pragma omp for schedule(dynamic, 64)
      for (Index u = 0; u < C.rows(); ++u) {
        ObservedRowLoss<S> loss(C, u, alpha, alpha0);
        for (Index j = 0; j < C.count(u); j += W) {
          loss.add(j, s.data() + C.begin(u) + j, std::min(W, C.count(u) - j));
        }
        row_loss[u] = loss.total();
      }
    }
  }
  guard.rethrow();
  return failed.row();
}

}  // namespace fastmf
