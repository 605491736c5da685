"""Bayesian personalized ranking (cpp/bpr.hpp): one Hogwild epoch of sampled steps, and the
rows that ``BPR.fold_in`` and the partial fits solve by BPR's own objective.

An epoch is one call of ``bpr_epoch``: its draws come from a counter-based stream seeded per
epoch, so they do not depend on the thread count. ``_core`` also exports ``bpr_draws`` and
``bpr_steps``, the sampler and the steps on their own: tests/test_kernels.py checks them
against their numpy twins, and nothing in fastmf calls them.

A fold-in row minimises the expected BPR objective (every positive against every other item,
weighted as the sampler draws negatives) by Newton's method from 0, in numpy.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _core

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import CsrArrays, Float64Array, FloatArray, Int32Array
    from ..data import Csr
    from ..models._bpr_features import Embeddings
    from ..models._params import BPRParams

    #: theta -> (value, gradient, Hessian) of a smooth convex objective.
    Objective = Callable[[Float64Array], tuple[Any, Float64Array, Float64Array]]

# Negative candidates a sample draws (the C++ sampler's `tries`) per ``seen_negatives``.
NEGATIVE_TRIES = {"redraw": 32, "skip": 1}


def epoch(positives: Csr, user_of: Int32Array, cdf: Float64Array, X: FloatArray, Y: FloatArray,
          b: FloatArray, lr: float, seed: int, p: BPRParams) -> tuple[float, int, int]:
    """One epoch of as many samples as ``positives`` (a Csr by user, sorted rows) holds, the
    user of each positive in ``user_of``, negatives drawn by ``cdf`` (cumulative weights; empty:
    uniform), steps of size ``lr`` on (X, Y, b) in place (b empty: no biases). Returns
    (objective, ordered, used): the summed sample objective, the samples already ranked right
    and the samples taken."""
    return _core.bpr_epoch(positives.indptr, positives.indices, user_of, cdf, X, Y, b,
                           p.dtype(lr), p.dtype(p.regularization), len(positives.indices), seed,
                           NEGATIVE_TRIES[p.seen_negatives], p.num_threads)


def feature_epoch(positives: Csr, user_of: Int32Array, cdf: Float64Array, users: Embeddings,
                  items: Embeddings, X: FloatArray, Y: FloatArray, b: FloatArray, lr: float,
                  seed: int, p: BPRParams) -> tuple[float, int, int]:
    """``epoch`` with side features (cpp/bpr_features.hpp): X and Y are the embeddings the
    rows of ``users`` and ``items`` sum (models/_bpr_features.py), b the item embeddings'
    biases (empty: none); the same draws as ``epoch`` for the same seed."""
    return _core.bpr_feature_epoch(
        positives.indptr, positives.indices, user_of, cdf, users.indptr, users.indices,
        users.weights, X, users.n_own, items.indptr, items.indices, items.weights, Y, b,
        items.n_own, p.dtype(lr), p.dtype(p.regularization), p.dtype(p.feature_regularization),
        len(positives.indices), seed, NEGATIVE_TRIES[p.seen_negatives], p.num_threads)


# -- rows solved by BPR's objective, the other factors fixed (fold-in, partial fits) ----
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
               weights: Float64Array, regularization: float,
               prior: Float64Array | None = None) -> Float64Array:
    r"""The user vector p minimising BPR's expected objective for a user with the given
    positive items against fixed item factors Y and biases b:

    .. math:: \frac{1}{|P|} \sum_{i \in P} \sum_{j \notin P} \frac{w_j}{W}
              \,l(p \cdot (q_i - q_j) + b_i - b_j) + \frac{\lambda}{2} \|p\|^2

    (an epoch samples each of the user's positives once, j with probability w_j / W among
    the items not in P, and regularizes p at every sample). With ``seen_negatives="skip"``
    a sample draws j among all items and is taken only when j is not in P: the loss and
    the regularization of the user both scale by W / W_all, so the minimiser is the same.
    With a ``prior`` (a model with user features: p = prior + e, e the user's own
    embedding), the regularization is λ/2 ‖p − prior‖². No positives: p = prior (or 0).
    """
    k = Y.shape[1]
    center = np.zeros(k) if prior is None else np.asarray(prior, dtype=np.float64)
    negative = np.ones(len(Y), dtype=bool)
    negative[positives] = False
    negative &= weights > 0
    if len(positives) == 0 or not negative.any():
        return center.copy()
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
        e = p - center
        return (scale * value + 0.5 * regularization * (e @ e), scale * grad + regularization * e,
                scale * hess + regularization * np.eye(k))

    return _newton(objective, center.copy())


def solve_item(users: NDArray[np.integer[Any]], item: int, X: FloatArray, Y: FloatArray,
               b: FloatArray, seen: CsrArrays, weights: Float64Array, p: BPRParams,
               prior: Float64Array | None = None) -> tuple[Float64Array, float]:
    r"""The factors q and bias c (0 without item biases) of an item whose positive users
    are ``users``, minimising the terms of BPR's expected objective that involve it, with
    every other factor fixed: the item ranked above each of its users' negatives j

    .. math:: \sum_{u \in U} \sum_{j \notin P_u} \frac{w_j}{W_u}
              \,l(p_u \cdot (q - q_j) + c - b_j)

    and below each other user's positives i, as a negative drawn with probability w / W_u

    .. math:: \sum_{u \notin U} \sum_{i \in P_u} \frac{w}{W_u}
              \,l(p_u \cdot q_i + b_i - p_u \cdot q - c)

    plus λ/2 ‖(q, c)‖² for every sample that touches it. P_u is a user's training items
    (``seen``), W_u the weight of the items outside it, and w the item's own weight (1, or
    its number of users to the popularity exponent). With ``seen_negatives="skip"`` every
    W_u in the two sums is W_all, the weight of all items, and a user of the item weighs
    W_u / W_all (a sample of the pair is taken with that probability). ``item`` is the
    item's index when it is a known item (left out of every P_u and of the negatives), else
    -1. With a ``prior`` (a model with item features) q is regularized toward it, λ/2
    ‖q − prior‖², and c toward 0.
    """
    k = X.shape[1]
    weights = weights.copy()
    if item >= 0:
        weights[item] = 0.0
    own = 1.0 if p.negative_sampling == "uniform" else float(len(users)) ** p.popularity_exponent
    center = np.zeros(k + p.item_biases)
    if prior is not None:
        center[:k] = prior
    objective = _ItemObjective(np.unique(users), item, X, Y, b, seen, weights, own, p, center)
    if objective.n_samples == 0:
        return center[:k].copy(), 0.0
    theta = _newton(objective, center.copy())
    return (theta[:k], float(theta[k])) if p.item_biases else (theta, 0.0)


class _ItemObjective:
    """``solve_item``'s objective of θ = (q, c), called as ``objective(θ) -> (value,
    gradient, Hessian)``: the fixed scores of the other users' positives are computed once;
    the item's users come in parts of at most _PAIRS_PER_CHUNK (user, item) terms, their
    scores of every item and weights over their negatives kept when they are few."""

    def __init__(self, users: NDArray[np.integer[Any]], item: int, X: FloatArray,
                 Y: FloatArray, b: FloatArray, seen: CsrArrays, weights: Float64Array,
                 own: float, p: BPRParams, center: Float64Array) -> None:
        n_users = len(X)
        indptr, indices = seen
        self.X64, self.Y64 = X.astype(np.float64), Y.astype(np.float64)
        self.b64 = b.astype(np.float64)
        self.A = np.hstack([self.X64, np.ones((n_users, 1))]) if p.item_biases else self.X64
        row_of = np.repeat(np.arange(n_users), np.diff(indptr))
        keep = indices != item
        row_of, cols = row_of[keep], indices[keep]
        W = weights.sum() - np.bincount(row_of, weights=weights[cols], minlength=n_users)
        self.skip = p.seen_negatives == "skip"
        self.W_all = weights.sum() + own
        others = np.ones(n_users, dtype=bool)
        others[users] = False
        # Positives of the other users: their fixed scores, and the weight of each term.
        mine = others[row_of]
        self.rows_b = row_of[mine]
        self.s_b = self._scores_of(self.rows_b, cols[mine])
        if self.skip:
            self.w_b = np.full(len(self.rows_b), own / self.W_all)
            self.n_samples = W[users].sum() / self.W_all + self.w_b.sum()
        else:
            self.w_b = np.where(W[self.rows_b] > 0,
                                own / np.maximum(W[self.rows_b], 1e-300), 0.0)
            self.n_samples = len(users) + self.w_b.sum()
        self.seen, self.weights, self.regularization = seen, weights, p.regularization
        self.center = center
        step = max(1, _PAIRS_PER_CHUNK // len(Y))
        self.parts = [users[s:s + step] for s in range(0, len(users), step)]
        self.few = len(users) * len(Y) <= 4 * _PAIRS_PER_CHUNK
        self.kept: list[tuple[Float64Array, Float64Array]] | None = None

    def _scores_of(self, rows: NDArray[np.integer[Any]], cols: NDArray[np.integer[Any]]
                   ) -> Float64Array:
        """p_u·q_i + b_i of the pairs (rows, cols), _ROWS_PER_CHUNK at a time."""
        scores = np.empty(len(rows))
        for start in range(0, len(rows), _ROWS_PER_CHUNK):
            part = slice(start, start + _ROWS_PER_CHUNK)
            r, c = rows[part], cols[part]
            scores[part] = np.einsum("ij,ij->i", self.X64[r], self.Y64[c]) + self.b64[c]
        return scores

    def _scores_and_weights(self, part: NDArray[np.integer[Any]]
                            ) -> tuple[Float64Array, Float64Array]:
        """The scores of every item for the users ``part``, and each user's weights over
        their negatives."""
        indptr, indices = self.seen
        S = self.X64[part] @ self.Y64.T + self.b64
        Wa = np.broadcast_to(self.weights, S.shape).copy()
        for a, u in enumerate(part):
            Wa[a, indices[indptr[u]:indptr[u + 1]]] = 0.0
        if self.skip:
            return S, Wa / self.W_all
        return S, Wa / np.maximum(Wa.sum(axis=1, keepdims=True), 1e-300)

    def __call__(self, theta: Float64Array) -> tuple[Any, Float64Array, Float64Array]:
        if self.few and self.kept is None:
            self.kept = [self._scores_and_weights(part) for part in self.parts]
        A, d = self.A, self.A.shape[1]
        value, grad, hess = 0.0, np.zeros(d), np.zeros((d, d))
        for number, part in enumerate(self.parts):     # the item ranked above the negatives
            S, Wa = self.kept[number] if self.kept is not None else self._scores_and_weights(part)
            Au = A[part]
            x = (Au @ theta)[:, None] - S
            value += (np.logaddexp(0.0, -x) * Wa).sum()
            sig = _sigmoid(-x)
            grad -= Au.T @ (sig * Wa).sum(axis=1)
            hess += (Au.T * (sig * (1.0 - sig) * Wa).sum(axis=1)) @ Au
        # ... and below the other users' positives, summed per user (the same a_u).
        x = self.s_b - (A @ theta)[self.rows_b]
        value += np.logaddexp(0.0, -x) @ self.w_b
        sig = _sigmoid(-x)
        g = np.bincount(self.rows_b, weights=sig * self.w_b, minlength=len(A))
        h = np.bincount(self.rows_b, weights=sig * (1.0 - sig) * self.w_b, minlength=len(A))
        grad += A.T @ g
        hess += (A.T * h) @ A
        n, reg, e = self.n_samples, self.regularization, theta - self.center
        return (value / n + 0.5 * reg * (e @ e), grad / n + reg * e, hess / n + reg * np.eye(d))
