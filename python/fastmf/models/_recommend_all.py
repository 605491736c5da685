"""``recommend_all``: the top-n of every user, in blocks of users, to an array or a file.

Memory stays bounded by the block: each block is ranked by the C++ top-n (parallel over
users, items scored in chunks), so no users x items score matrix is ever formed; the file
writers (CSV, Parquet through pyarrow) write each block as it comes.
"""
import contextlib
import csv
import sys

import numpy as np

from .. import _validation as v
from .._files import replacing
from .._optional import require
from ._locking import reads
from ._topn import Recommendations, to_raw

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class RecommendAllMixin:
    """``recommend_all`` for models that provide ``_recommend_rows`` (see ServingMixin)."""

    @reads
    def recommend_all(self, n=10, *, batch_size=4096, out=None, filter_seen=True,
                      filter_items=None, items=None, min_item_count=None, unknown="raise",
                      exact=False, verbose=None):
        """The ``n`` best items for every user, a block of users at a time.

        Parameters
        ----------
        n : int, default 10
            Items per user: exactly ``n`` for a user with that many candidates left.
        batch_size : int, default 4096
            Users per block: memory beyond the result is about ``batch_size x n`` entries
            plus the kernels' per-thread scratch (256 users x 512 items of scores).
        out : str or pathlib.Path, optional
            A ``.csv`` or ``.parquet`` file to write, one line per recommendation with the
            columns user, rank (1 = best), item, score; users with fewer candidates have
            fewer lines. Parquet needs pyarrow. None: return the result in memory.
        filter_seen, filter_items, items, min_item_count, unknown, exact
            As for :meth:`recommend`; the filters apply to every user.
        verbose : bool, optional
            A progress bar over the blocks; default: the model's ``verbose``.

        Returns
        -------
        Recommendations or pathlib.Path
            With ``out=None``, as :meth:`recommend_batch` returns for ``user_ids_.ids``
            (a row per user, in that order); else the path written.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            A filter id is not known to the model (with ``unknown="raise"``).
        TypeError, ValueError
            A parameter is out of range, or ``out`` is neither .csv nor .parquet.
        ImportError
            ``out`` is a Parquet file and pyarrow is not installed.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> recs = model.recommend_all(n=2)
        >>> recs.counts.tolist(), recs.row(1)[0].tolist()
        ([0, 2, 2], ['Sholay', 'Shawshank'])
        """
        self._check_is_fitted()
        n = v.check_int("n", n, minimum=1)
        batch_size = v.check_int("batch_size", batch_size, minimum=1)
        filt = self._item_filter(filter_items, items, unknown, min_item_count)
        writer = None if out is None else _writer(v.as_path("out", out))
        verbose = self.verbose if verbose is None else verbose
        n_users = len(self.user_ids_)
        width = min(n, len(self.item_ids_))
        if writer is None:
            found = np.empty((n_users, width), np.int32)
            scores = np.empty((n_users, width), self.item_factors_.dtype)
        starts = range(0, n_users, batch_size)
        with _progress(len(starts), verbose) as bar, (writer or contextlib.nullcontext()) as sink:
            for start in starts:
                uidx = np.arange(start, min(start + batch_size, n_users))
                block = self._recommend_rows(uidx, n, filter_seen, filt, exact)
                if writer is None:
                    found[uidx], scores[uidx] = block
                else:
                    sink.write(self.user_ids_.ids[uidx], self.item_ids_, *block)
                bar.update(1)
        if writer is not None:
            return writer.path
        counts = (found >= 0).sum(axis=1).astype(np.int64)
        return Recommendations(to_raw(self.item_ids_, found),
                               np.ma.MaskedArray(scores, mask=found < 0), counts)


def _progress(total, verbose):
    from tqdm.auto import tqdm
    return tqdm(total=total, disable=not verbose, desc="recommend_all", unit="block")


def _writer(path):
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"out must end in .csv or .parquet, got {str(path)!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: directory {str(path.parent)!r} "
                                f"does not exist; create it first")
    if kind == "parquet":
        require("pyarrow", "writing Parquet (or write a .csv file)")
    return _ParquetWriter(path) if kind == "parquet" else _CsvWriter(path)


def _long(users, id_map, found, scores):
    """Columns (user, rank, item, score) of a block, padding left out."""
    rows, places = np.nonzero(found >= 0)
    return (users[rows], (places + 1).astype(np.int32), id_map.ids[found[rows, places]],
            scores[rows, places])


class _Replacing:
    """A writer's file, written beside ``path`` and renamed over it when complete (see
    ``fastmf._files.replacing``): an interrupted call leaves the previous file as it was."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self._stack = contextlib.ExitStack()
        temporary = self._stack.enter_context(replacing(self.path))
        try:
            self._open(temporary)
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc):
        try:
            self._close()
        except BaseException:
            if not self._stack.__exit__(*sys.exc_info()):
                raise
            return False
        return self._stack.__exit__(*exc)


class _CsvWriter(_Replacing):
    def _open(self, temporary):
        self._file = open(temporary, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(["user", "rank", "item", "score"])

    def write(self, users, id_map, found, scores):
        user, rank, item, score = _long(users, id_map, found, scores)
        self._csv.writerows(zip(user.tolist(), rank.tolist(), item.tolist(),
                                [np.format_float_positional(s, unique=True, trim="0")
                                 for s in score]))

    def _close(self):
        self._file.close()


class _ParquetWriter(_Replacing):
    def _open(self, temporary):
        self._temporary, self._writer = temporary, None

    def write(self, users, id_map, found, scores):
        import pyarrow as pa
        import pyarrow.parquet as pq
        user, rank, item, score = _long(users, id_map, found, scores)
        table = pa.table({"user": user, "rank": rank, "item": item, "score": score})
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._temporary, table.schema)
        self._writer.write_table(table)

    def _close(self):
        if self._writer is not None:
            self._writer.close()
