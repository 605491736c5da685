"""Why a user gets an item: a score split exactly over the user's history through the user's
regularized Gram matrix (Hu, Koren and Volinsky 2008, section 5), for the least-squares
models (ALS, ImplicitALS).

With the items fixed, a user's row solve is linear in its targets: x_u = W_u (Σ_j t_uj z_j +
λ_u m_u), W_u the inverse of the row's system matrix, z_j the history item's row, t_uj its
target and m_u the user's feature prior (0 without features). The score of item i is then
z_iᵀ x_u = Σ_j (z_iᵀ W_u z_j) t_uj + λ_u z_iᵀ W_u m_u: a term per history item, plus the
prior's. Computed in float64 from the model's factors, one k x k system per call (ImplicitALS
also forms α0 YᵀY over every item: O(n_items k²)).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import numpy as np

from .. import _validation as v
from .._kernels.als import row_regularization as explicit_regularization
from .._kernels.implicit_als import row_regularization as implicit_regularization
from .._locking import reads
from .._optional import require
from ..data import as_interactions
from ._fit import cholesky_error
from ._hybrid import fitted_prior
from ._ranking import check_counts

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import Float64Array, FloatArray, IdArray, Int64Array, InteractionsLike, RawId
    from ._base import MatrixFactorizationBase as _Model
    from ._params import BiasedParams, ImplicitParams
else:
    _Model = object


@dataclass(frozen=True)
class Explanation:
    """A score split over the user's history: ``score == base + prior +
    contributions.sum() + rest`` (to float64 rounding).

    Attributes
    ----------
    user, item : int or str
        The raw ids explained.
    score : float
        The score of ``item`` for ``user`` re-solved from the history (see ``explain``).
    items : ndarray
        Raw ids of the history items, largest ``|contribution|`` first (the first ``n``
        when ``n`` was given).
    contributions : ndarray of float64
        Each item's part of the score, aligned with ``items``.
    prior : float
        The part of the user's feature prior (0.0 for a model without user features).
    base : float
        What the history does not decide: μ + b_i for ALS, 0.0 for ImplicitALS.
    rest : float
        The sum of the contributions left out by ``n`` (0.0 when none are).

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.toy()
    >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
    >>> why = model.explain("Bob", "Sholay", data, n=2)
    >>> len(why.items), why.contributions.dtype
    (2, dtype('float64'))
    >>> total = why.base + why.prior + why.contributions.sum() + why.rest
    >>> bool(abs(total - why.score) < 1e-9)
    True
    """

    user: Any
    item: Any
    score: float
    items: IdArray
    contributions: Float64Array
    prior: float
    base: float
    rest: float

    def to_frame(self) -> Any:
        """The items and their contributions as a pandas DataFrame (pandas is optional).

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``contribution``, largest ``|contribution|`` first.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> model.explain("Bob", "Sholay", data).to_frame().columns.tolist()
        ['item', 'contribution']
        """
        pd = require("pandas", "Explanation.to_frame()")
        return pd.DataFrame({"item": self.items, "contribution": self.contributions})


class ExplainMixin(_Model):
    """``explain``; a model gives ``_explain_terms``, the history's contributions, the
    prior's and the base of one user and item (``ExplicitExplain``, ``ImplicitExplain``)."""

    if TYPE_CHECKING:
        regularization: float

        def _user_index(self, user: RawId) -> int: ...
        def _known(self, side: str, ids: Any, name: str) -> Int64Array: ...
        def _column_index(self, side: str, ids: IdArray) -> Int64Array: ...

    @reads
    def explain(self, user: RawId, item: RawId, data: InteractionsLike, n: int | None = None
                ) -> Explanation:
        r"""Why ``user`` gets ``item``: its score split over the user's history.

        The user is re-solved from its history in ``data`` against the fitted item
        factors, by the model's own row solve, and the score of that solution is split
        exactly, as in Hu, Koren and Volinsky (2008, section 5): with :math:`W_u` the
        inverse of the user's regularized Gram matrix (the row solve's system matrix),
        :math:`x_u = W_u (\sum_j t_{uj} z_j + \lambda_u m_u)`, so the score
        :math:`z_i^T x_u` is :math:`\sum_j (z_i^T W_u z_j)\, t_{uj}` (item j's
        contribution) plus :math:`\lambda_u z_i^T W_u m_u` (the feature prior's, with
        ``user_features``). ImplicitALS: :math:`z_j = y_j`, :math:`t_{uj} = c_{uj}` the
        confidence, :math:`W_u = (\alpha_0 Y^T Y + \sum_{j \in u} (c_{uj} - \alpha_0) y_j
        y_j^T + \lambda_u I)^{-1}`. ALS: :math:`z_j = [1, q_j]` (the solve is over
        :math:`[b_u, p_u]`), :math:`t_{uj} = r_{uj} - \mu - b_j`, :math:`W_u =
        (\sum_j z_j z_j^T + \mathrm{diag}(\lambda_b, \lambda_u, \dots, \lambda_u))^{-1}`,
        and μ + b_i is added as ``base``.

        ``score`` is what :meth:`partial_fit_users` with the same history would make
        ``predict`` give (unclipped), and the score of :meth:`fold_in` of that history
        (with the user's features, for a model with ``user_features``). It differs a
        little from the fitted user's :meth:`predict` and :meth:`recommend` scores: the
        fitted user factors were solved before the last item half-step (and only
        approximately with ImplicitALS's ``solver="cg"`` or ``"block"``), so the score
        explained is that of one more exact user half-step; the two meet as the fit
        converges. Computed in float64 from the model's factors.

        Parameters
        ----------
        user : int or str
            The raw id of a user known to the model.
        item : int or str
            The raw id of the item to explain (known to the model; seen or not).
        data : Interactions or (users, items, ratings)
            Holds the user's history with its ratings (ALS) or counts (ImplicitALS),
            which the model does not keep: normally the training data. Only the user's
            rows are read.
        n : int, optional
            Keep the ``n`` largest contributions; ``rest`` sums the others.

        Returns
        -------
        Explanation
            ``score``, ``items`` and ``contributions`` (largest ``|contribution|`` first),
            ``prior``, ``base`` and ``rest``, with ``score == base + prior +
            contributions.sum() + rest``.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            ``user``, ``item`` or an item of the history is not known to the model.
        ValueError
            ``data`` holds no interactions of ``user``, or ``n`` is not an integer >= 1.
        ModelFitError
            The user's system is not positive definite.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> why = model.explain("Bob", "Sholay", data)     # Bob's history: data's rows of Bob
        >>> why.items.tolist(), why.contributions.round(1).tolist()
        (['Batman', 'Swades', 'Interstellar'], [-0.2, 0.2, 0.1])
        >>> round(why.base, 1), round(why.score, 1)     # μ + b_i, and the score explained
        (3.8, 3.8)
        >>> bool(abs(why.base + why.prior + why.contributions.sum() - why.score) < 1e-9)
        True
        """
        self._check_is_fitted()
        n = None if n is None else v.check_int("n", n, minimum=1)
        uidx = self._user_index(user)
        iidx = int(self._known("item", [item], "item")[0])
        ids, values = _history(as_interactions(data), user)
        cols = self._column_index("user", ids)
        raw_user = self.user_ids_.ids[uidx:uidx + 1]
        Y = self.item_factors_
        prior = fitted_prior(self, "user", raw_user, Y.shape[1], Y.dtype.type)
        m = np.zeros(Y.shape[1]) if len(prior) == 0 else prior[0].astype(np.float64)
        try:
            terms, prior_term, base = self._explain_terms(cols, values, iidx, m)
        except np.linalg.LinAlgError:
            raise cholesky_error("user", uidx, f"regularization (now {self.regularization})",
                                 raw_user[0]) from None
        order = np.argsort(-np.abs(terms), kind="stable")
        keep, left = order[:n], order[len(order) if n is None else n:]
        return Explanation(
            user=user, item=item, score=float(base + prior_term + terms.sum()),
            items=ids[keep], contributions=terms[keep], prior=float(prior_term),
            base=float(base), rest=float(terms[left].sum()))

    def _explain_terms(self, cols: Int64Array, values: NDArray[Any], iidx: int,
                       m: Float64Array) -> tuple[Float64Array, float, float]:
        """(contribution of each history item, the prior's, the base) of item ``iidx``:
        ``cols`` the history items' indices, ``values`` their ratings or counts, ``m`` the
        user's prior (float64)."""
        raise NotImplementedError


