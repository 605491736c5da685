"""Interactions: validated (user, item, rating) data with id maps and CSR both ways.

Raw ids (ints or strings, whatever the caller has) are mapped once to contiguous indices;
models and kernels see indices only, public methods speak raw ids.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._optional import require
from .constructors import _Constructors
from .csr import Csr, transpose
from .ids import IdMap

if TYPE_CHECKING:
    from typing import Any

    import pandas as pd
    from numpy.typing import ArrayLike, NDArray

    from .._typing import FloatArray, IdArray, Int32Array, InteractionsLike
    from .item_info import ItemInfo


class Interactions(_Constructors):
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

    _by_item: Csr | None
    n_unseen: int       # the test part of a split: its ratings of users or items not in train

    def __init__(self, user_ids: IdMap, item_ids: IdMap, by_user: Csr,
                 timestamps: NDArray[Any] | None = None, item_info: ItemInfo | None = None
                 ) -> None:
        # Trusted: a valid CSR by user, column indices ascending within each row, and
        # timestamps (if any) in the same order. Use the from_* constructors.
        self.user_ids, self.item_ids = user_ids, item_ids
        self._by_user, self._by_item = by_user, None
        self.timestamps, self.item_info = timestamps, item_info

    # -- views ----------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        """The number of users (rows)."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """The number of items (columns)."""
        return len(self.item_ids)

    @property
    def nnz(self) -> int:
        """The number of stored ratings (also ``len(data)``)."""
        return len(self._by_user.data)

    @property
    def ratings(self) -> FloatArray:
        """Every rating, in (user, item) order (the CSR's data: no copy)."""
        return self._by_user.data

    @property
    def iidx(self) -> Int32Array:
        """The item index of every rating (the CSR's column indices: no copy)."""
        return self._by_user.indices

    @property
    def uidx(self) -> Int32Array:
        """The user index of every rating (computed from the CSR on each call)."""
        return np.repeat(np.arange(self.n_users, dtype=np.int32), self._by_user.counts())

    def __len__(self) -> int:
        return self.nnz

    @property
    def shape(self) -> tuple[int, int]:
        """(n_users, n_items)."""
        return (self.n_users, self.n_items)

    @property
    def ratings_dtype(self) -> np.dtype[np.float32 | np.float64]:
        """The numpy dtype of the ratings (float32 or float64)."""
        return self.ratings.dtype

    @property
    def rating_range(self) -> tuple[float, float]:
        """(lowest, highest) stored rating, as floats."""
        return float(self.ratings.min()), float(self.ratings.max())

    def __repr__(self) -> str:
        return (f"Interactions({self.n_users} users, {self.n_items} items, {self.nnz} ratings, "
                f"{self.ratings.dtype})")

    @property
    def by_user(self) -> Csr:
        """CSR with a row per user (item indices ascending within a row)."""
        return self._by_user

    @property
    def by_item(self) -> Csr:
        """CSR with a row per item: the transpose of ``by_user``."""
        if self._by_item is None:
            self._by_item = transpose(self.by_user)
        return self._by_item

    @property
    def users(self) -> IdArray:
        """The raw user id of every rating."""
        return self.user_ids.ids[self.uidx]

    @property
    def items(self) -> IdArray:
        """The raw item id of every rating."""
        return self.item_ids.ids[self.iidx]

    def to_arrays(self) -> tuple[IdArray, IdArray, FloatArray]:
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

    def to_dataframe(self) -> pd.DataFrame:
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

    def take(self, positions: ArrayLike) -> Interactions:
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


def as_interactions(data: InteractionsLike, name: str = "data") -> Interactions:
    """Accept an Interactions, or (users, items, ratings) arrays, and return Interactions."""
    if isinstance(data, Interactions):
        return data
    if isinstance(data, tuple) and len(data) in (2, 3):
        return Interactions.from_arrays(*data)
    raise TypeError(f"{name} must be a fastmf.Interactions or a (users, items, ratings) tuple, "
                    f"got {type(data).__name__}")
