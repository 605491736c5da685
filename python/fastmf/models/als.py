"""Explicit, biased matrix factorization trained by alternating least squares."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._kernels.als import row_regularization, solve_rows
from .._kernels.arrays import exact_sum
from ..features import ItemFeatures, UserFeatures
from ._explain import ExplicitExplain
from ._explicit import BiasedMF
from ._factors import check_solver_memory
from ._fit import cholesky_error
from ._hybrid import checked_features, start_side
from ._hybrid import feature_update as feature_update
from ._params import ALSParams, as_kernels_see, biased_params

if TYPE_CHECKING:
    from typing import Any, Literal

    from fractions import Fraction

    from .._typing import Float64Array, FloatArray, FloatDType, Seed
    from ..data import Csr, Interactions
    from ..exceptions import ModelFitError
    from ._explicit import BiasedState


class ALS(ExplicitExplain, BiasedMF[ALSParams]):
    r"""Biased matrix factorization for explicit ratings, trained by parallel ALS.

    The model is :math:`\hat r_{ui} = \mu + b_u + b_i + p_u \cdot q_i`, fitted on the
    observed ratings Ω only (a missing rating is not a zero), minimising

    .. math::
        \sum_{(u,i)\in\Omega} (r_{ui} - \hat r_{ui})^2
        + \lambda \Big(\sum_u w_u \|p_u\|^2 + \sum_i w_i \|q_i\|^2\Big)
        + \lambda_b \Big(\sum_u b_u^2 + \sum_i b_i^2\Big)

    with :math:`w = n^a`, :math:`n` the number of ratings of that user or item and
    :math:`a` given by ``weighted``: 0 (``False``) is plain λ, 1 (``True``) is weighted-λ
    as in Zhou et al. (2008) and Spark's ALS, and values between shrink lightly rated
    users and items less than weighted-λ does. With the items
    fixed, every user is an independent ridge regression for :math:`[b_u, p_u]` against
    the rows :math:`[1, q_i]` with targets :math:`r_{ui} - \mu - b_i`; it is solved by a
    Cholesky factorization in C++, in parallel over users, and symmetrically for items.
    Each half-step solves its least-squares problem exactly, so the objective never
    increases from one iteration to the next.

    Parameters
    ----------
    factors : int, default 64
        Length k of the user and item vectors.
    regularization : float, default 1.0
        λ, the L2 penalty on the factor vectors (times w, see ``weighted``).
    bias_regularization : float, default 3.0
        λ_b, the L2 penalty on the user and item biases.
    weighted : bool or float in [0, 1], default 0.5
        The exponent a of the weights :math:`w = n^a` above: ``False`` (0) plain λ,
        ``True`` (1) weighted-λ, 0.5 a square-root weighting (the best of the three on
        MovieLens).
    iterations : int, default 10
        Number of full iterations (a user half-step and an item half-step each).
    init_std : float, default 0.01
        Standard deviation of the normal initialization of the factors. A small start
        with few iterations generalizes a little better than running to convergence
        (on MovieLens 100K by about 0.003 RMSE).
    early_stopping : int or None, default None
        Stop when the validation RMSE has not improved for this many iterations and keep
        the best iteration's model (needs ``fit(..., validation=...)``).
    dtype : {"float32", "float64"}, default "float32"
    num_threads : int, default 0
        Threads for the C++ kernels; 0 uses all cores (OpenMP, honours OMP_NUM_THREADS).
        Results do not depend on it.
    user_features : None or :class:`fastmf.UserFeatures`, default None
        "ALS with features" for users: each user's factors are shrunk toward the prior
        :math:`m_u = a_u D` predicted from the user's feature weights :math:`a_u` (scaled to
        unit length, :meth:`fastmf.UserFeatures.weights`) instead of 0: the term
        :math:`\lambda w_u \|p_u - m_u\|^2` replaces :math:`\lambda w_u \|p_u\|^2`.
        The feature map D (a row per feature, penalty :math:`\lambda_f \|D\|^2`) is
        solved in closed form (ridge) after every user half-step. A user without
        features keeps the plain penalty. New users can then be served from their
        features alone: :meth:`add_users`, :meth:`recommend_new_user`.
    item_features : None, "genres" or :class:`fastmf.ItemFeatures`, default None
        The same for items: :math:`\lambda w_i \|q_i - a_i E\|^2`, for 0/1 features
        :math:`a_i E = |F_i|^{-1/2} \sum_{f \in F_i} e_f`, the map E solved after every
        item half-step. ``"genres"`` takes the genres of the training data's
        ``item_info`` (MovieLens). New items: :meth:`add_items`.
    feature_regularization : float, default 1.0
        λ_f, the L2 penalty on the feature maps.
    seed : int, numpy Generator or None, default None
        Fixes the initialization, hence the whole fit.
    verbose : bool, default True
        Show a progress bar.

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray (n_users, k), (n_items, k)
    user_biases_, item_biases_ : ndarray
    global_mean_ : float
    history_ : list of dict
        Per iteration: ``loss`` (the objective above), ``train_rmse``, ``val_rmse`` (with
        validation data; of the predictions clipped to the training rating range, as
        ``predict`` gives them) and ``seconds``.
    feature_factors_, feature_names_, item_priors_ : ndarray
        With ``item_features``: the feature map E (a row per name in ``feature_names_``)
        and every item's prior.
    user_feature_factors_, user_feature_names_, user_priors_ : ndarray
        With ``user_features``: the same for users.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    >>> model = fastmf.ALS(factors=16, iterations=10, seed=0, verbose=False).fit(train)
    >>> rmse = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))
    >>> bool(rmse < 1.0)
    True
    """

    _model_file = True
    # A model file or pickle written before users had features was fitted without them.
    _legacy_params = {"user_features": None}

    def __init__(self, factors: int = 64, regularization: float = 1.0,
                 bias_regularization: float = 3.0, weighted: bool | float = 0.5,
                 iterations: int = 10, init_std: float = 0.01, early_stopping: int | None = None,
                 user_features: UserFeatures | None = None,
                 item_features: Literal["genres"] | ItemFeatures | None = None,
                 feature_regularization: float = 1.0, dtype: FloatDType = "float32",
                 num_threads: int = 0, seed: Seed = None, verbose: bool = True) -> None:
        self.factors = factors
        self.regularization = regularization
        self.bias_regularization = bias_regularization
        self.weighted = weighted
        self.iterations = iterations
        self.init_std = init_std
        self.early_stopping = early_stopping
        self.user_features = user_features
        self.item_features = item_features
        self.feature_regularization = feature_regularization
        self.dtype = dtype
        self.num_threads = num_threads
        self.seed = seed
        self.verbose = verbose

    def _check_params(self) -> ALSParams:
        weighted = float(self.weighted) if isinstance(self.weighted, bool) else self.weighted
        return as_kernels_see(ALSParams(
            **biased_params(self),
            weighted=v.check_float("weighted", weighted, minimum=0, maximum=1),
            user_features=checked_features("user_features", "user",  # type: ignore[arg-type]
                                           self.user_features),
            item_features=_checked_item_features(self.item_features),
            feature_regularization=v.check_float("feature_regularization",
                                                 self.feature_regularization, minimum=0,
                                                 strict_minimum=True)), self)

    def _start(self, data: Interactions, val: Interactions | None, p: ALSParams
               ) -> BiasedState:
        check_solver_memory(p.factors, p.dtype, p.num_threads)     # before any allocation
        state = super()._start(data, val, p)
        state.by_user, state.by_item = data.by_user.astype(p.dtype), data.by_item.astype(p.dtype)
        state.row_reg = {side: row_regularization(R.counts(), p, p.dtype)
                         for side, R in (("user", state.by_user), ("item", state.by_item))}
        state.no_prior = np.zeros((0, p.factors), dtype=p.dtype)
        for side in ("user", "item"):
            sf = start_side(getattr(p, f"{side}_features"), data, side, p.factors, p.dtype)
            if sf is not None:
                state.features[side] = sf              # priors A W, 0 at the start
        return state

    def _iterate(self, state: BiasedState, p: ALSParams) -> None:
        self._half_step(state.by_user, state.Y, state.yb, state.X, state.xb, state, p, "user")
        row_sse = np.empty(state.by_item.shape[0], dtype=np.float64)
        self._half_step(state.by_item, state.X, state.xb, state.Y, state.yb, state, p, "item",
                        row_sse)
        state.sse = exact_sum(row_sse)    # the squared errors, from the rows the solve read

    def _half_step(self, R: Csr, Y: FloatArray, yb: FloatArray, X: FloatArray, xb: FloatArray,
                   state: BiasedState, p: ALSParams, side: str,
                   row_sse: Float64Array | None = None) -> None:
        sf = state.features.get(side)
        prior = state.no_prior if sf is None else sf.prior
        failed = solve_rows(R, Y, yb, state.mu, state.row_reg[side], prior, X, xb, p, row_sse)
        self._check_rows_solved(failed, side, state.data, p)
        if sf is not None:          # the feature map of this side, for the factors just solved
            sf.update(X, state.row_reg[side], p.feature_regularization)

    def _training_sse(self, state: BiasedState, p: ALSParams) -> Fraction:
        return state.sse                   # (the last iteration's, from its item half-step)

    @staticmethod
    def _fit_error(side: str, raw_id: Any, index: int, p: ALSParams) -> ModelFitError:
        """The error for a failed row solve: the row's side, raw id and index."""
        return cholesky_error(side, index, f"regularization (now {p.regularization}) or "
                              f"bias_regularization (now {p.bias_regularization})", raw_id)


def _checked_item_features(item_features: object) -> str | ItemFeatures | None:
    """``item_features`` if it is None, "genres" or an ItemFeatures, else TypeError."""
    return checked_features("item_features", "item", item_features,  # type: ignore[return-value]
                            genres=True)
