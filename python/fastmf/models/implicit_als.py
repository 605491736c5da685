"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008)."""
from dataclasses import dataclass
from fractions import Fraction
from types import SimpleNamespace

import numpy as np

from .. import _core
from .. import _validation as v
from ..data import Csr, transpose
from ..exceptions import ModelFitError
from ._arrays import check_solver_memory, exact_sum, gram, init_factors
from ._base import check_common, cholesky_error
from ._locking import reads
from ._ranking import RankingMF, check_counts


# -- the pieces of a fit that one machine and fastmf.distributed share, on any row block --
def solve_rows(C, Y, YtY, X, p):
    """The implicit row solve of every row of C (a Csr of the values v, c - 1 = α v, column
    indices into Y) against the fixed Y with YtY = YᵀY, written into X: exactly (Cholesky)
    or by ``p.cg_steps`` CG steps from X, or by one sweep over blocks of ``p.block_size``
    coordinates from X. Returns -1 or the first row whose Cholesky failed."""
    dtype = Y.dtype.type
    reg, alpha = dtype(p.regularization), dtype(p.alpha)
    if p.solver == "cg":
        _core.implicit_als_cg_step(C.indptr, C.indices, C.data, alpha, Y, YtY, reg, X,
                                   p.cg_steps, p.num_threads)
        return -1
    if p.solver == "block":     # the contract's α0 = 1 (base 0), G = YᵀY, one λ per row
        reg_rows = np.full(len(X), reg, dtype=dtype)
        return _core.implicit_als_block_step(C.indptr, C.indices, C.data, alpha, dtype(0), Y,
                                             YtY, reg_rows, X, p.block_size, p.num_threads)
    return _core.implicit_als_half_step(C.indptr, C.indices, C.data, alpha, Y, YtY, reg, X,
                                        p.num_threads)


def observed_loss(C, X, Y, p):
    """Σ over the observed pairs of the rows of C (factors X) of their part of the loss
    beyond the all-pairs term (exact)."""
    per_row = np.empty(len(X), dtype=np.float64)
    _core.implicit_observed_loss(C.indptr, C.indices, C.data, X.dtype.type(p.alpha), X, Y,
                                 per_row, p.num_threads)
    return exact_sum(per_row)


def objective(XtX, YtY, observed, p):
    """Σ_{u,i} c (p - x·y)² + λ(‖X‖² + ‖Y‖²) from the Gram matrices and the observed part."""
    XtX, YtY = XtX.astype(np.float64), YtY.astype(np.float64)
    all_pairs = exact_sum(XtX * YtY)                          # Σ_u x_uᵀ(YᵀY)x_u
    return float(all_pairs + observed + Fraction(p.regularization)
                 * exact_sum(np.r_[np.diag(XtX), np.diag(YtY)]))


@dataclass
class ImplicitState:
    X: np.ndarray        # user factors (n_users, k)
    Y: np.ndarray        # item factors (n_items, k)
    data: object         # the training Interactions
    C: object            # Csr by user of the values v, c - 1 = α v, in the model dtype
    Ct: object           # its transpose, by item
    val: object = None   # validation Interactions

    def copy(self):
        return ImplicitState(self.X.copy(), self.Y.copy(), self.data, self.C, self.Ct, self.val)


