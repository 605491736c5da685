"""The driver of a distributed fit: what ``fastmf.distributed.ALS`` and ``ImplicitALS`` add to
their one-machine class. ``fit`` is the one-machine fit loop (history, callbacks, early
stopping, progress bar, Ctrl-C: ``fastmf.models._fit``); the hooks it calls run each
half-step as one task per row block (``_tasks``), wait on the cluster for a bounded time
(``_wait``) and gather the factors only where the one-machine hooks need them (a checkpoint,
the end of the fit, validation ranking).

A distributed class gives, beside its constructor and ``_check_params``: ``_start`` (the
blocks and the starting factors, a ``ClusterState``), ``_submit_iteration`` (the tasks of
one iteration), ``_evaluate`` (the history entry from the gathered loss terms),
``_make_local`` and ``_local_arrays`` (the one-machine state of gathered factors, and back).
"""
import copy
import functools
import inspect
import uuid
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from .. import _validation as v
from ..data import Interactions, as_interactions
from . import _tasks
from ._data import from_dask_frame, from_interactions
from ._fitted import ClusterModelMixin
from ._model import finite_flags, publish_on_cluster
from ._wait import Waiter

# The parameters a distributed model has beyond those of its one-machine class, and their
# defaults (each class's constructor spells them out; DaskFit checks that it does).
DISTRIBUTED_PARAMS = {"client": None, "blocks_per_worker": 1, "checkpoint_every": 5,
                      "retries": 2, "timeout": 300.0}


@dataclass(frozen=True)
class FrameSource:
    """A dask DataFrame handed to the fit loop as its training data, with how to read it:
    the (user, item[, rating]) ``columns`` (None: the defaults) and what a repeated (user,
    item) pair does (``duplicates``)."""

    frame: object
    columns: tuple = None
    duplicates: str = "error"


@dataclass
class ClusterState:
    """A distributed fit between iterations: futures of the factor blocks of the last
    completed iteration (``X`` by user block, ``Y`` by item block) and what was gathered."""

    waiter: Waiter               # the client and the fit's bounded waits
    data: object                 # ClusterData
    mu: float = 0.0
    X: list = None
    Y: list = None
    YtY: object = None           # ImplicitALS: future of the item side's Gram matrix
    val: object = None           # validation data, by user block
    iteration: int = 0
    terms: list = None           # the gathered block terms of the last iteration
    grams: tuple = None          # ImplicitALS: (XtX, YtY) of the last iteration
    predictions: list = None     # ALS: the gathered validation predictions, by user block
    local: object = None         # one-machine state of the arrays, when gathered
    local_iteration: int = -1
    submitted: int = 0           # tasks submitted so far
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    client = property(lambda self: self.waiter.client)


