"""Delimited text files: the encoding, the field separator (given or detected), the header
line (given or detected) and the chosen columns, with file line numbers for errors.

The readers of :meth:`Interactions.from_csv` and :meth:`ItemInfo.from_csv` share this
module; what a column means (an id, a number, a title) is theirs to say.
"""
from __future__ import annotations

import codecs
import csv
import numbers
import os
import re
from itertools import chain, islice
from typing import TYPE_CHECKING

from .. import _validation as v

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
    from typing import Any, Union

    from .._typing import PathLike

    #: A column as ``columns=`` gives it: a position from 0, a header name, or None.
    Column = Union[int, str, None]
    #: ``columns=``: the columns, or a function of the first line's width that gives them.
    Columns = Union[Sequence[Column], Callable[[int], Sequence[Column]]]
    #: ``detect(first_row, next_rows, columns)``: whether the first row is a header.
    Detect = Callable[[list[str], list[list[str]], Sequence[Any]], bool]

WHITESPACE = r"\s+"                      # sep meaning "runs of spaces and tabs"
# Detection tries these in order; runs of whitespace come last, when none of them fits.
CANDIDATES = ("::", "\t", ",", ";", "|")
SAMPLE_LINES = 100                       # lines the separator is detected from
HEADER_ROWS = 20                         # rows after the first that header detection reads
_BY_EXTENSION = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".data": "\t"}
_NAMES = {"\t": "tab", WHITESPACE: "whitespace"}
# Plain decimal syntax only, ASCII digits: what int() and float() read beyond it (digit
# separators "1_0", other scripts' digits "３" or "٣", "nan", "inf") would merge ids written
# apart or read a number nobody wrote.
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_INTEGERS = re.compile(r"(?:[+-]?[0-9]+\n)*\Z")
_NUMBERS = re.compile(r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\n)*\Z")


class NotText(ValueError):
    """The file does not decode in the encoding it is read with."""


def describe(sep: str) -> str:
    """A separator as messages show it: tab, whitespace or the quoted text."""
    return _NAMES.get(sep, repr(sep))


def check_sep(sep: object) -> str | None:
    if sep is not None and (not isinstance(sep, str) or sep == "" or "\n" in sep or "\r" in sep):
        raise ValueError(f"sep must be None (detect it), {WHITESPACE!r} (runs of spaces and tabs) "
                         f"or a non-empty text without line breaks, got {sep!r}")
    return sep


def check_header(header: object) -> bool | None:
    if header is not None and not isinstance(header, bool):
        raise TypeError(f"header must be True, False or None (detect it), got {header!r}")
    return header


def is_number(text: str) -> bool:
    """Whether ``text`` is a number in plain decimal syntax (digits 0-9, a point, an
    exponent): "4", "-0.5", "1e5"; not "1_0", "３", "nan" or "inf"."""
    return _NUMBER.match(text) is not None


def is_integer(text: str) -> bool:
    """Whether ``text`` is an integer in plain decimal syntax: "7", "-12", "007"."""
    return _INTEGER.match(text) is not None


def all_integers(texts: Iterable[str]) -> bool:
    """Whether every one of ``texts`` is_integer (one scan of their joined text)."""
    return _INTEGERS.match("".join(f"{t}\n" for t in texts)) is not None


def all_numbers(texts: Iterable[str]) -> bool:
    """Whether every one of ``texts`` is_number (one scan of their joined text)."""
    return _NUMBERS.match("".join(f"{t}\n" for t in texts)) is not None


class Table:
    """Chosen columns of a delimited text file.

    ``fields[j]`` lists the stripped text of the field at ``positions[j]`` in every data
    row (None for a column given as None); ``names`` are the header line's fields (None
    without one).
    """

    fields: list[Any]           # list[str] per column, None for a column given as None

    def __init__(self, path: str, sep: str, names: list[str] | None,
                 positions: list[int | None], fields: list[list[str] | None], first_line: int,
                 blanks: list[int]) -> None:
        self.path, self.sep, self.names, self.fields = path, sep, names, fields
        self.positions = positions
        self._first, self._blanks = first_line, blanks

    def line(self, row: int) -> int:
        """The file line of data row ``row`` (from 0), counting the blank lines skipped."""
        line = self._first + row
        for blank in self._blanks:            # ascending
            if blank <= self._first:
                continue
            if blank > line:
                break
            line += 1
        return line


def read_table(path: str, columns: Columns, sep: str | None = None, header: bool | None = None,
               encoding: str = "utf-8", detect: Detect | None = None) -> Table:
    """Read the chosen columns of a delimited text file.

    ``columns`` holds positions, header names or None, or is a function of the number of
    fields of the first line that gives them. ``sep=None`` detects the separator
    (:func:`sniff`); ``header=None`` reads a header line when a column is named, else asks
    ``detect(first_row, next_rows, columns)`` (rows as lists of fields; no header without
    it).
    Raises ``NotText`` when the file does not decode.
    """
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ValueError(f"encoding {encoding!r} is not a text encoding Python knows") from None
    # utf-8-sig reads utf-8 and skips a byte-order mark at the start
    with open(path, newline="", encoding="utf-8-sig" if name == "utf-8" else encoding) as handle:
        try:
            sample = list(islice(handle, SAMPLE_LINES))
            if sep is None:
                sep = sniff(path, sample, complete=len(sample) < SAMPLE_LINES)
            blanks: list[int] = []
            rows = _numbered(split_rows(chain(sample, handle), sep), blanks)
            return _collect(path, rows, sep, columns, header, detect, blanks)
        except UnicodeDecodeError as error:
            raise NotText(f"{path}, line {_undecodable_line(path, encoding)}: not {name} text "
                          f"({error.reason}); pass the file's encoding, e.g. "
                          f"encoding='latin-1'") from None


