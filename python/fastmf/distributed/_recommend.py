"""``recommend_all`` of a model on the cluster: one task per user block, run where the block
is, ranks its users against the item factors (put together once on a worker and fetched
once by each worker that needs them) through the one-machine top-n with its filters
(``fastmf._kernels.topk.topk_filtered``), and writes one Parquet file. A catalog too large
for that is ranked item block by item block: for each user block a chain of tasks, one per
item block in item order, each finding its item block's best n (the filters cut to its
items) and merging them into the best n of the item blocks before it (best score first
and, between equal scores, the lower item index, as the one-machine top-n orders them);
a last task writes the file. A task holds one item block and two lists of n a user.

The output is a directory written whole or not at all: the tasks write their files into a
temporary directory beside it (each file under a temporary name, renamed when complete),
and the driver renames the directory into place, with an empty ``_SUCCESS`` file, once
every block is written. A task that runs again after its worker was lost rewrites its own
file, so no row is written twice.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _validation as v
from .._files import replacing, replacing_directory
from .._kernels.topk import topk_filtered
from .._optional import require
from ..models._recommend_all import _long
from ..models._topn import Filter, no_rows, rows_of
from . import _model
from ._tasks import FactorBlock

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._typing import PathLike, Unknown
    from ..data import IdMap
    from ._data import RowBlock

SUCCESS = "_SUCCESS"          # what Spark writes; Parquet readers skip names starting "_"


def recommend_all(model: Any, n: int, out: PathLike | None, batch_size: int, filter_seen: bool,
                  filter_items: ArrayLike | None, items: ArrayLike | None,
                  min_item_count: int | None, unknown: Unknown, verbose: bool | None,
                  item_blocks: bool | None = None) -> Path:
    """``model.recommend_all(...)`` of a model on the cluster (see ``DaskFit.recommend_all``)."""
    cluster = model._cluster
    n = v.check_int("n", n, minimum=1)
    batch_size = v.check_int("batch_size", batch_size, minimum=1)
    filt = Filter.of(model.item_ids_, filter_items, items, ("filter_items", "items"), "item",
                     unknown)
    minimum = (None if min_item_count is None
               else v.check_int("min_item_count", min_item_count, minimum=0))
    if out is None:
        raise ValueError(f"this {type(model).__name__} keeps its factors on the cluster, so "
                         f"recommend_all writes them: pass out= a directory (Parquet files, "
                         f"one per user block), or call to_local() first")
    out = _checked_out(v.as_path("out", out))
    require("pyarrow", "recommend_all on a cluster (it writes Parquet)")
    threads = v.check_num_threads(model.num_threads)
    verbose = model.verbose if verbose is None else verbose
    if minimum is not None:
        counts = cluster.submit(_model.item_counts, len(model.item_ids_), *cluster.seen,
                                name="item-counts")
        filt = filt.at_least(cluster.waiter.gather([counts], cancel=[counts])[0], minimum)
    mu = model.global_mean_ if cluster._biased else None
    blocked = _items_too_large(cluster) if item_blocks is None else bool(item_blocks)
    item_ids = _model.item_id_map(cluster)
    shared = cluster.submit(_carry, filt, name="filter")
    seen = cluster.seen if filter_seen else [None] * len(cluster.X)
    with _progress(len(cluster.X), verbose) as bar, replacing_directory(out) as temporary:
        if blocked:
            futures, writes = [], []
            for b in range(len(cluster.X)):
                best = None
                for c in range(len(cluster.Y)):
                    best = cluster.submit(rank_block, cluster.X[b], seen[b], cluster.Y[c],
                                          shared, n, batch_size, mu, threads, best,
                                          len(model.item_ids_), name="rank", index=b)
                    futures.append(best)
                writes.append(cluster.submit(write_ranked, str(temporary), b,
                                             cluster.user_ids[b], item_ids, batch_size, best,
                                             name="recommend", index=b))
            futures += writes
        else:
            ranked = cluster.submit(_model.stacked_items, *cluster.Y, name="items")
            writes = [cluster.submit(recommend_block, str(temporary), b, cluster.X[b],
                                     cluster.user_ids[b], seen[b], ranked, item_ids, shared, n,
                                     batch_size, mu, threads, name="recommend", index=b)
                      for b in range(len(cluster.X))]
            futures = writes
        cluster.waiter.gather(writes, cancel=futures,
                              on_done=lambda done: bar.update(done - bar.n))
        (temporary / SUCCESS).touch()
    return out


def _items_too_large(cluster: Any) -> bool:
    """Whether the item factors, put together, would take more than a quarter of the
    smallest memory limit of the cluster's workers (no limits: never)."""
    item_bytes = (int(cluster.item_bounds[-1]) * cluster.factors * cluster.dtype.itemsize)
    limits = [info.get("memory_limit") or 0
              for info in cluster.client.scheduler_info()["workers"].values()]
    limits = [limit for limit in limits if limit > 0]
    return bool(limits) and item_bytes > min(limits) / 4


