"""Array helpers that a fit on one machine and a fit on a cluster (fastmf.distributed) share,
so that both compute the same bits: aligned factor matrices and their random start, Gram
matrices summed over fixed chunks of rows, and sums whose value does not depend on how
the numbers are split into parts."""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, overload

import numpy as np

from .. import _core
from .. import _validation as v

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Literal

    from numpy.typing import ArrayLike, DTypeLike, NDArray

    from .._typing import FloatArray, FloatType

# Rows per Gram chunk: YᵀY is the sum, in chunk order, of the products of these chunks.
GRAM_CHUNK = 4096


def cache_aligned(array: NDArray[Any], alignment: int = 64) -> NDArray[Any]:
    """A C-contiguous copy of ``array`` whose data starts on a cache-line boundary, so that
    a row of 64 float32 spans 4 cache lines, not 5 (numpy's large arrays start 16 bytes
    past one)."""
    buffer = np.empty(array.nbytes + alignment, dtype=np.uint8)
    offset = -buffer.ctypes.data % alignment
    out = buffer[offset:offset + array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    return out


def factor_bytes(n_rows: int, factors: int, dtype: DTypeLike) -> int:
    """The peak bytes of drawing an (n_rows, factors) start: the float64 draws, their copy
    in ``dtype`` and its aligned copy."""
    return n_rows * factors * (8 + 2 * np.dtype(dtype).itemsize)


def normal_factors(rng: np.random.Generator, n_rows: int, factors: int, std: float,
                   dtype: FloatType) -> FloatArray:
    """A cache-aligned (n_rows, factors) matrix of N(0, std²) draws from ``rng``, in dtype
    (MemoryError first when it cannot fit)."""
    v.check_memory(f"{n_rows} x {factors} factors", factor_bytes(n_rows, factors, dtype))
    return cache_aligned(rng.normal(0.0, std, size=(n_rows, factors)).astype(dtype))


def check_solver_memory(factors: int, dtype: DTypeLike, num_threads: int) -> None:
    """MemoryError when the row solves' per-thread scratch (k x k systems, their inverse
    blocks, gathered rows: two 2 MB buffers with negative implicit weights) cannot fit,
    before any is allocated."""
    threads = num_threads or _core.max_threads()
    k = factors + 8
    per_thread = 4 * k * k * np.dtype(dtype).itemsize + (6 << 20)
    v.check_memory(f"solving rows of {factors} factors on {threads} threads",
                   threads * per_thread)


@overload
def init_factors(rng: np.random.Generator, n_users: int, n_items: int, factors: int, std: float,
                 dtype: FloatType, users: Literal[True] = True, users_first: bool = False
                 ) -> tuple[FloatArray, FloatArray]: ...


@overload
def init_factors(rng: np.random.Generator, n_users: int, n_items: int, factors: int, std: float,
                 dtype: FloatType, users: bool, users_first: bool = False
                 ) -> tuple[FloatArray | None, FloatArray]: ...


def init_factors(rng: np.random.Generator, n_users: int, n_items: int, factors: int, std: float,
                 dtype: FloatType, users: bool = True, users_first: bool = False
                 ) -> tuple[FloatArray | None, FloatArray]:
    """The starting factors (X, Y) of every model, N(0, std²) draws from ``rng``: Y is drawn
    first, then X (X first with ``users_first``, as BPR draws them). X is None when ``users``
    is false: a solver that overwrites X before reading it needs none."""
    v.check_memory(f"{n_users} + {n_items} rows of {factors} factors",
                   factor_bytes(n_items + (n_users if users else 0), factors, dtype))
    X = normal_factors(rng, n_users, factors, std, dtype) if users and users_first else None
    Y = normal_factors(rng, n_items, factors, std, dtype)
    if users and not users_first:
        X = normal_factors(rng, n_users, factors, std, dtype)
    return X, Y


def gram_chunks(A: FloatArray, num_threads: int) -> FloatArray:
    """(n_chunks, k, k): the Gram matrix of each chunk of GRAM_CHUNK rows of A (C++)."""
    n_chunks, k = -(-len(A) // GRAM_CHUNK), A.shape[1]
    out = np.empty((n_chunks * k, k), dtype=A.dtype)
    _core.gram_chunks(A, GRAM_CHUNK, out, num_threads)
    return out.reshape(n_chunks, k, k)


def sum_in_order(parts: Iterable[NDArray[Any]], shape: tuple[int, ...], dtype: DTypeLike
                 ) -> NDArray[Any]:
    """The sum of the arrays in ``parts``, added one after another from zero."""
    out = np.zeros(shape, dtype=dtype)
    for part in parts:
        out += part
    return out


def gram(A: FloatArray, num_threads: int) -> FloatArray:
    """AᵀA: the chunks' Gram matrices summed in chunk order (deterministic, whatever the
    thread count; no BLAS threads beside fastmf's own)."""
    k = A.shape[1]
    return sum_in_order(gram_chunks(A, num_threads), (k, k), A.dtype)


def exact_sum(values: ArrayLike) -> Fraction:
    """The exact sum of float values, as a Fraction: sums of parts add up to the sum of the
    whole, however the values are split, and ``float()`` of it is correctly rounded.

    A finite float64 is ±m·2^(e - 1075) with integers m < 2^53 and e (its biased exponent,
    1 for subnormals). m is split into three 18-bit digits; digits of equal exponent are
    added by ``np.bincount`` in float64, exact while fewer than 2^35 values share a sum
    (every partial sum stays below 2^53). Chunks of 2^16 values keep the work in cache."""
    x = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if not np.isfinite(x).all():
        raise ValueError("exact_sum needs finite values")
    if len(x) >= 1 << 35:
        half = len(x) // 2
        return exact_sum(x[:half]) + exact_sum(x[half:])
    sums = np.zeros((3, 2048))
    for lo in range(0, len(x), 1 << 16):
        bits = x[lo:lo + (1 << 16)].view(np.int64)
        exponent = (bits >> 52) & 0x7FF
        m = bits & ((1 << 52) - 1)
        m[exponent > 0] |= 1 << 52
        exponent[exponent == 0] = 1
        sign = np.where(bits < 0, -1.0, 1.0)
        for d in range(3):
            digit = ((m >> (18 * d)) & ((1 << 18) - 1)) * sign
            sums[d] += np.bincount(exponent, weights=digit, minlength=2048)
    total = 0                                        # the sum, in units of 2^-1074
    for d, e in zip(*np.nonzero(sums)):
        total += int(sums[d, e]) << (18 * int(d) + int(e) - 1)
    return Fraction(total, 1 << 1074)


def exact_mean(values: NDArray[Any]) -> float:
    """The mean of float values, correctly rounded to float64."""
    return float(exact_sum(values) / len(values))
