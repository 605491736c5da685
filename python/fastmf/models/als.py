"""Explicit, biased matrix factorization trained by alternating least squares."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._kernels.als import row_regularization, solve_rows
from .._locking import writes
from ..data import IdMap, _comparable
from ..features import ItemFeatures
from ._explicit import BiasedMF
from ._factors import check_solver_memory
from ._fit import cholesky_error
from ._params import ALSParams, as_kernels_see, biased_params

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Literal, TypeVar

    import scipy.sparse as sp
    from numpy.typing import ArrayLike

    from .._typing import FloatArray, FloatDType, IdArray, Seed
    from ..data import Csr, Interactions
    from ..exceptions import ModelFitError
    from ._explicit import BiasedState

    _Self = TypeVar("_Self", bound="ALS")


class ALS(BiasedMF[ALSParams]):
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
    item_features : None, "genres" or :class:`fastmf.ItemFeatures`, default None
        "ALS with features": each item's factors are shrunk toward the prior
        :math:`m_i = |F_i|^{-1/2} \sum_{f \in F_i} e_f` of its features :math:`F_i`
        instead of 0 (the term :math:`\lambda w_i \|q_i - m_i\|^2` replaces
        :math:`\lambda w_i \|q_i\|^2`), and the feature vectors :math:`e_f` (penalty
        :math:`\lambda_f \|e_f\|^2`) are solved in closed form after every item
        half-step. ``"genres"`` takes the genres of the training data's ``item_info``
        (MovieLens). An item without features keeps the plain penalty. New items with
        known features can then be served at once: :meth:`add_items`.
    feature_regularization : float, default 1.0
        λ_f, the L2 penalty on the feature vectors.
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
        With ``item_features``: the feature vectors :math:`e_f` (a row per name in
        ``feature_names_``) and every item's prior :math:`m_i`.

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

    def __init__(self, factors: int = 64, regularization: float = 1.0,
                 bias_regularization: float = 3.0, weighted: bool | float = 0.5,
                 iterations: int = 10, init_std: float = 0.01, early_stopping: int | None = None,
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
        if p.item_features is not None:
            features = (ItemFeatures.from_item_info(data.item_info)
                        if isinstance(p.item_features, str) else p.item_features)
            state.A = features.weights(data.item_ids.ids)
            if state.A.nnz == 0:
                raise ValueError("none of the training items has features in item_features")
            state.feature_names = features.names
            state.E = np.zeros((len(features.names), p.factors), dtype=p.dtype)
            state.item_prior = np.zeros_like(state.Y)      # m = A E, 0 at the start
        return state

    def _iterate(self, state: BiasedState, p: ALSParams) -> None:
        self._half_step(state.by_user, state.Y, state.yb, state.X, state.xb, state, p, "user")
        self._half_step(state.by_item, state.X, state.xb, state.Y, state.yb, state, p, "item")
        if state.E is not None:
            state.E[:] = feature_update(state.A, state.Y, state.row_reg["item"],
                                        p.feature_regularization)
            state.item_prior[:] = state.A @ state.E

    def _half_step(self, R: Csr, Y: FloatArray, yb: FloatArray, X: FloatArray, xb: FloatArray,
                   state: BiasedState, p: ALSParams, side: str) -> None:
        prior = state.item_prior if side == "item" and state.E is not None else state.no_prior
        failed = solve_rows(R, Y, yb, state.mu, state.row_reg[side], prior, X, xb, p)
        self._check_rows_solved(failed, side, state.data, p)

    @staticmethod
    def _fit_error(side: str, raw_id: Any, index: int, p: ALSParams) -> ModelFitError:
        """The error for a failed row solve: the row's side, raw id and index."""
        return cholesky_error(side, index, f"regularization (now {p.regularization}) or "
                              f"bias_regularization (now {p.bias_regularization})", raw_id)

    @writes
    def add_items(self: _Self, item_ids: ArrayLike,
                  features: Sequence[str | Sequence[str]] | ItemFeatures) -> _Self:
        r"""Add brand-new items, served at once from their features alone: each gets the
        factors of its prior :math:`m_i = |F_i|^{-1/2} \sum_{f \in F_i} e_f` and a bias of
        0 (an item without features gets zero factors: its prediction is μ + b_u).

        The new items are appended to ``item_ids_`` (and ``item_factors_``,
        ``item_biases_``, ``item_priors_``); no user has seen them, so ``recommend`` may
        return them to anyone. Nothing changes when the call fails.

        Parameters
        ----------
        item_ids : array-like of int or str
            Raw ids not in the model, each once, of the same kind as the model's.
        features : sequence of lists of str, or ItemFeatures
            The feature names of each item (names from ``feature_names_``; a plain string
            is one name), or an :class:`~fastmf.features.ItemFeatures` that lists every
            item of ``item_ids``.

        Returns
        -------
        self

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ValueError
            The model was fitted without ``item_features``, an id is already in the
            model or repeats, a feature name is unknown, an item is missing from the
            given ItemFeatures, or the lengths differ.
        TypeError
            The ids are not of the kind of the model's.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> features = fastmf.ItemFeatures.from_lists(
        ...     ["Sholay", "Swades", "Batman", "Interstellar", "Shawshank"],
        ...     [["Action", "Drama"], ["Drama"], ["Action"], ["SciFi", "Drama"], ["Drama"]])
        >>> model = fastmf.ALS(factors=2, iterations=5, item_features=features, seed=0,
        ...                    verbose=False).fit(data)
        >>> model.feature_names_.tolist()
        ['Action', 'Drama', 'SciFi']
        >>> model = model.add_items(["Dune", "Brochure"], [["SciFi", "Action"], []])
        >>> model.item_ids_.ids[-2:].tolist(), "Dune" in model.recommend("Bob")[0]
        (['Dune', 'Brochure'], True)
        >>> bool((model.item_factors_[-1] == 0).all()), float(model.item_biases_[-1])
        (True, 0.0)
        """
        self._check_is_fitted()
        if not hasattr(self, "feature_factors_"):
            raise ValueError("add_items needs a model fitted with item_features")
        ids = v.as_ids("item_ids", item_ids)
        v.check_not_empty("item_ids", ids)
        if isinstance(features, ItemFeatures):
            lists = features_of(features, ids)
        else:
            lists = [[features_row] if isinstance(features_row, str) else list(features_row)
                     for features_row in features]
        v.check_same_length(item_ids=ids, features=lists)
        if len(np.unique(ids)) < len(ids):
            raise ValueError("item_ids lists an item more than once")
        if not _comparable(ids.dtype, self.item_ids_.ids.dtype):
            raise TypeError(f"item ids of dtype {ids.dtype} do not match the model's item ids "
                            f"of dtype {self.item_ids_.ids.dtype}")
        known = self.item_ids_.index(ids) >= 0
        if known.any():
            raise ValueError(f"item {ids[np.argmax(known)].item()!r} is already in the model; "
                             f"use partial_fit_items to re-solve it from ratings")
        model_features = ItemFeatures(np.arange(len(self.feature_names_)),
                                      np.eye(len(self.feature_names_)), self.feature_names_)
        A = np.zeros((len(ids), len(self.feature_names_)))
        for row, names in enumerate(lists):
            columns = np.unique(model_features.columns_of(names, what="feature"))
            A[row, columns] = 1.0 / np.sqrt(max(len(columns), 1))
        prior = (A @ self.feature_factors_.astype(np.float64)).astype(self.item_factors_.dtype)
        self.item_factors_ = np.concatenate([self.item_factors_, prior])
        self.item_priors_ = np.concatenate([self.item_priors_, prior])
        self.item_biases_ = np.concatenate([self.item_biases_,
                                            np.zeros(len(ids), self.item_biases_.dtype)])
        self.item_ids_ = IdMap(np.concatenate([self.item_ids_.ids, ids]))
        return self