def split_rows(lines: Iterable[str], sep: str) -> Iterator[list[str]]:
    """An iterator of the fields of each line; a blank line gives []."""
    if sep == WHITESPACE:
        return (line.split() for line in lines)
    if len(sep) == 1:
        return csv.reader(lines, delimiter=sep)
    return _split_on(lines, sep)


def _split_on(lines: Iterable[str], sep: str) -> Iterator[list[str]]:
    for line in lines:
        line = line.rstrip("\r\n")
        yield line.split(sep) if line else []


def _numbered(rows: Iterable[list[str]], blanks: list[int]) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of the non-blank rows; the numbers of blank lines go to blanks."""
    for number, row in enumerate(rows, start=1):
        if row:
            yield number, row
        else:
            blanks.append(number)


def sniff(path: PathLike, lines: Sequence[str], complete: bool = True) -> str:
    """The separator of a file from its first lines (see :meth:`Interactions.from_csv`).

    The first candidate of :data:`CANDIDATES`, then runs of whitespace, that splits every
    non-blank line into the same number of fields, two or more; else the first that splits
    every line into two or more (a line may be short or long: the reader names it); else
    the separator the file's extension implies, else an error. ``complete``: ``lines`` are
    the whole file (else its last line may be cut short).
    """
    text = [line for line in lines if line.strip()]
    if not text:
        return _BY_EXTENSION.get(os.path.splitext(path)[1].lower(), ",")
    splits = []
    for sep in CANDIDATES + (WHITESPACE,):
        rows = [row for row in split_rows(text, sep) if row]
        if not complete and len(rows) > 1:
            rows = rows[:-1]          # a quoted field may run past the sample
        counts = {len(row) for row in rows}
        if len(counts) == 1 and min(counts) >= 2:
            return sep
        splits.append((sep, min(counts)))
    for sep, fewest in splits:
        if fewest >= 2:
            return sep
    by_extension = _BY_EXTENSION.get(os.path.splitext(path)[1].lower())
    if by_extension is not None:
        return by_extension
    raise ValueError(f"{path}: cannot tell the field separator: none of '::', tab, ',', ';', "
                     f"'|' and whitespace splits each of its first {len(text)} lines into 2 "
                     f"fields or more; pass it, e.g. sep='\\t' or sep=';' (--sep on the "
                     f"command line)")


def _collect(path: str, rows: Iterator[tuple[int, list[str]]], sep: str, columns: Columns,
             header: bool | None, detect: Detect | None, blanks: list[int]) -> Table:
    first_line, first = next(rows, (None, None))
    if first is None:
        raise ValueError(f"{path} holds no data rows")
    if callable(columns):
        columns = columns(len(first))
    named = any(isinstance(c, str) for c in columns)
    inferred = header is None and named
    if inferred:
        header = True
    elif header is None:
        ahead = list(islice(rows, HEADER_ROWS))
        header = bool(detect and detect(first, [row for _, row in ahead], columns))
        rows = chain(ahead, rows)
    names = [name.strip() for name in first] if header else None
    if not header:
        rows = chain([(first_line, first)], rows)
    picks = _positions(path, columns, names, inferred)
    positions = [c for c in picks if c is not None]
    need = max(positions) + 1 if positions else 0
    fields: list[list[str] | None] = [None if c is None else [] for c in picks]
    pairs = [(out, c) for out, c in zip(fields, picks) if out is not None]
    first_data = next(rows, None)
    if first_data is None:
        raise ValueError(f"{path} holds no data rows")
    for number, row in chain([first_data], rows):
        if len(row) < need:
            shown = (" " if sep == WHITESPACE else sep).join(row)
            raise ValueError(f"{path}, line {number}: expected at least {need} fields "
                             f"separated by {describe(sep)}, found {len(row)}: {shown!r}")
        for out, c in pairs:
            out.append(row[c].strip())  # type: ignore[index]  # c is None only where out is
    # first_line is a line number whenever first is a row
    return Table(path, sep, names, picks, fields, first_data[0], blanks)  # type: ignore[arg-type]


def _positions(path: str, columns: Sequence[Column], names: list[str] | None,
               inferred: bool = False) -> list[int | None]:
    hint = (" (the first line is read as a header because columns are named; give positions "
            "for a file without one)") if inferred else ""
    picks: list[int | None] = []
    for c in columns:
        if c is None or (isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 0):
            picks.append(None if c is None else int(c))
        elif isinstance(c, str) and names is not None and c in names:
            picks.append(names.index(c))
        elif isinstance(c, str):
            raise KeyError(f"{path}: column {c!r} not in header {names}{hint}" if names is not None
                           else f"{path}: column {c!r} is a name, but the file has no header "
                                f"(pass header=True or positions)")
        else:
            raise TypeError(f"columns must hold field positions (integers from 0), header "
                            f"names or None, got {c!r}")
    return picks


def looks_like_names(fields: Sequence[str], vocabulary: Collection[str]) -> bool:
    """True when every field, lower-cased without '_', '-' and spaces, is in vocabulary."""
    return bool(fields) and all(re.sub(r"[\s_-]", "", f.lower()) in vocabulary for f in fields)


def _undecodable_line(path: PathLike, encoding: str) -> int:
    """The number of the first line of a file that does not decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    number = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    return number


def checked_path(path: object) -> str:
    """A path (str or path-like) that exists, as a str."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like, got {type(path).__name__}")
    return v.check_path(path)
