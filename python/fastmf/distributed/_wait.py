"""Waiting on a Dask cluster for a bounded time.

Every wait of a distributed fit goes through a ``Waiter``: it gathers results while the
cluster makes progress and raises ``ClusterError`` when the fit has made none for
``timeout`` seconds, naming the cause (no workers, every worker paused by Dask's memory
monitor, tasks that no running worker takes) or at once when the client is closed.
Progress is a task of the fit finishing, or any task running on a worker that is not
paused (a block rebuilt from its files runs tasks that are not the fit's own).
"""
import asyncio
import contextlib
import time

from dask.utils import format_bytes
from distributed import CancelledError, wait

from ..exceptions import ClusterError

POLL_SECONDS = 1.0      # how often a wait with nothing finished asks the scheduler


class Waiter:
    """Bounded waits on ``client`` for a fit that gives up after ``timeout`` seconds of
    no progress."""

    def __init__(self, client, timeout):
        self.client, self.timeout = client, float(timeout)
        self.poll = min(POLL_SECONDS, self.timeout / 4)

    def check_open(self):
        """ClusterError if the client cannot run tasks (closed, or closing)."""
        if self.client.status != "running":
            raise ClusterError(closed_message(self.client))

    def wait_for_workers(self):
        """The addresses of the cluster's workers once one of them can run tasks."""
        self.check_open()
        with self.connection_errors():
            try:
                self.client.wait_for_workers(1, timeout=self.timeout)
            except (TimeoutError, asyncio.TimeoutError):
                self.check_open()
                raise ClusterError(stall_message(self.client, self.timeout,
                                                 "could not start")) from None
            return sorted(workers_of(self.client))

    def gather(self, futures, cancel=(), on_done=None):
        """The results of ``futures`` (a list), in order. Ctrl-C and ClusterError cancel
        ``cancel`` (the futures whose work is then useless) before they propagate; an
        error a task raised propagates as it is. ``on_done(count)``, when given, is told how
        many of the futures are done each time that number grows (a progress bar)."""
        futures = list(futures)
        try:
            return self._gather(futures, on_done)
        except (KeyboardInterrupt, ClusterError):
            if cancel and self.client.status == "running":
                self.client.cancel(list(cancel))
            raise

    def _gather(self, futures, on_done=None):
        progress = _Progress(self)
        while True:
            self._wait_done(futures, progress, on_done)
            try:
                with self.connection_errors():
                    return self.client.sync(_fetch, self.client, futures, self.timeout)
            except (TimeoutError, asyncio.TimeoutError):
                if all(f.done() for f in futures):
                    raise ClusterError(
                        f"fetching a result from the workers took more than "
                        f"timeout={self.timeout:g} s; the network or the workers are too slow "
                        f"for the fit's timeout: pass a larger timeout=") from None
                # a result was lost on its way (its worker died): it is being computed again
            except CancelledError:
                raise ClusterError(self._cancelled_message()) from None

    def _wait_done(self, futures, progress, on_done=None):
        """Return once every future is done, or one raised (gathering raises its error);
        ClusterError when nothing moves for the timeout."""
        reported = -1
        while True:
            self.check_open()
            pending = [f for f in futures if not f.done()]
            if on_done is not None and len(futures) - len(pending) > reported:
                reported = len(futures) - len(pending)
                on_done(reported)
            if not pending or any(f.status == "error" for f in futures):
                return
            try:
                with self.connection_errors():
                    wait(pending, timeout=self.poll,
                         return_when="ALL_COMPLETED" if on_done is None else "FIRST_COMPLETED")
            except (TimeoutError, asyncio.TimeoutError):
                progress.check(len(futures) - sum(not f.done() for f in futures))
            except CancelledError:
                raise ClusterError(self._cancelled_message()) from None

    @contextlib.contextmanager
    def connection_errors(self):
        """ClusterError for what a call raises because the client closed during it, or
        because the scheduler cannot be reached."""
        try:
            yield
        except (TimeoutError, asyncio.TimeoutError):     # an OSError the caller handles
            raise
        except (RuntimeError, OSError) as error:
            if self.client.status != "running":
                raise ClusterError(closed_message(self.client)) from None
            if isinstance(error, OSError):
                raise ClusterError(f"the Dask scheduler cannot be reached ({error}); the fit's "
                                   f"state on the cluster is lost: fit again once the scheduler "
                                   f"is up") from error
            raise

    def _cancelled_message(self):
        if self.client.status != "running":
            return closed_message(self.client)
        return ("the fit's tasks were cancelled on the Dask cluster (by client.cancel() or "
                "client.restart() during the fit); fit again once the cluster is ready")


