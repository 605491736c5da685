"""One SGD epoch: the C++ kernel against the numpy replay of tests/reference.py.

SGD is sequential by nature, so the numpy twin is a loop over ratings with vector
updates per rating (computing in float64); it runs on 100k ratings (``FASTMF_BENCH_SGD_RATINGS``)
where the C++ side also runs on 2 threads, Hogwild. Run from the repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import os

import numpy as np
import pytest

from fastmf import _core
from fastmf.models.sgd import block_layout
from tests import reference

from .conftest import ratings_data, size_label

K = 64
LR, REG, BIAS_REG = 0.005, 0.05, 0.05


@pytest.fixture(scope="module")
def sgd_case():
    data = ratings_data(int(os.environ.get("FASTMF_BENCH_SGD_RATINGS", 100_000)))
    rng = np.random.default_rng(3)
    block_ptr, uidx, iidx, ratings = block_layout(data, K * 4, rng, True, np.float32)
    order = rng.permutation(len(block_ptr) - 1).astype(np.int32)
    X = (rng.standard_normal((data.n_users, K)) * 0.01).astype(np.float32)
    Y = (rng.standard_normal((data.n_items, K)) * 0.01).astype(np.float32)
    inputs = (block_ptr, order, uidx, iidx, ratings)
    return dict(inputs=inputs, X=X, Y=Y, n_users=data.n_users, n_items=data.n_items,
                mu=np.float32(np.mean(data.ratings)), label=size_label(data.nnz), nnz=data.nnz)


def _fresh(case):
    return (case["X"].copy(), np.zeros(case["n_users"], np.float32), case["Y"].copy(),
            np.zeros(case["n_items"], np.float32))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_sgd_epoch(benchmark, sgd_case, impl, threads):
    c = sgd_case
    benchmark.group = f"sgd_epoch {c['label']} k={K} float32 threads={threads}"
    benchmark.extra_info.update(kernel="sgd_epoch", impl=impl, nnz=c["nnz"], k=K, dtype="float32",
                                threads=threads, numpy_computes_in="float64")
    f32 = np.float32

    def cpp(X, xb, Y, yb):
        return _core.sgd_epoch(*c["inputs"], X, xb, Y, yb, c["mu"], f32(LR), f32(REG),
                               f32(BIAS_REG), threads)

    def numpy(X, xb, Y, yb):
        return reference.sgd_epoch(*c["inputs"], X, xb, Y, yb, float(c["mu"]), LR, REG, BIAS_REG)

    run = {"cpp": cpp, "numpy": numpy}[impl]
    benchmark.pedantic(run, setup=lambda: (_fresh(c), {}), rounds=3 if impl == "numpy" else 10,
                       warmup_rounds=0 if impl == "numpy" else 1)
