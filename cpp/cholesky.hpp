// Cholesky solves of the k x k symmetric positive definite systems of the per-row solves.
//
// The systems live in SpdSystem's buffers, padded to whole SIMD vectors: order kp (k
// rounded up to a multiple of the vector width), column-major, leading dimension kp. Only
// the lower triangle of the leading k x k block is the system; padding rows and columns
// stay zero. Padding lets every inner loop run on whole vectors with no remainder.
#pragma once

#include "common.hpp"
#include "compiler.hpp"
#include "gram.hpp"
#include "simd.hpp"

#include <algorithm>
#include <cmath>

namespace fastmf {

// kLowerMasks<S>.lanes[c]: 1 in lanes c.. (at and below the diagonal of a W x W block's
// column c), 0 above.
template <typename S>
struct LowerMasks {
  S lanes[Simd<S>::width][Simd<S>::width];
  constexpr LowerMasks() : lanes{} {
    for (Index c = 0; c < Simd<S>::width; ++c)
      for (Index r = c; r < Simd<S>::width; ++r) lanes[c][r] = S(1);
  }
};
template <typename S>
inline constexpr LowerMasks<S> kLowerMasks{};

// Per-thread scratch for one symmetric positive definite k x k system A x = b at a time.
template <typename S>
class SpdSystem {
  Index k_, kp_;

 public:
  explicit SpdSystem(Index k)
      : k_(k), kp_(padded_order<S>(k)), A(Matrix<S>::Zero(kp_, kp_)), b(Vector<S>::Zero(kp_)),
        inv_diag_(Vector<S>::Zero(kp_)), x_(kp_),
        inv_cols_(Simd<S>::width, kp_), inv_rows_(Simd<S>::width, kp_) {}

  Index padded() const { return kp_; }

  // A += Sign Σ_{j<n} z_j z_jᵀ (lower triangle) for the columns z_j (Strided or Listed),
  // kp entries each with zero padding. Columns are taken in blocks that stay in the L1
  // cache across the tiles.
  template <int Sign = 1, typename Cols>
  void add_gram(Cols Z, Index n) {
    constexpr Index W = Simd<S>::width;
    const Index block = std::max<Index>(16, (Index(16) << 10) / (kp_ * Index(sizeof(S))));
    for (Index j0 = 0; j0 < n; j0 += block) {
      const Index m = std::min(block, n - j0);
      for (Index J = 0; J < kp_; J += 2 * W) {
        gram_rows<S, Sign>(Z.from(j0), m, J, kp_, A.data());
      }
    }
  }

  template <int Sign = 1>
  void add_gram(const Matrix<S>& Z, Index n) {
    add_gram<Sign>(Strided<S>{Z.data(), Z.rows()}, n);
  }

  // b := A⁻¹ b. Returns false, A and b then undefined, when A is not numerically positive
  // definite; true leaves A's lower triangle holding its Cholesky factor.
  bool solve() {
    if (!factor()) return false;
    substitute();
    return true;
  }

  Matrix<S> A;
  Vector<S> b;

 private:
  // Blocked left-looking Cholesky, panels of W columns: a panel is first updated by the
  // columns to its left with Gram tiles; then its diagonal block is factored in registers
  // and inverted, and the rows below it are multiplied by that inverse. Entries above the
  // diagonal within a panel's rows are zeroed so that whole-vector loops read zeros.
  bool factor() {
    constexpr Index W = Simd<S>::width;
    // tile columns: the panel's W, kTileColumns (gram.hpp) at a time
    constexpr int MR = W < kTileColumns ? int(W) : kTileColumns;
    S* a = A.data();
    for (Index c0 = 0; c0 < k_; c0 += W) {
      if (c0 > 0) {
        for (Index I = c0; I < c0 + W; I += MR) {
          for (Index J = c0; J < kp_; J += 2 * W) {
            if (J + 2 * W <= kp_) {
              gram_tile<S, MR, 2, -1>(Strided<S>{a, kp_}, c0, I, J, a, kp_);
            } else {
              gram_tile<S, MR, 1, -1>(Strided<S>{a, kp_}, c0, I, J, a, kp_);
            }
          }
        }
      }
      if (!factor_block(c0)) return false;
      invert_block(c0);
      for (Index r0 = c0 + W; r0 < kp_; r0 += W) below_block(c0, r0);
    }
    return true;
  }

  // The panel's W x W diagonal block, updated by the columns to its left, factored in
  // registers (the chain of square roots and divisions never waits on memory; kept out of
  // line, or GCC spills the block to the stack); entries above its diagonal become zero.
  // Padding columns get a zero inv_diag_ and stay zero. Here and in the functions below,
  // loops over the W columns of a block unroll fully (W <= 16), so that the vectors
  // indexed by the column stay in registers.
  FASTMF_NOINLINE bool factor_block(Index c0) {
    using V = typename Simd<S>::type;
    constexpr int W = int(Simd<S>::width);
    S* a = A.data() + c0 * kp_ + c0;  // the block's column j at a + j * kp_
    V d[W];
    FASTMF_UNROLL(16)
    for (int j = 0; j < W; ++j) d[j] = Simd<S>::load(a + j * kp_);
    FASTMF_UNROLL(16)
    for (int c = 0; c < W; ++c) {
      S scale = S(0);
      if (c0 + c < k_) {
        const S pivot = d[c][c];
        if (!(pivot > S(0)) || !std::isfinite(pivot)) return false;
        scale = S(1) / std::sqrt(pivot);
      }
      inv_diag_[c0 + c] = scale;
      d[c] *= scale * Simd<S>::load(kLowerMasks<S>.lanes[c]);
      FASTMF_UNROLL(16)
      for (int c2 = c + 1; c2 < W; ++c2) d[c2] -= d[c][c2] * d[c];
    }
    FASTMF_UNROLL(16)
    for (int j = 0; j < W; ++j) Simd<S>::store(a + j * kp_, d[j]);
    return true;
  }

