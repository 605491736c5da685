"""Implicit ALS half-steps (Cholesky, CG, block) and top-n serving against their numpy twins.

On the 1M-rating case of conftest.py (values as counts, alpha 1, k = 64, float32):
``implicit_als_half_step``, ``implicit_als_cg_step`` (3 steps) and
``implicit_als_block_step`` (one sweep, b = 32) against
``tests.reference.implicit_half_step_sparse`` (the YᵀY trick, systems solved 1024 rows at
a time), ``implicit_cg_step`` (CG on all rows of a block at once, sparse products) and
``implicit_block_step_batched`` (1024 rows' systems formed, each coordinate block solved
for all of them in one call); all sides compute YᵀY in the timed call.
and ``topk_filtered`` for 1,000 users, over every item and over an allow list of half of them,
against numpy's product plus ``argpartition``. Each
benchmark also checks that the two sides agree.
Run from the repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import numpy as np
import pytest

from fastmf import _core
from fastmf._kernels.gram import gram
from tests import reference

from .conftest import (NUMPY_BLAS_THREADS, assert_agree, bench_ratings, ratings_data, size_label,
                       threadpool_limits)

K, THREADS, REG, CG_STEPS, N_TOP, TOP_USERS, BLOCK = 64, 2, np.float32(0.05), 3, 10, 1000, 32
ONE = np.float32(1.0)              # alpha: the case's values are the confidences c - 1
ZERO = np.float32(0.0)             # base = 1 - α0 with α0 = 1
NO_PRIOR = np.zeros((0, K), np.float32)  # no side features: every row shrunk toward 0


@pytest.fixture(scope="module")
def case():
    data = ratings_data(bench_ratings())
    rng = np.random.default_rng(4)
    R = data.by_user.astype(np.float32)
    Y = (rng.standard_normal((data.n_items, K)) * 0.1).astype(np.float32)
    return dict(R=R, Y=Y, n_users=data.n_users, label=size_label(data.nnz),
                X0=(rng.standard_normal((data.n_users, K)) * 0.1).astype(np.float32))


def _numpy(fn):
    """Run the twin with its BLAS on the thread count that is fastest for it."""
    if threadpool_limits is None:
        return fn()
    with threadpool_limits(limits=NUMPY_BLAS_THREADS, user_api="blas"):
        return fn()


def _group(benchmark, case, kernel, impl, rows):
    benchmark.group = f"{kernel} {case['label']} k={K} float32 threads={THREADS}"
    benchmark.extra_info.update(kernel=kernel, impl=impl, k=K, threads=THREADS, rows=rows)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_implicit_cholesky_half_step(benchmark, case, impl):
    R, Y = case["R"], case["Y"]
    _group(benchmark, case, "implicit_als_half_step", impl, case["n_users"])

    def cpp():
        X = np.zeros((case["n_users"], K), np.float32)
        reg = np.full(case["n_users"], REG)
        assert _core.implicit_als_half_step(R.indptr, R.indices, R.data, ONE, ZERO, Y,
                                            gram(Y, THREADS), reg, NO_PRIOR, X, THREADS) == -1
        return X

    numpy = lambda: _numpy(lambda: reference.implicit_half_step_sparse(  # noqa: E731
        R.indptr, R.indices, R.data, Y, REG))
    run = {"cpp": cpp, "numpy": numpy}
    result = benchmark.pedantic(run[impl], rounds=3 if impl == "cpp" else 2,
                                warmup_rounds=int(impl == "cpp"))
    assert_agree([result], [_once(case, "cholesky", run, impl)], np.float32)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_implicit_cg_step(benchmark, case, impl):
    R, Y = case["R"], case["Y"]
    _group(benchmark, case, "implicit_als_cg_step", impl, case["n_users"])

    def cpp():
        X = case["X0"].copy()
        _core.implicit_als_cg_step(R.indptr, R.indices, R.data, ONE, ZERO, Y, gram(Y, THREADS),
                                   np.full(case["n_users"], REG), NO_PRIOR, X, CG_STEPS,
                                   THREADS)
        return X

    numpy = lambda: _numpy(lambda: reference.implicit_cg_step(  # noqa: E731
        R.indptr, R.indices, R.data, Y, REG, case["X0"], CG_STEPS))
    run = {"cpp": cpp, "numpy": numpy}
    result = benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)
    assert_agree([result], [_once(case, "cg", run, impl)], np.float32)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_implicit_block_step(benchmark, case, impl):
    R, Y = case["R"], case["Y"]
    _group(benchmark, case, f"implicit_als_block_step(b={BLOCK})", impl, case["n_users"])
    reg = np.full(case["n_users"], REG)

    def cpp():
        X = case["X0"].copy()
        assert _core.implicit_als_block_step(R.indptr, R.indices, R.data, ONE, ZERO, Y,
                                             gram(Y, THREADS), reg, X, BLOCK, THREADS) == -1
        return X

    numpy = lambda: _numpy(lambda: reference.implicit_block_step_batched(  # noqa: E731
        R.indptr, R.indices, R.data, ONE, ZERO, Y, Y.T @ Y, reg, case["X0"], BLOCK))
    run = {"cpp": cpp, "numpy": numpy}
    result = benchmark.pedantic(run[impl], rounds=3 if impl == "cpp" else 2,
                                warmup_rounds=int(impl == "cpp"))
    assert_agree([result], [_once(case, "block", run, impl)], np.float32)


@pytest.mark.parametrize("allowed", [False, True])
@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_topk(benchmark, case, impl, allowed):
    R, Y = case["R"], case["Y"]
    users = min(TOP_USERS, case["n_users"])
    # allowed: an allow list of every other item (topk_filtered gathers them chunk by chunk)
    name = "topk_filtered(allow list of half the items" if allowed else "topk_filtered(every item"
    _group(benchmark, case, f"{name}, {users} users, n={N_TOP})", impl, users)
    Q = case["X0"][:users]
    indptr, indices = R.indptr[:users + 1], R.indices[:R.indptr[users]]
    candidates = np.arange(0, len(Y), 2, dtype=np.int32) if allowed else np.arange(len(Y))
    zeros_q, zeros_i = np.zeros(users, np.float32), np.zeros(len(Y), np.float32)
    items = np.empty((users, N_TOP), np.int32)
    scores = np.empty((users, N_TOP), np.float32)

    def numpy_topk():
        full = np.full((users, len(Y)), -np.inf, np.float32)
        full[:, candidates] = Q @ Y[candidates].T
        full[np.repeat(np.arange(users), np.diff(indptr)), indices] = -np.inf
        top = np.argpartition(-full, N_TOP - 1, axis=1)[:, :N_TOP]
        order = np.argsort(-np.take_along_axis(full, top, 1), axis=1)
        return np.take_along_axis(top, order, 1)

    def cpp():
        _core.topk_filtered(Q, zeros_q, Y, zeros_i, not allowed,
                            candidates.astype(np.int32), indptr, indices,
                            np.zeros(0, np.int32), 0, len(Y), items, scores, THREADS)
        return items.copy()

    run = {"cpp": cpp, "numpy": lambda: _numpy(numpy_topk)}
    result = benchmark.pedantic(run[impl], rounds=5, warmup_rounds=1)
    other = _once(case, f"topk{allowed}", run, impl)
    # The same items by rank up to float32 near-ties: the exact scores of both lists agree.
    # (A user with fewer than n candidates left: C++ pads with -1, numpy's argpartition
    # picks -inf items; those places are left out.)
    exact = Q.astype(np.float64) @ Y.T.astype(np.float64)
    invalid = np.ones(exact.shape, bool)
    invalid[:, candidates] = False
    invalid[np.repeat(np.arange(users), np.diff(indptr)), indices] = True
    cpp_items, numpy_items = (result, other) if impl == "cpp" else (other, result)
    valid = (cpp_items >= 0) & ~np.take_along_axis(invalid, numpy_items.astype(np.int64), 1)
    np.testing.assert_allclose(np.take_along_axis(exact, cpp_items.astype(np.int64), 1)[valid],
                               np.take_along_axis(exact, numpy_items.astype(np.int64), 1)[valid],
                               atol=1e-5)
    assert valid.sum() > 0.9 * valid.size


_cache = {}


def _once(case, name, run, impl):
    """The other side's result, computed once per case (untimed)."""
    other = "numpy" if impl == "cpp" else "cpp"
    key = (id(case), name, other)
    if key not in _cache:
        _cache[key] = run[other]()
    return _cache[key]
