"""Triples from outside: delimited text files (:meth:`Interactions.from_csv`), items files
(:meth:`ItemInfo.from_csv`) and scipy.sparse matrices (:meth:`Interactions.from_sparse`)."""
from __future__ import annotations

import functools
import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..exceptions import FastMFWarning
from . import text
from .text import _undecodable_line, is_number as _is_number  # noqa: F401

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Literal

    from numpy.typing import ArrayLike, NDArray

    from .._typing import BoolArray, Float64Array, IdArray, Int64Array
    from .text import Column, Table

# Header fields that name an id column, lower-cased without '_', '-' and spaces: a first
# line of text ids is a header when its id fields are such names.
_ID_NAMES = {"user", "userid", "users", "uid", "item", "itemid", "items", "iid", "movie",
             "movieid", "product", "productid", "track", "trackid", "artist", "artistid",
             "song", "songid", "book", "bookid", "isbn", "customer", "customerid", "session",
             "sessionid", "id"}
_NO_CATEGORY = {"", "(no genres listed)"}


def _read_csv(path: object, sep: str | None, columns: object, header: bool | None,
              encoding: str, id_dtype: str
              ) -> tuple[IdArray, IdArray, Float64Array | None, NDArray[Any] | None]:
    """(users, items, ratings or None, timestamps or None) of a delimited text file, read
    as :meth:`Interactions.from_csv` says."""
    path = text.checked_path(path)
    v.check_choice("id_dtype", id_dtype, ("auto", "str"))
    text.check_sep(sep)
    text.check_header(header)
    columns = _interaction_columns(columns)
    detect = functools.partial(_header_detected, id_dtype=id_dtype)
    table = text.read_table(path, columns, sep, header, encoding, detect)
    fields = table.fields + [None] * (4 - len(table.fields))
    # called from here, _parse_ids' warning points at the caller of from_csv
    users = _parse_ids(fields[0], id_dtype, "user")
    items = _parse_ids(fields[1], id_dtype, "item")
    ratings = None if fields[2] is None else _parse_numbers(table, 2, "rating")
    timestamps = None if fields[3] is None else _parse_timestamps(table, 3)
    return users, items, ratings, timestamps


def _parse_timestamps(table: Table, column: int) -> Int64Array | Float64Array:
    """int64 times when every one is written as an integer, else float64 (as _parse_numbers)."""
    try:
        return np.array(table.fields[column]).astype(np.int64)
    except (ValueError, OverflowError):
        return _parse_numbers(table, column, "timestamp")


def _interaction_columns(columns: Any) -> tuple[Column, ...]:
    if isinstance(columns, (str, bytes)) or not hasattr(columns, "__len__"):
        raise TypeError(f"columns must be a sequence of 2 to 4 fields (user, item[, rating[, "
                        f"timestamp]]), got {columns!r}")
    columns = tuple(columns)
    if not 2 <= len(columns) <= 4 or columns[0] is None or columns[1] is None:
        raise ValueError(f"columns must list 2 to 4 fields, user, item[, rating[, timestamp]], "
                         f"the user and item fields not None; got {columns!r}")
    return columns


def _header_detected(first: list[str], rows: list[list[str]], columns: Sequence[Any],
                     id_dtype: str) -> bool:
    """Whether the first line of a ratings file names its fields: a rating or timestamp
    (or, with id_dtype "auto", an id) that is not a number there but is in the next rows,
    or id fields that are column names such as user and item."""
    numeric = [c for c in columns[2:] if c is not None]
    integral = [c for c in columns[:2]] if id_dtype == "auto" else []
    if any(_differs(first, rows, c, text.is_number) for c in numeric):
        return True
    if any(_differs(first, rows, c, text.is_integer) for c in integral):
        return True
    ids = [first[c].strip() for c in columns[:2] if c < len(first)]
    return len(ids) == 2 and text.looks_like_names(ids, _ID_NAMES)


