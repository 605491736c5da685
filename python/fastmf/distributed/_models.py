"""ALS and ImplicitALS trained on a Dask cluster: the one-machine models' fit loop (history,
callbacks, early stopping, progress bar, Ctrl-C) with each half-step run as one task per
row block."""
import copy
import functools
import inspect
import uuid
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .. import models
from ..data import Interactions, as_interactions
from ..exceptions import ModelFitError
from ..models._arrays import init_factors
from ..models._locking import reads
from ..models._explicit import BiasedState, objective as explicit_objective, validation_rmse
from ..models.implicit_als import ImplicitState, objective as implicit_objective
from . import _tasks
from ._data import from_dask_frame, from_interactions
from ._wait import Waiter

# The parameters a distributed model has beyond those of its one-machine class.
DISTRIBUTED_PARAMS = {"client": None, "blocks_per_worker": 1, "checkpoint_every": 5,
                      "retries": 2, "timeout": 300.0}


@dataclass
class ClusterState:
    """A distributed fit between iterations: futures of the factor blocks of the last
    completed iteration (``X`` by user block, ``Y`` by item block) and what was gathered."""

    waiter: object               # _wait.Waiter: the client and the fit's bounded waits
    data: object                 # ClusterData
    mu: float = 0.0
    X: list = None
    Y: list = None
    YtY: object = None           # ImplicitALS: future of the item side's Gram matrix
    val: object = None           # validation data, by user block
    iteration: int = 0
    terms: list = None           # the gathered loss terms of the last iteration
    grams: tuple = None          # ImplicitALS: (XtX, YtY) of the last iteration
    local: object = None         # one-machine state of the arrays, when gathered
    local_iteration: int = -1
    own: list = None             # per user block, the item blocks it reports on
    submitted: int = 0           # tasks submitted so far
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    client = property(lambda self: self.waiter.client)


