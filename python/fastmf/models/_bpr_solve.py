"""BPR rows solved by its own objective, the other factors fixed: what ``BPR.fold_in`` and the
partial fits use. Each row minimises the expected BPR objective (every positive against
every other item, weighted as the sampler draws negatives) by Newton's method from 0."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import SimpleNamespace
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import CsrArrays, Float64Array, FloatArray

    #: theta -> (value, gradient, Hessian) of a smooth convex objective.
    Objective = Callable[[Float64Array], tuple[Any, Float64Array, Float64Array]]

# -- rows solved by BPR's objective, the other factors fixed --------------------------
# With l(x) = -ln σ(x) = log(1 + exp(-x)), l'(x) = -σ(-x) and l''(x) = σ(x) σ(-x), every
# term of the objective is l of a linear function of the unknowns, so its gradient and
# Hessian are sums of rank-one terms; Newton's method from 0 converges in a few steps.
_PAIRS_PER_CHUNK = 1 << 22     # pair terms held at once (32 MB of float64)
_ROWS_PER_CHUNK = 1 << 16      # factor rows gathered at once


def _sigmoid(x: Float64Array) -> Float64Array:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _newton(objective: Objective, theta: Float64Array, max_steps: int = 50) -> Float64Array:
    """Minimise a smooth convex objective(theta) -> (value, gradient, Hessian) by Newton
    steps, halving a step until it decreases the value enough."""
    value, grad, hess = objective(theta)
    for _ in range(max_steps):
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while True:
            trial = objective(theta - t * step)
            if trial[0] <= value - 1e-4 * t * (grad @ step) or t <= 1e-8:
                break
            t *= 0.5
        theta = theta - t * step
        value, grad, hess = trial
        if np.abs(t * step).max() <= 1e-9 * (1.0 + np.abs(theta).max()):
            break
    return theta


def solve_user(positives: NDArray[np.integer[Any]], Y: FloatArray, b: FloatArray,
               weights: Float64Array, regularization: float) -> Float64Array:
    r"""The user vector p minimising BPR's expected objective for a user with the given
    positive items against fixed item factors Y and biases b:

    .. math:: \frac{1}{|P|} \sum_{i \in P} \sum_{j \notin P} \frac{w_j}{W}
              \,l(p \cdot (q_i - q_j) + b_i - b_j) + \frac{\lambda}{2} \|p\|^2

    (an epoch samples each of the user's positives once, j with probability w_j / W among
    the items not in P, and regularizes p at every sample). With ``seen_negatives="skip"``
    a sample draws j among all items and is taken only when j is not in P: the loss and
    the regularization of the user both scale by W / W_all, so the minimiser is the same.
    No positives: p = 0.
    """
    k = Y.shape[1]
    negative = np.ones(len(Y), dtype=bool)
    negative[positives] = False
    negative &= weights > 0
    if len(positives) == 0 or not negative.any():
        return np.zeros(k)
    QP, QN = Y[positives].astype(np.float64), Y[negative].astype(np.float64)
    bP, bN = b[positives].astype(np.float64), b[negative].astype(np.float64)
    wN = weights[negative] / weights[negative].sum()
    chunk = max(1, _PAIRS_PER_CHUNK // len(QN))
    scale = 1.0 / len(QP)

    def objective(p: Float64Array) -> tuple[Any, Float64Array, Float64Array]:
        t = QN @ p + bN
        value, grad, hess = 0.0, np.zeros(k), np.zeros((k, k))
        for start in range(0, len(QP), chunk):
            QC = QP[start:start + chunk]
            x = (QC @ p + bP[start:start + chunk])[:, None] - t[None, :]
            value += (np.logaddexp(0.0, -x) @ wN).sum()
            s = _sigmoid(-x)
            G, H = s * wN, s * (1.0 - s) * wN
            grad -= QC.T @ G.sum(axis=1) - QN.T @ G.sum(axis=0)
            HQ = H @ QN
            cross = QC.T @ HQ
            hess += (QC.T * H.sum(axis=1)) @ QC + (QN.T * H.sum(axis=0)) @ QN - cross - cross.T
        return (scale * value + 0.5 * regularization * (p @ p), scale * grad + regularization * p,
                scale * hess + regularization * np.eye(k))

    return _newton(objective, np.zeros(k))


def solve_item(users: NDArray[np.integer[Any]], item: int, X: FloatArray, Y: FloatArray,
               b: FloatArray, seen: CsrArrays, weights: Float64Array, p: SimpleNamespace
               ) -> tuple[Float64Array, float]:
    r"""The factors q and bias c (0 without item biases) of an item whose positive users
    are ``users``, minimising the terms of BPR's expected objective that involve it, with
    every other factor fixed: the item ranked above each of its users' negatives j

    .. math:: \sum_{u \in U} \sum_{j \notin P_u} \frac{w_j}{W_u}
              \,l(p_u \cdot (q - q_j) + c - b_j)

    and below each other user's positives i, as a negative drawn with probability w / W_u

    .. math:: \sum_{u \notin U} \sum_{i \in P_u} \frac{w}{W_u} \,l(p_u \cdot q_i + b_i - p_u \cdot q - c)

    plus λ/2 ‖(q, c)‖² for every sample that touches it. P_u is a user's training items
    (``seen``), W_u the weight of the items outside it, and w the item's own weight (1, or
    its number of users to the popularity exponent). With ``seen_negatives="skip"`` every
    W_u in the two sums is W_all, the weight of all items, and a user of the item weighs
    W_u / W_all (a sample of the pair is taken with that probability). ``item`` is the
    item's index when it is a known item (left out of every P_u and of the negatives), else
    -1.
    """
    k: int
    n_users, k = X.shape
    with_bias = p.item_biases
    indptr, indices = seen
    X64, Y64, b64 = X.astype(np.float64), Y.astype(np.float64), b.astype(np.float64)
    A = np.hstack([X64, np.ones((n_users, 1))]) if with_bias else X64
    d = A.shape[1]
    row_of = np.repeat(np.arange(n_users), np.diff(indptr))
    keep = indices != item
    row_of, cols = row_of[keep], indices[keep]
    weights = weights.copy()
    if item >= 0:
        weights[item] = 0.0
    W = weights.sum() - np.bincount(row_of, weights=weights[cols], minlength=n_users)
    own = 1.0 if p.negative_sampling == "uniform" else float(len(users)) ** p.popularity_exponent
    skip = p.seen_negatives == "skip"
    W_all = weights.sum() + own
    users = np.unique(users)
    others = np.ones(n_users, dtype=bool)
    others[users] = False
    # Positives of the other users: their fixed scores, and the weight of each term.
    mine = others[row_of]
    rows_b, cols_b = row_of[mine], cols[mine]
    s_b = np.empty(len(rows_b))
    for start in range(0, len(rows_b), _ROWS_PER_CHUNK):
        part = slice(start, start + _ROWS_PER_CHUNK)
        r, c = rows_b[part], cols_b[part]
        s_b[part] = np.einsum("ij,ij->i", X64[r], Y64[c]) + b64[c]
    if skip:
        w_b = np.full(len(rows_b), own / W_all)
        n_samples = W[users].sum() / W_all + w_b.sum()
    else:
        w_b = np.where(W[rows_b] > 0, own / np.maximum(W[rows_b], 1e-300), 0.0)
        n_samples = len(users) + w_b.sum()
    if n_samples == 0:
        return np.zeros(k), 0.0

    # The item's users, in parts of at most _PAIRS_PER_CHUNK (user, item) terms: the scores
    # of every item, and each user's weights over their negatives (kept when they are few).
    parts = [users[s:s + max(1, _PAIRS_PER_CHUNK // len(Y))]
             for s in range(0, len(users), max(1, _PAIRS_PER_CHUNK // len(Y)))]

    def scores_and_weights(part: NDArray[np.integer[Any]]
                           ) -> tuple[Float64Array, Float64Array]:
        S = X64[part] @ Y64.T + b64
        Wa = np.broadcast_to(weights, S.shape).copy()
        for a, u in enumerate(part):
            Wa[a, indices[indptr[u]:indptr[u + 1]]] = 0.0
        if skip:
            return S, Wa / W_all
        return S, Wa / np.maximum(Wa.sum(axis=1, keepdims=True), 1e-300)

    kept = ([scores_and_weights(part) for part in parts]
            if len(users) * len(Y) <= 4 * _PAIRS_PER_CHUNK else None)

    def objective(theta: Float64Array) -> tuple[Any, Float64Array, Float64Array]:
        value, grad, hess = 0.0, np.zeros(d), np.zeros((d, d))
        for number, part in enumerate(parts):       # the item ranked above the negatives
            S, Wa = kept[number] if kept is not None else scores_and_weights(part)
            Au = A[part]
            x = (Au @ theta)[:, None] - S
            value += (np.logaddexp(0.0, -x) * Wa).sum()
            sig = _sigmoid(-x)
            grad -= Au.T @ (sig * Wa).sum(axis=1)
            hess += (Au.T * (sig * (1.0 - sig) * Wa).sum(axis=1)) @ Au
        # ... and below the other users' positives, summed per user (the same a_u).
        x = s_b - (A @ theta)[rows_b]
        value += np.logaddexp(0.0, -x) @ w_b
        sig = _sigmoid(-x)
        g = np.bincount(rows_b, weights=sig * w_b, minlength=n_users)
        h = np.bincount(rows_b, weights=sig * (1.0 - sig) * w_b, minlength=n_users)
        grad += A.T @ g
        hess += (A.T * h) @ A
        return (value / n_samples + 0.5 * p.regularization * (theta @ theta),
                grad / n_samples + p.regularization * theta,
                hess / n_samples + p.regularization * np.eye(d))

    theta = _newton(objective, np.zeros(d))
    return (theta[:k], theta[k]) if with_bias else (theta, 0.0)
