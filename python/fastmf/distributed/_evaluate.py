"""``fastmf.distributed.evaluate``: the ranking metrics of a model on the cluster, on test
interactions in a dask DataFrame, as ``fastmf.metrics.evaluate`` computes them on one
machine.

Each test partition is mapped to the model's indices on a worker (the id maps put together
there once) and cut by user block; each user block then ranks its test users where its
factors are, with the C++ pass that ``fastmf.metrics.evaluate`` runs (``kernel_batch``: the
top-k and every user's AUC), and adds up its users' metrics (``_add_batch``). The driver
receives per block the sums, the number of users and the items shown in the top-k (one bit
an item), and divides.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _validation as v
from ..data import Interactions
from ..metrics._batches import kernel_batch
from ..metrics._evaluate import (METRICS, _add_batch, _checked_ks, _checked_metrics,
                                 _checked_verbose, _key, _sorted_unique, _summary)
from ._data import _partition_columns
from ._model import item_id_map, stacked_items, user_id_map

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import Metric
    from ..data import IdMap
    from ._data import RowBlock
    from ._tasks import FactorBlock

MERGE_FAN_IN = 8


def evaluate(model: Any, test: Any, k: int | Sequence[int] = 10,
             metrics: Metric | Sequence[Metric] = METRICS, *, exclude_seen: bool = True,
             columns: Sequence[str] | None = None, batch_size: int = 1024,
             verbose: bool | None = None) -> dict[str, float]:
    """Ranking metrics of a model kept on a cluster, computed where its user blocks are.

    The figures are those of :func:`fastmf.metrics.evaluate` with the model gathered
    (``to_local()``) and, with ``exclude_seen``, its training interactions as ``train``:
    each test user known to the model is ranked against every item, their training items
    left out; the relevant items are their test items known to the model and not among
    their training items. The metrics are summed per block and added up on the driver, so
    a figure may differ from the one-machine figure in its last bits (the order of the
    sums), never more.

    Parameters
    ----------
    model : fastmf.distributed.ALS or fastmf.distributed.ImplicitALS
        A model on the cluster (``fit(..., keep_on_cluster=True)`` or
        :func:`fastmf.distributed.load`).
    test : dask.dataframe.DataFrame or Interactions
        Held-out (user, item) pairs; a dask DataFrame is read on the workers, partition by
        partition. Every test pair counts as relevant, whatever its rating.
    k, metrics, batch_size, verbose
        As for :func:`fastmf.metrics.evaluate` (``verbose``: a progress bar over the user
        blocks).
    exclude_seen : bool, default True
        Leave each user's training items out of the ranking (``train=`` of the
        one-machine ``evaluate``).
    columns : sequence of two str, optional
        The user and item columns of a dask DataFrame; default "user" and "item".

    Returns
    -------
    dict
        As :func:`fastmf.metrics.evaluate` returns.

    Raises
    ------
    TypeError
        ``model`` does not keep its factors on a cluster, or ``test`` is neither a dask
        DataFrame nor an Interactions.
    KeyError
        A column is not in the DataFrame.
    ValueError
        A bad ``k``, ``batch_size`` or metric name, or no test user can be evaluated.

    Examples
    --------
    >>> import fastmf, fastmf.distributed
    >>> from distributed import Client, LocalCluster
    >>> client = Client(LocalCluster(n_workers=2, processes=False, dashboard_address=":0"))
    >>> data = fastmf.datasets.make_ratings(300, 100, 5000, seed=0)
    >>> train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    >>> model = fastmf.distributed.ImplicitALS(factors=8, iterations=3, seed=0, verbose=False)
    >>> model = model.fit(train, keep_on_cluster=True)
    >>> result = fastmf.distributed.evaluate(model, test, k=5, metrics=("precision", "auc"))
    >>> local = fastmf.metrics.evaluate(model.to_local(), test, train=train, k=5,
    ...                                 metrics=("precision", "auc"))
    >>> all(abs(result[key] - local[key]) < 1e-12 for key in local)
    True
    >>> client.cluster.close(); client.close()
    """
    ks = _checked_ks(k)
    names = _checked_metrics(metrics)
    batch_size = v.check_int("batch_size", batch_size, minimum=1)
    if not isinstance(exclude_seen, (bool, np.bool_)):
        raise TypeError(f"exclude_seen must be True or False, got {exclude_seen!r}")
    cluster = getattr(model, "_cluster", None) if "_cluster" in vars(model) else None
    if cluster is None:
        raise TypeError(f"model must keep its factors on a cluster (fit(..., "
                        f"keep_on_cluster=True) or fastmf.distributed.load); for "
                        f"{type(model).__name__} on one machine use fastmf.metrics.evaluate")
    verbose = _checked_verbose(verbose, model)
    parts = cluster.client.compute(_test_partitions(test, columns, len(cluster.X)))
    threads = v.check_num_threads(model.num_threads)
    users, items = user_id_map(cluster), item_id_map(cluster)
    split = [cluster.submit(split_test, part, position, users, items, cluster.user_bounds,
                            name="test-split", index=position)
             for position, part in enumerate(parts)]
    n_test_users = _count_distinct(cluster, split)
    n_items = len(model.item_ids_)
    ranked = cluster.submit(stacked_items, *cluster.Y, name="items")
    mu = model.global_mean_ if cluster._biased else None
    blocks = [cluster.submit(evaluate_block, b, cluster.X[b],
                             cluster.seen[b] if exclude_seen else None, ranked, n_items, mu, ks,
                             names, batch_size, threads, *split, name="evaluate", index=b)
              for b in range(len(cluster.X))]
    from tqdm.auto import tqdm
    with tqdm(total=len(blocks), disable=not verbose, desc="evaluate", unit="block") as bar:
        results = cluster.waiter.gather([n_test_users] + blocks, cancel=blocks + parts,
                                        on_done=lambda done: bar.update(done - bar.n))
    n_test_users, results = results[0], results[1:]
    n_users = sum(r[2] for r in results)
    if n_users == 0:
        raise ValueError(f"none of the {n_test_users} test users has a test item known to "
                         f"the model (and not among their training items); nothing to evaluate")
    totals = {key: sum(r[0][key] for r in results) for key in results[0][0]}
    covered = {kk: np.unpackbits(np.bitwise_or.reduce([r[1][kk] for r in results]),
                                 count=n_items).astype(bool) for kk in ks}
    return _summary(names, totals, covered, ks, n_users, n_test_users - n_users)


def _test_partitions(test: Any, columns: Sequence[str] | None, n_blocks: int) -> list[Any]:
    """The delayed partitions of the test pairs, (user, item) columns."""
    import dask.dataframe as dd
    if isinstance(test, Interactions):
        users, items, _ = test.to_arrays()
        import pandas as pd
        test = dd.from_pandas(pd.DataFrame({"user": users, "item": items}),
                              npartitions=max(1, n_blocks))
        columns = ("user", "item")
    if not isinstance(test, dd.DataFrame):
        raise TypeError(f"test must be a dask DataFrame of (user, item) columns or an "
                        f"Interactions, got {type(test).__name__}")
    columns = ("user", "item") if columns is None else tuple(columns)
    if len(columns) != 2:
        raise ValueError(f"columns must name the (user, item) columns, got {columns}")
    missing = [c for c in columns if c not in test.columns]
    if missing:
        raise KeyError(f"column {missing[0]!r} is not in the test DataFrame (columns: "
                       f"{list(test.columns)}); name them with columns=(user, item)")
    return list(test[list(columns)].to_delayed())


def _count_distinct(cluster: Any, split: list[Any]) -> Any:
    """A future of the number of distinct test users (known to the model or not)."""
    level = [cluster.submit(_first, s, name="test-users") for s in split]
    while len(level) > 1:
        level = [cluster.submit(_union, *level[i:i + MERGE_FAN_IN], name="test-users")
                 for i in range(0, len(level), MERGE_FAN_IN)]
    return cluster.submit(len, level[0], name="test-user-count")


# -- tasks -------------------------------------------------------------------------------
def split_test(frame: Any, position: int, users: IdMap, items: IdMap, bounds: np.ndarray
               ) -> tuple[np.ndarray, list[np.ndarray]]:
    """(the partition's distinct raw users, per user block the sorted ``local user *
    n_items + item`` keys of its pairs known to the model)."""
    raw_users, raw_items, _ = _partition_columns(frame, position)
    uidx, iidx = users.index(raw_users), items.index(raw_items)
    known = (uidx >= 0) & (iidx >= 0)
    uidx, iidx = uidx[known].astype(np.int64), iidx[known].astype(np.int64)
    block = np.searchsorted(bounds, uidx, side="right") - 1
    keys = []
    for b, lo in enumerate(bounds[:-1]):
        mine = block == b
        keys.append(_sorted_unique((uidx[mine] - lo) * len(items) + iidx[mine]))
    return np.unique(raw_users), keys


def _first(split: tuple[np.ndarray, list[np.ndarray]]) -> np.ndarray:
    return split[0]


def _union(*parts: np.ndarray) -> np.ndarray:
    return np.unique(np.concatenate(parts))


def evaluate_block(b: int, user: FactorBlock, seen: RowBlock | None,
                   ranked: tuple[np.ndarray, np.ndarray], n_items: int, mu: float | None,
                   ks: tuple[int, ...], names: tuple[str, ...], batch_size: int,
                   num_threads: int, *split: tuple[np.ndarray, list[np.ndarray]]
                   ) -> tuple[dict[str, float], dict[int, np.ndarray], int]:
    """(metric sums, the items shown in each top-k as packed bits, users evaluated) of the
    test users of user block ``b``, ranked as ``fastmf.metrics.evaluate`` ranks them."""
    Y, bias = ranked
    relevant = _sorted_unique(np.concatenate([s[1][b] for s in split]))
    if seen is None:
        seen_keys = np.zeros(0, np.int64)
    else:
        rows = np.repeat(np.arange(seen.R.shape[0], dtype=np.int64), np.diff(seen.R.indptr))
        seen_keys = _sorted_unique(rows * n_items + seen.R.indices)
    relevant = relevant[~np.isin(relevant, seen_keys, assume_unique=True)]
    users = _sorted_unique(relevant // n_items)
    totals = dict.fromkeys([_key(name, kk) for name in names for kk in ks], 0.0)
    totals["auc_users"] = 0
    covered = {kk: np.zeros(n_items, dtype=bool) for kk in ks}
    X = user.X
    threads = num_threads or _worker_threads()
    for lo in range(0, len(users), batch_size):
        batch = users[lo:lo + batch_size]
        offsets = (np.zeros(len(batch), X.dtype) if mu is None
                   else user.bias[batch] + user.bias.dtype.type(mu))
        top, auc = kernel_batch(X[batch], offsets, Y, bias, batch, relevant, seen_keys,
                                max(ks), "auc" in names, threads)
        _add_batch(top, auc, batch, relevant, ks, names, totals, covered)
    return totals, {kk: np.packbits(c) for kk, c in covered.items()}, len(users)


def _worker_threads() -> int:
    from ._recommend import _worker_threads as threads
    return threads()
