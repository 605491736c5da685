"""The common base of fastmf models: parameters, the fit loop, history, early stopping,
progress, fitted checks and raw-id lookups. Model classes add the math."""
import inspect
import logging
import time

import numpy as np

from .. import _validation as v
from ..data import as_interactions
from ..exceptions import ModelFitError, NotFittedError, UnknownIdError

logger = logging.getLogger("fastmf")


class MatrixFactorizationBase:
    """Shared machinery; subclasses implement ``_check_params``, ``_start``, ``_iterate``,
    ``_evaluate``, ``_snapshot`` and ``_publish``."""

    _monitor = None          # history key that early stopping watches (lower is better)
    _iterations_param = "iterations"     # the parameter that counts iterations ("epochs")

    # -- parameters (scikit-learn style, from the __init__ signature) -----------------
    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]

    def get_params(self, deep=True):
        """Parameters of this model as a dict (what ``__init__`` was given)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set parameters by name; unknown names raise ``ValueError``. Returns self."""
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

        Parameters
        ----------
        train : Interactions or (users, items, ratings) tuple
        validation : Interactions or tuple, optional
            Scored after every iteration into ``history_``; early stopping watches it.
        callbacks : sequence of callables
            Each is called as ``callback(record)`` after every iteration with that
            iteration's ``history_`` entry; a true return value stops training.

        Returns
        -------
        self

        Notes
        -----
        Ctrl-C (``KeyboardInterrupt``) between iterations keeps the model from the last
        completed iteration and then propagates, so an interrupted model is usable.
        """
        p = self._check_params()
        data = as_interactions(train, "train")
        val = None if validation is None else as_interactions(validation, "validation")
        for position, fn in enumerate(callbacks):
            if not callable(fn):
                raise TypeError(f"callbacks[{position}] must be callable, got {type(fn).__name__}")
        if p.early_stopping is not None and val is None:
            raise ValueError("early_stopping needs validation data: pass fit(train, validation=...)")
        state = self._start(data, val, p)
        history, best, best_score, waited = [], None, np.inf, 0
        done = 0
        try:
            for it in self._progress(p.iterations, p.verbose):
                started = time.perf_counter()
                self._iterate(state, p)
                record = {"iteration": it + 1, **self._evaluate(state, p),
                          "seconds": time.perf_counter() - started}
                history.append(record)
                done = it + 1
                self._show(record)
                score = record.get(self._monitor) if val is not None else None
                if score is not None and score < best_score:
                    best_score, best, waited = score, self._snapshot(state), 0
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
        self._finish(state, history, best if p.early_stopping is not None else None)
        return self

    def _finish(self, state, history, best):
        if best is not None:
            state = best
        self._check_finite(state)
        self._publish(state)
        self.history_ = history
        self.n_iter_ = len(history)

    def _progress(self, iterations, verbose):
        self._bar = None
        if not verbose:
            return range(iterations)
        from tqdm.auto import tqdm
        self._bar = tqdm(range(iterations), desc=type(self).__name__, unit="it", leave=True)
        return self._bar

    def _show(self, record):
        if self._bar is not None:
            keys = [k for k in ("train_rmse", "val_rmse", "loss") if k in record]
            self._bar.set_postfix({k: f"{record[k]:.4f}" for k in keys[:2]}, refresh=False)

    # -- fitted state and ids -------------------------------------------------------
    def _check_is_fitted(self):
        if not hasattr(self, "item_factors_"):
            raise NotFittedError(f"this {type(self).__name__} instance is not fitted yet; "
                                 f"call fit() first")

    def _user_index(self, user):
        idx = self.user_ids_.index(np.asarray([user]))[0]
        if idx < 0:
            raise UnknownIdError(f"user {user!r} was not in the training data; "
                                 f"use fold_in() to score a new user")
        return int(idx)

    def _item_indices(self, items, name="items"):
        items = v.as_ids(name, items)
        idx = self.item_ids_.index(items)
        if (idx < 0).any():
            bad = items[np.flatnonzero(idx < 0)[0]]
            raise UnknownIdError(f"item {bad.item()!r} in {name} was not in the training data")
        return idx


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
