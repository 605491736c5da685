"""ROC AUC of score matrices, in chunks of rows."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike, NDArray

    from .._typing import BoolArray, Float64Array

_AUC_CHUNK = 1 << 22          # score entries ranked at once by auc()


def auc(scores: ArrayLike, relevant_mask: ArrayLike, candidate_mask: ArrayLike | None = None
        ) -> float:
    """ROC AUC of each user's scores, over candidate items only, averaged over users.

    For one user, AUC is the probability that a relevant candidate scores above a
    non-relevant one, ties counting one half (the Mann-Whitney U statistic divided by
    ``n_relevant * n_other``); 1.0 is a perfect ranking, 0.5 a random one. Users without
    at least one relevant and one non-relevant candidate are skipped.

    Parameters
    ----------
    scores : 2-D array of float, shape (n_users, n_items)
        Higher is better; NaN is refused among candidates, ±inf is ranked as usual.
    relevant_mask : 2-D boolean array, same shape
        True where the item is relevant to the user.
    candidate_mask : 2-D boolean array, same shape, optional
        True for the items that take part (for example, False on each user's training
        items); default: every item.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, a candidate score is NaN, or no user has both a relevant
        and a non-relevant candidate.
    TypeError
        If ``scores`` is not numeric or a mask is not boolean.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf.metrics import auc
    >>> scores = np.array([[0.9, 0.8, 0.1, 0.5]])
    >>> relevant = np.array([[True, False, False, True]])
    >>> auc(scores, relevant)                  # 3 of the 4 (relevant, other) pairs in order
    0.75
    >>> auc(scores, relevant, candidate_mask=np.array([[True, False, True, True]]))
    1.0
    """
    scores, relevant_mask, candidate_mask = _checked_auc_inputs(scores, relevant_mask,
                                                                candidate_mask)
    rows = max(1, _AUC_CHUNK // max(scores.shape[1], 1))
    values = [_auc_rows(scores[lo:lo + rows], relevant_mask[lo:lo + rows],
                        candidate_mask[lo:lo + rows]) for lo in range(0, len(scores), rows)]
    values = np.concatenate(values) if values else np.zeros(0)
    if len(values) == 0:
        raise ValueError("no user has both a relevant and a non-relevant candidate item; "
                         "AUC is undefined")
    return float(np.mean(values))


def _checked_auc_inputs(scores: ArrayLike, relevant_mask: ArrayLike,
                        candidate_mask: ArrayLike | None
                        ) -> tuple[NDArray[Any], BoolArray, BoolArray]:
    scores = np.asarray(scores)
    if scores.dtype.kind not in "iuf":
        raise TypeError(f"scores must be numeric, got an array of dtype {scores.dtype}")
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D array (users x items), got shape {scores.shape}")
    masks = []
    for name, mask in (("relevant_mask", relevant_mask), ("candidate_mask", candidate_mask)):
        mask = np.ones(scores.shape, dtype=bool) if mask is None else np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"{name} must be a boolean array, got dtype {mask.dtype}")
        if mask.shape != scores.shape:
            raise ValueError(f"{name} must have the shape of scores {scores.shape}, "
                             f"got {mask.shape}")
        masks.append(mask)
    if scores.dtype.kind == "f":
        bad = np.isnan(scores) & masks[1]
        if bad.any():
            user, item = (int(x[0]) for x in np.nonzero(bad))
            raise ValueError(f"scores contain {int(bad.sum())} NaN values among the candidates "
                             f"(first at row {user}, column {item}); fix the scores or mask them out")
    return scores, masks[0], masks[1]


def _auc_rows(scores: NDArray[Any], relevant: NDArray[Any], candidate: NDArray[Any]
              ) -> Float64Array:
    """AUC of each row with a relevant and a non-relevant candidate: the Mann-Whitney U,
    counted per relevant candidate as the non-relevant candidates below it plus half of
    those tied with it, from one sort of each row (non-candidates count for nothing)."""
    order = np.argsort(scores, axis=1)
    s = np.take_along_axis(scores, order, axis=1)
    positive = np.take_along_axis(relevant & candidate, order, axis=1)
    negative = np.take_along_axis(~relevant & candidate, order, axis=1)
    negatives_upto = np.cumsum(negative, axis=1)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = np.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    # Spread each tie group's counts over the group: the cumulative counts never decrease,
    # so a running max (min from the right) carries the value at its start (end).
    below = np.maximum.accumulate(np.where(starts, negatives_upto - negative, 0), axis=1)
    through = np.minimum.accumulate(
        np.where(ends, negatives_upto, s.shape[1])[:, ::-1], axis=1)[:, ::-1]
    u = np.sum(positive * (below + 0.5 * (through - below)), axis=1)
    n_pos = positive.sum(axis=1)
    n_neg = negatives_upto[:, -1] if s.shape[1] else np.zeros(len(s), dtype=np.int64)
    keep = (n_pos > 0) & (n_neg > 0)
    return u[keep] / (n_pos[keep] * n_neg[keep])
