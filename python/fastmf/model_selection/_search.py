"""Cross-validation and grid search over the folds of :func:`k_fold`."""
from __future__ import annotations

import logging
import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..data import as_interactions
from ..exceptions import FastMFWarning
from ..metrics import METRICS as RANKING_METRICS
from ..metrics._accuracy import RATING_METRICS
from ._split import k_fold

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Literal, TypeVar

    import pandas as pd

    from .._typing import AnyModel, InteractionsLike, ScoreName, Seed
    from ..data import Interactions

    _Self = TypeVar("_Self", bound="GridSearch")
    #: A parameter grid: name -> the values to try, or several such grids.
    ParamGrid = dict[str, Sequence[Any]] | Sequence[dict[str, Sequence[Any]]]

logger = logging.getLogger("fastmf")

LOWER_IS_BETTER = ("rmse", "mae")


class CVResults(dict):  # type: ignore[type-arg]  # str -> an array of a value per fold
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

    def mean(self) -> dict[str, float]:
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

    def std(self) -> dict[str, float]:
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

    def __str__(self) -> str:
        folds = len(next(iter(self.values())))
        header = ["", *(f"fold {f + 1}" for f in range(folds)), "mean", "std"]
        mean, std = self.mean(), self.std()
        rows = [[key, *(f"{x:.4f}" for x in values), f"{mean[key]:.4f}", f"{std[key]:.4f}"]
                for key, values in self.items()]
        widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
        return "\n".join("  ".join(cell.rjust(w) if j else cell.ljust(w)
                                   for j, (cell, w) in enumerate(zip(row, widths)))
                         for row in [header, *rows])


def _metric_names(model: AnyModel, metrics: str | Sequence[str] | None
                  ) -> tuple[str, ...]:
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


def _score(model: AnyModel, train: Interactions, test: Interactions,
           metrics: Sequence[str], k: int) -> dict[str, float]:
    from .. import metrics as m

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


def _metric_key(name: str, k: int) -> str:
    return name if name in RATING_METRICS or name == "auc" else f"{name}@{k}"


def cross_validate(model: AnyModel, data: InteractionsLike, folds: int = 5,
                   metrics: ScoreName | Sequence[ScoreName] | None = None, seed: Seed = None,
                   k: int = 10, unseen: Literal["drop", "keep"] = "drop") -> CVResults:
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

    results_: pd.DataFrame | list[dict[str, Any]]
    best_params_: dict[str, Any]
    best_score_: float
    best_model_: AnyModel

    def __init__(self, model: AnyModel, param_grid: ParamGrid, cv: int = 5,
                 metric: ScoreName | None = None, seed: Seed = None, k: int = 10,
                 refit: bool = True, error_score: Literal["raise"] | float = np.nan) -> None:
        self.model, self.param_grid, self.cv, self.metric = model, param_grid, cv, metric
        self.seed, self.k, self.refit, self.error_score = seed, k, refit, error_score

    def _combinations(self) -> list[dict[str, Any]]:
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

    def fit(self: _Self, data: InteractionsLike) -> _Self:
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
