"""A fitted model whose factors stay on the cluster (``fit(..., keep_on_cluster=True)`` or
``fastmf.distributed.load``): what the driver keeps, what the workers keep, and gathering
it into the one-machine model (``to_local``).

The driver keeps the parameters, ``history_``, the item ids, the block boundaries and, for
users, their number (``user_ids_`` is a ``ClusterIds``: their ids are gathered only when
asked for, e.g. by ``to_local``; a model fitted from an ``Interactions`` already had them
on the driver and keeps its IdMap); the workers keep, per block, the factors (and biases),
the raw ids of its rows and, per user block, the items each of its users has seen (the
rating block of the fit, or the block file read back). Every block is the result of a task
(the fit's last solve, or the read of its file), so Dask builds it again when the worker
that held it is lost.
"""
from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data import IdMap
from ._data import ClusterIds, as_id_map, cut_ids
from ._tasks import FactorBlock

if TYPE_CHECKING:
    from ._wait import Waiter

# The fitted attributes that the cluster holds in blocks (arrays on one machine), and what
# a model that keeps its factors on the cluster must not keep from an earlier fit.
BLOCK_STATE = ("user_factors_", "item_factors_", "user_biases_", "item_biases_", "_seen",
               "ann_index_")


@dataclass
class ClusterFactors:
    """The blocks of a model on the cluster: futures, block by block, of the factors
    (``FactorBlock``: rows ``lo ..`` with their biases, or None), of the seen items of each
    user block (a ``RowBlock``: its CSR's rows are the block's users) and of the raw ids of
    each block's rows."""

    waiter: Waiter
    user_bounds: np.ndarray      # int64, the user blocks' first rows and the user count
    item_bounds: np.ndarray
    X: list
    Y: list
    seen: list
    user_ids: list
    item_ids: list
    dtype: np.dtype
    factors: int

    @property
    def client(self) -> Any:
        return self.waiter.client

    _biased: bool = False        # ALS: the blocks hold biases, scores add the global mean

    def submit(self, fn: Any, *args: Any, name: str, index: int | None = None,
               retries: int = 2) -> Any:
        """One task on the cluster, restricted to no worker (see ``DaskFit._submit``)."""
        self.waiter.check_open()
        key = f"fastmf-{name}-{'' if index is None else index}-{uuid.uuid4().hex[:12]}"
        with warnings.catch_warnings():     # a task that carries its data (ids, a filter)
            warnings.filterwarnings("ignore", message="Sending large graph",
                                    category=UserWarning)
            return self.client.submit(fn, *args, key=key, retries=retries, pure=False)


def publish_on_cluster(model: Any, state: Any) -> None:
    """Set the fitted state of a fit that keeps its factors on the cluster: the blocks of
    ``state`` (the last completed iteration, or the one early stopping returns to) and,
    on the driver, the id maps and the small fitted values."""
    data, p = state.data, model._check_params()
    cluster = ClusterFactors(state.waiter, np.asarray(data.user_bounds, np.int64),
                             np.asarray(data.item_bounds, np.int64), [], [], list(data.user_blocks),
                             [], [], np.dtype(p.dtype), int(p.factors),
                             _biased=model._task == "rating")
    cluster.X, cluster.user_ids = _side(cluster, data, "user", state.X)
    cluster.Y, cluster.item_ids = _side(cluster, data, "item", state.Y)
    for name in BLOCK_STATE:
        vars(model).pop(name, None)
    model.item_ids_ = data.item_ids
    model.user_ids_ = (ClusterIds(cluster.waiter, cluster.user_ids, data.n_users)
                       if data.cluster_user_ids is not None else data.user_ids)
    model.item_info_ = data.item_info
    if cluster._biased:
        model.global_mean_ = float(state.mu)
        model.rating_range_ = data.rating_range
    model._cluster = cluster


def _side(cluster: ClusterFactors, data: Any, side: str, solved: list) -> tuple[list, list]:
    """(factor blocks, id blocks) of one side of a fit: each solved block without what only
    the fit needed, and the raw ids of its rows, placed beside its rating block."""
    bounds, beside = getattr(data, f"{side}_bounds"), getattr(data, f"{side}_blocks")
    factors, id_blocks = [], []
    for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        factors.append(cluster.submit(bare, solved[b], name=f"{side}-factors", index=b))
        if side == "user" and data.cluster_user_ids is not None:
            id_blocks.append(data.cluster_user_ids.blocks[b])     # cut by the data's pass
        elif data.ids is not None:        # the first pass's sorted ids, on the cluster
            id_blocks.append(cluster.submit(cut_ids, data.ids, 0 if side == "user" else 2,
                                            int(lo), int(hi), beside[b], name=f"{side}-ids",
                                            index=b))
        else:                             # an Interactions: the ids are the driver's
            ids = getattr(data, f"{side}_ids")
            id_blocks.append(cluster.submit(carry_ids, ids.ids[lo:hi], beside[b],
                                            name=f"{side}-ids", index=b))
    return factors, id_blocks


