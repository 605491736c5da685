"""Interactions: validated (user, item, rating) data with id maps and CSR both ways.

Raw ids (ints or strings, whatever the caller has) are mapped once to contiguous indices;
models and kernels see indices only, public methods speak raw ids.
"""
import numpy as np

from .. import _validation as v
from .._optional import require
from .csr import DUPLICATE_POLICIES, Csr, _triples_to_csr, transpose
from .ids import IdMap
from .readers import _read_csv, _sparse_triples


class Interactions:
    """(user, item, rating) triples with id maps, CSR by user and by item.

    Build one with :meth:`from_arrays`, :meth:`from_dataframe`, :meth:`from_csv` or
    :meth:`from_sparse`. Every constructor validates once: finite numeric ratings, equal
    lengths, no empty data, and a duplicate (user, item) policy:

    - ``"error"`` (default): a repeated pair raises ``ValueError`` naming it;
    - ``"last"``: keep the last occurrence (by position in the input);
    - ``"sum"`` / ``"mean"``: combine the values (counts, repeated ratings).

    Ratings given as float32 stay float32; anything else numeric becomes float64
    (``ratings_dtype``). ``ratings=None`` means implicit data: every pair has value 1.

    Examples
    --------
    >>> from fastmf import Interactions
    >>> data = Interactions.from_arrays(["ann", "bob", "ann"], ["x", "y", "y"], [5, 3, 4])
    >>> data
    Interactions(2 users, 2 items, 3 ratings, float64)
    >>> data.user_ids.index(["bob", "zoe"])
    array([ 1, -1])
    """

    def __init__(self, user_ids, item_ids, by_user, timestamps=None, item_info=None):
        # Trusted: a valid CSR by user, column indices ascending within each row, and
        # timestamps (if any) in the same order. Use the from_* constructors.
        self.user_ids, self.item_ids = user_ids, item_ids
        self._by_user, self._by_item = by_user, None
        self.timestamps, self.item_info = timestamps, item_info

    # -- constructors ---------------------------------------------------------------
    @classmethod
    def from_arrays(cls, users, items, ratings=None, timestamps=None, *, duplicates="error",
                    item_info=None):
        """Build from parallel arrays of raw user ids, raw item ids and ratings.

        Parameters
        ----------
        users, items : array-like of int or str
            Raw ids, one per rating: all integers or all strings (floats with integral
            values become int64).
        ratings : array-like of numbers, optional
            A finite value per pair; float32 stays float32, anything else becomes
            float64. None: implicit data, every value 1.0.
        timestamps : array-like of numbers or datetime64, optional
            A time per pair; integers and datetime64 are stored as int64, floats as given.
        duplicates : {"error", "last", "sum", "mean"}, default "error"
            What a repeated (user, item) pair does: raise ``ValueError``, keep its last
            occurrence (by input position), or add or average its values (keeping the
            latest timestamp).
        item_info : ItemInfo, optional
            Titles and genres to carry along (``item_info``).

        Returns
        -------
        Interactions
            User and item indices follow the sorted order of the raw ids.

        Raises
        ------
        ValueError
            Lengths differ, the data is empty, a rating is NaN or infinite, an id is a
            non-integral float, or (with ``duplicates="error"``) a pair repeats.
        TypeError
            Ids are neither integers nor strings, ratings are not numeric, or timestamps
            are neither numbers nor datetime64.

        Examples
        --------
        >>> from fastmf import Interactions
        >>> data = Interactions.from_arrays(["ann", "bob", "ann"], ["x", "y", "x"], [5, 3, 4],
        ...                                 duplicates="mean")
        >>> data
        Interactions(2 users, 2 items, 2 ratings, float64)
        >>> data.ratings.tolist()
        [4.5, 3.0]
        >>> Interactions.from_arrays([1, 2], [7, 7]).ratings.tolist()   # implicit data
        [1.0, 1.0]
        >>> Interactions.from_arrays(["ann", "ann"], ["x", "x"], [5, 4])
        Traceback (most recent call last):
        ...
        ValueError: user 'ann' rated item 'x' more than once (first at position 0); ...
        """
        v.check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
        users, items = v.as_ids("users", users), v.as_ids("items", items)
        ratings = np.ones(len(users)) if ratings is None else v.as_ratings("ratings", ratings)
        if timestamps is not None:
            timestamps = v.as_1d("timestamps", timestamps)
            if timestamps.dtype.kind not in "iuf" and not np.issubdtype(timestamps.dtype, np.datetime64):
                raise TypeError(f"timestamps must be numbers or datetime64, got dtype {timestamps.dtype}")
            timestamps = timestamps.astype(np.int64) if timestamps.dtype.kind != "f" else timestamps
        v.check_same_length(users=users, items=items, ratings=ratings, timestamps=timestamps)
        v.check_not_empty("the data", users)
        user_ids, item_ids, by_user, timestamps = _triples_to_csr(users, items, ratings,
                                                                  timestamps, duplicates)
        return cls(user_ids, item_ids, by_user, timestamps, item_info)

    @classmethod
    def from_dataframe(cls, df, user_col="user", item_col="item", rating_col="rating",
                       timestamp_col=None, **kwargs):
        """Build from a pandas DataFrame, one row per rating.

        Parameters
        ----------
        df : pandas.DataFrame
        user_col, item_col : str, default "user", "item"
            The columns of raw user and item ids.
        rating_col : str or None, default "rating"
            The column of ratings; None for implicit data (every value 1.0).
        timestamp_col : str, optional
            A column of times (numbers or datetime64).
        **kwargs
            ``duplicates`` and ``item_info``, as for :meth:`from_arrays`.

        Returns
        -------
        Interactions

        Raises
        ------
        KeyError
            A named column is not in ``df``.
        ValueError, TypeError
            As for :meth:`from_arrays`.

        Examples
        --------
        >>> import pandas as pd
        >>> from fastmf import Interactions
        >>> df = pd.DataFrame({"user": ["ann", "bob"], "movie": ["x", "y"], "stars": [5, 3]})
        >>> Interactions.from_dataframe(df, item_col="movie", rating_col="stars")
        Interactions(2 users, 2 items, 2 ratings, float64)
        >>> Interactions.from_dataframe(df, item_col="movie", rating_col=None).ratings.tolist()
        [1.0, 1.0]
        """
        for col in (user_col, item_col, rating_col, timestamp_col):
            if col is not None and col not in df.columns:
                raise KeyError(f"column {col!r} not in the DataFrame; columns are {list(df.columns)}")
        column = lambda c: None if c is None else df[c].to_numpy()  # noqa: E731
        return cls.from_arrays(column(user_col), column(item_col), column(rating_col),
                               column(timestamp_col), **kwargs)

    @classmethod
    def from_csv(cls, path, sep=None, columns=(0, 1, 2), header=None, *, encoding="utf-8",
                 id_dtype="auto", **kwargs):
        """Read a delimited text file of user, item[, rating[, timestamp]] fields.

        Parameters
        ----------
        path : str or path-like
        sep : str, optional
            The field separator; by default a tab for ``.tsv``, ``.data`` and ``.tab``
            files and a comma otherwise.
        columns : sequence, default (0, 1, 2)
            The user, item, rating and (optional fourth) timestamp fields, by position,
            or by name when ``header`` is true. A rating field of None means implicit
            data (every value 1.0).
        header : bool, optional
            The first line names the fields rather than holding a rating.
        encoding : str, default "utf-8"
            The file's text encoding; a UTF-8 byte-order mark at its start is skipped.
        id_dtype : {"auto", "str"}, default "auto"
            "auto": a column whose every id reads as an integer becomes int64 ids, so
            "007" and "7" are the same id (a warning says so when that merges ids);
            "str": ids stay text as written.
        **kwargs
            ``duplicates`` and ``item_info``, as for :meth:`from_arrays`.

        Returns
        -------
        Interactions
            Fields are stripped of surrounding spaces; blank lines are skipped.

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist.
        KeyError
            A named column is not in the header.
        ValueError
            A line has too few fields or is not text in ``encoding``, a rating or
            timestamp is not a number, the file holds no data rows, or as for
            :meth:`from_arrays`.

        Examples
        --------
        >>> import os, tempfile
        >>> from fastmf import Interactions
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "ratings.csv")
        ...     with open(path, "w") as handle:
        ...         _ = handle.write("user,item,stars\\n1,10,4.5\\n1,11,3\\n2,10,5\\n")
        ...     data = Interactions.from_csv(path, columns=("user", "item", "stars"),
        ...                                  header=True)
        >>> data
        Interactions(2 users, 2 items, 3 ratings, float64)
        >>> data.user_ids.ids.tolist(), data.ratings.tolist()
        ([1, 2], [4.5, 3.0, 5.0])
        """
        users, items, ratings, timestamps = _read_csv(path, sep, columns, header, encoding,
                                                      id_dtype)
        return cls.from_arrays(users, items, ratings, timestamps, **kwargs)

    @classmethod
    def from_sparse(cls, matrix, user_ids=None, item_ids=None, **kwargs):
        """Build from a scipy.sparse users × items matrix of ratings.

        Every stored entry is a rating, explicit zeros included; a row or column with no
        stored entry gets no id in the result.

        Parameters
        ----------
        matrix : scipy.sparse matrix or sparse array
            Rows are users, columns items.
        user_ids, item_ids : array-like of int or str, optional
            Raw ids of the rows and columns; by default 0..n-1.
        **kwargs
            ``duplicates`` and ``item_info``, as for :meth:`from_arrays` (a COO matrix
            may store a pair more than once).

        Returns
        -------
        Interactions

        Raises
        ------
        TypeError
            ``matrix`` is not a scipy.sparse matrix.
        ValueError
            The matrix is malformed, or ``user_ids``/``item_ids`` do not match its shape.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> from fastmf import Interactions
        >>> matrix = sp.csr_matrix([[5.0, 0.0, 3.0], [0.0, 0.0, 0.0], [0.0, 4.0, 0.0]])
        >>> data = Interactions.from_sparse(matrix, user_ids=["ann", "bob", "cid"])
        >>> data
        Interactions(2 users, 3 items, 3 ratings, float64)
        >>> data.user_ids.ids.tolist(), data.items.tolist()
        (['ann', 'cid'], [0, 2, 1])
        """
        return cls.from_arrays(*_sparse_triples(matrix, user_ids, item_ids), **kwargs)

    # -- views ----------------------------------------------------------------------
    @property
    def n_users(self):
        """The number of users (rows)."""
        return len(self.user_ids)

    @property
    def n_items(self):
        """The number of items (columns)."""
        return len(self.item_ids)

    @property
    def nnz(self):
        """The number of stored ratings (also ``len(data)``)."""
        return len(self._by_user.data)

    @property
    def ratings(self):
        """Every rating, in (user, item) order (the CSR's data: no copy)."""
        return self._by_user.data

    @property
    def iidx(self):
        """The item index of every rating (the CSR's column indices: no copy)."""
        return self._by_user.indices

    @property
    def uidx(self):
        """The user index of every rating (computed from the CSR on each call)."""
        return np.repeat(np.arange(self.n_users, dtype=np.int32), self._by_user.counts())

    def __len__(self):
        return self.nnz

    @property
    def shape(self):
        """(n_users, n_items)."""
        return (self.n_users, self.n_items)

    @property
    def ratings_dtype(self):
        """The numpy dtype of the ratings (float32 or float64)."""
        return self.ratings.dtype

    @property
    def rating_range(self):
        """(lowest, highest) stored rating, as floats."""
        return float(self.ratings.min()), float(self.ratings.max())

    def __repr__(self):
        return (f"Interactions({self.n_users} users, {self.n_items} items, {self.nnz} ratings, "
                f"{self.ratings.dtype})")

    @property
    def by_user(self):
        """CSR with a row per user (item indices ascending within a row)."""
        return self._by_user

    @property
    def by_item(self):
        """CSR with a row per item: the transpose of ``by_user``."""
        if self._by_item is None:
            self._by_item = transpose(self.by_user)
        return self._by_item

    @property
    def users(self):
        """The raw user id of every rating."""
        return self.user_ids.ids[self.uidx]

    @property
    def items(self):
        """The raw item id of every rating."""
        return self.item_ids.ids[self.iidx]

    def to_arrays(self):
        """The data as parallel arrays: the inverse of :meth:`from_arrays`.

        Returns
        -------
        users, items, ratings : ndarray
            Raw user ids, raw item ids and values, one entry per rating, ordered by user
            index, then item index (not the input order). ``ratings`` is the stored array
            itself, not a copy.

        Examples
        --------
        >>> from fastmf import Interactions
        >>> data = Interactions.from_arrays(["bob", "ann", "bob"], ["y", "x", "x"], [1, 2, 3])
        >>> users, items, ratings = data.to_arrays()
        >>> users.tolist(), items.tolist(), ratings.tolist()
        (['ann', 'bob', 'bob'], ['x', 'x', 'y'], [2.0, 3.0, 1.0])
        """
        return self.users, self.items, self.ratings

    def to_dataframe(self):
        """The data as a pandas DataFrame, a row per rating in the order of :meth:`to_arrays`.

        Returns
        -------
        pandas.DataFrame
            Columns ``user``, ``item``, ``rating`` and, when the data has timestamps,
            ``timestamp``.

        Examples
        --------
        >>> from fastmf import Interactions
        >>> data = Interactions.from_arrays(["bob", "ann"], ["y", "x"], [1.0, 2.0],
        ...                                 timestamps=[20, 10])
        >>> data.to_dataframe()
          user item  rating  timestamp
        0  ann    x     2.0         10
        1  bob    y     1.0         20
        """
        pd = require("pandas", "to_dataframe()")
        frame = {"user": self.users, "item": self.items, "rating": self.ratings}
        if self.timestamps is not None:
            frame["timestamp"] = self.timestamps
        return pd.DataFrame(frame)

    def take(self, positions):
        """A new Interactions with some of the ratings: a subset for splits and folds.

        Parameters
        ----------
        positions : array-like of int
            Positions in the stored order of the ratings (that of ``ratings``, ``users``,
            ``items`` and :meth:`to_arrays`), each at most once, in any order.

        Returns
        -------
        Interactions
            Only the users and items that still have ratings, in their previous relative
            index order; timestamps and ``item_info`` come along.

        Raises
        ------
        IndexError
            A position is out of range.

        Examples
        --------
        >>> from fastmf import Interactions
        >>> data = Interactions.from_arrays(["ann", "ann", "bob"], ["x", "y", "y"], [5, 3, 4])
        >>> data.take([2, 0])
        Interactions(2 users, 2 items, 2 ratings, float64)
        >>> part = data.take([1, 2])
        >>> part.user_ids.ids.tolist(), part.item_ids.ids.tolist(), part.ratings.tolist()
        (['ann', 'bob'], ['y'], [3.0, 4.0])
        """
        positions = np.sort(np.asarray(positions, dtype=np.int64))
        uidx, iidx = self.uidx[positions], self.iidx[positions]
        users_kept, new_u = np.unique(uidx, return_inverse=True)
        items_kept, new_i = np.unique(iidx, return_inverse=True)
        ts = None if self.timestamps is None else self.timestamps[positions]
        n_users = len(users_kept)
        indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(new_u.ravel(), minlength=n_users), out=indptr[1:])
        csr = Csr(indptr, new_i.ravel().astype(np.int32), self.ratings[positions],
                  (n_users, len(items_kept)))
        return Interactions(IdMap(self.user_ids.ids[users_kept]), IdMap(self.item_ids.ids[items_kept]),
                            csr, ts, self.item_info)


def as_interactions(data, name="data"):
    """Accept an Interactions, or (users, items, ratings) arrays, and return Interactions."""
    if isinstance(data, Interactions):
        return data
    if isinstance(data, tuple) and len(data) in (2, 3):
        return Interactions.from_arrays(*data)
    raise TypeError(f"{name} must be a fastmf.Interactions or a (users, items, ratings) tuple, "
                    f"got {type(data).__name__}")
