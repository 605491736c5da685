"""The smaller kernels against their numpy twins, on the 1M-rating case of conftest.py:
``predict_pairs`` (one prediction per rating), ``row_squared_errors`` (the training loss
of an iteration), ``gram`` (YᵀY of the user factors), on 2 threads, and ``csr_transpose``
(building the by-item CSR, serial) and ``coo_to_csr`` (building the by-user CSR from
shuffled pairs, against a numpy lexsort). Run from the
repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import numpy as np
import pytest

from fastmf import _core
from fastmf.models._arrays import gram
from tests import reference

from .conftest import bench_ratings, ratings_data, size_label

K, DTYPE, THREADS = 64, np.float32, 2


@pytest.fixture(scope="module")
def case():
    data = ratings_data(bench_ratings())
    rng = np.random.default_rng(2)
    R = data.by_user.astype(DTYPE)
    X = (rng.standard_normal((data.n_users, K)) * 0.1).astype(DTYPE)
    Y = (rng.standard_normal((data.n_items, K)) * 0.1).astype(DTYPE)
    xb, yb = np.zeros(data.n_users, DTYPE), np.zeros(data.n_items, DTYPE)
    uidx, iidx = data.uidx.astype(np.int64), R.indices.astype(np.int64)
    return dict(data=data, R=R, X=X, Y=Y, xb=xb, yb=yb, mu=DTYPE(3.5), uidx=uidx, iidx=iidx,
                label=size_label(data.nnz))


def _group(benchmark, case, kernel, impl, threads=THREADS):
    benchmark.group = f"{kernel} {case['label']} k={K} float32 threads={threads}"
    benchmark.extra_info.update(kernel=kernel, impl=impl, nnz=case["data"].nnz, k=K,
                                dtype="float32", threads=threads)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_predict_pairs(benchmark, case, impl):
    _group(benchmark, case, "predict_pairs", impl)
    c = case
    out = np.empty(len(c["uidx"]), DTYPE)
    run = {"cpp": lambda: _core.predict_pairs(c["X"], c["xb"], c["Y"], c["yb"], c["mu"], c["uidx"],
                                              c["iidx"], out, THREADS),
           "numpy": lambda: reference.predict(c["X"], c["xb"], c["Y"], c["yb"], c["mu"], c["uidx"],
                                              c["iidx"])}
    benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_row_squared_errors(benchmark, case, impl):
    _group(benchmark, case, "row_squared_errors", impl)
    c, R = case, case["R"]
    out = np.empty(R.shape[0])
    run = {"cpp": lambda: _core.row_squared_errors(R.indptr, R.indices, R.data, c["X"], c["xb"],
                                                   c["Y"], c["yb"], c["mu"], out, THREADS),
           "numpy": lambda: reference.row_squared_errors(R.indptr, R.indices, R.data, c["X"],
                                                         c["xb"], c["Y"], c["yb"], c["mu"])}
    benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_csr_transpose(benchmark, case, impl):
    _group(benchmark, case, "csr_transpose", impl, threads=1)     # a serial counting pass
    R = case["R"]
    n_cols = R.shape[1]
    out_indptr = reference.csr_transpose(R.indptr, R.indices, R.data, n_cols)[0]
    out_indices, out_data = np.empty_like(R.indices), np.empty_like(R.data)
    run = {"cpp": lambda: _core.csr_transpose(R.indptr, R.indices, R.data, out_indptr,
                                              out_indices, out_data),
           "numpy": lambda: reference.csr_transpose(R.indptr, R.indices, R.data, n_cols)}
    benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_gram(benchmark, case, impl):
    _group(benchmark, case, "gram(user factors)", impl)
    X = case["X"]
    run = {"cpp": lambda: gram(X, THREADS), "numpy": lambda: X.T @ X}
    benchmark.pedantic(run[impl], rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_coo_to_csr(benchmark, case, impl):
    """COO -> CSR with input positions, from the ratings in a shuffled order."""
    _group(benchmark, case, "coo_to_csr", impl)
    order = np.random.default_rng(3).permutation(case["data"].nnz)
    rows = case["uidx"][order].astype(np.int32)
    cols = case["iidx"][order].astype(np.int32)
    values = case["R"].data[order]
    n_rows = case["data"].n_users
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))].astype(np.int64)
    out_cols, out_values = np.empty_like(cols), np.empty_like(values)
    out_pos = np.empty(len(rows), np.int64)
    run = {"cpp": lambda: _core.coo_to_csr(rows, cols, values, indptr, out_cols, out_values,
                                           out_pos, THREADS),
           "numpy": lambda: reference.coo_to_csr(rows, cols, values, n_rows)}
    benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)
