"""Side features of users and items (age buckets, gender, occupation, genres, tags, scaled
numbers): sparse rows of nonnegative weights keyed by raw id and feature name, for models
whose factors lean on them (``ALS(user_features=, item_features=)``, the same in
``ImplicitALS``). ``UserFeatures`` and ``ItemFeatures`` share one base and differ only in
which side they describe.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..data import IdMap
from ._rows import normalized, rows_to_weights, table_to_weights
from ._table import _Features

if TYPE_CHECKING:
    from ..data import ItemInfo
    from ._rows import FeatureRow

__all__ = ["ItemFeatures", "UserFeatures"]


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
