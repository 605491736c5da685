"""Approximate top-n through an HNSW graph (faiss, the optional extra ``fastmf-recsys[ann]``).

Recommendation ranks by ``p_u·q_i + b_i`` (plus a per-user constant that does not change
the order), a maximum inner product search: the index holds the augmented item vectors
``[q_i, b_i]`` and is queried with ``[p_u, 1]`` under faiss's inner-product metric (HNSW
searches the inner product directly; on factors like a model's this recalls far more
than the usual reduction of MIPS to L2 at the same speed). Similar items rank by cosine:
a second graph holds the unit item vectors. The graph only proposes candidates: their
scores are computed exactly, so a returned score always equals the exact one.

Filters: the exclude and allow lists go into the search as a faiss ID selector (applied
while the graph is walked); a row's own exclusions (its seen items, the query item) are
fetched past (``n`` plus their number) and dropped, the search growing for a row that
still falls short; a small allow list is ranked exactly instead. faiss searches are safe
from several threads at once (each call passes its own search parameters, never changing
the index), and the GIL is released while they run.
"""
from __future__ import annotations

import hashlib
import warnings
import weakref
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._locking import writes
from .._optional import require
from ..exceptions import FastMFWarning

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import ModuleType
    from typing import Any, Literal, TypeVar

    from numpy.typing import ArrayLike, NDArray

    from .._typing import CsrArrays, FloatArray, Int32Array, Int64Array
    from ._base import MatrixFactorizationBase as _Model
    from ._topn import Filter

    _Self = TypeVar("_Self", bound="IndexMixin")
else:
    _Model = object

_EXACT_BELOW = 50_000     # an allow list this short is ranked exactly: cheaper than a graph


def _faiss() -> ModuleType:
    return require("faiss", "approximate serving")


