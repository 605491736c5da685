"""What the implicit-feedback models (ImplicitALS, BPR) share: values that must be counts
>= 0, validation by precision and NDCG at 10, and scores ``x_u·y_i + b_i`` (b = 0 without
item biases) for ranking and ``predict``, written once here."""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._locking import reads
from ..metrics import evaluate
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

    @reads
    def predict(self, users: ArrayLike, items: ArrayLike) -> FloatArray:
        """Scores x_u·y_i + b_i for parallel arrays of raw ids, b the item biases (BPR's;
        0 for ImplicitALS): what ``recommend`` ranks by.

        Parameters
        ----------
        users, items : array-like of int or str
            Raw ids, one pair per score; they need not be in the training data: an unknown
            user gets b_i (the popularity part of BPR's score; 0 for ImplicitALS), an
            unknown item 0.

        Returns
        -------
        ndarray
            A score per pair, in the model dtype. ImplicitALS's is the fitted preference,
            toward 1 for a pair the model expects and toward 0 for one it does not
            (regularization pulls scores toward 0); only the order of BPR's scores within a
            user means something.

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
        [0.79, 0.53, 0.0]
        >>> bpr = fastmf.BPR(factors=2, epochs=50, num_threads=1, seed=0, verbose=False)
        >>> scores = bpr.fit(data).predict([0, 0, 7], [1, 2, 1])
        >>> scores.shape, bool(scores[2] == bpr.item_biases_[1])      # user 7 is unknown
        ((3,), True)
        """
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
