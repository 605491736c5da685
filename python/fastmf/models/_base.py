"""The base every fastmf model derives from: the model contract (the hooks of the fit loop and
of serving, abstract methods a model must give), parameters as scikit-learn has them, the
fit loop (history, early stopping, progress, Ctrl-C) and save.

A model is one file (``als.py``, ``implicit_als.py``, ...), its checked parameters (a frozen
dataclass in ``_params.py``) and its kernels' glue (a module of ``fastmf._kernels``). Its class
derives from a family base (``_explicit.BiasedMF`` for rating models, ``_ranking.RankingMF``
for implicit-feedback models; each brings serving through ``_serving.ServingMixin`` and gives
the serving hooks) and gives the rest of the abstract methods below: Python refuses to
instantiate a class that misses one. docs/architecture.md says what else knows a model
(``fastmf.load``, the tests, the command line).
"""
from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from .._locking import lock_of, reads
from ..data import as_interactions
from ..exceptions import NotFittedError
from ._file import check_loaded_state, write
from ._fit import run_fit

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any, ClassVar

    from numpy.typing import ArrayLike, NDArray

    from .._typing import (Callback, CsrArrays, FloatArray, FloatDType, InteractionsLike, Model,
                           PathLike, Record, Seed)
    from ..data import Csr, IdMap, Interactions, ItemInfo
    from ..exceptions import ModelFitError
    from ._ann import ANNIndex
    from ._params import Params


class MatrixFactorizationBase(ABC):
    """Parameters, the fit loop and save, and the hooks a model gives (abstract methods)."""

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
    # True in the body of each class that fastmf.models exports: save writes it and
    # fastmf.load builds it by name (a subclass, which does not set it, is pickled instead).
    _model_file: ClassVar[bool] = False

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
        # IndexMixin's (through ServingMixin, which every model derives from)
        def _ann_index(self, graph: str) -> ANNIndex | None: ...

    # -- the hooks of the fit loop --------------------------------------------------
    @abstractmethod
    def _check_params(self) -> Params:
        """The checked parameters (the model's dataclass of ``_params``): a ``ValueError``
        or ``TypeError`` naming the parameter, checked as the kernels will see them."""

    @abstractmethod
    def _start(self, data: Interactions, val: Interactions | None, p: Any) -> Any:
        """The starting state of a fit: factors from ``init_factors`` (a seeded draw), the
        training CSRs, ``val`` (validation data, or None)."""

    @abstractmethod
    def _iterate(self, state: Any, p: Any) -> None:
        """One iteration, in place: one or two kernel calls, the GIL released in them."""

    @abstractmethod
    def _evaluate(self, state: Any, p: Any) -> Record:
        """This iteration's ``history_`` entry: the loss, and scores on ``val``."""

    @abstractmethod
    def _check_finite(self, state: Any) -> None:
        """ModelFitError with a suggestion when the state holds non-finite values."""

    @abstractmethod
    def _publish(self, state: Any) -> None:
        """Set the fitted attributes (``user_factors_``, ``item_ids_``, ``_seen``, ...)."""

    def _snapshot(self, state: Any) -> Any:
        """A copy of the state to return to (early stopping)."""
        return state.copy()

    def _train_data(self, train: Any) -> Any:
        """The training data as the model's fit loop takes it (``_start`` receives it)."""
        return as_interactions(train, "train")

    @staticmethod
    def _fit_error(side: str, raw_id: Any, index: int, p: Any) -> ModelFitError:
        """The ModelFitError for a row whose solve failed in a fit (``_check_rows_solved``
        raises it): models that solve rows in a fit give it."""
        raise NotImplementedError

    # -- the hooks of serving (the family bases give them) ---------------------------
    @abstractmethod
    def _solve_rows(self, side: str, R: Csr, row_ids: NDArray[Any] | None = None,
                    prior: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
        """(factors, biases) of the rows of R solved against the other side's fitted
        factors (fold-in, partial fits); ``row_ids`` their raw ids, None for a new user;
        ``prior`` the rows' shrinkage targets (models with features; None: their own)."""

    @abstractmethod
    def _query(self, uidx: NDArray[np.integer[Any]]) -> tuple[FloatArray, FloatArray]:
        """(Q, offsets) of known users (by index), so that the score of item i for user u
        is ``Q[u]·item_factors_[i] + offsets[u] + item_bias[i]``."""

    @abstractmethod
    def _query_from(self, factors: FloatArray, biases: FloatArray
                    ) -> tuple[FloatArray, FloatArray]:
        """(Q, offsets) of users given by their factors and biases (a folded-in user)."""

    @abstractmethod
    def _item_bias(self) -> FloatArray:
        """The item term of every score (zeros for a model without item biases)."""

    @abstractmethod
    def predict(self, users: ArrayLike, items: ArrayLike) -> FloatArray:
        """Scores of (user, item) pairs by raw id."""

    # -- parameters (scikit-learn style, from the __init__ signature) -----------------
    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

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
        parameters = inspect.signature(type(self).__init__).parameters.values()
        defaults = {p.name: p.default for p in parameters}
        changed = [f"{k}={val!r}" for k, val in self.get_params().items()
                   if defaults.get(k) != val]
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
        run_fit(self, train, validation, callbacks)
        return self

    def _check_rows_solved(self, failed: int, side: str, data: Interactions, p: Params
                           ) -> None:
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
        return write(self, path)

    # -- fitted state ------------------------------------------------------------
    def _check_is_fitted(self) -> None:
        if not hasattr(self, "item_factors_"):
            raise NotFittedError(f"this {type(self).__name__} instance is not fitted yet; "
                                 f"call fit() first")

    def _check_loaded_state(self) -> None:
        """ValueError unless the fitted state is one serving can trust (``fastmf.load``
        checks what it read): see ``_file.check_loaded_state``."""
        check_loaded_state(self)
