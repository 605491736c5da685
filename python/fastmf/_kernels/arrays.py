"""The arrays the kernels take, and the sums of what they return, shared by a fit on one
machine and a fit on a cluster (fastmf.distributed) so that both compute the same bits:
cache-aligned matrices, squared row norms, and sums whose value does not depend on how the
numbers are split into parts."""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .. import _core

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from numpy.typing import ArrayLike, DTypeLike, NDArray

    from .._typing import Float64Array


# The empty float64 array a kernel takes for a per-row output that is not wanted (the row
# losses of solve_rows).
NO_ROWS = np.empty(0, dtype=np.float64)


def cache_aligned(array: NDArray[Any], alignment: int = 64) -> NDArray[Any]:
    """A C-contiguous copy of ``array`` whose data starts on a cache-line boundary, so that
    a row of 64 float32 spans 4 cache lines, not 5 (numpy's large arrays start 16 bytes
    past one)."""
    out = aligned_empty(array.shape, array.dtype, alignment)
    out[...] = array
    return out


def aligned_empty(shape: tuple[int, ...], dtype: DTypeLike, alignment: int = 64
                  ) -> NDArray[Any]:
    """An uninitialized C-contiguous array whose data starts on a cache-line boundary (see
    ``cache_aligned``), to be filled in place."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffer = np.empty(nbytes + alignment, dtype=np.uint8)
    offset = -buffer.ctypes.data % alignment
    return buffer[offset:offset + nbytes].view(dtype).reshape(shape)


def sum_in_order(parts: Iterable[NDArray[Any]], shape: tuple[int, ...], dtype: DTypeLike
                 ) -> NDArray[Any]:
    """The sum of the arrays in ``parts``, added one after another from zero."""
    out = np.zeros(shape, dtype=dtype)
    for part in parts:
        out += part
    return out


def row_norms(A: NDArray[np.floating[Any]]) -> Float64Array:
    """‖a‖² of every row of A in float64 (C++: the same four partial sums of each row in every
    build, so its value is the same whichever block, matrix or machine holds it)."""
    A = np.asarray(A)
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    A = np.ascontiguousarray(A)
    out = np.empty(len(A), dtype=np.float64)
    _core.row_squared_norms(A, out, 1)
    return out


def exact_sum(values: ArrayLike) -> Fraction:
    """The exact sum of float values, as a Fraction: sums of parts add up to the sum of the
    whole, however the values are split, and ``float()`` of it is correctly rounded.

    A finite float64 is ±m·2^(e - 1075) with integers m < 2^53 and e (its biased exponent,
    1 for subnormals). C++ adds m's three 18-bit digits, signed, into int64 sums by digit
    and exponent (exact for fewer than 2^45 values); the sum is those sums shifted into
    place."""
    x = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if len(x) >= 1 << 44:
        half = len(x) // 2
        return exact_sum(x[:half]) + exact_sum(x[half:])
    digits = np.zeros((3, 2048), dtype=np.int64)
    if not _core.exact_sum_digits(x, digits):
        raise ValueError("exact_sum needs finite values")
    total = 0                                        # the sum, in units of 2^-1074
    for d, e in zip(*np.nonzero(digits)):
        total += int(digits[d, e]) << (18 * int(d) + int(e) - 1)
    return Fraction(total, 1 << 1074)


def exact_mean(values: NDArray[Any]) -> float:
    """The mean of float values, correctly rounded to float64."""
    return float(exact_sum(values) / len(values))
