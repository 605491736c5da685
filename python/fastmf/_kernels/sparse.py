"""Pairs to CSR (cpp/sparse.hpp): the counting sort that builds every CSR of fastmf."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _core

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import Int32Array, Int64Array


def pairs_to_csr(rows: NDArray[np.integer[Any]], cols: NDArray[np.integer[Any]],
                 values: NDArray[Any], n_rows: int, positions: bool = False
                 ) -> tuple[Int64Array, Int32Array, NDArray[Any], Int64Array | None]:
    """(indptr, indices, data, input positions or None): the pairs by row, columns ascending,
    repeated pairs together in input order. A C++ counting sort, no argsort of the whole
    input, so the peak memory stays near the input's own size."""
    rows, cols = (np.ascontiguousarray(a, dtype=np.int32) for a in (rows, cols))
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    indices, data = np.empty(len(rows), dtype=np.int32), np.empty_like(values)
    position = np.empty(len(rows) if positions else 0, dtype=np.int64)
    _core.coo_to_csr(rows, cols, np.ascontiguousarray(values), indptr, indices, data, position, 0)
    return indptr, indices, data, position if positions else None