def _differs(first: list[str], rows: list[list[str]], column: int,
             test: Callable[[str], bool]) -> bool:
    """True when the first row's field fails ``test`` and every later one passes it."""
    later = [row[column].strip() for row in rows if len(row) > column]
    return (column < len(first) and not test(first[column].strip()) and bool(later)
            and all(test(value) for value in later))


def _read_items(path: object, sep: str | None, columns: object, header: bool | None,
                category_sep: str | None, flags: bool | Sequence[str], encoding: str | None,
                id_dtype: str
                ) -> tuple[IdArray, list[str] | None, BoolArray | None, list[str]]:
    """(ids, titles or None, genres or None, genre names) of an items file, read as
    :meth:`ItemInfo.from_csv` says."""
    path = text.checked_path(path)
    v.check_choice("id_dtype", id_dtype, ("auto", "str"))
    text.check_sep(sep)
    text.check_header(header)
    if category_sep is not None and (not isinstance(category_sep, str) or not category_sep):
        raise ValueError(f"category_sep must be a non-empty text or None, got {category_sep!r}")
    if flags is not True and flags is not False and (
            isinstance(flags, (str, bytes)) or not hasattr(flags, "__len__")):
        raise TypeError(f"flags must be False, True or a sequence of category names, "
                        f"got {flags!r}")
    columns = _default_item_columns if columns is None else _item_columns(columns)
    detect = functools.partial(_item_header, flags=flags, id_dtype=id_dtype)
    if encoding is not None:
        table = text.read_table(path, columns, sep, header, encoding, detect)
    else:
        try:
            table = text.read_table(path, columns, sep, header, "utf-8", detect)
        except text.NotText:
            table = text.read_table(path, columns, sep, header, "latin-1", detect)
    ids = _parse_ids(table.fields[0], id_dtype, "item")
    _check_unique(table, ids)
    titles = table.fields[1]
    category_fields = [f for f in table.fields[2:] if f is not None]
    if not category_fields:
        return ids, titles, None, []
    if flags is not False:
        return (ids, titles) + _flag_columns(table, flags)
    lists: list[set[str]] = [set() for _ in ids]
    for field in category_fields:
        for categories, value in zip(lists, field):
            parts = [value] if category_sep is None else value.split(category_sep)
            categories.update(p.strip() for p in parts if p.strip() not in _NO_CATEGORY)
    names = sorted(set().union(*lists))
    column = {name: k for k, name in enumerate(names)}
    genres = np.zeros((len(ids), len(names)), dtype=bool)
    for row, categories in enumerate(lists):
        genres[row, [column[name] for name in categories]] = True
    return ids, titles, genres, names


def _default_item_columns(width: int) -> tuple[int, ...]:
    """The id, the title and, when the first line has a third field, the categories."""
    return (0, 1, 2) if width >= 3 else (0, 1)


def _item_columns(columns: Any) -> tuple[Column, ...]:
    if isinstance(columns, (str, bytes)) or not hasattr(columns, "__len__"):
        raise TypeError(f"columns must be a sequence (id, title[, category, ...]), "
                        f"got {columns!r}")
    columns = tuple(columns)
    if len(columns) < 2 or columns[0] is None:
        raise ValueError(f"columns must list the id field, the title field (or None) and any "
                         f"category fields; got {columns!r}")
    return columns


def _item_header(first: list[str], rows: list[list[str]], columns: Sequence[Any],
                 flags: bool | Sequence[str], id_dtype: str) -> bool:
    """Whether the first line of an items file names its fields: an id that is not an
    integer there but is in the next rows (id_dtype "auto"), flags that are not 0/1 there
    but are in the next rows, or an id field that is a column name such as movieId."""
    if id_dtype == "auto" and _differs(first, rows, columns[0], text.is_integer):
        return True
    if flags is not False and any(_differs(first, rows, c, lambda x: x in ("0", "1", ""))
                                  for c in columns[2:] if c is not None):
        return True
    return columns[0] < len(first) and text.looks_like_names([first[columns[0]]], _ID_NAMES)


