"""Implicit ALS half-steps (Cholesky and CG) and top-n serving against their numpy twins.

On the 1M-rating case of conftest.py (values as counts, alpha 1, k = 64, float32):
``implicit_als_half_step`` and ``implicit_als_cg_step`` (3 steps) against
``tests.reference.implicit_half_step_sparse`` / ``implicit_cg_step`` (the same YᵀY trick,
row by row; the CG twin on the first 1,000 users, scaled by the row count in extra_info),
``implicit_observed_loss`` against ``implicit_observed_loss`` of the reference (vectorized
numpy over the nonzeros), and ``topk_scores`` for 1,000 users against numpy's product plus ``argpartition``.
Run from the repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import numpy as np
import pytest

from fastmf import _core
from tests import reference

from .conftest import NUMPY_BLAS_THREADS, bench_ratings, ratings_data, size_label, threadpool_limits

K, THREADS, REG, CG_STEPS, N_TOP, TOP_USERS = 64, 2, np.float32(0.05), 3, 10, 1000
ONE = np.float32(1.0)              # alpha: the case's values are the confidences c - 1


@pytest.fixture(scope="module")
def case():
    data = ratings_data(bench_ratings())
    rng = np.random.default_rng(4)
    R = data.by_user.astype(np.float32)
    Y = (rng.standard_normal((data.n_items, K)) * 0.1).astype(np.float32)
    return dict(R=R, Y=Y, YtY=Y.T @ Y, n_users=data.n_users, label=size_label(data.nnz),
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
    X = np.zeros((case["n_users"], K), np.float32)
    run = {"cpp": lambda: _core.implicit_als_half_step(R.indptr, R.indices, R.data, ONE, Y,
                                                       case["YtY"], REG, X, THREADS),
           "numpy": lambda: _numpy(lambda: reference.implicit_half_step_sparse(
               R.indptr, R.indices, R.data, Y, REG))}
    benchmark.pedantic(run[impl], rounds=3 if impl == "cpp" else 1, warmup_rounds=int(impl == "cpp"))


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_implicit_cg_step(benchmark, case, impl):
    R, Y = case["R"], case["Y"]
    # The Python-loop twin runs on the first rows only; both sides do the same rows.
    rows = 1000
    indptr = R.indptr[:rows + 1]
    _group(benchmark, case, f"implicit_als_cg_step({rows} rows)", impl, rows)
    X = case["X0"][:rows].copy()
    run = {"cpp": lambda: _core.implicit_als_cg_step(indptr, R.indices, R.data, ONE, Y, case["YtY"],
                                                     REG, X, CG_STEPS, THREADS),
           "numpy": lambda: reference.implicit_cg_step(indptr, R.indices, R.data, Y, REG,
                                                       case["X0"][:rows], CG_STEPS)}
    benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_implicit_observed_loss(benchmark, case, impl):
    R, Y, X = case["R"], case["Y"], case["X0"]
    _group(benchmark, case, "implicit_observed_loss", impl, case["n_users"])
    out = np.empty(case["n_users"])
    run = {"cpp": lambda: _core.implicit_observed_loss(R.indptr, R.indices, R.data, ONE, X, Y,
                                                       out, THREADS),
           "numpy": lambda: reference.implicit_observed_loss(R.indptr, R.indices, R.data, X, Y)}
    benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_topk(benchmark, case, impl):
    R, Y = case["R"], case["Y"]
    _group(benchmark, case, f"topk_scores({TOP_USERS} users, n={N_TOP})", impl, TOP_USERS)
    Q = case["X0"][:TOP_USERS]
    indptr, indices = R.indptr[:TOP_USERS + 1], R.indices[:R.indptr[TOP_USERS]]
    zeros_q, zeros_i = np.zeros(TOP_USERS, np.float32), np.zeros(len(Y), np.float32)
    items = np.empty((TOP_USERS, N_TOP), np.int32)
    scores = np.empty((TOP_USERS, N_TOP), np.float32)

    def numpy_topk():
        full = Q @ Y.T
        rows = np.repeat(np.arange(TOP_USERS), np.diff(indptr))
        full[rows, indices] = -np.inf
        top = np.argpartition(-full, N_TOP - 1, axis=1)[:, :N_TOP]
        order = np.argsort(-np.take_along_axis(full, top, 1), axis=1)
        return np.take_along_axis(top, order, 1)

    run = {"cpp": lambda: _core.topk_scores(Q, zeros_q, Y, zeros_i, indptr, indices, items, scores,
                                            THREADS),
           "numpy": lambda: _numpy(numpy_topk)}
    benchmark.pedantic(run[impl], rounds=5, warmup_rounds=1)
