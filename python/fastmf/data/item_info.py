"""ItemInfo: titles and genres of items, keyed by raw item id."""
import numpy as np

from .. import _validation as v
from .ids import IdMap


class ItemInfo:
    """Titles and genres of items, keyed by raw item id (valid for any subset of the data).

    Parameters
    ----------
    ids : array-like of int or str
        Raw item ids.
    titles : array-like of str, optional
        A title per id.
    genres : array-like of bool, shape (len(ids), len(genre_names)), optional
        ``genres[j, g]`` is true when item ``ids[j]`` has the genre ``genre_names[g]``.
    genre_names : sequence of str, optional

    Raises
    ------
    ValueError
        ``titles`` is not as long as ``ids``, or ``genres`` has another shape.

    Examples
    --------
    >>> from fastmf import ItemInfo
    >>> info = ItemInfo([1, 2], ["Heat", "Up"], [[True, False], [False, True]],
    ...                 ["Crime", "Animation"])
    >>> info
    ItemInfo(2 items, 2 genres)
    >>> info.title([2, 7]).tolist()
    ['Up', '7']
    >>> info.genres_of(1)
    ['Crime']
    """

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
        """Titles of raw item ids; an id without a title is shown as ``str(id)``.

        Parameters
        ----------
        items : array-like of int or str
            Raw item ids, any shape.

        Returns
        -------
        ndarray of str
            The titles, shaped like ``items``.

        Examples
        --------
        >>> import fastmf
        >>> info = fastmf.datasets.toy().item_info
        >>> info.title(["Swades", "Dune"]).tolist()
        ['Swades', 'Dune']
        >>> fastmf.ItemInfo([5, 6], ["Heat", "Up"]).title([[6, 5]]).tolist()
        [['Up', 'Heat']]
        """
        items = np.asarray(items)
        idx = self.ids.index(items)
        out = np.array([str(i) for i in items.ravel()], dtype=object).reshape(items.shape)
        if self.titles is not None:
            known = idx >= 0
            out[known] = self.titles[idx[known]]
        return out.astype(str)

    def genres_of(self, item):
        """The genres of one raw item id.

        Parameters
        ----------
        item : int or str
            A raw item id.

        Returns
        -------
        list of str
            Its genre names, in ``genre_names`` order; empty for an unknown item or when
            there are no genres.

        Examples
        --------
        >>> from fastmf import ItemInfo
        >>> info = ItemInfo(["a", "b"], genres=[[True, True], [False, True]],
        ...                 genre_names=["Crime", "Drama"])
        >>> info.genres_of("a"), info.genres_of("b"), info.genres_of("zzz")
        (['Crime', 'Drama'], ['Drama'], [])
        """
        idx = self.ids.index(np.asarray([item]))[0]
        if idx < 0 or self.genres is None:
            return []
        return [g for g, on in zip(self.genre_names, self.genres[idx]) if on]
