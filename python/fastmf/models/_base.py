"""The common base of fastmf models: parameters, the fit loop (history, early stopping,
progress, Ctrl-C) and save. Serving, and the check of a loaded state, are in ``_serving.py``.

A model is one file (``als.py``, ``implicit_als.py``, ...) plus its C++ kernel. Its class
derives from a family base (``_explicit.BiasedMF`` for rating models, ``_ranking.RankingMF``
for implicit-feedback models; each brings serving through ``_serving.ServingMixin``) and
gives:

``__init__(...)``
    stores each parameter untouched; ``get_params`` reads the signature.
``_check_params() -> p``
    the checked parameters (a namespace): ``check_common(self)`` plus its own.
``_start(data, val, p) -> state``
    the starting state: factors from ``_arrays.init_factors``, the training CSRs.
``_iterate(state, p)``
    one iteration (one or two kernel calls), in place.
``_evaluate(state, p) -> dict``
    this iteration's ``history_`` entry (loss, and validation scores with ``val``).
``_snapshot(state) -> state``
    a copy to return to (early stopping); ``state.copy()`` unless overridden.
``_check_finite(state)``
    ModelFitError with a suggestion when the state holds non-finite values.
``_publish(state)``
    sets the fitted attributes (``user_factors_``, ``item_ids_``, ``_seen``, ...).
``_fit_error(side, raw_id, index, p)`` (models that solve rows in a fit)
    the ModelFitError for a row whose solve failed; ``_check_rows_solved`` raises it.
``_solve_rows(side, R, row_ids=None) -> (factors, biases)``
    rows solved against the other side's fitted factors (fold-in, partial fits).
``_query(uidx)``, ``_query_from(factors, biases) -> (Q, offsets)``, ``_item_bias()``
    what ranking scores by: ``Q[u]·item_factors_[i] + offsets[u] + item_bias[i]``.
``predict(users, items)``
    scores of (user, item) pairs by raw id.
``_train_data(train)`` (optional)
    the training data as ``_start`` takes it; ``as_interactions`` unless overridden.

The family bases implement the serving hooks (and ``_publish``, ``_check_finite`` or
``predict`` where their models agree). Class attributes: ``_monitor`` and
``_monitor_mode`` (the ``history_`` key early stopping watches, "min" or "max"),
``_iterations_param`` (the parameter that counts iterations), ``_task`` ("rating" or
"ranking": what model selection scores), ``_private_state`` (what ``save`` keeps beyond
the public names ending in ``_``) and ``_legacy_params`` (the values of parameters added
after a model file or pickle was written, as that model was fitted). List the class in
``models/__init__.py`` (``fastmf.load`` builds the classes listed there) and in the
``MODELS`` tables of ``tests/test_io.py`` and ``tests/test_models.py`` (the behaviour every
model shares), and give it a ``tests/test_serving.py`` case.
"""
from __future__ import annotations

import inspect
import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..data import as_interactions
from ..exceptions import ModelFitError, NotFittedError
from ._locking import lock_of, reads, writes

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from types import SimpleNamespace
    from typing import Any, ClassVar

    from numpy.typing import ArrayLike, NDArray
    from tqdm.auto import tqdm

    from .._typing import (Callback, CsrArrays, FloatArray, FloatDType, InteractionsLike, Model,
                           PathLike, Record, Seed)
    from ..data import IdMap, Interactions, ItemInfo
    from ._ann import ANNIndex

logger = logging.getLogger("fastmf")


