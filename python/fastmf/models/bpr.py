"""Bayesian personalized ranking (Rendle et al. 2009): pairwise ranking by Hogwild SGD."""
import copy
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .. import _core
from .. import _validation as v
from ..data import Csr
from ..exceptions import ModelFitError
from ._arrays import normal_factors
from ._base import MatrixFactorizationBase, ServingMixin, check_common
from ._locking import reads

# Negative candidates a sample draws (the C++ sampler's `tries`) per ``seen_negatives``.
NEGATIVE_TRIES = {"redraw": 32, "skip": 1}


@dataclass
class BprState:
    X: np.ndarray            # user factors (n_users, k)
    Y: np.ndarray            # item factors (n_items, k)
    b: np.ndarray            # item biases (n_items,), or empty without biases
    data: object             # the training Interactions
    positives: Csr           # the entries > 0, by user (sorted rows)
    user_of: np.ndarray      # the user index of every positive (int32)
    cdf: np.ndarray          # cumulative negative-sampling weights, or empty for uniform
    rng: np.random.Generator
    val: object = None
    epoch: int = 0           # epochs done
    totals: tuple = (0.0, 0, 0)   # (objective, ordered, used) of the last epoch

    def copy(self):
        return BprState(self.X.copy(), self.Y.copy(), self.b.copy(), self.data, self.positives,
                        self.user_of, self.cdf, self.rng, self.val, self.epoch, self.totals)


