"""Serving beyond the training data: fold in new users, re-solve or add users and items from
new interactions, with the other side's factors fixed.

Every model solves such rows by the objective it trains (``_solve_rows``): the explicit
models a ridge regression with bias, ImplicitALS the confidence-weighted solve with the YᵀY
trick, BPR its expected pairwise objective by Newton's method. Nothing in the model changes
on a failed call.
"""
from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._kernels.sparse import pairs_to_csr
from .._locking import reads, writes
from ..data import (Csr, IdMap, Interactions, _comparable, combine_duplicates,
                    first_of_each_pair)
from ..exceptions import UnknownIdError
from ._hybrid import ATTRIBUTES

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NamedTuple, TypeVar

    from numpy.typing import ArrayLike, NDArray

    from .._typing import (CsrArrays, FloatArray, IdArray, Int32Array, Int64Array, RawId,
                           Unknown)
    from ..features import FeatureRow, _Features
    from ._base import MatrixFactorizationBase as _Model
    from ._topn import Filter

    _Self = TypeVar("_Self", bound="ColdStartMixin")

    class FoldedUser(NamedTuple):
        factors: FloatArray
        bias: float
else:
    _Model = object
    FoldedUser = namedtuple("FoldedUser", ["factors", "bias"])
FoldedUser.__doc__ = """A user solved from their interactions: ``factors`` (k,) and ``bias``
(0.0 for models without user biases)."""

_OTHER = {"user": "item", "item": "user"}