class MatrixFactorizationBase:
    """Parameters, the fit loop and save; the hooks a model implements are listed in this
    module's docstring."""

    _monitor: ClassVar[str | None] = None    # history key that early stopping watches
    _monitor_mode: ClassVar[str] = "min"    # "min": lower is better; "max": higher is better
    _iterations_param: ClassVar[str] = "iterations"  # the parameter counting iterations ("epochs")
    _task: ClassVar[str] = "ranking"  # what the model is judged on: "rating" (RMSE) or "ranking"
    # save() stores every public attribute ending in "_"; these private ones too.
    _private_state: ClassVar[tuple[str, ...]] = ("_seen",)
    # What every fitted model of the class holds (fastmf.load refuses a file without one).
    _required_state: ClassVar[tuple[str, ...]] = (
        "user_ids_", "item_ids_", "user_factors_", "item_factors_", "_seen", "history_",
        "n_iter_")
    # Parameters added since a model could be saved: name -> the value the models saved
    # before had (fastmf.load and unpickling fill them in).
    _legacy_params: ClassVar[dict[str, Any]] = {}

    # The parameters every model has (each model's __init__ stores them).
    factors: int
    early_stopping: int | None
    dtype: FloatDType
    num_threads: int
    seed: Seed
    verbose: bool

    # The fitted state every model holds.
    user_ids_: IdMap
    item_ids_: IdMap
    user_factors_: FloatArray
    item_factors_: FloatArray
    item_info_: ItemInfo | None
    history_: list[Record]
    n_iter_: int
    _seen: CsrArrays          # the items each user interacted with, as a CSR

    if TYPE_CHECKING:
        # The hooks a model implements (this module's docstring says what each does).
        def _check_params(self) -> SimpleNamespace: ...
        def _start(self, data: Interactions, val: Interactions | None,
                   p: SimpleNamespace) -> Any: ...
        def _iterate(self, state: Any, p: SimpleNamespace) -> None: ...
        def _evaluate(self, state: Any, p: SimpleNamespace) -> Record: ...
        def _check_finite(self, state: Any) -> None: ...
        def _publish(self, state: Any) -> None: ...
        @staticmethod
        def _fit_error(side: str, raw_id: Any, index: int, p: SimpleNamespace
                       ) -> ModelFitError: ...
        def _solve_rows(self, side: str, R: Any, row_ids: NDArray[Any] | None = None
                        ) -> tuple[FloatArray, FloatArray]: ...
        def _query(self, uidx: NDArray[np.integer[Any]]) -> tuple[FloatArray, FloatArray]: ...
        def _query_from(self, factors: FloatArray, biases: FloatArray
                        ) -> tuple[FloatArray, FloatArray]: ...
        def _item_bias(self) -> FloatArray: ...
        def predict(self, users: ArrayLike, items: ArrayLike) -> FloatArray: ...
        # ServingMixin's, which every model derives from
        def _check_loaded_state(self) -> None: ...
        def _ann_index(self, graph: str) -> ANNIndex | None: ...

    # -- parameters (scikit-learn style, from the __init__ signature) -----------------
    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
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

    def set_params(self: Model, **params: Any) -> Model:
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

    def __getstate__(self) -> dict[str, Any]:
        """Pickling and copying: the attributes as one consistent snapshot, taken under the
        model's lock, so that a copy made while a partial fit runs holds the state before or
        after it, never half of it (a model's arrays are replaced when it learns, not
        changed, so a shallow snapshot is whole)."""
        return lock_of(self).read(lambda: dict(vars(self)))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling: a model pickled before a parameter existed gets its legacy value."""
        vars(self).update({**self._legacy_params, **state})

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={val!r}" for k, val in self.get_params().items() if defaults.get(k) != val]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- the fit loop ---------------------------------------------------------------
    def fit(self: Model, train: InteractionsLike, validation: InteractionsLike | None = None,
            callbacks: Sequence[Callback] = ()) -> Model:
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
        if p.early_stopping is not None:
            _check_watchable(data, val)  # type: ignore[arg-type]  # not None: checked above
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
                # a model that watches nothing (_monitor None) finds no score
                score = (record.get(self._monitor)  # type: ignore[arg-type]
                         if val is not None else None)
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

    def _train_data(self, train: Any) -> Any:
        """The training data as the model's fit loop takes it (``_start`` receives it)."""
        return as_interactions(train, "train")

    @writes
    def _finish(self, state: Any, history: list[Record], best: Any) -> None:
        if best is not None:
            state = best
        self._check_finite(state)
        self._publish(state)
        self.history_ = history
        self.n_iter_ = len(history)

    def _snapshot(self, state: Any) -> Any:
        """A copy of the state to return to (early stopping)."""
        return state.copy()

    def _check_rows_solved(self, failed: int, side: str, data: Interactions,
                           p: SimpleNamespace) -> None:
        """Raise the model's ``_fit_error`` for the row a row solve of ``side`` reported as
        failed (its index in ``data``; -1: none failed)."""
        if failed >= 0:
            ids = data.user_ids if side == "user" else data.item_ids
            raise self._fit_error(side, ids.ids[failed], failed, p)

    # -- save (fastmf.load reads the file back) --------------------------------------
    @reads
    def save(self, path: PathLike) -> Path:
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
        from .. import io      # io lists the model classes: it builds on this package
        return io.save(self, path)

    # -- fitted state ------------------------------------------------------------
    def _check_is_fitted(self) -> None:
        if not hasattr(self, "item_factors_"):
            raise NotFittedError(f"this {type(self).__name__} instance is not fitted yet; "
                                 f"call fit() first")


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


def check_common(model: MatrixFactorizationBase) -> dict[str, Any]:
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