def _checked_out(out: Path) -> Path:
    if out.suffix.lower() == ".csv":
        raise ValueError(f"out must be a directory for a model on the cluster (Parquet files, "
                         f"one per user block), got the CSV file {str(out)!r}")
    if out.exists() and not (out.is_dir() and (out / SUCCESS).is_file()):
        raise FileExistsError(f"out {str(out)!r} exists and is not an earlier recommend_all "
                              f"output (no {SUCCESS} file); remove it or choose another path")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(out)!r}: directory {str(out.parent)!r} "
                                f"does not exist; create it first")
    return out


def _progress(total: int, verbose: bool) -> Any:
    from tqdm.auto import tqdm
    return tqdm(total=total, disable=not verbose, desc="recommend_all", unit="block")


def _carry(value: Any) -> Any:
    return value


def recommend_block(directory: str, b: int, user: FactorBlock, ids: np.ndarray,
                    seen: RowBlock | None, ranked: tuple[np.ndarray, np.ndarray],
                    item_ids: IdMap, filt: Filter, n: int, batch_size: int, mu: float | None,
                    num_threads: int) -> int:
    """Rank the users of one block (a task) and write ``part-<b>.parquet`` in
    ``directory``: columns user, rank (1 = best), item, score, as the one-machine
    ``recommend_all`` writes them. Returns the rows written."""
    Y, bias = ranked
    item_block = FactorBlock(0, Y, bias)
    return _write_part(directory, b, ids, item_ids, batch_size, len(user.X), lambda rows:
                       _rank_rows(user, seen, item_block, filt, n, mu, num_threads, rows))


def rank_block(user: FactorBlock, seen: RowBlock | None, items: FactorBlock, filt: Filter,
               n: int, batch_size: int, mu: float | None, num_threads: int,
               before: tuple[np.ndarray, np.ndarray] | None = None, n_items: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """(item indices, scores) of every user of a user block (a task): the best n of one
    item block (the filters cut to its items; the indices and scores the whole catalog's,
    of ``n_items`` items, None: scored as if the block ended the catalog), merged into
    ``before``, the best of the item blocks before it (None: none); -1 where a user has
    fewer candidates."""
    parts = [_rank_rows(user, seen, items, filt, n, mu, num_threads,
                        np.arange(start, min(start + batch_size, len(user.X))), n_items)
             for start in range(0, len(user.X), batch_size)]
    if parts:
        found, scores = (np.concatenate([part[0] for part in parts]),
                         np.concatenate([part[1] for part in parts]))
    else:                        # a block without users
        width = min(n, len(items.X))
        found, scores = np.empty((0, width), np.int32), np.empty((0, width), items.X.dtype)
    if before is None:
        return found, scores
    return merged_best(before, (found, scores), n)


def merged_best(before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray],
                n: int) -> tuple[np.ndarray, np.ndarray]:
    """(item indices, scores): each row's best n of two best lists, ``before`` holding
    lower item indices than ``after`` (-1 / -inf padding): best score first and, between
    equal scores, the lower index, as the one-machine top-n orders them."""
    found = np.concatenate([before[0], after[0]], axis=1)
    scores = np.concatenate([before[1], after[1]], axis=1)
    scores[found < 0] = -np.inf
    # stable: equal scores keep their columns' order, the earlier block's lower index first
    order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
    return np.take_along_axis(found, order, 1), np.take_along_axis(scores, order, 1)


