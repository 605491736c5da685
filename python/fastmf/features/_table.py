"""The base of ``UserFeatures`` and ``ItemFeatures``: a sparse rows x features table of
weights keyed by raw id and feature name, its constructors and the weights a model reads."""
from __future__ import annotations

import csv
import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .. import _validation as v
from ..data import IdMap
from ._rows import (_add_buckets, _as_row, _column_position, _columns, _parse_ids,
                    _parse_numbers, normalized)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, TypeVar

    import scipy.sparse as sp
    from numpy.typing import ArrayLike, NDArray

    from .._typing import Int64Array, PathLike
    from ._rows import FeatureRow

    _F = TypeVar("_F", bound="_Features")


class _Features:
    """A sparse rows × features matrix of weights >= 0 keyed by raw ids and feature names
    (see ``ItemFeatures``, ``UserFeatures``)."""

    _side: ClassVar[str] = "row"
    names: NDArray[np.str_]
    matrix: sp.csr_matrix

    def __init__(self, ids: ArrayLike, matrix: sp.spmatrix | sp.sparray | ArrayLike,
                 names: Iterable[object]) -> None:
        import scipy.sparse as sp

        what = f"{self._side}_ids"
        self.ids = IdMap(v.as_ids(what, ids))
        self.names = np.asarray([str(name) for name in names], dtype=str)
        matrix = sp.csr_matrix(matrix, dtype=np.float64)
        if matrix.shape != (len(self.ids), len(self.names)):
            raise ValueError(f"the feature matrix must have shape ({len(self.ids)} "
                             f"{self._side}s, {len(self.names)} features), got {matrix.shape}")
        bad = ~np.isfinite(matrix.data) | (matrix.data < 0)
        if bad.any():
            row = int(np.searchsorted(matrix.indptr, np.flatnonzero(bad)[0], side="right")) - 1
            raise ValueError(f"feature weights must be finite and >= 0; {self._side} "
                             f"{self.ids.ids[row].item()!r} has {float(matrix.data[bad][0])!r}")
        matrix.eliminate_zeros()
        matrix.sum_duplicates()
        if len(np.unique(self.names)) < len(self.names):
            raise ValueError("feature names must be unique")
        if len(np.unique(self.ids.ids)) < len(self.ids):
            raise ValueError(f"{what} must be unique")
        self.matrix = matrix

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self.ids)} {self._side}s, {len(self.names)} "
                f"features)")

    # -- constructors ----------------------------------------------------------------
    @classmethod
    def from_lists(cls: type[_F], ids: ArrayLike, feature_lists: Sequence[FeatureRow]) -> _F:
        """From the features of each row: a list of names (weight 1 each) or a dict of
        name to weight.

        Parameters
        ----------
        ids : array-like of int or str
            Raw ids, each once.
        feature_lists : sequence of lists of str or of dicts {str: float}
            The features of each id; an empty list for one without features. Names are
            compared as strings; a name listed twice in a list counts once.

        Returns
        -------
        ItemFeatures or UserFeatures
            The features are the distinct names, sorted.

        Raises
        ------
        ValueError
            ``ids`` and ``feature_lists`` differ in length, an id repeats, or a weight is
            negative or not finite.

        Examples
        --------
        >>> from fastmf import ItemFeatures, UserFeatures
        >>> features = ItemFeatures.from_lists([10, 20, 30],
        ...                                    [["Drama"], ["Comedy", "Drama"], []])
        >>> features
        ItemFeatures(3 items, 2 features)
        >>> features.names.tolist()
        ['Comedy', 'Drama']
        >>> features.matrix.toarray().tolist()
        [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
        >>> users = UserFeatures.from_lists(["ann", "bob"], [{"age": 0.3, "F": 1}, ["M"]])
        >>> users.names.tolist(), users.matrix.toarray().tolist()
        (['F', 'M', 'age'], [[1.0, 0.0, 0.3], [0.0, 1.0, 0.0]])
        """
        import scipy.sparse as sp

        ids = v.as_ids(f"{cls._side}_ids", ids)
        if len(ids) != len(feature_lists):
            raise ValueError(f"{cls._side}_ids and feature_lists must have the same length, "
                             f"got {len(ids)} and {len(feature_lists)}")
        rows = [_as_row(row, f"feature_lists[{r}]") for r, row in enumerate(feature_lists)]
        names = sorted({name for row in rows for name in row})
        column = {name: j for j, name in enumerate(names)}
        counts = [len(row) for row in rows]
        cols = [column[name] for row in rows for name in row]
        data = [weight for row in rows for weight in row.values()]
        matrix = sp.csr_matrix((np.asarray(data, dtype=np.float64),
                                (np.repeat(np.arange(len(ids)), counts), cols)),
                               shape=(len(ids), len(names)))
        return cls(ids, matrix, names)

    @classmethod
    def from_sparse(cls: type[_F], matrix: sp.spmatrix | sp.sparray, ids: ArrayLike,
                    names: Sequence[object] | None = None) -> _F:
        """From a scipy.sparse rows × features matrix of weights >= 0.

        Parameters
        ----------
        matrix : scipy.sparse matrix or sparse array, shape (n_rows, n_features)
            The weights (1 for "has it"); stored zeros are dropped.
        ids : array-like of int or str
            The raw id of each row, each once.
        names : sequence, optional
            The name of each column (turned into str); by default "0", "1", ...

        Returns
        -------
        ItemFeatures or UserFeatures

        Raises
        ------
        TypeError
            ``matrix`` is not a scipy.sparse matrix.
        ValueError
            The shape does not match ``ids`` and ``names``, an id or a name repeats, or a
            weight is negative or not finite.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> from fastmf import ItemFeatures
        >>> matrix = sp.csr_matrix([[1, 0], [3, 1]])
        >>> features = ItemFeatures.from_sparse(matrix, ["a", "b"], names=["Drama", "Comedy"])
        >>> features.matrix.toarray().tolist()
        [[1.0, 0.0], [3.0, 1.0]]
        >>> ItemFeatures.from_sparse(matrix, ["a", "b"]).names.tolist()
        ['0', '1']
        """
        import scipy.sparse as sp

        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}")
        names = [str(j) for j in range(matrix.shape[1])] if names is None else names
        return cls(ids, matrix, names)

    @classmethod
    def from_frame(cls: type[_F], frame: Any, id_column: str | None = None, *,
                   buckets: Mapping[str, Sequence[float]] | None = None,
                   value_sep: str | None = None) -> _F:
        """From a pandas DataFrame with a row per id and a column per attribute.

        Each column becomes features by its kind: a numeric (or bool) column is one
        feature named after the column, its weight the value divided by the column's
        largest, so in [0, 1] like a one-hot feature's (values must be >= 0; a missing
        value is no feature); a column named in ``buckets`` becomes
        one-hot buckets of its numbers (``age<18``, ``age:[18,25)``, ..., ``age>=56``); any
        other column is one-hot by value (``occupation=writer``), several values per cell
        with ``value_sep`` (``"Action|Comedy"`` gives ``genre=Action``, ``genre=Comedy``).

        Parameters
        ----------
        frame : pandas.DataFrame
        id_column : str, optional
            The column of raw ids; by default the frame's index.
        buckets : dict of column name to increasing edges, optional
        value_sep : str, optional
            The separator of several values in one cell of a text column.

        Returns
        -------
        ItemFeatures or UserFeatures

        Raises
        ------
        TypeError
            ``frame`` is not a DataFrame.
        ValueError
            ``id_column`` or a bucketed column is missing, edges do not increase, a
            numeric column has a negative value, or an id repeats.

        Examples
        --------
        >>> import pandas as pd
        >>> from fastmf import UserFeatures
        >>> frame = pd.DataFrame({"user": [1, 2], "age": [23, 61], "gender": ["F", "M"]})
        >>> users = UserFeatures.from_frame(frame, "user", buckets={"age": [18, 35, 50]})
        >>> users.names.tolist()
        ['age:[18,35)', 'age>=50', 'gender=F', 'gender=M']
        >>> users.matrix.toarray().tolist()
        [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
        """
        if not (hasattr(frame, "columns") and hasattr(frame, "index")):
            raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
        if id_column is None:
            ids = np.asarray(frame.index)
        elif id_column not in frame.columns:
            raise ValueError(f"id_column {id_column!r} is not a column of the frame; its "
                             f"columns: {', '.join(map(str, frame.columns))}")
        else:
            ids = np.asarray(frame[id_column])
        columns = {str(name): (np.asarray(frame[name]), frame[name].dtype.kind in "biuf")
                   for name in frame.columns if name != id_column}
        return cls._from_columns(ids, columns, buckets, value_sep)

    @classmethod
    def from_csv(cls: type[_F], path: PathLike, id_column: str | None = None, *,
                 delimiter: str = ",", buckets: Mapping[str, Sequence[float]] | None = None,
                 value_sep: str | None = None) -> _F:
        """From a CSV file with a header line, a row per id and a column per attribute.

        The columns become features as in :meth:`from_frame`: a column whose every
        non-empty cell is a number is numeric, any other is text; an empty cell is no
        feature.

        Parameters
        ----------
        path : str or Path
        id_column : str, optional
            The column of raw ids; by default the first. Ids that all look like integers
            become integers.
        delimiter : str, default ","
        buckets, value_sep
            As for :meth:`from_frame`.

        Returns
        -------
        ItemFeatures or UserFeatures

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            The file has no header, a line has the wrong number of fields, or as for
            :meth:`from_frame`.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from fastmf import ItemFeatures
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "items.csv"
        >>> _ = path.write_text("item,genres,year\\n7,Action|Drama,1995\\n8,Drama,\\n")
        >>> items = ItemFeatures.from_csv(path, value_sep="|", buckets={"year": [1990, 2000]})
        >>> items.ids.ids.tolist(), items.names.tolist()
        ([7, 8], ['genres=Action', 'genres=Drama', 'year:[1990,2000)'])
        """
        path = v.as_path("path", path)
        if not path.is_file():
            raise FileNotFoundError(f"no features file {str(path)!r}")
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, delimiter=delimiter))
        if not lines or not lines[0]:
            raise ValueError(f"{str(path)!r} has no header line naming its columns")
        header, body = lines[0], [line for line in lines[1:] if line]
        for number, line in enumerate(body, start=2):
            if len(line) != len(header):
                raise ValueError(f"{str(path)!r}, line {number}: {len(line)} fields, the "
                                 f"header has {len(header)}")
        id_at = 0 if id_column is None else _column_position(header, id_column, path)
        cells = {name: [line[j].strip() for line in body] for j, name in enumerate(header)}
        ids = _parse_ids(cells[header[id_at]])
        columns = {}
        for j, name in enumerate(header):
            if j != id_at:
                numbers = _parse_numbers(cells[name])
                columns[name] = ((numbers, True) if numbers is not None
                                 else (np.asarray(cells[name], dtype=object), False))
        return cls._from_columns(ids, columns, buckets, value_sep)

    @classmethod
    def _from_columns(cls: type[_F], ids: NDArray[Any],
                      columns: dict[str, tuple[NDArray[Any], bool]],
                      buckets: Mapping[str, Sequence[float]] | None,
                      value_sep: str | None) -> _F:
        """From columns of values, each (values, numeric): see ``from_frame``."""
        buckets = dict(buckets or {})
        missing = sorted(set(buckets) - set(columns))
        if missing:
            raise ValueError(f"buckets names column {missing[0]!r}, which is not a feature "
                             f"column")
        rows: list[dict[str, float]] = [{} for _ in range(len(ids))]
        for name, (values, numeric) in columns.items():
            if name in buckets:
                _add_buckets(rows, name, values, buckets[name])
            elif numeric:
                numbers = values.astype(np.float64)
                negative = numbers < 0
                if negative.any():
                    raise ValueError(f"column {name!r} has a negative value "
                                     f"({float(numbers[negative][0])!r}, row "
                                     f"{np.argmax(negative)}); "
                                     f"feature weights must be >= 0: shift the column or "
                                     f"give it buckets")
                largest = np.nanmax(numbers, initial=0.0)
                if largest > 0:        # in [0, 1], the scale of a one-hot feature's weight
                    numbers = numbers / largest
                for row, x in zip(rows, numbers):
                    if x > 0:
                        row[name] = float(x)
            else:
                for row, cell in zip(rows, values):
                    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                        continue
                    parts = str(cell).split(value_sep) if value_sep else [str(cell)]
                    for part in parts:
                        if part.strip():
                            row[f"{name}={part.strip()}"] = 1.0
        return cls.from_lists(ids, rows)

    # -- reading ------------------------------------------------------------------------
    def weights(self, ids: ArrayLike) -> sp.csr_matrix:
        r"""The weights that turn feature vectors into priors.

        Row r is the features row of ``ids[r]`` scaled to unit length,
        :math:`a_r = f_r / \|f_r\|_2`, so that row r times the feature map W is the prior
        :math:`a_r W` the model shrinks that row's factors toward (for 0/1 features:
        :math:`|F_r|^{-1/2} \sum_{f \in F_r} w_f`, the sum scaled by :math:`1/\sqrt{|F_r|}`).

        Parameters
        ----------
        ids : array-like of int or str
            Raw ids, in the order wanted for the rows.

        Returns
        -------
        scipy.sparse.csr_matrix, shape (len(ids), n_features)
            An empty row for an id without features or not listed here.

        Examples
        --------
        >>> from fastmf import ItemFeatures
        >>> features = ItemFeatures.from_lists(["a", "b"], [["Drama"], ["Comedy", "Drama"]])
        >>> features.weights(["b", "a", "new"]).toarray().round(3).tolist()
        [[0.707, 0.707], [0.0, 1.0], [0.0, 0.0]]
        """
        import scipy.sparse as sp

        index = self.ids.index(v.as_ids(f"{self._side}_ids", ids))
        M = self.matrix
        counts = np.where(index >= 0, np.diff(M.indptr)[np.maximum(index, 0)], 0)
        starts = M.indptr[np.maximum(index, 0)]
        positions = (np.repeat(starts, counts) + np.arange(counts.sum())
                     - np.repeat(np.cumsum(counts) - counts, counts))
        indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
        out = sp.csr_matrix((M.data[positions], M.indices[positions], indptr),
                            shape=(len(index), len(self.names)))
        return normalized(out)

    def columns_of(self, names: Sequence[object], what: str = "feature") -> Int64Array:
        """Column indices of feature names.

        Parameters
        ----------
        names : sequence
            Feature names (compared as strings).
        what : str, default "feature"
            How the error message calls the names.

        Returns
        -------
        ndarray of int64
            The column of each name in ``names`` (and ``matrix``).

        Raises
        ------
        ValueError
            A name is not a known feature.

        Examples
        --------
        >>> from fastmf import ItemFeatures
        >>> features = ItemFeatures.from_lists(["a", "b"], [["Drama"], ["Comedy", "Drama"]])
        >>> features.columns_of(["Drama", "Comedy"]).tolist()
        [1, 0]
        >>> features.columns_of(["Horror"])
        Traceback (most recent call last):
        ...
        ValueError: feature 'Horror' is not a known feature; known: Comedy, Drama
        """
        return _columns(self.names, [str(name) for name in names], what)
