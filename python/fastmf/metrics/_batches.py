"""How :func:`~fastmf.metrics.evaluate` ranks a batch of test users: in C++ for fastmf
models, where ``topk_auc`` (``fastmf._kernels.topk``) ranks every item and counts the AUC
pairs in the scoring pass of the top-n, so no users x items matrix is formed; in numpy for
any object that only gives scores (``score_users``), which is also the plain twin of the
C++ path.

Both give, for a batch of users (sorted indices), ``top``: the best ``min(n, n_items)`` item
indices of each user, best first, ties in item index order, -1 where fewer candidates are
left; and the AUC of each user that has a relevant and a non-relevant candidate (None when
AUC is not wanted).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._kernels.topk import topk_auc
from .._locking import lock_of
from ..data import Csr
from ._auc import _auc_rows

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import BoolArray, CsrArrays, Float64Array, FloatArray, Int64Array

    #: The best items of each user of a batch (-1 padded), and their AUCs (or None).
    Ranked = tuple[NDArray[np.integer[Any]], Float64Array | None]
    #: Users (sorted indices) -> their query rows and score offsets.
    Query = Callable[[Int64Array], tuple[FloatArray, FloatArray]]

_NO_ITEMS = np.zeros(0, dtype=np.int32)


def batch_ranker(model: Any, relevant: Int64Array, seen: Int64Array, n: int, want_auc: bool,
                 fold_in_rows: tuple[Int64Array, Int64Array, FloatArray] | None = None
                 ) -> Callable[[Int64Array], Ranked]:
    """``rank(users) -> (top, auc)`` for ``model``: its known users, or with ``fold_in_rows``
    (``(users, items, values)`` sorted by user) new users folded in from those rows.

    ``relevant`` and ``seen`` are the sorted ``user * n_items + item`` keys of the relevant
    items and of the items left out (training or fold-in items) of every user.
    """
    n_items = len(model.item_ids_)
    if fold_in_rows is not None:
        query = _folded_query(model, *fold_in_rows)
    elif _ranks_by_serving_scores(model):
        query = model._query
    else:
        def rank_scores(users: Int64Array) -> Ranked:
            scores = np.asarray(model.score_users(model.user_ids_.ids[users]))
            return numpy_batch(scores, users, relevant, seen, n_items, n, want_auc)
        return rank_scores

    lock = lock_of(model)

    def rank(users: Int64Array) -> Ranked:
        Q, offsets = query(users)
        Y = np.ascontiguousarray(model.item_factors_)
        bias = np.ascontiguousarray(model._item_bias(), Y.dtype)
        if not _finite_scores(Q, offsets, Y, bias):     # numpy ranks them, or names the NaN
            scores = Q @ Y.T + offsets[:, None] + bias[None, :]
            return numpy_batch(scores, users, relevant, seen, n_items, n, want_auc)
        return kernel_batch(Q, offsets, Y, bias, users, relevant, seen, n, want_auc,
                            v.check_num_threads(model.num_threads))
    return lambda users: lock.read(lambda: rank(users))


def _ranks_by_serving_scores(model: object) -> bool:
    """Whether the model's scores are the serving formula ``Q[u]·item_factors_[i] +
    offsets[u] + item_bias[i]`` of ``_query`` and ``_item_bias``, which the kernel computes:
    its class's ``score_users`` is the one of fastmf's serving (``_serving_score_users``; a
    subclass that changes ``score_users`` is ranked by its own scores)."""
    scores = getattr(type(model), "score_users", None)
    return scores is not None and scores is getattr(type(model), "_serving_score_users", None)


def _folded_query(model: Any, users: Int64Array, items: Int64Array, values: FloatArray
                  ) -> Query:
    """query(batch) -> (Q, offsets) of the fold-in users ``batch`` (sorted indices), each
    solved from its fold-in pairs by the model's row solve, all of a batch at once."""
    n_items = len(model.item_ids_)

    def query(batch: Int64Array) -> tuple[FloatArray, FloatArray]:
        lo, hi = np.searchsorted(users, batch, "left"), np.searchsorted(users, batch, "right")
        counts = hi - lo
        take = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())
        R = Csr(np.r_[0, np.cumsum(counts)].astype(np.int64), items[take].astype(np.int32),
                values[take], (len(batch), n_items))
        return model._query_from(*model._solve_rows("user", R))
    return query


def _finite_scores(Q: FloatArray, offsets: FloatArray, Y: FloatArray, bias: FloatArray) -> bool:
    """Whether every score ``Q[u]·Y[i] + offsets[u] + bias[i]`` and every partial sum of it
    is finite in Y's dtype (the kernel's contract), from a bound on their size."""
    def max_abs(a: FloatArray) -> float:
        return float(np.max(np.abs(a), initial=0.0))
    bound = Y.shape[1] * max_abs(Q) * max_abs(Y) + max_abs(offsets) + max_abs(bias)
    return bool(np.isfinite(bound) and bound < float(np.finfo(Y.dtype).max) / 2)


