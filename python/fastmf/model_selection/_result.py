"""What a search returns: :class:`TuneResult`, its trials table and its failed trials."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .._optional import require

if TYPE_CHECKING:
    import pandas as pd

    from .._typing import AnyModel, Trial

class TuneResult:
    """What :func:`tune` and :func:`tune_function` return.

    Attributes
    ----------
    best_params : dict
        The best trial's parameters (the searched ones only).
    best_score : float
        Its validation score, at the most iterations any trial reached.
    best_model : model or None
        ``tune(refit=True)``: a model with the best parameters fitted on all the training
        data; else None.
    metric : str
        The score's name, e.g. ``"ndcg@10"`` or ``"rmse"``.
    trials : list of dict
        A row per trial, in the order they were drawn: ``trial``, the parameters,
        ``iterations`` (the most it was trained for), ``score`` (at those iterations; NaN
        for a failed trial), ``seconds`` (all its fits and scorings) and ``error`` (None,
        or why the trial failed: its exception as ``"ModelFitError: Cholesky failed ..."``,
        or a score that is not a finite number).
    fits : float
        The cost of the search in full fits (a fit for ``iterations`` counts
        ``iterations / max_iterations``).
    seconds : float
    stopped_by : str
        ``"budget"`` or ``"time_budget"``.
    """

    best_model: AnyModel | None

    def __init__(self, trials: list[Trial], metric: str, lower_is_better: bool, fits: float,
                 seconds: float, stopped_by: str, strategy: str) -> None:
        self.trials, self.metric, self.fits, self.seconds = trials, metric, fits, seconds
        self.stopped_by, self.strategy = stopped_by, strategy
        self._sign = 1.0 if lower_is_better else -1.0
        ranked = self.ranked()
        if not ranked or not math.isfinite(ranked[0]["score"]):
            raise ValueError(f"every trial failed ({len(trials)} in all): "
                             f"{_first_errors(trials)}; fix what these say (a range of the "
                             f"space that cannot fit, such as a regularization near 0, or the "
                             f"data) and search again")
        best = ranked[0]
        self.best_params = {name: best[name] for name in self._param_names()}
        self.best_score = best["score"]
        self.best_model = None

    def _param_names(self) -> list[str]:
        return [n for n in self.trials[0] if n not in _ROW_FIELDS]

    def failed(self) -> list[Trial]:
        """The failed trials: those whose fit or scoring raised, or scored NaN or an
        infinity; each row's ``error`` says why.

        Returns
        -------
        list of dict
            Rows of ``trials``, in trial order.

        Examples
        --------
        >>> from fastmf.model_selection import tune_function
        >>> def fit_and_score(params, iterations):
        ...     if params["x"] > 5:
        ...         raise ArithmeticError(f"no fit at x = {params['x']:.1f}")
        ...     return -abs(params["x"] - 2.0)
        >>> result = tune_function(fit_and_score, {"x": [1.0, 2.0, 9.0]}, max_iterations=1,
        ...                        budget=6, strategy="random", seed=0)
        >>> [row["error"] for row in result.failed()][:1]
        ['ArithmeticError: no fit at x = 9.0']
        >>> result.best_params
        {'x': 2.0}
        """
        return [row for row in self.trials if row["error"] is not None]

    def ranked(self) -> list[Trial]:
        """The trials best first: the most iterations reached, then the best score; failed
        trials last."""
        def key(row: Trial) -> tuple[bool, int, float, int]:
            failed = not math.isfinite(row["score"])
            return (failed, -row["iterations"], 0.0 if failed else self._sign * row["score"],
                    row["trial"])
        return sorted(self.trials, key=key)

    def to_dataframe(self) -> pd.DataFrame:
        """The trials as a pandas DataFrame, in trial order, with a ``rank`` column (the
        ``error`` column is None for a trial that did not fail)."""
        pd = require("pandas", "to_dataframe()")
        rank = {row["trial"]: position for position, row in enumerate(self.ranked(), start=1)}
        frame = pd.DataFrame(self.trials)
        frame["rank"] = frame["trial"].map(rank)
        return frame

    def __repr__(self) -> str:
        return (f"TuneResult({len(self.trials)} trials, best {self.metric} "
                f"{self.best_score:.4f}, best_params={self.best_params})")

    def __str__(self) -> str:
        return self.to_string()

    def to_string(self, max_rows: int | None = 25) -> str:
        """The table that ``print`` shows: the trials best first, failed ones last with
        the start of their error.

        Parameters
        ----------
        max_rows : int or None, default 25
            The rows shown (a last line counts the others); None: every trial.

        Returns
        -------
        str

        Examples
        --------
        >>> from fastmf.model_selection import tune_function
        >>> result = tune_function(lambda params, iterations: 1 / params["x"], {"x": [0, 2]},
        ...                        max_iterations=1, budget=2, strategy="random", refine=0,
        ...                        seed=1)
        >>> print(result.to_string(max_rows=None))
        random search: 2 trials, 2.0 fits in ... s (stopped by budget); best score 0.5000; 1 failed
        rank  trial  x  iterations   score  seconds  error
           1      1  2           1  0.5000     ...
           2      0  0           1       -     ...  ZeroDivisionError: division by zero
        """
        rows, names, failed = self.ranked(), self._param_names(), len(self.failed())
        shown = rows if max_rows is None else rows[:max_rows]
        header = ["rank", "trial", *names, "iterations", self.metric, "seconds"]
        header += ["error"] if failed else []
        cells = [[str(position), str(row["trial"]), *(_cell(row[n]) for n in names),
                  str(row["iterations"]),
                  "-" if row["error"] else f"{row['score']:.4f}", f"{row['seconds']:.2f}"]
                 + ([_short(row["error"] or "", 72)] if failed else [])
                 for position, row in enumerate(shown, start=1)]
        widths = [max(len(line[j]) for line in [header, *cells]) for j in range(len(header))]
        lines = [f"{self.strategy} search: {len(rows)} trials, {self.fits:.1f} fits in "
                 f"{self.seconds:.1f} s (stopped by {self.stopped_by}); best {self.metric} "
                 f"{self.best_score:.4f}" + (f"; {failed} failed" if failed else "")]
        lines += ["  ".join(cell.ljust(w) if name == "error" else cell.rjust(w)
                            for cell, w, name in zip(line, widths, header))
                  for line in [header, *cells]]
        if len(rows) > len(shown):
            hidden = sum(row["error"] is not None for row in rows[len(shown):])
            lines.append(f"... {len(rows) - len(shown)} more"
                         + (f", {hidden} of them failed" if hidden else "")
                         + " (all in .trials or .to_dataframe())")
        return "\n".join(line.rstrip() for line in lines)


_ROW_FIELDS = ("trial", "iterations", "score", "seconds", "error")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_errors(trials: list[Trial], count: int = 3) -> str:
    """The first ``count`` different errors of the trials, each with its first trial."""
    first: dict[str, int] = {}
    for row in trials:
        if row["error"] is not None:
            first.setdefault(row["error"], row["trial"])
    shown = [f"trial {t}: {error}" for error, t in list(first.items())[:count]]
    more = len(first) - len(shown)
    return "; ".join(shown) + (f"; and {more} other error{'s' * (more > 1)}" if more else "")


def _cell(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
