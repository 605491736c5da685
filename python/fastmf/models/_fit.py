"""The fit loop that every model's ``fit`` runs (``MatrixFactorizationBase.fit``), through the
model's hooks: the checks, ``_start``, then ``_iterate`` and ``_evaluate`` per iteration with
the history, early stopping, progress bar and callbacks, and at the end (or on Ctrl-C, or
after a diverged epoch that was undone) ``_check_finite`` and ``_publish``; and the errors
of a fit that the models share.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from .._locking import lock_of
from ..data import as_interactions
from ..exceptions import ModelFitError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import NDArray
    from tqdm.auto import tqdm

    from .._typing import Callback, InteractionsLike, Record
    from ..data import Interactions
    from ._base import MatrixFactorizationBase
    from ._params import Params

logger = logging.getLogger("fastmf")


def run_fit(model: MatrixFactorizationBase, train: InteractionsLike,
            validation: InteractionsLike | None, callbacks: Sequence[Callback]) -> None:
    """``model.fit(train, validation, callbacks)``: every check before anything changes, then
    the iterations; the fitted state replaces the model's when they end, or keeps the
    iterations done on Ctrl-C and after an epoch that was undone (``keeps_last_state``)."""
    p = model._check_params()
    data = model._train_data(train)
    val = None if validation is None else as_interactions(validation, "validation")
    for position, fn in enumerate(callbacks):
        if not callable(fn):
            raise TypeError(f"callbacks[{position}] must be callable, got {type(fn).__name__}")
    if p.early_stopping is not None and val is None:
        raise ValueError("early_stopping needs validation data: pass fit(train, validation=...)")
    if p.early_stopping is not None:
        _check_watchable(data, val)  # type: ignore[arg-type]  # not None: checked above
    state = model._start(data, val, p)
    history: list[Record] = []
    bar = _progress_bar(type(model).__name__, p.iterations, p.verbose)
    try:
        best = _iterations(model, state, p, val is not None, callbacks, history, bar)
    except KeyboardInterrupt:
        if history:
            _finish(model, state, history, None)
            logger.warning("fit interrupted after %d iterations; the model keeps them",
                           len(history))
        raise
    except ModelFitError as error:
        # A model that restored its last finite state before raising keeps it.
        if history and getattr(error, "keeps_last_state", False):
            _finish(model, state, history, None)
        raise
    finally:
        if bar is not None:
            bar.close()
    _finish(model, state, history, best)


def _iterations(model: MatrixFactorizationBase, state: Any, p: Params, watch: bool,
                callbacks: Sequence[Callback], history: list[Record], bar: tqdm[Any] | None
                ) -> Any:
    """Run the iterations, appending each one's record to ``history`` as it completes, until
    ``p.iterations``, early stopping (``watch``: there is validation data) or a callback
    stops them. Returns the state to return to (early stopping), or None."""
    best, best_score, waited = None, np.inf, 0
    for it in range(p.iterations):
        started = time.perf_counter()
        model._iterate(state, p)
        record = {"iteration": it + 1, **model._evaluate(state, p),
                  "seconds": time.perf_counter() - started}
        history.append(record)
        _show(bar, record)
        # a model that watches nothing (_monitor None) finds no score
        score = record.get(model._monitor) if watch else None  # type: ignore[arg-type]
        if score is not None and model._monitor_mode == "max":
            score = -score
        if score is not None and score < best_score:
            best_score, waited = score, 0
            if p.early_stopping is not None:       # keep the best to return to
                best = model._snapshot(state)
        elif p.early_stopping is not None:
            waited += 1
            if waited >= p.early_stopping:
                logger.info("early stop after %d iterations: %s did not improve for %d",
                            len(history), model._monitor, waited)
                break
        if any(fn(record) for fn in callbacks):
            break
    return best


def _finish(model: MatrixFactorizationBase, state: Any, history: list[Record], best: Any
            ) -> None:
    """Publish ``best`` (or, when None, ``state``) and the history, under the model's lock:
    serving goes on from the earlier fit until then."""
    def publish() -> None:
        chosen = state if best is None else best
        model._check_finite(chosen)
        model._publish(chosen)
        model.history_ = history
        model.n_iter_ = len(history)
    lock_of(model).write(publish)


def _progress_bar(name: str, iterations: int, verbose: bool) -> tqdm[Any] | None:
    if not verbose:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=iterations, desc=name, unit="it", leave=True)


def _show(bar: tqdm[Any] | None, record: Record) -> None:
    if bar is not None:
        keys = [k for k in ("train_rmse", "val_rmse", "val_ndcg@10", "loss") if k in record]
        bar.set_postfix({k: f"{record[k]:.4f}" for k in keys[:2]}, refresh=False)
        bar.update(1)


class LastFiniteState:
    """Copies of the arrays that an epoch updates in place, refreshed before each epoch, so
    that an epoch which diverges is undone and the model keeps the state before it."""

    def __init__(self, arrays: Sequence[NDArray[Any]]) -> None:
        self.arrays = arrays
        self.saved = [a.copy() for a in arrays]

    def save(self) -> None:
        for saved, array in zip(self.saved, self.arrays):
            np.copyto(saved, array)

    def restore(self, message: str) -> ModelFitError:
        """Put the saved arrays back; the ModelFitError to raise, which tells ``fit`` to keep
        the epochs before (``keeps_last_state``)."""
        for saved, array in zip(self.saved, self.arrays):
            np.copyto(array, saved)
        error = ModelFitError(message)
        error.keeps_last_state = True
        return error


def cholesky_error(side: str, index: int, advice: str, raw_id: np.generic | None = None
                   ) -> ModelFitError:
    """The error for a row whose Cholesky factorization failed: named by its raw id and
    index in a fit, by its position in a fold-in or partial fit (``raw_id`` None)."""
    row = (f"the {side} at position {index}" if raw_id is None
           else f"{side} {raw_id.item()!r} (index {index})")
    return ModelFitError(f"Cholesky failed for {row}; increase {advice}")


def _check_watchable(data: Interactions, val: Interactions) -> None:
    """Early stopping watches ``val``: at least one of its pairs must have both its user and
    its item in the training ``data``, or there is nothing to watch."""
    users = data.user_ids.index(val.user_ids.ids)[val.uidx] >= 0
    items = data.item_ids.index(val.item_ids.ids)[val.iidx] >= 0
    if not (users & items).any():
        raise ValueError(f"early_stopping watches the validation data, but none of its "
                         f"{val.nnz} pairs has both its user and its item in the training data "
                         f"({int(users.sum())} have a known user, {int(items.sum())} a known "
                         f"item); carve the validation part out of the training data, e.g. "
                         f"fastmf.train_test_split(train, strategy='per_user')")
