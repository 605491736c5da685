"""Shared inputs of the kernel benchmarks: one synthetic case per (size, k, dtype).

The default case is ``make_ratings(10_000, 5_000, 1_000_000, seed=0)``: about 100
ratings per user, the user side of an ALS iteration. ``FASTMF_BENCH_RATINGS`` sets the
number of ratings (users and items shrink or grow with it at the same ratings per user),
so a smoke run takes seconds::

    FASTMF_BENCH_RATINGS=50000 pytest bench --benchmark-only

Each case offers ``run["cpp"]`` and ``run["numpy"]`` (the C++ kernel and its numpy twin
in ``tests.reference``) and ``fresh(num_threads)``, which returns new ``(args, kwargs)``
for either of them: the same inputs and freshly zeroed outputs, so an in-place kernel
starts from the same state in every round.
"""
import functools
import os
from dataclasses import dataclass

import numpy as np
import pytest

import fastmf
from fastmf import _core
from fastmf._kernels.arrays import cache_aligned
from tests import reference

DEFAULT_RATINGS = 1_000_000
RATINGS_PER_USER = 100
REG, BIAS_REG, WEIGHTED = 1.0, 3.0, 0.5   # fastmf.ALS defaults: row_reg = REG * n_u**0.5
# The twin's matrix products are (k+1)-sized: BLAS threads only slow them down (measured
# 0.10 s with 1 thread and 1.74 s with 2 at k=64), so numpy always gets its best, 1 thread.
NUMPY_BLAS_THREADS = 1

try:
    from threadpoolctl import threadpool_limits
except ImportError:                # not a dependency: BLAS then runs with its own default
    threadpool_limits = None

BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def bench_ratings():
    return int(os.environ.get("FASTMF_BENCH_RATINGS", DEFAULT_RATINGS))


def shape_for(n_ratings):
    """(n_users, n_items) with ~100 ratings per user and a matrix at least half empty."""
    n_users = max(n_ratings // RATINGS_PER_USER, 1)
    n_items = max(n_ratings // (2 * RATINGS_PER_USER), -(-2 * n_ratings // n_users))
    return n_users, n_items


def size_label(n):
    """1_000_000 -> "1M", 50_000 -> "50k", 1500 -> "1500"."""
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if n >= scale and n % (scale // 10) == 0:
            return f"{n / scale:g}{unit}"
    return str(n)


@functools.lru_cache(maxsize=None)
def ratings_data(n_ratings):
    return fastmf.datasets.make_ratings(*shape_for(n_ratings), n_ratings, seed=0)


def blas_info(num_threads):
    """What the numpy twin's BLAS threads are: set here, or left to the environment."""
    if threadpool_limits is not None:
        return {"blas_threads": NUMPY_BLAS_THREADS, "blas_threads_set_by": "threadpoolctl"}
    env = {name: os.environ.get(name, "unset") for name in BLAS_ENV}
    return {"blas_threads": "library default (threadpoolctl not installed)", **env}


def numpy_half_step(indptr, indices, ratings, Y, y_bias, mu, row_reg, bias_reg, prior, X,
                    x_bias, num_threads):
    """The numpy twin with the C++ kernel's signature (row_reg is recomputed from n_u)."""
    del row_reg, prior, X, x_bias, num_threads   # the twin computes REG * n_u**0.5, returns new arrays
    if threadpool_limits is None:
        return reference.als_half_step(indptr, indices, ratings, Y, y_bias, mu, REG, bias_reg,
                                       WEIGHTED)
    with threadpool_limits(limits=NUMPY_BLAS_THREADS, user_api="blas"):
        return reference.als_half_step(indptr, indices, ratings, Y, y_bias, mu, REG, bias_reg,
                                       WEIGHTED)


@dataclass
class AlsCase:
    """One user-side half-step: ratings by user against fixed item factors Y."""

    label: str
    n_rows: int
    n_cols: int
    nnz: int
    k: int
    dtype: type
    inputs: tuple          # indptr, indices, ratings, Y, y_bias, mu, row_reg, bias_reg, prior

    run = {"cpp": _core.als_half_step, "numpy": numpy_half_step}

    def fresh(self, num_threads):
        X = np.zeros((self.n_rows, self.k), dtype=self.dtype)
        x_bias = np.zeros(self.n_rows, dtype=self.dtype)
        return (*self.inputs, X, x_bias), {"num_threads": num_threads}

    def output(self, impl, num_threads=2):
        """(X, x_bias) of one call of ``impl``: the other side's figures to agree with."""
        args, kwargs = self.fresh(num_threads)
        result = self.run[impl](*args, **kwargs)
        return result if impl == "numpy" else args[-2:]

    def extra_info(self, impl, num_threads):
        info = {"kernel": "als_half_step", "impl": impl, "size": self.label,
                "n_rows": self.n_rows, "n_cols": self.n_cols, "nnz": self.nnz, "k": self.k,
                "dtype": np.dtype(self.dtype).name, "threads": num_threads}
        if impl == "numpy":
            info.update(blas_info(num_threads))
        return info


def assert_agree(got, want, dtype):
    """A benchmark that times a wrong answer fails: the C++ kernel's and the twin's
    results agree to the dtype's precision."""
    rtol, atol = (1e-3, 1e-4) if np.dtype(dtype) == np.float32 else (1e-8, 1e-10)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64),
                                   rtol=rtol, atol=atol)


@functools.lru_cache(maxsize=None)
def als_case(n_ratings, k, dtype):
    data = ratings_data(n_ratings)
    R = data.by_user.astype(dtype)
    rng = np.random.default_rng(1)
    # Cache-line aligned, as fastmf.ALS allocates its factors: numpy's large arrays start
    # 16 bytes past a line, which splits every other 32-byte load of a row in two.
    Y = cache_aligned((rng.standard_normal((data.n_items, k)) * 0.1).astype(dtype))
    y_bias = (rng.standard_normal(data.n_items) * 0.1).astype(dtype)
    mu = dtype(np.mean(data.ratings))
    row_reg = (REG * R.counts() ** WEIGHTED).astype(dtype)
    no_prior = np.zeros((0, k), dtype=dtype)
    inputs = (R.indptr, R.indices, R.data, Y, y_bias, mu, row_reg, dtype(BIAS_REG), no_prior)
    return AlsCase(size_label(n_ratings), data.n_users, data.n_items, data.nnz, k, dtype, inputs)


@pytest.fixture(scope="session")
def als_cases():
    """``als_cases(k, dtype)``: the cached case at the configured number of ratings."""
    return lambda k, dtype: als_case(bench_ratings(), k, dtype)
