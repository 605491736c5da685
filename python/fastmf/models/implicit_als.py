"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) in the form of Rendle, Krichene, Zhang
and Koren (2022): a weight on the unobserved pairs and frequency-scaled regularization."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, cast

import numpy as np

from .. import _validation as v
from .._kernels.arrays import exact_sum, row_norms
from .._kernels.gram import gram
from .._kernels.implicit_als import objective, penalty, row_regularization, solve_rows
from ..data import Csr
from ..exceptions import ModelFitError
from ._explain import ImplicitExplain
from ._factors import check_solver_memory, init_factors
from ._fit import cholesky_error
from ._hybrid import SideFeatures, checked_features, fitted_prior, start_side
from ._hybrid import publish as publish_features
from ._params import ImplicitParams, as_kernels_see, common_params
from ._ranking import RankingMF, check_counts

if TYPE_CHECKING:
    from typing import Any, Literal

    from numpy.typing import NDArray

    from .._typing import Float64Array, FloatArray, FloatDType, Record, Seed
    from ..data import Interactions
    from ..features import ItemFeatures, UserFeatures


@dataclass
class ImplicitState:
    X: FloatArray        # user factors (n_users, k)
    Y: FloatArray        # item factors (n_items, k)
    data: Any            # the training Interactions
    C: Any               # Csr by user of the values v, c - 1 = α v, in the model dtype
    Ct: Any              # its transpose, by item
    val: Any = None      # validation Interactions
    # with features: each side's SideFeatures (models/_hybrid.py)
    features: dict[str, SideFeatures] = field(default_factory=dict)
    # after an iteration: the loss's observed part (from its item half-step) and the Gram
    # matrices (XᵀX, YᵀY) of its factors
    observed: Fraction = Fraction(0)
    grams: tuple[FloatArray, FloatArray] | None = None

    def copy(self) -> ImplicitState:
        return ImplicitState(self.X.copy(), self.Y.copy(), self.data, self.C, self.Ct, self.val,
                             {side: sf.copy() for side, sf in self.features.items()},
                             self.observed, self.grams)


