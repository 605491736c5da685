"""Raw ids <-> contiguous indices: IdMap, and the factorization that builds one."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike, NDArray

    from .._typing import IdArray, Int64Array


class IdMap:
    """Raw ids <-> contiguous indices 0..n-1 (index order is the order of ``ids``).

    Parameters
    ----------
    ids : array-like of int or str
        The raw ids, each once: the id at position j gets index j.

    Attributes
    ----------
    ids : ndarray
        The raw ids in index order.

    Examples
    --------
    >>> from fastmf.data import IdMap
    >>> users = IdMap(["bob", "ann", "cid"])
    >>> users
    IdMap(3 ids)
    >>> len(users), "ann" in users, "zoe" in users
    (3, True, False)
    >>> users.index(["cid", "bob"]).tolist()
    [2, 0]
    """

    ids: IdArray

    def __init__(self, ids: ArrayLike) -> None:
        self.ids = np.asarray(ids)
        self._sorter = np.argsort(self.ids, kind="stable")
        self._sorted = self.ids[self._sorter]

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"IdMap({len(self)} ids)"

    def __contains__(self, raw_id: object) -> bool:
        return bool(self.index(np.asarray([raw_id]))[0] >= 0)

    def index(self, raw_ids: ArrayLike) -> Int64Array:
        """Indices of raw ids; an id not in the map gives -1.

        Parameters
        ----------
        raw_ids : array-like of int or str
            Raw ids, any shape. Numbers match numbers and strings match strings: a string
            looked up among integer ids (or the reverse) is never found.

        Returns
        -------
        ndarray of int64
            The index of each id, -1 where it is not in the map, shaped like ``raw_ids``.

        Examples
        --------
        >>> from fastmf.data import IdMap
        >>> items = IdMap([10, 20, 30])
        >>> items.index([30, 10, 99]).tolist()
        [2, 0, -1]
        >>> items.index(["10"]).tolist()
        [-1]
        """
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

    def to_raw(self, indices: ArrayLike) -> IdArray:
        """Raw ids of indices: the inverse of :meth:`index` for ids in the map.

        Parameters
        ----------
        indices : array-like of int
            Indices in ``0..n-1``, any shape. They are used as numpy indices: a negative
            index counts from the end (-1 is the last id, not "unknown").

        Returns
        -------
        ndarray
            The raw ids, shaped like ``indices``.

        Raises
        ------
        IndexError
            An index is ``n`` or more.

        Examples
        --------
        >>> from fastmf.data import IdMap
        >>> items = IdMap(["x", "y", "z"])
        >>> items.to_raw([2, 0]).tolist()
        ['z', 'x']
        >>> items.to_raw(items.index(["y"])).tolist()
        ['y']
        """
        return self.ids[np.asarray(indices, dtype=np.int64)]


def _comparable(a: np.dtype[Any], b: np.dtype[Any]) -> bool:
    numeric = "iuf"
    return (a.kind in numeric and b.kind in numeric) or (a.kind == b.kind == "U")




def _factorize(values: IdArray) -> tuple[IdArray, NDArray[np.integer[Any]]]:
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

