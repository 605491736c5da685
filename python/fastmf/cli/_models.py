"""The model classes of ``--model``, by name, which of them fit ratings, the choice of
``--model auto`` from the values of the data, and the model of the parameter options."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import numpy as np

from .. import ALS, BPR, SGD, ImplicitALS

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import ArrayLike

    from .._typing import AnyModel
    from ..data import Interactions
    from ..models._base import MatrixFactorizationBase

# Model names of --model; a new model class is one more entry.
MODELS: dict[str, type[AnyModel]] = {"als": ALS, "sgd": SGD, "implicit-als": ImplicitALS,
                                     "bpr": BPR}
AUTO = "auto"
MODEL_HELP = ("auto (default) picks from the values of DATA: ratings (steps of 0.5 within 0 "
              "to 10, any value below 0, or decimals without a heavy tail) train als; "
              "implicit feedback (every value the same, as with two --columns; whole numbers "
              "above 10, i.e. counts; decimals whose largest is 10 times their median or "
              "more; or --min-rating) trains implicit-als. One line says what auto chose and "
              "why. als and sgd fit ratings (scored by RMSE), implicit-als and bpr implicit "
              "feedback (scored by ranking metrics)")
_SCALE_TOP = 10          # a rating scale ends at or below this
_HEAVY_TAIL = 10         # counts and amounts reach this many times their median


def implicit_names() -> list[str]:
    """The --model names of the implicit-feedback models."""
    return [name for name, cls in MODELS.items() if not is_explicit(cls)]


def is_explicit(model_or_class: MatrixFactorizationBase | type[MatrixFactorizationBase]
                ) -> bool:
    """Whether a model or model class fits ratings (rather than implicit feedback)."""
    return model_or_class._task == "rating"


def choose_model(values: ArrayLike, min_rating: float | None = None) -> tuple[str, str]:
    """The ``--model`` name that ``--model auto`` trains on these values, and why.

    Ratings (als) are values on a scale: a few steps of 0.5 between 0 and 10, or any
    values below 0, or decimals without a heavy tail. Implicit feedback (implicit-als)
    is which pairs occur (every value the same, e.g. 1), counts (whole numbers reaching
    above 10) or amounts (decimals whose largest is at least 10 times the median), and
    whatever ``--min-rating`` turned into positives.

    Parameters
    ----------
    values : array-like of float
        The rating values of the data, one per (user, item) pair.
    min_rating : float, optional
        The ``--min-rating`` option, which makes positives of value 1.

    Returns
    -------
    name : str
        ``"als"`` or ``"implicit-als"``.
    reason : str
        Why, in words that fit on the line printed after "model: NAME".

    Examples
    --------
    >>> choose_model([4, 3, 5, 1, 4, 2])
    ('als', 'the values look like ratings on a scale: 5 values from 1 to 5')
    >>> choose_model([1, 1, 1])
    ('implicit-als', 'every value is 1: which pairs occur, not how much')
    >>> choose_model([1, 3, 2, 1, 352698])[0]
    'implicit-als'
    """
    if min_rating is not None:
        return "implicit-als", f"--min-rating {min_rating:g} makes positives of the ratings"
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if low == high:
        return "implicit-als", f"every value is {low:g}: which pairs occur, not how much"
    if low < 0:
        return "als", f"the values look like ratings: some are below 0 ({low:g} to {high:g})"
    doubled = values * 2
    if high <= _SCALE_TOP and np.array_equal(doubled, np.floor(doubled)):
        steps = np.count_nonzero(np.bincount(doubled.astype(np.int64)))
        return "als", f"the values look like ratings on a scale: {steps} values from {low:g} " \
                      f"to {high:g}"
    if np.array_equal(values, np.floor(values)):
        return "implicit-als", f"the values look like counts: {low:g} to {high:g}"
    median = float(np.median(values))
    if high >= _HEAVY_TAIL * median:
        return "implicit-als", (f"the values look like amounts: {low:g} to {high:g}, "
                                f"heavy-tailed (median {median:g})")
    return "als", f"the values look like ratings: {low:g} to {high:g} (median {median:g})"


def add_model_option(parser: argparse.ArgumentParser) -> None:
    """``--model``, default auto, of train and tune."""
    parser.add_argument("--model", choices=(AUTO, *MODELS), default=AUTO, help=MODEL_HELP)


def checked_options(args: argparse.Namespace
                    ) -> tuple[type[AnyModel], AnyModel] | tuple[None, None]:
    """The (class, model) that ``--model`` and the parameter options name, checked before
    any data is read; (None, None) when ``--model auto`` waits for the data's values."""
    if args.model != AUTO:
        cls = MODELS[args.model]
        if args.min_rating is not None and is_explicit(cls):
            raise ValueError(f"--min-rating makes implicit feedback, which {cls.__name__} does "
                             f"not fit; use --model {' or '.join(implicit_names())}")
        return cls, _checked_model(cls, args)
    if args.min_rating is not None:
        return ImplicitALS, _checked_model(ImplicitALS, args)
    candidates = (ALS, ImplicitALS)
    params = _model_params(candidates, args)
    for cls in candidates:     # a bad value fails before the data is read
        names = cls._param_names()
        cls(**{name: value for name, value in params.items() if name in names})._check_params()
    return None, None


def chosen_model(args: argparse.Namespace, data: Interactions, cls: type[AnyModel] | None,
                 model: AnyModel | None) -> tuple[type[AnyModel], AnyModel, str | None]:
    """(class, model, line) to train on ``data``: the class and model that
    :func:`checked_options` returned and no line, or under ``--model auto`` those of the
    family :func:`choose_model` picks and the line that says so."""
    if args.model != AUTO:          # checked_options gave both
        return cls, model, None  # type: ignore[return-value]
    name, reason = choose_model(data.ratings, args.min_rating)
    try:
        model = _checked_model(MODELS[name], args)
    except ValueError as error:
        raise ValueError(f"{error} (--model auto chose {name}: {reason}; pass --model to "
                         f"choose another)") from None
    return MODELS[name], model, f"model: {name} ({reason}); pass --model to choose"


def _checked_model(cls: type[AnyModel], args: argparse.Namespace) -> AnyModel:
    model = cls(**_model_params((cls,), args))
    model._check_params()
    return model


def _model_params(classes: Sequence[type[AnyModel]], args: argparse.Namespace
                  ) -> dict[str, Any]:
    """The parameters of the options (--factors, --param NAME=VALUE, ...), for a model of
    one of ``classes``: a ``--param`` that none of them has is an error."""
    cls = classes[0]
    params = {"num_threads": args.threads, "seed": args.seed, "verbose": not args.quiet}
    given = {"factors": args.factors, cls._iterations_param: args.iterations,
             "regularization": args.regularization}
    params.update({name: value for name, value in given.items() if value is not None})
    names = list(dict.fromkeys(name for c in classes for name in c._param_names()))
    for text in args.param:
        name, equals, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name:
            raise ValueError(f"--param must be NAME=VALUE, got {text!r}")
        if name not in names:
            owner = " nor ".join(c.__name__ for c in classes)
            raise ValueError(f"--param {name}: {'neither ' if len(classes) > 1 else ''}{owner} "
                             f"has {'a' if len(classes) > 1 else 'no'} parameter {name!r}; "
                             f"the parameters are {', '.join(names)}")
        try:
            params[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[name] = value.strip()       # a word such as genres or cg
    return params
