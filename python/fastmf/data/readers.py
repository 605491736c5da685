"""Triples from outside: delimited text files (:meth:`Interactions.from_csv`) and
scipy.sparse matrices (:meth:`Interactions.from_sparse`)."""
import codecs
import csv
import os
import warnings

import numpy as np

from .. import _validation as v
from ..exceptions import FastMFWarning


def _read_csv(path, sep, columns, header, encoding, id_dtype):
    """(users, items, ratings or None, timestamps or None) of a delimited text file, read
    as :meth:`Interactions.from_csv` says."""
    path = v.check_path(path)
    v.check_choice("id_dtype", id_dtype, ("auto", "str"))
    if sep is None:
        sep = "\t" if os.path.splitext(path)[1] in (".tsv", ".data", ".tab") else ","
    fields = _read_columns(path, sep, columns, header, encoding)
    # called from here, _parse_ids' warning points at the caller of from_csv
    users = _parse_ids(fields[0], id_dtype, "user")
    items = _parse_ids(fields[1], id_dtype, "item")
    rating_field, timestamp_field = (fields[2:] + [None, None])[:2]
    ratings = None if rating_field is None else _parse_numbers(path, "rating", rating_field)
    timestamps = (None if timestamp_field is None
                  else _parse_numbers(path, "timestamp", timestamp_field))
    return users, items, ratings, timestamps


def _read_columns(path, sep, columns, header, encoding="utf-8"):
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"encoding {encoding!r} is not a text encoding Python knows") from None
    # utf-8-sig reads utf-8 and skips a byte-order mark at the start
    with open(path, newline="", encoding="utf-8-sig" if name == "utf-8" else encoding) as handle:
        try:
            return _read_fields(path, csv.reader(handle, delimiter=sep), sep, columns, header)
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}, line {_undecodable_line(path, encoding)}: not {name} text "
                             f"({error.reason}); pass the file's encoding, e.g. "
                             f"encoding='latin-1'") from None


def _undecodable_line(path, encoding):
    """The number of the first line of a file that does not decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    return number


def _read_fields(path, reader, sep, columns, header):
    names = next(reader, []) if header else None
    picks = []                 # a field position per slot (user, item, ...), or None
    for c in columns:
        if c is None or isinstance(c, int):
            picks.append(c)
        elif header and c in names:
            picks.append(names.index(c))
        else:
            raise KeyError(f"{path}: column {c!r} not in header {names}" if header else
                           f"{path}: column {c!r} is a name, but the file has no header "
                           f"(pass header=True or positions)")
    need = max(c for c in picks if c is not None) + 1
    fields = [None if c is None else [] for c in picks]
    for line_no, row in enumerate(reader, start=2 if header else 1):
        if not row:
            continue
        if len(row) < need:
            raise ValueError(f"{path}, line {line_no}: expected at least {need} fields "
                             f"separated by {sep!r}, found {len(row)}: {sep.join(row)!r}")
        for out, c in zip(fields, picks):
            if out is not None:
                out.append(row[c].strip())
    if not fields[0]:
        raise ValueError(f"{path} holds no data rows")
    return fields


def _parse_ids(values, id_dtype="auto", what="id"):
    """Text ids as int64 when every one reads as an integer (id_dtype "auto"), else as
    strings; a warning when integers merge ids written apart ("007" and "7")."""
    array = np.asarray(values)
    if id_dtype == "str":
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


def _sparse_triples(matrix, user_ids, item_ids):
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
