"""Serving for fitted models: scores, top-n recommendation (one user or a batch, in C++),
similar items and users, and the raw-id lookups they share; the cold-start methods come from
:class:`~fastmf.models._coldstart.ColdStartMixin`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._kernels.topk import topk_filtered
from .._locking import reads
from ..data import _comparable
from ..exceptions import UnknownIdError
from ._ann import IndexMixin, approximate_topn, small_allow_list
from ._coldstart import ColdStartMixin
from ._from_features import FeatureRowsMixin
from ._recommend_all import RecommendAllMixin
from ._topn import Filter, item_counts, no_rows, recommendations, rows_of, unit_rows

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import ArrayLike, NDArray

    from .._typing import (CsrArrays, FloatArray, IdArray, Int32Array, Int64Array, RawId,
                           Unknown)
    from ._topn import Recommendations


class ServingMixin(ColdStartMixin, FeatureRowsMixin, RecommendAllMixin, IndexMixin):
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
        Q, offsets = self._query(self._known("user", users, "users"))
        return Q @ self.item_factors_.T + offsets[:, None] + self._item_bias()[None, :]

    # What fastmf.metrics.evaluate compares a model's score_users with: while it is this
    # one, evaluate ranks the model in C++ from _query and _item_bias; a class that changes
    # score_users is ranked by the scores it gives.
    _serving_score_users = score_users

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
        uidx = self._known("user", users, "users")
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
        index = self._known("item", [item], "item")
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
        index = self._known("user", [user], "user")
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
            return topk_filtered(Q, offsets, Y, bias, filt.candidates, exclude, filt.shared, n,
                                 threads)

        def score(rows: Int64Array, cols: NDArray[np.integer[Any]]) -> FloatArray:
            return (Y[cols] @ Q[rows][:, :, None])[:, :, 0] + offsets[rows][:, None] + bias[cols]
        queries = Q if similar else np.hstack([Q, np.ones((len(Q), 1), Q.dtype)])
        found, scores, left = approximate_topn(index, graph, queries, score, exclude, n, filt,
                                               Y.dtype)
        if len(left):
            found[left], scores[left] = topk_filtered(Q[left], offsets[left], Y, bias,
                                                      filt.candidates, rows_of(exclude, left),
                                                      filt.shared, n, threads)
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

    def _known(self, side: str, ids: ArrayLike | Sequence[RawId], name: str) -> Int64Array:
        """The model's indices of the raw ids of ``side`` given as the argument ``name``;
        UnknownIdError for the first id the model does not know."""
        ids = v.as_ids(name, ids)
        idx = getattr(self, f"{side}_ids_").index(ids)
        if (idx < 0).any():
            bad = ids[np.flatnonzero(idx < 0)[0]]
            where = "" if name == side else f" in {name}"
            advice = "; use fold_in() to score a new user" if side == "user" else ""
            raise UnknownIdError(f"{side} {bad.item()!r}{where} was not in the training "
                                 f"data{advice}")
        return idx


def _id_kind(ids: IdArray) -> str:
    return "strings" if ids.dtype.kind == "U" else "integers"
