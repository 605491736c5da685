"""One BPR epoch: the C++ kernel against its numpy twin in tests/reference.py.

An epoch takes as many samples as there are interactions (100k by default,
``FASTMF_BENCH_BPR_RATINGS``; uniform negatives, item biases, k = 64, float32). The C++
side draws its samples from the counter-based stream and steps on 1 or 2 threads (Hogwild);
the numpy twin draws the same triples (``reference.bpr_draws``, vectorized) and replays the
steps one by one in float64 (``reference.bpr_steps``), as a single thread would. Run from
the repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import os

import numpy as np
import pytest

from fastmf import _core
from fastmf.models.bpr import positive_csr
from tests import reference

from .conftest import ratings_data, size_label

K, LR, REG, SEED = 64, np.float32(0.05), np.float32(0.02), 11


@pytest.fixture(scope="module")
def bpr_case():
    data = ratings_data(int(os.environ.get("FASTMF_BENCH_BPR_RATINGS", 100_000)))
    R = positive_csr(data)
    rng = np.random.default_rng(5)
    return dict(indptr=R.indptr, indices=R.indices, nnz=len(R.indices), n_items=data.n_items,
                user_of=np.repeat(np.arange(data.n_users, dtype=np.int32), np.diff(R.indptr)),
                X=(rng.standard_normal((data.n_users, K)) * 0.1).astype(np.float32),
                Y=(rng.standard_normal((data.n_items, K)) * 0.1).astype(np.float32),
                label=size_label(len(R.indices)))


def _fresh(case):
    return (case["X"].copy(), case["Y"].copy(), np.zeros(case["n_items"], np.float32)), {}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_bpr_epoch(benchmark, bpr_case, impl, threads):
    c = bpr_case
    benchmark.group = f"bpr_epoch {c['label']} samples k={K} float32 threads={threads}"
    benchmark.extra_info.update(kernel="bpr_epoch", impl=impl, samples=c["nnz"], k=K,
                                dtype="float32", threads=threads, numpy_computes_in="float64")
    csr = (c["indptr"], c["indices"], c["user_of"], np.zeros(0))

    def cpp(X, Y, b):
        return _core.bpr_epoch(*csr, X, Y, b, LR, REG, c["nnz"], SEED, threads)

    def numpy(X, Y, b):
        draws = reference.bpr_draws(*csr, c["n_items"], SEED, c["nnz"])
        return reference.bpr_steps(*draws, X, Y, b, float(LR), float(REG))

    run = {"cpp": cpp, "numpy": numpy}[impl]
    benchmark.pedantic(run, setup=lambda: _fresh(c), rounds=3 if impl == "numpy" else 10,
                       warmup_rounds=0 if impl == "numpy" else 1)
