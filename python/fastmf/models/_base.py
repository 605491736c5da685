"""The common base of fastmf models: parameters, the fit loop, history, early stopping,
progress, save, fitted checks and raw-id lookups. Model classes add the math."""
import inspect
import logging
import time

import numpy as np

from .. import _core, io
from .. import _validation as v
from ..data import IdMap, _comparable, as_interactions
from ..exceptions import ModelFitError, NotFittedError, UnknownIdError
from ._coldstart import ColdStartMixin
from ._locking import reads, writes

logger = logging.getLogger("fastmf")


class MatrixFactorizationBase:
    """Shared machinery; subclasses implement ``_check_params``, ``_start``, ``_iterate``,
    ``_evaluate``, ``_snapshot`` and ``_publish``."""

    _monitor = None          # history key that early stopping watches
    _monitor_mode = "min"    # "min": lower is better; "max": higher is better
    _iterations_param = "iterations"     # the parameter that counts iterations ("epochs")
    _task = "ranking"        # what the model is judged on: "rating" (RMSE) or "ranking"
    # save() stores every public attribute ending in "_"; these private ones too.
    _private_state = ("_seen",)

    # -- parameters (scikit-learn style, from the __init__ signature) -----------------
    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]

    def get_params(self, deep=True):
        """Parameters of this model as a dict (what ``__init__`` was given).

        The names are those of the ``__init__`` signature, so models clone and
        grid-search like scikit-learn estimators.

        Parameters
        ----------
        deep : bool, default True
            Ignored (a fastmf model holds no other estimator); accepted as scikit-learn
            passes it.

        Returns
        -------
        dict
            Parameter name -> current value.

        Examples
        --------
        >>> import fastmf
        >>> model = fastmf.ALS(factors=8, seed=0)
        >>> params = model.get_params()
        >>> params["factors"], params["regularization"], params["seed"]
        (8, 1.0, 0)
        >>> fastmf.ALS(**params).get_params() == params
        True
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set parameters by name.

        Values are checked by the next ``fit``, not here. A fitted model keeps its fitted
        state until then, but ``fold_in`` and the partial fits already solve with the
        new values.

        Parameters
        ----------
        **params
            Parameter name -> new value (names as in :meth:`get_params`).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A name is not a parameter of this model; nothing is changed then.

        Examples
        --------
        >>> import fastmf
        >>> fastmf.ALS().set_params(factors=16, iterations=5)
        ALS(factors=16, iterations=5)
        >>> fastmf.ALS().set_params(factor=16)
        Traceback (most recent call last):
        ...
        ValueError: 'factor' is not a parameter of ALS; valid parameters: factors, ...
        """
        valid = self._param_names()
        for name in params:
            if name not in valid:
                raise ValueError(f"{name!r} is not a parameter of {type(self).__name__}; "
                                 f"valid parameters: {', '.join(valid)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={val!r}" for k, val in self.get_params().items() if defaults.get(k) != val]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- the fit loop ---------------------------------------------------------------
    def fit(self, train, validation=None, callbacks=()):
        """Train on ``train``; see the class docstring for the model and its parameters.

        Every call starts afresh from the initialization that ``seed`` fixes; the fitted
        arrays, ``history_`` (a dict per iteration) and ``n_iter_`` (the iterations run)
        replace any earlier fit.

        Parameters
        ----------
        train : Interactions or (users, items[, ratings]) tuple
        validation : Interactions or tuple, optional
            Scored after every iteration into ``history_``; early stopping watches it.
        callbacks : sequence of callables
            Each is called as ``callback(record)`` after every iteration with that
            iteration's ``history_`` entry; a true return value stops training.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A parameter is out of range, or ``early_stopping`` is set without validation
            data.
        TypeError
            A parameter or ``train`` has the wrong type, or a callback is not callable.
        ModelFitError
            Training failed numerically; an earlier fit stays in place (SGD: see there).

        Notes
        -----
        Ctrl-C (``KeyboardInterrupt``) between iterations keeps the model from the last
        completed iteration and then propagates, so an interrupted model is usable.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
        >>> train, val = fastmf.train_test_split(data, test_size=0.2, seed=0)
        >>> model = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False)
        >>> model.fit(train, validation=val) is model
        True
        >>> model.n_iter_, sorted(model.history_[-1])
        (5, ['iteration', 'loss', 'seconds', 'train_rmse', 'val_rmse'])
        >>> stop = lambda record: record["iteration"] == 2      # a true value stops
        >>> model.fit(train, callbacks=[stop]).n_iter_
        2
        """
        p = self._check_params()
        data = self._train_data(train)
        val = None if validation is None else as_interactions(validation, "validation")
        for position, fn in enumerate(callbacks):
            if not callable(fn):
                raise TypeError(f"callbacks[{position}] must be callable, got {type(fn).__name__}")
        if p.early_stopping is not None and val is None:
            raise ValueError("early_stopping needs validation data: pass fit(train, validation=...)")
        state = self._start(data, val, p)
        history, best, best_score, waited = [], None, np.inf, 0
        done = 0
        bar = _progress_bar(type(self).__name__, p.iterations, p.verbose)
        try:
            for it in range(p.iterations):
                started = time.perf_counter()
                self._iterate(state, p)
                record = {"iteration": it + 1, **self._evaluate(state, p),
                          "seconds": time.perf_counter() - started}
                history.append(record)
                done = it + 1
                _show(bar, record)
                score = record.get(self._monitor) if val is not None else None
                if score is not None and self._monitor_mode == "max":
                    score = -score
                if score is not None and score < best_score:
                    best_score, waited = score, 0
                    if p.early_stopping is not None:       # keep the best to return to
                        best = self._snapshot(state)
                elif p.early_stopping is not None:
                    waited += 1
                    if waited >= p.early_stopping:
                        logger.info("early stop after %d iterations: %s did not improve for %d",
                                    done, self._monitor, waited)
                        break
                if any(fn(record) for fn in callbacks):
                    break
        except KeyboardInterrupt:
            if done:
                self._finish(state, history, None)
                logger.warning("fit interrupted after %d iterations; the model keeps them", done)
            raise
        except ModelFitError as error:
            # A model that restored its last finite state before raising keeps it.
            if done and getattr(error, "keeps_last_state", False):
                self._finish(state, history, None)
            raise
        finally:
            if bar is not None:
                bar.close()
        self._finish(state, history, best if p.early_stopping is not None else None)
        return self

    def _train_data(self, train):
        """The training data as the model's fit loop takes it (``_start`` receives it)."""
        return as_interactions(train, "train")

    @writes
    def _finish(self, state, history, best):
        if best is not None:
            state = best
        self._check_finite(state)
        self._publish(state)
        self.history_ = history
        self.n_iter_ = len(history)


    # -- save and load --------------------------------------------------------------
    @reads
    def save(self, path):
        """Write the fitted model to one ``.npz`` file; ``fastmf.load(path)`` reads it back.

        The file holds the class name, the parameters, the fitted arrays, the id maps,
        item titles and genres, ``history_`` and the fastmf version, in arrays plus a JSON
        header: no pickle. It is written to a temporary file in the same directory, flushed
        to disk and renamed over ``path``, so a failure never leaves a partial file and
        an existing file stays as it was. ``pickle`` works as well.

        Parameters
        ----------
        path : str or pathlib.Path
            The file to write. ``.npz`` is appended when the name does not end in it (as
            ``numpy.savez`` does); ``fastmf.load`` finds the file by either name.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        TypeError
            ``path`` is not a str or path, or a parameter holds a value that a model file
            cannot store (a callable, say).
        IsADirectoryError, FileNotFoundError
            ``path`` is a directory, or its directory does not exist.

        Examples
        --------
        >>> import tempfile, fastmf
        >>> model = fastmf.ALS(factors=2, iterations=3, seed=0, verbose=False)
        >>> model = model.fit(fastmf.datasets.toy())
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = model.save(f"{folder}/ratings-model")
        ...     print(path.name, fastmf.load(path).predict(["Bob"], ["Sholay"]).shape)
        ratings-model.npz (1,)
        """
        return io.save(self, path)

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

    # -- fitted state and ids -------------------------------------------------------
    def _check_is_fitted(self):
        if not hasattr(self, "item_factors_"):
            raise NotFittedError(f"this {type(self).__name__} instance is not fitted yet; "
                                 f"call fit() first")

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


