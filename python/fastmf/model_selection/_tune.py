"""fastmf.tune: a random search or successive halving over a model's parameters, then random
steps refining the best, scored on a validation part of the training data; tune_function
runs the same search for any fit-and-score callable. The spaces live in ``_space``, the
result in ``_result``."""
from __future__ import annotations

import logging
import math
import numbers
import time
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..data import Interactions, as_interactions
from ._search import LOWER_IS_BETTER, _metric_key, _metric_names, _score
from ._result import TuneResult, _short
from ._space import checked_space, default_space, draw, perturb
from ._split import split_parts

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Literal

    from tqdm.auto import tqdm

    from .._typing import AnyModel, InteractionsLike, ScoreName, Seed, Space, Trial

    #: (parameters, iterations) -> a validation score.
    FitAndScore = Callable[[dict[str, Any], int], float]
    Params = dict[str, Any]

logger = logging.getLogger("fastmf")

STRATEGIES = ("halving", "random")
_FIRST_STEP, _SHRINK = 1 / 8, 0.85      # refinement: the first step, as a share of a range

def tune(model: AnyModel, train: InteractionsLike, *, budget: int = 16,
         time_budget: float | None = None, space: Space | None = None,
         metric: ScoreName | None = None, k: int = 10, validation: float | Interactions = 0.2,
         strategy: Literal["halving", "random"] = "halving", factor: int = 3,
         refine: float = 0.5, seed: Seed = None, refit: bool = True, verbose: bool = True
         ) -> TuneResult:
    """Search a model's parameters on a validation part of ``train``; refit the best.

    Candidates are drawn at random from ``space``; the first is the model's own values,
    which halving fits in full whatever their early scores, so that the search never ends
    worse on validation than the model as given.
    ``strategy="halving"`` (successive halving, as scikit-learn's HalvingRandomSearchCV
    over iterations) fits many candidates for ``max / factor²`` iterations, the best
    ``1 / factor`` of them for ``max / factor``, the best of those for the model's full
    ``iterations`` (``epochs``); ``"random"`` fits every candidate in full. Then a share
    ``refine`` of the budget refines the best: each step fits in full a random
    perturbation of the best candidate so far, and keeps it when it scores better (a (1+1)
    evolution strategy; steps start at an eighth of each range, in log scale for a
    log-uniform one, and shrink after each failure). Random candidates find the good
    region, the steps walk to its best corner: on MovieLens 100K, 12 fits of halving and
    12 of refinement found better parameters than 24 of halving (the user guide's
    "Cross-validation and tuning"). Either
    way the search costs at most ``budget`` full fits, so strategies compare at equal cost.
    Every fit uses the same model seed, so candidates differ only by their parameters.

    Parameters
    ----------
    model : a fastmf model
        The base parameters; its ``iterations`` (``epochs``) is the full fit.
    train : Interactions or (users, items[, ratings]) tuple
        Nothing else is read: the validation part is carved out of it.
    budget : int, default 16
        The search's cost in full fits. Halving spends it on about ``3 * budget`` candidates
        (``factor`` 3), random search on ``budget`` candidates.
    time_budget : float, optional
        Seconds after which no new fit starts; the best trial so far wins.
    space : dict, optional
        Parameter name -> a list of values (drawn uniformly), ``(low, high)`` (uniform;
        integers when both are ints) or ``(low, high, "log")`` (log-uniform). Default:
        :func:`default_space`. For an ImplicitALS with ``regularization_exponent`` ν the
        default draws the regularization of the average user, λ̄ ∈ [0.01, 1000], and sets
        ``regularization = λ̄ / (mean n_u + α0 n_items)^ν``, so that λ̄ means the same
        whatever ν is drawn.
    metric : str, optional
        ``"rmse"`` (default for explicit models) or ``"mae"``, lower is better; or a
        ranking metric at ``k`` (default ``"ndcg"`` for implicit models), higher is better.
    k : int, default 10
    validation : float or Interactions, default 0.2
        A share of each user's ratings held out of ``train`` (``train_test_split``
        ``strategy="per_user"``, seeded), or a validation set.
    strategy : {"halving", "random"}, default "halving"
    factor : int, default 3
        Halving keeps the best ``1 / factor`` at each step; the ladder of iterations is
        ``max / factor²``, ``max / factor``, ``max`` (at least 1).
    refine : float in [0, 1), default 0.5
        The share of ``budget`` (rounded down to whole fits) spent refining the best
        candidate; 0: none.
    seed : int, optional
        Fixes the validation split, the candidates and (when the model has none) the
        model seed: the same seed gives the same search, up to the multithreaded SGD and
        BPR fits, which are bit-repeatable only with ``num_threads=1``.
    refit : bool, default True
        Fit the best parameters on all of ``train`` into ``best_model``.
    verbose : bool, default True
        A progress bar over the budget.

    Returns
    -------
    TuneResult
        ``best_model``, ``best_params``, ``best_score``, ``trials``; ``print`` shows a
        table, ``to_dataframe()`` one for pandas.

    Raises
    ------
    ValueError
        An argument is out of range, or every trial failed (the message names the first
        errors).

    Notes
    -----
    A candidate whose fit or scoring raises (any exception but ``KeyboardInterrupt``:
    a ``ModelFitError`` from a failed Cholesky, a divergence) or scores NaN or an
    infinity is a failed trial: its row records the reason in ``error``, it is never
    promoted nor best, and the search goes on. Nothing is printed while searching; at
    the end one record on the "fastmf" logger (level WARNING) counts the failures.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> model = fastmf.ALS(factors=8, iterations=9, seed=0, verbose=False)
    >>> result = fastmf.tune(model, data, budget=4, seed=0, verbose=False)
    >>> sorted(result.best_params), result.metric
    (['bias_regularization', 'regularization'], 'rmse')
    >>> result.best_model.regularization == result.best_params["regularization"]
    True
    """
    data = as_interactions(train, "train")
    metric = metric or ("rmse" if model._task == "rating" else "ndcg")
    _metric_names(model, [metric])
    k = v.check_int("k", k, minimum=1)
    rng = np.random.default_rng(v.check_seed(seed))
    params = model.get_params()
    scaled = space is None and "regularization_exponent" in params
    space = checked_space(default_space(model) if space is None else space, params,
                           type(model).__name__)
    steps = model._iterations_param
    if strategy == "halving" and steps in space:
        raise ValueError(f"space names {steps!r}, which strategy='halving' varies itself; "
                         f"leave it out or use strategy='random'")
    split_seed, model_seed = (int(s) for s in rng.integers(2**31, size=2))
    fit_part, val = _validation_split(data, validation, split_seed)
    base = {**params, "verbose": False}
    base["seed"] = model_seed if params.get("seed") is None else params["seed"]
    n_u = fit_part.nnz / fit_part.n_users

    def scale(values: Params) -> float:     # λ drawn for the average user: see the docstring
        return (n_u + values.get("unobserved_weight", params["unobserved_weight"])
                * fit_part.n_items) ** values.get("regularization_exponent",
                                                  params["regularization_exponent"])

    def candidate(drawn: Params) -> Params:
        if not scaled:
            return drawn
        return {**drawn, "regularization": drawn["regularization"] / scale(drawn)}

    def drawn_of(values: Params) -> Params:         # candidate's inverse
        if not scaled:
            return values
        return {**values, "regularization": values["regularization"] * scale(values)}

    def fit_and_score(values: Params, iterations: int) -> float:
        fitted = type(model)(**{**base, steps: iterations, **values}).fit(fit_part)
        return _score(fitted, fit_part, val, [metric], k)[metric]

    initial = {name: params[name] for name in space}
    result = _run(fit_and_score, space, candidate, v.check_int(steps, params[steps], minimum=1),
                  budget=budget, time_budget=time_budget, strategy=strategy, factor=factor,
                  refine=refine, initial=initial, rng=rng,
                  lower_is_better=metric in LOWER_IS_BETTER, metric=_metric_key(metric, k),
                  verbose=verbose, drawn_of=drawn_of)
    if refit:
        best = type(model)(**{**params, **result.best_params, "seed": base["seed"],
                              "verbose": bool(verbose and params.get("verbose", True))})
        result.best_model = best.fit(data).set_params(verbose=params.get("verbose", True))
    return result


