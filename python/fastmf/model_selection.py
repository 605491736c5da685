"""Splitting interactions into training and test sets."""
import logging
import numbers
import warnings

import numpy as np

from . import _validation as v
from .data import as_interactions
from .exceptions import FastMFWarning
from .metrics import METRICS as RANKING_METRICS
from .metrics._accuracy import RATING_METRICS

logger = logging.getLogger("fastmf")

STRATEGIES = ("random", "per_user", "temporal")


def train_test_split(data, test_size=0.2, seed=None, strategy="random", unseen="drop"):
    """Split interactions into (train, test).

    Parameters
    ----------
    data : Interactions
    test_size : float in (0, 1)
        Fraction of the ratings that go to the test set.
    seed : int or None
        Fixes the random choice ("random" and "per_user").
    strategy : {"random", "per_user", "temporal"}
        ``"random"``: a uniformly random ``test_size`` share of all ratings.
        ``"per_user"``: for every user with at least two ratings, a random
        ``round(test_size * n_u)`` of them (at least one, never all).
        ``"temporal"``: the latest ``test_size`` share by timestamp (ties broken by
        position); needs timestamps.
    unseen : {"drop", "keep"}
        Test ratings whose user or item has no rating left in train cannot be scored by
        the model itself. ``"drop"`` (default) removes them from the test set; ``"keep"``
        keeps them (models then predict them by their fallback rule). Either way their
        number is stored as ``test.n_unseen`` and logged to the "fastmf" logger.

    Returns
    -------
    train, test : Interactions
        ``train`` holds only the users and items that have ratings in it.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(100, 50, 1000, seed=0)
    >>> train, test = fastmf.train_test_split(data, test_size=0.2, seed=1)
    >>> train.nnz + test.nnz + test.n_unseen == data.nnz
    True
    """
    data = as_interactions(data)
    test_size = v.check_float("test_size", test_size, minimum=0, maximum=1, strict_minimum=True)
    if test_size >= 1:
        raise ValueError(f"test_size must be a float < 1, got {test_size}")
    v.check_choice("strategy", strategy, STRATEGIES)
    v.check_choice("unseen", unseen, ("drop", "keep"))
    rng = np.random.default_rng(v.check_seed(seed))
    is_test = _SPLITTERS[strategy](data, test_size, rng)
    if not is_test.any() or is_test.all():
        raise ValueError(f"test_size={test_size} puts {'no' if not is_test.any() else 'every'} "
                         f"rating in the test set ({data.nnz} ratings in all)")
    return _split(data, is_test, unseen)


def _split(data, is_test, unseen):
    """(train, test) for a mask of test ratings, with the rule for unseen users and items."""
    train = data.take(np.flatnonzero(~is_test))
    test_pos = np.flatnonzero(is_test)
    known = (np.isin(data.uidx[test_pos], data.uidx[~is_test])
             & np.isin(data.iidx[test_pos], data.iidx[~is_test]))
    n_unseen = int((~known).sum())
    if n_unseen:
        logger.info("%d test ratings have a user or item absent from train (%s)", n_unseen,
                    "dropped" if unseen == "drop" else "kept")
    if unseen == "drop":
        test_pos = test_pos[known]
    if len(test_pos) == 0:
        raise ValueError("no test rating has both its user and item in train; the data is "
                         "too sparse for this split: use a smaller test_size or unseen='keep'")
    test = data.take(test_pos)
    test.n_unseen = n_unseen
    return train, test


def _random(data, test_size, rng):
    n_test = int(round(test_size * data.nnz))
    is_test = np.zeros(data.nnz, dtype=bool)
    is_test[rng.permutation(data.nnz)[:n_test]] = True
    return is_test