  // One vector of rows r0.. of the panel below its diagonal block: L(r0.., c0 + c) =
  // Σ_{j<=c} M(c, j) A(r0.., c0 + j), with M the inverse of the block (invert_block).
  void below_block(Index c0, Index r0) {
    using V = typename Simd<S>::type;
    constexpr int W = int(Simd<S>::width);
    S* a = A.data() + c0 * kp_ + r0;  // column c0 + j at a + j * kp_
    const S* m = inv_rows_.data() + c0 * W;  // M(c, j) = m[c * W + j]
    V in[W];
    FASTMF_UNROLL(16)
    for (int j = 0; j < W; ++j) in[j] = Simd<S>::load(a + j * kp_);
    FASTMF_UNROLL(16)
    for (int c = 0; c < W; ++c) {
      V out{};
      FASTMF_UNROLL(16)
      for (int j = 0; j <= c; ++j) out += m[c * W + j] * in[j];
      Simd<S>::store(a + c * kp_, out);
    }
  }

  // The inverse M of the panel's W x W diagonal block of L, for the substitutions, by
  // columns, M(:, j) = (e_j - Σ_{c>j} L(c, j) M(:, c)) / L(j, j), and by rows,
  // M(c, :) = (e_c - Σ_{j<c} L(c, j) M(j, :)) / L(c, c); each finished column (row) is
  // taken off the unfinished ones at once, so the chain is one step per column. Padding
  // columns have a zero inv_diag_, so M is zero in their rows and columns.
  void invert_block(Index c0) {
    using V = typename Simd<S>::type;
    constexpr int W = int(Simd<S>::width);
    const S* l = A.data() + c0 * kp_ + c0;  // L(c0 + r, c0 + c) = l[c * kp_ + r]
    const S* d = inv_diag_.data() + c0;
    V m[W];
    FASTMF_UNROLL(16)
    for (int j = 0; j < W; ++j) {
      m[j] = V{};
      m[j][j] = S(1);
    }
    FASTMF_UNROLL(16)
    for (int c = W - 1; c >= 0; --c) {
      m[c] *= d[c];
      FASTMF_UNROLL(16)
      for (int j = 0; j < c; ++j) m[j] -= l[j * kp_ + c] * m[c];
    }
    FASTMF_UNROLL(16)
    for (int j = 0; j < W; ++j) Simd<S>::store(inv_cols_.data() + (c0 + j) * W, m[j]);
    FASTMF_UNROLL(16)
    for (int c = 0; c < W; ++c) {
      m[c] = V{};
      m[c][c] = S(1);
    }
    FASTMF_UNROLL(16)
    for (int j = 0; j < W; ++j) {
      m[j] *= d[j];
      FASTMF_UNROLL(16)
      for (int c = j + 1; c < W; ++c) m[c] -= l[j * kp_ + c] * m[j];
    }
    FASTMF_UNROLL(16)
    for (int c = 0; c < W; ++c) Simd<S>::store(inv_rows_.data() + (c0 + c) * W, m[c]);
  }

  // L y = b, then Lᵀ x = y, in blocks of W: a diagonal block is solved by its inverse M,
  // the rest of the block's rows (forward) or columns (backward) by vectors.
  void substitute() {
    using V = typename Simd<S>::type;
    constexpr Index W = Simd<S>::width;
    const S* a = A.data();
    S* y = b.data();
    for (Index c0 = 0; c0 < kp_; c0 += W) {
      const V r = Simd<S>::load(y + c0);
      V yb{};
      for (Index j = 0; j < W; ++j) yb += r[j] * Simd<S>::load(inv_cols_.data() + (c0 + j) * W);
      Simd<S>::store(y + c0, yb);
      for (Index r0 = c0 + W; r0 < kp_; r0 += W) {
        V acc = Simd<S>::load(y + r0);
        for (Index j = 0; j < W; ++j) acc -= yb[j] * Simd<S>::load(a + (c0 + j) * kp_ + r0);
        Simd<S>::store(y + r0, acc);
      }
    }
    S* x = x_.data();
    for (Index c0 = kp_ - W; c0 >= 0; c0 -= W) {
      V r = Simd<S>::load(y + c0);
      for (Index j = 0; j < W; ++j) {
        V acc{};
        for (Index r0 = c0 + W; r0 < kp_; r0 += W) {
          acc += Simd<S>::load(a + (c0 + j) * kp_ + r0) * Simd<S>::load(x + r0);
        }
        r[j] -= Simd<S>::sum(acc);
      }
      V xb{};
      for (Index c = 0; c < W; ++c) xb += r[c] * Simd<S>::load(inv_rows_.data() + (c0 + c) * W);
      Simd<S>::store(x + c0, xb);
    }
    b.head(k_) = x_.head(k_);
  }

  Vector<S> inv_diag_, x_;
  Matrix<S> inv_cols_, inv_rows_;  // the inverses of L's diagonal blocks (invert_block)
};

}  // namespace fastmf
