"""``fastmf.distributed.evaluate``: the ranking metrics of a model on the cluster, on test
interactions in a dask DataFrame, as ``fastmf.metrics.evaluate`` computes them on one
machine.

Each test partition is mapped to the model's indices on a worker (the id maps put together
there once) and cut by user block; each user block then ranks its test users where its
factors are, with the C++ pass that ``fastmf.metrics.evaluate`` runs (``kernel_batch``: the
top-k and every user's AUC), and adds up its users' metrics (``_add_batch``). The driver
receives per block the sums, the number of users and the items shown in the top-k (one bit
an item), and divides.

A catalog too large to put together on a worker is ranked item block by item block, as
``recommend_all`` ranks it: for each user block, a task per item block scores its test
pairs whose items the item block holds (``relevant_scores``, the one dot product the C++
pass gives a test item), and a chain of tasks, one per item block in item order, finds each
item block's top-k and merges it into the best of the blocks before it, while counting the
block's items against all of each user's test scores (``topk_auc`` with probes); the counts
add up to the one-pass count plus a known term, which the last task takes off.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .. import _validation as v
from ..data import Interactions
from .._kernels.topk import relevant_scores, topk_auc
from ..metrics._batches import csr_rows, kernel_batch
from ..metrics._evaluate import (METRICS, _add_batch, _checked_ks, _checked_metrics,
                                 _checked_verbose, _key, _sorted_unique, _summary)
from ._data import _partition_columns
from ._model import item_id_map, stacked_items, user_id_map
from ._recommend import _items_too_large, _within, merged_best

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
             verbose: bool | None = None, item_blocks: bool | None = None
             ) -> dict[str, float]:
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
    item_blocks : bool, optional
        True ranks each user block against each item block in its own task, item block
        after item block, so that no task holds more than one item block (each user's
        test items are scored first, where their item blocks are, for the AUC); False
        puts the item factors together on every worker that ranks; None (default)
        chooses True where the item factors would take more than a quarter of the
        smallest worker memory limit. Both give the same figures.

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
    >>> blocked = fastmf.distributed.evaluate(model, test, k=5, metrics=("precision", "auc"),
    ...                                       item_blocks=True)
    >>> all(abs(blocked[key] - local[key]) < 1e-12 for key in local)
    True
    >>> client.cluster.close(); client.close()
    """
    ks = _checked_ks(k)
    names = _checked_metrics(metrics)
    batch_size = v.check_int("batch_size", batch_size, minimum=1)
    if not isinstance(exclude_seen, (bool, np.bool_)):
        raise TypeError(f"exclude_seen must be True or False, got {exclude_seen!r}")
    if item_blocks is not None and not isinstance(item_blocks, (bool, np.bool_)):
        raise TypeError(f"item_blocks must be True, False or None, got {item_blocks!r}")
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
    mu = model.global_mean_ if cluster._biased else None
    seen = cluster.seen if exclude_seen else [None] * len(cluster.X)
    if _items_too_large(cluster) if item_blocks is None else item_blocks:
        blocks, futures = _by_item_blocks(cluster, split, seen, n_items, mu, ks, names,
                                          batch_size, threads)
    else:
        ranked = cluster.submit(stacked_items, *cluster.Y, name="items")
        blocks = [cluster.submit(evaluate_block, b, cluster.X[b], seen[b], ranked, n_items,
                                 mu, ks, names, batch_size, threads, *split, name="evaluate",
                                 index=b)
                  for b in range(len(cluster.X))]
        futures = blocks
    from tqdm.auto import tqdm
    with tqdm(total=len(blocks), disable=not verbose, desc="evaluate", unit="block") as bar:
        results = cluster.waiter.gather([n_test_users] + blocks, cancel=futures + parts,
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


def _by_item_blocks(cluster: Any, split: list[Any], seen: list[Any], n_items: int,
                    mu: float | None, ks: tuple[int, ...], names: tuple[str, ...],
                    batch_size: int, threads: int) -> tuple[list[Any], list[Any]]:
    """(per user block the future of its ``evaluate_block`` result, every future
    submitted), ranked item block by item block (see the module's docstring)."""
    n = max(ks)
    results, futures = [], []
    for b in range(len(cluster.X)):
        pairs = cluster.submit(test_pairs, b, seen[b], n_items, *split, name="test-pairs",
                               index=b)
        scores = [cluster.submit(pair_scores, cluster.X[b], cluster.Y[c], pairs, mu, threads,
                                 name="test-scores", index=b)
                  for c in range(len(cluster.Y))]
        probes = cluster.submit(sorted_probes, pairs, cluster.item_bounds, *scores,
                                name="test-probes", index=b)
        ranked = None
        for c in range(len(cluster.Y)):
            ranked = cluster.submit(rank_part, cluster.X[b], cluster.Y[c], pairs, probes, mu,
                                    n, batch_size, threads, ranked, name="evaluate-part",
                                    index=b)
            futures.append(ranked)
        results.append(cluster.submit(block_metrics, pairs, ranked, ks, names, batch_size,
                                      name="evaluate", index=b))
        futures += [pairs, probes] + scores
    return results, futures + results


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


def test_pairs(b: int, seen: RowBlock | None, n_items: int,
               *split: tuple[np.ndarray, list[np.ndarray]]) -> TestPairs:
    """The test pairs of user block ``b`` (see TestPairs)."""
    relevant = _sorted_unique(np.concatenate([s[1][b] for s in split]))
    if seen is None:
        seen_keys = np.zeros(0, np.int64)
    else:
        rows = np.repeat(np.arange(seen.R.shape[0], dtype=np.int64), np.diff(seen.R.indptr))
        seen_keys = _sorted_unique(rows * n_items + seen.R.indices)
    relevant = relevant[~np.isin(relevant, seen_keys, assume_unique=True)]
    return TestPairs(_sorted_unique(relevant // n_items), relevant, seen_keys, n_items)


class TestPairs(NamedTuple):
    """A user block's test users (sorted local indices), the sorted ``local user * n_items
    + item`` keys of their relevant items (their test items less their training items)
    and of the items left out of their ranking."""

    users: np.ndarray
    relevant: np.ndarray
    seen: np.ndarray
    n_items: int


def evaluate_block(b: int, user: FactorBlock, seen: RowBlock | None,
                   ranked: tuple[np.ndarray, np.ndarray], n_items: int, mu: float | None,
                   ks: tuple[int, ...], names: tuple[str, ...], batch_size: int,
                   num_threads: int, *split: tuple[np.ndarray, list[np.ndarray]]
                   ) -> tuple[dict[str, float], dict[int, np.ndarray], int]:
    """(metric sums, the items shown in each top-k as packed bits, users evaluated) of the
    test users of user block ``b``, ranked as ``fastmf.metrics.evaluate`` ranks them."""
    Y, bias = ranked
    pairs = test_pairs(b, seen, n_items, *split)
    threads = num_threads or _worker_threads()
    sums = _Sums(ks, names, n_items)
    for lo in range(0, len(pairs.users), batch_size):
        batch = pairs.users[lo:lo + batch_size]
        Q, offsets = _query(user, batch, mu)
        top, auc = kernel_batch(Q, offsets, Y, bias, batch, pairs.relevant, pairs.seen,
                                max(ks), "auc" in names, threads)
        sums.add(top, auc, batch, pairs.relevant)
    return sums.result(len(pairs.users))


def pair_scores(user: FactorBlock, items: FactorBlock, pairs: TestPairs, mu: float | None,
                num_threads: int) -> np.ndarray:
    """The scores of the test pairs whose items the item block ``items`` holds, in key
    order, as the C++ ranking pass scores a test item (``relevant_scores``)."""
    Y, bias, lo = items.X, _item_bias(items), items.lo
    Q, offsets = _query(user, pairs.users, mu)
    wanted = _within(csr_rows(pairs.relevant, pairs.users, pairs.n_items), lo, lo + len(Y))
    return relevant_scores(Q, offsets, Y, bias, wanted, num_threads or _worker_threads())


def sorted_probes(pairs: TestPairs, item_bounds: np.ndarray, *scores: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, scores): each test user's scores of all its relevant items, sorted, from
    the ``pair_scores`` of the item blocks (in block order)."""
    items = pairs.relevant % pairs.n_items
    every = np.empty(len(items), scores[0].dtype)
    block = np.searchsorted(item_bounds, items, side="right") - 1
    for c, part in enumerate(scores):
        every[block == c] = part             # both in key order
    rows = np.searchsorted(pairs.users, pairs.relevant // pairs.n_items)
    order = np.lexsort((every, rows))
    indptr = np.zeros(len(pairs.users) + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=len(pairs.users)), out=indptr[1:])
    return indptr, every[order]


def rank_part(user: FactorBlock, items: FactorBlock, pairs: TestPairs,
              probes: tuple[np.ndarray, np.ndarray], mu: float | None, n: int,
              batch_size: int, num_threads: int, before: tuple | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(top items, their scores, counts) of the test users of a user block: the best n of
    the item block ``items`` merged into ``before`` (the best of the item blocks before
    it, None: none), and the counts of the AUC pairs of its items (``topk_auc`` with the
    users' probes) added to those before it."""
    Y, bias, lo = items.X, _item_bias(items), items.lo
    threads = num_threads or _worker_threads()
    indptr, scores = probes
    parts = []
    for start in range(0, len(pairs.users), batch_size):
        batch = pairs.users[start:start + batch_size]
        Q, offsets = _query(user, batch, mu)
        window = indptr[start:start + len(batch) + 1]
        top, wins, top_scores = topk_auc(
            Q, offsets, Y, bias, _within(csr_rows(pairs.seen, batch, pairs.n_items), lo,
                                         lo + len(Y)),
            _within(csr_rows(pairs.relevant, batch, pairs.n_items), lo, lo + len(Y)), n,
            threads, probes=(window - window[0], scores[window[0]:window[-1]]),
            part=(lo, pairs.n_items))
        top[top >= 0] += np.int32(lo)
        parts.append((top, top_scores, wins))
    width = min(n, len(Y))
    found = (np.concatenate([p[0] for p in parts]) if parts
             else np.empty((0, width), np.int32))
    best = (np.concatenate([p[1] for p in parts]) if parts
            else np.empty((0, width), Y.dtype))
    wins = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
    if before is None:
        return found, best, wins
    return (*merged_best(before[:2], (found, best), n), before[2] + wins)


def block_metrics(pairs: TestPairs, ranked: tuple[np.ndarray, np.ndarray, np.ndarray],
                  ks: tuple[int, ...], names: tuple[str, ...], batch_size: int
                  ) -> tuple[dict[str, float], dict[int, np.ndarray], int]:
    """``evaluate_block``'s result from the last ``rank_part`` of a user block: each
    user's count over the item blocks, less the m² of its m test items counted against
    themselves, is the one-pass count."""
    found, _, wins = ranked
    sums = _Sums(ks, names, pairs.n_items)
    for lo in range(0, len(pairs.users), batch_size):
        batch = pairs.users[lo:lo + batch_size]
        auc = None
        if "auc" in names:
            m = np.diff(csr_rows(pairs.relevant, batch, pairs.n_items)[0])
            n_other = pairs.n_items - m - np.diff(csr_rows(pairs.seen, batch, pairs.n_items)[0])
            keep = (m > 0) & (n_other > 0)
            auc = (wins[lo:lo + batch_size] - m * m)[keep] / (2.0 * m[keep] * n_other[keep])
        sums.add(found[lo:lo + batch_size], auc, batch, pairs.relevant)
    return sums.result(len(pairs.users))


class _Sums:
    """A user block's metric sums and the items shown in each top-k, batch by batch."""

    def __init__(self, ks: tuple[int, ...], names: tuple[str, ...], n_items: int) -> None:
        self.ks, self.names = ks, names
        self.totals = dict.fromkeys([_key(name, kk) for name in names for kk in ks], 0.0)
        self.totals["auc_users"] = 0
        self.covered = {kk: np.zeros(n_items, dtype=bool) for kk in ks}

    def add(self, top: np.ndarray, auc: np.ndarray | None, batch: np.ndarray,
            relevant: np.ndarray) -> None:
        _add_batch(top, auc, batch, relevant, self.ks, self.names, self.totals, self.covered)

    def result(self, n_users: int) -> tuple[dict[str, float], dict[int, np.ndarray], int]:
        return self.totals, {kk: np.packbits(c) for kk, c in self.covered.items()}, n_users


def _query(user: FactorBlock, rows: np.ndarray, mu: float | None
           ) -> tuple[np.ndarray, np.ndarray]:
    """(query rows, score offsets) of the given rows of a user block."""
    X = user.X
    offsets = (np.zeros(len(rows), X.dtype) if mu is None
               else user.bias[rows] + user.bias.dtype.type(mu))
    return X[rows], offsets


def _item_bias(items: FactorBlock) -> np.ndarray:
    return np.zeros(len(items.X), items.X.dtype) if items.bias is None else items.bias


def _worker_threads() -> int:
    from ._recommend import _worker_threads as threads
    return threads()