def _per_user(data, test_size, rng):
    # Ratings are sorted by user: rank each rating by a random key inside its user's block.
    counts = data.by_user.counts()
    starts = np.repeat(data.by_user.indptr[:-1], counts)
    order = np.lexsort((rng.random(data.nnz), data.uidx))
    rank = np.empty(data.nnz, dtype=np.int64)
    rank[order] = np.arange(data.nnz) - starts
    n_test = np.where(counts >= 2, np.clip(np.round(test_size * counts), 1, counts - 1), 0)
    return rank < np.repeat(n_test, counts)


def _temporal(data, test_size, rng):
    if data.timestamps is None:
        raise ValueError("strategy='temporal' needs timestamps; build the data with timestamps=...")
    n_test = int(round(test_size * data.nnz))
    order = np.argsort(data.timestamps, kind="stable")
    is_test = np.zeros(data.nnz, dtype=bool)
    is_test[order[data.nnz - n_test:]] = True
    return is_test


_SPLITTERS = {"random": _random, "per_user": _per_user, "temporal": _temporal}


def cold_start_split(data, fraction=0.1, side="item", seed=None):
    """Hold out a random ``fraction`` of the items (or users) with all their ratings:
    (train, test), where no test item (user) appears in train. For measuring how a model
    serves what it never saw, e.g. new items placed by their features
    (:meth:`fastmf.ALS.add_items`).

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> train, test = fastmf.model_selection.cold_start_split(data, fraction=0.1, seed=0)
    >>> len(set(test.item_ids.ids) & set(train.item_ids.ids))
    0
    """
    data = as_interactions(data)
    fraction = v.check_float("fraction", fraction, minimum=0, maximum=1, strict_minimum=True)
    side = v.check_choice("side", side, ("item", "user"))
    rng = np.random.default_rng(v.check_seed(seed))
    n = data.n_items if side == "item" else data.n_users
    n_out = int(round(fraction * n))
    if not 0 < n_out < n:
        raise ValueError(f"fraction={fraction} holds out {n_out} of {n} {side}s; it must leave "
                         f"at least one on each side")
    out = np.zeros(n, dtype=bool)
    out[rng.choice(n, n_out, replace=False)] = True
    in_test = out[data.iidx] if side == "item" else np.repeat(out, data.by_user.counts())
    return data.take(np.flatnonzero(~in_test)), data.take(np.flatnonzero(in_test))


# -- cross-validation and grid search ------------------------------------------------------

LOWER_IS_BETTER = ("rmse", "mae")


def k_fold(data, folds=5, seed=None, unseen="drop"):
    """Yield ``folds`` (train, test) pairs: the ratings split at random into ``folds`` parts
    of near-equal size, each part the test set once (unseen users and items handled as in
    :func:`train_test_split`).

    Parameters
    ----------
    data : Interactions or (users, items[, ratings]) tuple
    folds : int, default 5
        Number of parts, at least 2 and at most the number of ratings.
    seed : int, numpy Generator or None
        Fixes the split.
    unseen : {"drop", "keep"}, default "drop"
        Test ratings whose user or item has no rating in the fold's train part are
        dropped from its test set or kept; their number is ``test.n_unseen`` either way.

    Yields
    ------
    train, test : Interactions
        ``train`` holds only the users and items that have ratings in it.

    Raises
    ------
    TypeError, ValueError
        A bad argument, or a fold whose test part keeps no rating. This is a generator:
        nothing is checked before the first pair is asked for.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import k_fold
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> folds = list(k_fold(data, folds=3, seed=0))
    >>> len(folds)
    3
    >>> all(train.nnz + test.nnz + test.n_unseen == data.nnz for train, test in folds)
    True
    """
    data = as_interactions(data)
    folds = v.check_int("folds", folds, minimum=2)
    v.check_choice("unseen", unseen, ("drop", "keep"))
    if folds > data.nnz:
        raise ValueError(f"folds={folds} is more than the {data.nnz} ratings")
    order = np.random.default_rng(v.check_seed(seed)).permutation(data.nnz)
    for part in np.array_split(order, folds):
        is_test = np.zeros(data.nnz, dtype=bool)
        is_test[part] = True
        yield _split(data, is_test, unseen)


