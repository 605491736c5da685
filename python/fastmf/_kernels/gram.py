"""Gram matrices (cpp/gram.hpp): AᵀA as the sum, in a fixed order, of the products of fixed
chunks of rows, so that one machine and a cluster (which holds the rows in blocks) get the
same bits whatever the thread count."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _core
from .arrays import sum_in_order

if TYPE_CHECKING:
    from .._typing import FloatArray

# Rows per Gram chunk: YᵀY is the sum, in chunk order, of the products of these chunks.
GRAM_CHUNK = 4096


def gram_chunks(A: FloatArray, num_threads: int) -> FloatArray:
    """(n_chunks, k, k): the Gram matrix of each chunk of GRAM_CHUNK rows of A (C++)."""
    n_chunks, k = -(-len(A) // GRAM_CHUNK), A.shape[1]
    out = np.empty((n_chunks * k, k), dtype=A.dtype)
    _core.gram_chunks(A, GRAM_CHUNK, out, num_threads)
    return out.reshape(n_chunks, k, k)


def gram(A: FloatArray, num_threads: int) -> FloatArray:
    """AᵀA: the chunks' Gram matrices summed in chunk order (deterministic, whatever the
    thread count; no BLAS threads beside fastmf's own)."""
    k = A.shape[1]
    return sum_in_order(gram_chunks(A, num_threads), (k, k), A.dtype)