def tune_function(fit_and_score: FitAndScore, space: Space, max_iterations: int, *,
                  budget: int = 16, time_budget: float | None = None,
                  strategy: Literal["halving", "random"] = "halving", factor: int = 3,
                  refine: float = 0.5, initial: Mapping[str, Any] | None = None,
                  seed: Seed = None, lower_is_better: bool = False, metric: str = "score",
                  verbose: bool = False) -> TuneResult:
    """The search of :func:`tune` for any model: ``fit_and_score(params, iterations) ->
    float`` fits a candidate for ``iterations`` and returns its validation score.

    ``space``, ``budget``, ``time_budget``, ``strategy``, ``factor``, ``refine`` and
    ``seed`` are as in :func:`tune`; ``max_iterations`` is the full fit; ``initial`` (a
    dict of the parameters of ``space``), when given, is the first candidate, fitted in
    full. Returns a :class:`TuneResult` without a model. A candidate whose
    ``fit_and_score`` raises or returns NaN or an infinity is a failed trial, as in
    :func:`tune`.

    Examples
    --------
    >>> from fastmf.model_selection import tune_function
    >>> def fit_and_score(params, iterations):        # best at x = 2, sharper with iterations
    ...     return -abs(params["x"] - 2.0) * iterations
    >>> result = tune_function(fit_and_score, {"x": (0.1, 10.0, "log")}, max_iterations=9,
    ...                        budget=6, seed=0)
    >>> len(result.trials), bool(abs(result.best_params["x"] - 2.0) < 0.1)
    (12, True)
    """
    space = checked_space(space, None, "fit_and_score")
    return _run(fit_and_score, space, lambda values: values,
                v.check_int("max_iterations", max_iterations, minimum=1), budget=budget,
                time_budget=time_budget, strategy=strategy, factor=factor, refine=refine,
                initial=initial, rng=np.random.default_rng(v.check_seed(seed)),
                lower_is_better=lower_is_better, metric=metric, verbose=verbose)


