"""``recommend_all`` of a model on the cluster: one task per user block, run where the block
is, ranks its users against the item factors (put together once on a worker and fetched
once by each worker that needs them) through the one-machine top-n with its filters
(``fastmf._kernels.topk.topk_filtered``), and writes one Parquet file.

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

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._typing import PathLike, Unknown
    from ..data import IdMap
    from ._data import RowBlock
    from ._tasks import FactorBlock

SUCCESS = "_SUCCESS"          # what Spark writes; Parquet readers skip names starting "_"


def recommend_all(model: Any, n: int, out: PathLike | None, batch_size: int, filter_seen: bool,
                  filter_items: ArrayLike | None, items: ArrayLike | None,
                  min_item_count: int | None, unknown: Unknown, verbose: bool | None) -> Path:
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
    ranked = cluster.submit(_model.stacked_items, *cluster.Y, name="items")
    item_ids = _model.item_id_map(cluster)
    shared = cluster.submit(_carry, filt, name="filter")
    with _progress(len(cluster.X), verbose) as bar, replacing_directory(out) as temporary:
        futures = [cluster.submit(recommend_block, str(temporary), b, cluster.X[b],
                                  cluster.user_ids[b], cluster.seen[b] if filter_seen else None,
                                  ranked, item_ids, shared, n, batch_size, mu, threads,
                                  name="recommend", index=b)
                   for b in range(len(cluster.X))]
        cluster.waiter.gather(futures, cancel=futures,
                              on_done=lambda done: bar.update(done - bar.n))
        (temporary / SUCCESS).touch()
    return out


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
    import pyarrow as pa
    import pyarrow.parquet as pq

    Y, bias = ranked
    X = user.X
    offsets = (np.zeros(len(X), X.dtype) if mu is None
               else user.bias + user.bias.dtype.type(mu))
    threads = num_threads or _worker_threads()
    width = min(n, len(Y))
    path = Path(directory) / f"part-{b:05d}.parquet"
    written = 0
    with replacing(path) as temporary:
        writer = None
        try:
            for start in range(0, len(X), batch_size):
                rows = np.arange(start, min(start + batch_size, len(X)))
                exclude = (no_rows(len(rows)) if seen is None
                           else rows_of((seen.R.indptr, seen.R.indices), rows))
                found, scores = topk_filtered(X[rows], offsets[rows], Y, bias, filt.candidates,
                                              exclude, filt.shared, width, threads)
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