def _check_unique(table: Table, ids: IdArray) -> None:
    uniques, counts = np.unique(ids, return_counts=True)
    if len(uniques) < len(ids):
        twice = uniques[np.flatnonzero(counts > 1)[0]]
        first, second = np.flatnonzero(ids == twice)[:2]
        raise ValueError(f"{table.path}: item {twice.item()!r} is listed twice, on lines "
                         f"{table.line(first)} and {table.line(second)}; keep one line per item")


def _flag_columns(table: Table, flags: Literal[True] | Sequence[str]
                  ) -> tuple[BoolArray, list[str]]:
    """(genres, names) of 0/1 category columns."""
    picked = [(k, f) for k, f in enumerate(table.fields) if k >= 2 and f is not None]
    if flags is True:
        read = [c for c in table.positions[2:] if c is not None]
        names = ([table.names[c] if c < len(table.names) else f"column {c}" for c in read]
                 if table.names is not None else [f"column {c}" for c in read])
    else:
        names = [str(name) for name in flags]
        if len(names) != len(picked):
            raise ValueError(f"flags names {len(names)} categories, but {len(picked)} category "
                             f"columns are read; give a name per column")
    genres = np.zeros((len(table.fields[0]), len(picked)), dtype=bool)
    for j, (k, field) in enumerate(picked):
        values = np.asarray(field)
        bad = np.flatnonzero((values != "0") & (values != "1") & (values != ""))
        if len(bad):
            raise ValueError(f"{table.path}, line {table.line(bad[0])}: category flag "
                             f"{str(values[bad[0]])!r} is not 0 or 1 (flags reads the category "
                             f"columns as 0/1); pass flags=False for lists of names")
        genres[:, j] = values == "1"
    return genres, names


def _parse_ids(values: Sequence[str], id_dtype: str = "auto", what: str = "id") -> IdArray:
    """Text ids as int64 when every one reads as an integer (id_dtype "auto"), else as
    strings; a warning when integers merge ids written apart ("007" and "7")."""
    v.check_no_trailing_nul(f"{what} ids", values)
    array = np.asarray(values)
    if id_dtype == "str" or not text.all_integers(values):
        return array
    try:
        numbers = array.astype(np.int64)
    except (ValueError, OverflowError):
        return array
    padded = np.char.startswith(array, "0") & (np.char.str_len(array) > 1)
    signed = np.char.startswith(array, "+") | np.char.startswith(array, "-0")
    if (padded | signed).any() and len(np.unique(array)) > len(np.unique(numbers)):
        example = array[np.flatnonzero(padded | signed)[0]]
        warnings.warn(f"{what} ids written apart are the same integer (e.g. {str(example)!r} and "
                      f"{int(example)}); pass id_dtype='str' to keep them apart",
                      FastMFWarning, stacklevel=4)
    return numbers


def _parse_numbers(table: Table, column: int, what: str) -> Float64Array:
    """The float64 values of a number column of a Table; an error names the first line
    that holds no number (and suggests header=True when that is the first line)."""
    values = table.fields[column]
    if text.all_numbers(values):
        return np.asarray(values, dtype=np.float64)
    bad = next(i for i, x in enumerate(values) if not text.is_number(x))
    hint = ""
    if bad == 0 and table.names is None:
        first = ", ".join(f[0] for f in table.fields if f is not None)
        hint = (f"; the first line looks like a header ({first}): pass header=True (--header "
                f"on the command line)")
    raise ValueError(f"{table.path}, line {table.line(bad)}: {what} {values[bad]!r} is not a "
                     f"number{_plain(values[bad])}{hint}")


def _plain(value: str) -> str:
    """What to add when Python's float() would read ``value`` ("1_0", "nan", "３"), which
    fastmf does not."""
    try:
        float(value)
    except ValueError:
        return ""
    return " in plain decimal notation (digits 0-9, a point, an exponent)"


def _sparse_triples(matrix: Any, user_ids: ArrayLike | None, item_ids: ArrayLike | None
                    ) -> tuple[IdArray, IdArray, NDArray[Any]]:
    """(users, items, values) of every stored entry of a scipy.sparse matrix, read as
    :meth:`Interactions.from_sparse` says."""
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
    return user_ids[rows], item_ids[cols], coo.data
