"""The smaller kernels against what a user would call instead, on the 1M-rating case of
conftest.py, 2 threads: ``predict_pairs`` (one prediction per rating), ``relevant_scores`` (the test-item
scores of an evaluation by item blocks, here one per rating) and
``row_squared_errors`` (the training loss of an iteration) against blocked numpy einsums,
``gram`` (YᵀY of the user factors) against numpy's BLAS product (its own threads),
``row_squared_norms`` and ``exact_sum_digits`` (the sums of the training loss's penalties
and of the ratings) against a float64 einsum and per-digit bincounts, and
``coo_to_csr`` (the by-user CSR from shuffled pairs, keeping repeats and input positions)
against a numpy lexsort and scipy's ``tocsr()`` (which sums repeats and gives no positions).
The CSR transpose has no kernel of its own: scipy's ``tocsc()`` was as fast. Each benchmark
checks that its result agrees with the other side's. Run from the repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import numpy as np
import pytest

from fastmf import _core
from fastmf._kernels.gram import gram
from tests import reference

from .conftest import assert_agree, bench_ratings, ratings_data, size_label

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


_cache = {}


def _check(name, run, impl, result, dtype=DTYPE):
    """The result agrees with the C++ kernel's (or, for the C++ side, with numpy's)."""
    other = "numpy" if impl == "cpp" else "cpp"
    if (name, other) not in _cache:
        _cache[(name, other)] = run[other]()
    assert_agree([result], [_cache[(name, other)]], dtype)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_predict_pairs(benchmark, case, impl):
    _group(benchmark, case, "predict_pairs", impl)
    c = case

    def cpp():
        out = np.empty(len(c["uidx"]), DTYPE)
        _core.predict_pairs(c["X"], c["xb"], c["Y"], c["yb"], c["mu"], c["uidx"], c["iidx"], out,
                            THREADS)
        return out

    run = {"cpp": cpp,
           "numpy": lambda: reference.predict(c["X"], c["xb"], c["Y"], c["yb"], c["mu"], c["uidx"],
                                              c["iidx"])}
    _check("predict", run, impl, benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1))


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_relevant_scores(benchmark, case, impl):
    _group(benchmark, case, "relevant_scores", impl)
    c, R = case, case["R"]

    def cpp():
        out = np.empty(len(R.indices), DTYPE)
        _core.relevant_scores(c["X"], c["xb"], c["Y"], c["yb"], R.indptr, R.indices, out,
                              THREADS)
        return out

    run = {"cpp": cpp,
           "numpy": lambda: reference.predict(c["X"], c["xb"], c["Y"], c["yb"], 0.0, c["uidx"],
                                              c["iidx"])}
    _check("relevant", run, impl, benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1))


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_row_squared_errors(benchmark, case, impl):
    _group(benchmark, case, "row_squared_errors", impl)
    c, R = case, case["R"]

    def cpp():
        out = np.empty(R.shape[0])
        _core.row_squared_errors(R.indptr, R.indices, R.data, c["X"], c["xb"], c["Y"], c["yb"],
                                 c["mu"], out, THREADS)
        return out

    run = {"cpp": cpp,
           "numpy": lambda: reference.row_squared_errors(R.indptr, R.indices, R.data, c["X"],
                                                         c["xb"], c["Y"], c["yb"], c["mu"])}
    _check("sse", run, impl, benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1))


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_gram(benchmark, case, impl):
    _group(benchmark, case, "gram(user factors)", impl)
    X = case["X"]
    run = {"cpp": lambda: gram(X, THREADS), "numpy": lambda: X.T @ X}
    _check("gram", run, impl, benchmark.pedantic(run[impl], rounds=5, warmup_rounds=1))


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_row_squared_norms(benchmark, case, impl):
    """The penalty's row norms of the user factors, in float64, on one thread as the
    training loss runs them."""
    _group(benchmark, case, "row_squared_norms(user factors)", impl, threads=1)
    X = case["X"]

    def cpp():
        out = np.empty(len(X))
        _core.row_squared_norms(X, out, 1)
        return out

    run = {"cpp": cpp, "numpy": lambda: reference.row_squared_norms(X)}
    _check("norms", run, impl, benchmark.pedantic(run[impl], rounds=5, warmup_rounds=1),
           np.float64)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_exact_sum_digits(benchmark, case, impl):
    """The digits of the exact sum of every rating (the global mean's sum), one thread."""
    _group(benchmark, case, "exact_sum_digits(ratings)", impl, threads=1)
    x = np.ascontiguousarray(case["R"].data, dtype=np.float64)

    def cpp():
        digits = np.zeros((3, 2048), dtype=np.int64)
        assert _core.exact_sum_digits(x, digits)
        return digits

    run = {"cpp": cpp, "numpy": lambda: reference.exact_sum_digits(x)}
    result = benchmark.pedantic(run[impl], rounds=5, warmup_rounds=1)
    np.testing.assert_array_equal(result, run["numpy" if impl == "cpp" else "cpp"]())


@pytest.mark.parametrize("impl", ["cpp", "numpy", "scipy"])
def test_coo_to_csr(benchmark, case, impl):
    """COO -> CSR with input positions, from the ratings in a shuffled order."""
    _group(benchmark, case, "coo_to_csr", impl)
    benchmark.extra_info["baseline"] = {
        "numpy": "numpy: lexsort", "scipy": "scipy: tocsr (sums repeats, no positions)"}.get(impl)
    order = np.random.default_rng(3).permutation(case["data"].nnz)
    rows = case["uidx"][order].astype(np.int32)
    cols = case["iidx"][order].astype(np.int32)
    values = case["R"].data[order]
    n_rows, n_cols = case["data"].n_users, case["data"].n_items
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))].astype(np.int64)

    def cpp():
        out_cols, out_values = np.empty_like(cols), np.empty_like(values)
        out_pos = np.empty(len(rows), np.int64)
        _core.coo_to_csr(rows, cols, values, indptr, out_cols, out_values, out_pos, THREADS)
        return out_cols, out_values

    def scipy_csr():
        import scipy.sparse as sp
        m = sp.coo_matrix((values, (rows, cols)), shape=(n_rows, n_cols)).tocsr()
        m.sort_indices()
        return m.indices, m.data

    run = {"cpp": cpp, "numpy": lambda: reference.coo_to_csr(rows, cols, values, n_rows)[1:3],
           "scipy": scipy_csr}
    result = benchmark.pedantic(run[impl], rounds=3, warmup_rounds=1)
    want = cpp() if impl != "cpp" else reference.coo_to_csr(rows, cols, values, n_rows)[1:3]
    for got, expected in zip(result, want):         # the pairs are unique: all three agree
        np.testing.assert_array_equal(got, expected)
