"""The type aliases of fastmf's annotations.

fastmf's modules import this one only under ``typing.TYPE_CHECKING`` (their annotations are
never evaluated: ``from __future__ import annotations``), so it costs nothing at run time.
"""
from __future__ import annotations

import os
from typing import (TYPE_CHECKING, Any, Callable, Collection, Dict, Literal, Protocol,
                    Sequence, Tuple, TypeVar, Union)

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from .data import IdMap, Interactions
    from .models import ALS, BPR, SGD, ImplicitALS
    from .models._base import MatrixFactorizationBase

#: A file path: a str or an ``os.PathLike`` such as ``pathlib.Path``.
PathLike = Union[str, "os.PathLike[str]"]

#: Arrays in a model dtype (float32 or float64), and in float64 or int64 alone.
FloatArray = NDArray[Union[np.float32, np.float64]]
Float64Array = NDArray[np.float64]
Int32Array = NDArray[np.int32]
Int64Array = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Raw ids as fastmf keeps them: integers or text (numpy ``str_``).
IdArray = NDArray[Union[np.integer[Any], np.str_]]
#: One raw user or item id.
RawId = Union[int, str, np.integer[Any], np.str_]

#: Item ids per user: a 2-D array, or a sequence of sequences, sets or 1-D arrays of ids.
IdLists = Union[ArrayLike, Sequence[Union[Collection[RawId], ArrayLike]]]

#: A CSR matrix as (indptr int64, indices int32), without values.
CsrArrays = Tuple[Int64Array, Int32Array]

#: A model dtype as ``dtype=`` takes it.
FloatDType = Union[Literal["float32", "float64"], "type[np.float32]", "type[np.float64]",
                   "np.dtype[np.float32]", "np.dtype[np.float64]"]
#: What a float dtype is after ``_validation.check_dtype``.
FloatType = Union["type[np.float32]", "type[np.float64]"]

#: ``seed=``: None (fresh entropy), a non-negative int, or a numpy Generator or SeedSequence.
Seed = Union[int, np.random.Generator, np.random.SeedSequence, None]

#: What an unknown id in a filter list does.
Unknown = Literal["raise", "ignore"]
#: What a repeated (user, item) pair does.
Duplicates = Literal["error", "last", "sum", "mean"]

#: Training or test data: Interactions, or (users, items[, ratings]) arrays.
InteractionsLike = Union["Interactions", Tuple[ArrayLike, ArrayLike],
                         Tuple[ArrayLike, ArrayLike, ArrayLike]]

#: One ``history_`` entry: "iteration", "loss", "seconds", metrics by name.
Record = Dict[str, float]
#: A ``fit`` callback: called with each iteration's record; a true result stops the fit.
Callback = Callable[[Record], object]

#: A ranking metric's name, as ``evaluate(metrics=...)`` takes it.
Metric = Literal["precision", "recall", "ndcg", "map", "auc", "coverage"]
#: A metric model selection scores by: a ranking metric, or RMSE or MAE of predicted ratings.
ScoreName = Literal["rmse", "mae", "precision", "recall", "ndcg", "map", "auc", "coverage"]


class ScoringModel(Protocol):
    """What :func:`fastmf.metrics.evaluate` ranks: any fitted fastmf model, or an object
    with its ids and a score for every item per user."""

    user_ids_: IdMap
    item_ids_: IdMap

    def score_users(self, users: ArrayLike) -> NDArray[Any]: ...


#: A search space of ``tune``: name -> a list of values, (low, high) or (low, high, "log").
Space = Dict[str, Union[list[Any], Tuple[float, float], Tuple[float, float, Literal["log"]]]]
#: One row of ``TuneResult.trials``: "trial", the parameters, "iterations", "score", ...
Trial = Dict[str, Any]

#: One of fastmf's models.
AnyModel = Union["ALS", "SGD", "ImplicitALS", "BPR"]

#: ``self`` of a method that returns it (``fit``, ``set_params``).
Model = TypeVar("Model", bound="MatrixFactorizationBase")
