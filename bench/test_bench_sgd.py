"""One SGD epoch: the C++ kernel against two numpy baselines, on 100k ratings
(``FASTMF_BENCH_SGD_RATINGS``), k = 64, float32.

- "numpy: Python-loop replay": tests/reference.py's oracle, a loop over ratings with vector
  updates per rating in float64, the same updates as the C++ epoch on one thread. Its ratio
  measures the interpreter as much as numpy.
- "numpy: mini-batch epoch": the same ratings in the same order, 1024 at a time, each
  batch's errors from the factors before it and its updates added with ``np.add.at``:
  vectorized numpy, a different (batched) algorithm of the same cost per rating.

The C++ side runs on 1 and 2 threads (Hogwild); each benchmark checks that its result agrees
with the replay's (on 2 threads: the epoch's loss, as racing updates differ). Run from the
repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import os

import numpy as np
import pytest

from fastmf import _core
from fastmf.models.sgd import block_layout
from tests import reference

from .conftest import assert_agree, ratings_data, size_label

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


BATCH = 1024


def minibatch_epoch(block_ptr, order, uidx, iidx, ratings, X, xb, Y, yb, mu, lr, reg, bias_reg):
    """The epoch's ratings in its order, BATCH at a time, vectorized (float32)."""
    rows = np.concatenate([np.arange(block_ptr[b], block_ptr[b + 1]) for b in order])
    sse = 0.0
    for lo in range(0, len(rows), BATCH):
        e = rows[lo:lo + BATCH]
        u, i = uidx[e], iidx[e]
        p, q = X[u], Y[i]
        err = ratings[e] - (mu + xb[u] + yb[i] + np.einsum("ij,ij->i", p, q))
        sse += float(err @ err)
        np.add.at(xb, u, lr * (err - bias_reg * xb[u]))
        np.add.at(yb, i, lr * (err - bias_reg * yb[i]))
        np.add.at(X, u, lr * (err[:, None] * q - reg * p))
        np.add.at(Y, i, lr * (err[:, None] * p - reg * q))
    return X, xb, Y, yb, sse


BASELINES = {"numpy": "numpy: Python-loop replay", "numpy-minibatch": "numpy: mini-batch epoch"}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", ["cpp", "numpy", "numpy-minibatch"])
def test_sgd_epoch(benchmark, sgd_case, impl, threads):
    c = sgd_case
    benchmark.group = f"sgd_epoch {c['label']} k={K} float32 threads={threads}"
    benchmark.extra_info.update(kernel="sgd_epoch", impl=impl, nnz=c["nnz"], k=K, dtype="float32",
                                threads=threads, baseline=BASELINES.get(impl))
    f32 = np.float32

    def cpp(X, xb, Y, yb):
        sse = _core.sgd_epoch(*c["inputs"], X, xb, Y, yb, c["mu"], f32(LR), f32(REG),
                              f32(BIAS_REG), threads)
        return X, xb, Y, yb, sse

    def numpy(X, xb, Y, yb):
        return reference.sgd_epoch(*c["inputs"], X, xb, Y, yb, float(c["mu"]), LR, REG, BIAS_REG)

    def minibatch(X, xb, Y, yb):
        return minibatch_epoch(*c["inputs"], X, xb, Y, yb, c["mu"], f32(LR), f32(REG), f32(BIAS_REG))

    run = {"cpp": cpp, "numpy": numpy, "numpy-minibatch": minibatch}[impl]
    result = benchmark.pedantic(run, setup=lambda: (_fresh(c), {}),
                                rounds=10 if impl == "cpp" else 3, warmup_rounds=int(impl == "cpp"))
    replay = _replay(c, numpy)
    if impl == "numpy-minibatch":        # another algorithm: an epoch of about the same loss
        assert result[-1] == pytest.approx(replay[-1], rel=0.05)
    elif threads == 2:
        assert result[-1] == pytest.approx(replay[-1], rel=1e-2)      # racing updates
    else:
        assert_agree(result, replay, np.float32)


_cache = {}


def _replay(case, numpy):
    if "replay" not in _cache:
        _cache["replay"] = numpy(*_fresh(case))
    return _cache["replay"]
