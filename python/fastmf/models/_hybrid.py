"""Side features in the least-squares models (ALS, ImplicitALS): each row's factors are
shrunk toward a prior a_u W predicted from its features, a_u the row's feature weights scaled
to unit length (``features._Features.weights``) and W the side's feature map, solved in
closed form (ridge) after each half-step of that side.

The fitted map and vocabulary are kept by these attribute names (the item names are ALS's
from before users had features)::

    users: user_feature_names_, user_feature_factors_, user_priors_
    items: feature_names_,      feature_factors_,      item_priors_
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..features import ItemFeatures, UserFeatures, _Features

if TYPE_CHECKING:
    from typing import Any

    import scipy.sparse as sp
    from numpy.typing import NDArray

    from .._typing import FloatArray, FloatType
    from ..data import Interactions

#: The fitted attributes of each side's features: (names, feature map, priors).
ATTRIBUTES = {"user": ("user_feature_names_", "user_feature_factors_", "user_priors_"),
              "item": ("feature_names_", "feature_factors_", "item_priors_")}
_CLASSES: dict[str, type[_Features]] = {"user": UserFeatures, "item": ItemFeatures}


@dataclass
class SideFeatures:
    """One side's features during a fit: A (rows x features, unit rows, float64 CSR), the
    map W (features x k, model dtype), the priors A W (rows x k) and the feature names."""
    A: Any
    W: FloatArray
    prior: FloatArray
    names: NDArray[np.str_]

    def copy(self) -> SideFeatures:
        return SideFeatures(self.A, self.W.copy(), self.prior.copy(), self.names)

    def update(self, X: FloatArray, tau: FloatArray, feature_reg: float) -> None:
        """W and the priors from the side's solved factors X (row weights tau)."""
        self.W[:] = feature_update(self.A, X, tau, feature_reg)
        self.prior[:] = self.A @ self.W.astype(np.float64)


def checked_features(name: str, side: str, value: object, genres: bool = False
                     ) -> _Features | str | None:
    """``value`` if it is None, a features table of ``side`` (or "genres" where ``genres``),
    else TypeError naming the parameter."""
    cls = _CLASSES[side]
    if value is None or isinstance(value, cls) or (genres and isinstance(value, str)
                                                   and value == "genres"):
        return value
    expected = f"None, 'genres' or a fastmf.{cls.__name__}" if genres else \
        f"None or a fastmf.{cls.__name__}"
    raise TypeError(f"{name} must be {expected}, got {value!r}")


def start_side(features: _Features | str | None, data: Interactions, side: str, k: int,
               dtype: FloatType) -> SideFeatures | None:
    """The starting features of ``side`` (W = 0, priors 0) for the training rows of ``data``,
    or None without features; ValueError when no training row has any."""
    if features is None:
        return None
    if isinstance(features, str):
        features = ItemFeatures.from_item_info(data.item_info)
    ids = (data.user_ids if side == "user" else data.item_ids).ids
    A = features.weights(ids)
    if A.nnz == 0:
        raise ValueError(f"none of the training {side}s has features in {side}_features; "
                         f"their ids must be the training data's {side} ids")
    n = len(ids)
    return SideFeatures(A, np.zeros((len(features.names), k), dtype=dtype),
                        np.zeros((n, k), dtype=dtype), features.names)


def feature_update(A: sp.csr_matrix, Y: FloatArray, tau: FloatArray, feature_reg: float
                   ) -> FloatArray:
    """The feature map W minimising Σ_i τ_i ‖y_i - (A W)_i‖² + λ_f ‖W‖², τ_i the row's
    regularization: the normal equations (Aᵀ T A + λ_f I) W = Aᵀ T Y, one solve of order
    n_features (in float64; returned in Y's dtype). numpy's solver: scipy's own LAPACK
    build costs milliseconds of thread start-up per call on systems this small."""
    AtT = (A.T.multiply(np.asarray(tau, dtype=np.float64)[None, :])).tocsr()
    normal = np.asarray((AtT @ A).toarray())
    normal[np.diag_indices_from(normal)] += feature_reg
    rhs = AtT @ Y.astype(np.float64)
    return np.linalg.solve(normal, np.asarray(rhs)).astype(Y.dtype)


def publish(model: Any, sides: dict[str, SideFeatures | None]) -> None:
    """Set (or clear, from an earlier fit) the fitted feature attributes of each side."""
    for side, sf in sides.items():
        names_attr, map_attr, prior_attr = ATTRIBUTES[side]
        for name in ATTRIBUTES[side]:
            model.__dict__.pop(name, None)
        if sf is not None:
            setattr(model, names_attr, sf.names)
            setattr(model, map_attr, sf.W)
            setattr(model, prior_attr, sf.prior)


def has_features(model: Any, side: str) -> bool:
    return ATTRIBUTES[side][1] in vars(model)


def fitted_prior(model: Any, side: str, row_ids: NDArray[Any] | None, k: int, dtype: FloatType
                 ) -> FloatArray:
    """The shrinkage targets of rows by raw id: the fitted priors of known rows of a side
    with features, 0 for the others (an empty array: no prior at all)."""
    if row_ids is None or not has_features(model, side):
        return np.zeros((0, k), dtype=dtype)
    priors = getattr(model, ATTRIBUTES[side][2])
    index = getattr(model, f"{side}_ids_").index(row_ids)
    prior = np.zeros((len(index), k), dtype=dtype)
    prior[index >= 0] = priors[index[index >= 0]]
    return prior
