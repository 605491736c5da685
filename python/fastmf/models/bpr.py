"""Bayesian personalized ranking (Rendle et al. 2009): pairwise ranking by Hogwild SGD."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._kernels import bpr
from ..data import Csr
from ..exceptions import ModelFitError
from . import _bpr_features as features
from ._factors import init_factors
from ._fit import LastFiniteState
from ._hybrid import checked_features, fitted_prior
from ._params import BPRParams, as_kernels_see, check_bool, common_params
from ._ranking import RankingMF, check_counts

if TYPE_CHECKING:
    from typing import Any, Literal

    from numpy.typing import NDArray

    from .._typing import Float64Array, FloatArray, FloatDType, Int32Array, Record, Seed
    from ..data import Interactions
    from ..features import ItemFeatures, UserFeatures
    from ._bpr_features import Embeddings


@dataclass
class BprState:
    X: FloatArray            # user factors (n_users, k); with features the user embeddings
    Y: FloatArray            # item factors (n_items, k); with features the item embeddings
    b: FloatArray            # item biases (n_items,) (with features: the item embeddings'),
                             # or empty without biases
    data: Interactions       # the training Interactions
    positives: Csr           # the entries > 0, by user (sorted rows)
    user_of: Int32Array      # the user index of every positive (int32)
    cdf: Float64Array        # cumulative negative-sampling weights, or empty for uniform
    rng: np.random.Generator
    val: Interactions | None = None
    epoch: int = 0           # epochs done
    totals: tuple[float, int, int] = (0.0, 0, 0)   # (objective, ordered, used) of the last epoch
    lr: float = 0.0          # the step of the last epoch
    backup: LastFiniteState = None  # type: ignore[assignment]  # (X, Y, b) before the epoch
    # with side features: both sides' Embeddings (models/_bpr_features.py), else None
    sides: dict[str, Embeddings] | None = None

    def copy(self) -> BprState:
        return replace(self, X=self.X.copy(), Y=self.Y.copy(), b=self.b.copy())


class BPR(RankingMF):
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
    learning_rate : float, default 0.1
        η (> 0), the step of the first epoch.
    learning_rate_schedule : {"linear", "constant"}, default "linear"
        The step of epoch t (from 0) of ``epochs`` = E: η (1 − t/E) (``"linear"``: it
        falls by η/E an epoch, to η/E in the last one), or η in every epoch
        (``"constant"``; with η = 0.05, the earlier defaults). On validation
        parts of MovieLens 100K (``python -m bench.studies.bpr_schedule``) the linear
        schedule from η = 0.1 ranks better than any constant η tried, at 25 to 200 epochs.
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
    user_features : None or :class:`fastmf.UserFeatures`, default None
        Side features of users, in LightFM's formulation: a user's factors are
        :math:`p_u = e_u + a_u E`, the user's own embedding plus the embeddings E of its
        features weighted by :math:`a_u` (its feature weights scaled to unit length,
        :meth:`fastmf.UserFeatures.weights`); a step moves every embedding of the sum along
        its share of the gradient, :math:`E_f \mathrel{+}= \eta (a_{uf}\, g (q_i - q_j)
        - \lambda_f E_f)`. A user known by its features alone is then placed at
        :math:`a_u E` (``add_users``, ``recommend_new_user(features=...)``).
    item_features : None, "genres" or :class:`fastmf.ItemFeatures`, default None
        The same for items: :math:`q_i = f_i + b_i F` and, with ``item_biases``, the bias
        :math:`c_i + b_i \gamma`, a learned bias per feature ("genres": the 0/1 genres of
        the training data's ``item_info``).
    feature_regularization : float, default 0.02
        :math:`\lambda_f` (>= 0), on every feature embedding (and feature bias) a step
        touches, in place of λ.
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
    user_feature_names_, user_feature_factors_, user_priors_ : ndarray
        With ``user_features``: the feature names, their embeddings E (a row per name) and
        every training user's prior :math:`a_u E` (``user_factors_`` minus its own part).
    feature_names_, feature_factors_, item_priors_ : ndarray
        With ``item_features``: the same for items (names, F and :math:`b_i F`).
    feature_biases_ : ndarray
        With ``item_features`` and ``item_biases``: γ, the bias of each item feature.
    history_ : list of dict
        Per epoch: ``loss``, the mean over the epoch's samples of the sample objective
        :math:`-\ln \sigma(x) + \frac{\lambda}{2}(\|p_u\|^2 + \|q_i\|^2 + \|q_j\|^2 + b_i^2
        + b_j^2)`, each taken just before its step (the quantity whose stochastic gradient
        the steps follow; with features, the penalty of every embedding of the three rows);
        ``train_auc``, the share of those samples with x > 0 (an estimate of the training
        AUC); ``learning_rate``, the epoch's η; ``seconds``; and with
        validation data ``val_precision@10``
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

    _required_state = RankingMF._required_state + ("item_biases_",)

    item_biases_: FloatArray        # zeros with item_biases=False

    _iterations_param = "epochs"
    _model_file = True
    # A model file written before these parameters existed was fitted with these values.
    _legacy_params = {"user_features": None, "item_features": None,
                      "feature_regularization": 0.02}

    def __init__(self, factors: int = 64, learning_rate: float = 0.1,
                 learning_rate_schedule: Literal["linear", "constant"] = "linear",
                 regularization: float = 0.02, epochs: int = 100,
                 negative_sampling: Literal["uniform", "popularity"] = "uniform",
                 popularity_exponent: float = 1.0,
                 seen_negatives: Literal["redraw", "skip"] = "redraw", item_biases: bool = True,
                 init_std: float = 0.1, early_stopping: int | None = None,
                 user_features: UserFeatures | None = None,
                 item_features: Literal["genres"] | ItemFeatures | None = None,
                 feature_regularization: float = 0.02, dtype: FloatDType = "float32",
                 num_threads: int = 0, seed: Seed = None, verbose: bool = True) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.regularization = regularization
        self.epochs = epochs
        self.negative_sampling = negative_sampling
        self.popularity_exponent = popularity_exponent
        self.seen_negatives = seen_negatives
        self.item_biases = item_biases
        self.init_std = init_std
        self.early_stopping = early_stopping
        self.user_features = user_features
        self.item_features = item_features
        self.feature_regularization = feature_regularization
        self.dtype = dtype
        self.num_threads = num_threads
        self.seed = seed
        self.verbose = verbose

    def _check_params(self) -> BPRParams:
        return as_kernels_see(BPRParams(
            **common_params(self),
            learning_rate=v.check_float("learning_rate", self.learning_rate, minimum=0,
                                        strict_minimum=True),
            learning_rate_schedule=v.check_choice(
                "learning_rate_schedule", self.learning_rate_schedule, ("constant", "linear")),
            regularization=v.check_float("regularization", self.regularization, minimum=0),
            negative_sampling=v.check_choice("negative_sampling", self.negative_sampling,
                                             ("uniform", "popularity")),
            popularity_exponent=v.check_float("popularity_exponent", self.popularity_exponent,
                                              minimum=0),
            seen_negatives=v.check_choice("seen_negatives", self.seen_negatives,
                                          ("redraw", "skip")),
            item_biases=check_bool("item_biases", self.item_biases),
            init_std=v.check_float("init_std", self.init_std, minimum=0, strict_minimum=True),
            user_features=checked_features(  # type: ignore[arg-type]
                "user_features", "user", self.user_features),
            item_features=checked_features(  # type: ignore[arg-type]
                "item_features", "item", self.item_features, genres=True),
            feature_regularization=v.check_float(
                "feature_regularization", self.feature_regularization, minimum=0)), self)

    # -- training -------------------------------------------------------------------
    def _start(self, data: Interactions, val: Interactions | None, p: BPRParams
               ) -> BprState:
        positives = positive_csr(data)
        rng = np.random.default_rng(p.seed)
        X, Y = init_factors(rng, data.n_users, data.n_items, p.factors, p.init_std, p.dtype,
                            users_first=True)
        b = np.zeros(data.n_items if p.item_biases else 0, dtype=p.dtype)
        sides = features.start(data, p)
        if sides is not None:        # the features' embeddings start at 0
            X, Y = (features.grown(E, sides[side], p.dtype) for E, side in ((X, "user"),
                                                                             (Y, "item")))
            b = features.grown(b, sides["item"], p.dtype) if p.item_biases else b
        user_of = np.repeat(np.arange(data.n_users, dtype=np.int32), np.diff(positives.indptr))
        cdf = np.zeros(0)
        if p.negative_sampling == "popularity":
            counts = np.bincount(positives.indices, minlength=data.n_items).astype(np.float64)
            cdf = np.cumsum(counts ** p.popularity_exponent * (counts > 0))
        return BprState(X, Y, b, data, positives, user_of, cdf, rng, val,
                        backup=LastFiniteState((X, Y, b)), sides=sides)

    def _iterate(self, state: BprState, p: BPRParams) -> None:
        state.backup.save()
        seed = int(state.rng.integers(0, 2**63))
        lr = learning_rate(p, state.epoch)
        if state.sides is None:
            totals = bpr.epoch(state.positives, state.user_of, state.cdf, state.X, state.Y,
                               state.b, lr, seed, p)
        else:
            totals = bpr.feature_epoch(state.positives, state.user_of, state.cdf,
                                       state.sides["user"], state.sides["item"], state.X,
                                       state.Y, state.b, lr, seed, p)
        state.epoch += 1
        if not np.isfinite(totals[0]):
            raise state.backup.restore(
                f"BPR diverged in epoch {state.epoch}: the objective became non-finite; use a "
                f"smaller learning_rate (now {p.learning_rate})")
        state.totals, state.lr = totals, lr

    def _evaluate(self, state: BprState, p: BPRParams) -> Record:
        objective, ordered, used = state.totals
        record = {"loss": objective / used if used else float("nan"),
                  "train_auc": ordered / used if used else float("nan"),
                  "learning_rate": state.lr}
        if state.val is not None:
            record.update(self._validation_scores(state, state.data))
        return record

    def _check_finite(self, state: BprState) -> None:
        if not all(np.isfinite(a).all() for a in (state.X, state.Y, state.b)):
            raise ModelFitError(f"the factors became non-finite; use a smaller learning_rate "
                                f"(now {self.learning_rate}) or dtype='float64'")

    def _fitted(self, state: BprState) -> dict[str, Any]:
        fitted = list(super()._fitted(state).items())
        if state.sides is None:
            biases = state.b if len(state.b) else np.zeros(len(state.Y), state.Y.dtype)
            fitted.insert(2, ("item_biases_", biases))  # after the factors, as files list them
            return dict(fitted)
        sums = features.fitted(state.sides, state.X, state.Y, state.b)
        return {**sums, **{name: value for name, value in fitted if name not in sums}}

    def _publish(self, state: BprState) -> None:
        features.clear(self)
        super()._publish(state)

    # -- serving ----------------------------------------------------------------------
    def _solve_rows(self, side: str, R: Csr, row_ids: NDArray[Any] | None = None,
                    prior: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
        """Factors (and item biases) of the rows of R that minimise BPR's own expected
        objective with everything else fixed, by Newton's method (``solve_user``
        and ``solve_item`` of ``fastmf._kernels.bpr``); values > 0 are the positives. The
        factors are regularized toward ``prior`` (None: the fitted priors of known rows of a
        side with features), the biases toward 0."""
        p = self._check_params()
        check_counts(R.data, locate=False)
        Y = self.item_factors_
        weights = self._negative_weights(p)
        X = np.zeros((R.shape[0], Y.shape[1]), dtype=Y.dtype)
        b = np.zeros(R.shape[0], dtype=Y.dtype)
        if prior is None:
            prior = fitted_prior(self, side, row_ids, Y.shape[1], Y.dtype.type)
        centers = prior.astype(np.float64) if len(prior) else [None] * R.shape[0]
        for row in range(R.shape[0]):
            cols = R.indices[R.indptr[row]:R.indptr[row + 1]]
            cols = cols[R.data[R.indptr[row]:R.indptr[row + 1]] > 0]
            if side == "user":
                X[row] = bpr.solve_user(cols, Y, self.item_biases_, weights, p.regularization,
                                        centers[row])
            else:
                known = (-1 if row_ids is None
                         else int(self.item_ids_.index(row_ids[row:row + 1])[0]))
                X[row], b[row] = bpr.solve_item(cols, known, self.user_factors_, Y,
                                                self.item_biases_, self._seen, weights, p,
                                                centers[row])
        if not (np.isfinite(X).all() and np.isfinite(b).all()):
            raise ModelFitError(f"the {side} solve did not converge; increase regularization "
                                f"(now {p.regularization})")
        return X, b

    def _negative_weights(self, p: BPRParams) -> Float64Array:
        """The weight of each item as a negative sample: 1 (uniform), or its number of
        training interactions to the popularity exponent."""
        if p.negative_sampling == "uniform":
            return np.ones(len(self.item_ids_))
        counts = np.bincount(self._seen[1], minlength=len(self.item_ids_)).astype(np.float64)
        return counts ** p.popularity_exponent * (counts > 0)

    def _item_bias(self) -> FloatArray:
        return self.item_biases_


def learning_rate(p: BPRParams, epoch: int) -> float:
    """The step η of epoch ``epoch`` (from 0) of ``p.iterations`` under the schedule."""
    if p.learning_rate_schedule == "linear":
        return p.learning_rate * (1.0 - epoch / p.iterations)
    return p.learning_rate


def positive_csr(data: Interactions) -> Csr:
    """The entries > 0 of data.by_user as a Csr (rows stay sorted); checks that the values
    are >= 0 and that there is a positive and an item left to be a negative."""
    R = data.by_user
    values = R.data
    check_counts(values)
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