class DaskFit:
    """What ``fastmf.distributed.ALS`` and ``ImplicitALS`` add to their one-machine class."""

    _local_class = None

    def __init__(self, **params):
        for name, default in DISTRIBUTED_PARAMS.items():
            setattr(self, name, params.pop(name, default))
        self._local_class.__init__(self, **params)

    @classmethod
    def _param_names(cls):
        return cls._local_class._param_names() + list(DISTRIBUTED_PARAMS)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["client"] = None                  # a client is a connection, not a value
        return state

    # -- the fitted model ----------------------------------------------------------------
    @reads
    def to_local(self):
        """The fitted model as an ordinary one-machine model (``fastmf.ALS`` or
        ``fastmf.ImplicitALS``), with the same parameters and fitted state.

        Returns
        -------
        fastmf.ALS or fastmf.ImplicitALS

        Examples
        --------
        >>> import fastmf, fastmf.distributed
        >>> from distributed import Client, LocalCluster
        >>> client = Client(LocalCluster(n_workers=1, processes=False, dashboard_address=":0"))
        >>> model = fastmf.distributed.ALS(factors=2, iterations=2, seed=0, verbose=False)
        >>> local = model.fit(fastmf.datasets.toy()).to_local()
        >>> type(local).__name__, bool((local.item_factors_ == model.item_factors_).all())
        ('ALS', True)
        >>> client.cluster.close(); client.close()
        """
        local = self._local_class(**{name: getattr(self, name)
                                     for name in self._local_class._param_names()})
        for name, value in vars(self).items():
            if name.endswith("_") or name in self._private_state:
                setattr(local, name, value)
        return local

    def save(self, path):
        """Write the fitted model as its one-machine class (see ``fastmf.ALS.save``):
        ``fastmf.load`` gives back a ``fastmf.ALS`` or ``fastmf.ImplicitALS``.

        Examples
        --------
        >>> import tempfile, fastmf, fastmf.distributed
        >>> from distributed import Client, LocalCluster
        >>> client = Client(LocalCluster(n_workers=1, processes=False, dashboard_address=":0"))
        >>> model = fastmf.distributed.ALS(factors=2, iterations=2, seed=0, verbose=False)
        >>> model = model.fit(fastmf.datasets.toy())
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print(type(fastmf.load(model.save(f"{folder}/model"))).__name__)
        ALS
        >>> client.cluster.close(); client.close()
        """
        self._check_is_fitted()
        return self.to_local().save(path)

    # -- fitting -------------------------------------------------------------------------
    def fit(self, train, validation=None, callbacks=(), *, columns=None, duplicates="error"):
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
        >>> frame = pd.DataFrame({"user": ["ann", "bob", "ann", "cid"], "film": ["x", "y", "y", "x"],
        ...                       "stars": [5.0, 3.0, 4.0, 1.0]})
        >>> model = fastmf.distributed.ALS(factors=2, iterations=3, seed=0, verbose=False)
        >>> model = model.fit(dd.from_pandas(frame, npartitions=2), columns=("user", "film", "stars"))
        >>> model.user_ids_.ids.tolist(), model.global_mean_
        (['ann', 'bob', 'cid'], 3.25)
        >>> client.cluster.close(); client.close()
        """
        self._source = (columns, duplicates)
        try:
            return super().fit(train, validation=validation, callbacks=callbacks)
        finally:
            del self._source

    def _train_data(self, train):
        if _is_dask_frame(train):
            return train
        return as_interactions(train, "train")

    def _client(self):
        if self.client is not None:
            return self.client
        from distributed import default_client
        try:
            return default_client()
        except ValueError:
            raise ValueError("no Dask client: pass client=distributed.Client(...) or create a "
                             "Client first (it becomes the default)") from None

    def _check_distributed_params(self):
        from .. import _validation as v
        v.check_int("blocks_per_worker", self.blocks_per_worker, minimum=1)
        v.check_int("retries", self.retries, minimum=0)
        if self.checkpoint_every is not None:
            v.check_int("checkpoint_every", self.checkpoint_every, minimum=1)
        v.check_float("timeout", self.timeout, minimum=0.0, strict_minimum=True)

    def _cluster_data(self, train, p, convert):
        waiter = Waiter(self._client(), self.timeout)
        workers = waiter.wait_for_workers()
        n_blocks = len(workers) * self.blocks_per_worker
        convert = functools.partial(convert, p=p)
        if isinstance(train, Interactions):
            data = from_interactions(waiter, train, convert, n_blocks)
        else:
            columns, duplicates = self._source
            data = from_dask_frame(waiter, train, _frame_columns(train, columns, self),
                                   duplicates, convert, n_blocks)
        return waiter, data

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

    def _wait(self, state, futures, wanted):
        """Gather ``wanted`` (a list of futures) within the fit's timeout; Ctrl-C and
        ClusterError cancel ``futures``."""
        return state.waiter.gather(wanted, cancel=futures)

    def _raise_failure(self, state, terms, p):
        failed = [f for t in terms for f in t["failed"]]
        if failed:
            side, index = min(failed, key=lambda f: (f[0] != "user", f[1]))
            self._check_rows_solved(index, side, state.data, p)

    def _iterate(self, state, p):
        futures, wanted, commit = self._submit_iteration(state, p)
        gathered = self._wait(state, futures, wanted)
        self._raise_failure(state, gathered[:len(state.data.user_blocks)], p)
        commit(gathered)
        state.iteration += 1
        if self.checkpoint_every and state.iteration % self.checkpoint_every == 0:
            self._checkpoint(state)

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

    def _snapshot(self, state):
        return copy.copy(state)

    def _check_finite(self, state):
        self._local_class._check_finite(self, self._local_state(state))

    def _publish(self, state):
        self._local_class._publish(self, self._local_state(state))

    def _gram_rows(self, side, state):
        return None

    def _after_checkpoint(self, state):
        pass


class ALS(DaskFit, models.ALS):
    """``fastmf.ALS`` trained on a Dask cluster: the same model, bit for bit, from the same seed.

    Each half-step is one task per block of users (then of items), balanced by ratings,
    that solves its rows with the one-machine ALS row solve against all the other side's
    factor blocks, fetched from worker to worker; the loss terms of each iteration are
    exact sums over the blocks, so ``history_`` is the one-machine history too.

    Parameters
    ----------
    **params
        Every parameter of :class:`fastmf.ALS` (keyword only), but ``item_features``.
    client : dask.distributed.Client, optional
        The cluster to train on; None: the current default client.
    blocks_per_worker : int, default 1
        Row blocks per worker and side (more blocks: finer balance and recovery, more
        tasks).
    checkpoint_every : int or None, default 5
        Every so many iterations, gather the factors and start the next iteration from
        them, so that a lost worker costs at most that many iterations of recomputation.
    retries : int, default 2
        How often Dask runs a task again that raised (a lost worker's tasks are run
        again anyway).
    timeout : float, default 300
        Seconds the fit waits while the cluster makes no progress (no task of the fit
        finishes and no task runs on a worker that is not paused) before it raises
        :class:`fastmf.ClusterError` naming the cause: no workers, every worker paused
        by Dask's memory monitor, tasks no worker takes. Lost workers cost time, not the
        fit: their blocks are rebuilt on the workers left, or on those that replace them
        within the timeout. A closed client raises at once. A long task is progress, so
        the timeout need not exceed an iteration; it must exceed the time the cluster
        takes to replace lost workers.

    Examples
    --------
    >>> import fastmf, fastmf.distributed
    >>> from distributed import Client, LocalCluster
    >>> client = Client(LocalCluster(n_workers=2, processes=False, dashboard_address=":0"))
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> model = fastmf.distributed.ALS(factors=8, iterations=5, seed=0, verbose=False)
    >>> model.fit(data).n_iter_, model.recommend(1, n=3)[0].shape
    (5, (3,))
    >>> type(model.to_local())
    <class 'fastmf.models.als.ALS'>
    >>> client.cluster.close(); client.close()
    """

    _local_class = models.ALS

    def __init__(self, **params):
        DaskFit.__init__(self, **params)

    def _check_params(self):
        p = models.ALS._check_params(self)
        self._check_distributed_params()
        if p.item_features is not None:
            raise ValueError("item_features is not supported by fastmf.distributed.ALS; fit "
                             "fastmf.ALS on one machine for ALS with features")
        return p

    def _start(self, train, val, p):
        waiter, data = self._cluster_data(train, p, _als_values)
        state = ClusterState(waiter, data, mu=p.dtype(data.mean))
        _, Y = init_factors(np.random.default_rng(p.seed), data.n_users, data.n_items,
                            p.factors, p.init_std, p.dtype, users=False)
        state.Y = self._roots(state, Y, np.zeros(data.n_items, p.dtype), data.item_bounds,
                              data.item_blocks, "item")
        state.val = _validation_blocks(state, val)
        if state.val is not None:           # sent once, not with every iteration's tasks
            state.val.blocks = [self._submit(state, _tasks.carry, pairs, block, name="val",
                                             index=b)
                                for b, (pairs, block) in enumerate(zip(state.val.blocks,
                                                                       data.user_blocks))]
        state.own = _own_blocks(data)
        return state

    def _submit_iteration(self, state, p):
        data, bpw = state.data, self.blocks_per_worker
        users = [self._submit(state, _tasks.als_solve, block, state.mu, p, bpw, *state.Y,
                              name="als-user", index=b)
                 for b, block in enumerate(data.user_blocks)]
        items = [self._submit(state, _tasks.als_solve, block, state.mu, p, bpw, *users,
                              name="als-item", index=b)
                 for b, block in enumerate(data.item_blocks)]
        terms = [self._submit(state, _tasks.als_terms, block, users[b], state.own[b], state.mu,
                              p, bpw, state.val.blocks[b] if state.val else None, *items,
                              name="als-terms", index=b)
                 for b, block in enumerate(data.user_blocks)]

        def commit(gathered):
            state.X, state.Y, state.terms = users, items, gathered
        return users + items + terms, terms, commit

    def _evaluate(self, state, p):
        terms, data = state.terms, state.data
        sse = sum((t["sse"] for t in terms), Fraction(0))
        record = {"loss": explicit_objective(sse, sum(t["penalty"] for t in terms),
                                             sum(t["bias_sq"] for t in terms), p),
                  "train_rmse": float(np.sqrt(float(sse / data.nnz)))}
        if state.val is not None:
            predictions = np.empty(len(state.val.ratings), dtype=p.dtype)
            for t in terms:
                if t["predictions"] is not None:
                    positions, values = t["predictions"]
                    predictions[positions] = values
            record["val_rmse"] = validation_rmse(state.val.ratings, predictions, data.rating_range)
        return record

    def _make_local(self, state, X, xb, Y, yb):
        return BiasedState(X, xb, Y, yb, state.mu, state.data)

    @staticmethod
    def _local_arrays(local):
        return local.X, local.xb, local.Y, local.yb


class ImplicitALS(DaskFit, models.ImplicitALS):
    """``fastmf.ImplicitALS`` (any solver) trained on a Dask cluster: the same model, bit
    for bit, from the same seed.

    Each half-step is one task per row block, as for :class:`fastmf.distributed.ALS`; YᵀY is
    all-reduced: each solved block hands on the Gram matrices of the fixed chunks of rows it
    holds whole and the rows of those it shares with a neighbour, and one small task sums
    them in chunk order, as one machine does. With validation data the factors are gathered
    on the driver after every iteration to rank the validation users.

    Parameters
    ----------
    **params
        Every parameter of :class:`fastmf.ImplicitALS` (keyword only).
    client, blocks_per_worker, checkpoint_every, retries, timeout
        As for :class:`fastmf.distributed.ALS`.

    Examples
    --------
    >>> import fastmf, fastmf.distributed
    >>> from distributed import Client, LocalCluster
    >>> client = Client(LocalCluster(n_workers=2, processes=False, dashboard_address=":0"))
    >>> data = fastmf.Interactions.from_arrays([0, 0, 0, 1, 1, 2, 2, 3], [0, 1, 2, 0, 1, 3, 4, 3])
    >>> model = fastmf.distributed.ImplicitALS(factors=4, iterations=10, seed=0, verbose=False)
    >>> model.fit(data).recommend(1, n=1)[0].tolist()       # user 1 shares user 0's taste
    [2]
    >>> client.cluster.close(); client.close()
    """

    _local_class = models.ImplicitALS

    def __init__(self, **params):
        DaskFit.__init__(self, **params)

    def _check_params(self):
        p = models.ImplicitALS._check_params(self)
        self._check_distributed_params()
        return p

    def _start(self, train, val, p):
        waiter, data = self._cluster_data(train, p, _implicit_values)
        if data.negatives:
            raise ValueError(f"implicit data must be counts >= 0; found {data.negatives} "
                             f"negative values")
        state = ClusterState(waiter, data)
        X, Y = init_factors(np.random.default_rng(p.seed), data.n_users, data.n_items,
                            p.factors, p.init_std, p.dtype, users=p.solver != "cholesky")
        state.Y = self._roots(state, Y, None, data.item_bounds, data.item_blocks, "item",
                              data.n_items)
        if X is not None:
            state.X = self._roots(state, X, None, data.user_bounds, data.user_blocks, "user")
        state.YtY = self._gram(state, state.Y, "item-gram")
        state.val = val
        state.own = _own_blocks(data)
        return state

    def _gram(self, state, blocks, name):
        parts = [self._submit(state, _tasks.gram_part, f, name=f"{name}-part", index=b)
                 for b, f in enumerate(blocks)]
        return self._submit(state, _tasks.gram_reduce, *parts, name=name)

    def _submit_iteration(self, state, p):
        data, bpw = state.data, self.blocks_per_worker
        before = state.X if p.solver != "cholesky" else [None] * len(data.user_blocks)
        users = [self._submit(state, _tasks.implicit_solve, block, before[b], state.YtY,
                              data.n_users, p, bpw, *state.Y, name="ials-user", index=b)
                 for b, block in enumerate(data.user_blocks)]
        XtX = self._gram(state, users, "user-gram")
        before = state.Y if p.solver != "cholesky" else [None] * len(data.item_blocks)
        items = [self._submit(state, _tasks.implicit_solve, block, before[b], XtX,
                              data.n_items, p, bpw, *users, name="ials-item", index=b)
                 for b, block in enumerate(data.item_blocks)]
        YtY = self._gram(state, items, "item-gram")
        terms = [self._submit(state, _tasks.implicit_terms, block, users[b], state.own[b], p,
                              bpw, *items, name="ials-terms", index=b)
                 for b, block in enumerate(data.user_blocks)]

        def commit(gathered):
            state.X, state.Y, state.YtY = users, items, YtY
            state.terms, state.grams = gathered[:-2], tuple(gathered[-2:])
        return users + items + terms + [XtX, YtY], terms + [XtX, YtY], commit

    def _evaluate(self, state, p):
        observed = sum((t["observed"] for t in state.terms), Fraction(0))
        penalties = sum((t["penalty"] for t in state.terms), Fraction(0))
        record = {"loss": implicit_objective(*state.grams, observed, penalties, p)}
        if state.val is not None:
            local = self._local_state(state)
            record.update(self._validation_scores(local, state.data.seen_interactions()))
        return record

    def _make_local(self, state, X, xb, Y, yb):
        return ImplicitState(X, Y, state.data, None, None, state.val)

    @staticmethod
    def _local_arrays(local):
        return local.X, None, local.Y, None

    def _gram_rows(self, side, state):
        return state.data.n_items if side == "item" else None

    def _after_checkpoint(self, state):
        state.YtY = self._gram(state, state.Y, "item-gram")


# -- helpers -----------------------------------------------------------------------------
def _als_values(values, p):
    """The ratings of a block in the model dtype."""
    return values.astype(p.dtype, copy=False)


def _implicit_values(values, p):
    """The values v of a block (c - 1 = α v), as ImplicitALS computes them; negative counts
    (reported by the block's stats) are left for the driver to refuse."""
    return models.ImplicitALS._confidence_values(np.maximum(values, 0), p)


def _own_blocks(data):
    """For each user block, the item blocks whose loss terms and failures it reports."""
    n_user = len(data.user_blocks)
    return [[j for j in range(len(data.item_blocks)) if j % n_user == b] for b in range(n_user)]


@dataclass
class _Validation:
    ratings: np.ndarray          # float64, in the order of the validation data
    blocks: list                 # per user block: (positions, local user index, item index)


def _validation_blocks(state, val):
    """The validation pairs of ALS cut by user block (an unknown user goes to block 0 with
    index -1, which the prediction kernel reads as "unknown")."""
    if val is None:
        return None
    data = state.data
    uidx, iidx = data.user_ids.index(val.users), data.item_ids.index(val.items)
    bounds = data.user_bounds
    block = np.where(uidx >= 0, np.searchsorted(bounds, uidx, side="right") - 1, 0)
    blocks = []
    for b, lo in enumerate(bounds[:-1]):
        positions = np.flatnonzero(block == b)
        local = np.where(uidx[positions] >= 0, uidx[positions] - lo, -1)
        blocks.append((positions, local.astype(np.int64), iidx[positions].astype(np.int64)))
    return _Validation(val.ratings.astype(np.float64), blocks)


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
    if len(columns) == 2 and isinstance(model, models.ALS):
        raise ValueError(f"ALS needs ratings, and the DataFrame has no rating column (columns: "
                         f"{names}); name it with fit(..., columns=(user, item, rating))")
    return columns


def _signature(local_class):
    """The keyword-only signature of a distributed class: its one-machine parameters,
    then the distributed ones."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for p in list(inspect.signature(local_class.__init__).parameters.values())[1:]:
        params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
               for name, default in DISTRIBUTED_PARAMS.items()]
    return inspect.Signature(params)


ALS.__init__.__signature__ = _signature(models.ALS)
ImplicitALS.__init__.__signature__ = _signature(models.ImplicitALS)