def kernel_batch(Q: FloatArray, offsets: FloatArray, Y: FloatArray, bias: FloatArray,
                 users: Int64Array, relevant: Int64Array, seen: Int64Array, n: int,
                 want_auc: bool, num_threads: int) -> Ranked:
    """(top, auc) of the users with query rows Q, from one call of ``topk_auc``: its
    doubled Mann-Whitney U of each user over 2 · n_relevant · n_other is the user's AUC."""
    n_items = len(Y)
    exclude = csr_rows(seen, users, n_items)
    wanted = csr_rows(relevant, users, n_items) if want_auc else (
        np.zeros(len(users) + 1, dtype=np.int64), _NO_ITEMS)
    top, wins, _ = topk_auc(Q, offsets, Y, bias, exclude, wanted, n, num_threads)
    if not want_auc:
        return top, None
    n_relevant = np.diff(wanted[0])
    n_other = n_items - n_relevant - np.diff(exclude[0])
    keep = (n_relevant > 0) & (n_other > 0)
    return top, wins[keep] / (2.0 * n_relevant[keep] * n_other[keep])


def csr_rows(keys: Int64Array, users: Int64Array, n_items: int) -> CsrArrays:
    """(indptr int64, indices int32): the items of ``users`` (sorted indices) among the
    sorted ``user * n_items + item`` keys, a row per user, each row sorted."""
    starts = np.searchsorted(keys, users * n_items)
    counts = np.searchsorted(keys, (users + 1) * n_items) - starts
    indptr = np.zeros(len(users) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    positions = np.repeat(starts - indptr[:-1], counts) + np.arange(indptr[-1])
    return indptr, (keys[positions] % n_items).astype(np.int32)


def numpy_batch(scores: NDArray[Any], users: Int64Array, relevant: Int64Array, seen: Int64Array,
                n_items: int, n: int, want_auc: bool) -> Ranked:
    """(top, auc) from the users' dense scores (one row per user, a column per item): the
    training items get -inf, the top n comes from ``np.argpartition``, AUC from one sort of
    each row (``_auc_rows``)."""
    if scores.shape != (len(users), n_items):
        raise ValueError(f"model.score_users returned an array of shape {scores.shape}; "
                         f"expected ({len(users)}, {n_items}): one row per user, one column "
                         f"per item")
    if scores.dtype.kind == "f" and np.isnan(scores).any():
        raise ValueError("model.score_users returned NaN scores; the model may have diverged")
    relevant = batch_mask(relevant, users, n_items)
    seen = batch_mask(seen, users, n_items) if len(seen) else np.zeros_like(relevant)
    scores = np.where(seen, -np.inf, scores.astype(np.float64, copy=False))
    top = top_k_indices(scores, n)
    return top, (_auc_rows(scores, relevant, ~seen) if want_auc else None)


def batch_mask(keys: Int64Array, users: Int64Array, n_items: int) -> BoolArray:
    """A (len(users), n_items) boolean matrix of the keys of ``users`` (sorted indices)."""
    lo, hi = np.searchsorted(keys, [users[0] * n_items, (users[-1] + 1) * n_items])
    keys = keys[lo:hi]
    rows = np.minimum(np.searchsorted(users, keys // n_items), len(users) - 1)
    keep = users[rows] == keys // n_items
    mask = np.zeros((len(users), n_items), dtype=bool)
    mask[rows[keep], keys[keep] % n_items] = True
    return mask


def top_k_indices(scores: Float64Array, k: int) -> NDArray[np.intp]:
    """The best min(k, n_items) item indices of each row, best first, tied scores in item
    index order (as the C++ top-n ranks them); -inf places are -1."""
    n_items = scores.shape[1]
    kk = min(k, n_items)
    part = np.argpartition(scores, n_items - kk, axis=1)[:, n_items - kk:]
    # argpartition keeps any of the entries tied with a row's kk-th best: take the first ones
    kth = np.take_along_axis(scores, part, axis=1).min(axis=1)[:, None]
    above, tied = scores > kth, scores == kth
    spare = kk - above.sum(axis=1)
    ambiguous = np.flatnonzero(tied.sum(axis=1) > spare)
    if len(ambiguous):
        rows_tied = tied[ambiguous]
        first_tied = rows_tied & (np.cumsum(rows_tied, axis=1) <= spare[ambiguous, None])
        part[ambiguous] = np.nonzero(above[ambiguous] | first_tied)[1].reshape(len(ambiguous), kk)
    part = np.sort(part, axis=1)
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    top[np.take_along_axis(part_scores, order, axis=1) == -np.inf] = -1
    return top