def _history(data: Any, user: RawId) -> tuple[IdArray, NDArray[Any]]:
    """The raw item ids and values of ``user``'s interactions in ``data``; ValueError when
    there are none."""
    row = int(data.user_ids.index(np.asarray([user]))[0])
    R = data.by_user
    start, end = (int(R.indptr[row]), int(R.indptr[row + 1])) if row >= 0 else (0, 0)
    if start == end:
        raise ValueError(f"data holds no interactions of user {user!r}; explain() splits the "
                         f"score over the user's history, so pass the data that holds it "
                         f"(normally the training data)")
    return data.item_ids.to_raw(R.indices[start:end]), R.data[start:end]


def _solve(A: Float64Array, b: Float64Array) -> Float64Array:
    """A⁻¹ b for a symmetric positive definite A (LinAlgError otherwise)."""
    import scipy.linalg        # on first use: importing fastmf maps no more than it needs

    return np.asarray(scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, lower=True), b))


class ExplicitExplain(ExplainMixin):
    """``explain`` for ALS: the row solve over [b_u, p_u] (see ``_kernels.als``)."""

    if TYPE_CHECKING:
        item_biases_: FloatArray
        global_mean_: float
        bias_regularization: float

    def _explain_terms(self, cols: Int64Array, values: NDArray[Any], iidx: int,
                       m: Float64Array) -> tuple[Float64Array, float, float]:
        Y, yb = self.item_factors_, self.item_biases_
        dtype = Y.dtype.type
        p = cast("BiasedParams", self._check_params())
        # the values as the kernel sees them: in the model dtype, then exact in float64
        mu = float(dtype(self.global_mean_))
        lam = float(explicit_regularization(np.array([len(cols)]), p, dtype)[0])
        Z = np.hstack([np.ones((len(cols), 1)), Y[cols].astype(np.float64)])
        A = Z.T @ Z
        A[np.diag_indices_from(A)] += np.r_[float(dtype(p.bias_regularization)),
                                            np.full(Y.shape[1], lam)]
        g = _solve(A, np.r_[1.0, Y[iidx].astype(np.float64)])        # W_u z_i
        t = values.astype(dtype).astype(np.float64) - mu - yb[cols].astype(np.float64)
        return (Z @ g) * t, lam * float(g[1:] @ m), mu + float(yb[iidx])


