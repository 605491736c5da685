"""Hogwild SGD for the explicit, biased model (cpp/sgd.hpp): the ratings laid out in blocks
(``fastmf.models.sgd.block_layout`` chooses the grid), and one epoch over them, the factors
updated in place."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _core

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import DTypeLike, NDArray

    from .._typing import FloatArray, Int32Array, Int64Array
    from ..data import Interactions
    from ..models._params import SGDParams


def layout(data: Interactions, user_block: Int32Array, item_block: Int32Array, side: int,
           seed: int, dtype: DTypeLike, num_threads: int
           ) -> tuple[Int64Array, NDArray[Any], NDArray[Any], FloatArray]:
    """(block_ptr, uidx, iidx, ratings): the ratings of ``data`` grouped into the side x side
    grid of blocks (user u in row ``user_block[u]``, item i in column ``item_block[i]``),
    block by block, each block in the random order of ``seed``."""
    by_user = data.by_user
    ratings = np.ascontiguousarray(by_user.data, dtype=dtype)
    block_ptr = np.empty(side * side + 1, dtype=np.int64)
    uidx = np.empty(data.nnz, dtype=np.int32)
    iidx = np.empty(data.nnz, dtype=np.int32)
    values = np.empty(data.nnz, dtype=dtype)
    _core.sgd_block_layout(by_user.indptr, by_user.indices, ratings, user_block, item_block,
                           side, seed, block_ptr, uidx, iidx, values, num_threads)
    return block_ptr, uidx, iidx, values


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
