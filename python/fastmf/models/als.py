"""Explicit, biased matrix factorization trained by alternating least squares."""
from types import SimpleNamespace

import numpy as np

from .. import _core
from .. import _validation as v
from ..exceptions import ModelFitError
from ._explicit import BiasedMF, check_biased_params


class ALS(BiasedMF):
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
        validation data) and ``seconds``.

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

    def __init__(self, factors=64, regularization=1.0, bias_regularization=3.0, weighted=0.5,
                 iterations=10, init_std=0.01, early_stopping=None, dtype="float32",
                 num_threads=0, seed=None, verbose=True):
        self.factors = factors
        self.regularization = regularization
        self.bias_regularization = bias_regularization
        self.weighted = weighted
        self.iterations = iterations
        self.init_std = init_std
        self.early_stopping = early_stopping
        self.dtype = dtype
        self.num_threads = num_threads
        self.seed = seed
        self.verbose = verbose

    def _check_params(self):
        p = check_biased_params(self)
        weighted = float(self.weighted) if isinstance(self.weighted, bool) else self.weighted
        p["weighted"] = v.check_float("weighted", weighted, minimum=0, maximum=1)
        return SimpleNamespace(**p)

    def _start(self, data, val, p):
        state = super()._start(data, val, p)
        state.by_user, state.by_item = data.by_user.astype(p.dtype), data.by_item.astype(p.dtype)
        state.row_reg = {side: self._row_reg(R.counts(), p, p.dtype)
                         for side, R in (("user", state.by_user), ("item", state.by_item))}
        no_prior = np.zeros((0, p.factors), dtype=p.dtype)
        state.prior = {"user": no_prior, "item": no_prior}
        return state

    def _iterate(self, state, p):
        self._half_step(state.by_user, state.Y, state.yb, state.X, state.xb, state, p, "user")
        self._half_step(state.by_item, state.X, state.xb, state.Y, state.yb, state, p, "item")

    def _half_step(self, R, Y, yb, X, xb, state, p, side):
        dtype = p.dtype
        failed = _core.als_half_step(R.indptr, R.indices, R.data, Y, yb, dtype(state.mu),
                                     state.row_reg[side], dtype(p.bias_regularization),
                                     state.prior[side], X, xb, p.num_threads)
        if failed >= 0:
            ids = state.data.user_ids if side == "user" else state.data.item_ids
            raise ModelFitError(
                f"Cholesky failed for {side} {ids.ids[failed].item()!r} (index {failed}); "
                f"increase regularization (now {p.regularization}) or bias_regularization "
                f"(now {p.bias_regularization})")