class ImplicitALS(RankingMF):
    r"""Matrix factorization for implicit feedback (counts, clicks, plays) by ALS.

    Every (user, item) pair has a preference :math:`p_{ui}` (1 if observed, else 0) and a
    confidence :math:`c_{ui} = 1 + \alpha r_{ui}` (``confidence="linear"``) or
    :math:`1 + \alpha \log(1 + r_{ui}/\epsilon)` (``"log"``) for observed pairs, 1 for
    the others. The loss runs over all pairs, observed or not:

    .. math::
        \sum_{u,i} c_{ui} (p_{ui} - x_u \cdot y_i)^2 + \lambda \Big(\sum_u \|x_u\|^2
        + \sum_i \|y_i\|^2\Big)

    With the items fixed, :math:`x_u = (Y^T Y + Y^T (C_u - I) Y + \lambda I)^{-1} Y^T C_u
    p(u)`: :math:`Y^T Y` is computed once per half-step and each user adds only its
    :math:`n_u` terms :math:`(c_{ui} - 1) y_i y_i^T`, so a user costs
    :math:`O(n_u k^2 + k^3)`. ``solver="cholesky"`` solves that exactly (the loss then
    never increases); ``solver="cg"`` runs ``cg_steps`` conjugate-gradient steps from the
    previous factors (Takács et al. 2011), cheaper per iteration for large k.
    ``solver="block"`` (iALS++, Rendle, Zhang and Koren 2021) sweeps once over the
    coordinates in blocks of ``block_size``, solving each block's ``block_size`` x
    ``block_size`` system exactly with the others fixed, from the previous factors: a user
    costs :math:`O(n_u k b + k^2 + k b^2)` and the loss never increases; at large k it
    reaches Cholesky's loss several times sooner (README, "Solvers at large k").

    Parameters
    ----------
    factors : int, default 64
    regularization : float, default 0.05
        λ (> 0).
    alpha : float, default 1.0
        Confidence scale α (> 0). On MovieLens 100K and play counts, α = 1 ranks better
        than the often-quoted 40.
    confidence : {"linear", "log"}, default "linear"
    epsilon : float, default 1.0
        ε of the log confidence.
    iterations : int, default 15
    solver : {"cholesky", "cg", "block"}, default "cholesky"
    cg_steps : int, default 3
        Conjugate-gradient steps per row and half-step (``solver="cg"``).
    init_std : float, default 0.1
        Standard deviation of the normal initialization (smaller starts converge more slowly).
    early_stopping : int or None, default None
        Stop when the validation NDCG@10 has not improved for this many iterations, keeping
        the best iteration (needs ``fit(..., validation=...)``).
    dtype : {"float32", "float64"}, default "float32"
    num_threads : int, default 0
    seed : int, numpy Generator or None, default None
    verbose : bool, default True
    block_size : int, default 32
        Coordinates per block of ``solver="block"`` (>= 1); ``block_size >= factors`` is one
        exact solve per row, as Cholesky.

    Attributes
    ----------
    user_factors_, item_factors_ : ndarray
    history_ : list of dict
        Per iteration: ``loss`` (the full objective above, computed without forming the
        dense matrix), ``seconds``, and with validation data ``val_precision@10`` and
        ``val_ndcg@10``.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.Interactions.from_arrays([0, 0, 0, 1, 1, 2, 2, 3], [0, 1, 2, 0, 1, 3, 4, 3])
    >>> model = fastmf.ImplicitALS(factors=4, iterations=10, seed=0, verbose=False).fit(data)
    >>> model.recommend(1, n=1)[0].tolist()       # user 1 shares user 0's taste
    [2]
    """

    def __init__(self, factors=64, regularization=0.05, alpha=1.0, confidence="linear",
                 epsilon=1.0, iterations=15, solver="cholesky", cg_steps=3, init_std=0.1,
                 early_stopping=None, dtype="float32", num_threads=0, seed=None, verbose=True,
                 block_size=32):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.confidence = confidence
        self.epsilon = epsilon
        self.iterations = iterations
        self.solver = solver
        self.cg_steps = cg_steps
        self.init_std = init_std
        self.early_stopping = early_stopping
        self.dtype = dtype
        self.num_threads = num_threads
        self.seed = seed
        self.verbose = verbose
        self.block_size = block_size

    def _check_params(self):
        p = check_common(self)
        p["regularization"] = v.check_float("regularization", self.regularization, minimum=0,
                                            strict_minimum=True)
        p["alpha"] = v.check_float("alpha", self.alpha, minimum=0, strict_minimum=True)
        p["confidence"] = v.check_choice("confidence", self.confidence, ("linear", "log"))
        p["epsilon"] = v.check_float("epsilon", self.epsilon, minimum=0, strict_minimum=True)
        p["solver"] = v.check_choice("solver", self.solver, ("cholesky", "cg", "block"))
        p["cg_steps"] = v.check_int("cg_steps", self.cg_steps, minimum=1)
        p["block_size"] = v.check_int("block_size", self.block_size, minimum=1)
        p["init_std"] = v.check_float("init_std", self.init_std, minimum=0)
        return SimpleNamespace(**p)

    @staticmethod
    def _confidence_values(values, p):
        """The values v with c - 1 = α v on observed pairs, from the raw values r >= 0, in
        ``p.dtype`` (``p``: the checked parameters): v = r for the linear confidence (the
        input itself, no copy, when it is already in the model dtype), v = log(1 + r / ε)
        for the log confidence."""
        if p.confidence == "linear":
            return values.astype(p.dtype, copy=False)
        logs = np.array(values, dtype=p.dtype)
        logs /= p.dtype(p.epsilon)
        return np.log1p(logs, out=logs)

    def _start(self, data, val, p):
        check_counts(data.ratings)
        check_solver_memory(p.factors, p.dtype, p.num_threads)
        X, Y = init_factors(np.random.default_rng(p.seed), data.n_users, data.n_items,
                            p.factors, p.init_std, p.dtype)
        R = data.by_user
        values = self._confidence_values(R.data, p)
        if values is R.data:           # the data's own CSR both ways: no copies
            return ImplicitState(X, Y, data, R, data.by_item, val)
        C = Csr(R.indptr, R.indices, values, R.shape)
        return ImplicitState(X, Y, data, C, transpose(C), val)

    def _iterate(self, state, p):
        self._half_step(state.C, state.Y, state.X, p, "user", state)
        self._half_step(state.Ct, state.X, state.Y, p, "item", state)

    def _half_step(self, C, Y, X, p, side, state):
        failed = solve_rows(C, Y, gram(Y, p.num_threads), X, p)
        self._check_rows_solved(failed, side, state.data, p)

    @staticmethod
    def _fit_error(side, raw_id, index, p):
        """The error for a failed row solve: the row's side, raw id and index."""
        return cholesky_error(side, index, f"regularization (now {p.regularization})", raw_id)

    def _evaluate(self, state, p):
        record = {"loss": self._loss(state, p)}
        if state.val is not None:
            record.update(self._validation_scores(state, state.data))
        return record

    def _loss(self, state, p):
        """The objective without the dense matrix (see ``objective``)."""
        XtX, YtY = gram(state.X, p.num_threads), gram(state.Y, p.num_threads)
        return objective(XtX, YtY, observed_loss(state.C, state.X, state.Y, p), p)

    def _check_finite(self, state):
        if not (np.isfinite(state.X).all() and np.isfinite(state.Y).all()):
            raise ModelFitError(f"the factors became non-finite; increase regularization "
                                f"(now {self.regularization}) or use dtype='float64'")

    # -- serving ----------------------------------------------------------------------
    def _solve_rows(self, side, R, row_ids=None):
        """Factors of the rows of R by the exact (Cholesky) implicit row solve against the
        other side's fitted factors; no biases (zeros)."""
        p = self._check_params()
        check_counts(R.data, locate=False)
        Y = self.item_factors_ if side == "user" else self.user_factors_
        p.dtype, p.solver = Y.dtype.type, "cholesky"       # a fold-in always solves exactly
        X = np.zeros((R.shape[0], Y.shape[1]), dtype=Y.dtype)
        C = Csr(R.indptr, R.indices, self._confidence_values(R.data, p), R.shape)
        failed = solve_rows(C, Y, gram(Y, p.num_threads), X, p)
        if failed >= 0:
            raise cholesky_error(side, failed, f"regularization (now {p.regularization})")
        return X, np.zeros(R.shape[0], dtype=Y.dtype)

    @reads
    def predict(self, users, items):
        """Predicted preference x_u·y_i for parallel arrays of raw ids (0 for unknown ids).

        Parameters
        ----------
        users, items : array-like of int or str
            Raw ids, one pair per prediction; they need not be in the training data.

        Returns
        -------
        ndarray
            A score per pair, in the model dtype: near 1 for a pair the model expects,
            near 0 for one it does not; 0 where the user or the item is unknown.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ValueError
            ``users`` and ``items`` differ in length.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.Interactions.from_arrays([0, 0, 0, 1, 1, 2, 2, 3],
        ...                                        [0, 1, 2, 0, 1, 3, 4, 3])
        >>> model = fastmf.ImplicitALS(factors=4, iterations=10, seed=0, verbose=False).fit(data)
        >>> model.predict([0, 1, 9], [0, 2, 0]).astype(float).round(2).tolist()
        [1.0, 0.02, 0.0]
        """
        return self._score_pairs(users, items)
