// Small dense linear algebra for the per-row solves: Gram matrices of gathered rows and
// Cholesky solves of the k x k systems they form.
//
// The systems live in SpdSystem's buffers, padded to whole SIMD vectors: order kp (k
// rounded up to a multiple of the vector width), column-major, leading dimension kp. Only
// the lower triangle of the leading k x k block is the system; padding rows and columns
// stay zero. Padding lets every inner loop run on whole vectors with no remainder.
#pragma once

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace fastmf {

// The widest vectors the build targets, through the compiler's vector extension: 32-byte
// AVX registers in the AVX2 build, 16-byte SSE registers in the portable one (wider ones
// would be split into slow pieces there). Loads and stores need no alignment.
#if defined(__AVX__)
constexpr int kSimdBytes = 32;
#else
constexpr int kSimdBytes = 16;
#endif

template <typename S>
struct Simd {
  static constexpr Index width = kSimdBytes / sizeof(S);
  typedef S type __attribute__((vector_size(kSimdBytes)));
  static type load(const S* p) {
    type v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(S* p, type v) { std::memcpy(p, &v, sizeof v); }
};

template <typename S>
Index padded_order(Index k) {
  constexpr Index w = Simd<S>::width;
  return (k + w - 1) / w * w;
}

// One gathered row y (k entries) of a per-row solve: z = w y (z's padding is left as it
// is) and b += c y.
template <typename S>
inline void gather_row(const S* y, Index k, S w, S c, S* z, S* b) {
  constexpr Index W = Simd<S>::width;
  Index r = 0;
  for (; r + W <= k; r += W) {
    const auto v = Simd<S>::load(y + r);
    Simd<S>::store(z + r, w * v);
    Simd<S>::store(b + r, Simd<S>::load(b + r) + c * v);
  }
  for (; r < k; ++r) {
    z[r] = w * y[r];
    b[r] += c * y[r];
  }
}

// The columns z_0, z_1, ... of a Gram update, each kp entries with zero padding: either
// the columns of a column-major matrix (Strided) or rows found elsewhere (Listed, e.g.
// rows of a row-major factor matrix whose width needs no padding).
template <typename S>
struct Strided {
  const S* data;
  Index stride;
  const S* operator[](Index j) const { return data + j * stride; }
  Strided from(Index j) const { return {data + j * stride, stride}; }
};

template <typename S>
struct Listed {
  const S* const* rows;
  const S* operator[](Index j) const { return rows[j]; }
  Listed from(Index j) const { return {rows + j}; }
};

// A register tile of a Gram update: for the MR columns c = I..I+MR-1 of A and the NV
// vectors of rows from J, A(J.., c) += Sign * Σ_{j<n} z_j(J..) z_j(c). The MR x NV
// accumulators stay in registers over all n.
template <typename S, int MR, int NV, int Sign, typename Cols>
inline void gram_tile(Cols Z, Index n, Index I, Index J, S* A, Index lda) {
  using V = typename Simd<S>::type;
  constexpr Index W = Simd<S>::width;
  V acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
#pragma GCC unroll 4
  for (Index j = 0; j < n; ++j) {
    const S* z = Z[j];
    V y[NV];
    for (int v = 0; v < NV; ++v) y[v] = Simd<S>::load(z + J + v * W);
    for (int r = 0; r < MR; ++r) {
      const S x = z[I + r];
      for (int v = 0; v < NV; ++v) acc[r][v] += x * y[v];
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int v = 0; v < NV; ++v) {
      S* a = A + (I + r) * lda + J + v * W;
      Simd<S>::store(a, Simd<S>::load(a) + (Sign > 0 ? acc[r][v] : -acc[r][v]));
    }
  }
}

// The tiles of A += Σ_j z_j z_jᵀ (n columns, kp rows) in the rows [J, J + 2W) of the lower
// triangle: 4 x 2W tiles left of the diagonal block, W x W tiles on it (those on the
// diagonal are computed whole; nothing reads their upper half).
template <typename S, typename Cols>
inline void gram_rows(Cols Z, Index n, Index J, Index kp, S* A) {
  constexpr Index W = Simd<S>::width;
  if (J + 2 * W <= kp) {
    for (Index I = 0; I < J; I += 4) gram_tile<S, 4, 2, 1>(Z, n, I, J, A, kp);
    gram_tile<S, W, 1, 1>(Z, n, J, J, A, kp);
    gram_tile<S, W, 1, 1>(Z, n, J, J + W, A, kp);
    gram_tile<S, W, 1, 1>(Z, n, J + W, J + W, A, kp);
  } else {  // the last, single vector of rows
    for (Index I = 0; I < J; I += 4) gram_tile<S, 4, 1, 1>(Z, n, I, J, A, kp);
    gram_tile<S, W, 1, 1>(Z, n, J, J, A, kp);
  }
}

// b += Σ_{j<n} t_j z_j and s += Σ_{j<n} z_j for G vectors of rows from r0, the sums kept
// in registers over all n.
template <typename S, int G, typename Cols>
inline void row_sums(Cols Z, const S* t, Index n, Index r0, S* b, S* s) {
  using V = typename Simd<S>::type;
  constexpr Index W = Simd<S>::width;
  V tb[G], ts[G];
  for (int v = 0; v < G; ++v) tb[v] = ts[v] = V{};
  for (Index j = 0; j < n; ++j) {
    const S* z = Z[j] + r0;
    const S w = t[j];
    for (int v = 0; v < G; ++v) {
      const V y = Simd<S>::load(z + v * W);
      tb[v] += w * y;
      ts[v] += y;
    }
  }
  for (int v = 0; v < G; ++v) {
    Simd<S>::store(b + r0 + v * W, Simd<S>::load(b + r0 + v * W) + tb[v]);
    Simd<S>::store(s + r0 + v * W, Simd<S>::load(s + r0 + v * W) + ts[v]);
  }
}

// The same for all kp rows, 4 vectors at a time.
template <typename S, typename Cols>
inline void row_sums(Cols Z, const S* t, Index n, Index kp, S* b, S* s) {
  constexpr Index W = Simd<S>::width;
  Index r0 = 0;
  for (; r0 + 4 * W <= kp; r0 += 4 * W) row_sums<S, 4>(Z, t, n, r0, b, s);
  const Index rest = (kp - r0) / W;
  if (rest == 3) row_sums<S, 3>(Z, t, n, r0, b, s);
  if (rest == 2) row_sums<S, 2>(Z, t, n, r0, b, s);
  if (rest == 1) row_sums<S, 1>(Z, t, n, r0, b, s);
}

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

  // A += Σ_{j<n} z_j z_jᵀ (lower triangle) for the columns z_j (Strided or Listed), kp
  // entries each with zero padding. Columns are taken in blocks that stay in the L1 cache
  // across the tiles.
  template <typename Cols>
  void add_gram(Cols Z, Index n) {
    constexpr Index W = Simd<S>::width;
    const Index block = std::max<Index>(16, (Index(16) << 10) / (kp_ * Index(sizeof(S))));
    for (Index j0 = 0; j0 < n; j0 += block) {
      const Index m = std::min(block, n - j0);
      for (Index J = 0; J < kp_; J += 2 * W) gram_rows<S>(Z.from(j0), m, J, kp_, A.data());
    }
  }

  void add_gram(const Matrix<S>& Z, Index n) { add_gram(Strided<S>{Z.data(), Z.rows()}, n); }

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
    constexpr int MR = W < 4 ? int(W) : 4;  // tile columns: the panel's W, 4 at a time
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
  // Padding columns get a zero inv_diag_ and stay zero.
  __attribute__((noinline)) bool factor_block(Index c0) {
    using V = typename Simd<S>::type;
    constexpr int W = int(Simd<S>::width);
    S* a = A.data() + c0 * kp_ + c0;  // the block's column j at a + j * kp_
    V d[W];
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) d[j] = Simd<S>::load(a + j * kp_);
#pragma GCC unroll 8
    for (int c = 0; c < W; ++c) {
      S scale = S(0);
      if (c0 + c < k_) {
        const S pivot = d[c][c];
        if (!(pivot > S(0)) || !std::isfinite(pivot)) return false;
        scale = S(1) / std::sqrt(pivot);
      }
      inv_diag_[c0 + c] = scale;
      d[c] *= scale * Simd<S>::load(kLowerMasks<S>.lanes[c]);
#pragma GCC unroll 8
      for (int c2 = c + 1; c2 < W; ++c2) d[c2] -= d[c][c2] * d[c];
    }
#pragma GCC unroll 8
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
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) in[j] = Simd<S>::load(a + j * kp_);
#pragma GCC unroll 8
    for (int c = 0; c < W; ++c) {
      V out{};
#pragma GCC unroll 8
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
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) {
      m[j] = V{};
      m[j][j] = S(1);
    }
#pragma GCC unroll 8
    for (int c = W - 1; c >= 0; --c) {
      m[c] *= d[c];
#pragma GCC unroll 8
      for (int j = 0; j < c; ++j) m[j] -= l[j * kp_ + c] * m[c];
    }
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) Simd<S>::store(inv_cols_.data() + (c0 + j) * W, m[j]);
#pragma GCC unroll 8
    for (int c = 0; c < W; ++c) {
      m[c] = V{};
      m[c][c] = S(1);
    }
