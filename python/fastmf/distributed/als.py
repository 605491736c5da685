"""``fastmf.ALS`` on a Dask cluster: each half-step one task per row block, running the
one-machine row solve (``fastmf._kernels.als``) against the other side's factor blocks."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .. import models
from .._kernels.als import objective, validation_rmse
from ..models._explicit import BiasedState
from ..models._factors import init_factors
from . import _tasks
from ._fit import ClusterState, DaskFit, refuse_features

if TYPE_CHECKING:
    from typing import Literal

    from distributed import Client

    from .._typing import FloatDType, Seed
    from ..features import ItemFeatures, UserFeatures


class ALS(DaskFit, models.ALS):
    """``fastmf.ALS`` trained on a Dask cluster: the same model, bit for bit, from the same seed.

    Each half-step is one task per block of users (then of items), balanced by ratings,
    that solves its rows with the one-machine ALS row solve against all the other side's
    factor blocks, fetched from worker to worker; the loss terms of each iteration are
    exact sums over the blocks, so ``history_`` is the one-machine history too.

    Parameters
    ----------
    factors, regularization, bias_regularization, weighted, iterations, init_std
        As for :class:`fastmf.ALS`; every parameter is keyword only here.
    early_stopping, dtype, num_threads, seed, verbose
        As for :class:`fastmf.ALS`.
    user_features, item_features : None
        Only None: ALS with features trains on one machine (:class:`fastmf.ALS`).
    feature_regularization : float, default 1.0
        Unused without features.
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

    def __init__(self, *, factors: int = 64, regularization: float = 1.0,
                 bias_regularization: float = 3.0, weighted: bool | float = 0.5,
                 iterations: int = 10, init_std: float = 0.01, early_stopping: int | None = None,
                 user_features: UserFeatures | None = None,
                 item_features: Literal["genres"] | ItemFeatures | None = None,
                 feature_regularization: float = 1.0, dtype: FloatDType = "float32",
                 num_threads: int = 0, seed: Seed = None, verbose: bool = True,
                 client: Client | None = None, blocks_per_worker: int = 1,
                 checkpoint_every: int | None = 5, retries: int = 2, timeout: float = 300.0
                 ) -> None:
        super().__init__(factors=factors, regularization=regularization,
                         bias_regularization=bias_regularization, weighted=weighted,
                         iterations=iterations, init_std=init_std, early_stopping=early_stopping,
                         user_features=user_features, item_features=item_features,
                         feature_regularization=feature_regularization, dtype=dtype,
                         num_threads=num_threads, seed=seed, verbose=verbose)
        self._set_cluster_params(client, blocks_per_worker, checkpoint_every, retries, timeout)

    def _check_params(self):
        refuse_features(self)
        return super()._check_params()

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
        return state

    def _submit_iteration(self, state, p):
        data, bpw = state.data, self.blocks_per_worker
        users = [self._submit(state, _tasks.als_solve, block, state.mu, p, bpw, False, *state.Y,
                              name="als-user", index=b)
                 for b, block in enumerate(data.user_blocks)]
        items = [self._submit(state, _tasks.als_solve, block, state.mu, p, bpw, True, *users,
                              name="als-item", index=b)
                 for b, block in enumerate(data.item_blocks)]
        terms = self._terms(state, users, items)
        predictions = [] if state.val is None else [
            self._submit(state, _tasks.als_predictions, users[b], state.mu, p, bpw, pairs, *items,
                         name="als-val", index=b)
            for b, pairs in enumerate(state.val.blocks)]

        def commit(gathered):
            state.X, state.Y = users, items
            state.terms, state.predictions = gathered[:len(terms)], gathered[len(terms):]
        return users + items + terms + predictions, terms + predictions, commit

    def _evaluate(self, state, p):
        terms, data = state.terms, state.data
        sse = sum((t["loss"] for t in terms if t["loss"] is not None), Fraction(0))
        record = {"loss": objective(sse, sum(t["penalty"][0] for t in terms),
                                    sum(t["penalty"][1] for t in terms), p),
                  "train_rmse": float(np.sqrt(float(sse / data.nnz)))}
        if state.val is not None:
            predictions = np.empty(len(state.val.ratings), dtype=p.dtype)
            for positions, values in state.predictions:
                predictions[positions] = values
            record["val_rmse"] = validation_rmse(state.val.ratings, predictions, data.rating_range)
        return record

    def _make_local(self, state, X, xb, Y, yb):
        return BiasedState(X, xb, Y, yb, state.mu, state.data)

    def _local_arrays(self, local):
        return local.X, local.xb, local.Y, local.yb


def _als_values(values, p):
    """The ratings of a block in the model dtype."""
    return values.astype(p.dtype, copy=False)


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
