"""Serving for fitted models: scores, top-n recommendation (one user or a batch, in C++),
similar items and users, and the raw-id lookups they share; the cold-start methods come from
:class:`~fastmf.models._coldstart.ColdStartMixin`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _core
from .. import _validation as v
from ..data import IdMap, _comparable
from ..exceptions import UnknownIdError
from ._ann import IndexMixin, approximate_topn, small_allow_list
from ._coldstart import ColdStartMixin
from ._locking import reads
from ._recommend_all import RecommendAllMixin
from ._topn import Filter, exact_topn, item_counts, no_rows, recommendations, rows_of, unit_rows

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import ArrayLike, NDArray

    from .._typing import (CsrArrays, FloatArray, IdArray, Int32Array, Int64Array, RawId,
                           Unknown)
    from ._topn import Recommendations


class ServingMixin(ColdStartMixin, RecommendAllMixin, IndexMixin):
    """Ranking for fitted models: recommend, recommend_batch, similar items and users, the
    cold-start methods of :class:`ColdStartMixin`, ``recommend_all`` and the approximate
    index (``build_index``).

    A model provides ``_query(uidx) -> (Q, offsets)`` (known users by index),
    ``_query_from(factors, biases)`` (users given by their factors and biases: a folded-in
    user) and ``_item_bias()``, so that the score of item i for user u is
    ``Q[u]·item_factors_[i] + offsets[u] + item_bias[i]``.
    """

    @reads
    def score_users(self, users: ArrayLike) -> FloatArray:
        """Scores of every item for known users, seen items included.

        The score is what :meth:`recommend` ranks by: the unclipped predicted rating
        for the explicit models, ``x_u·y_i`` for ImplicitALS.

        Parameters
        ----------
        users : array-like of int or str
            Raw ids of users in the training data.

        Returns
        -------
        ndarray, shape (len(users), n_items)
            A row per user, a column per item in ``item_ids_`` order.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            A user is not in the training data.

        Examples
        --------
        >>> import numpy as np, fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> scores = model.score_users(["Alice", "Bob"])
        >>> scores.shape
        (2, 5)
        >>> items = model.item_ids_.ids
        >>> bool(np.allclose(scores[1], model.predict(["Bob"] * 5, items, clip=False)))
        True
        """
        self._check_is_fitted()
        Q, offsets = self._query(self._user_indices(users))
        return Q @ self.item_factors_.T + offsets[:, None] + self._item_bias()[None, :]

    @reads
    def recommend(self, user: RawId, n: int = 10, filter_seen: bool = True, *,
                  filter_items: ArrayLike | None = None, items: ArrayLike | None = None,
                  min_item_count: int | None = None, unknown: Unknown = "raise",
                  exact: bool = False) -> tuple[IdArray, FloatArray]:
        """The ``n`` best items for one known user, best first: (item ids, scores).

        Parameters
        ----------
        user : int or str
            The raw id of a user in the training data.
        n : int, default 10
            Items returned: exactly ``n`` when that many candidates remain, else all of them.
        filter_seen : bool, default True
            Leave out the user's training items (and items added for them by the partial
            fits).
        filter_items : array-like of int or str, optional
            Raw item ids never to return.
        items : array-like of int or str, optional
            Rank only these raw item ids (repeats count once; empty: nothing to rank).
        min_item_count : int, optional
            Rank only items with at least this many training interactions (those of
            ``fit`` and the partial fits): rare items, whose factors rest on one or two
            interactions, are left out. None (default) or 0: every item.
        unknown : {"raise", "ignore"}, default "raise"
            What an id in ``filter_items`` or ``items`` that the model does not know does:
            raise ``UnknownIdError``, or be dropped (an unknown item can never be returned,
            so dropping it from either list changes nothing else).
        exact : bool, default False
            Rank every candidate exactly even when an approximate index is built
            (:meth:`build_index`); without an index serving is always exact.

        Returns
        -------
        items, scores : ndarray
            1-D, best first; the scores are those of :meth:`score_users`. Ties rank the
            item listed first in ``item_ids_`` first.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            ``user``, or (with ``unknown="raise"``) an id in ``filter_items`` or ``items``,
            is not known to the model.
        TypeError, ValueError
            ``n`` is not an integer >= 1, or ``unknown`` is not "raise" or "ignore".

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> items, scores = model.recommend("Bob", n=2)
        >>> items.tolist(), scores.astype(float).round(1).tolist()
        (['Sholay', 'Shawshank'], [3.8, 3.0])
        >>> model.recommend("Bob", items=["Batman", "Sholay"], filter_seen=False)[0].tolist()
        ['Sholay', 'Batman']
        >>> model.recommend("Bob", filter_items=["Sholay"], n=1)[0].tolist()
        ['Shawshank']
        >>> model.recommend("Alice")[0].tolist()      # Alice has rated every movie
        []
        """
        self._check_is_fitted()
        n = v.check_int("n", n, minimum=1)
        uidx = np.array([self._user_index(user)])
        filt = self._item_filter(filter_items, items, unknown, min_item_count)
        found, scores = self._recommend_rows(uidx, n, filter_seen, filt, exact)
        keep = found[0] >= 0
        return self.item_ids_.to_raw(found[0][keep]), scores[0][keep]

    @reads
    def recommend_batch(self, users: ArrayLike, n: int = 10, filter_seen: bool = True, *,
                        filter_items: ArrayLike | None = None, items: ArrayLike | None = None,
                        min_item_count: int | None = None, unknown: Unknown = "raise",
                        exact: bool = False) -> Recommendations:
        """The ``n`` best items for each of ``users`` (raw ids), computed in C++ in parallel.

        Parameters
        ----------
        users : array-like of int or str
            Raw ids of users in the training data.
        n : int, default 10
            Items per user: exactly ``n`` for a user with that many candidates left.
        filter_seen, filter_items, items, min_item_count, unknown, exact
            As for :meth:`recommend`; the filters apply to every user.

        Returns
        -------
        Recommendations
            ``items`` and ``scores``, masked arrays of shape (len(users), min(n, n_items)),
            a row per user, best first, and ``counts``, how many items each row holds; the
            places after a short row's items are masked, never an id. ``row(r)`` gives row
            ``r`` as plain arrays. (Before, this returned ``(items, scores)`` with short rows
            padded by id -1: unpack three names now.)

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            A user, or (with ``unknown="raise"``) a filter id, is not known to the model.
        TypeError, ValueError
            ``n`` is not an integer >= 1, or ``unknown`` is not "raise" or "ignore".

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> items, scores, counts = model.recommend_batch(["Alice", "Bob"], n=2)
        >>> items.tolist(), counts.tolist()
        ([[None, None], ['Sholay', 'Shawshank']], [0, 2])
        >>> model.recommend_batch(["Alice", "Bob"], n=2).row(1)[0].tolist()
        ['Sholay', 'Shawshank']
        >>> model.recommend_batch(["Alice"], n=10, filter_seen=False).items.shape
        (1, 5)
        """
        self._check_is_fitted()
        n = v.check_int("n", n, minimum=1)
        uidx = self._user_indices(users)
        filt = self._item_filter(filter_items, items, unknown, min_item_count)
        return recommendations(self.item_ids_,
                               *self._recommend_rows(uidx, n, filter_seen, filt, exact))

    @reads
    def similar_items(self, item: RawId, n: int = 10, *, filter_items: ArrayLike | None = None,
                      items: ArrayLike | None = None, min_item_count: int | None = None,
                      unknown: Unknown = "raise", exact: bool = False
                      ) -> tuple[IdArray, FloatArray]:
        """The ``n`` items whose factors are closest in cosine similarity: (ids, cosines).

        Parameters
        ----------
        item : int or str
            The raw id of an item the model knows; it is never among the results.
        n : int, default 10
            Items returned: exactly ``n`` when that many candidates remain, else all of them.
        filter_items, items, min_item_count, unknown, exact
            As for :meth:`recommend` (no user, so no ``filter_seen``).

        Returns
        -------
        items, cosines : ndarray
            1-D, most similar first. An item whose factors are all zero has cosine 0 with
            every other.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            ``item``, or (with ``unknown="raise"``) a filter id, is not known to the model.
        TypeError, ValueError
            ``n`` is not an integer >= 1, or ``unknown`` is not "raise" or "ignore".

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> items, cosines = model.similar_items("Sholay", n=2)
        >>> items.tolist(), cosines.astype(float).round(2).tolist()
        (['Swades', 'Interstellar'], [0.98, 0.96])
        >>> len(model.similar_items("Sholay", n=100)[0])
        4
        >>> model.similar_items("Sholay", n=2, filter_items=["Swades"])[0].tolist()
        ['Interstellar', 'Batman']
        """
        self._check_is_fitted()
        index = self._item_indices([item], "item")
        filt = self._item_filter(filter_items, items, unknown, min_item_count)
        return self._similar("item", index, n, filt, exact)

    @reads
    def similar_users(self, user: RawId, n: int = 10, *, filter_users: ArrayLike | None = None,
                      users: ArrayLike | None = None, unknown: Unknown = "raise"
                      ) -> tuple[IdArray, FloatArray]:
        """The ``n`` users whose factors are closest in cosine similarity: (ids, cosines).

        Parameters
        ----------
        user : int or str
            The raw id of a user the model knows; it is never among the results.
        n : int, default 10
            Users returned: exactly ``n`` when that many candidates remain, else all of them.
        filter_users : array-like of int or str, optional
            Raw user ids never to return.
        users : array-like of int or str, optional
            Rank only these raw user ids.
        unknown : {"raise", "ignore"}, default "raise"
            As for :meth:`recommend`, for ``filter_users`` and ``users``.

        Returns
        -------
        users, cosines : ndarray
            1-D, most similar first.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            ``user``, or (with ``unknown="raise"``) a filter id, is not known to the model.
        TypeError, ValueError
            ``n`` is not an integer >= 1, or ``unknown`` is not "raise" or "ignore".

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> users, cosines = model.similar_users("Bob", n=1)
        >>> users.tolist(), bool(cosines[0] > 0.99)
        (['Carol'], True)
        """
        self._check_is_fitted()
        index = self._user_indices([user], "user")
        filt = Filter.of(self.user_ids_, filter_users, users, ("filter_users", "users"), "user",
                         unknown)
        return self._similar("user", index, n, filt, True)

    # -- the shared path: filters, then the exact or approximate top-n ----------------
    def _item_filter(self, filter_items: ArrayLike | None, items: ArrayLike | None,
                     unknown: Unknown, min_item_count: int | None = None) -> Filter:
        """The shared item filter of a serving call, checked before anything runs."""
        filt = Filter.of(self.item_ids_, filter_items, items, ("filter_items", "items"), "item",
                         unknown)
        if min_item_count is None:
            return filt
        minimum = v.check_int("min_item_count", min_item_count, minimum=0)
        return filt.at_least(item_counts(self._seen, len(self.item_ids_)), minimum)

    def _recommend_rows(self, uidx: NDArray[np.integer[Any]], n: int, filter_seen: bool,
                        filt: Filter, exact: bool) -> tuple[Int32Array, FloatArray]:
        """(item indices, scores), -1 / -inf padded, of known users by index."""
        Q, offsets = self._query(uidx)
        exclude = rows_of(self._seen, uidx) if filter_seen else no_rows(len(uidx))
        return self._rank(Q, offsets, exclude, n, filt, exact)

    def _rank(self, Q: FloatArray, offsets: FloatArray | None, exclude: CsrArrays, n: int,
              filt: Filter, exact: bool, side: str = "item") -> tuple[Int32Array, FloatArray]:
        """The top-n of query rows Q (a user's query vectors; unit rows for similar items
        and users) over ``side``'s rows, by the approximate index when one applies."""
        similar = offsets is None
        Y = unit_rows(getattr(self, f"{side}_factors_")) if similar else self.item_factors_
        bias = np.zeros(len(Y), Y.dtype) if similar else self._item_bias()
        offsets = np.zeros(len(Q), Y.dtype) if offsets is None else offsets
        n = min(n, len(Y))
        threads = v.check_num_threads(self.num_threads)
        graph = "similar" if similar else "recommend"
        index = None if exact or side == "user" else self._ann_index(graph)
        if index is None or small_allow_list(filt):
            return exact_topn(Q, offsets, Y, bias, exclude, n, filt, threads)

        def score(rows: Int64Array, cols: NDArray[np.integer[Any]]) -> FloatArray:
            return (Y[cols] @ Q[rows][:, :, None])[:, :, 0] + offsets[rows][:, None] + bias[cols]
        queries = Q if similar else np.hstack([Q, np.ones((len(Q), 1), Q.dtype)])
        found, scores, left = approximate_topn(index, graph, queries, score, exclude, n, filt,
                                               Y.dtype)
        if len(left):
            found[left], scores[left] = exact_topn(Q[left], offsets[left], Y, bias,
                                                   rows_of(exclude, left), n, filt, threads)
        return found, scores

    def _similar(self, side: str, index: Int64Array, n: int, filt: Filter, exact: bool
                 ) -> tuple[IdArray, FloatArray]:
        n = v.check_int("n", n, minimum=1)
        ids = getattr(self, f"{side}_ids_")
        unit = unit_rows(getattr(self, f"{side}_factors_"))
        self_row = (np.array([0, 1], np.int64), index.astype(np.int32))
        found, scores = self._rank(unit[index], None, self_row, n, filt, exact, side)
        keep = found[0] >= 0
        return ids.to_raw(found[0][keep]), scores[0][keep]

    # -- the fitted state that serving trusts ---------------------------------------
    def _check_loaded_state(self) -> None:
        """Raise ValueError unless the fitted state is what serving and the C++ kernels (which
        trust their inputs) need: every attribute of ``_required_state``, unique ids, finite
        factors with a row per id, matching biases, a finite global mean and rating range,
        a valid CSR of seen items, a history. ``fastmf.load`` calls it on what it read."""
        missing = [name for name in self._required_state if name not in vars(self)]
        if missing:
            raise ValueError(f"it lacks the fitted attribute{'s' * (len(missing) > 1)} "
                             f"{', '.join(missing)} that every fitted {type(self).__name__} "
                             f"holds")
        if not (isinstance(self.history_, list) and all(isinstance(h, dict)
                                                         for h in self.history_)):
            raise ValueError("history_ must be a list of dicts, one per iteration")
        if (not isinstance(self.n_iter_, int) or isinstance(self.n_iter_, bool)
                or not 0 <= self.n_iter_ <= len(self.history_)):
            raise ValueError(f"n_iter_ must be an int from 0 to the {len(self.history_)} "
                             f"iterations of history_, got {self.n_iter_!r}")
        factors = {}
        for side in ("user", "item"):
            ids, X = getattr(self, f"{side}_ids_", None), getattr(self, f"{side}_factors_", None)
            if not isinstance(ids, IdMap) or not isinstance(X, np.ndarray):
                raise ValueError(f"it holds no {side}_ids_ or no {side}_factors_")
            if len(ids) and (ids._sorted[1:] == ids._sorted[:-1]).any():
                raise ValueError(f"{side}_ids_ lists an id more than once")
            if X.ndim != 2 or X.dtype not in (np.float32, np.float64) or len(X) != len(ids):
                raise ValueError(f"{side}_factors_ must be a float32 or float64 matrix with a row "
                                 f"per id of {side}_ids_ ({len(ids)}), got {X.dtype} {X.shape}")
            biases = getattr(self, f"{side}_biases_", None)
            if biases is not None and (not isinstance(biases, np.ndarray)
                                       or biases.dtype != X.dtype or biases.shape != (len(ids),)):
                raise ValueError(f"{side}_biases_ must be a {X.dtype} vector of length {len(ids)}")
            for name, array in ((f"{side}_factors_", X), (f"{side}_biases_", biases)):
                if array is not None and not np.isfinite(array).all():
                    raise ValueError(f"{name} holds non-finite values")
            factors[side] = X
        X, Y = factors["user"], factors["item"]
        if X.dtype != Y.dtype or X.shape[1] != Y.shape[1]:
            raise ValueError(f"user_factors_ ({X.dtype}, {X.shape}) and item_factors_ "
                             f"({Y.dtype}, {Y.shape}) do not match")
        for name in ("global_mean_",):
            if name in vars(self) and not _finite_number(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)!r}")
        if "rating_range_" in vars(self):
            low_high = self.rating_range_  # type: ignore[attr-defined]  # in vars(self)
            if (not isinstance(low_high, tuple) or len(low_high) != 2
                    or not all(_finite_number(x) for x in low_high) or low_high[0] > low_high[1]):
                raise ValueError(f"rating_range_ must be (low, high) finite numbers, got "
                                 f"{low_high!r}")
        for name, shape in (("item_priors_", Y.shape),
                            ("feature_factors_", (len(getattr(self, "feature_names_", ())),
                                                  Y.shape[1]))):
            array = vars(self).get(name)
            if array is not None and (not isinstance(array, np.ndarray) or array.shape != shape
                                      or array.dtype != Y.dtype or not np.isfinite(array).all()):
                raise ValueError(f"{name} must be a finite {Y.dtype} array of shape {shape}")
        seen = getattr(self, "_seen", None)
        if seen is not None and not _valid_csr(seen, len(X), len(Y)):
            raise ValueError(f"_seen is not a valid CSR of {len(X)} users x {len(Y)} items")
        index = vars(self).get("ann_index_")
        if index is not None:
            if index.n_items != len(Y):
                raise ValueError(f"ann_index_ indexes {index.n_items} items, the model {len(Y)}")
            index.check_vectors(Y, self._item_bias())

    # -- raw ids -> indices ---------------------------------------------------------
    def _index(self, side: str, ids: IdArray, name: str) -> Int64Array:
        """The model's indices of raw ids for ``predict``, where an unknown id is allowed
        (-1): TypeError when the ids are of the other kind (integers against string ids, or
        the reverse), which would make every id unknown."""
        known = getattr(self, f"{side}_ids_").ids
        if len(ids) and len(known) and not _comparable(ids.dtype, known.dtype):
            raise TypeError(f"{name} are {_id_kind(ids)}, but the model's {side} ids are "
                            f"{_id_kind(known)}; pass {side} ids of the model's kind")
        return getattr(self, f"{side}_ids_").index(ids)

    def _user_index(self, user: RawId) -> int:
        idx = self.user_ids_.index(np.asarray([user]))[0]
        if idx < 0:
            raise UnknownIdError(f"user {user!r} was not in the training data; "
                                 f"use fold_in() to score a new user")
        return int(idx)

    def _user_indices(self, users: ArrayLike | Sequence[RawId], name: str = "users"
                      ) -> Int64Array:
        users = v.as_ids(name, users)
        idx = self.user_ids_.index(users)
        if (idx < 0).any():
            bad = users[np.flatnonzero(idx < 0)[0]]
            where = "" if name == "user" else f" in {name}"
            raise UnknownIdError(f"user {bad.item()!r}{where} was not in the training data; "
                                 f"use fold_in() to score a new user")
        return idx

    def _item_indices(self, items: ArrayLike | Sequence[RawId], name: str = "items"
                      ) -> Int64Array:
        items = v.as_ids(name, items)
        idx = self.item_ids_.index(items)
        if (idx < 0).any():
            bad = items[np.flatnonzero(idx < 0)[0]]
            where = "" if name == "item" else f" in {name}"
            raise UnknownIdError(f"item {bad.item()!r}{where} was not in the training data")
        return idx



def _id_kind(ids: IdArray) -> str:
    return "strings" if ids.dtype.kind == "U" else "integers"


def _finite_number(value: object) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool) and bool(np.isfinite(value)))


def _valid_csr(csr_arrays: object, n_rows: int, n_cols: int) -> bool:
    """Whether (indptr, indices) is a CSR with int64 indptr and int32 indices in range."""
    if not (isinstance(csr_arrays, tuple) and len(csr_arrays) == 2
            and all(isinstance(a, np.ndarray) and a.ndim == 1 for a in csr_arrays)):
        return False
    indptr, indices = csr_arrays
    return bool(indptr.dtype == np.int64 and indices.dtype == np.int32
                and len(indptr) == n_rows + 1 and indptr[0] == 0 and indptr[-1] == len(indices)
                and (np.diff(indptr) >= 0).all()
                and (len(indices) == 0 or (indices.min() >= 0 and indices.max() < n_cols)))