class CVResults(dict):
    """Per-fold arrays keyed ``"test_<metric>"``, ``"fit_time"`` and ``"test_time"`` (seconds),
    with :meth:`mean`, :meth:`std` and a printable table.

    :func:`cross_validate` returns one; it is a ``dict`` of 1-D arrays with a value per
    fold, built like any dict.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf.model_selection import CVResults
    >>> results = CVResults(test_rmse=np.array([0.75, 1.0, 1.25]),
    ...                     fit_time=np.array([0.5, 0.5, 0.5]))
    >>> print(results)
               fold 1  fold 2  fold 3    mean     std
    test_rmse  0.7500  1.0000  1.2500  1.0000  0.2500
    fit_time   0.5000  0.5000  0.5000  0.5000  0.0000
    """

    def mean(self):
        """The mean over folds of every entry.

        Returns
        -------
        dict
            Key -> float.

        Examples
        --------
        >>> import numpy as np
        >>> from fastmf.model_selection import CVResults
        >>> CVResults(test_rmse=np.array([0.75, 1.0, 1.25])).mean()
        {'test_rmse': 1.0}
        """
        return {key: float(np.mean(values)) for key, values in self.items()}

    def std(self):
        """The sample standard deviation over folds (``ddof=1``) of every entry.

        Returns
        -------
        dict
            Key -> float; 0.0 for an entry with a single fold.

        Examples
        --------
        >>> import numpy as np
        >>> from fastmf.model_selection import CVResults
        >>> CVResults(test_rmse=np.array([0.75, 1.0, 1.25]), fit_time=np.array([2.0])).std()
        {'test_rmse': 0.25, 'fit_time': 0.0}
        """
        return {key: float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
                for key, values in self.items()}

    def __str__(self):
        folds = len(next(iter(self.values())))
        header = ["", *(f"fold {f + 1}" for f in range(folds)), "mean", "std"]
        mean, std = self.mean(), self.std()
        rows = [[key, *(f"{x:.4f}" for x in values), f"{mean[key]:.4f}", f"{std[key]:.4f}"]
                for key, values in self.items()]
        widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
        return "\n".join("  ".join(cell.rjust(w) if j else cell.ljust(w)
                                   for j, (cell, w) in enumerate(zip(row, widths)))
                         for row in [header, *rows])


def _metric_names(model, metrics):
    if metrics is None:
        return RATING_METRICS if model._task == "rating" else ("precision", "ndcg")
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    allowed = RATING_METRICS + RANKING_METRICS if model._task == "rating" else RANKING_METRICS
    for name in metrics:
        if name not in allowed:
            raise ValueError(f"unknown metric {name!r} for {type(model).__name__}; choose from "
                             f"{', '.join(allowed)}")
    if not metrics:
        raise ValueError("metrics is empty")
    return metrics


def _score(model, train, test, metrics, k):
    from . import metrics as m

    out = {}
    rating = [name for name in metrics if name in RATING_METRICS]
    if rating:
        predicted = model.predict(test.users, test.items)
        for name in rating:
            out[name] = float(getattr(m, name)(test.ratings, predicted))
    ranking = [name for name in metrics if name in RANKING_METRICS]
    if ranking:
        scores = m.evaluate(model, test, train=train, k=k, metrics=ranking)
        for name in ranking:
            out[name] = scores[name if name == "auc" else f"{name}@{k}"]
    return out


def _metric_key(name, k):
    return name if name in RATING_METRICS or name == "auc" else f"{name}@{k}"


