"""fastmf.distributed when the cluster fails under it: lost workers, even all of them at
once, cost time and not the fit (it ends with the one-machine model, bit for bit), and a fit
that cannot go on (no workers, workers paused for memory, a closed client) raises
ClusterError naming the cause. A watchdog turns a fit that hangs into a failed test that
shows every thread's stack, instead of a run that never ends."""
import faulthandler
import os
import signal
import sys
import threading
import traceback

import dask
import dask.dataframe as dd
import distributed
import pytest

import fastmf
import fastmf.distributed as fd
from fastmf.exceptions import ClusterError

from .test_distributed import _assert_same_fit

HANG_SECONDS = 150      # far above any test's run; only a hang reaches it


class Hung(Exception):
    """A test ran past HANG_SECONDS."""


@pytest.fixture(autouse=True)
def watchdog():
    """Fail a test that hangs: SIGALRM raises Hung in it, with every thread's stack;
    faulthandler ends the run should even that not interrupt it."""
    def hung(signum, frame):
        stacks = "".join(f"\nthread {ident}:\n" + "".join(traceback.format_stack(top))
                         for ident, top in sys._current_frames().items())
        raise Hung(f"the test ran past {HANG_SECONDS} s (a hang); the threads:{stacks}")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    faulthandler.dump_traceback_later(HANG_SECONDS + 60, exit=True)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def data():
    return fastmf.datasets.make_ratings(2000, 300, 20_000, seed=5)


def _worker_pids(client):
    client.wait_for_workers(2)
    return sorted(client.run(os.getpid).values())


def _kill(*pids):
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def _workers(client):
    return client.scheduler_info(n_workers=-1)["workers"]


def _until(condition):
    """Return once ``condition()`` is true (the watchdog bounds the wait)."""
    while not condition():
        threading.Event().wait(0.01)


@pytest.mark.parametrize("model, params, frame", [
    ("ALS", {"checkpoint_every": None}, False),
    ("ALS", {"checkpoint_every": 2}, True),
    ("ImplicitALS", {"solver": "cg", "checkpoint_every": 2, "blocks_per_worker": 2}, False),
])
def test_both_workers_killed_at_once_cost_time_not_the_fit(client, data, model, params, frame):
    common = dict(factors=8, iterations=5, seed=0, verbose=False)
    local_params = {k: v for k, v in params.items()
                    if k not in ("checkpoint_every", "blocks_per_worker")}
    local = getattr(fastmf, model)(**common, **local_params).fit(data)
    pids = _worker_pids(client)

    def kill(record):
        if record["iteration"] == 3:           # every block and factor on the cluster is lost
            _kill(*pids)

    train = dd.from_pandas(data.to_dataframe(), npartitions=3) if frame else data
    dist = getattr(fd, model)(**common, **params, timeout=60, client=client)
    _assert_same_fit(local, dist.fit(train, callbacks=[kill]))


def test_a_worker_killed_before_the_other_is_replaced(client, data):
    local = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False).fit(data)
    pids = _worker_pids(client)

    def kill(record):
        if record["iteration"] == 2:
            _kill(pids[0])
            _until(lambda: len(_workers(client)) < 2)   # gone, its successor not yet there
            _kill(pids[1])

    dist = fd.ALS(factors=8, iterations=5, seed=0, verbose=False, timeout=60, client=client)
    _assert_same_fit(local, dist.fit(data, callbacks=[kill]))


def test_a_worker_killed_at_two_checkpoints(client, data):
    local = fastmf.ImplicitALS(factors=8, iterations=6, seed=0, verbose=False).fit(data)
    killed = []

    def kill(record):
        if record["iteration"] in (2, 4):      # checkpoints: the oldest worker, the newest
            pid = _worker_pids(client)[0 if record["iteration"] == 2 else -1]
            killed.append(pid)
            _kill(pid)

    dist = fd.ImplicitALS(factors=8, iterations=6, seed=0, verbose=False, checkpoint_every=2,
                          timeout=60, client=client)
    _assert_same_fit(local, dist.fit(data, callbacks=[kill]))
    assert len(set(killed)) == 2