def _checked_item_features(item_features: object) -> str | ItemFeatures | None:
    """``item_features`` if it is None, "genres" or an ItemFeatures, else TypeError."""
    if not (item_features is None or isinstance(item_features, ItemFeatures)
            or (isinstance(item_features, str) and item_features == "genres")):
        raise TypeError(f"item_features must be None, 'genres' or a fastmf.features."
                        f"ItemFeatures, got {item_features!r}")
    return item_features


def features_of(features: ItemFeatures, ids: IdArray) -> list[list[str]]:
    """The feature-name lists of raw item ids in an ItemFeatures (each id must be there)."""
    index = features.item_ids.index(ids)
    if (index < 0).any():
        raise ValueError(f"item {ids[np.argmax(index < 0)].item()!r} is not in the given "
                         f"ItemFeatures")
    M = features.matrix
    return [list(features.names[M.indices[M.indptr[r]:M.indptr[r + 1]]]) for r in index]


def feature_update(A: sp.csr_matrix, Y: FloatArray, item_reg: FloatArray, feature_reg: float
                   ) -> FloatArray:
    """The feature vectors E minimising Σ_i τ_i ‖y_i - (A E)_i‖² + λ_f ‖E‖², τ_i the item's
    λ w_i: the normal equations (Aᵀ T A + λ_f I) E = Aᵀ T Y, one Cholesky of size
    n_features (in float64; returned in Y's dtype)."""
    import scipy.linalg

    tau = item_reg.astype(np.float64)
    AtT = (A.T.multiply(tau[None, :])).tocsr()
    normal = (AtT @ A).toarray()
    normal[np.diag_indices_from(normal)] += feature_reg
    rhs = AtT @ Y.astype(np.float64)
    return scipy.linalg.cho_solve(scipy.linalg.cho_factor(normal), rhs).astype(Y.dtype)