def cross_validate(model, data, folds=5, metrics=None, seed=None, k=10, unseen="drop"):
    """Fit a fresh copy of ``model`` on each of ``folds`` training parts and score it on the
    held-out part (:func:`k_fold`).

    Parameters
    ----------
    model : a fastmf model (unfitted or fitted: only its parameters are used)
    data : Interactions
    folds : int, default 5
    metrics : sequence of str, optional
        ``"rmse"``, ``"mae"`` (explicit models; default both) and ranking metrics
        ``"precision"``, ``"recall"``, ``"ndcg"``, ``"map"``, ``"auc"``, ``"coverage"`` at
        ``k`` (default for implicit models: precision and NDCG), computed by
        :func:`fastmf.metrics.evaluate` with the fold's training items excluded.
    seed : int, optional
        Fixes the folds (the model's own ``seed`` fixes each fit).
    k : int, default 10
    unseen : {"drop", "keep"}
        Test ratings of users or items absent from the fold's training part.

    Returns
    -------
    CVResults
        ``{"test_rmse": array of folds, ..., "fit_time": ..., "test_time": ...}``; its
        ``mean()`` and ``std()`` summarise, ``print`` shows a table.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> model = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False)
    >>> results = fastmf.cross_validate(model, data, folds=3, seed=0)
    >>> sorted(results)
    ['fit_time', 'test_mae', 'test_rmse', 'test_time']
    >>> bool(results.mean()["test_rmse"] < 1.2)
    True
    """
    import time

    names = _metric_names(model, metrics)
    k = v.check_int("k", k, minimum=1)
    results = CVResults({f"test_{_metric_key(name, k)}": [] for name in names})
    results.update(fit_time=[], test_time=[])
    for train, test in k_fold(data, folds, seed, unseen):
        fold_model = type(model)(**model.get_params())
        started = time.perf_counter()
        fold_model.fit(train)
        results["fit_time"].append(time.perf_counter() - started)
        started = time.perf_counter()
        scores = _score(fold_model, train, test, names, k)
        results["test_time"].append(time.perf_counter() - started)
        for name, value in scores.items():
            results[f"test_{_metric_key(name, k)}"].append(value)
    for key in results:
        results[key] = np.array(results[key])
    return results


