"""One BPR epoch: the C++ kernel against two numpy baselines; and one epoch with side
features (bpr_feature_epoch) against its numpy replay.

An epoch takes as many samples as there are interactions (100k by default,
``FASTMF_BENCH_BPR_RATINGS``; uniform negatives, item biases, k = 64, float32). The C++
side draws its samples from the counter-based stream and steps on 1 or 2 threads (Hogwild).
Both baselines draw the same triples (``reference.bpr_draws``, vectorized), then

- "numpy: Python-loop replay" (the oracle) steps through them one by one in float64
  (``reference.bpr_steps``), as a single thread would: its ratio measures the interpreter;
- "numpy: mini-batch epoch" steps 1024 triples at a time, each batch's gradients from the
  factors before it, added with ``np.add.at`` (vectorized, a batched algorithm).

Each benchmark checks its epoch against the replay (the objective; on one thread also the
factors). Run from the repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
"""
import os

import numpy as np
import pytest

from fastmf import _core
from fastmf.models.bpr import positive_csr
from tests import reference

from .conftest import assert_agree, ratings_data, size_label

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


BATCH = 1024
BASELINES = {"numpy": "numpy: Python-loop replay", "numpy-minibatch": "numpy: mini-batch epoch"}


def minibatch_steps(u, i, j, X, Y, b, lr, reg):
    """The BPR steps of the triples BATCH at a time, vectorized (float32)."""
    keep = j >= 0
    u, i, j = u[keep], i[keep], j[keep]
    objective, ordered = 0.0, 0
    for lo in range(0, len(u), BATCH):
        uu, ii, jj = u[lo:lo + BATCH], i[lo:lo + BATCH], j[lo:lo + BATCH]
        p, qi, qj, bi, bj = X[uu], Y[ii], Y[jj], b[ii], b[jj]
        x = np.einsum("ij,ij->i", p, qi - qj) + bi - bj
        norms = (np.einsum("ij,ij->i", p, p) + np.einsum("ij,ij->i", qi, qi)
                 + np.einsum("ij,ij->i", qj, qj) + bi * bi + bj * bj)
        objective += float(np.sum(np.logaddexp(0.0, -x) + 0.5 * reg * norms))
        ordered += int((x > 0).sum())
        g = (1.0 / (1.0 + np.exp(x))).astype(X.dtype)[:, None]
        np.add.at(X, uu, lr * (g * (qi - qj) - reg * p))
        np.add.at(Y, ii, lr * (g * p - reg * qi))
        np.add.at(Y, jj, lr * (-g * p - reg * qj))
        np.add.at(b, ii, lr * (g[:, 0] - reg * bi))
        np.add.at(b, jj, lr * (-g[:, 0] - reg * bj))
    return X, Y, b, (objective, ordered, len(u))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", ["cpp", "numpy", "numpy-minibatch"])
def test_bpr_epoch(benchmark, bpr_case, impl, threads):
    c = bpr_case
    benchmark.group = f"bpr_epoch {c['label']} samples k={K} float32 threads={threads}"
    benchmark.extra_info.update(kernel="bpr_epoch", impl=impl, samples=c["nnz"], k=K,
                                dtype="float32", threads=threads, baseline=BASELINES.get(impl))
    csr = (c["indptr"], c["indices"], c["user_of"], np.zeros(0))

    def cpp(X, Y, b):
        return X, Y, b, _core.bpr_epoch(*csr, X, Y, b, LR, REG, c["nnz"], SEED, 32, threads)

    def numpy(X, Y, b):
        draws = reference.bpr_draws(*csr, c["n_items"], SEED, c["nnz"])
        return reference.bpr_steps(*draws, X, Y, b, float(LR), float(REG))

    def minibatch(X, Y, b):
        draws = reference.bpr_draws(*csr, c["n_items"], SEED, c["nnz"])
        return minibatch_steps(*draws, X, Y, b, LR, REG)

    run = {"cpp": cpp, "numpy": numpy, "numpy-minibatch": minibatch}[impl]
    result = benchmark.pedantic(run, setup=lambda: _fresh(c), rounds=10 if impl == "cpp" else 3,
                                warmup_rounds=int(impl == "cpp"))
    replay = _replay(c, numpy)
    objective, want = result[-1][0] / result[-1][2], replay[-1][0] / replay[-1][2]
    if impl == "numpy-minibatch":        # another algorithm: an epoch of about the same loss
        assert objective == pytest.approx(want, rel=0.05)
    elif threads == 2:
        assert objective == pytest.approx(want, rel=1e-2)      # racing updates
    else:
        assert result[-1][1:] == replay[-1][1:]             # the same pairs in order, and used
        assert_agree(result[:3], replay[:3], np.float32)