async def _fetch(client, futures, timeout):
    """The results of done futures, fetched at once but each within ``timeout`` (a result
    is one block, whatever the number of workers); the first error in their order."""
    results = await asyncio.gather(
        *(asyncio.wait_for(client.gather([f], asynchronous=True), timeout) for f in futures),
        return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [result[0] for result in results]


class _Progress:
    """When the fit last made progress, and the ClusterError once it is ``timeout``
    seconds ago."""

    def __init__(self, waiter):
        self.waiter = waiter
        self.since = time.monotonic()
        self.done = 0

    def check(self, done):
        """``done``: how many of the awaited futures are done now."""
        now = time.monotonic()
        if done > self.done:
            self.done, self.since = done, now
            return
        client = self.waiter.client
        self.waiter.check_open()
        with self.waiter.connection_errors():
            workers = workers_of(client)
            processing = client.processing()
        running = {address for address, w in workers.items() if w["status"] == "running"}
        if any(keys and address in running for address, keys in processing.items()):
            self.since = now
            return
        if now - self.since >= self.waiter.timeout:
            raise ClusterError(stall_message(client, self.waiter.timeout, "made no progress",
                                             workers))


def workers_of(client):
    """{address: the scheduler's information} of every worker (``n_workers=-1``: some
    versions of Dask return only the first five by default)."""
    return client.scheduler_info(n_workers=-1)["workers"]


def closed_message(client):
    if client.status in ("closing", "closed"):
        return (f"the Dask client was closed during the fit (status {client.status!r}); keep "
                f"the client open until fit() returns (close it after the fit, or in a "
                f"finally block)")
    return (f"the Dask client lost its connection to the scheduler (status "
            f"{client.status!r}), and with it the fit's state on the cluster; fit again once "
            f"the scheduler is reachable")


def stall_message(client, timeout, what, workers=None):
    """Why nothing could run on the cluster for ``timeout`` seconds, and what to do."""
    if workers is None:
        workers = workers_of(client)
    head = f"the distributed fit {what} in timeout={timeout:g} s"
    if not workers:
        return (f"{head}: the Dask cluster has no workers; start workers (e.g. "
                f"cluster.scale(2)), or pass a larger timeout= to wait for them")
    paused = {address: w for address, w in workers.items() if w["status"] == "paused"}
    running = [address for address, w in workers.items() if w["status"] == "running"]
    if paused and not running:
        usage = "; ".join(_memory_use(address, w) for address, w in sorted(paused.items())[:3])
        return (f"{head}: all {len(workers)} workers are paused by Dask's memory monitor, their "
                f"memory above the pause threshold (distributed.worker.memory.pause, by default "
                f"80% of memory_limit; {usage}); give the workers more memory "
                f"(memory_limit=), add workers or free the data held on them")
    if not running:
        statuses = sorted({w["status"] for w in workers.values()})
        return (f"{head}: none of the {len(workers)} workers can run tasks (status "
                f"{', '.join(statuses)}); start workers, or pass a larger timeout=")
    also = f" ({len(paused)} more are paused for memory)" if paused else ""
    return (f"{head}: no task ran on the {len(running)} running workers{also}; the fit's "
            f"tasks wait for a worker that can take them (check the scheduler's dashboard and "
            f"logs), or pass a larger timeout=")


def _memory_use(address, worker):
    used = worker.get("metrics", {}).get("memory")
    limit = worker.get("memory_limit")
    if used is None or not limit:
        return f"{address}"
    return f"{address} uses {format_bytes(used)} of {format_bytes(limit)}"
