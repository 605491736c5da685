"""Implicit-feedback ALS (cpp/implicit_als.hpp, cpp/implicit_block.hpp): the row solve by
Cholesky, conjugate gradient or blocks of coordinates (iALS++), the observed part of the loss,
and the frequency-scaled regularization, on any block of rows.

What ImplicitALS on one machine and ``fastmf.distributed`` compute with, so that a cluster's
blocks give the one-machine bits. The loss is taken in three exact parts: α0 Σ_{u,i} (x·y)²
from the Gram matrices, the observed pairs' part beyond it, and λ Σ (n + α0 N)^ν ‖·‖².
"""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .. import _core
from .arrays import NO_ROWS, exact_sum, row_norms

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from .._typing import Float64Array, FloatArray, Int64Array
    from ..data import Csr
    from ..models._params import ImplicitParams


def row_weights(counts: Int64Array, n_other: int, p: ImplicitParams) -> Float64Array:
    """(n + α0 N)^ν per row in float64: n the row's observed pairs, N = ``n_other`` the
    rows of the other side, α0 = ``p.unobserved_weight``, ν = ``p.regularization_exponent``
    (ν = 0: all 1)."""
    n = counts.astype(np.float64) + p.unobserved_weight * n_other
    return n ** p.regularization_exponent


def row_regularization(counts: Int64Array, n_other: int, p: ImplicitParams, dtype: DTypeLike
                       ) -> FloatArray:
    """λ_u = λ (n_u + α0 N)^ν of every row, in ``dtype`` (see ``row_weights``)."""
    return (p.regularization * row_weights(counts, n_other, p)).astype(dtype)


def solve_rows(C: Csr, Y: FloatArray, YtY: FloatArray, X: FloatArray, p: ImplicitParams,
               prior: FloatArray | None = None, row_loss: Float64Array | None = None) -> int:
    """The implicit row solve of every row of C (a Csr of the values v, c = 1 + α v, column
    indices into Y) against the fixed Y with YtY = YᵀY (unscaled; α0 is applied here),
    written into X: exactly (Cholesky), by ``p.cg_steps`` CG steps from X or by one sweep
    over blocks of ``p.block_size`` coordinates from X. Each row u
    gets its λ_u (``row_regularization``) and is shrunk toward ``prior[u]`` (None: toward 0;
    the block solver takes no prior). ``row_loss`` (float64, a value per row), when given,
    receives each row's observed pairs' part of the loss beyond the all-pairs term under its
    new factors (from the rows the solve just read; the block solver: from its kept
    predictions): after an iteration's second half-step, the loss's observed part (summed
    exactly with ``exact_sum``) without a pass of its own. Returns -1 or the first row whose
    Cholesky failed."""
    dtype = Y.dtype.type
    if prior is None:
        prior = np.zeros((0, Y.shape[1]), dtype=dtype)
    elif p.solver == "block":
        raise ValueError("solver='block' does not take side features; use solver='cholesky' "
                         "or solver='cg' with user_features or item_features")
    G = YtY * dtype(p.unobserved_weight)                   # α0 YᵀY (exact for α0 = 1)
    reg = row_regularization(C.counts(), len(Y), p, dtype)
    alpha, base = dtype(p.alpha), dtype(1.0 - p.unobserved_weight)
    loss = (dtype(p.unobserved_weight), NO_ROWS if row_loss is None else row_loss)
    if p.solver == "cg":
        _core.implicit_als_cg_step(C.indptr, C.indices, C.data, alpha, base, Y, G, reg, prior,
                                   X, p.cg_steps, p.num_threads, *loss)
        return -1
    if p.solver == "block":
        return _core.implicit_als_block_step(C.indptr, C.indices, C.data, alpha, base, Y, G, reg,
                                             X, p.block_size, p.num_threads, *loss)
    return _core.implicit_als_half_step(C.indptr, C.indices, C.data, alpha, base, Y, G, reg,
                                        prior, X, p.num_threads, *loss)


def penalty(counts: Int64Array, n_other: int, A: FloatArray, p: ImplicitParams) -> Fraction:
    """Σ_u (n_u + α0 N)^ν ‖a_u‖² over the rows of A (exact): λ times it is their part of the
    regularization term (see ``row_weights``)."""
    norms = row_norms(A)
    if p.regularization_exponent:
        norms *= row_weights(counts, n_other, p)
    return exact_sum(norms)


def objective(XtX: FloatArray, YtY: FloatArray, observed: Fraction, penalties: Fraction,
              p: ImplicitParams, extra: Fraction | int = 0) -> float:
    """α0 Σ_{u,i} (x·y)² + the observed part + λ Σ (n + α0 N)^ν ‖·‖² (+ ``extra``: the
    feature maps' penalty), from the Gram matrices, the observed part (the second half-step's
    ``row_loss`` of ``solve_rows``, summed) and the penalties of both sides (``penalty``)."""
    XtX, YtY = XtX.astype(np.float64), YtY.astype(np.float64)
    all_pairs = exact_sum(XtX * YtY)                          # Σ_u x_uᵀ(YᵀY)x_u
    return float(Fraction(p.unobserved_weight) * all_pairs + observed
                 + Fraction(p.regularization) * penalties + extra)