class DaskFit(ClusterModelMixin, ABC):
    """What ``fastmf.distributed.ALS`` and ``ImplicitALS`` add to their one-machine class
    (``_local_class``), which follows this class in their bases; the fitted model's
    methods (``to_local``, ``save``, ``recommend_all``) are ``ClusterModelMixin``'s."""

    _local_class = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._local_class is not None:
            _check_signature(cls)

    def _set_cluster_params(self, client, blocks_per_worker, checkpoint_every, retries,
                            timeout):
        """Store the parameters of DISTRIBUTED_PARAMS (each class's constructor calls it)."""
        self.client = client
        self.blocks_per_worker = blocks_per_worker
        self.checkpoint_every = checkpoint_every
        self.retries = retries
        self.timeout = timeout

    # -- fitting -------------------------------------------------------------------------
    def fit(self, train, validation=None, callbacks=(), *, columns=None, duplicates="error",
            keep_on_cluster=False):
        """Train on the cluster; the parameters, ``history_`` and the fitted model are those
        of the one-machine class, which see.

        Parameters
        ----------
        train : dask.dataframe.DataFrame, Interactions or (users, items[, ratings]) tuple
            A dask DataFrame is read on the workers, partition by partition; an
            Interactions (or arrays) is cut into blocks on the driver and sent with the
            tasks that build them.
        validation : Interactions or tuple, optional
            Held-out data on the driver, scored after every iteration.
        callbacks : sequence of callables
            As for the one-machine ``fit``.
        columns : sequence of str, optional
            For a dask DataFrame: the (user, item[, rating]) columns. Default: "user",
            "item" and, when the frame has it, "rating" (without one, every value is 1).
        duplicates : {"error", "last", "sum", "mean"}, default "error"
            For a dask DataFrame: what a repeated (user, item) pair does, as in
            ``Interactions.from_arrays`` ("last" is the last in partition order).
        keep_on_cluster : bool, default False
            Leave the fitted factor blocks (and each user block's seen items) on the
            workers instead of gathering them: the driver keeps the id maps, the
            parameters and ``history_``, and the model then offers ``to_local()``,
            ``save(directory)``, ``recommend_all(out=directory)`` and
            :func:`fastmf.distributed.evaluate`; one-machine serving (``recommend``,
            ``predict``, ...) needs ``to_local()``. No checkpoints are gathered then: a lost
            worker's blocks are recomputed from the start of the fit. Not with validation
            data for ImplicitALS (its validation ranks on the driver).

        Returns
        -------
        self

        Raises
        ------
        ClusterError
            The client was closed during the fit, or the cluster made no progress for
            ``timeout`` seconds (no workers, every worker paused for memory); the message
            names the cause. An earlier fit stays in place.
        ModelFitError, ValueError, TypeError
            As for the one-machine ``fit``.

        Examples
        --------
        >>> import pandas as pd, dask.dataframe as dd, fastmf, fastmf.distributed
        >>> from distributed import Client, LocalCluster
        >>> client = Client(LocalCluster(n_workers=2, processes=False, dashboard_address=":0"))
        >>> frame = pd.DataFrame({"user": ["ann", "bob", "ann", "cid"],
        ...                       "film": ["x", "y", "y", "x"], "stars": [5.0, 3.0, 4.0, 1.0]})
        >>> model = fastmf.distributed.ALS(factors=2, iterations=3, seed=0, verbose=False)
        >>> frame = dd.from_pandas(frame, npartitions=2)
        >>> model = model.fit(frame, columns=("user", "film", "stars"))
        >>> model.user_ids_.ids.tolist(), model.global_mean_
        (['ann', 'bob', 'cid'], 3.25)
        >>> client.cluster.close(); client.close()
        """
        if not isinstance(keep_on_cluster, (bool, np.bool_)):
            raise TypeError(f"keep_on_cluster must be True or False, got {keep_on_cluster!r}")
        if keep_on_cluster and validation is not None and self._task == "ranking":
            raise ValueError(f"{type(self).__name__} ranks its validation data on the driver, "
                             f"which keep_on_cluster=True avoids; fit without validation and "
                             f"score the model with fastmf.distributed.evaluate()")
        if _is_dask_frame(train):
            train = FrameSource(train, columns, duplicates)
        self._keep_on_cluster = bool(keep_on_cluster)
        try:
            return super().fit(train, validation=validation, callbacks=callbacks)
        finally:
            del self._keep_on_cluster
            client = self.__dict__.pop("_fit_client", None)
            if client is not None and client.status == "running":     # no wait: nothing hangs
                client.run(_tasks.release_spares, wait=False, on_error="ignore")

    def _train_data(self, train):
        if isinstance(train, FrameSource):
            return train
        return as_interactions(train, "train")

    def _check_params(self):
        p = super()._check_params()
        v.check_int("blocks_per_worker", self.blocks_per_worker, minimum=1)
        v.check_int("retries", self.retries, minimum=0)
        if self.checkpoint_every is not None:
            v.check_int("checkpoint_every", self.checkpoint_every, minimum=1)
        v.check_float("timeout", self.timeout, minimum=0.0, strict_minimum=True)
        return p

    def _client(self):
        if self.client is not None:
            return self.client
        from distributed import default_client
        try:
            return default_client()
        except ValueError:
            raise ValueError("no Dask client: pass client=distributed.Client(...) or create a "
                             "Client first (it becomes the default)") from None

    def _cluster_data(self, train, p, convert):
        """(Waiter, ClusterData): the blocks of ``train`` (an Interactions or a FrameSource)
        built on the workers, their values made by ``convert(values, p=p)``."""
        waiter = Waiter(self._client(), self.timeout)
        self._fit_client = waiter.client          # fit() frees the workers' spares with it
        workers = waiter.wait_for_workers()
        n_blocks = len(workers) * self.blocks_per_worker
        convert = functools.partial(convert, p=p)
        if isinstance(train, Interactions):
            data = from_interactions(waiter, train, convert, n_blocks)
        else:
            data = from_dask_frame(waiter, train.frame,
                                   _frame_columns(train.frame, train.columns, self),
                                   train.duplicates, convert, n_blocks)
        data.keep_on_cluster = getattr(self, "_keep_on_cluster", False)
        if not data.keep_on_cluster:
            data.ids = None              # only a model kept on the cluster cuts its ids there
        return waiter, data

    # -- the hooks of the fit loop -------------------------------------------------------
    @abstractmethod
    def _submit_iteration(self, state, p):
        """(futures, wanted, commit) of one iteration's tasks: every future submitted (to
        cancel), those to gather (first the blocks' terms, ``_terms``), and
        ``commit(gathered)``, which makes the iteration the state's last completed one."""

    @abstractmethod
    def _make_local(self, state, X, xb, Y, yb):
        """The one-machine state of the gathered factors (biases None without biases)."""

    @abstractmethod
    def _local_arrays(self, local):
        """(X, xb, Y, yb) of a one-machine state: ``_make_local``'s inverse."""

    def _iterate(self, state, p):
        futures, wanted, commit = self._submit_iteration(state, p)
        gathered = self._wait(state, futures, wanted)
        data = state.data
        self._raise_failure(state, gathered[:len(data.user_blocks) + len(data.item_blocks)], p)
        commit(gathered)
        state.iteration += 1
        if (self.checkpoint_every and state.iteration % self.checkpoint_every == 0
                and state.iteration < p.iterations and not state.data.keep_on_cluster):
            self._checkpoint(state)

    def _snapshot(self, state):
        return copy.copy(state)

    def _check_finite(self, state):
        if state.data.keep_on_cluster:
            super()._check_finite(self._make_local(state, *finite_flags(self, state)))
        else:
            super()._check_finite(self._local_state(state))

    def _publish(self, state):
        if state.data.keep_on_cluster:
            publish_on_cluster(self, state)
        else:
            super()._publish(self._local_state(state))
            self.__dict__.pop("_cluster", None)

    # -- tasks and waits -----------------------------------------------------------------
    def _submit(self, state, fn, *args, name, index=None):
        """Submit one task, restricted to no worker: it runs where the scheduler finds
        most of its inputs (a solve, where its rating block is), and where it can when the
        workers that held them are gone."""
        state.waiter.check_open()
        state.submitted += 1                     # keys are unique within a fit, and readable
        key = f"fastmf-{name}-{state.iteration + 1}-{'' if index is None else index}-" \
              f"{state.token}-{state.submitted}"
        return state.client.submit(fn, *args, key=key, retries=self.retries, pure=False)

    def _roots(self, state, X, bias, bounds, blocks, name, n_rows=None):
        """Futures of factor blocks carried by their tasks (no lineage behind them). Each
        task also takes the rating block of its rows (from ``blocks``), unused, so that the
        scheduler makes the factor block where its ratings are without restricting it to
        a worker."""
        futures = []
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
                futures.append(self._submit(
                    state, _tasks.root, int(lo), X[lo:hi], None if bias is None else bias[lo:hi],
                    n_rows, blocks[b], name=f"{name}-root", index=b))
        return futures

    def _terms(self, state, users, items):
        """Futures of what the driver reads of each solved block (``block_terms``: loss
        terms, penalty, failed row), the user blocks first; each runs where its block is, so
        nothing but these small results moves for them."""
        return [self._submit(state, _tasks.block_terms, fb, side, name=f"{side}-terms", index=b)
                for side, blocks in (("user", users), ("item", items))
                for b, fb in enumerate(blocks)]

    def _wait(self, state, futures, wanted):
        """Gather ``wanted`` (a list of futures) within the fit's timeout; Ctrl-C and
        ClusterError cancel ``futures``."""
        return state.waiter.gather(wanted, cancel=futures)

    def _raise_failure(self, state, terms, p):
        failed = [f for t in terms for f in t["failed"]]
        if failed:
            side, index = min(failed, key=lambda f: (f[0] != "user", f[1]))
            self._check_rows_solved(index, side, state.data, p)

    # -- factors on the driver -----------------------------------------------------------
    def _gather_factors(self, state):
        """(X, x_bias, Y, y_bias) of the last completed iteration, on the driver."""
        blocks = self._wait(state, [], state.X + state.Y)
        users, items = blocks[:len(state.X)], blocks[len(state.X):]
        stack = lambda parts: None if parts[0] is None else np.concatenate(parts)  # noqa: E731
        return (stack([b.X for b in users]), stack([b.bias for b in users]),
                stack([b.X for b in items]), stack([b.bias for b in items]))

    def _checkpoint(self, state):
        """Gather the factors, keep them, and start the next iteration from blocks carried by
        their tasks: a lost worker then costs at most ``checkpoint_every`` iterations."""
        local = self._local_state(state)
        X, xb, Y, yb = self._local_arrays(local)
        data = state.data
        state.X = self._roots(state, X, xb, data.user_bounds, data.user_blocks, "user",
                              self._gram_rows("user", state))
        state.Y = self._roots(state, Y, yb, data.item_bounds, data.item_blocks, "item",
                              self._gram_rows("item", state))
        self._after_checkpoint(state)

    def _local_state(self, state):
        if state.local_iteration != state.iteration:
            state.local = self._make_local(state, *self._gather_factors(state))
            state.local_iteration = state.iteration
        return state.local

    def _gram_rows(self, side, state):
        """The rows of ``side`` when its factor blocks carry Gram pieces, else None."""
        return None

    def _after_checkpoint(self, state):
        """What a checkpoint's new factor blocks need beside them (ImplicitALS: YᵀY)."""


