"""Each model's parameters once checked: a frozen dataclass per model, which its
``_check_params`` builds in one expression from ``common_params`` (what every model has) or
``biased_params`` (what the explicit models share) and its own checks, then passes through
``as_kernels_see`` (the values as the kernels will see them). The fit loop, the kernels' glue
(``fastmf._kernels``) and the tasks of ``fastmf.distributed`` read them; nothing changes them
(``dataclasses.replace`` makes a variant: a fold-in's exact solver, a worker's threads).

Each check is a ``ValueError`` or ``TypeError`` naming the parameter, raised before anything
changes; the checks run in the order of the fields.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from .. import _validation as v

if TYPE_CHECKING:
    from typing import Any, TypeVar

    from .._typing import FloatType, Seed
    from ..features import ItemFeatures, UserFeatures
    from ._base import MatrixFactorizationBase

    _P = TypeVar("_P", bound="Params")


@dataclass(frozen=True)
class Params:
    """What every model has: ``iterations`` is the parameter the class counts iterations
    with (``epochs`` for SGD and BPR)."""

    iterations: int
    num_threads: int
    seed: Seed
    verbose: bool
    early_stopping: int | None
    factors: int
    dtype: FloatType


@dataclass(frozen=True)
class BiasedParams(Params):
    """The explicit models' (ALS and SGD): their objective's penalties and start."""

    regularization: float
    bias_regularization: float
    init_std: float
    weighted: float                  # the exponent a of w = n^a (SGD: 0, plain λ)


@dataclass(frozen=True)
class ALSParams(BiasedParams):
    user_features: UserFeatures | None
    item_features: str | ItemFeatures | None
    feature_regularization: float


@dataclass(frozen=True)
class SGDParams(BiasedParams):
    learning_rate: float
    decay: float
    shuffle: bool


@dataclass(frozen=True)
class ImplicitParams(Params):
    regularization: float
    alpha: float
    unobserved_weight: float
    regularization_exponent: float
    confidence: str
    epsilon: float
    solver: str
    cg_steps: int
    block_size: int
    init_std: float
    user_features: UserFeatures | None = None
    item_features: ItemFeatures | None = None
    feature_regularization: float = 1.0


@dataclass(frozen=True)
class BPRParams(Params):
    learning_rate: float
    learning_rate_schedule: str
    regularization: float
    negative_sampling: str
    popularity_exponent: float
    seen_negatives: str
    item_biases: bool
    init_std: float
    user_features: UserFeatures | None = None
    item_features: ItemFeatures | None = None
    feature_regularization: float = 0.02


def common_params(model: MatrixFactorizationBase) -> dict[str, Any]:
    """The fields of ``Params``, checked, by name."""
    return {
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


def biased_params(model: Any) -> dict[str, Any]:
    """``common_params`` and the fields of ``BiasedParams`` but ``weighted``, checked."""
    return {
        **common_params(model),
        "regularization": v.check_float("regularization", model.regularization, minimum=0),
        "bias_regularization": v.check_float("bias_regularization", model.bias_regularization,
                                             minimum=0),
        "init_std": v.check_float("init_std", model.init_std, minimum=0),
    }


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is True or False, else TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def as_kernels_see(params: _P, model: MatrixFactorizationBase) -> _P:
    """``params``, checked as the kernels will see them (``_validation.check_kernel_params``:
    floats in the model dtype, ints in 32 bits)."""
    v.check_kernel_params({f.name: getattr(params, f.name) for f in fields(params)}, model)
    return params