def write_ranked(directory: str, b: int, ids: np.ndarray, item_ids: IdMap, batch_size: int,
                 ranked: tuple[np.ndarray, np.ndarray]) -> int:
    """Write a user block's ``rank_block`` result as ``recommend_block`` writes (a task)."""
    found, scores = ranked
    return _write_part(directory, b, ids, item_ids, batch_size, len(ids),
                       lambda rows: (found[rows], scores[rows]))


def _rank_rows(user: FactorBlock, seen: RowBlock | None, items: FactorBlock, filt: Filter,
               n: int, mu: float | None, num_threads: int, rows: np.ndarray,
               n_items: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(item indices, scores) of the best min(n, items) of the item block ``items`` for
    the given rows of a user block, through the one-machine top-n (the scores those of the
    whole catalog of ``n_items``; None: the block is the catalog)."""
    X, Y, lo = user.X, items.X, items.lo
    bias = np.zeros(len(Y), Y.dtype) if items.bias is None else items.bias
    offsets = (np.zeros(len(rows), X.dtype) if mu is None
               else user.bias[rows] + user.bias.dtype.type(mu))
    exclude = (no_rows(len(rows)) if seen is None
               else _within(rows_of((seen.R.indptr, seen.R.indices), rows), lo, lo + len(Y)))
    candidates = (None if filt.candidates is None
                  else _within_sorted(filt.candidates, lo, lo + len(Y)))
    found, scores = topk_filtered(X[rows], offsets, Y, bias, candidates, exclude,
                                  _within_sorted(filt.shared, lo, lo + len(Y)), min(n, len(Y)),
                                  num_threads or _worker_threads(),
                                  part=None if n_items is None else (lo, n_items))
    if lo:
        found[found >= 0] += np.int32(lo)
    return found, scores


def _within(csr: tuple[np.ndarray, np.ndarray], lo: int, hi: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """A CSR (indptr, indices) of item indices cut to the items [lo, hi), less lo."""
    indptr, indices = csr
    if lo == 0 and (len(indices) == 0 or indices.max() < hi):
        return csr
    keep = (indices >= lo) & (indices < hi)
    kept = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    return kept[indptr], (indices[keep] - lo).astype(np.int32)


def _within_sorted(indices: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The sorted item indices in [lo, hi), less lo."""
    first, last = np.searchsorted(indices, [lo, hi])
    return (indices[first:last] - lo).astype(np.int32)


def _write_part(directory: str, b: int, ids: np.ndarray, item_ids: IdMap, batch_size: int,
                n_users: int, ranked: Any) -> int:
    """Write ``part-<b>.parquet`` in ``directory`` from ``ranked(rows)`` = (item indices,
    scores) of each batch of the block's rows: columns user, rank (1 = best), item, score,
    as the one-machine ``recommend_all`` writes them. Returns the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(directory) / f"part-{b:05d}.parquet"
    written = 0
    with replacing(path) as temporary:
        writer = None
        try:
            for start in range(0, n_users, batch_size):
                rows = np.arange(start, min(start + batch_size, n_users))
                found, scores = ranked(rows)
                users, rank, items, score = _long(ids[rows], item_ids, found, scores)
                table = pa.table({"user": users, "rank": rank, "item": items, "score": score})
                if writer is None:
                    writer = pq.ParquetWriter(temporary, table.schema)
                writer.write_table(table)
                written += len(users)
        finally:
            if writer is not None:
                writer.close()
    return written


def _worker_threads() -> int:
    from distributed import get_worker
    try:
        return int(get_worker().state.nthreads)
    except ValueError:           # not on a worker
        return 1
