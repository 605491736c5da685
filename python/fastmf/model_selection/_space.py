"""Search spaces of :func:`fastmf.tune`: the default space of each model class, drawing a
candidate from a space, a random step from a candidate, and the check of a space a user
passes."""
from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    import numpy as np

    from .._typing import AnyModel, Space

# The parameters that matter most, per model class; a name the model lacks is left out, so
# a space names ImplicitALS's unobserved_weight and regularization_exponent only where the
# model has them, and epsilon only where its confidence is the log of the values.
DEFAULT_SPACES: dict[str, Space] = {
    "ImplicitALS": {"regularization": (0.01, 1000.0, "log"), "alpha": (0.1, 100.0, "log"),
                    "unobserved_weight": (1e-3, 1.0, "log"),
                    "regularization_exponent": (0.0, 1.0), "epsilon": (1e-4, 10.0, "log")},
    "BPR": {"learning_rate": (0.005, 0.2, "log"), "regularization": (1e-4, 0.1, "log")},
    "ALS": {"regularization": (0.01, 10.0, "log"), "bias_regularization": (0.1, 30.0, "log")},
    "SGD": {"regularization": (0.005, 0.5, "log"), "bias_regularization": (0.001, 0.5, "log")},
}


def default_space(model: AnyModel) -> Space:
    """The search space :func:`tune` uses for ``model`` when given none: a dict of name ->
    ``(low, high, "log")`` (log-uniform) or ``(low, high)`` (uniform).

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import default_space
    >>> default_space(fastmf.BPR())
    {'learning_rate': (0.005, 0.2, 'log'), 'regularization': (0.0001, 0.1, 'log')}
    """
    params = model.get_params()
    space = next((DEFAULT_SPACES[cls.__name__] for cls in type(model).__mro__
                  if cls.__name__ in DEFAULT_SPACES), None)
    if space is None:
        raise ValueError(f"no default search space for {type(model).__name__}; pass space=")
    unused = {"epsilon"} if params.get("confidence", "log") != "log" else set()
    return {name: spec for name, spec in space.items() if name in params and name not in unused}


def draw(space: Space, rng: np.random.Generator) -> dict[str, Any]:
    """A candidate drawn from ``space``: a list's value uniformly, a range uniformly or
    log-uniformly (integers when both bounds are)."""
    values = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            values[name] = spec[int(rng.integers(len(spec)))]
            continue
        low, high, log = spec[0], spec[1], len(spec) == 3
        x = math.exp(rng.uniform(math.log(low), math.log(high))) if log else rng.uniform(low, high)
        integer = all(isinstance(b, numbers.Integral) for b in (low, high))
        values[name] = min(max(int(round(x)), low), high) if integer else float(x)
    return values


def perturb(space: Space, values: Mapping[str, Any], step: float, rng: np.random.Generator
            ) -> dict[str, Any]:
    """``values`` moved at random: each number by a normal step of ``step`` times its range
    (in log scale for a log-uniform range), clipped to the range; a list's value replaced
    by another at random with probability ``step``. A range's value that is not a number
    (a model's None, say) is drawn afresh."""
    moved = {}
    for name, spec in space.items():
        value = values[name]
        if isinstance(spec, list):
            moved[name] = (spec[int(rng.integers(len(spec)))] if rng.random() < step
                           else value)
            continue
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not math.isfinite(value)):
            moved[name] = draw({name: spec}, rng)[name]
            continue
        low, high, log = spec[0], spec[1], len(spec) == 3
        x: float           # value is a real number here (typeshed's numbers.Real is no float)
        if log:
            x = math.exp(math.log(max(value, low))  # type: ignore[arg-type]
                         + rng.normal() * step * (math.log(high) - math.log(low)))
        else:
            x = value + rng.normal() * step * (high - low)  # type: ignore[assignment]
        integer = all(isinstance(b, numbers.Integral) for b in (low, high))
        moved[name] = min(max(int(round(x)) if integer else float(x), low), high)
    return moved


def checked_space(space: object, params: Mapping[str, Any] | None, owner: str) -> Space:
    """``space``, checked: a non-empty dict of names (parameters of ``owner`` when
    ``params`` is given) -> a list of values, (low, high) or (low, high, "log")."""
    if not isinstance(space, dict) or not space:
        raise TypeError(f"space must be a non-empty dict of name -> list of values, (low, high) "
                        f"or (low, high, 'log'), got {space!r}")
    for name, spec in space.items():
        if params is not None and name not in params:
            raise ValueError(f"space names {name!r}, which is not a parameter of {owner}")
        if isinstance(spec, list):
            if not spec:
                raise ValueError(f"space[{name!r}] is an empty list; give at least one value")
            continue
        ok = (isinstance(spec, tuple) and len(spec) in (2, 3)
              and all(isinstance(b, numbers.Real) and not isinstance(b, bool) for b in spec[:2])
              and (len(spec) == 2 or spec[2] == "log"))
        if not ok or not spec[0] <= spec[1] or (len(spec) == 3 and spec[0] <= 0):
            raise ValueError(f"space[{name!r}] must be a list of values, (low, high) with "
                             f"low <= high, or (low, high, 'log') with 0 < low <= high; got "
                             f"{spec!r}")
    return space
