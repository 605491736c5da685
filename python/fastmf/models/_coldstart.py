"""Serving beyond the training data: fold in new users, re-solve or add users and items from
new interactions, with the other side's factors fixed.

Every model solves such rows by the closed form it trains with (``_solve_rows``): the
explicit models a ridge regression with bias, the implicit ones the confidence-weighted
solve with the YᵀY trick. Nothing in the model changes on a failed call.
"""
from collections import namedtuple

import numpy as np

from .. import _validation as v
from ..data import (Csr, IdMap, Interactions, _comparable, combine_duplicates,
                    first_of_each_pair, pairs_to_csr)
from ..exceptions import UnknownIdError

FoldedUser = namedtuple("FoldedUser", ["factors", "bias"])
FoldedUser.__doc__ = """A user solved from their interactions: ``factors`` (k,) and ``bias``
(0.0 for models without user biases)."""

_OTHER = {"user": "item", "item": "user"}


class ColdStartMixin:
    """fold_in, recommend_new_user, partial_fit_users and partial_fit_items.

    A model provides ``_solve_rows(side, R, row_ids=None)``: the factors and biases of the
    rows of the Csr ``R`` (users when side is "user", with item indices as columns; the
    reverse for "item"; ``row_ids`` their raw ids, None for a new user) solved against the
    other side's fitted factors.
    """

    def fold_in(self, items, ratings=None):
        """The factor vector and bias of a user who is not in the training data.

        Solved from that user's ``items`` (raw ids the model knows) and ``ratings`` (None
        for implicit data: every value 1) by the model's own closed-form row solve against
        the fixed item factors; for a training user's own ratings this is the vector one
        more user half-step of ALS would give. Returns a :class:`FoldedUser`.

        Examples
        --------
        >>> import fastmf
        >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
        >>> model = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False).fit(data)
        >>> user = model.fold_in([0, 5, 9], [5.0, 4.0, 1.0])
        >>> user.factors.shape
        (8,)
        """
        self._check_is_fitted()
        items = v.as_ids("items", items)
        v.check_not_empty("items", items)
        unique, counts = np.unique(items, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"items lists item {unique[np.argmax(counts > 1)].item()!r} more "
                             f"than once; give each item once")
        _, R = self._rows_of("user", np.zeros(len(items), dtype=np.int64), items, ratings)
        F, b = self._solve_rows("user", R)
        return FoldedUser(F[0], float(b[0]))

    def recommend_new_user(self, items, ratings=None, n=10):
        """The ``n`` best items for a new user given their interactions (see
        :meth:`fold_in`), the given items left out: (item ids, scores), best first."""
        n = v.check_int("n", n, minimum=1)
        user = self.fold_in(items, ratings)
        seen = np.unique(self._item_indices(items)).astype(np.int32)
        F = user.factors[None, :]
        Q, offsets = self._query_from(F, np.array([user.bias], dtype=F.dtype))
        ids, scores = self._topk(Q, offsets, (np.array([0, len(seen)], np.int64), seen), n)
        keep = np.isfinite(scores[0])
        return ids[0][keep], scores[0][keep]

    def partial_fit_users(self, users, items, ratings=None):
        """Solve (or add) the vectors of ``users`` from the given interactions, with the
        item factors fixed: parallel arrays of raw user ids, raw item ids (known to the
        model) and ratings (None for implicit data).

        The interactions given for a user are all the solve sees, as in :meth:`fold_in`:
        pass a user's whole history to update them. Users not seen before are appended to
        ``user_ids_``; every given (user, item) pair joins the items that ``recommend``
        filters. Returns self.
        """
        return self._partial_fit("user", users, items, ratings)

    def partial_fit_items(self, items, users, ratings=None):
        """Solve (or add) the vectors of ``items`` from the given interactions with the user
        factors fixed; the mirror image of :meth:`partial_fit_users`. Returns self."""
        return self._partial_fit("item", items, users, ratings)

    # -- the shared path -------------------------------------------------------------
    def _partial_fit(self, side, rows, cols, ratings):
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
        updates = {}
        for kind, solved in arrays.items():
            name = f"{side}_{kind}_"
            if hasattr(self, name):
                old = getattr(self, name)
                grown = np.concatenate([old, np.zeros((int(new.sum()),) + old.shape[1:], old.dtype)])
                grown[index] = solved
                updates[name] = grown
        if new.any():
            updates[f"{side}_ids_"] = IdMap(np.concatenate([ids.ids, row_ids.ids[new]]))
        row_of_entry = np.repeat(index, np.diff(R.indptr))
        pairs = (row_of_entry, R.indices) if side == "user" else (R.indices, row_of_entry)
        n_users = len(updates.get("user_ids_", self.user_ids_))
        updates["_seen"] = _seen_with(self._seen, *pairs, n_users)
        for name, value in updates.items():
            setattr(self, name, value)
        return self

    def _rows_of(self, side, rows, cols, ratings):
        """(IdMap of the row ids, Csr of their interactions with columns as the model's
        indices of the other side), validated: lengths, values, repeats, unknown ids."""
        batch = Interactions.from_arrays(rows, cols, ratings)
        other = _OTHER[side]
        column_index = getattr(self, f"{other}_ids_").index(batch.item_ids.ids)
        if (column_index < 0).any():
            bad = batch.item_ids.ids[np.flatnonzero(column_index < 0)[0]]
            raise UnknownIdError(f"{other} {bad.item()!r} was not in the training data; only "
                                 f"known {other}s can place a {side}")
        R = batch.by_user
        dtype = getattr(self, f"{other}_factors_").dtype
        return batch.user_ids, Csr(R.indptr, column_index[R.indices].astype(np.int32),
                                   R.data.astype(dtype), R.shape)

    def _query_from(self, factors, biases):
        """Query vectors and score offsets of users given by their factors and biases."""
        return factors, biases


def _seen_with(seen, rows, cols, n_rows):
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
