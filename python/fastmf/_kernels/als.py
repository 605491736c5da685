"""Explicit, biased matrix factorization (cpp/als.hpp): the row solve of ALS, predictions and
squared errors, with the objective they add up to, on any block of rows.

What ALS on one machine, SGD's loss and ``fastmf.distributed`` compute with, so that a
cluster's blocks give the one-machine bits: r̂_ui = μ + b_u + b_i + p_u·q_i, minimising
Σ (r - r̂)² + λ Σ w ‖p‖² + λ Σ w ‖q‖² + λ_b Σ b², w = n^a (``weighted``), summed exactly.
"""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .. import _core
from .arrays import NO_ROWS, exact_sum, row_norms

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import Float64Array, FloatArray, FloatType, Int64Array
    from ..data import Csr
    from ..models._params import BiasedParams


def row_regularization(counts: Int64Array, p: BiasedParams, dtype: FloatType) -> FloatArray:
    """λ per row: λ n^w with n the row's ratings (w = ``p.weighted``; 0: plain λ)."""
    return (p.regularization * counts.astype(np.float64) ** p.weighted).astype(dtype)


def solve_rows(R: Csr, Y: FloatArray, yb: FloatArray, mu: float, row_reg: FloatArray,
               prior: FloatArray, X: FloatArray, xb: FloatArray, p: BiasedParams,
               row_sse: Float64Array | None = None) -> int:
    """The ALS row solve: [b_u, p_u] of every row of R (a Csr of ratings in the model dtype,
    column indices into Y), written into X and xb, against the fixed (Y, yb). ``prior``
    holds the rows' shrinkage targets (an empty array: 0). ``row_sse`` (float64, a value per
    row), when given, receives each row's squared residuals under its new factors: after an
    iteration's second half-step, the training loss's squared errors (summed exactly with
    ``exact_sum``) without a pass of their own. Returns -1 or the first row whose Cholesky
    failed."""
    dtype = Y.dtype.type
    return _core.als_half_step(R.indptr, R.indices, R.data, Y, yb, dtype(mu), row_reg,
                               dtype(p.bias_regularization), prior, X, xb, p.num_threads,
                               NO_ROWS if row_sse is None else row_sse)


def predict_pairs(X: FloatArray, xb: FloatArray, Y: FloatArray, yb: FloatArray, mu: float,
                  uidx: NDArray[np.integer[Any]], iidx: NDArray[np.integer[Any]],
                  num_threads: int) -> FloatArray:
    """μ + b_u + b_i + p_u·q_i of each pair (uidx, iidx) of indices, in Y's dtype; an index
    of -1 (an unknown user or item) leaves out its side's terms."""
    out = np.empty(len(uidx), dtype=Y.dtype)
    _core.predict_pairs(X, xb, Y, yb, Y.dtype.type(mu), np.ascontiguousarray(uidx, dtype=np.int64),
                        np.ascontiguousarray(iidx, dtype=np.int64), out, num_threads)
    return out


def squared_errors(R: Csr, X: FloatArray, xb: FloatArray, Y: FloatArray, yb: FloatArray,
                   mu: float, num_threads: int) -> Fraction:
    """Σ (r - r̂)² over the ratings of the rows of R, whose factors are X, xb (exact)."""
    per_row = np.empty(R.shape[0], dtype=np.float64)
    _core.row_squared_errors(R.indptr, R.indices, R.data, X, xb, Y, yb, X.dtype.type(mu),
                             per_row, num_threads)
    return exact_sum(per_row)


def penalties(A: FloatArray, biases: FloatArray, counts: Int64Array | None, weighted: float,
              prior: FloatArray | None = None) -> tuple[Fraction, Fraction]:
    """(Σ w ‖a - m‖², Σ b²) over the rows of A (exact), w = counts^weighted, m the prior."""
    norms = row_norms(A if prior is None else A - prior)
    if weighted:
        norms *= counts.astype(np.float64) ** weighted  # type: ignore[union-attr]  # given
    return exact_sum(norms), exact_sum(np.square(biases, dtype=np.float64))


def objective(sse: Fraction, penalty: Fraction, bias_sq: Fraction, p: BiasedParams,
              feature_sq: Fraction | int = 0) -> float:
    """The training objective from its exact parts: sse + λ penalty + λ_b bias_sq + λ_f ‖E‖²."""
    return float(sse + Fraction(p.regularization) * penalty
                 + Fraction(p.bias_regularization) * bias_sq + feature_sq)


def validation_rmse(ratings: Float64Array, predictions: FloatArray,
                    rating_range: tuple[float, float]) -> float:
    """RMSE of predictions of held-out ratings, clipped to the training rating range as
    ``predict`` clips them (float64 errors)."""
    e = ratings - np.clip(predictions, *rating_range)
    return float(np.sqrt(np.dot(e, e) / len(e)))