def _run(fit_and_score: FitAndScore, space: Space, candidate: Callable[[Params], Params],
         max_iterations: int, *, budget: int, time_budget: float | None, strategy: str,
         factor: int, refine: float, initial: Mapping[str, Any] | None,
         rng: np.random.Generator, lower_is_better: bool, metric: str, verbose: bool,
         drawn_of: Callable[[Params], Params] | None = None) -> TuneResult:
    """Draw the candidates, run the rungs, refine the best: the search both entry points
    share. ``candidate`` maps values drawn from ``space`` to the parameters fitted,
    ``drawn_of`` back (default: both the identity)."""
    budget = v.check_int("budget", budget, minimum=1)
    v.check_choice("strategy", strategy, STRATEGIES)
    factor = v.check_int("factor", factor, minimum=2)
    refine = v.check_float("refine", refine, minimum=0, maximum=1)
    if refine >= 1:
        raise ValueError(f"refine must be a share of the budget < 1, got {refine}")
    if time_budget is not None:
        time_budget = v.check_float("time_budget", time_budget, minimum=0, strict_minimum=True)
    n_refine = min(int(budget * refine), budget - 1)
    ladder, n_first = _plan(strategy, budget - n_refine, max_iterations, factor,
                            initial is not None)
    drawn = [draw(space, rng) for _ in range(n_first - (initial is not None))]
    candidates = ([dict(initial)] if initial is not None else []) + [candidate(d) for d in drawn]
    if initial is not None:
        drawn.insert(0, (drawn_of or dict)(dict(initial)))
    search = _Search(fit_and_score, candidate, drawn, candidates, max_iterations, time_budget,
                     1.0 if lower_is_better else -1.0, _bar(budget, verbose))
    try:
        stopped_by = search.rungs(ladder, factor, keep_first=initial is not None)
        full = [t for t, row in enumerate(search.trials)
                if row["iterations"] == max_iterations and math.isfinite(row["score"])]
        if stopped_by == "budget" and full and n_refine:
            best = min(full, key=lambda t: (search.sign * search.trials[t]["score"], t))
            if not _refine(search.fit_new, space, rng, drawn, search.trials, best, n_refine,
                           search.sign, search.late):
                stopped_by = "time_budget"
    finally:
        if search.bar is not None:
            search.bar.close()
    name = f"{strategy} + refine" if n_refine else strategy
    result = TuneResult(search.trials, metric, lower_is_better, search.fits,
                        time.perf_counter() - search.started, stopped_by, name)
    failed = result.failed()
    if failed:        # once, after the bar: each failure is in its trial's row
        logger.warning("tune: %d of %d trials failed, the first (trial %d) with %s; the "
                       "trials table has the error of each", len(failed), len(search.trials),
                       failed[0]["trial"], failed[0]["error"])
    logger.info("tune: %s", repr(result))
    return result


