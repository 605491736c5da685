"""Side features of users and items (age buckets, gender, occupation, genres, tags, scaled
numbers): sparse rows of nonnegative weights keyed by raw id and feature name, for models
whose factors lean on them (``ALS(user_features=, item_features=)``, the same in
``ImplicitALS``). ``UserFeatures`` and ``ItemFeatures`` share one base and differ only in
which side they describe.
"""
from __future__ import annotations

import csv
import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from . import _validation as v
from .data import IdMap

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, TypeVar

    import scipy.sparse as sp
    from numpy.typing import ArrayLike, NDArray

    from ._typing import Int64Array, PathLike
    from .data import ItemInfo

    #: One row's features: names (weight 1 each) or a mapping of name to weight.
    FeatureRow = Sequence[str] | Mapping[str, float]
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
        feature named after the column, its value the weight (values must be >= 0; scale
        them first; a missing value is no feature); a column named in ``buckets`` becomes
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
                                     f"feature weights must be >= 0: scale the column or "
                                     f"give it buckets")
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


class ItemFeatures(_Features):
    """Item features: a sparse items × features matrix of weights >= 0 keyed by raw item ids
    and feature names (genres, tags, one-hot buckets of a year, scaled numbers).

    Build one with :meth:`from_lists` (names, or name-to-weight dicts, per item),
    :meth:`from_sparse` (a scipy.sparse matrix), :meth:`from_frame` (a pandas DataFrame),
    :meth:`from_csv` (a file) or :meth:`from_item_info` (the genres that
    :func:`fastmf.datasets.load_movielens` reads).

    Parameters
    ----------
    item_ids : array-like of int or str
        The raw id of each row, each once.
    matrix : scipy.sparse matrix or array-like, shape (n_items, n_features)
        The weights, finite and >= 0.
    names : iterable
        The name of each feature (column), unique as strings.

    Examples
    --------
    >>> from fastmf.features import ItemFeatures
    >>> features = ItemFeatures.from_lists(["toy story", "heat"],
    ...                                    [["Animation", "Comedy"], ["Crime"]])
    >>> features
    ItemFeatures(2 items, 3 features)
    >>> features.weights(["heat", "toy story", "new"]).toarray().round(3).tolist()
    [[0.0, 0.0, 1.0], [0.707, 0.707, 0.0], [0.0, 0.0, 0.0]]
    """

    _side = "item"

    @property
    def item_ids(self) -> IdMap:
        """The raw item ids of the rows (an ``IdMap``: ``.ids``, ``.index(ids)``)."""
        return self.ids

    @classmethod
    def from_item_info(cls, info: ItemInfo | None) -> ItemFeatures:
        """The genres of an :class:`fastmf.ItemInfo` (MovieLens) as features.

        Parameters
        ----------
        info : ItemInfo
            Item information with genres, such as the ``item_info`` of
            :func:`fastmf.datasets.load_movielens` or :func:`fastmf.datasets.make_ratings`.

        Returns
        -------
        ItemFeatures
            An item per id of ``info``, a feature per genre (in ``genre_names`` order).

        Raises
        ------
        ValueError
            ``info`` is None or has no genres.

        Examples
        --------
        >>> import fastmf
        >>> info = fastmf.ItemInfo([1, 2], ["Heat", "Up"], [[True, False], [True, True]],
        ...                        ["Crime", "Comedy"])
        >>> features = fastmf.ItemFeatures.from_item_info(info)
        >>> features
        ItemFeatures(2 items, 2 features)
        >>> features.names.tolist()
        ['Crime', 'Comedy']
        >>> fastmf.ItemFeatures.from_item_info(fastmf.datasets.toy().item_info)
        Traceback (most recent call last):
        ...
        ValueError: this data has no genres (item_info with genres, as load_movielens gives) ...
        """
        if info is None or info.genres is None:
            raise ValueError("this data has no genres (item_info with genres, as load_movielens "
                             "gives) to use as item features; attach your items' categories "
                             "with item_info=ItemInfo.from_csv(...) or a path (--items FILE on "
                             "the command line)")
        return cls(info.ids.ids, info.genres, info.genre_names)


class UserFeatures(_Features):
    """User features: a sparse users × features matrix of weights >= 0 keyed by raw user ids
    and feature names (one-hot buckets of age, gender, occupation, country, scaled numbers).

    Built as :class:`ItemFeatures` is: :meth:`from_lists`, :meth:`from_sparse`,
    :meth:`from_frame` or :meth:`from_csv`.

    Parameters
    ----------
    user_ids : array-like of int or str
        The raw id of each row, each once.
    matrix : scipy.sparse matrix or array-like, shape (n_users, n_features)
        The weights, finite and >= 0.
    names : iterable
        The name of each feature (column), unique as strings.

    Examples
    --------
    >>> from fastmf import UserFeatures
    >>> users = UserFeatures.from_lists(["ann", "bob"], [["F", "age:[25,35)"], ["M"]])
    >>> users
    UserFeatures(2 users, 3 features)
    >>> users.weights(["bob", "ann"]).toarray().round(3).tolist()
    [[0.0, 1.0, 0.0], [0.707, 0.0, 0.707]]
    """

    _side = "user"

    @property
    def user_ids(self) -> IdMap:
        """The raw user ids of the rows (an ``IdMap``: ``.ids``, ``.index(ids)``)."""
        return self.ids