class ANNIndex:
    """HNSW graphs over a model's items: ``recommend`` (inner product of [q_i, b_i]) and,
    optionally, ``similar`` (cosine). Built by ``model.build_index``; saved with the model.

    Attributes
    ----------
    kind : str
        "hnsw".
    params : dict
        ``M``, ``ef_construction``, ``ef_search``: the graph's degree, the candidate list
        size while building, and while searching (raise it for recall, lower for speed).
    n_items : int
        The items indexed.
    """

    kind = "hnsw"

    _factors: weakref.ref[NDArray[Any]] | None
    _differs: weakref.ref[NDArray[Any]] | None

    def __init__(self, graphs: dict[str, Any], n_items: int, params: Mapping[str, int],
                 digest: str | None = None) -> None:
        self._graphs = graphs          # {"recommend": faiss index, "similar": ... or absent}
        self.n_items = n_items
        self.params = dict(params)
        # What it indexes: the fingerprint of the item factors and biases it was built from
        # (None: an index saved before fingerprints, which adopts arrays of its size), and
        # weak references to the last array found to match and to differ.
        self.digest = digest
        self._factors = self._differs = None
        self.warned = False            # that it no longer applies

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"ANNIndex(kind='hnsw', n_items={self.n_items}, {parts}, graphs={sorted(self._graphs)})"

    @classmethod
    def build(cls, Y: FloatArray, bias: FloatArray, similar: bool, M: int, ef_construction: int,
              ef_search: int) -> ANNIndex:
        faiss = _faiss()
        params = {"M": M, "ef_construction": ef_construction, "ef_search": ef_search}
        graphs = {}
        for name, X in _vectors(Y, bias, ("recommend", "similar") if similar
                                else ("recommend",)).items():
            graph = faiss.IndexHNSWFlat(X.shape[1], M, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = ef_construction
            graph.add(np.ascontiguousarray(X, dtype=np.float32))
            graphs[name] = graph
        index = cls(graphs, len(Y), params, fingerprint(Y, bias))
        index._factors = weakref.ref(Y)
        return index

    def has(self, name: str) -> bool:
        return name in self._graphs

    # -- state: arrays for the model file, bytes for pickle --------------------------
    def to_arrays(self) -> dict[str, NDArray[np.uint8]]:
        faiss = _faiss()
        return {name: faiss.serialize_index(graph) for name, graph in self._graphs.items()}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, ArrayLike], n_items: int, params: Mapping[str, int],
                    digest: str | None = None) -> ANNIndex:
        faiss = _faiss()
        graphs = {name: faiss.deserialize_index(np.ascontiguousarray(a, dtype=np.uint8))
                  for name, a in arrays.items()}
        for name, graph in graphs.items():
            if graph.ntotal != n_items:
                raise ValueError(f"its {name} graph holds {graph.ntotal} items, not {n_items}")
        return cls(graphs, n_items, params, digest)

    def __reduce__(self) -> tuple[Callable[..., ANNIndex], tuple[Any, ...]]:
        return (_from_state, (self.to_arrays(), self.n_items, self.params, self.digest))

    # -- which item factors it indexes -------------------------------------------------
    def matches(self, item_factors: FloatArray, item_bias: FloatArray) -> bool:
        """Whether it indexes these item factors and biases: the array it last matched,
        or arrays of the same content (the fingerprint it was built with; a copy, a pickle
        or a loaded file adopts the model's arrays on first use only when they hold what
        was indexed). An array found to differ is remembered, so each new array is
        fingerprinted once."""
        for ref, result in ((self._factors, True), (self._differs, False)):
            if ref is not None and ref() is item_factors:
                return result
        same = len(item_factors) == self.n_items and (
            self.digest is None or self.digest == fingerprint(item_factors, item_bias))
        if same:
            self._factors = weakref.ref(item_factors)
        else:
            self._differs = weakref.ref(item_factors)
        return same

    def check_vectors(self, item_factors: FloatArray, item_bias: FloatArray, sample: int = 64
                      ) -> None:
        """Raise ValueError unless each graph's dimension is the model's and a sample of its
        stored vectors (evenly spaced rows, the last included) equals the model's own."""
        rows = np.unique(np.linspace(0, self.n_items - 1, min(sample, self.n_items)).astype(int))
        unknown = set(self._graphs) - {"recommend", "similar"}
        if unknown:
            raise ValueError(f"it holds a graph fastmf does not build: {sorted(unknown)[0]!r}")
        expected = _vectors(item_factors[rows], item_bias[rows], tuple(self._graphs))
        for name, graph in self._graphs.items():
            want = expected[name]
            if graph.d != want.shape[1]:
                raise ValueError(f"its {name} graph has {graph.d} dimensions, the model's "
                                 f"vectors {want.shape[1]}")
            stored = np.stack([graph.reconstruct(int(r)) for r in rows])
            if not np.array_equal(stored, want):
                raise ValueError(f"its {name} graph holds other vectors than the model's "
                                 f"item factors")

    # -- search --------------------------------------------------------------------------
    def search(self, name: str, queries: FloatArray, k: int,
               excluded_shared: Int32Array | None = None, allowed: Int32Array | None = None
               ) -> Int64Array:
        """Labels (int64, -1 where nothing was found) of the ``k`` best items per query,
        items in ``excluded_shared`` skipped and, when given, only ``allowed`` considered."""
        faiss = _faiss()
        graph = self._graphs[name]
        k = min(k, self.n_items)
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(self.params["ef_search"], k)
        keep = None
        if allowed is not None or (excluded_shared is not None and len(excluded_shared)):
            mask = np.zeros(self.n_items, bool) if allowed is not None else np.ones(self.n_items, bool)
            if allowed is not None:
                mask[allowed] = True
            if excluded_shared is not None:
                mask[excluded_shared] = False
            keep = np.packbits(mask, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(self.n_items, faiss.swig_ptr(keep))
        _, labels = graph.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
        del keep                       # the selector reads it until the search returns
        return labels


def _from_state(arrays: Mapping[str, ArrayLike], n_items: int, params: Mapping[str, int],
                digest: str | None = None) -> ANNIndex:
    return ANNIndex.from_arrays(arrays, n_items, params, digest)


def _vectors(Y: FloatArray, bias: FloatArray, names: tuple[str, ...]
             ) -> dict[str, NDArray[np.float32]]:
    """{name: float32 vectors} of the graphs ``names``: ``recommend`` [y_i, b_i] (inner
    product), ``similar`` y_i / |y_i| (cosine)."""
    vectors = {"recommend": np.hstack([Y, bias[:, None]])}
    if "similar" in names:
        norms = np.linalg.norm(Y, axis=1)
        vectors["similar"] = Y / np.where(norms > 0, norms, 1)[:, None]
    return {name: np.ascontiguousarray(vectors[name], dtype=np.float32) for name in names}


def fingerprint(item_factors: FloatArray, item_bias: FloatArray) -> str:
    """A digest of the content of the item factors and biases (shape, dtype and bytes)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (item_factors, item_bias):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        # an ndarray is a buffer (numpy's stubs say so from Python 3.12)
        digest.update(memoryview(array).cast("B"))  # type: ignore[arg-type]
    return digest.hexdigest()


def approximate_topn(index: ANNIndex, name: str, Q: FloatArray,
                     score: Callable[[Int64Array, NDArray[np.integer[Any]]], FloatArray],
                     exclude: CsrArrays, n: int, filt: Filter, dtype: np.dtype[Any],
                     rounds: int = 3) -> tuple[Int32Array, FloatArray, Int64Array]:
    """(indices int32 -1 padded, scores, rows left) of the ``n`` best items per query row
    through the graph ``name``. ``score(rows, items)`` gives the exact scores of items
    (an (m, c) array) for those query rows; ``exclude`` is the per-row CSR. A row that
    still has fewer than ``n`` items after ``rounds`` searches, each fetching twice as
    many, is among the rows left, for the caller to rank exactly."""
    indptr, excluded = exclude
    n_items = index.n_items
    out_items = np.full((len(Q), n), -1, np.int32)
    out_scores = np.full((len(Q), n), -np.inf, dtype)
    todo = np.arange(len(Q))
    per_row = np.diff(indptr)
    k = min(n + (int(per_row.max()) if len(per_row) else 0), n_items)
    for _ in range(rounds):
        labels = index.search(name, Q[todo], k, filt.shared, filt.candidates)
        valid = labels >= 0
        counts = indptr[todo + 1] - indptr[todo]
        if counts.sum():               # drop each row's own exclusions
            own = np.concatenate([excluded[indptr[r]:indptr[r + 1]] for r in todo])
            own_keys = np.repeat(np.arange(len(todo), dtype=np.int64), counts) * n_items + own
            keys = np.arange(len(todo), dtype=np.int64)[:, None] * n_items + labels
            valid &= ~np.isin(keys, own_keys)
        done = valid.sum(axis=1) >= n
        _keep_best(out_items, out_scores, todo[done], labels[done], valid[done], score, n)
        todo = todo[~done]
        if not len(todo) or k >= n_items:
            break
        k = min(2 * k, n_items)
    return out_items, out_scores, todo


def _keep_best(out_items: Int32Array, out_scores: FloatArray, rows: Int64Array,
               labels: Int64Array, valid: NDArray[np.bool_],
               score: Callable[[Int64Array, NDArray[np.integer[Any]]], FloatArray], n: int
               ) -> None:
    """Rank each row's valid labels by their exact scores (ties: lower index first)."""
    if not len(rows):
        return
    items = np.where(valid, labels, 0)
    exact = score(rows, items)
    exact = np.where(valid, exact, -np.inf)
    order = np.lexsort((np.where(valid, labels, np.iinfo(np.int64).max), -exact), axis=-1)[:, :n]
    best = np.take_along_axis(items, order, axis=1)
    best_scores = np.take_along_axis(exact, order, axis=1)
    best_valid = np.take_along_axis(valid, order, axis=1)
    width = best.shape[1]
    out_items[rows, :width] = np.where(best_valid, best, -1)
    out_scores[rows, :width] = np.where(best_valid, best_scores, -np.inf)


def small_allow_list(filt: Filter) -> bool:
    return filt.candidates is not None and len(filt.candidates) <= _EXACT_BELOW


class IndexMixin(_Model):
    """``build_index`` and ``drop_index``: the approximate index that ``recommend``,
    ``recommend_batch``, ``recommend_all``, ``recommend_new_user`` and ``similar_items``
    use once it is built (``ann_index_``, saved with the model)."""

    ann_index_: ANNIndex

    @writes
    def build_index(self: _Self, kind: Literal["hnsw"] = "hnsw", *, M: int = 16,
                    ef_construction: int = 100, ef_search: int = 64, similar_items: bool = True
                    ) -> _Self:
        """Build an approximate index of the items, which serving then uses.

        Ranks by the model's own scores (inner products with the item bias folded in;
        cosine for :meth:`similar_items`) through HNSW graphs (faiss, the extra
        ``fastmf-recsys[ann]``); the scores returned are always the exact ones of the items
        found, and every filter still holds. Pass ``exact=True`` to a serving call, or
        call :meth:`drop_index`, to rank exactly. ``save`` stores the index in the model
        file and ``fastmf.load`` restores it. When the item factors change (``fit``,
        ``partial_fit_items``) the index no longer applies: serving warns once and ranks
        exactly until it is built again.

        Parameters
        ----------
        kind : {"hnsw"}, default "hnsw"
            The index.
        M : int, default 16
            Links per node of the graph: more recall and memory, slower building.
        ef_construction : int, default 100
            The candidate list while building: more recall, slower building.
        ef_search : int, default 64
            The candidate list while searching (at least the items asked for): more
            recall, fewer queries per second.
        similar_items : bool, default True
            Also build the cosine graph for :meth:`similar_items` (twice the build time).

        Returns
        -------
        self

        Raises
        ------
        ImportError
            faiss is not installed.
        NotFittedError
            The model is not fitted.
        TypeError, ValueError
            A parameter is out of range.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
        >>> model = fastmf.ALS(factors=8, iterations=3, seed=0, verbose=False).fit(data)
        >>> model.build_index(M=8).ann_index_
        ANNIndex(kind='hnsw', n_items=200, M=8, ef_construction=100, ef_search=64, graphs=['recommend', 'similar'])
        >>> len(model.recommend(0, n=5)[0])
        5
        """
        self._check_is_fitted()
        v.check_choice("kind", kind, ("hnsw",))
        M = v.check_int("M", M, minimum=2, maximum=1024)
        ef_construction = v.check_int("ef_construction", ef_construction, minimum=1)
        ef_search = v.check_int("ef_search", ef_search, minimum=1)
        self.ann_index_ = ANNIndex.build(self.item_factors_, self._item_bias(),
                                         bool(similar_items), M, ef_construction, ef_search)
        return self

    @writes
    def drop_index(self: _Self) -> _Self:
        """Drop the approximate index: serving ranks exactly again.

        Returns
        -------
        self

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
        >>> model = fastmf.ALS(factors=8, iterations=3, seed=0, verbose=False).fit(data)
        >>> hasattr(model.build_index(M=8).drop_index(), "ann_index_")
        False
        """
        vars(self).pop("ann_index_", None)
        return self

    def _ann_index(self, graph: str) -> ANNIndex | None:
        """The built index when it has ``graph`` and still indexes the item factors."""
        index = vars(self).get("ann_index_")
        if index is None or not index.has(graph):
            return None
        if not index.matches(self.item_factors_, self._item_bias()):
            if not index.warned:
                index.warned = True
                warnings.warn("the approximate index was built for earlier item factors (the "
                              "model changed since build_index()); ranking exactly: call "
                              "build_index() again", FastMFWarning, stacklevel=4)
            return None
        return index