class BPR(ServingMixin, MatrixFactorizationBase):
    r"""Bayesian personalized ranking: matrix factorization for implicit feedback, trained
    to rank each user's observed items above the unobserved ones (Rendle, Freudenthaler,
    Gantner and Schmidt-Thieme 2009, "BPR: Bayesian Personalized Ranking from Implicit
    Feedback").

    The score of item i for user u is :math:`\hat x_{ui} = p_u \cdot q_i + b_i`. A step
    samples a user u with an observed item i and an unobserved item j and ascends
    :math:`\ln \sigma(x) - \frac{\lambda}{2}(\|p_u\|^2 + \|q_i\|^2 + \|q_j\|^2 + b_i^2
    + b_j^2)` with :math:`x = \hat x_{ui} - \hat x_{uj}`. With :math:`g = \sigma(-x)` and
    step :math:`\eta`:

    .. math::
        p_u \mathrel{+}= \eta (g (q_i - q_j) - \lambda p_u), \quad
        q_i \mathrel{+}= \eta (g\, p_u - \lambda q_i), \quad
        q_j \mathrel{+}= \eta (-g\, p_u - \lambda q_j), \quad
        b_i \mathrel{+}= \eta (g - \lambda b_i), \quad
        b_j \mathrel{+}= \eta (-g - \lambda b_j)

    (all from the values before the step). The pair (u, i) is an observed interaction drawn
    uniformly, so active users and popular items are sampled more often, as in the paper's
    bootstrap sampling. j is drawn uniformly over the items (``negative_sampling=
    "uniform"``) or with probability proportional to its number of training users raised to
    ``popularity_exponent`` (``"popularity"``); a candidate the user has observed (found by
    binary search in the user's sorted row) is redrawn, up to 32 times, after which the
    sample is skipped (``seen_negatives="redraw"``), or skips the sample at once
    (``"skip"``, as the ``implicit`` library does). An epoch takes as many samples as there
    are positive training interactions; threads update the shared factors without locks
    (Hogwild). The draws are computed in C++ from a per-epoch seed and the sample's number
    (a counter-based splitmix64 stream), so they do not depend on the thread count; with
    ``num_threads=1`` and a seed, a fit is bit-for-bit repeatable.

    Stored values > 0 are the positives (their size is ignored); stored zeros count as
    unobserved. Values must be >= 0.

    Parameters
    ----------
    factors : int, default 64
    learning_rate : float, default 0.05
        η (> 0), constant over the epochs.
    regularization : float, default 0.02
        λ (>= 0), on the factors and the item biases.
    epochs : int, default 100
    negative_sampling : {"uniform", "popularity"}, default "uniform"
    popularity_exponent : float, default 1.0
        With ``"popularity"``, j is drawn with probability ∝ count_j ** exponent, count_j
        its number of positive interactions (1.0 is the item of a random interaction, as
        the ``implicit`` library draws it; items without any are never drawn).
    seen_negatives : {"redraw", "skip"}, default "redraw"
        What a negative candidate that the user has observed does: it is drawn again
        (up to 32 candidates), or the sample is skipped (no step). With popularity
        negatives "skip" takes fewer steps for users who have seen many popular items,
        which is how implicit's BPR samples.
    item_biases : bool, default True
        Learn b; ``False`` keeps every b_i at 0.
    init_std : float, default 0.1
        Standard deviation (> 0) of the normal initialization of the factors (biases start
        at 0).
    early_stopping : int or None, default None
        Stop when the validation NDCG@10 has not improved for this many epochs, keeping the
        best epoch (needs ``fit(..., validation=...)``).
    dtype : {"float32", "float64"}, default "float32"
    num_threads : int, default 0
        0 uses all cores (OpenMP, honours OMP_NUM_THREADS).
    seed : int, numpy Generator or None, default None
    verbose : bool, default True

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
    item_biases_ : ndarray
        b (zeros with ``item_biases=False``).
    history_ : list of dict
        Per epoch: ``loss``, the mean over the epoch's samples of the sample objective
        :math:`-\ln \sigma(x) + \frac{\lambda}{2}(\|p_u\|^2 + \|q_i\|^2 + \|q_j\|^2 + b_i^2
        + b_j^2)`, each taken just before its step (the quantity whose stochastic gradient
        the steps follow); ``train_auc``, the share of those samples with x > 0 (an estimate
        of the training AUC); ``seconds``; and with validation data ``val_precision@10``
        and ``val_ndcg@10`` (:func:`fastmf.metrics.evaluate`, training items excluded; its
        AUC, which ranks every item, would triple the cost of each epoch's evaluation).

    Raises
    ------
    ModelFitError
        When an epoch's objective becomes non-finite (the learning rate is too large); the
        model then keeps the last finite state, the one before that epoch.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.Interactions.from_arrays([0, 0, 0, 1, 1, 2, 2, 3], [0, 1, 2, 0, 1, 3, 4, 3])
    >>> model = fastmf.BPR(factors=4, epochs=300, num_threads=1, seed=0, verbose=False)
    >>> model.fit(data).recommend(1, n=1)[0].tolist()       # user 1 shares user 0's taste
    [2]
    >>> model.history_[-1]["train_auc"] > model.history_[0]["train_auc"]
    True
    """

    _monitor = "val_ndcg@10"
    _monitor_mode = "max"
    _iterations_param = "epochs"

    def __init__(self, factors=64, learning_rate=0.05, regularization=0.02, epochs=100,
                 negative_sampling="uniform", popularity_exponent=1.0,
                 seen_negatives="redraw", item_biases=True, init_std=0.1, early_stopping=None,
                 dtype="float32", num_threads=0, seed=None, verbose=True):
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.epochs = epochs
        self.negative_sampling = negative_sampling
        self.popularity_exponent = popularity_exponent
        self.seen_negatives = seen_negatives
        self.item_biases = item_biases
        self.init_std = init_std
        self.early_stopping = early_stopping
        self.dtype = dtype
        self.num_threads = num_threads
        self.seed = seed
        self.verbose = verbose

    def _check_params(self):
        p = check_common(self)
        p["learning_rate"] = v.check_float("learning_rate", self.learning_rate, minimum=0,
                                           strict_minimum=True)
        p["regularization"] = v.check_float("regularization", self.regularization, minimum=0)
        p["negative_sampling"] = v.check_choice("negative_sampling", self.negative_sampling,
                                                ("uniform", "popularity"))
        p["popularity_exponent"] = v.check_float("popularity_exponent", self.popularity_exponent,
                                                 minimum=0)
        p["seen_negatives"] = v.check_choice("seen_negatives", self.seen_negatives,
                                             ("redraw", "skip"))
        if not isinstance(self.item_biases, bool):
            raise TypeError(f"item_biases must be True or False, got {self.item_biases!r}")
        p["item_biases"] = self.item_biases
        p["init_std"] = v.check_float("init_std", self.init_std, minimum=0, strict_minimum=True)
        return SimpleNamespace(**p)

    # -- training -------------------------------------------------------------------
    def _start(self, data, val, p):
        positives = positive_csr(data)
        rng = np.random.default_rng(p.seed)
        X = normal_factors(rng, data.n_users, p.factors, p.init_std, p.dtype)
        Y = normal_factors(rng, data.n_items, p.factors, p.init_std, p.dtype)
        b = np.zeros(data.n_items if p.item_biases else 0, dtype=p.dtype)
        user_of = np.repeat(np.arange(data.n_users, dtype=np.int32), np.diff(positives.indptr))
        cdf = np.zeros(0)
        if p.negative_sampling == "popularity":
            counts = np.bincount(positives.indices, minlength=data.n_items).astype(np.float64)
            cdf = np.cumsum(counts ** p.popularity_exponent * (counts > 0))
        return BprState(X, Y, b, data, positives, user_of, cdf, rng, val)

    def _iterate(self, state, p):
        R, arrays = state.positives, (state.X, state.Y, state.b)
        backup = [a.copy() for a in arrays]
        seed = int(state.rng.integers(0, 2**63))
        totals = _core.bpr_epoch(R.indptr, R.indices, state.user_of, state.cdf, state.X, state.Y,
                                 state.b, p.dtype(p.learning_rate), p.dtype(p.regularization),
                                 len(R.indices), seed, NEGATIVE_TRIES[p.seen_negatives],
                                 p.num_threads)
        state.epoch += 1
        if not np.isfinite(totals[0]):
            for saved, array in zip(backup, arrays):
                np.copyto(array, saved)
            error = ModelFitError(
                f"BPR diverged in epoch {state.epoch}: the objective became non-finite; use a "
                f"smaller learning_rate (now {p.learning_rate})")
            error.keeps_last_state = True
            raise error
        state.totals = totals

    def _evaluate(self, state, p):
        objective, ordered, used = state.totals
        record = {"loss": objective / used if used else float("nan"),
                  "train_auc": ordered / used if used else float("nan")}
        if state.val is not None:
            from ..metrics import evaluate
            view = copy.copy(self)          # this epoch's model, leaving self untouched
            view._publish(state)
            scores = evaluate(view, state.val, train=state.data, k=10,
                              metrics=("precision", "ndcg"))
            record["val_precision@10"] = scores["precision@10"]
            record["val_ndcg@10"] = scores["ndcg@10"]
        return record

    def _snapshot(self, state):
        return state.copy()

    def _check_finite(self, state):
        if not all(np.isfinite(a).all() for a in (state.X, state.Y, state.b)):
            raise ModelFitError(f"the factors became non-finite; use a smaller learning_rate "
                                f"(now {self.learning_rate}) or dtype='float64'")

    def _publish(self, state):
        self.user_factors_, self.item_factors_ = state.X, state.Y
        self.item_biases_ = state.b if len(state.b) else np.zeros(len(state.Y), state.Y.dtype)
        self.user_ids_, self.item_ids_ = state.data.user_ids, state.data.item_ids
        self.item_info_ = state.data.item_info
        self._seen = (state.data.by_user.indptr, state.data.by_user.indices)

    # -- serving ----------------------------------------------------------------------
    def _solve_rows(self, side, R, row_ids=None):
        """Factors (and item biases) of the rows of R that minimise BPR's own expected
        objective with everything else fixed, by Newton's method (see :func:`solve_user`
        and :func:`solve_item`); values > 0 are the positives."""
        p = self._check_params()
        if (R.data < 0).any():
            raise ValueError("implicit data must be counts >= 0; found negative values")
        Y = self.item_factors_
        weights = self._negative_weights(p)
        X = np.zeros((R.shape[0], Y.shape[1]), dtype=Y.dtype)
        b = np.zeros(R.shape[0], dtype=Y.dtype)
        for row in range(R.shape[0]):
            cols = R.indices[R.indptr[row]:R.indptr[row + 1]]
            cols = cols[R.data[R.indptr[row]:R.indptr[row + 1]] > 0]
            if side == "user":
                X[row] = solve_user(cols, Y, self.item_biases_, weights, p.regularization)
            else:
                known = -1 if row_ids is None else int(self.item_ids_.index(row_ids[row:row + 1])[0])
                X[row], b[row] = solve_item(cols, known, self.user_factors_, Y, self.item_biases_,
                                            self._seen, weights, p)
        if not (np.isfinite(X).all() and np.isfinite(b).all()):
            raise ModelFitError(f"the {side} solve did not converge; increase regularization "
                                f"(now {p.regularization})")
        return X, b

    def _negative_weights(self, p):
        """The weight of each item as a negative sample: 1 (uniform), or its number of
        training interactions to the popularity exponent."""
        if p.negative_sampling == "uniform":
            return np.ones(len(self.item_ids_))
        counts = np.bincount(self._seen[1], minlength=len(self.item_ids_)).astype(np.float64)
        return counts ** p.popularity_exponent * (counts > 0)

    def _query(self, uidx):
        return self.user_factors_[uidx], np.zeros(len(uidx), dtype=self.user_factors_.dtype)

    def _item_bias(self):
        return self.item_biases_

    @reads
    def predict(self, users, items):
        """Scores p_u·q_i + b_i for parallel arrays of raw ids.

        Parameters
        ----------
        users, items : array-like of int or str
            Raw ids, one pair per score; they need not be in the training data: an unknown
            user gets b_i (the popularity part of the score), an unknown item 0.

        Returns
        -------
        ndarray
            A score per pair, in the model dtype; only their order within a user means
            something.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ValueError
            ``users`` and ``items`` differ in length.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 1, 2, 0])
        >>> model = fastmf.BPR(factors=2, epochs=50, num_threads=1, seed=0, verbose=False)
        >>> scores = model.fit(data).predict([0, 0, 7], [1, 2, 1])
        >>> scores.shape, bool(scores[2] == model.item_biases_[1])
        ((3,), True)
        """
        self._check_is_fitted()
        users, items = v.as_ids("users", users), v.as_ids("items", items)
        v.check_same_length(users=users, items=items)
        u, i = self._index("user", users, "users"), self._index("item", items, "items")
        out = np.zeros(len(users), dtype=self.item_factors_.dtype)
        out[i >= 0] = self.item_biases_[i[i >= 0]]
        known = (u >= 0) & (i >= 0)
        out[known] += np.einsum("ij,ij->i", self.user_factors_[u[known]],
                                self.item_factors_[i[known]])
        return out


