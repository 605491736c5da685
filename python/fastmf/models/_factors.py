"""The starting factors of a fit, shared by the models and ``fastmf.distributed`` (the same
seed draws the same bits): cache-aligned N(0, std²) draws, with the memory they need, and
that of the row solves' per-thread scratch, checked before anything is allocated."""
from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np

from .. import _validation as v
from .._kernels.arrays import cache_aligned
from .._kernels.common import max_threads

if TYPE_CHECKING:
    from typing import Literal

    from numpy.typing import DTypeLike

    from .._typing import FloatArray, FloatType


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
    threads = num_threads or max_threads()
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
