"""Interactions: validated (user, item, rating) data with id maps and CSR both ways.

Raw ids (ints or strings, whatever the caller has) are mapped once to contiguous indices;
models and kernels see indices only, public methods speak raw ids.
"""
import csv
import os
from dataclasses import dataclass

import numpy as np

from . import _core
from . import _validation as v

DUPLICATE_POLICIES = ("error", "last", "sum", "mean")


class IdMap:
    """Raw ids <-> contiguous indices 0..n-1 (index order is the order of ``ids``)."""

    def __init__(self, ids):
        self.ids = np.asarray(ids)
        self._sorter = np.argsort(self.ids, kind="stable")
        self._sorted = self.ids[self._sorter]

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        return f"IdMap({len(self)} ids)"

    def __contains__(self, raw_id):
        return bool(self.index(np.asarray([raw_id]))[0] >= 0)

    def index(self, raw_ids):
        """Indices of ``raw_ids`` as int64; ids not in the map give -1."""
        raw = np.asarray(raw_ids)
        out = np.full(raw.shape, -1, dtype=np.int64)
        if len(self) == 0 or raw.size == 0 or not _comparable(raw.dtype, self.ids.dtype):
            return out
        known = self._sorted
        if raw.dtype.kind in "iuf" and raw.dtype != known.dtype:   # compare without wrapping
            common = np.promote_types(raw.dtype, known.dtype)
            raw, known = raw.astype(common, copy=False), known.astype(common, copy=False)
        pos = np.searchsorted(known, raw)
        pos_clipped = np.minimum(pos, len(self) - 1)
        found = known[pos_clipped] == raw
        out[found] = self._sorter[pos_clipped[found]]
        return out

    def to_raw(self, indices):
        return self.ids[np.asarray(indices, dtype=np.int64)]


def _comparable(a, b):
    numeric = "iuf"
    return (a.kind in numeric and b.kind in numeric) or (a.kind == b.kind == "U")


