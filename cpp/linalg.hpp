// Small dense linear algebra for the per-row solves.
#pragma once

#include "common.hpp"

#include <cmath>

namespace fastmf {

// Solve A x = b for a symmetric positive definite A, reading only its lower triangle.
// A is overwritten by its Cholesky factor L (lower), b by x. Returns false (A, b then
// undefined) when A is not numerically positive definite.
// A left-looking column Cholesky: one matrix-vector product per column. For the sizes
// of a factor model (k of 8 to 256) it is about twice as fast as Eigen::LLT, whose
// blocked algorithm spends its time on tiny blocks at these sizes.
template <typename S>
bool cholesky_solve_in_place(Matrix<S>& A, Vector<S>& b) {
  const Index d = A.rows();
  for (Index j = 0; j < d; ++j) {
    const Index rest = d - j;
    if (j > 0) {
      A.col(j).tail(rest).noalias() -= A.block(j, 0, rest, j) * A.row(j).head(j).transpose();
    }
    const S pivot = A(j, j);
    if (!(pivot > S(0)) || !std::isfinite(pivot)) return false;
    const S root = std::sqrt(pivot);
    A(j, j) = root;
    A.col(j).tail(rest - 1) /= root;
  }
  A.template triangularView<Eigen::Lower>().solveInPlace(b);
  A.template triangularView<Eigen::Lower>().adjoint().solveInPlace(b);
  return true;
}

}  // namespace fastmf
