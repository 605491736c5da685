"""What every serving call shares around the top-n: filters from raw ids, the cached unit rows
and item counts they use, and the ``Recommendations`` a batch returns. The exact top-n is the
C++ kernel's (``fastmf._kernels.topk.topk_filtered``), the approximate one ``_ann``'s.

Filters are resolved once per call into the kernel's terms: ``candidates`` (the allow list
less the exclude list, sorted indices; None for every item), ``shared`` (the exclude list
when there is no allow list) and a CSR of per-row exclusions (the seen items, the query
item itself). The kernel applies them while it ranks, so each row holds exactly
``min(n, candidates left)`` items.
"""
from __future__ import annotations

import weakref
from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..exceptions import UnknownIdError

if TYPE_CHECKING:
    from collections.abc import Hashable
    from typing import Any, NamedTuple

    from numpy.typing import ArrayLike, NDArray

    from .._typing import CsrArrays, FloatArray, IdArray, Int32Array, Int64Array, Unknown
    from ..data import IdMap

    #: A masked 2-D array: raw item ids or scores, a row per user.
    MaskedRows = np.ma.MaskedArray[tuple[int, int], np.dtype[Any]]

    class _RecommendationsFields(NamedTuple):
        items: MaskedRows
        scores: MaskedRows
        counts: Int64Array

    class _FilterFields(NamedTuple):
        candidates: Int32Array | None
        shared: Int32Array
else:
    _RecommendationsFields = namedtuple("Recommendations", ["items", "scores", "counts"])
    _FilterFields = namedtuple("Filter", ["candidates", "shared"])

UNKNOWN = ("raise", "ignore")
_NO_IDS = np.zeros(0, np.int32)
# key -> (a weak reference to the array it was computed from, the result)
_units: dict[Hashable, tuple[weakref.ref[NDArray[Any]], NDArray[Any]]] = {}


class Recommendations(_RecommendationsFields):
    """What ``recommend_batch`` and ``recommend_all`` return: a row per user, best first.

    Attributes
    ----------
    items : numpy.ma.MaskedArray, shape (n_users, n)
        Raw item ids. Row ``r`` holds ``counts[r]`` items; the places after them (a user
        with fewer than ``n`` candidates left) are masked, never an id.
    scores : numpy.ma.MaskedArray, shape (n_users, n)
        Their scores, masked where ``items`` is.
    counts : ndarray of int64, shape (n_users,)
        How many items each row holds.

    Notes
    -----
    ``recommend_batch`` returned ``(items, scores)`` with short rows padded by id -1 (or
    "") before; unpack three names now (``items, scores, counts = ...``) or use
    :meth:`row`. The masked places still hold -1 (or "") underneath, so code that drops
    the mask (``np.asarray(items)``) sees what it saw before.
    """

    __slots__ = ()

    def row(self, r: int) -> tuple[IdArray, FloatArray]:
        """(items, scores) of row ``r``: plain 1-D arrays of ``counts[r]`` entries."""
        count = int(self.counts[r])
        return np.ma.getdata(self.items)[r, :count], np.ma.getdata(self.scores)[r, :count]


def check_unknown(unknown: object) -> Unknown:
    return v.check_choice("unknown", unknown, UNKNOWN)


def indices_of(id_map: IdMap, ids: ArrayLike, name: str, side: str, unknown: Unknown
               ) -> Int32Array:
    """Sorted unique indices of the raw ids ``ids`` (a filter argument called ``name``):
    UnknownIdError for an id the model does not know, unless ``unknown="ignore"``."""
    ids = v.as_ids(name, ids)
    index = id_map.index(ids) if len(ids) else np.zeros(0, np.int64)
    if unknown == "raise" and (index < 0).any():
        bad = ids[np.flatnonzero(index < 0)[0]]
        raise UnknownIdError(f"{side} {bad.item()!r} in {name} is not known to the model; pass "
                             f"unknown=\"ignore\" to drop unknown ids from filters")
    return np.unique(index[index >= 0]).astype(np.int32)