# -- helpers -----------------------------------------------------------------------------
def normalized(A: sp.csr_matrix) -> sp.csr_matrix:
    """A copy of the CSR ``A`` with every nonzero row scaled to unit Euclidean length."""
    A = A.copy()
    norms = np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())
    A.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(A.indptr))
    return A


def rows_to_weights(names: NDArray[np.str_], rows: Sequence[FeatureRow], what: str
                    ) -> sp.csr_matrix:
    """The normalized weights (``_Features.weights``) of rows given as names or dicts, against
    the vocabulary ``names``; ValueError for an unknown name or a bad weight."""
    import scipy.sparse as sp

    parsed = [_as_row(row, f"{what}[{r}]") for r, row in enumerate(rows)]
    cols = [_columns(names, list(row), "feature") for row in parsed]
    counts = [len(row) for row in parsed]
    data = np.asarray([w for row in parsed for w in row.values()], dtype=np.float64)
    matrix = sp.csr_matrix((data, (np.repeat(np.arange(len(parsed)), counts),
                                   np.concatenate(cols + [np.zeros(0, np.int64)]))),
                           shape=(len(parsed), len(names)))
    matrix.eliminate_zeros()
    return normalized(matrix)


def table_to_weights(names: NDArray[np.str_], features: _Features, ids: NDArray[Any]
                     ) -> sp.csr_matrix:
    """The normalized weights of ``ids`` from a features table, its columns mapped onto the
    vocabulary ``names``; ValueError for an id the table lacks or a feature not in names."""
    index = features.ids.index(ids)
    if (index < 0).any():
        raise ValueError(f"{features._side} {ids[np.argmax(index < 0)].item()!r} is not in "
                         f"the given {type(features).__name__}")
    M = features.matrix[index]
    used = np.unique(M.indices)
    columns = np.zeros(len(features.names), dtype=np.int64)
    columns[used] = _columns(names, list(features.names[used]), "feature")
    import scipy.sparse as sp

    out = sp.csr_matrix((M.data, columns[M.indices], M.indptr), shape=(len(ids), len(names)))
    out.sum_duplicates()
    return normalized(out)


def _as_row(row: object, what: str) -> dict[str, float]:
    """One row's features as {name: weight}: a list of names (weight 1, repeats once), a
    dict of name to weight (finite, >= 0), a single string (one name)."""
    if isinstance(row, str):
        return {row: 1.0}
    if hasattr(row, "items"):
        out = {}
        for name, weight in row.items():
            w = float(weight)
            if not (np.isfinite(w) and w >= 0):
                raise ValueError(f"{what}: the weight of feature {str(name)!r} must be "
                                 f"finite and >= 0, got {weight!r}")
            out[str(name)] = w
        return out
    try:
        return {str(name): 1.0 for name in row}  # type: ignore[attr-defined]  # iterable
    except TypeError:
        raise TypeError(f"{what} must be a list of feature names or a dict of name to weight, "
                        f"got {type(row).__name__}") from None


def _columns(names: NDArray[np.str_], wanted: list[str], what: str) -> Int64Array:
    lookup = {name: j for j, name in enumerate(names)}
    unknown = [name for name in wanted if name not in lookup]
    if unknown:
        raise ValueError(f"{what} {unknown[0]!r} is not a known feature; known: "
                         f"{', '.join(names[:20])}{' ...' if len(names) > 20 else ''}")
    return np.array([lookup[name] for name in wanted], dtype=np.int64)


def _add_buckets(rows: list[dict[str, float]], name: str, values: NDArray[Any],
                 edges: Sequence[float]) -> None:
    """One-hot buckets of a numeric column: <e0, [e0,e1), ..., >=e_last (missing: none)."""
    edges_array = np.asarray(edges, dtype=np.float64)
    if (edges_array.ndim != 1 or len(edges_array) == 0 or not np.isfinite(edges_array).all()
            or (np.diff(edges_array) <= 0).any()):
        raise ValueError(f"buckets[{name!r}] must be increasing finite numbers, got "
                         f"{list(edges)!r}")
    labels = ([f"{name}<{_number(edges_array[0])}"]
              + [f"{name}:[{_number(lo)},{_number(hi)})"
                 for lo, hi in zip(edges_array[:-1], edges_array[1:])]
              + [f"{name}>={_number(edges_array[-1])}"])
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"column {name!r} has buckets but holds values that are not "
                         f"numbers") from None
    which = np.searchsorted(edges_array, numbers, side="right")
    for row, x, b in zip(rows, numbers, which):
        if np.isfinite(x):
            row[labels[b]] = 1.0


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _column_position(header: list[str], name: str, path: object) -> int:
    if name not in header:
        raise ValueError(f"id_column {name!r} is not a column of {str(path)!r}; its columns: "
                         f"{', '.join(header)}")
    return header.index(name)


def _parse_ids(cells: list[str]) -> NDArray[Any]:
    try:
        return np.array([int(cell) for cell in cells], dtype=np.int64)
    except ValueError:
        return np.array(cells, dtype=str)


def _parse_numbers(cells: list[str]) -> NDArray[np.float64] | None:
    """The cells as float64 (empty: NaN), or None when a non-empty cell is not a number."""
    try:
        return np.array([float(cell) if cell else np.nan for cell in cells], dtype=np.float64)
    except ValueError:
        return None