@dataclass(frozen=True)
class Csr:
    """A CSR matrix in the layout the kernels take: int64 indptr, int32 indices."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple

    def row(self, r):
        lo, hi = self.indptr[r], self.indptr[r + 1]
        return self.indices[lo:hi], self.data[lo:hi]

    def counts(self):
        return np.diff(self.indptr)

    def astype(self, dtype):
        if self.data.dtype == dtype:
            return self
        return Csr(self.indptr, self.indices, self.data.astype(dtype), self.shape)

    def to_scipy(self):
        import scipy.sparse as sp
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def transpose(csr):
    """The transpose of a Csr (a new Csr; O(nnz), C++)."""
    n_rows, n_cols = csr.shape
    indptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(csr.indices, minlength=n_cols), out=indptr[1:])
    indices = np.empty(len(csr.indices), dtype=np.int32)
    data = np.empty_like(csr.data)
    _core.csr_transpose(csr.indptr, csr.indices, csr.data, indptr, indices, data)
    return Csr(indptr, indices, data, (n_cols, n_rows))


class ItemInfo:
    """Titles and genres of items, keyed by raw item id (valid for any subset of the data)."""

    def __init__(self, ids, titles=None, genres=None, genre_names=None):
        self.ids = IdMap(v.as_ids("ids", ids))
        self.titles = None if titles is None else np.asarray(titles, dtype=str)
        self.genres = None if genres is None else np.asarray(genres, dtype=bool)
        self.genre_names = list(genre_names) if genre_names is not None else []
        if self.titles is not None:
            v.check_same_length(ids=self.ids.ids, titles=self.titles)
        if self.genres is not None and self.genres.shape != (len(self.ids), len(self.genre_names)):
            raise ValueError(f"genres must have shape ({len(self.ids)}, {len(self.genre_names)}), "
                             f"got {self.genres.shape}")

    def __repr__(self):
        return f"ItemInfo({len(self.ids)} items, {len(self.genre_names)} genres)"

    def title(self, items):
        """Titles of raw item ids; an id without a title is shown as str(id)."""
        items = np.asarray(items)
        idx = self.ids.index(items)
        out = np.array([str(i) for i in items.ravel()], dtype=object).reshape(items.shape)
        if self.titles is not None:
            known = idx >= 0
            out[known] = self.titles[idx[known]]
        return out.astype(str)

    def genres_of(self, item):
        idx = self.ids.index(np.asarray([item]))[0]
        if idx < 0 or self.genres is None:
            return []
        return [g for g, on in zip(self.genre_names, self.genres[idx]) if on]


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
        """Build from parallel arrays of raw user ids, raw item ids and ratings."""
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
        user_ids, uidx = _factorize(users)
        item_ids, iidx = _factorize(items)
        user_ids, item_ids = IdMap(user_ids), IdMap(item_ids)
        uidx, iidx = uidx.astype(np.int32, copy=False), iidx.astype(np.int32, copy=False)
        shape = (len(user_ids), len(item_ids))
        indptr, indices, data, position = pairs_to_csr(uidx, iidx, ratings, shape[0],
                                                       positions=timestamps is not None)
        timestamps = None if timestamps is None else timestamps[position]
        del position
        first = first_of_each_pair(indptr, indices)
        if not first.all():
            if duplicates == "error":
                _raise_duplicate(indptr, indices, first, uidx, iidx, user_ids, item_ids)
            indptr, indices, data, timestamps = combine_duplicates(
                duplicates, indptr, indices, data, timestamps, first)
        return cls(user_ids, item_ids, Csr(indptr, indices, data, shape), timestamps, item_info)

    @classmethod
    def from_dataframe(cls, df, user_col="user", item_col="item", rating_col="rating",
                       timestamp_col=None, **kwargs):
        """Build from a pandas DataFrame; ``rating_col=None`` for implicit data."""
        for col in (user_col, item_col, rating_col, timestamp_col):
            if col is not None and col not in df.columns:
                raise KeyError(f"column {col!r} not in the DataFrame; columns are {list(df.columns)}")
        column = lambda c: None if c is None else df[c].to_numpy()  # noqa: E731
        return cls.from_arrays(column(user_col), column(item_col), column(rating_col),
                               column(timestamp_col), **kwargs)

    @classmethod
    def from_csv(cls, path, sep=None, columns=(0, 1, 2), header=None, **kwargs):
        """Read a delimited text file of user, item[, rating[, timestamp]] fields.

        ``sep`` defaults to a tab for ``.tsv``/``.data`` files and a comma otherwise;
        ``columns`` picks the user, item, rating (and optional timestamp) fields by
        position, or by name when ``header=True``; a rating column of ``None`` means
        implicit data. Numeric-looking ids are read as integers.
        """
        path = v.check_path(path)
        if sep is None:
            sep = "\t" if os.path.splitext(path)[1] in (".tsv", ".data", ".tab") else ","
        fields = _read_columns(path, sep, columns, header)
        users, items = (_parse_ids(f) for f in fields[:2])
        ratings = _parse_numbers(path, "rating", fields[2]) if len(fields) > 2 else None
        timestamps = _parse_numbers(path, "timestamp", fields[3]) if len(fields) > 3 else None
        return cls.from_arrays(users, items, ratings, timestamps, **kwargs)

    @classmethod
    def from_sparse(cls, matrix, user_ids=None, item_ids=None, **kwargs):
        """Build from a scipy.sparse matrix (rows are users); explicit zeros are kept."""
        import scipy.sparse as sp
        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}")
        if matrix.format in ("csr", "csc", "bsr"):
            try:
                matrix.check_format(full_check=True)
            except ValueError as err:
                raise ValueError(f"matrix is not a valid {matrix.format} matrix: {err}") from None
        coo = sp.coo_matrix(matrix)
        n_users, n_items = coo.shape
        for name, index, size in (("row", coo.row, n_users), ("column", coo.col, n_items)):
            if len(index) and (index.min() < 0 or index.max() >= size):
                raise ValueError(f"matrix has a {name} index out of range [0, {size}): "
                                 f"min {index.min()}, max {index.max()}")
        user_ids = np.arange(n_users) if user_ids is None else v.as_ids("user_ids", user_ids)
        item_ids = np.arange(n_items) if item_ids is None else v.as_ids("item_ids", item_ids)
        if len(user_ids) != n_users or len(item_ids) != n_items:
            raise ValueError(f"user_ids and item_ids must match the matrix shape {coo.shape}, "
                             f"got {len(user_ids)} and {len(item_ids)} ids")
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        return cls.from_arrays(user_ids[rows], item_ids[cols], coo.data, **kwargs)

    # -- views ----------------------------------------------------------------------
    @property
    def n_users(self):
        return len(self.user_ids)

    @property
    def n_items(self):
        return len(self.item_ids)

    @property
    def nnz(self):
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
        return (self.n_users, self.n_items)

    @property
    def ratings_dtype(self):
        return self.ratings.dtype

    @property
    def rating_range(self):
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
        """(users, items, ratings) as raw-id arrays, one entry per rating."""
        return self.users, self.items, self.ratings

    def to_dataframe(self):
        import pandas as pd
        frame = {"user": self.users, "item": self.items, "rating": self.ratings}
        if self.timestamps is not None:
            frame["timestamp"] = self.timestamps
        return pd.DataFrame(frame)

    def take(self, positions):
        """A new Interactions with the ratings at ``positions``, keeping only the users and
        items that still have ratings (their relative index order is preserved)."""
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


def _factorize(values):
    """(sorted unique values, index of each value among them), in linear time for
    non-negative integer ids that are not too sparse, by a sort otherwise."""
    if values.dtype.kind in "iu":
        high = int(values.max())
        if values.min() >= 0 and high < max(4 * len(values), 1 << 20):
            present = np.zeros(high + 1, dtype=bool)
            present[values] = True
            lookup = np.cumsum(present, dtype=np.int32 if high < 2**31 else np.int64) - 1
            return np.flatnonzero(present).astype(values.dtype), lookup[values]
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def pairs_to_csr(rows, cols, values, n_rows, positions=False):
    """(indptr, indices, data, input positions or None): the pairs by row, columns ascending,
    repeated pairs together in input order. A C++ counting sort, no argsort of the whole
    input, so the peak memory stays near the input's own size."""
    rows, cols = (np.ascontiguousarray(a, dtype=np.int32) for a in (rows, cols))
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    indices, data = np.empty(len(rows), dtype=np.int32), np.empty_like(values)
    position = np.empty(len(rows) if positions else 0, dtype=np.int64)
    _core.coo_to_csr(rows, cols, np.ascontiguousarray(values), indptr, indices, data, position, 0)
    return indptr, indices, data, position if positions else None