class ImplicitExplain(ExplainMixin):
    """``explain`` for ImplicitALS: the exact (Cholesky) row solve of ``_kernels.implicit_als``."""

    if TYPE_CHECKING:
        @staticmethod
        def _confidence_values(values: NDArray[Any], p: ImplicitParams) -> FloatArray: ...

    def _explain_terms(self, cols: Int64Array, values: NDArray[Any], iidx: int,
                       m: Float64Array) -> tuple[Float64Array, float, float]:
        Y = self.item_factors_
        dtype = Y.dtype.type
        p = replace(cast("ImplicitParams", self._check_params()), dtype=dtype)
        check_counts(values, locate=False)
        conf = self._confidence_values(values.astype(dtype), p).astype(np.float64)
        c = 1.0 + float(dtype(p.alpha)) * conf                  # c_uj, as the kernel forms it
        a0 = p.unobserved_weight
        lam = float(implicit_regularization(np.array([len(cols)]), len(Y), p, dtype)[0])
        Y64, Yu = Y.astype(np.float64), Y[cols].astype(np.float64)
        A = a0 * (Y64.T @ Y64) + (Yu.T * (c - a0)) @ Yu
        A[np.diag_indices_from(A)] += lam
        g = _solve(A, Y64[iidx])                                  # W_u y_i
        return c * (Yu @ g), lam * float(g @ m), 0.0