class GridSearch:
    """Cross-validate every combination of parameter values and keep the best.

    Parameters
    ----------
    model : a fastmf model: the base parameters
    param_grid : dict of name -> list of values, or a list of such dicts
    cv : int, default 5
        Folds (the same folds, from ``seed``, for every combination).
    metric : str, optional
        What "best" means: ``"rmse"`` (default for explicit models; lower is better) or
        ``"mae"``, or a ranking metric at ``k`` (default ``"ndcg"`` for implicit models;
        higher is better).
    seed : int, optional
    k : int, default 10
    refit : bool, default True
        Fit the best parameters on all the data into ``best_model_``.
    error_score : "raise" or float, default nan
        The score of a combination whose fit or scoring fails (a diverging SGD, a failed
        Cholesky, a bad value): a ``FastMFWarning`` names it and the search goes on, with
        that score recorded (NaN: never the best); ``"raise"`` stops the search instead.

    Attributes
    ----------
    results_ : pandas.DataFrame (or a list of dicts without pandas)
        A row per combination: its parameters, ``mean_test_<metric>``,
        ``std_test_<metric>``, ``mean_fit_time``, ``rank``.
    best_params_, best_score_, best_model_

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> search = fastmf.GridSearch(fastmf.ALS(iterations=4, seed=0, verbose=False),
    ...                            {"factors": [4, 8], "regularization": [0.5, 2.0]}, cv=3,
    ...                            seed=0).fit(data)
    >>> sorted(search.best_params_)
    ['factors', 'regularization']
    >>> len(search.results_)
    4
    """

    def __init__(self, model, param_grid, cv=5, metric=None, seed=None, k=10, refit=True,
                 error_score=np.nan):
        self.model, self.param_grid, self.cv, self.metric = model, param_grid, cv, metric
        self.seed, self.k, self.refit, self.error_score = seed, k, refit, error_score

    def _combinations(self):
        import itertools

        grids = [self.param_grid] if isinstance(self.param_grid, dict) else list(self.param_grid)
        valid = self.model.get_params()
        combos = []
        for grid in grids:
            if not isinstance(grid, dict) or not grid:
                raise TypeError("param_grid must be a non-empty dict of name -> list of values, "
                                "or a list of such dicts")
            for name, values in grid.items():
                if name not in valid:
                    raise ValueError(f"{name!r} is not a parameter of {type(self.model).__name__}")
                if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not len(values):
                    raise ValueError(f"param_grid[{name!r}] must be a non-empty list of values")
            combos += [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
        return combos

    def fit(self, data):
        """Cross-validate every combination on ``data`` and keep the best.

        Every combination is scored on the same ``cv`` folds (from ``seed``) by
        :func:`cross_validate`; "best" is the lowest mean ``rmse``/``mae`` or the highest
        mean ranking metric, the first combination in grid order on a tie.

        Parameters
        ----------
        data : Interactions or (users, items[, ratings]) tuple

        Returns
        -------
        self
            With ``results_``, ``best_params_``, ``best_score_`` and, when ``refit``,
            ``best_model_`` (the best parameters fitted on all of ``data``).

        Raises
        ------
        ValueError
            A grid names an unknown parameter or has an empty list of values, the
            metric does not suit the model, ``error_score`` is neither "raise" nor a
            number, or every combination failed.
        TypeError
            ``param_grid`` is not a dict or a list of dicts.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
        >>> search = fastmf.GridSearch(fastmf.ALS(factors=4, iterations=3, seed=0, verbose=False),
        ...                            {"regularization": [0.1, 1.0]}, cv=2, seed=0)
        >>> search.fit(data) is search
        True
        >>> search.results_.columns.tolist()
        ['regularization', 'mean_test_rmse', 'std_test_rmse', 'mean_fit_time', 'rank']
        >>> search.best_params_, search.best_model_.regularization
        ({'regularization': 1.0}, 1.0)
        """
        data = as_interactions(data)
        metric = self.metric or ("rmse" if self.model._task == "rating" else "ndcg")
        _metric_names(self.model, [metric])
        key = f"test_{_metric_key(metric, self.k)}"
        raise_errors = isinstance(self.error_score, str) and self.error_score == "raise"
        if not raise_errors and (isinstance(self.error_score, bool)
                                 or not isinstance(self.error_score, numbers.Real)):
            raise ValueError(f"error_score must be 'raise' or a number, got {self.error_score!r}")
        rows = []
        for params in self._combinations():
            candidate = type(self.model)(**{**self.model.get_params(), **params})
            try:
                scores = cross_validate(candidate, data, folds=self.cv, metrics=[metric],
                                        seed=self.seed, k=self.k)
            except Exception as error:         # a failed point; Ctrl-C still stops the search
                if raise_errors:
                    raise
                warnings.warn(f"GridSearch: {params} failed and scores {self.error_score}: "
                              f"{type(error).__name__}: {error}", FastMFWarning, stacklevel=2)
                rows.append({**params, f"mean_{key}": float(self.error_score),
                             f"std_{key}": float("nan"), "mean_fit_time": float("nan")})
                continue
            rows.append({**params, f"mean_{key}": float(np.mean(scores[key])),
                         f"std_{key}": float(np.std(scores[key], ddof=1)),
                         "mean_fit_time": float(np.mean(scores["fit_time"]))})
        sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
        if all(np.isnan(row[f"mean_{key}"]) for row in rows):
            raise ValueError(f"every one of the {len(rows)} combinations failed; see the "
                             f"warnings for why")
        order = np.argsort([sign * row[f"mean_{key}"] for row in rows], kind="stable")
        for rank, position in enumerate(order, start=1):
            rows[position]["rank"] = rank
        best = rows[order[0]]
        self.best_params_ = {name: best[name] for name in self._combinations()[order[0]]}
        self.best_score_ = best[f"mean_{key}"]
        try:
            import pandas as pd
            self.results_ = pd.DataFrame(rows)
        except ImportError:
            self.results_ = rows
        if self.refit:
            self.best_model_ = type(self.model)(**{**self.model.get_params(),
                                                   **self.best_params_}).fit(data)
        return self