def first_of_each_pair(indptr, indices):
    """A mask of the CSR entries that start a run of one (row, column) pair."""
    first = np.ones(len(indices), dtype=bool)
    first[1:] = indices[1:] != indices[:-1]
    first[indptr[:-1][indptr[:-1] < len(indices)]] = True
    return first


def _raise_duplicate(indptr, indices, first, uidx, iidx, user_ids, item_ids):
    repeat = int(np.flatnonzero(~first)[0])
    u = int(np.searchsorted(indptr, repeat, side="right")) - 1
    i = int(indices[repeat])
    at = int(np.flatnonzero((uidx == u) & (iidx == i))[0])
    raise ValueError(
        f"user {user_ids.ids[u].item()!r} rated item {item_ids.ids[i].item()!r} more than once "
        f"(first at position {at}); pass duplicates='last', 'sum' or 'mean' to combine "
        f"repeated pairs")


def combine_duplicates(policy, indptr, indices, data, timestamps, first):
    """The CSR with each run of a repeated (user, item) pair (in input order) combined."""
    starts = np.flatnonzero(first)
    kept = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(first, out=kept[1:])
    indptr = kept[indptr]                      # entries kept before each row start
    if policy == "last":
        ends = np.r_[starts[1:], len(first)] - 1
        return indptr, indices[ends], data[ends], None if timestamps is None else timestamps[ends]
    combined = np.add.reduceat(data, starts)
    if policy == "mean":
        combined = combined / np.diff(np.r_[starts, len(first)])
    ts = None if timestamps is None else np.maximum.reduceat(timestamps, starts)
    return indptr, indices[starts], combined.astype(data.dtype), ts


def _read_columns(path, sep, columns, header):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=sep)
        if header:
            names = next(reader, [])
            try:
                picks = [c if isinstance(c, int) else names.index(c) for c in columns if c is not None]
            except ValueError as err:
                raise KeyError(f"{path}: column {err.args[0].split()[0]} not in header {names}") from None
        else:
            picks = [c for c in columns if c is not None]
            if columns[2] is None:   # implicit: no rating column, drop the timestamp slot too
                picks = picks[:2]
        need = max(picks) + 1
        fields = [[] for _ in picks]
        for line_no, row in enumerate(reader, start=2 if header else 1):
            if not row:
                continue
            if len(row) < need:
                raise ValueError(f"{path}, line {line_no}: expected at least {need} fields "
                                 f"separated by {sep!r}, found {len(row)}: {sep.join(row)!r}")
            for out, c in zip(fields, picks):
                out.append(row[c].strip())
    if not fields[0]:
        raise ValueError(f"{path} holds no data rows")
    return fields


def _parse_ids(values):
    array = np.asarray(values)
    try:
        return array.astype(np.int64)
    except ValueError:
        return array


def _parse_numbers(path, what, values):
    try:
        return np.asarray(values, dtype=np.float64)
    except ValueError:
        bad = next(i for i, x in enumerate(values) if not _is_number(x))
        raise ValueError(f"{path}: {what} {values[bad]!r} in data row {bad + 1} is not a number") from None


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def as_interactions(data, name="data"):
    """Accept an Interactions, or (users, items, ratings) arrays, and return Interactions."""
    if isinstance(data, Interactions):
        return data
    if isinstance(data, tuple) and len(data) in (2, 3):
        return Interactions.from_arrays(*data)
    raise TypeError(f"{name} must be a fastmf.Interactions or a (users, items, ratings) tuple, "
                    f"got {type(data).__name__}")