def test_both_workers_killed_while_the_blocks_are_built(client, data, tmp_path):
    local = fastmf.ALS(factors=8, iterations=3, seed=0, verbose=False).fit(data)
    pids, marker = _worker_pids(client), str(tmp_path / "killed")

    def kill_once(part):                       # the first partition read kills both workers
        if not os.path.exists(marker):
            open(marker, "w").close()
            _kill(*pids)
        return part

    table = data.to_dataframe()
    frame = dd.from_pandas(table, npartitions=3).map_partitions(kill_once, meta=table.iloc[:0])
    dist = fd.ALS(factors=8, iterations=3, seed=0, verbose=False, timeout=60, client=client)
    _assert_same_fit(local, dist.fit(frame))
    assert os.path.exists(marker)


# -- fits that cannot go on ---------------------------------------------------------------
def _threads_cluster(**kwargs):
    """Two workers in this process; one pauses when this process uses more than 80% of
    its memory_limit (whatever the environment configures)."""
    with dask.config.set({"distributed.worker.memory.pause": 0.8}):
        return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                        dashboard_address=":0", **kwargs)


def _wait_until_paused(client):
    _until(lambda: {w["status"] for w in _workers(client).values()} == {"paused"})


def test_workers_paused_for_memory_raise_cluster_error():
    data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    with _threads_cluster(memory_limit="1 MiB") as cluster, distributed.Client(cluster) as client:
        _wait_until_paused(client)                   # this process uses far more than 1 MiB
        model = fd.ALS(factors=4, iterations=2, verbose=False, timeout=1, client=client)
        with pytest.raises(ClusterError, match=r"could not start in timeout=1 s: all 2 workers "
                                               r"are paused by Dask's memory monitor.* uses .* of "
                                               r"1\.00 MiB.*give the workers more memory"):
            model.fit(data)
        assert not hasattr(model, "user_factors_")


def test_workers_paused_during_the_fit_raise_cluster_error():
    data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    with _threads_cluster(memory_limit="4 GiB") as cluster, distributed.Client(cluster) as client:
        before = fd.ALS(factors=4, iterations=1, seed=0, verbose=False, client=client).fit(data)
        kept = before.item_factors_.copy()

        def shrink(dask_worker):               # the memory monitor pauses it at its next look
            dask_worker.memory_manager.memory_limit = 1

        def pause(record):
            if record["iteration"] == 1:
                client.run(shrink)
                _wait_until_paused(client)

        model = before.set_params(iterations=3, timeout=1)
        with pytest.raises(ClusterError, match=r"made no progress in timeout=1 s: all 2 workers "
                                               r"are paused by Dask's memory monitor"):
            model.fit(data, callbacks=[pause])
        assert (model.item_factors_ == kept).all()         # the earlier fit stays


def test_a_cluster_without_workers_raises_cluster_error():
    data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    with _threads_cluster() as cluster, distributed.Client(cluster) as client:
        def retire(record):
            if record["iteration"] == 1:
                cluster.scale(0)
                _until(lambda: not _workers(client))

        model = fd.ALS(factors=4, iterations=3, verbose=False, timeout=1, client=client)
        with pytest.raises(ClusterError, match=r"made no progress in timeout=1 s: the Dask "
                                               r"cluster has no workers; start workers"):
            model.fit(data, callbacks=[retire])
        with pytest.raises(ClusterError, match=r"could not start in timeout=1 s: the Dask "
                                               r"cluster has no workers"):
            model.fit(data)


@pytest.mark.parametrize("when", ["between iterations", "during an iteration", "before the fit"])
def test_closing_the_client_during_a_fit_raises_cluster_error_at_once(when):
    # timeout=600: the error comes from seeing the client closed, not from waiting it out
    # (a wait would trip the watchdog).
    data = fastmf.datasets.make_ratings(3000, 500, 60_000, seed=0)
    with _threads_cluster() as cluster:
        client = distributed.Client(cluster)
        model = fd.ALS(factors=16, iterations=50, verbose=False, timeout=600, client=client)

        def close(record):
            if when == "between iterations":
                client.close()
            elif record["iteration"] == 1:
                threading.Thread(target=client.close).start()

        if when == "before the fit":
            client.close()
        with pytest.raises(ClusterError, match="the Dask client was closed during the fit "
                                               r"\(status '.*'\); keep the client open until"):
            model.fit(data, callbacks=[close])
        client.close()