#pragma GCC unroll 8
    for (int j = 0; j < W; ++j) {
      m[j] *= d[j];
#pragma GCC unroll 8
      for (int c = j + 1; c < W; ++c) m[c] -= l[j * kp_ + c] * m[j];
    }
#pragma GCC unroll 8
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
        S dot = 0;
        for (Index lane = 0; lane < W; ++lane) dot += acc[lane];
        r[j] -= dot;
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

// The Gram matrices of Y's rows taken `chunk` at a time: rows [c k, (c + 1) k) of out hold
// Y_cᵀ Y_c for the rows Y_c = Y[c chunk, min((c + 1) chunk, n)). YᵀY is their sum in chunk
// order (fastmf/models/_arrays.py, gram). A chunk's product depends only on its rows, not
// on the thread count nor on the matrix they are stored in, so the same sum comes out of
// one matrix and of row blocks held apart (fastmf.distributed). Computing it here, inside
// fastmf's own threads, keeps a BLAS thread pool from competing with the kernels around it.
// Caller guarantees: chunk >= 1, out is ceil(Y.rows() / chunk) Y.cols() x Y.cols().
template <typename S>
void gram_chunks(ConstRowRef<S> Y, Index chunk, RowRef<S> out, int num_threads) {
  const Index n = Y.rows(), k = Y.cols(), n_chunks = (n + chunk - 1) / chunk;
  ParallelGuard guard;  // the product's blocking buffers are allocated
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(num_threads))
  for (Index c = 0; c < n_chunks; ++c) {
    guard.run([&] {
      const auto rows = Y.middleRows(c * chunk, std::min(chunk, n - c * chunk));
      out.middleRows(c * k, k).noalias() = rows.transpose() * rows;
    });
  }
  guard.rethrow();
}

}  // namespace fastmf