def finite_flags(model: Any, state: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, xb, Y, yb) stand-ins for the one-machine ``_check_finite``: one value each, NaN
    when some block of it holds a non-finite value, found on the workers."""
    client = state.waiter.client
    futures = [client.submit(finite, f, pure=False) for f in state.X + state.Y]
    flags = state.waiter.gather(futures, cancel=futures)
    users, items = flags[:len(state.X)], flags[len(state.X):]

    def stand_in(ok: bool, shape: tuple[int, ...]) -> np.ndarray:
        return np.full(shape, 0.0 if ok else np.nan)
    return (stand_in(all(f[0] for f in users), (1, 1)), stand_in(all(f[1] for f in users), (1,)),
            stand_in(all(f[0] for f in items), (1, 1)), stand_in(all(f[1] for f in items), (1,)))


def gather_model(model: Any) -> Any:
    """The one-machine model of a model on the cluster: its blocks gathered and put
    together in block order (what ``fit`` without ``keep_on_cluster`` publishes)."""
    cluster = model._cluster
    structure = [cluster.submit(seen_structure, block, name="seen", index=b)
                 for b, block in enumerate(cluster.seen)]
    wanted = cluster.X + cluster.Y + structure
    parts = cluster.waiter.gather(wanted, cancel=structure)
    users, items = parts[:len(cluster.X)], parts[len(cluster.X):len(cluster.X) + len(cluster.Y)]
    seen = parts[len(cluster.X) + len(cluster.Y):]
    local = model._local_class(**{name: getattr(model, name)
                                  for name in model._local_class._param_names()})
    for name, value in vars(model).items():
        if name.endswith("_") or name in model._private_state:
            setattr(local, name, value)
    local.user_factors_ = np.concatenate([b.X for b in users])
    local.item_factors_ = np.concatenate([b.X for b in items])
    if cluster._biased:
        local.user_biases_ = np.concatenate([b.bias for b in users])
        local.item_biases_ = np.concatenate([b.bias for b in items])
    local.user_ids_ = as_id_map(model.user_ids_)
    indptr = np.zeros(len(model.user_ids_) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([np.diff(p) for p, _ in seen]), out=indptr[1:])
    local._seen = (indptr, np.concatenate([indices for _, indices in seen]))
    return local


def user_id_map(cluster: ClusterFactors) -> Any:
    """A future of the users' IdMap, put together on a worker from the blocks' ids."""
    return cluster.submit(id_map, *cluster.user_ids, name="user-id-map")


def item_id_map(cluster: ClusterFactors) -> Any:
    return cluster.submit(id_map, *cluster.item_ids, name="item-id-map")


# -- tasks -------------------------------------------------------------------------------
def bare(block: FactorBlock) -> FactorBlock:
    """A solved block without what only the fit needed (its Gram pieces, its penalties)."""
    return FactorBlock(block.lo, block.X, block.bias)


def carry_ids(ids: np.ndarray, beside: Any = None) -> np.ndarray:
    """The raw ids of a block's rows, carried by their task; ``beside`` only places the
    task where that block is."""
    return ids


def finite(block: FactorBlock) -> tuple[bool, bool]:
    """Whether a block's factors, and its biases, are all finite."""
    return (bool(np.isfinite(block.X).all()),
            block.bias is None or bool(np.isfinite(block.bias).all()))


def seen_structure(block: Any) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of a user block's seen items."""
    return block.R.indptr, block.R.indices


def id_map(*blocks: np.ndarray) -> IdMap:
    return IdMap(np.concatenate(blocks))


def stacked_items(*blocks: FactorBlock) -> tuple[np.ndarray, np.ndarray]:
    """(Y, item bias) of the item blocks put together, the bias zeros for a model without
    biases: what every user block ranks against."""
    Y = np.ascontiguousarray(np.concatenate([b.X for b in blocks]))
    if blocks[0].bias is None:
        return Y, np.zeros(len(Y), Y.dtype)
    return Y, np.ascontiguousarray(np.concatenate([b.bias for b in blocks]))


def item_counts(n_items: int, *seen: Any) -> np.ndarray:
    """The training interactions of each item, from the seen items of user blocks."""
    counts = np.zeros(n_items, np.int64)
    for block in seen:
        counts += np.bincount(block.R.indices, minlength=n_items)
    return counts
