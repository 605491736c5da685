"""Hogwild SGD for the explicit, biased model (cpp/sgd.hpp): one epoch over the ratings laid
out in blocks (``fastmf.models.sgd.block_layout``), the factors updated in place."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _core

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import FloatArray, Int32Array, Int64Array
    from ..models._params import SGDParams


def epoch(layout: tuple[Int64Array, NDArray[Any], NDArray[Any], FloatArray], order: Int32Array,
          X: FloatArray, xb: FloatArray, Y: FloatArray, yb: FloatArray, mu: float, lr: float,
          p: SGDParams) -> float:
    """One epoch with step ``lr``: the blocks of ``layout`` = (block_ptr, uidx, iidx, ratings)
    visited in ``order``, each rating's step taken on (X, xb, Y, yb) in place. Returns the
    sum of the squared errors, each taken just before its step (non-finite when the epoch
    diverged)."""
    block_ptr, uidx, iidx, ratings = layout
    dtype = p.dtype
    return _core.sgd_epoch(block_ptr, order, uidx, iidx, ratings, X, xb, Y, yb, dtype(mu),
                           dtype(lr), dtype(p.regularization), dtype(p.bias_regularization),
                           p.num_threads)
