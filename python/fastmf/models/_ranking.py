"""What the implicit-feedback models (ImplicitALS, BPR) share: values that must be counts
>= 0, validation by precision and NDCG at 10, and scores ``x_u·y_i + b_i`` (b = 0 without
item biases) for ranking and ``predict``."""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ._base import MatrixFactorizationBase
from ._serving import ServingMixin

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike, NDArray

    from .._typing import FloatArray, Record
    from ..data import Interactions


def check_counts(values: NDArray[Any], locate: bool = True) -> None:
    """ValueError unless every value is >= 0; ``locate`` says how many and where the first
    is (the training data), else only that there are some (rows for a fold-in)."""
    negative = values < 0
    if negative.any():
        found = (f"{int(negative.sum())} negative values (first at position "
                 f"{int(np.flatnonzero(negative)[0])})" if locate else "negative values")
        raise ValueError(f"implicit data must be counts >= 0; found {found}")


class RankingMF(ServingMixin, MatrixFactorizationBase):
    """Base of the implicit-feedback models: see ImplicitALS and BPR. A model gives
    ``_fitted(state)``, the fitted attributes of a state by name (``_publish`` sets them)."""

    _monitor = "val_ndcg@10"
    _monitor_mode = "max"

    def _fitted(self, state: Any) -> dict[str, Any]:
        return {"user_factors_": state.X, "item_factors_": state.Y,
                "user_ids_": state.data.user_ids, "item_ids_": state.data.item_ids,
                "item_info_": state.data.item_info,
                "_seen": (state.data.by_user.indptr, state.data.by_user.indices)}

    def _publish(self, state: Any) -> None:
        for name, value in self._fitted(state).items():
            setattr(self, name, value)

    def _validation_scores(self, state: Any, train: Interactions) -> Record:
        """Precision and NDCG at 10 on ``state.val`` of the model of ``state`` (its arrays),
        leaving out the items of ``train`` (an Interactions)."""
        from ..metrics import evaluate
        view = copy.copy(self)          # this iteration's model, leaving self untouched
        vars(view).update(self._fitted(state))
        scores = evaluate(view, state.val, train=train, k=10, metrics=("precision", "ndcg"),
                          verbose=False)        # the fit's own bar shows the progress
        return {"val_precision@10": scores["precision@10"], "val_ndcg@10": scores["ndcg@10"]}

    # -- serving ----------------------------------------------------------------------
    def _query(self, uidx: NDArray[np.integer[Any]]) -> tuple[FloatArray, FloatArray]:
        return self._query_from(self.user_factors_[uidx],
                                np.zeros(len(uidx), dtype=self.user_factors_.dtype))

    def _query_from(self, factors: FloatArray, biases: FloatArray
                    ) -> tuple[FloatArray, FloatArray]:
        return factors, biases

    def _item_bias(self) -> FloatArray:
        return np.zeros(len(self.item_ids_), dtype=self.item_factors_.dtype)

    def _score_pairs(self, users: ArrayLike, items: ArrayLike) -> FloatArray:
        """``predict``: x_u·y_i + b_i for parallel arrays of raw ids; b_i for an unknown
        user, 0 for an unknown item."""
        self._check_is_fitted()
        users, items = v.as_ids("users", users), v.as_ids("items", items)
        v.check_same_length(users=users, items=items)
        u, i = self._index("user", users, "users"), self._index("item", items, "items")
        out = np.zeros(len(users), dtype=self.item_factors_.dtype)
        out[i >= 0] = self._item_bias()[i[i >= 0]]
        known = (u >= 0) & (i >= 0)
        out[known] += np.einsum("ij,ij->i", self.user_factors_[u[known]],
                                self.item_factors_[i[known]])
        return out
