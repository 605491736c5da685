"""Explicit, biased matrix factorization: r̂_ui = μ + b_u + b_i + p_u·q_i.

Holds what ALS and SGD share: the fitted arrays, the training objective, prediction with
its fallback rule for unknown ids, and top-n recommendation by predicted rating.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from fractions import Fraction
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from .. import _validation as v
from .._kernels.als import (objective, penalties, predict_pairs, row_regularization, solve_rows,
                            squared_errors, validation_rmse)
from .._kernels.arrays import exact_mean, exact_sum, row_norms
from .._locking import reads
from ..exceptions import ModelFitError
from ._base import MatrixFactorizationBase
from ._factors import init_factors
from ._fit import cholesky_error
from ._hybrid import fitted_prior
from ._hybrid import publish as publish_features
from ._params import ALSParams, BiasedParams
from ._serving import ServingMixin

if TYPE_CHECKING:
    from dataclasses import field
    from typing import Any

    from numpy.typing import ArrayLike, NDArray

    from .._typing import Float64Array, FloatArray, FloatType, Int64Array, Record
    from ..data import Csr, Interactions
    from ._fit import LastFiniteState


@dataclass
class BiasedState:
    """Everything one iteration reads and writes (arrays in the model dtype)."""

    X: FloatArray        # user factors (n_users, k)
    xb: FloatArray       # user biases
    Y: FloatArray        # item factors (n_items, k)
    yb: FloatArray       # item biases
    mu: Any              # global mean (a float in the model dtype)
    data: Any            # the training Interactions (None where only predictions are made)
    # (uidx, iidx, ratings) of the validation set, -1 for unseen ids
    val: tuple[Int64Array, Int64Array, Float64Array] | None = None
    by_user: Any = None  # Csr with ratings in the model dtype (ALS, and the exact loss)
    by_item: Any = None
    # ALS with features: each side's SideFeatures (models/_hybrid.py), or None
    features: dict[str, Any] = dc_field(default_factory=dict)

    if TYPE_CHECKING:
        # What each model's _start adds: ALS its row weights and an empty prior (and each
        # iteration the squared errors of its item half-step); SGD its generator, block
        # layout, epoch, backup, and the last epoch's sum of squared errors and learning
        # rate.
        row_reg: dict[str, FloatArray] = field(init=False)
        no_prior: FloatArray = field(init=False)
        sse: Fraction = field(init=False)
        rng: np.random.Generator = field(init=False)
        layout: tuple[Int64Array, NDArray[Any], NDArray[Any], FloatArray] = field(init=False)
        epoch: int = field(init=False)
        backup: LastFiniteState = field(init=False)
        epoch_sse: float = field(init=False)
        lr: float = field(init=False)

    def copy(self) -> BiasedState:
        copies: dict[str, Any] = {name: getattr(self, name).copy()
                                  for name in ("X", "xb", "Y", "yb")}
        copies["features"] = {side: sf.copy() for side, sf in self.features.items()}
        return replace(self, **copies)


_P = TypeVar("_P", bound=BiasedParams)


class BiasedMF(ServingMixin, MatrixFactorizationBase, Generic[_P]):
    """Base of the explicit models (ALS, SGD): see their docstrings. ``_P`` is the model's
    checked parameters (``BiasedMF[ALSParams]``)."""

    _monitor = "val_rmse"
    _task = "rating"
    _required_state = MatrixFactorizationBase._required_state + (
        "user_biases_", "item_biases_", "global_mean_", "rating_range_")

    user_biases_: FloatArray
    item_biases_: FloatArray
    global_mean_: float
    rating_range_: tuple[float, float]
    # With features (ALS): each side's feature map, its feature names and each row's prior.
    feature_factors_: FloatArray
    feature_names_: NDArray[np.str_]
    item_priors_: FloatArray
    user_feature_factors_: FloatArray
    user_feature_names_: NDArray[np.str_]
    user_priors_: FloatArray
    regularization: float

    if TYPE_CHECKING:
        def _check_params(self) -> _P: ...

    def _start(self, data: Interactions, val: Interactions | None, p: _P
               ) -> BiasedState:
        dtype = p.dtype
        mu = dtype(exact_mean(data.ratings))
        X, Y = init_factors(np.random.default_rng(p.seed), data.n_users, data.n_items,
                            p.factors, p.init_std, dtype)
        val_idx = None
        if val is not None:
            val_idx = (data.user_ids.index(val.users), data.item_ids.index(val.items),
                       val.ratings.astype(np.float64))
        return BiasedState(X, np.zeros(data.n_users, dtype), Y, np.zeros(data.n_items, dtype), mu,
                           data, val_idx)

    def _check_finite(self, state: BiasedState) -> None:
        for name, array in (("user factors", state.X), ("item factors", state.Y),
                            ("user biases", state.xb), ("item biases", state.yb)):
            if not np.isfinite(array).all():
                raise ModelFitError(f"the {name} became non-finite; increase regularization "
                                    f"(now {self.regularization}) or use dtype='float64'")

    def _publish(self, state: BiasedState) -> None:
        self.user_factors_, self.item_factors_ = state.X, state.Y
        self.user_biases_, self.item_biases_ = state.xb, state.yb
        self.global_mean_ = float(state.mu)
        self.user_ids_, self.item_ids_ = state.data.user_ids, state.data.item_ids
        self.rating_range_ = state.data.rating_range
        self.item_info_ = state.data.item_info
        self._seen = (state.data.by_user.indptr, state.data.by_user.indices)
        publish_features(self, {side: state.features.get(side) for side in ("user", "item")})

    # -- objective ------------------------------------------------------------------
    def _training_sse(self, state: BiasedState, p: _P) -> Fraction | float:
        """Σ of squared training residuals of the current model (exact)."""
        return squared_errors(state.by_user, state.X, state.xb, state.Y, state.yb, state.mu,
                              p.num_threads)

    def _evaluate(self, state: BiasedState, p: _P) -> Record:
        """The training objective (the loss of the ALS docstring; SGD's is ALS's with plain λ)
        and RMSE on train and validation, in float64."""
        data = state.data
        sse = Fraction(self._training_sse(state, p))
        item_counts = data.by_item.counts() if p.weighted else None
        sides = {side: state.features.get(side) for side in ("user", "item")}
        user = penalties(state.X, state.xb, data.by_user.counts(), p.weighted,
                         None if sides["user"] is None else sides["user"].prior)
        item = penalties(state.Y, state.yb, item_counts, p.weighted,
                         None if sides["item"] is None else sides["item"].prior)
        feature_sq: Fraction | int = 0
        if isinstance(p, ALSParams):
            feature_sq = sum((Fraction(p.feature_regularization) * exact_sum(row_norms(sf.W))
                              for sf in sides.values() if sf is not None), Fraction(0))
        record = {"loss": objective(sse, user[0] + item[0], user[1] + item[1], p, feature_sq),
                  "train_rmse": float(np.sqrt(float(sse / data.nnz)))}
        if state.val is not None:
            uidx, iidx, r = state.val
            predictions = predict_pairs(state.X, state.xb, state.Y, state.yb, state.mu, uidx, iidx,
                                        p.num_threads)
            record["val_rmse"] = validation_rmse(r, predictions, data.rating_range)
        return record

    # -- serving --------------------------------------------------------------------
    @reads
    def predict(self, users: ArrayLike, items: ArrayLike, clip: bool = True) -> FloatArray:
        """Predicted ratings for parallel arrays of raw user and item ids.

        Unknown ids fall back to the biases: an unknown user gets μ + b_i, an unknown
        item μ + b_u, both unknown μ.

        Parameters
        ----------
        users, items : array-like of int or str
            Raw ids, one pair per prediction; they need not be in the training data.
        clip : bool, default True
            Clip the predictions to the training data's rating range (``rating_range_``).

        Returns
        -------
        ndarray
            A prediction per pair, in the model dtype.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ValueError
            ``users`` and ``items`` differ in length.

        Examples
        --------
        >>> import numpy as np, fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> model.predict(["Bob", "Bob"], ["Sholay", "Batman"]).astype(float).round(1).tolist()
        [3.8, 2.3]
        >>> sholay = model.item_ids_.index(["Sholay"])[0]
        >>> fallback = model.global_mean_ + model.item_biases_[sholay]     # μ + b_i
        >>> bool(np.isclose(model.predict(["Dave"], ["Sholay"])[0], fallback))
        True
        """
        self._check_is_fitted()
        users, items = v.as_ids("users", users), v.as_ids("items", items)
        v.check_same_length(users=users, items=items)
        pred = predict_pairs(self.user_factors_, self.user_biases_, self.item_factors_,
                             self.item_biases_, self.global_mean_,
                             self._index("user", users, "users"),
                             self._index("item", items, "items"),
                             v.check_num_threads(self.num_threads))
        if clip:
            np.clip(pred, *self.rating_range_, out=pred)
        return pred

    def _query(self, uidx: NDArray[np.integer[Any]]) -> tuple[FloatArray, FloatArray]:
        """Query vectors and score offsets of users (by index): μ + b_u + p_u·q_i + b_i."""
        return self._query_from(self.user_factors_[uidx], self.user_biases_[uidx])

    def _query_from(self, factors: FloatArray, biases: FloatArray
                    ) -> tuple[FloatArray, FloatArray]:
        return factors, biases + biases.dtype.type(self.global_mean_)

    def _solve_rows(self, side: str, R: Csr, row_ids: NDArray[Any] | None = None,
                    prior: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
        """Factors and biases of the rows of R by the ALS row solve (ridge regression with
        bias, λ and λ_b of this model) against the other side's fitted factors, shrunk
        toward ``prior`` (None: the fitted priors of known rows of a side with features)."""
        p = self._check_params()
        other = "item" if side == "user" else "user"
        Y, yb = getattr(self, f"{other}_factors_"), getattr(self, f"{other}_biases_")
        X = np.zeros((R.shape[0], Y.shape[1]), dtype=Y.dtype)
        xb = np.zeros(R.shape[0], dtype=Y.dtype)
        if prior is None:
            prior = fitted_prior(self, side, row_ids, Y.shape[1], Y.dtype)
        failed = solve_rows(R, Y, yb, self.global_mean_, row_regularization(R.counts(), p, Y.dtype),
                            prior, X, xb, p)
        if failed >= 0:
            raise cholesky_error(side, failed, f"regularization (now {p.regularization})")
        return X, xb

    def _item_bias(self) -> FloatArray:
        return self.item_biases_