def refuse_features(model):
    """ValueError for user or item features, which only the one-machine fit takes."""
    for name in ("user_features", "item_features"):
        if getattr(model, name, None) is not None:
            local = model._local_class.__name__
            raise ValueError(f"{name} is not supported by fastmf.distributed.{local}; fit "
                             f"fastmf.{local} on one machine for {local} with features")


def _is_dask_frame(train):
    try:
        import dask.dataframe as dd
    except ImportError:
        return False
    return isinstance(train, dd.DataFrame)


def _frame_columns(frame, columns, model):
    """The (user, item[, rating]) columns of a dask DataFrame, checked."""
    names = list(frame.columns)
    if columns is None:
        columns = ("user", "item", "rating") if "rating" in names else ("user", "item")
    columns = tuple(columns)
    if len(columns) not in (2, 3):
        raise ValueError(f"columns must name (user, item) or (user, item, rating), got {columns}")
    missing = [c for c in columns if c not in names]
    if missing:
        raise KeyError(f"column {missing[0]!r} is not in the DataFrame (columns: {names}); name "
                       f"the user, item and rating columns with fit(..., columns=(...))")
    if len(columns) == 2 and model._task == "rating":
        raise ValueError(f"ALS needs ratings, and the DataFrame has no rating column (columns: "
                         f"{names}); name it with fit(..., columns=(user, item, rating))")
    return columns


def _check_signature(cls):
    """TypeError unless the constructor of the distributed class ``cls`` takes, keyword
    only, the parameters of its one-machine class with their defaults, then those of
    DISTRIBUTED_PARAMS."""
    def named(signature):
        return [(p.name, p.default) for p in list(signature.parameters.values())[1:]]
    want = named(inspect.signature(cls._local_class.__init__)) + list(DISTRIBUTED_PARAMS.items())
    got = inspect.signature(cls.__init__)
    if named(got) != want or any(p.kind != p.KEYWORD_ONLY
                                 for p in list(got.parameters.values())[1:]):
        raise TypeError(f"{cls.__qualname__}.__init__ must take, keyword only, the parameters "
                        f"of {cls._local_class.__qualname__} and {list(DISTRIBUTED_PARAMS)}, "
                        f"with their defaults: {want}")