class _Search:
    """One search under way: the candidates (with their drawn values) and their trials,
    the fits done (in full fits), the progress bar and the clock of ``time_budget``.
    ``sign`` is 1 when lower scores are better, else -1."""

    def __init__(self, fit_and_score: FitAndScore, candidate: Callable[[Params], Params],
                 drawn: list[Params], candidates: list[Params], max_iterations: int,
                 time_budget: float | None, sign: float, bar: tqdm[Any] | None) -> None:
        self.fit_and_score, self.candidate = fit_and_score, candidate
        self.drawn, self.candidates = drawn, candidates
        self.trials = [_row(t, values) for t, values in enumerate(candidates)]
        self.max_iterations, self.time_budget, self.sign = max_iterations, time_budget, sign
        self.started, self.fits, self.bar = time.perf_counter(), 0.0, bar

    def late(self) -> bool:
        return (self.time_budget is not None
                and time.perf_counter() - self.started >= self.time_budget)

    def fit(self, t: int, iterations: int) -> None:
        """Fit and score candidate ``t`` for ``iterations``, into its trial."""
        _evaluate(self.fit_and_score, self.trials[t], self.candidates[t], iterations)
        self.fits += iterations / self.max_iterations
        if self.bar is not None:
            self.bar.update(iterations / self.max_iterations)

    def rungs(self, ladder: list[int], factor: int, keep_first: bool) -> str:
        """Fit the candidates on each rung of ``ladder``, keeping the best 1/``factor`` of
        them (and the first with ``keep_first``) for the next. Returns what stopped the
        search: "budget" (it ran to the end) or "time_budget"."""
        alive, quota = list(range(len(self.trials))), len(self.trials)   # quota: as _plan counts
        for level, iterations in enumerate(ladder):
            for t in alive:
                if self.late() and self.fits:
                    return "time_budget"
                self.fit(t, iterations)
            if level == len(ladder) - 1:
                break
            scored = [t for t in alive if math.isfinite(self.trials[t]["score"])]
            scored.sort(key=lambda t: (self.sign * self.trials[t]["score"], t))
            quota = max(1, quota // factor)
            alive = scored[:quota]                                # best first
            if keep_first and 0 not in alive and 0 in scored:
                alive.append(0)            # the starting point is always fitted in full
        return "budget"

    def fit_new(self, raw: Params) -> int:
        """A refinement step: the drawn values ``raw`` fitted in full as a new trial."""
        self.drawn.append(raw)
        self.candidates.append(self.candidate(raw))
        self.trials.append(_row(len(self.trials), self.candidates[-1]))
        self.fit(len(self.trials) - 1, self.max_iterations)
        return self.trials[-1]["trial"]


def _row(trial: int, values: Mapping[str, Any]) -> Trial:
    """A trial's row before its first fit."""
    return {"trial": trial, **values, "iterations": 0, "score": math.nan, "seconds": 0.0,
            "error": None}


def _refine(fit_new: Callable[[Params], int], space: Space, rng: np.random.Generator,
            drawn: list[Params], trials: list[Trial], best: int, steps: int, sign: float,
            late: Callable[[], bool]) -> bool:
    """Up to ``steps`` random steps from trial ``best`` (its drawn values in ``drawn``), each
    kept when it scores better; the step shrinks after each failure. ``fit_new(raw)`` fits
    the drawn values ``raw`` in full as a new trial and returns its index. Returns False
    when ``late()`` stopped it."""
    step = _FIRST_STEP
    for _ in range(steps):
        if late():
            return False
        t = fit_new(perturb(space, drawn[best], step, rng))
        if sign * trials[t]["score"] < sign * trials[best]["score"]:    # NaN: False
            best = t
        else:
            step *= _SHRINK
    return True


def _evaluate(fit_and_score: FitAndScore, row: Trial, values: Mapping[str, Any],
              iterations: int) -> None:
    """Fit and score one candidate for ``iterations``, into its row. A failed trial (an
    exception, a score that is not a finite number) scores NaN, with the reason in its
    ``error``; nothing is printed, so that the progress bar stays whole."""
    started = time.perf_counter()
    error = None
    try:
        score = float(fit_and_score(dict(values), iterations))
        if not math.isfinite(score):
            error = f"score {score}: not a finite number"
    except Exception as failure:          # a failed candidate; Ctrl-C still stops the search
        first_line = (str(failure).strip().splitlines() or [""])[0]
        error = _short(f"{type(failure).__name__}: {first_line}".rstrip(": "), 200)
    row.update(iterations=iterations, score=math.nan if error else score, error=error,
               seconds=row["seconds"] + time.perf_counter() - started)


def _plan(strategy: str, budget: int, max_iterations: int, factor: int,
          keep_first: bool = False) -> tuple[list[int], int]:
    """(ladder of iterations, number of first candidates) within ``budget`` full fits;
    ``keep_first``: the first candidate climbs every rung whatever its score."""
    if strategy == "random":
        return [max_iterations], budget
    ladder = sorted({max(1, round(max_iterations / factor ** j)) for j in (2, 1, 0)})

    def cost(n: int) -> float:
        total = keep_first * sum(iterations / max_iterations for iterations in ladder[1:])
        for iterations in ladder:
            total, n = total + n * iterations / max_iterations, max(1, n // factor)
        return total
    n = 1
    while cost(n + 1) <= budget:
        n += 1
    if cost(n) > budget:            # too small a budget for a ladder: one full fit
        return [max_iterations], budget
    return ladder, n


def _validation_split(data: Interactions, validation: object, seed: int
                      ) -> tuple[Interactions, Interactions]:
    if isinstance(validation, Interactions):
        return data, validation
    if isinstance(validation, bool) or not isinstance(validation, numbers.Real):
        raise TypeError(f"validation must be a share of each user's ratings (a float in (0, 1)) "
                        f"or an Interactions, got {type(validation).__name__}")
    return split_parts(data, validation, seed, "per_user")


def _bar(budget: int, verbose: bool) -> tqdm[Any] | None:
    if not verbose:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=budget, desc="tune", unit="fit",
                bar_format="{l_bar}{bar}| {n:.1f}/{total} fits [{elapsed}<{remaining}]")