class ImplicitALS(ImplicitExplain, RankingMF):
    r"""Matrix factorization for implicit feedback (counts, clicks, plays) by ALS.

    Every (user, item) pair has a preference :math:`p_{ui}` (1 if observed, else 0). An
    observed pair has the confidence :math:`c_{ui} = 1 + \alpha \log(1 + r_{ui}/\epsilon)`
    (``confidence="log"``, the default) or :math:`1 + \alpha r_{ui}` (``"linear"``); every
    unobserved pair the weight :math:`\alpha_0` (``unobserved_weight``). The loss,
    in the form of Rendle, Krichene, Zhang and Koren ("Revisiting the Performance of iALS
    on Item Recommendation Benchmarks", RecSys 2022), is

    .. math::
        \sum_{(u,i) \in \Omega} c_{ui} (1 - x_u \cdot y_i)^2
        + \alpha_0 \sum_{(u,i) \notin \Omega} (x_u \cdot y_i)^2
        + \sum_u \lambda_u \|x_u\|^2 + \sum_i \lambda_i \|y_i\|^2

    with frequency-scaled regularization :math:`\lambda_u = \lambda (n_u + \alpha_0
    n_{items})^\nu` and :math:`\lambda_i = \lambda (n_i + \alpha_0 n_{users})^\nu`
    (:math:`n_u`, :math:`n_i`: observed pairs of the user, the item; ν =
    ``regularization_exponent``). :math:`\alpha_0 = 1, \nu = 0` is the model of Hu, Koren
    and Volinsky (2008), :math:`\sum_{u,i} c_{ui} (p_{ui} - x_u \cdot y_i)^2 + \lambda
    (\sum_u \|x_u\|^2 + \sum_i \|y_i\|^2)` with :math:`c = 1` off :math:`\Omega`.

    With the items fixed, :math:`x_u = (\alpha_0 Y^T Y + \sum_{i \in u} (c_{ui} -
    \alpha_0) y_i y_i^T + \lambda_u I)^{-1} \sum_{i \in u} c_{ui} y_i`: :math:`Y^T Y` is
    computed once per half-step and each user adds only its :math:`n_u` rank-one terms,
    so a user costs :math:`O(n_u k^2 + k^3)` (a weight :math:`c_{ui} - \alpha_0` may be
    negative; the system stays positive definite). ``solver="cholesky"`` solves that
    exactly (the loss then never increases); ``solver="cg"`` runs ``cg_steps``
    conjugate-gradient steps from the previous factors (Takács et al. 2011), cheaper per
    iteration for large k.
    ``solver="block"`` (iALS++, Rendle, Zhang and Koren 2021) sweeps once over the
    coordinates in blocks of ``block_size``, solving each block's ``block_size`` x
    ``block_size`` system exactly with the others fixed, from the previous factors: a user
    costs :math:`O(n_u k b + k^2 + k b^2)` and the loss never increases; at large k it
    reaches Cholesky's loss several times sooner (the documentation's benchmarks, "How the
    defaults were chosen", "Solvers at large k"). It keeps one prediction per rating (4
    bytes in float32) while it runs.

    The defaults (λ = 1, α0 = 0.5, ν = 0.5, σ = 0.1, 8 iterations; the log confidence
    with α = 0.5, ε = 0.005) were chosen on validation parts only, as the setting closest
    to each data set's own best NDCG@10 in the worst case over MovieLens 100K (likes as
    1s, and all ratings as counts), two synthetic sets of very different density and two
    of heavy-tailed counts (:func:`fastmf.datasets.make_counts`; ``python -m
    bench.studies.implicit_defaults`` and ``implicit_confidence``). The log confidence
    holds where counts are heavy-tailed (plays, clicks): the linear one lets a few huge
    counts decide the factors. On 0/1 data the two differ only by α's scale. On the
    MovieLens 100K split of the user guide ("Implicit feedback and ranking") the defaults
    rank at test NDCG@10 0.330. Tune λ, α0, α and ε on your own validation data
    (:func:`fastmf.tune` searches them).

    Parameters
    ----------
    factors : int, default 64
    regularization : float, default 1.0
        λ (> 0). With ``regularization_exponent`` ν > 0 it is scaled by (n + α0 N)^ν, so
        its good range depends on ν.
    alpha : float, default 0.5
        Confidence scale α (> 0). Its good range depends on the transform: about 0.3 to
        1 for the log confidence at the default ε, about 1 to 4 for the linear one on
        0/1 data.
    unobserved_weight : float, default 0.5
        α0 (> 0), the weight of every unobserved pair's squared score. 1 is Hu, Koren and
        Volinsky's model.
    regularization_exponent : float, default 0.5
        ν in [0, 1]: each row's λ is multiplied by (n + α0 N)^ν, n its observed pairs and
        N the rows of the other side (0: plain λ, as Hu, Koren and Volinsky; 1:
        proportional to the row's share of the loss).
    confidence : {"log", "linear"}, default "log"
        How a value r (a count) becomes a confidence: ``1 + α log(1 + r/ε)`` or
        ``1 + α r``.
    epsilon : float, default 0.005
        ε (> 0) of the log confidence; a count of 1 gets ``1 + α log(1 + 1/ε)`` (3.65 at
        the defaults) and each e-fold of the count adds about α.
    iterations : int, default 8
    solver : {"cholesky", "cg", "block"}, default "cholesky"
    cg_steps : int, default 3
        Conjugate-gradient steps per row and half-step (``solver="cg"``).
    block_size : int, default 32
        Coordinates per block of ``solver="block"`` (>= 1); ``block_size >= factors`` is one
        exact solve per row, as Cholesky.
    init_std : float or None, default None
        Standard deviation of the normal initialization. None: 0.1/√k, the N(0, σ²/k)
        start of Rendle et al. with σ = 0.1.
    early_stopping : int or None, default None
        Stop when the validation NDCG@10 has not improved for this many iterations, keeping
        the best iteration (needs ``fit(..., validation=...)``).
    user_features : None or :class:`fastmf.UserFeatures`, default None
        Side features of users: each user's factors are shrunk toward the prior
        :math:`a_u D` predicted from the user's feature weights :math:`a_u` (scaled to unit
        length) instead of 0, the penalty :math:`\lambda_u \|x_u - a_u D\|^2` replacing
        :math:`\lambda_u \|x_u\|^2`; the row solve gains :math:`\lambda_u a_u D` on its
        right-hand side, and the map D (penalty :math:`\lambda_f \|D\|^2`) is solved in
        closed form (ridge, weights :math:`\lambda_u`) after every user half-step. A new
        user is then placed from features alone at its prior :math:`a_u D`
        (:meth:`recommend_new_user`, :meth:`add_users`), or with a few interactions by
        the row solve toward it (:meth:`fold_in`). Not with ``solver="block"``.
    item_features : None, "genres" or :class:`fastmf.ItemFeatures`, default None
        The same for items (``"genres"``: those of the training data's ``item_info``).
    feature_regularization : float, default 1.0
        λ_f (> 0), the L2 penalty on the feature maps.
    dtype : {"float32", "float64"}, default "float32"
    num_threads : int, default 0
    seed : int, numpy Generator or None, default None
    verbose : bool, default True

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
    history_ : list of dict
        Per iteration: ``loss`` (the full objective above, with features' terms, computed
        without forming the dense matrix), ``seconds``, and with validation data
        ``val_precision@10`` and ``val_ndcg@10``.
    feature_factors_, feature_names_, item_priors_ : ndarray
        With ``item_features``: the feature map (a row per name of ``feature_names_``) and
        every item's prior.
    user_feature_factors_, user_feature_names_, user_priors_ : ndarray
        With ``user_features``: the same for users.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.Interactions.from_arrays([0, 0, 0, 1, 1, 2, 2, 3], [0, 1, 2, 0, 1, 3, 4, 3])
    >>> model = fastmf.ImplicitALS(factors=4, iterations=10, seed=0, verbose=False).fit(data)
    >>> model.recommend(1, n=1)[0].tolist()       # user 1 shares user 0's taste
    [2]
    """

    _model_file = True
    # A model file written before these parameters existed was fitted with these values.
    _legacy_params = {"unobserved_weight": 1.0, "regularization_exponent": 0.0,
                      "user_features": None, "item_features": None,
                      "feature_regularization": 1.0}

    def __init__(self, factors: int = 64, regularization: float = 1.0, alpha: float = 0.5,
                 unobserved_weight: float = 0.5, regularization_exponent: float = 0.5,
                 confidence: Literal["log", "linear"] = "log", epsilon: float = 0.005,
                 iterations: int = 8, solver: Literal["cholesky", "cg", "block"] = "cholesky",
                 cg_steps: int = 3, block_size: int = 32, init_std: float | None = None,
                 early_stopping: int | None = None, user_features: UserFeatures | None = None,
                 item_features: Literal["genres"] | ItemFeatures | None = None,
                 feature_regularization: float = 1.0, dtype: FloatDType = "float32",
                 num_threads: int = 0, seed: Seed = None, verbose: bool = True) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.unobserved_weight = unobserved_weight
        self.regularization_exponent = regularization_exponent
        self.confidence = confidence
        self.epsilon = epsilon
        self.iterations = iterations
        self.solver = solver
        self.cg_steps = cg_steps
        self.block_size = block_size
        self.init_std = init_std
        self.early_stopping = early_stopping
        self.user_features = user_features
        self.item_features = item_features
        self.feature_regularization = feature_regularization
        self.dtype = dtype
        self.num_threads = num_threads
        self.seed = seed
        self.verbose = verbose

    def _check_params(self) -> ImplicitParams:
        common = common_params(self)
        p = as_kernels_see(ImplicitParams(
            **common,
            regularization=v.check_float("regularization", self.regularization, minimum=0,
                                         strict_minimum=True),
            alpha=v.check_float("alpha", self.alpha, minimum=0, strict_minimum=True),
            unobserved_weight=v.check_float("unobserved_weight", self.unobserved_weight,
                                            minimum=0, strict_minimum=True),
            regularization_exponent=v.check_float(
                "regularization_exponent", self.regularization_exponent, minimum=0, maximum=1),
            confidence=v.check_choice("confidence", self.confidence, ("linear", "log")),
            epsilon=v.check_float("epsilon", self.epsilon, minimum=0, strict_minimum=True),
            solver=v.check_choice("solver", self.solver, ("cholesky", "cg", "block")),
            cg_steps=v.check_int("cg_steps", self.cg_steps, minimum=1),
            block_size=v.check_int("block_size", self.block_size, minimum=1),
            init_std=(0.1 / np.sqrt(common["factors"]) if self.init_std is None
                      else v.check_float("init_std", self.init_std, minimum=0)),
            user_features=checked_features(  # type: ignore[arg-type]
                "user_features", "user", self.user_features),
            item_features=checked_features(  # type: ignore[arg-type]
                "item_features", "item", self.item_features, genres=True),
            feature_regularization=v.check_float("feature_regularization",
                                                 self.feature_regularization, minimum=0,
                                                 strict_minimum=True)), self)
        if p.solver == "block" and (p.user_features is not None or p.item_features is not None):
            raise ValueError("solver='block' does not take side features; use "
                             "solver='cholesky' or solver='cg' with user_features or "
                             "item_features")
        return p

    @staticmethod
    def _confidence_values(values: NDArray[Any], p: ImplicitParams) -> FloatArray:
        """The values v with c - 1 = α v on observed pairs, from the raw values r >= 0, in
        ``p.dtype`` (``p``: the checked parameters): v = r for the linear confidence (the
        input itself, no copy, when it is already in the model dtype), v = log(1 + r / ε)
        for the log confidence."""
        if p.confidence == "linear":
            out = cast("FloatArray", values.astype(p.dtype, copy=False))
        else:
            out = cast("FloatArray", np.array(values, dtype=p.dtype))
            out /= p.dtype(p.epsilon)
            np.log1p(out, out=out)
        largest = 1.0 + p.alpha * float(out.max(initial=0.0))     # the largest confidence
        if not np.isfinite(largest) or largest > float(np.finfo(p.dtype).max):
            raise ValueError(f"the largest confidence, 1 + alpha * {float(out.max()):.3g} = "
                             f"{largest:.3g}, overflows the model dtype {np.dtype(p.dtype)}; use "
                             f"a smaller alpha, confidence='log' or dtype='float64'")
        return out

    def _start(self, data: Interactions, val: Interactions | None, p: ImplicitParams
               ) -> ImplicitState:
        check_counts(data.ratings)
        check_solver_memory(p.factors, p.dtype, p.num_threads)
        for counts, n_other in ((data.by_user.counts(), data.n_items),
                                (data.by_item.counts(), data.n_users)):
            largest = float(np.max(row_regularization(counts, n_other, p, np.float64),
                                   initial=0.0))
            if largest > float(np.finfo(p.dtype).max):
                raise ValueError(f"regularization * (n + unobserved_weight * N)^"
                                 f"regularization_exponent reaches {largest:.3g}, which "
                                 f"overflows the model dtype {np.dtype(p.dtype)}; use a smaller "
                                 f"regularization or regularization_exponent")
        X, Y = init_factors(np.random.default_rng(p.seed), data.n_users, data.n_items,
                            p.factors, p.init_std, p.dtype)
        R = data.by_user
        features = {}
        for side in ("user", "item"):
            sf = start_side(getattr(p, f"{side}_features"), data, side, p.factors, p.dtype)
            if sf is not None:
                features[side] = sf                    # priors A W, 0 at the start
        values = self._confidence_values(R.data, p)
        if values is R.data:           # the data's own CSR both ways: no copies
            return ImplicitState(X, Y, data, R, data.by_item, val, features)
        # The values are computed value by value, so those of the item CSR are its own
        # values', converted: no transpose.
        Rt = data.by_item
        C = Csr(R.indptr, R.indices, values, R.shape)
        Ct = Csr(Rt.indptr, Rt.indices, self._confidence_values(Rt.data, p), Rt.shape)
        return ImplicitState(X, Y, data, C, Ct, val, features)

    def _iterate(self, state: ImplicitState, p: ImplicitParams) -> None:
        YtY = gram(state.Y, p.num_threads) if state.grams is None else state.grams[1]
        self._half_step(state.C, state.Y, YtY, state.X, p, "user", state)
        XtX = gram(state.X, p.num_threads)
        row_loss = np.empty(state.Ct.shape[0], dtype=np.float64)
        self._half_step(state.Ct, state.X, XtX, state.Y, p, "item", state, row_loss)
        state.observed = exact_sum(row_loss)     # from the rows the item solve read
        state.grams = XtX, gram(state.Y, p.num_threads)

    def _half_step(self, C: Csr, Y: FloatArray, YtY: FloatArray, X: FloatArray,
                   p: ImplicitParams, side: str, state: ImplicitState,
                   row_loss: Float64Array | None = None) -> None:
        sf = state.features.get(side)
        failed = solve_rows(C, Y, YtY, X, p, prior=None if sf is None else sf.prior,
                            row_loss=row_loss)
        self._check_rows_solved(failed, side, state.data, p)
        if sf is not None:          # the feature map of this side, for the factors just solved
            sf.update(X, row_regularization(C.counts(), len(Y), p, np.float64),
                      p.feature_regularization)

    @staticmethod
    def _fit_error(side: str, raw_id: Any, index: int, p: ImplicitParams) -> ModelFitError:
        """The error for a failed row solve: the row's side, raw id and index."""
        return cholesky_error(side, index, f"regularization (now {p.regularization})", raw_id)

    def _evaluate(self, state: ImplicitState, p: ImplicitParams) -> Record:
        record = {"loss": self._loss(state, p)}
        if state.val is not None:
            record.update(self._validation_scores(state, state.data))
        return record

    def _loss(self, state: ImplicitState, p: ImplicitParams) -> float:
        """The objective without the dense matrix (see ``objective``)."""
        X, Y = state.X, state.Y
        user, item = state.features.get("user"), state.features.get("item")
        penalties = (penalty(state.C.counts(), len(Y), X if user is None else X - user.prior, p)
                     + penalty(state.Ct.counts(), len(X), Y if item is None else Y - item.prior,
                               p))
        feature_sq = sum((exact_sum(row_norms(sf.W)) for sf in state.features.values()),
                         Fraction(0))
        grams = state.grams or (gram(X, p.num_threads), gram(Y, p.num_threads))
        return objective(*grams, state.observed, penalties, p,
                         Fraction(p.feature_regularization) * feature_sq)

    def _publish(self, state: ImplicitState) -> None:
        super()._publish(state)
        publish_features(self, {side: state.features.get(side) for side in ("user", "item")})

    def _check_finite(self, state: ImplicitState) -> None:
        if not (np.isfinite(state.X).all() and np.isfinite(state.Y).all()):
            raise ModelFitError(f"the factors became non-finite; increase regularization "
                                f"(now {self.regularization}) or use dtype='float64'")

    # -- serving ----------------------------------------------------------------------
    def _solve_rows(self, side: str, R: Csr, row_ids: NDArray[Any] | None = None,
                    prior: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
        """Factors of the rows of R by the exact (Cholesky) implicit row solve against the
        other side's fitted factors, shrunk toward ``prior`` (None: the fitted priors of
        known rows of a side with features); no biases (zeros)."""
        p = self._check_params()
        check_counts(R.data, locate=False)
        Y = self.item_factors_ if side == "user" else self.user_factors_
        # a fold-in always solves exactly, in the dtype of the fitted factors
        p = replace(p, dtype=Y.dtype.type, solver="cholesky")
        X = np.zeros((R.shape[0], Y.shape[1]), dtype=Y.dtype)
        C = Csr(R.indptr, R.indices, self._confidence_values(R.data, p), R.shape)
        if prior is None:
            prior = fitted_prior(self, side, row_ids, Y.shape[1], Y.dtype.type)
        failed = solve_rows(C, Y, gram(Y, p.num_threads), X, p,
                            prior=prior if len(prior) else None)
        if failed >= 0:
            raise cholesky_error(side, failed, f"regularization (now {p.regularization})")
        return X, np.zeros(R.shape[0], dtype=Y.dtype)
