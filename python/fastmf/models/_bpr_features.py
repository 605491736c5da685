"""Side features in BPR, in LightFM's formulation: a row's factors (and an item's bias) are
the sum of its own embedding and of its features' embeddings weighted by ``a_r``, the row's
feature weights scaled to unit length (``features._Features.weights``):

    p_u = e_u + a_u E,    q_i = f_i + b_i F,    bias_i = c_i + b_i γ

A side without features keeps its own embeddings alone. During a fit the trained arrays are
the embeddings (own rows first, then the features'); the fitted model publishes the sums as
``user_factors_``, ``item_factors_`` and ``item_biases_``, each side's feature map (E, F) and
priors (a_u E, b_i F) under the names the least-squares models use (``_hybrid.ATTRIBUTES``),
and the items' feature biases γ as ``feature_biases_``, so that rows placed from features
alone (``add_users``, ``add_items``, ``fold_in(features=...)``) start from their priors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._hybrid import ATTRIBUTES, start_side

if TYPE_CHECKING:
    from typing import Any

    import scipy.sparse as sp
    from numpy.typing import NDArray

    from .._typing import FloatArray, Int32Array, Int64Array
    from ..data import Interactions
    from ._params import BPRParams

#: The fitted biases of the item features (BPR with item features and item biases).
FEATURE_BIASES = "feature_biases_"


@dataclass
class Embeddings:
    """One side as the kernel sees it: row r sums the embeddings its CSR row lists, its own
    (index r < n_own, weight 1) first, then its features' (n_own + feature, weight a_rf)."""
    indptr: Int64Array
    indices: Int32Array
    weights: FloatArray
    n_own: int
    names: NDArray[np.str_]         # the feature names (empty: no features)

    @property
    def matrix(self) -> sp.csr_matrix:
        import scipy.sparse as sp

        return sp.csr_matrix((self.weights, self.indices, self.indptr),
                             shape=(len(self.indptr) - 1, self.n_own + len(self.names)))


def start(data: Interactions, p: BPRParams) -> dict[str, Embeddings] | None:
    """Both sides' Embeddings for a fit with features on either side, else None."""
    import scipy.sparse as sp

    if p.user_features is None and p.item_features is None:
        return None
    sides = {}
    for side, n in (("user", data.n_users), ("item", data.n_items)):
        features = start_side(getattr(p, f"{side}_features"), data, side, p.factors, p.dtype)
        if features is not None and n + len(features.names) >= 2**31:
            raise ValueError(f"BPR with features indexes its {n} {side}s and "
                             f"{len(features.names)} {side} features together in 32 bits; "
                             f"their sum must be below 2**31")
        A = sp.identity(n, format="csr") if features is None else \
            sp.hstack([sp.identity(n), features.A], format="csr")
        A.sort_indices()
        names = np.zeros(0, str) if features is None else features.names
        sides[side] = Embeddings(A.indptr.astype(np.int64), A.indices.astype(np.int32),
                                 A.data.astype(p.dtype), n, names)
    return sides


def grown(own: FloatArray, side: Embeddings, dtype: Any) -> FloatArray:
    """The embeddings of a side from its own starting rows: the features' rows at 0."""
    extra = (len(side.names),) + own.shape[1:]
    return np.concatenate([own, np.zeros(extra, dtype=dtype)])


def summed(side: Embeddings, E: FloatArray) -> FloatArray:
    """The rows' sums of their embeddings, in E's dtype."""
    if len(E) == 0:
        return E
    return np.asarray(side.matrix @ E, dtype=E.dtype)


def fitted(sides: dict[str, Embeddings], X: FloatArray, Y: FloatArray, b: FloatArray
           ) -> dict[str, Any]:
    """The published arrays of a fit with features: the rows' factors and item biases, and
    each side's feature names, map and priors where the side has features."""
    out: dict[str, Any] = {"user_factors_": summed(sides["user"], X),
                           "item_factors_": summed(sides["item"], Y),
                           "item_biases_": (summed(sides["item"], b) if len(b)
                                            else np.zeros(sides["item"].n_own, Y.dtype))}
    for side, E in (("user", X), ("item", Y)):
        emb = sides[side]
        if len(emb.names) == 0:
            continue
        names_attr, map_attr, prior_attr = ATTRIBUTES[side]
        feature_part = emb.matrix[:, emb.n_own:]
        out[names_attr] = emb.names
        out[map_attr] = E[emb.n_own:].copy()
        out[prior_attr] = np.asarray(feature_part @ E[emb.n_own:], dtype=E.dtype)
        if side == "item" and len(b):
            out[FEATURE_BIASES] = b[emb.n_own:].copy()
    return out


def clear(model: Any) -> None:
    """Remove the feature attributes of an earlier fit."""
    for side in ("user", "item"):
        for name in ATTRIBUTES[side]:
            model.__dict__.pop(name, None)
    model.__dict__.pop(FEATURE_BIASES, None)