def _progress_bar(name, iterations, verbose):
    if not verbose:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=iterations, desc=name, unit="it", leave=True)


def _show(bar, record):
    if bar is not None:
        keys = [k for k in ("train_rmse", "val_rmse", "val_ndcg@10", "loss") if k in record]
        bar.set_postfix({k: f"{record[k]:.4f}" for k in keys[:2]}, refresh=False)
        bar.update(1)


class ServingMixin(ColdStartMixin):
    """Ranking for fitted models: recommend, recommend_batch, similar items and users, and
    the cold-start methods of :class:`ColdStartMixin`.

    A model provides ``_query(uidx) -> (Q, offsets)`` and ``_item_bias()``, so that the
    score of item i for user u is ``Q[u]·item_factors_[i] + offsets[u] + item_bias[i]``.
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


def _id_kind(ids):
    return "strings" if ids.dtype.kind == "U" else "integers"


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


def check_common(model):
    """Validate the parameters every model shares; returns a dict for the subclass to extend."""
    p = {
        "iterations": v.check_int(model._iterations_param,
                                  getattr(model, model._iterations_param), minimum=1),
        "num_threads": v.check_num_threads(model.num_threads),
        "seed": v.check_seed(model.seed),
        "verbose": bool(model.verbose),
        "early_stopping": (None if model.early_stopping is None
                           else v.check_int("early_stopping", model.early_stopping, minimum=1)),
        "factors": v.check_int("factors", model.factors, minimum=1),
        "dtype": v.check_dtype(model.dtype),
    }
    return p