def positive_csr(data):
    """The entries > 0 of data.by_user as a Csr (rows stay sorted); checks that the values
    are >= 0 and that there is a positive and an item left to be a negative."""
    R = data.by_user
    values = R.data
    negative = values < 0
    if negative.any():
        raise ValueError(f"implicit data must be counts >= 0; found {int(negative.sum())} "
                         f"negative values (first at position {int(np.flatnonzero(negative)[0])})")
    keep = values > 0
    if keep.all():
        positives = R
    else:
        counts = np.bincount(np.repeat(np.arange(data.n_users), np.diff(R.indptr))[keep],
                             minlength=data.n_users)
        indptr = np.zeros(data.n_users + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        positives = Csr(indptr, R.indices[keep], values[keep], R.shape)
    counts = np.diff(positives.indptr)
    if not counts.any():
        raise ValueError("the training data has no value > 0; BPR needs positive interactions")
    if (counts[counts > 0] == data.n_items).all():
        raise ValueError("every user with interactions has them with every item; BPR needs "
                         "unobserved items to sample as negatives")
    if len(positives.indices) >= 2**32:
        raise ValueError(f"BPR samples from at most 2**32 - 1 interactions, got "
                         f"{len(positives.indices)}")
    return positives


# -- rows solved by BPR's objective, the other factors fixed --------------------------
# With l(x) = -ln σ(x) = log(1 + exp(-x)), l'(x) = -σ(-x) and l''(x) = σ(x) σ(-x), every
# term of the objective is l of a linear function of the unknowns, so its gradient and
# Hessian are sums of rank-one terms; Newton's method from 0 converges in a few steps.
_PAIRS_PER_CHUNK = 1 << 22     # pair terms held at once (32 MB of float64)
_ROWS_PER_CHUNK = 1 << 16      # factor rows gathered at once


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _newton(objective, theta, max_steps=50):
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


def solve_user(positives, Y, b, weights, regularization):
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

    def objective(p):
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


def solve_item(users, item, X, Y, b, seen, weights, p):
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

    def scores_and_weights(part):
        S = X64[part] @ Y64.T + b64
        Wa = np.broadcast_to(weights, S.shape).copy()
        for a, u in enumerate(part):
            Wa[a, indices[indptr[u]:indptr[u + 1]]] = 0.0
        if skip:
            return S, Wa / W_all
        return S, Wa / np.maximum(Wa.sum(axis=1, keepdims=True), 1e-300)

    kept = ([scores_and_weights(part) for part in parts]
            if len(users) * len(Y) <= 4 * _PAIRS_PER_CHUNK else None)

    def objective(theta):
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
