"""Rows placed from side features alone: ``add_users`` and ``add_items`` for the models
fitted with ``user_features`` or ``item_features`` (ALS, ImplicitALS, BPR), and the priors that
``fold_in(features=...)`` shrinks toward. A row known by its features alone gets its prior
a W; nothing changes on a failed call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._locking import writes
from ..data import IdMap, _comparable
from ..features import _Features, rows_to_weights, table_to_weights
from ._coldstart import _seen_with
from ._hybrid import ATTRIBUTES, has_features

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TypeVar

    from numpy.typing import ArrayLike

    from .._typing import CsrArrays, FloatArray, IdArray
    from ..features import FeatureRow, ItemFeatures, UserFeatures
    from ._base import MatrixFactorizationBase as _Model

    _Self = TypeVar("_Self", bound="FeatureRowsMixin")
else:
    _Model = object


class FeatureRowsMixin(_Model):
    """add_users, add_items and the priors of rows given by features."""

    if TYPE_CHECKING:
        _seen: CsrArrays

    @writes
    def add_users(self: _Self, user_ids: ArrayLike,
                  features: Sequence[FeatureRow] | UserFeatures) -> _Self:
        """Add brand-new users, served at once from their features alone.

        Each user gets the factors of the prior its features predict, :math:`a_u D`
        (and a bias of 0): what the model expects of a user with those features. Nothing
        is known of such a user's interactions, so none count for or against an item
        (the row solve of a user with interactions also weighs every item they did not
        interact with; :meth:`fold_in` with features and items does that). The users are
        appended to ``user_ids_`` (and the user arrays), have seen nothing, and
        ``recommend`` serves them with every filter. Nothing changes when the call fails.

        Parameters
        ----------
        user_ids : array-like of int or str
            Raw ids not in the model, each once, of the same kind as the model's.
        features : sequence of lists of str or dicts {str: float}, or UserFeatures
            The features of each user (names from ``user_feature_names_``; a dict gives
            weights), or a :class:`~fastmf.UserFeatures` that lists every user of
            ``user_ids``.

        Returns
        -------
        self

        Raises
        ------
        NotFittedError
            The model is not fitted.
        ValueError
            The model was fitted without ``user_features``, an id is already in the model
            or repeats, a feature name is unknown, a user is missing from the given
            UserFeatures, or the lengths differ.
        TypeError
            The ids are not of the kind of the model's.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> users = fastmf.UserFeatures.from_lists(["Alice", "Bob", "Carol"],
        ...                                        [["young"], ["old"], ["young"]])
        >>> model = fastmf.ImplicitALS(factors=2, iterations=5, user_features=users, seed=0,
        ...                            verbose=False).fit(data)
        >>> model = model.add_users(["Erin"], [["young"]])
        >>> model.user_ids_.ids.tolist()
        ['Alice', 'Bob', 'Carol', 'Erin']
        >>> len(model.recommend("Erin", n=2)[0])
        2
        """
        return self._add_rows("user", user_ids, features)

    @writes
    def add_items(self: _Self, item_ids: ArrayLike,
                  features: Sequence[FeatureRow] | ItemFeatures) -> _Self:
        """Add brand-new items, served at once from their features alone; the mirror image
        of :meth:`add_users`.

        Each item gets the factors of its prior and a bias of 0 (BPR: the sum of its
        features' biases; an item without features gets zero factors: ALS then predicts
        μ + b_u). No user has seen them, so
        ``recommend`` may return them to anyone. Nothing changes when the call fails.

        Parameters
        ----------
        item_ids : array-like of int or str
            Raw ids not in the model, each once, of the same kind as the model's.
        features : sequence of lists of str or dicts {str: float}, or ItemFeatures
            The features of each item (names from ``feature_names_``; a plain string is one
            name), or an :class:`~fastmf.ItemFeatures` that lists every item of
            ``item_ids``.

        Returns
        -------
        self

        Raises
        ------
        NotFittedError, ValueError, TypeError
            As for :meth:`add_users`, with items for users.

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
        return self._add_rows("item", item_ids, features)

    # -- the shared path -------------------------------------------------------------
    def _feature_prior(self, side: str, rows: Sequence[FeatureRow] | _Features,
                       ids: IdArray | None = None) -> FloatArray:
        """The priors a W of rows given by features (lists, dicts, or a table listing
        ``ids``), in the factors' dtype; ValueError without a fitted feature map."""
        return self._feature_sums(side, rows, ids)[0]

    def _feature_sums(self, side: str, rows: Sequence[FeatureRow] | _Features,
                      ids: IdArray | None = None) -> tuple[FloatArray, FloatArray]:
        """The priors a W of ``_feature_prior`` and the biases a γ of the rows (BPR's item
        feature biases ``feature_biases_``; zeros for a model without them)."""
        if not has_features(self, side):
            raise ValueError(f"features of {side}s need a model fitted with {side}_features; "
                             f"this {type(self).__name__} was fitted without them")
        names_attr, map_attr, _ = ATTRIBUTES[side]
        names, W = getattr(self, names_attr), getattr(self, map_attr)
        if isinstance(rows, _Features):
            A = table_to_weights(names, rows, ids)  # type: ignore[arg-type]  # given with it
        else:
            A = rows_to_weights(names, rows, "features")
        gamma = getattr(self, "feature_biases_", None) if side == "item" else None
        biases = np.zeros(A.shape[0]) if gamma is None else A @ gamma.astype(np.float64)
        return (np.asarray(A @ W.astype(np.float64), dtype=W.dtype),
                np.asarray(biases, dtype=W.dtype))

    def _add_rows(self: _Self, side: str, ids: ArrayLike,
                  features: Sequence[FeatureRow] | _Features) -> _Self:
        self._check_is_fitted()
        ids = v.as_ids(f"{side}_ids", ids)
        v.check_not_empty(f"{side}_ids", ids)
        if not has_features(self, side):
            raise ValueError(f"add_{side}s needs a model fitted with {side}_features")
        if isinstance(features, _Features) and features._side != side:
            raise TypeError(f"add_{side}s takes the features of {side}s, got a "
                            f"{type(features).__name__}")
        if isinstance(features, str) or not isinstance(features, _Features):
            features = [[row] if isinstance(row, str) else row for row in features]
            if len(features) != len(ids):
                raise ValueError(f"{side}_ids and features must have the same length, got "
                                 f"{len(ids)} {side}_ids and {len(features)} features")
        if len(np.unique(ids)) < len(ids):
            raise ValueError(f"{side}_ids lists a {side} more than once")
        model_ids = getattr(self, f"{side}_ids_")
        if not _comparable(ids.dtype, model_ids.ids.dtype):
            raise TypeError(f"{side} ids of dtype {ids.dtype} do not match the model's {side} "
                            f"ids of dtype {model_ids.ids.dtype}")
        known = model_ids.index(ids) >= 0
        if known.any():
            raise ValueError(f"{side} {ids[np.argmax(known)].item()!r} is already in the "
                             f"model; use partial_fit_{side}s to re-solve it from "
                             f"interactions")
        prior, biases = self._feature_sums(side, features, ids)
        # Everything is computed before the model changes: a failure above leaves it intact.
        updates: dict[str, Any] = {f"{side}_factors_": prior, ATTRIBUTES[side][2]: prior}
        if hasattr(self, f"{side}_biases_"):
            updates[f"{side}_biases_"] = biases
        grown: dict[str, Any] = {name: np.concatenate([getattr(self, name), new])
                                 for name, new in updates.items()}
        grown[f"{side}_ids_"] = IdMap(np.concatenate([model_ids.ids, ids]))
        if side == "user":
            grown["_seen"] = _seen_with(self._seen, np.zeros(0, np.int64),
                                        np.zeros(0, np.int32), len(grown["user_ids_"]))
        for name, value in grown.items():
            setattr(self, name, value)
        return self
