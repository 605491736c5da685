"""Serving for fitted models: scores, top-n recommendation (one user or a batch, in C++),
similar items and users, and the raw-id lookups they share; the cold-start methods come from
:class:`~fastmf.models._coldstart.ColdStartMixin`."""
import numpy as np

from .. import _core
from .. import _validation as v
from ..data import IdMap, _comparable
from ..exceptions import UnknownIdError
from ._coldstart import ColdStartMixin
from ._locking import reads


class ServingMixin(ColdStartMixin):
    """Ranking for fitted models: recommend, recommend_batch, similar items and users, and
    the cold-start methods of :class:`ColdStartMixin`.

    A model provides ``_query(uidx) -> (Q, offsets)`` (known users by index),
    ``_query_from(factors, biases)`` (users given by their factors and biases: a folded-in
    user) and ``_item_bias()``, so that the score of item i for user u is
    ``Q[u]·item_factors_[i] + offsets[u] + item_bias[i]``.
    """

    @reads
    def score_users(self, users):
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
    def recommend_batch(self, users, n=10, filter_seen=True):
        """The ``n`` best items for each of ``users`` (raw ids), computed in C++ in parallel.

        Parameters
        ----------
        users : array-like of int or str
            Raw ids of users in the training data.
        n : int, default 10
            Items per user; at most the number of items.
        filter_seen : bool, default True
            Skip each user's training items.

        Returns
        -------
        items, scores : ndarray, shape (len(users), min(n, n_items))
            A row per user, best first. A row with fewer candidates than columns is padded
            with score -inf and item id -1 (or "" for string ids).

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            A user is not in the training data.
        TypeError, ValueError
            ``n`` is not an integer >= 1.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> items, scores = model.recommend_batch(["Alice", "Bob"], n=2)
        >>> items.tolist()
        [['', ''], ['Sholay', 'Shawshank']]
        >>> scores[0].tolist()
        [-inf, -inf]
        >>> model.recommend_batch(["Alice"], n=10, filter_seen=False)[0].shape
        (1, 5)
        """
        self._check_is_fitted()
        n = v.check_int("n", n, minimum=1)
        return self._recommend_indices(self._user_indices(users), n, filter_seen)

    def _recommend_indices(self, uidx, n, filter_seen):
        Q, offsets = self._query(uidx)
        exclude = _rows(self._seen, uidx) if filter_seen else (np.zeros(len(uidx) + 1, np.int64),
                                                               np.zeros(0, np.int32))
        return self._topk(Q, offsets, exclude, n)

    def _topk(self, Q, offsets, exclude, n):
        """(raw item ids, scores) of the n best items per row of Q, excluded items skipped."""
        n = min(n, len(self.item_ids_))
        out_items = np.empty((len(Q), n), dtype=np.int32)
        out_scores = np.empty((len(Q), n), dtype=self.item_factors_.dtype)
        _core.topk_scores(np.ascontiguousarray(Q), np.ascontiguousarray(offsets), self.item_factors_,
                          self._item_bias(), *exclude, out_items, out_scores,
                          v.check_num_threads(self.num_threads))
        return _raw_ids(self.item_ids_, out_items), out_scores

    @reads
    def recommend(self, user, n=10, filter_seen=True, items=None):
        """The ``n`` best items for one known user, best first: (item ids, scores).

        Parameters
        ----------
        user : int or str
            The raw id of a user in the training data.
        n : int, default 10
            The most items returned; fewer when fewer candidates remain.
        filter_seen : bool, default True
            Drop the user's training items (and items added for them by the partial fits).
        items : array-like of int or str, optional
            Rank only these raw item ids (each known to the model; repeats count once).

        Returns
        -------
        items, scores : ndarray
            1-D, best first; the scores are those of :meth:`score_users`.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            ``user`` or one of ``items`` is not in the training data.
        TypeError, ValueError
            ``n`` is not an integer >= 1.

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
        >>> model.recommend("Alice")[0].tolist()      # Alice has rated every movie
        []
        """
        self._check_is_fitted()
        n = v.check_int("n", n, minimum=1)
        uidx = self._user_index(user)
        if items is None:
            ids, scores = self._recommend_indices(np.array([uidx]), n, filter_seen)
            keep = np.isfinite(scores[0])
            return ids[0][keep], scores[0][keep]
        candidates = np.unique(self._item_indices(items))
        if filter_seen:
            indptr, indices = self._seen
            candidates = candidates[~np.isin(candidates, indices[indptr[uidx]:indptr[uidx + 1]])]
        Q, offsets = self._query(np.array([uidx]))
        scores = self.item_factors_[candidates] @ Q[0] + offsets[0] + self._item_bias()[candidates]
        top = np.argsort(-scores, kind="stable")[:n]
        return self.item_ids_.to_raw(candidates[top]), scores[top]

    @reads
    def similar_items(self, item, n=10):
        """The ``n`` items whose factors are closest in cosine similarity: (ids, cosines).

        Parameters
        ----------
        item : int or str
            The raw id of an item the model knows.
        n : int, default 10
            The most items returned; at most all the other items.

        Returns
        -------
        items, cosines : ndarray
            1-D, most similar first; ``item`` itself is left out. An item whose factors
            are all zero has cosine 0 with every other.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            ``item`` is not known to the model.
        TypeError, ValueError
            ``n`` is not an integer >= 1.

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
        """
        self._check_is_fitted()
        return self._similar(self.item_factors_, self.item_ids_, self._item_indices([item], "item"), n)

    @reads
    def similar_users(self, user, n=10):
        """The ``n`` users whose factors are closest in cosine similarity: (ids, cosines).

        Parameters
        ----------
        user : int or str
            The raw id of a user the model knows.
        n : int, default 10
            The most users returned; at most all the other users.

        Returns
        -------
        users, cosines : ndarray
            1-D, most similar first; ``user`` itself is left out.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            ``user`` is not known to the model.
        TypeError, ValueError
            ``n`` is not an integer >= 1.

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
        return self._similar(self.user_factors_, self.user_ids_, self._user_indices([user], "user"), n)

    def _similar(self, factors, ids, index, n):
        n = min(v.check_int("n", n, minimum=1), len(ids) - 1)
        norms = np.linalg.norm(factors, axis=1)
        unit = (factors / np.where(norms > 0, norms, 1)[:, None]).astype(factors.dtype)
        out_items = np.empty((1, max(n, 1)), dtype=np.int32)
        out_scores = np.empty((1, max(n, 1)), dtype=factors.dtype)
        zeros = np.zeros(len(ids), dtype=factors.dtype)
        _core.topk_scores(unit[index], zeros[:1], unit, zeros, np.array([0, 1], np.int64),
                          index.astype(np.int32), out_items, out_scores,
                          v.check_num_threads(self.num_threads))
        keep = out_items[0] >= 0
        return ids.to_raw(out_items[0][keep]), out_scores[0][keep]



    # -- the fitted state that serving trusts ---------------------------------------
    def _check_loaded_state(self):
        """Raise ValueError unless the fitted state is what serving and the C++ kernels (which
        trust their inputs) need: unique ids, finite factors with a row per id, matching
        biases, a finite global mean and rating range, a valid CSR of seen items.
        ``fastmf.load`` calls it on what it read."""
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
            low_high = self.rating_range_
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

    # -- raw ids -> indices ---------------------------------------------------------
    def _index(self, side, ids, name):
        """The model's indices of raw ids for ``predict``, where an unknown id is allowed
        (-1): TypeError when the ids are of the other kind (integers against string ids, or
        the reverse), which would make every id unknown."""
        known = getattr(self, f"{side}_ids_").ids
        if len(ids) and len(known) and not _comparable(ids.dtype, known.dtype):
            raise TypeError(f"{name} are {_id_kind(ids)}, but the model's {side} ids are "
                            f"{_id_kind(known)}; pass {side} ids of the model's kind")
        return getattr(self, f"{side}_ids_").index(ids)

    def _user_index(self, user):
        idx = self.user_ids_.index(np.asarray([user]))[0]
        if idx < 0:
            raise UnknownIdError(f"user {user!r} was not in the training data; "
                                 f"use fold_in() to score a new user")
        return int(idx)

    def _user_indices(self, users, name="users"):
        users = v.as_ids(name, users)
        idx = self.user_ids_.index(users)
        if (idx < 0).any():
            bad = users[np.flatnonzero(idx < 0)[0]]
            where = "" if name == "user" else f" in {name}"
            raise UnknownIdError(f"user {bad.item()!r}{where} was not in the training data; "
                                 f"use fold_in() to score a new user")
        return idx

    def _item_indices(self, items, name="items"):
        items = v.as_ids(name, items)
        idx = self.item_ids_.index(items)
        if (idx < 0).any():
            bad = items[np.flatnonzero(idx < 0)[0]]
            where = "" if name == "item" else f" in {name}"
            raise UnknownIdError(f"item {bad.item()!r}{where} was not in the training data")
        return idx



def _id_kind(ids):
    return "strings" if ids.dtype.kind == "U" else "integers"


def _rows(csr_arrays, rows):
    """(indptr, indices) of the given rows of a CSR given as (indptr, indices)."""
    indptr, indices = csr_arrays
    starts, counts = indptr[rows], indptr[rows + 1] - indptr[rows]
    sub_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=sub_indptr[1:])
    positions = np.repeat(starts - sub_indptr[:-1], counts) + np.arange(sub_indptr[-1])
    return sub_indptr, indices[positions]


def _raw_ids(id_map, indices):
    """Raw ids of a 2-D array of indices where -1 (padding) becomes -1 or ""."""
    raw = id_map.ids[np.maximum(indices, 0)]
    if (indices < 0).any():
        raw[indices < 0] = -1 if raw.dtype.kind in "iu" else ""
    return raw


def _finite_number(value):
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool) and bool(np.isfinite(value)))


def _valid_csr(csr_arrays, n_rows, n_cols):
    """Whether (indptr, indices) is a CSR with int64 indptr and int32 indices in range."""
    if not (isinstance(csr_arrays, tuple) and len(csr_arrays) == 2
            and all(isinstance(a, np.ndarray) and a.ndim == 1 for a in csr_arrays)):
        return False
    indptr, indices = csr_arrays
    return bool(indptr.dtype == np.int64 and indices.dtype == np.int32
                and len(indptr) == n_rows + 1 and indptr[0] == 0 and indptr[-1] == len(indices)
                and (np.diff(indptr) >= 0).all()
                and (len(indices) == 0 or (indices.min() >= 0 and indices.max() < n_cols)))
