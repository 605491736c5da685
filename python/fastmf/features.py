"""Item features (genres, tags, categories): which features each item has, keyed by raw item
id and feature name, for models whose item factors lean on them (``ALS(item_features=)``).
"""
import numpy as np

from . import _validation as v
from .data import IdMap


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

    def __init__(self, item_ids, matrix, names):
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

    def __repr__(self):
        return f"ItemFeatures({len(self.item_ids)} items, {len(self.names)} features)"

    @classmethod
    def from_lists(cls, item_ids, feature_lists):
        """From a list of feature names per item (an empty list: no features)."""
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
    def from_sparse(cls, matrix, item_ids, names=None):
        """From a scipy.sparse items × features matrix; a nonzero entry means "has it"."""
        import scipy.sparse as sp

        if not sp.issparse(matrix):
            raise TypeError(f"matrix must be a scipy.sparse matrix, got {type(matrix).__name__}")
        names = [str(j) for j in range(matrix.shape[1])] if names is None else names
        return cls(item_ids, matrix, names)

    @classmethod
    def from_item_info(cls, info):
        """The genres of an :class:`fastmf.ItemInfo` (MovieLens) as features."""
        if info is None or info.genres is None:
            raise ValueError("this data has no genres (item_info with genres, as load_movielens "
                             "gives) to use as item features")
        return cls(info.ids.ids, info.genres, info.genre_names)

    def weights(self, item_ids):
        """A scipy CSR matrix, a row per given raw item id: 1/√|F_i| on the item's features
        (so that m_i = row · E averages its feature vectors), an empty row for an item
        without features or not listed here."""
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

    def columns_of(self, names, what="features"):
        """Column indices of feature names; an unknown name raises ``ValueError``."""
        lookup = {name: j for j, name in enumerate(self.names)}
        unknown = [str(name) for name in names if str(name) not in lookup]
        if unknown:
            raise ValueError(f"{what} {unknown[0]!r} is not a known feature; known: "
                             f"{', '.join(self.names[:20])}{' ...' if len(self.names) > 20 else ''}")
        return np.array([lookup[str(name)] for name in names], dtype=np.int64)