class Filter(_FilterFields):
    """Shared filters in index terms: ``candidates`` (sorted, None: every item) and
    ``shared`` (sorted indices excluded for every row)."""

    __slots__ = ()

    @classmethod
    def of(cls, id_map: IdMap, exclude: ArrayLike | None, allow: ArrayLike | None,
           names: tuple[str, str], side: str, unknown: Unknown) -> Filter:
        """The filter of an exclude list and an allow list (raw ids; None: none)."""
        check_unknown(unknown)
        excluded = (_NO_IDS if exclude is None
                    else indices_of(id_map, exclude, names[0], side, unknown))
        if allow is None:
            return cls(None, excluded)
        allowed = indices_of(id_map, allow, names[1], side, unknown)
        return cls(allowed[~np.isin(allowed, excluded)], _NO_IDS)

    def size(self, n_items: int) -> int:
        return n_items - len(self.shared) if self.candidates is None else len(self.candidates)

    def at_least(self, counts: Int64Array, minimum: int) -> Filter:
        """This filter less the items whose ``counts`` (a count per item index) are below
        ``minimum``: they join the shared exclusions, or leave the candidates."""
        if self.candidates is not None:
            return Filter(self.candidates[counts[self.candidates] >= minimum], _NO_IDS)
        rare = np.flatnonzero(counts < minimum).astype(np.int32)
        return Filter(None, np.union1d(self.shared, rare).astype(np.int32))


NO_FILTER = Filter(None, _NO_IDS)


def no_rows(n_rows: int) -> CsrArrays:
    """A CSR of ``n_rows`` rows excluding nothing."""
    return np.zeros(n_rows + 1, np.int64), _NO_IDS


def item_counts(seen: CsrArrays, n_items: int) -> Int64Array:
    """The training interactions of each of ``n_items`` items, from the model's CSR of seen
    items ``(indptr, indices)`` (int64), cached for as long as that indices array lives: the
    partial fits replace it, never change it."""
    indices = seen[1]
    key = ("counts", id(indices), n_items)
    entry = _units.get(key)
    if entry is not None and entry[0]() is indices:
        return entry[1]
    counts = np.bincount(indices, minlength=n_items).astype(np.int64)
    _units[key] = (weakref.ref(indices, lambda _: _units.pop(key, None)), counts)
    return counts


def unit_rows(factors: FloatArray) -> FloatArray:
    """``factors`` with each row scaled to length 1 (zero rows stay zero), cached for as
    long as that array lives: a model's arrays are replaced, never changed, when it learns."""
    key = id(factors)
    entry = _units.get(key)
    if entry is not None and entry[0]() is factors:
        return entry[1]
    norms = np.linalg.norm(factors, axis=1)
    unit = (factors / np.where(norms > 0, norms, 1)[:, None]).astype(factors.dtype)
    _units[key] = (weakref.ref(factors, lambda _: _units.pop(key, None)), unit)
    return unit


def to_raw(id_map: IdMap, indices: Int32Array) -> MaskedRows:
    """A masked array of the raw ids of a 2-D array of indices, -1 masked (the data there
    is -1 or "")."""
    raw = id_map.ids[np.maximum(indices, 0)]
    pad = indices < 0
    if pad.any():
        raw[pad] = -1 if raw.dtype.kind in "iu" else ""
    return np.ma.MaskedArray(raw, mask=pad)


def recommendations(id_map: IdMap, indices: Int32Array, scores: FloatArray
                    ) -> Recommendations:
    counts = (indices >= 0).sum(axis=1).astype(np.int64)
    return Recommendations(to_raw(id_map, indices), np.ma.MaskedArray(scores, mask=indices < 0),
                           counts)


def rows_of(csr_arrays: CsrArrays, rows: NDArray[np.integer[Any]]) -> CsrArrays:
    """(indptr, indices) of the given rows of a CSR given as (indptr, indices)."""
    indptr, indices = csr_arrays
    starts, counts = indptr[rows], indptr[rows + 1] - indptr[rows]
    sub_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=sub_indptr[1:])
    positions = np.repeat(starts - sub_indptr[:-1], counts) + np.arange(sub_indptr[-1])
    return sub_indptr, indices[positions]
