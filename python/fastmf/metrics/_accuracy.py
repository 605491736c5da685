"""Rating accuracy: :func:`rmse` and :func:`mae` of predicted against true ratings."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .._typing import Float64Array

# The rating metrics by name (cross_validate, the CLI's evaluate), beside the ranking ones
# of METRICS.
RATING_METRICS = ("rmse", "mae")


def _errors(y_true: ArrayLike, y_pred: ArrayLike) -> Float64Array:
    y_true = v.as_ratings("y_true", y_true)
    y_pred = v.as_ratings("y_pred", y_pred)
    v.check_same_length(y_true=y_true, y_pred=y_pred)
    v.check_not_empty("y_true", y_true)
    return y_true.astype(np.float64) - y_pred.astype(np.float64)


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error, accumulated in float64.

    Examples
    --------
    >>> from fastmf.metrics import rmse
    >>> rmse([4, 3, 5], [3.5, 3, 4])
    0.6454972243679028
    """
    e = _errors(y_true, y_pred)
    return float(np.sqrt(np.dot(e, e) / len(e)))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error.

    Examples
    --------
    >>> from fastmf.metrics import mae
    >>> mae([4, 3, 5], [3.5, 3, 4])
    0.5
    """
    return float(np.mean(np.abs(_errors(y_true, y_pred))))
