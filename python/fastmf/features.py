"""Item features (genres, tags, categories): which features each item has, keyed by raw item
id and feature name, for models whose item factors lean on them (``ALS(item_features=)``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import _validation as v
from .data import IdMap

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import scipy.sparse as sp
    from numpy.typing import ArrayLike, NDArray

    from ._typing import Int64Array
    from .data import ItemInfo


class ItemFeatures:
    """A sparse items × features 0/1 matrix keyed by raw item ids and feature names.

    Build one with :meth:`from_lists` (a list of feature names per item), :meth:`from_sparse`
    (a scipy.sparse matrix, nonzero = has the feature) or :meth:`from_item_info` (the
    genres that :func:`fastmf.datasets.load_movielens` reads).

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

    names: NDArray[np.str_]
    matrix: sp.csr_matrix

    def __init__(self, item_ids: ArrayLike, matrix: sp.spmatrix | sp.sparray | ArrayLike,
                 names: Iterable[object]) -> None:
        import scipy.sparse as sp

        self.item_ids = IdMap(v.as_ids("item_ids", item_ids))
        self.names = np.asarray([str(name) for name in names], dtype=str)
        matrix = sp.csr_matrix(matrix, dtype=np.float64)
        matrix.eliminate_zeros()
        if matrix.shape != (len(self.item_ids), len(self.names)):
            raise ValueError(f"the feature matrix must have shape ({len(self.item_ids)} items, "
                             f"{len(self.names)} features), got {matrix.shape}")
        if len(np.unique(self.names)) < len(self.names):
            raise ValueError("feature names must be unique")
        if len(np.unique(self.item_ids.ids)) < len(self.item_ids):
            raise ValueError("item_ids must be unique")
        matrix.data[:] = 1.0
        self.matrix = matrix

    def __repr__(self) -> str:
        return f"ItemFeatures({len(self.item_ids)} items, {len(self.names)} features)"

    @classmethod
    def from_lists(cls, item_ids: ArrayLike, feature_lists: Sequence[Sequence[str]]
                   ) -> ItemFeatures:
        """From a list of feature names per item.

        Parameters
        ----------
        item_ids : array-like of int or str
            Raw item ids, each once.
        feature_lists : sequence of sequences of str
            The feature names of each item; an empty list for an item without features.
            Names are compared as strings; a name given twice for one item counts once.

        Returns
        -------
        ItemFeatures
            The features are the distinct names, sorted.

        Raises
        ------
        ValueError
            ``item_ids`` and ``feature_lists`` differ in length, or an item id repeats.

        Examples
        --------
        >>> from fastmf import ItemFeatures
        >>> features = ItemFeatures.from_lists([10, 20, 30],
        ...                                    [["Drama"], ["Comedy", "Drama"], []])
        >>> features
        ItemFeatures(3 items, 2 features)
        >>> features.names.tolist()
        ['Comedy', 'Drama']
        >>> features.matrix.toarray().tolist()
        [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
        """
        import scipy.sparse as sp

        item_ids = v.as_ids("item_ids", item_ids)
        if len(item_ids) != len(feature_lists):
            raise ValueError(f"item_ids and feature_lists must have the same length, got "
                             f"{len(item_ids)} and {len(feature_lists)}")
        names = sorted({str(name) for names in feature_lists for name in names})
        column = {name: j for j, name in enumerate(names)}
        rows = np.repeat(np.arange(len(item_ids)), [len(names) for names in feature_lists])
        cols = [column[str(name)] for names in feature_lists for name in names]
        matrix = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(item_ids), len(names)))
        return cls(item_ids, matrix, names)

    @classmethod
    def from_sparse(cls, matrix: sp.spmatrix | sp.sparray, item_ids: ArrayLike,
                    names: Sequence[object] | None = None) -> ItemFeatures:
        """From a scipy.sparse items × features matrix; a nonzero entry means "has it".

        Parameters
        ----------
        matrix : scipy.sparse matrix or sparse array, shape (n_items, n_features)
            Any nonzero value becomes 1; stored zeros are dropped.
        item_ids : array-like of int or str
            The raw id of each row, each once.
        names : sequence, optional
            The name of each column (turned into str); by default "0", "1", ...

        Returns
        -------
        ItemFeatures

        Raises
        ------
        TypeError
            ``matrix`` is not a scipy.sparse matrix.
        ValueError
            The shape does not match ``item_ids`` and ``names``, or an id or a name repeats.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> from fastmf import ItemFeatures
        >>> matrix = sp.csr_matrix([[1, 0], [3, 1]])
        >>> features = ItemFeatures.from_sparse(matrix, ["a", "b"], names=["Drama", "Comedy"])
        >>> features.matrix.toarray().tolist()
        [[1.0, 0.0], [1.0, 1.0]]
        >>> ItemFeatures.from_sparse(matrix, ["a", "b"]).names.tolist()
        ['0', '1']
        """
        import scipy.sparse as sp

        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}")
        names = [str(j) for j in range(matrix.shape[1])] if names is None else names
        return cls(item_ids, matrix, names)

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

    def weights(self, item_ids: ArrayLike) -> sp.csr_matrix:
        r"""The weights that turn feature vectors into item priors.

        Row i holds :math:`1/\sqrt{|F_i|}` on each of the item's features :math:`F_i`, so
        that row i times the feature vectors E is the prior
        :math:`m_i = |F_i|^{-1/2} \sum_{f \in F_i} e_f` that ``ALS(item_features=...)``
        shrinks the item toward (the sum scaled by :math:`1/\sqrt{|F_i|}`, not the mean).

        Parameters
        ----------
        item_ids : array-like of int or str
            Raw item ids, in the order wanted for the rows.

        Returns
        -------
        scipy.sparse.csr_matrix, shape (len(item_ids), n_features)
            An empty row for an item without features or not listed here.

        Examples
        --------
        >>> from fastmf import ItemFeatures
        >>> features = ItemFeatures.from_lists(["a", "b"], [["Drama"], ["Comedy", "Drama"]])
        >>> features.weights(["b", "a", "new"]).toarray().round(3).tolist()
        [[0.707, 0.707], [0.0, 1.0], [0.0, 0.0]]
        """
        import scipy.sparse as sp

        index = self.item_ids.index(v.as_ids("item_ids", item_ids))
        counts = np.where(index >= 0, np.diff(self.matrix.indptr)[index], 0)
        starts = self.matrix.indptr[index]
        positions = np.repeat(starts, counts) + np.arange(counts.sum()) - np.repeat(
            np.cumsum(counts) - counts, counts)
        indptr = np.r_[0, np.cumsum(counts)]
        data = np.repeat(1.0 / np.sqrt(np.maximum(counts, 1)), counts)
        return sp.csr_matrix((data, self.matrix.indices[positions], indptr),
                             shape=(len(index), len(self.names)))

    def columns_of(self, names: Sequence[object], what: str = "feature") -> Int64Array:
        """Column indices of feature names.

        Parameters
        ----------
        names : sequence
            Feature names (compared as strings).
        what : str, default "feature"
            How the error message calls the names.

        Returns
        -------
        ndarray of int64
            The column of each name in ``names`` (and ``matrix``).

        Raises
        ------
        ValueError
            A name is not a known feature.

        Examples
        --------
        >>> from fastmf import ItemFeatures
        >>> features = ItemFeatures.from_lists(["a", "b"], [["Drama"], ["Comedy", "Drama"]])
        >>> features.columns_of(["Drama", "Comedy"]).tolist()
        [1, 0]
        >>> features.columns_of(["Horror"])
        Traceback (most recent call last):
        ...
        ValueError: feature 'Horror' is not a known feature; known: Comedy, Drama
        """
        lookup = {name: j for j, name in enumerate(self.names)}
        unknown = [str(name) for name in names if str(name) not in lookup]
        if unknown:
            raise ValueError(f"{what} {unknown[0]!r} is not a known feature; known: "
                             f"{', '.join(self.names[:20])}{' ...' if len(self.names) > 20 else ''}")
        return np.array([lookup[str(name)] for name in names], dtype=np.int64)
