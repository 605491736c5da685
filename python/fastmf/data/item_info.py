"""ItemInfo: titles and genres (categories) of items, keyed by raw item id, from arrays or
from an items file."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .ids import IdMap
from .readers import _read_items

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Literal

    from numpy.typing import ArrayLike, NDArray

    from .._typing import BoolArray, IdArray, PathLike, RawId


class ItemInfo:
    """Titles and genres of items, keyed by raw item id (valid for any subset of the data).

    Build one from arrays, or from an items file with :meth:`from_csv`. Given to an
    :class:`Interactions` constructor as ``item_info`` (the object or the file's path), it
    comes along with the data: models keep it as ``item_info_`` and save it, ``fastmf
    recommend`` and ``fastmf similar`` print the titles, and ``ALS(item_features="genres")``
    takes the genres (any categories: tags, genres, departments) as item features.

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
    >>> info.title(2), info.genres_of(1), info.genres_of([1, 2])
    ('Up', ['Crime'], [['Crime'], ['Animation']])
    """

    titles: NDArray[np.str_] | None
    genres: BoolArray | None
    genre_names: list[str]

    def __init__(self, ids: ArrayLike, titles: ArrayLike | None = None,
                 genres: ArrayLike | None = None, genre_names: Sequence[str] | None = None
                 ) -> None:
        self.ids = IdMap(v.as_ids("ids", ids))
        self.titles = None if titles is None else np.asarray(titles, dtype=str)
        self.genres = None if genres is None else np.asarray(genres, dtype=bool)
        self.genre_names = list(genre_names) if genre_names is not None else []
        if self.titles is not None:
            v.check_same_length(ids=self.ids.ids, titles=self.titles)
        if self.genres is not None and self.genres.shape != (len(self.ids), len(self.genre_names)):
            raise ValueError(f"genres must have shape ({len(self.ids)}, {len(self.genre_names)}), "
                             f"got {self.genres.shape}")

    def __repr__(self) -> str:
        return f"ItemInfo({len(self.ids)} items, {len(self.genre_names)} genres)"

    @classmethod
    def from_csv(cls, path: PathLike, sep: str | None = None,
                 columns: Sequence[int | str | None] | None = None, header: bool | None = None,
                 *, category_sep: str | None = "|", flags: bool | Sequence[str] = False,
                 encoding: str | None = None, id_dtype: Literal["auto", "str"] = "auto"
                 ) -> ItemInfo:
        """Read an items file: an id, a title and categories (genres, tags...) per line.

        The separator and the header line are detected as :meth:`Interactions.from_csv`
        does; so MovieLens' ``movies.csv`` (``movieId,title,genres``, quoted titles with
        commas), ``movies.dat`` (``1::Toy Story (1995)::Animation|Children's|Comedy`` in
        latin-1) and a plain ``id<TAB>title`` file read without options.

        Parameters
        ----------
        path : str or path-like
        sep : str, optional
            The field separator; by default detected from the first lines (tab, ',',
            '::', '|', ';' or runs of whitespace, ``r"\\s+"``).
        columns : sequence, optional
            The id field, the title field (None: no titles) and any number of category
            fields, by position from 0 or by header name. Default: ``(0, 1, 2)`` when the
            first line has three fields or more, else ``(0, 1)``.
        header : bool, optional
            Whether the first line names the fields. None (default): yes when a column is
            given by name, or when the first line's id is not an integer while the next
            lines' are (``id_dtype="auto"``), or when its id field is a column name such as
            ``id``, ``item_id`` or ``movieId``.
        category_sep : str or None, default "|"
            What separates the categories within a category field; None: a field is one
            category. Empty fields and ``(no genres listed)`` mean none.
        flags : bool or sequence of str, default False
            True: each category field is a 0/1 flag (MovieLens 100K's ``u.item``), and the
            category is named by the header, else ``"column N"``; a sequence: the names of
            the flag columns, in order.
        encoding : str, optional
            The file's text encoding; by default UTF-8, or latin-1 when the file is not
            valid UTF-8 (as MovieLens' ``movies.dat`` and ``u.item``).
        id_dtype : {"auto", "str"}, default "auto"
            As for :meth:`Interactions.from_csv`: "auto" makes ids that all read as
            integers int64, as the ratings file's ids are.

        Returns
        -------
        ItemInfo
            The categories are the genres, named in sorted order (in column order for
            flags).

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist.
        KeyError
            A named column is not in the header.
        ValueError
            The separator cannot be detected, a line has too few fields or is not text
            in ``encoding``, an id is listed twice, a flag is not 0 or 1, or the file
            holds no data rows.
        TypeError
            ``flags`` is neither a bool nor a sequence of names, or a column is neither a
            position nor a name.

        Examples
        --------
        >>> import os, tempfile
        >>> from fastmf import ItemInfo
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "movies.csv")
        ...     with open(path, "w") as handle:
        ...         _ = handle.write('movieId,title,genres\\n1,Heat (1995),Crime|Thriller\\n'
        ...                          '2,"American President, The (1995)",Comedy|Romance\\n')
        ...     info = ItemInfo.from_csv(path)
        >>> info
        ItemInfo(2 items, 4 genres)
        >>> info.title(2), info.genres_of(1)
        ('American President, The (1995)', ['Crime', 'Thriller'])
        >>> info.ids.ids.tolist(), info.genre_names
        ([1, 2], ['Comedy', 'Crime', 'Romance', 'Thriller'])
        """
        ids, titles, genres, names = _read_items(path, sep, columns, header, category_sep,
                                                 flags, encoding, id_dtype)
        return cls(ids, titles, genres, names)

    def title(self, items: RawId | ArrayLike) -> str | NDArray[np.str_]:
        """Titles of raw item ids; an id without a title is shown as ``str(id)``.

        Parameters
        ----------
        items : int, str or array-like of int or str
            A raw item id, or raw item ids of any shape.

        Returns
        -------
        str or ndarray of str
            The title of one id, or the titles shaped like ``items``.

        Examples
        --------
        >>> import fastmf
        >>> info = fastmf.datasets.toy().item_info
        >>> info.title(["Swades", "Dune"]).tolist()
        ['Swades', 'Dune']
        >>> fastmf.ItemInfo([5, 6], ["Heat", "Up"]).title([[6, 5]]).tolist()
        [['Up', 'Heat']]
        >>> fastmf.ItemInfo([5, 6], ["Heat", "Up"]).title(6)
        'Up'
        """
        raw = np.asarray(items)
        flat = raw.reshape(-1)
        idx = self.ids.index(flat)
        out = np.array([str(i) for i in flat], dtype=object)
        if self.titles is not None:
            known = idx >= 0
            out[known] = self.titles[idx[known]]
        out = out.astype(str).reshape(raw.shape)
        return str(out[()]) if raw.ndim == 0 else out

    def genres_of(self, items: RawId | ArrayLike) -> list[str] | list[Any]:
        """The genres of a raw item id, or of each of several.

        Parameters
        ----------
        items : int, str or array-like of int or str
            A raw item id, or raw item ids of any shape.

        Returns
        -------
        list of str, or list of lists of str
            For one id, its genre names in ``genre_names`` order (empty for an unknown item
            or when there are no genres); for several, such a list per id, nested like
            ``items``.

        Examples
        --------
        >>> from fastmf import ItemInfo
        >>> info = ItemInfo(["a", "b"], genres=[[True, True], [False, True]],
        ...                 genre_names=["Crime", "Drama"])
        >>> info.genres_of("a"), info.genres_of("b"), info.genres_of("zzz")
        (['Crime', 'Drama'], ['Drama'], [])
        >>> info.genres_of(["b", "zzz", "a"])
        [['Drama'], [], ['Crime', 'Drama']]
        """
        raw = np.asarray(items)
        lists = [self._genres_at(i) for i in self.ids.index(raw.reshape(-1))]
        if raw.ndim == 0:
            return lists[0]
        out = np.empty(len(lists), dtype=object)
        for k, names in enumerate(lists):
            out[k] = names
        return out.reshape(raw.shape).tolist()

    def _genres_at(self, index: int | np.integer[Any]) -> list[str]:
        if index < 0 or self.genres is None:
            return []
        return [g for g, on in zip(self.genre_names, self.genres[index]) if on]


def _attached(info: ItemInfo | PathLike | None, item_ids: IdMap) -> ItemInfo | None:
    """The ItemInfo that data with these item ids (an IdMap) carries: ``info`` itself, or
    the items file at the path ``info`` (ids typed as the data's), with ids retyped to the
    data's kind (integers or text) where they can be."""
    if info is None:
        return None
    source = None
    if isinstance(info, (str, os.PathLike)):
        source = os.fspath(info)
        info = ItemInfo.from_csv(info, id_dtype="str" if item_ids.ids.dtype.kind == "U"
                                 else "auto")
    info = _same_kind(info, item_ids.ids)
    if len(info.ids) and len(item_ids) and not (info.ids.index(item_ids.ids) >= 0).any():
        where = f" ({source})" if source else ""
        raise ValueError(f"none of the {len(item_ids)} items of the data is in item_info{where}: "
                         f"the data's item ids are like {_examples(item_ids.ids)}, the items "
                         f"file's like {_examples(info.ids.ids)}; check its id column "
                         f"(columns=) and id_dtype")
    return info


def _same_kind(info: ItemInfo, ids: IdArray) -> ItemInfo:
    known = info.ids.ids
    if ids.dtype.kind == "U" and known.dtype.kind in "iu":
        known = known.astype(str)
    elif ids.dtype.kind in "iu" and known.dtype.kind == "U":
        try:
            numbers = known.astype(np.int64)
        except (ValueError, OverflowError):
            return info
        if len(np.unique(numbers)) < len(numbers):     # "007" and "7": keep them apart
            return info
        known = numbers
    else:
        return info
    return ItemInfo(known, info.titles, info.genres, info.genre_names)


def _examples(ids: IdArray) -> str:
    return ", ".join(repr(x) for x in ids[:3].tolist())