class ColdStartMixin(_Model):
    """fold_in, recommend_new_user, partial_fit_users and partial_fit_items.

    A model provides ``_solve_rows(side, R, row_ids=None, prior=None)``: the factors and
    biases of the rows of the Csr ``R`` (users when side is "user", with item indices as
    columns; the reverse for "item"; ``row_ids`` their raw ids, None for a new user) solved
    against the other side's fitted factors, shrunk toward ``prior`` (models with features;
    None: the fitted priors of known rows); and ``_query_from(factors, biases)``, the query
    vectors and score offsets of users given by their factors and biases (see ``ServingMixin``).
    """

    if TYPE_CHECKING:
        # ServingMixin's, which every model with this mixin derives from.
        def _item_filter(self, filter_items: ArrayLike | None, items: ArrayLike | None,
                         unknown: Unknown, min_item_count: int | None = None) -> Filter: ...
        def _known(self, side: str, ids: ArrayLike | Sequence[RawId], name: str
                   ) -> Int64Array: ...
        def _feature_prior(self, side: str, rows: Sequence[FeatureRow] | _Features,
                           ids: IdArray | None = None) -> FloatArray: ...
        def _rank(self, Q: FloatArray, offsets: FloatArray | None, exclude: CsrArrays, n: int,
                  filt: Filter, exact: bool, side: str = "item"
                  ) -> tuple[Int32Array, FloatArray]: ...

    @reads
    def fold_in(self, items: ArrayLike = (), ratings: ArrayLike | None = None, *,
                features: FeatureRow | None = None) -> FoldedUser:
        """The factor vector and bias of a user who is not in the training data.

        Solved from that user's interactions by a closed-form row solve against the
        fixed item factors; the model does not change. A model fitted with
        ``user_features`` also takes the user's features: the solve then shrinks the user
        toward the prior :math:`a_u D` they predict, and features alone (no items) give
        that prior itself, as :meth:`add_users` does. ALS and ImplicitALS solve as
        their user half-step does (ImplicitALS exactly, by Cholesky, whatever its
        ``solver``), so for a training user's whole history this is the vector one more
        user half-step would give; SGD uses the ALS ridge solve with its own λ and λ_b;
        BPR minimises its expected objective for the user (every positive against every
        other item, weighted as its sampler draws negatives) by Newton's method (with
        features: its own embedding, the prior fixed).

        Parameters
        ----------
        items : array-like of int or str
            Raw ids of the items the user interacted with, each once, all known to the
            model.
        ratings : array-like of numbers, optional
            A value per item; None (implicit data) gives every item the value 1.
        features : list of str or dict {str: float}, optional
            The user's features (names from ``user_feature_names_``, or a dict of name to
            weight), for a model fitted with ``user_features``.

        Returns
        -------
        FoldedUser
            ``factors`` of shape (k,) and ``bias`` (0.0 for ImplicitALS and BPR).

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            An item is not known to the model.
        ValueError
            ``items`` is empty without ``features`` or repeats an item, ``ratings`` does
            not match it, a feature is unknown, or the model has no user features.
        ModelFitError
            The row solve failed.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
        >>> model = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False).fit(data)
        >>> user = model.fold_in([0, 5, 9], [5.0, 4.0, 1.0])
        >>> user.factors.shape, type(user.bias).__name__
        ((8,), 'float')
        """
        self._check_is_fitted()
        items = v.as_ids("items", items)
        prior = None if features is None else self._feature_prior("user", [features])
        if prior is None:
            v.check_not_empty("items", items)
        unique, counts = np.unique(items, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"items lists item {unique[np.argmax(counts > 1)].item()!r} more "
                             f"than once; give each item once")
        if prior is None:
            F, b = self._solve_rows("user", self._new_user_row(items, ratings))
        elif len(items) == 0:                   # nothing observed: the prior itself
            return FoldedUser(prior[0], 0.0)
        else:
            F, b = self._solve_rows("user", self._new_user_row(items, ratings), prior=prior)
        return FoldedUser(F[0], float(b[0]))

    @reads
    def recommend_new_user(self, history: ArrayLike = (), ratings: ArrayLike | None = None,
                           n: int = 10, *, features: FeatureRow | None = None,
                           filter_seen: bool = True,
                           filter_items: ArrayLike | None = None, items: ArrayLike | None = None,
                           min_item_count: int | None = None, unknown: Unknown = "raise",
                           exact: bool = False) -> tuple[IdArray, FloatArray]:
        """The ``n`` best items for a new user given their interactions.

        The user is solved by :meth:`fold_in` and ranked as :meth:`recommend` ranks a
        training user, with the same filters; the model does not change.

        Parameters
        ----------
        history : array-like of int or str
            Raw ids of the items the user interacted with, each once, all known to the
            model (what :meth:`fold_in` calls ``items``).
        ratings : array-like of numbers, optional
            A value per item; None (implicit data) gives every item the value 1.
        n : int, default 10
            Items returned: exactly ``n`` when that many candidates remain, else all of them.
        features : list of str or dict {str: float}, optional
            The user's features, for a model fitted with ``user_features`` (see
            :meth:`fold_in`); with them ``history`` may be empty.
        filter_seen : bool, default True
            Leave the items of ``history`` out of the result.
        filter_items, items, min_item_count, unknown, exact
            As for :meth:`recommend`: an exclude list, an allow list, the fewest training
            interactions of an item returned, what an unknown id in the lists does, and
            whether to rank exactly when an approximate index is built.

        Returns
        -------
        items, scores : ndarray
            1-D, best first.

        Raises
        ------
        NotFittedError, UnknownIdError, ValueError, ModelFitError
            As for :meth:`fold_in` and :meth:`recommend`; ``ValueError`` or ``TypeError``
            also when ``n`` is not an integer >= 1.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> items, scores = model.recommend_new_user(["Swades", "Batman"], [5, 1], n=2)
        >>> items.tolist()
        ['Sholay', 'Interstellar']
        >>> len(model.recommend_new_user(["Swades", "Batman"], [5, 1])[0])
        3
        >>> model.recommend_new_user(["Swades", "Batman"], [5, 1], n=2,
        ...                          items=["Batman", "Shawshank"], filter_seen=False)[0].tolist()
        ['Shawshank', 'Batman']
        """
        self._check_is_fitted()
        n = v.check_int("n", n, minimum=1)
        filt = self._item_filter(filter_items, items, unknown, min_item_count)
        user = self.fold_in(history, ratings, features=features)
        seen = (np.unique(self._known("item", history, "history")).astype(np.int32)
                if filter_seen else np.zeros(0, np.int32))
        F = user.factors[None, :]
        Q, offsets = self._query_from(F, np.array([user.bias], dtype=F.dtype))
        found, scores = self._rank(Q, offsets, (np.array([0, len(seen)], np.int64), seen), n,
                                   filt, exact)
        keep = found[0] >= 0
        return self.item_ids_.to_raw(found[0][keep]), scores[0][keep]

    @writes
    def partial_fit_users(self: _Self, users: ArrayLike, items: ArrayLike,
                          ratings: ArrayLike | None = None) -> _Self:
        """Solve (or add) the vectors of ``users`` from the given interactions, with the
        item factors fixed.

        The interactions given for a user are all the solve sees, as in :meth:`fold_in`:
        pass a user's whole history to update them. Users not seen before are appended to
        ``user_ids_``; every given (user, item) pair joins the items that ``recommend``
        filters. Other users, the items and the global mean stay as they are. Nothing
        changes when the call fails.

        Parameters
        ----------
        users : array-like of int or str
            Raw user ids, one per interaction, of the same kind (integers or strings) as
            the model's.
        items : array-like of int or str
            Raw item ids, one per interaction, all known to the model.
        ratings : array-like of numbers, optional
            A value per interaction; None (implicit data) gives each the value 1.

        Returns
        -------
        self

        Raises
        ------
        NotFittedError
            The model is not fitted.
        UnknownIdError
            An item is not known to the model.
        TypeError
            The user ids are not of the kind of the model's.
        ValueError
            The arrays are empty or differ in length, or a (user, item) pair repeats.
        ModelFitError
            A row solve failed.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> model = model.partial_fit_users(["Dave", "Dave"], ["Sholay", "Batman"], [5, 2])
        >>> model.user_ids_.ids.tolist()
        ['Alice', 'Bob', 'Carol', 'Dave']
        >>> sorted(model.recommend("Dave", n=10)[0].tolist())
        ['Interstellar', 'Shawshank', 'Swades']
        """
        return self._partial_fit("user", users, items, ratings)

    @writes
    def partial_fit_items(self: _Self, items: ArrayLike, users: ArrayLike,
                          ratings: ArrayLike | None = None) -> _Self:
        """Solve (or add) the vectors of ``items`` from the given interactions with the user
        factors fixed; the mirror image of :meth:`partial_fit_users`.

        The interactions given for an item are all the solve sees: pass its whole
        history to update it. Items not seen before are appended to ``item_ids_``; every
        given (user, item) pair joins the items that ``recommend`` filters. Nothing
        changes when the call fails.

        Parameters
        ----------
        items : array-like of int or str
            Raw item ids, one per interaction, of the same kind as the model's.
        users : array-like of int or str
            Raw user ids, one per interaction, all known to the model.
        ratings : array-like of numbers, optional
            A value per interaction; None (implicit data) gives each the value 1.

        Returns
        -------
        self

        Raises
        ------
        NotFittedError, UnknownIdError, TypeError, ValueError, ModelFitError
            As for :meth:`partial_fit_users`, with users and items swapped.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.toy()
        >>> model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
        >>> model = model.partial_fit_items(["Dune", "Dune"], ["Alice", "Carol"], [4, 5])
        >>> model.item_ids_.ids.tolist()
        ['Batman', 'Interstellar', 'Shawshank', 'Sholay', 'Swades', 'Dune']
        >>> "Dune" in model.recommend("Bob", n=10)[0], "Dune" in model.recommend("Alice")[0]
        (True, False)
        """
        return self._partial_fit("item", items, users, ratings)

    # -- the shared path -------------------------------------------------------------
    def _partial_fit(self: _Self, side: str, rows: ArrayLike, cols: ArrayLike,
                     ratings: ArrayLike | None) -> _Self:
        self._check_is_fitted()
        rows, cols = v.as_ids(f"{side}s", rows), v.as_ids(f"{_OTHER[side]}s", cols)
        v.check_not_empty(f"{side}s", rows)
        row_ids, R = self._rows_of(side, rows, cols, ratings)
        ids = getattr(self, f"{side}_ids_")
        if not _comparable(row_ids.ids.dtype, ids.ids.dtype):
            raise TypeError(f"{side} ids of dtype {row_ids.ids.dtype} do not match the model's "
                            f"{side} ids of dtype {ids.ids.dtype}")
        F, b = self._solve_rows(side, R, row_ids.ids)
        # Everything is computed before the model changes: a failure above leaves it intact.
        index = ids.index(row_ids.ids)
        new = index < 0
        index[new] = len(ids) + np.arange(int(new.sum()))
        arrays = {"factors": F, "biases": b}
        updates: dict[str, Any] = {}
        for kind, solved in arrays.items():
            name = f"{side}_{kind}_"
            if hasattr(self, name):
                old = getattr(self, name)
                grown = np.concatenate([old, np.zeros((int(new.sum()),) + old.shape[1:],
                                                      old.dtype)])
                grown[index] = solved
                updates[name] = grown
        if new.any():
            updates[f"{side}_ids_"] = IdMap(np.concatenate([ids.ids, row_ids.ids[new]]))
            prior_name = ATTRIBUTES[side][2]
            if hasattr(self, prior_name):                 # new rows: no features
                old = getattr(self, prior_name)
                updates[prior_name] = np.concatenate(
                    [old, np.zeros((int(new.sum()), old.shape[1]), old.dtype)])
        row_of_entry = np.repeat(index, np.diff(R.indptr))
        pairs: tuple[NDArray[np.integer[Any]], NDArray[np.integer[Any]]] = (
            (row_of_entry, R.indices) if side == "user" else (R.indices, row_of_entry))
        n_users = len(updates.get("user_ids_", self.user_ids_))
        updates["_seen"] = _seen_with(self._seen, *pairs, n_users)
        for name, value in updates.items():
            setattr(self, name, value)
        return self

    def _rows_of(self, side: str, rows: IdArray, cols: IdArray, ratings: ArrayLike | None
                 ) -> tuple[IdMap, Csr]:
        """(IdMap of the row ids, Csr of their interactions with columns as the model's
        indices of the other side), validated: lengths, values, repeats, unknown ids."""
        batch = Interactions.from_arrays(rows, cols, ratings)
        column_index = self._column_index(side, batch.item_ids.ids)
        R = batch.by_user
        dtype = getattr(self, f"{_OTHER[side]}_factors_").dtype
        return batch.user_ids, Csr(R.indptr, column_index[R.indices].astype(np.int32),
                                   R.data.astype(dtype), R.shape)

    def _new_user_row(self, items: IdArray, ratings: ArrayLike | None) -> Csr:
        """The Csr of one new user's interactions (``items``: ids checked, each once), laid
        out as ``_rows_of`` lays it out: columns in raw-id order."""
        values = np.ones(len(items)) if ratings is None else v.as_ratings("ratings", ratings)
        # named as Interactions.from_arrays names them, so partial fits say the same
        v.check_same_length(users=items, items=items, ratings=values)
        order = np.argsort(items, kind="stable")
        column_index = self._column_index("user", items[order])
        return Csr(np.array([0, len(items)], dtype=np.int64), column_index.astype(np.int32),
                   values[order].astype(self.item_factors_.dtype), (1, len(items)))

    def _column_index(self, side: str, ids: IdArray) -> Int64Array:
        """The model's indices of the raw ids of the other side (sorted, unique) that place
        rows of ``side``; UnknownIdError for the first it does not know."""
        other = _OTHER[side]
        column_index = getattr(self, f"{other}_ids_").index(ids)
        if (column_index < 0).any():
            bad = ids[np.flatnonzero(column_index < 0)[0]]
            raise UnknownIdError(f"{other} {bad.item()!r} was not in the training data; only "
                                 f"known {other}s can place a {side}")
        return column_index


def _seen_with(seen: CsrArrays, rows: NDArray[np.integer[Any]], cols: NDArray[np.integer[Any]],
               n_rows: int) -> CsrArrays:
    """The (indptr, indices) of ``seen`` with the pairs (rows, cols) added, n_rows rows."""
    indptr, indices = seen
    old_rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    all_rows, all_cols = np.concatenate([old_rows, rows]), np.concatenate([indices, cols])
    indptr, indices, data, _ = pairs_to_csr(all_rows, all_cols, np.zeros(len(all_rows), np.float32),
                                            n_rows)
    first = first_of_each_pair(indptr, indices)
    if not first.all():
        indptr, indices, _, _ = combine_duplicates("last", indptr, indices, data, None, first)
    return indptr, indices
