"""``fastmf.ImplicitALS`` on a Dask cluster: each half-step one task per row block, running the
one-machine row solve (``fastmf._kernels.implicit_als``), with YᵀY all-reduced in the chunk
order of one machine."""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .. import models
from .._kernels.implicit_als import objective
from ..models._factors import init_factors
from ..models.implicit_als import ImplicitState
from . import _tasks
from ._fit import ClusterState, DaskFit, refuse_features

if TYPE_CHECKING:
    from typing import Literal

    from distributed import Client

    from .._typing import FloatDType, Seed
    from ..features import ItemFeatures, UserFeatures


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
    factors, regularization, alpha, unobserved_weight, regularization_exponent, confidence
        As for :class:`fastmf.ImplicitALS`; every parameter is keyword only here.
    epsilon, iterations, solver, cg_steps, block_size, init_std, early_stopping, dtype
        As for :class:`fastmf.ImplicitALS`.
    user_features, item_features : None
        Only None: ImplicitALS with features trains on one machine
        (:class:`fastmf.ImplicitALS`).
    feature_regularization : float, default 1.0
        Unused without features.
    num_threads, seed, verbose
        As for :class:`fastmf.ImplicitALS`.
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

    def __init__(self, *, factors: int = 64, regularization: float = 1.0, alpha: float = 0.5,
                 unobserved_weight: float = 0.5, regularization_exponent: float = 0.5,
                 confidence: Literal["log", "linear"] = "log", epsilon: float = 0.005,
                 iterations: int = 8, solver: Literal["cholesky", "cg", "block"] = "cholesky",
                 cg_steps: int = 3, block_size: int = 32, init_std: float | None = None,
                 early_stopping: int | None = None, user_features: UserFeatures | None = None,
                 item_features: Literal["genres"] | ItemFeatures | None = None,
                 feature_regularization: float = 1.0, dtype: FloatDType = "float32",
                 num_threads: int = 0, seed: Seed = None, verbose: bool = True,
                 client: Client | None = None, blocks_per_worker: int = 1,
                 checkpoint_every: int | None = 5, retries: int = 2, timeout: float = 300.0
                 ) -> None:
        super().__init__(factors=factors, regularization=regularization, alpha=alpha,
                         unobserved_weight=unobserved_weight,
                         regularization_exponent=regularization_exponent, confidence=confidence,
                         epsilon=epsilon, iterations=iterations, solver=solver,
                         cg_steps=cg_steps, block_size=block_size, init_std=init_std,
                         early_stopping=early_stopping, user_features=user_features,
                         item_features=item_features,
                         feature_regularization=feature_regularization, dtype=dtype,
                         num_threads=num_threads, seed=seed, verbose=verbose)
        self._set_cluster_params(client, blocks_per_worker, checkpoint_every, retries, timeout)

    def _check_params(self):
        refuse_features(self)
        return super()._check_params()

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
        return state

    def _gram(self, state, blocks, name):
        parts = [self._submit(state, _tasks.gram_part, f, name=f"{name}-part", index=b)
                 for b, f in enumerate(blocks)]
        return self._submit(state, _tasks.gram_reduce, *parts, name=name)

    def _submit_iteration(self, state, p):
        data, bpw = state.data, self.blocks_per_worker
        before = state.X if p.solver != "cholesky" else [None] * len(data.user_blocks)
        users = [self._submit(state, _tasks.implicit_solve, block, before[b], state.YtY,
                              data.n_users, p, bpw, False, *state.Y, name="ials-user", index=b)
                 for b, block in enumerate(data.user_blocks)]
        XtX = self._gram(state, users, "user-gram")
        before = state.Y if p.solver != "cholesky" else [None] * len(data.item_blocks)
        items = [self._submit(state, _tasks.implicit_solve, block, before[b], XtX,
                              data.n_items, p, bpw, True, *users, name="ials-item", index=b)
                 for b, block in enumerate(data.item_blocks)]
        YtY = self._gram(state, items, "item-gram")
        terms = self._terms(state, users, items)

        def commit(gathered):
            state.X, state.Y, state.YtY = users, items, YtY
            state.terms, state.grams = gathered[:-2], tuple(gathered[-2:])
        return users + items + terms + [XtX, YtY], terms + [XtX, YtY], commit

    def _evaluate(self, state, p):
        observed = sum((t["loss"] for t in state.terms if t["loss"] is not None), Fraction(0))
        penalties = sum((t["penalty"] for t in state.terms), Fraction(0))
        record = {"loss": objective(*state.grams, observed, penalties, p)}
        if state.val is not None:
            local = self._local_state(state)
            record.update(self._validation_scores(local, state.data.seen_interactions()))
        return record

    def _make_local(self, state, X, xb, Y, yb):
        return ImplicitState(X, Y, state.data, None, None, state.val)

    def _local_arrays(self, local):
        return local.X, None, local.Y, None

    def _gram_rows(self, side, state):
        return state.data.n_items if side == "item" else None

    def _after_checkpoint(self, state):
        state.YtY = self._gram(state, state.Y, "item-gram")


def _implicit_values(values, p):
    """The values v of a block (c - 1 = α v), as ImplicitALS computes them; negative counts
    (reported by the block's stats) are left for the driver to refuse."""
    return models.ImplicitALS._confidence_values(np.maximum(values, 0), p)
