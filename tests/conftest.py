import importlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf.data import Interactions

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def kernel_builds():
    """Every kernel build installed that this CPU can run, portable first: AVX2 and AVX-512
    join where they are built and the CPU has their instructions (a build the CPU cannot
    run is never imported: its first instruction could be an illegal one)."""
    from fastmf import _core
    return [importlib.import_module(f"fastmf._core_{name}")
            for name in reversed(_core.builds) if _core.cpu_runs(name)]


@pytest.fixture(params=kernel_builds(), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def kernels(request):
    """Each kernel build in turn: tests that take it run against every build listed."""
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


def synthetic(n_users=40, n_items=30, density=0.3, seed=0, dtype=np.float64):
    """Random ratings 1..5 on a random pattern; every user and item has a rating."""
    gen = np.random.default_rng(seed)
    mask = gen.random((n_users, n_items)) < density
    mask[np.arange(n_users), gen.integers(0, n_items, n_users)] = True
    mask[gen.integers(0, n_users, n_items), np.arange(n_items)] = True
    u, i = np.nonzero(mask)
    ratings = gen.integers(1, 6, len(u)).astype(dtype)
    return Interactions.from_arrays(u, i, ratings)


IMPLICIT_ALPHA = 0.7


def implicit_case(n_users=25, n_items=40, k=6, seed=0, dtype=np.float64):
    """(observed, dense conf, indptr, indices, values, conf, Y): kernels take the counts
    `values` and IMPLICIT_ALPHA; the references take conf = c - 1 = IMPLICIT_ALPHA * values."""
    gen = np.random.default_rng(seed)
    observed = gen.random((n_users, n_items)) < 0.25
    observed[3] = False                                    # a user with no interactions
    counts = np.where(observed, gen.integers(1, 6, (n_users, n_items)), 0).astype(float)
    m = sp.csr_matrix(counts)
    m.eliminate_zeros()
    Y = gen.normal(0, 0.3, (n_items, k)).astype(dtype)
    return (observed, IMPLICIT_ALPHA * counts, m.indptr.astype(np.int64),
            m.indices.astype(np.int32), m.data.astype(dtype),
            (IMPLICIT_ALPHA * m.data).astype(dtype), Y)


@pytest.fixture
def small():
    return synthetic()


@pytest.fixture
def toy():
    return fastmf.datasets.toy()


@pytest.fixture(scope="session")
def ml100k():
    return fastmf.datasets.load_movielens("100k", data_home=SHARED_DATA, download=False)


@pytest.fixture(scope="session")
def ml100k_split(ml100k):
    return fastmf.train_test_split(ml100k, test_size=0.2, seed=42)


# Hypothesis: "ci" (the default) draws a fixed set of examples, the same on every run, so
# that CI is repeatable; FASTMF_HYPOTHESIS=long draws many more, new ones each run.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None, max_examples=60,
                          deadline=None, print_blob=True)
settings.register_profile("long", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("FASTMF_HYPOTHESIS", "ci"))


@pytest.fixture(scope="module")
def client():
    """A 2-worker LocalCluster of worker processes under nannies (which start a new worker
    for one that was killed), one thread each; one cluster per test module."""
    import os

    import distributed
    environ = dict(os.environ)      # the nannies leave OMP_NUM_THREADS=1 and more in it
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()
    os.environ.clear()
    os.environ.update(environ)
