"""``recommend_all``: the top-n of every user, in blocks of users, to an array or a file.

Memory stays bounded by the block: each block is ranked by the C++ top-n (parallel over
users, items scored in chunks), so no users x items score matrix is ever formed; the file
writers (CSV, Parquet through pyarrow) write each block as it comes.
"""
from __future__ import annotations

import contextlib
import csv
import sys
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._files import replacing
from .._locking import reads
from .._optional import require
from ._topn import Recommendations, to_raw

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, TypeVar

    from numpy.typing import ArrayLike, NDArray
    from tqdm.auto import tqdm

    from .._typing import FloatArray, IdArray, Int32Array, PathLike, Unknown
    from ..data import IdMap
    from ._base import MatrixFactorizationBase as _Model
    from ._topn import Filter

    _Writer = TypeVar("_Writer", bound="_Replacing")
else:
    _Model = object

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class RecommendAllMixin(_Model):
    """``recommend_all`` for models that provide ``_recommend_rows`` (see ServingMixin)."""

    if TYPE_CHECKING:
        # ServingMixin's, which every model with this mixin derives from.
        def _item_filter(self, filter_items: ArrayLike | None, items: ArrayLike | None,
                         unknown: Unknown, min_item_count: int | None = None) -> Filter: ...
        def _recommend_rows(self, uidx: NDArray[np.integer[Any]], n: int, filter_seen: bool,
                            filt: Filter, exact: bool) -> tuple[Int32Array, FloatArray]: ...

    @reads
    def recommend_all(self, n: int = 10, *, batch_size: int = 4096, out: PathLike | None = None,
                      filter_seen: bool = True, filter_items: ArrayLike | None = None,
                      items: ArrayLike | None = None, min_item_count: int | None = None,
                      unknown: Unknown = "raise", exact: bool = False,
                      verbose: bool | None = None) -> Recommendations | Path:
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
                    sink.write(  # type: ignore[union-attr]  # the writer: not None here
                        self.user_ids_.ids[uidx], self.item_ids_, *block)
                bar.update(1)
        if writer is not None:
            return writer.path
        counts = (found >= 0).sum(axis=1).astype(np.int64)
        return Recommendations(to_raw(self.item_ids_, found),
                               np.ma.MaskedArray(scores, mask=found < 0), counts)


def _progress(total: int, verbose: bool) -> tqdm[Any]:
    from tqdm.auto import tqdm
    return tqdm(total=total, disable=not verbose, desc="recommend_all", unit="block")


def _writer(path: Path) -> _CsvWriter | _ParquetWriter:
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"out must end in .csv or .parquet, got {str(path)!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: directory {str(path.parent)!r} "
                                f"does not exist; create it first")
    if kind == "parquet":
        require("pyarrow", "writing Parquet (or write a .csv file)")
    return _ParquetWriter(path) if kind == "parquet" else _CsvWriter(path)


def _long(users: IdArray, id_map: IdMap, found: Int32Array, scores: FloatArray
          ) -> tuple[IdArray, NDArray[np.int32], IdArray, FloatArray]:
    """Columns (user, rank, item, score) of a block, padding left out."""
    rows, places = np.nonzero(found >= 0)
    return (users[rows], (places + 1).astype(np.int32), id_map.ids[found[rows, places]],
            scores[rows, places])


class _Replacing:
    """A writer's file, written beside ``path`` and renamed over it when complete (see
    ``fastmf._files.replacing``): an interrupted call leaves the previous file as it was."""

    def __init__(self, path: Path) -> None:
        self.path = path

    if TYPE_CHECKING:
        # what each writer does with the temporary file
        def _open(self, temporary: Path) -> None: ...
        def _close(self) -> None: ...

    def __enter__(self: _Writer) -> _Writer:
        self._stack = contextlib.ExitStack()
        temporary = self._stack.enter_context(replacing(self.path))
        try:
            self._open(temporary)
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        try:
            self._close()
        except BaseException:
            if not self._stack.__exit__(*sys.exc_info()):
                raise
            return False
        return self._stack.__exit__(*exc)


class _CsvWriter(_Replacing):
    def _open(self, temporary: Path) -> None:
        self._file = open(temporary, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(["user", "rank", "item", "score"])

    def write(self, users: IdArray, id_map: IdMap, found: Int32Array, scores: FloatArray
              ) -> None:
        user, rank, item, score = _long(users, id_map, found, scores)
        self._csv.writerows(zip(user.tolist(), rank.tolist(), item.tolist(),
                                [np.format_float_positional(s, unique=True, trim="0")
                                 for s in score]))

    def _close(self) -> None:
        self._file.close()


class _ParquetWriter(_Replacing):
    _writer: Any            # a pyarrow.parquet.ParquetWriter once the first block came

    def _open(self, temporary: Path) -> None:
        self._temporary, self._writer = temporary, None

    def write(self, users: IdArray, id_map: IdMap, found: Int32Array, scores: FloatArray
              ) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        user, rank, item, score = _long(users, id_map, found, scores)
        table = pa.table({"user": user, "rank": rank, "item": item, "score": score})
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._temporary, table.schema)
        self._writer.write_table(table)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
