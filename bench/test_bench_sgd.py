"""One SGD epoch: the C++ kernel against two numpy baselines, on 100k ratings
(``FASTMF_BENCH_SGD_RATINGS``), k = 64, float32; and the layout of the ratings in blocks
that a fit makes once, C++ against numpy.

- "numpy: Python-loop replay": tests/reference.py's oracle, a loop over ratings with vector
  updates per rating in float64, the same updates as the C++ epoch on one thread. Its ratio
  measures the interpreter as much as numpy.
- "numpy: mini-batch epoch": the same ratings in the same order, 1024 at a time, each
  batch's errors from the factors before it and its updates added with ``np.add.at``:
  vectorized numpy, a different (batched) algorithm of the same cost per rating.

The layout (``FASTMF_BENCH_RATINGS`` ratings, the grid of a k = 64 fit): C++'s counting
scatter by block and per-block shuffle against the plain numpy way, a random order of all
ratings stably sorted by block (a radix sort of 16-bit keys) and three gathers; both must
put the same ratings in each block.

The C++ epoch runs on 1 and 2 threads (Hogwild); each benchmark checks that its result agrees
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

from .conftest import assert_agree, bench_ratings, ratings_data, size_label

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


def numpy_block_layout(data, user_block, item_block, side, rng):
    """The layout in plain numpy: a random order of every rating, stably sorted by block,
    then the users, items and values gathered in that order."""
    uidx, iidx = data.uidx, data.iidx
    block = (user_block[uidx] * side + item_block[iidx]).astype(np.uint16)
    order = rng.permutation(data.nnz)
    order = order[np.argsort(block[order], kind="stable")]
    block_ptr = np.zeros(side * side + 1, dtype=np.int64)
    np.cumsum(np.bincount(block, minlength=side * side), out=block_ptr[1:])
    return block_ptr, uidx[order], iidx[order], data.ratings.astype(np.float32)[order]


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_sgd_block_layout(benchmark, impl):
    data = ratings_data(bench_ratings())
    rng = np.random.default_rng(4)
    side = 8
    user_block = (rng.permutation(data.n_users) * side // data.n_users).astype(np.int32)
    item_block = (rng.permutation(data.n_items) * side // data.n_items).astype(np.int32)
    benchmark.group = f"sgd_block_layout {size_label(data.nnz)} float32 threads=2"
    benchmark.extra_info.update(kernel="sgd_block_layout", impl=impl, nnz=data.nnz,
                                dtype="float32", threads=2,
                                baseline="numpy: permutation, stable argsort, gathers")
    csr = data.by_user
    ratings = csr.data.astype(np.float32)

    def cpp():
        out = (np.empty(side * side + 1, np.int64), np.empty(data.nnz, np.int32),
               np.empty(data.nnz, np.int32), np.empty(data.nnz, np.float32))
        _core.sgd_block_layout(csr.indptr, csr.indices, ratings, user_block, item_block, side,
                               7, *out, 2)
        return out

    def numpy():
        return numpy_block_layout(data, user_block, item_block, side, np.random.default_rng(7))

    got = benchmark.pedantic(cpp if impl == "cpp" else numpy, rounds=5, warmup_rounds=1)
    want = numpy()
    np.testing.assert_array_equal(got[0], want[0])
    blocks = np.repeat(np.arange(side * side), np.diff(want[0]))

    def by_block(layout):      # the ratings of each block in one order, whatever theirs was
        key = np.lexsort((layout[2], layout[1], blocks))
        return [column[key] for column in layout[1:]]

    for a, b in zip(by_block(got), by_block(want)):
        np.testing.assert_array_equal(a, b)