_cache = {}


def _replay(case, numpy):
    if "replay" not in _cache:
        _cache["replay"] = numpy(*_fresh(case)[0])
    return _cache["replay"]


# -- BPR with side features (cpp/bpr_features.hpp) -----------------------------------------
# Every row its own embedding (weight 1) plus 3 of 20 user features or 3 of 30 item features
# (unit-length weights, as the model gives them); 20k samples (FASTMF_BENCH_BPR_FEATURE_RATINGS):
# the numpy replay holds each side's weights densely.
N_USER_FEATURES, N_ITEM_FEATURES, FEATURES_PER_ROW = 20, 30, 3


@pytest.fixture(scope="module")
def feature_case():
    import scipy.sparse as sp

    data = ratings_data(int(os.environ.get("FASTMF_BENCH_BPR_FEATURE_RATINGS", 20_000)))
    R = positive_csr(data)
    rng = np.random.default_rng(6)

    def side(n, n_features, biased):
        cols = np.stack([rng.choice(n_features, FEATURES_PER_ROW, replace=False)
                         for _ in range(n)])
        F = sp.csr_matrix((np.full(cols.size, FEATURES_PER_ROW ** -0.5),
                           (np.repeat(np.arange(n), FEATURES_PER_ROW), cols.ravel())),
                          shape=(n, n_features))
        A = sp.hstack([sp.identity(n), F], format="csr")
        A.sort_indices()
        E = np.vstack([rng.standard_normal((n, K)) * 0.1,
                       np.zeros((n_features, K))]).astype(np.float32)
        c = np.zeros(A.shape[1] if biased else 0, np.float32)
        return A, E, c, n

    return dict(indptr=R.indptr, indices=R.indices, nnz=len(R.indices), n_items=data.n_items,
                user_of=np.repeat(np.arange(data.n_users, dtype=np.int32), np.diff(R.indptr)),
                users=side(data.n_users, N_USER_FEATURES, False),
                items=side(data.n_items, N_ITEM_FEATURES, True),
                label=size_label(len(R.indices)))


def _feature_args(case, users, items):
    (Au, U, _, u_own), (Ai, V, c, i_own) = users, items
    csr = [(A.indptr.astype(np.int64), A.indices.astype(np.int32), A.data.astype(np.float32))
           for A in (Au, Ai)]
    return (*csr[0], U, u_own, *csr[1], V, c, i_own)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_bpr_feature_epoch(benchmark, feature_case, impl, threads):
    c = feature_case
    benchmark.group = (f"bpr_feature_epoch {c['label']} samples k={K} float32 "
                       f"threads={threads}")
    benchmark.extra_info.update(kernel="bpr_feature_epoch", impl=impl, samples=c["nnz"], k=K,
                                dtype="float32", threads=threads,
                                baseline="numpy: Python-loop replay" if impl == "numpy" else None)
    csr = (c["indptr"], c["indices"], c["user_of"], np.zeros(0))

    def fresh():
        return tuple((A, E.copy(), b.copy(), n) for A, E, b, n in (c["users"], c["items"])), {}

    def cpp(users, items):
        totals = _core.bpr_feature_epoch(*csr, *_feature_args(c, users, items), LR, REG,
                                         np.float32(0.01), c["nnz"], SEED, 32, threads)
        return users[1], items[1], items[2], totals

    def numpy(users, items):
        draws = reference.bpr_draws(*csr, c["n_items"], SEED, c["nnz"])
        dense = [(A.toarray(), E, b, n) for A, E, b, n in (users, items)]
        return reference.bpr_feature_steps(*draws, *dense, float(LR), float(REG), 0.01)

    run = {"cpp": cpp, "numpy": numpy}[impl]
    result = benchmark.pedantic(run, setup=fresh, rounds=10 if impl == "cpp" else 2,
                                warmup_rounds=int(impl == "cpp"))
    if "feature_replay" not in _cache:
        _cache["feature_replay"] = numpy(*fresh()[0])
    replay = _cache["feature_replay"]
    objective, want = result[-1][0] / result[-1][2], replay[-1][0] / replay[-1][2]
    if threads == 2:
        assert objective == pytest.approx(want, rel=1e-2)      # racing updates
    else:
        assert result[-1][1:] == replay[-1][1:]
        assert_agree(result[:3], replay[:3], np.float32)
