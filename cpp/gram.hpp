// Gram updates from gathered rows, the building block of the per-row systems: the
// register tiles that add Σ_j z_j z_jᵀ into a padded column-major system (the layout of
// cholesky.hpp), the row helpers around them, and gram_chunks (YᵀY by chunks of rows).
#pragma once

#include "common.hpp"
#include "compiler.hpp"
#include "simd.hpp"

#include <algorithm>

namespace fastmf {

// One gathered row y (k entries) of a per-row solve: z = w y (z's padding is left as it
// is) and b += c y. The row's last, partial vector is read and written by its first lanes.
template <typename S>
inline void gather_row(const S* y, Index k, S w, S c, S* z, S* b) {
  constexpr Index W = Simd<S>::width;
  Index r = 0;
  for (; r + W <= k; r += W) {
    const auto v = Simd<S>::load(y + r);
    Simd<S>::store(z + r, w * v);
    Simd<S>::store(b + r, Simd<S>::load(b + r) + c * v);
  }
  if (r < k) {
    const auto v = Simd<S>::load_first(y + r, k - r);
    Simd<S>::store_first(z + r, w * v, k - r);
    Simd<S>::store_first(b + r, Simd<S>::load_first(b + r, k - r) + c * v, k - r);
  }
}

// out[0 .. R vectors) = (or, with Add, +=) Σ_{j<m} x_j P(j, 0 .. R vectors) over m rows of
// P at stride ld, the vector only its first `last` lanes when Partial (then R == 1): out's
// vectors held in registers twice over, for the even and the odd j (two chains of
// multiply-adds). Each entry depends on its own column alone.
template <typename S, int R, bool Partial, bool Add>
FASTMF_ALWAYS_INLINE void weighted_row_sum_vectors(const S* P, Index ld, Index m, const S* x,
                                                   S* out, Index last) {
  using Vs = Simd<S>;
  using V = typename Vs::type;
  constexpr Index W = Vs::width;
  auto load = [last](const S* p) { return Partial ? Vs::load_first(p, last) : Vs::load(p); };
  V even[R], odd[R];
  FASTMF_UNROLL(8)
  for (int r = 0; r < R; ++r) even[r] = odd[r] = V{};
  Index j = 0;
  for (; j + 2 <= m; j += 2) {
    const S *p0 = P + j * ld, *p1 = p0 + ld;
    const S x0 = x[j], x1 = x[j + 1];
    FASTMF_UNROLL(8)
    for (int r = 0; r < R; ++r) {
      even[r] += x0 * load(p0 + r * W);
      odd[r] += x1 * load(p1 + r * W);
    }
  }
  if (j < m) {
    FASTMF_UNROLL(8)
    for (int r = 0; r < R; ++r) even[r] += x[j] * load(P + j * ld + r * W);
  }
  FASTMF_UNROLL(8)
  for (int r = 0; r < R; ++r) {
    const V sum = Add ? load(out + r * W) + (even[r] + odd[r]) : even[r] + odd[r];
    if constexpr (Partial) {
      Vs::store_first(out, sum, last);
    } else {
      Vs::store(out + r * W, sum);
    }
  }
}

// out[0..n) = (or, with Add, +=) Σ_{j<m} x_j P(j, 0..n), the m rows of P at stride ld:
// four vectors of out at a time (one pass over P for each four), then one at a time, then a
// last partial vector.
template <typename S, bool Add = false>
void weighted_row_sum(const S* P, Index ld, Index m, Index n, const S* x, S* out) {
  constexpr Index W = Simd<S>::width;
  Index c = 0;
  for (; c + 4 * W <= n; c += 4 * W) {
    weighted_row_sum_vectors<S, 4, false, Add>(P + c, ld, m, x, out + c, W);
  }
  for (; c + W <= n; c += W) {
    weighted_row_sum_vectors<S, 1, false, Add>(P + c, ld, m, x, out + c, W);
  }
  if (c < n) weighted_row_sum_vectors<S, 1, true, Add>(P + c, ld, m, x, out + c, n - c);
}

// The dot products z(c)·x of a vector's width W of rows (k values each; z(c) the row c)
// side by side, in W vectors, summed across lanes by one Simd::sums: the vector of the W
// products. Where a dot product per row would spend more on its horizontal sum than on its
// k multiply-adds (the CG products, the per-row losses after a solve).
template <typename S, typename Rows>
FASTMF_ALWAYS_INLINE typename Simd<S>::type side_by_side_dots(Rows z, Index k, const S* x) {
  using Vs = Simd<S>;
  using V = typename Vs::type;
  constexpr Index W = Vs::width;
  const Index full = k / W * W, tail = k - full;
  V d[W];
  FASTMF_UNROLL(16)
  for (Index c = 0; c < W; ++c) d[c] = V{};
  for (Index f = 0; f < full; f += W) {
    const V xf = Vs::load(x + f);
    FASTMF_UNROLL(16)
    for (Index c = 0; c < W; ++c) d[c] += Vs::load(z(c) + f) * xf;
  }
  if (tail > 0) {
    const V xf = Vs::load_first(x + full, tail);
    FASTMF_UNROLL(16)
    for (Index c = 0; c < W; ++c) d[c] += Vs::load_first(z(c) + full, tail) * xf;
  }
  return Vs::sums(d);
}

// The dot products z_j·x of n rows z_j = row(j) with x, W at a time (side_by_side_dots),
// handed to take(j, dots, m): the dots of rows j..j+m, m = W but for the last rows.
template <typename S, typename Rows, typename Take>
void dots_with(Rows row, Index n, Index k, const S* x, Take take) {
  constexpr Index W = Simd<S>::width;
  alignas(64) S dots[W];
  for (Index j = 0; j < n; j += W) {
    const Index m = std::min(W, n - j);
    const S* z[W];
    for (Index c = 0; c < W; ++c) z[c] = row(j + std::min(c, m - 1));  // (repeats: unused)
    Simd<S>::store(dots, side_by_side_dots<S>([&](Index c) { return z[c]; }, k, x));
    take(j, static_cast<const S*>(dots), m);
  }
}

// Sums in double kept lane by lane (lane c takes the terms c, c + N, ... of a sequence) and
// added up in order by total(): N independent chains, which the compiler vectorizes, where
// one running sum would be a chain of dependent additions.
template <int N>
struct LaneSums {
  double lane[N] = {};
  double total() const {
    double sum = 0;
    for (double value : lane) sum += value;
    return sum;
  }
};

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
  FASTMF_UNROLL(4)
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

// Columns of the tiles left of the diagonal: with 2 vectors of rows, 8 columns keep 16
// accumulators in AVX-512's 32 vector registers (measured 6-10% faster than 4 for the
// implicit half-step at k = 64 and 128), 4 columns keep 8 in the 16 registers of AVX2.
constexpr int kTileColumns = kSimdRegisters >= 32 ? 8 : 4;

// The tiles of A += Sign Σ_j z_j z_jᵀ (n columns, kp rows) in the rows [J, J + 2W) of the
// lower triangle: kTileColumns x 2W tiles left of the diagonal block, W x W tiles on it
// (those on the diagonal are computed whole; nothing reads their upper half). J is a
// multiple of 2W, so of kTileColumns.
template <typename S, int Sign = 1, typename Cols>
inline void gram_rows(Cols Z, Index n, Index J, Index kp, S* A) {
  constexpr Index W = Simd<S>::width;
  constexpr int C = kTileColumns;
  if (J + 2 * W <= kp) {
    for (Index I = 0; I < J; I += C) gram_tile<S, C, 2, Sign>(Z, n, I, J, A, kp);
    gram_tile<S, W, 1, Sign>(Z, n, J, J, A, kp);
    gram_tile<S, W, 1, Sign>(Z, n, J, J + W, A, kp);
    gram_tile<S, W, 1, Sign>(Z, n, J + W, J + W, A, kp);
  } else {  // the last, single vector of rows
    for (Index I = 0; I < J; I += C) gram_tile<S, C, 1, Sign>(Z, n, I, J, A, kp);
    gram_tile<S, W, 1, Sign>(Z, n, J, J, A, kp);
  }
}

// b += Σ_{j<n} t_j z_j and s += Σ_{j<n} z_j for G vectors of rows from r0, the sums kept
// in registers over all n. This is the first pass over rows gathered from a matrix larger
// than the caches: the rows kPrefetchAhead on are asked for while these are summed (measured
// at 20M ratings, k = 64: ALS half-steps 4-7% faster than with the next row's items all asked
// for at once before its solve, which queued behind the core's few outstanding misses).
template <typename S, int G, typename Cols>
inline void row_sums(Cols Z, const S* t, Index n, Index r0, S* b, S* s) {
  using V = typename Simd<S>::type;
  constexpr Index W = Simd<S>::width;
  V tb[G], ts[G];
  for (int v = 0; v < G; ++v) tb[v] = ts[v] = V{};
  for (Index j = 0; j < n; ++j) {
    const S* z = Z[j] + r0;
    const S w = t[j];
    if (j + kPrefetchAhead < n) prefetch_span(Z[j + kPrefetchAhead] + r0, G * W);
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

// The Gram matrices of Y's rows taken `chunk` at a time: rows [c k, (c + 1) k) of out hold
// Y_cᵀ Y_c for the rows Y_c = Y[c chunk, min((c + 1) chunk, n)). YᵀY is their sum in chunk
// order (fastmf/_kernels/gram.py, gram). A chunk's product depends only on its rows, not
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
