"""Metrics: rating accuracy (:func:`rmse`, :func:`mae`) and ranking quality.

The ranking metrics score top-k lists against held-out relevant items
(:func:`precision_at_k`, :func:`recall_at_k`, :func:`ndcg_at_k`, :func:`map_at_k`), whole
score matrices by ROC AUC (:func:`auc`) and the spread of the recommendations
(:func:`catalog_coverage`). :func:`evaluate` computes them all for a fitted model on test
interactions, in batches of users.
"""
import numpy as np

from . import _validation as v

METRICS = ("precision", "recall", "ndcg", "map", "auc", "coverage")
_AUC_CHUNK = 1 << 22          # score entries ranked at once by auc()


def _errors(y_true, y_pred):
    y_true = v.as_ratings("y_true", y_true)
    y_pred = v.as_ratings("y_pred", y_pred)
    v.check_same_length(y_true=y_true, y_pred=y_pred)
    v.check_not_empty("y_true", y_true)
    return y_true.astype(np.float64) - y_pred.astype(np.float64)


def rmse(y_true, y_pred):
    """Root mean squared error, accumulated in float64.

    Examples
    --------
    >>> from fastmf.metrics import rmse
    >>> rmse([4, 3, 5], [3.5, 3, 4])
    0.6454972243679028
    """
    e = _errors(y_true, y_pred)
    return float(np.sqrt(np.dot(e, e) / len(e)))


def mae(y_true, y_pred):
    """Mean absolute error.

    Examples
    --------
    >>> from fastmf.metrics import mae
    >>> mae([4, 3, 5], [3.5, 3, 4])
    0.5
    """
    return float(np.mean(np.abs(_errors(y_true, y_pred))))


# -- top-k metrics on given rankings ------------------------------------------------------
def precision_at_k(recommended, relevant, k=10):
    """Share of the first ``k`` recommended items that are relevant, averaged over users.

    ``precision@k = |top-k ∩ relevant| / k``. A list shorter than ``k`` counts its missing
    places as misses, so recommending fewer items never raises precision.

    Parameters
    ----------
    recommended : 2-D array or list of sequences
        Item ids for each user, best first (a row per user; extra columns beyond ``k`` are
        ignored). An item repeated in a row counts once, at its first place.
    relevant : list of sets or arrays
        The relevant item ids of each user, in the same user order as ``recommended``.
        Users with no relevant item are skipped (left out of the average).
    k : int, default 10
        Cut-off, at least 1.

    Returns
    -------
    float
        The mean over users with at least one relevant item.

    Raises
    ------
    ValueError
        If ``k < 1``, if ``recommended`` and ``relevant`` have different lengths, or if no
        user has a relevant item.
    TypeError
        If item ids are not integers or strings, or mix both kinds.

    Examples
    --------
    >>> from fastmf.metrics import precision_at_k
    >>> precision_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"a", "c"}, {"e"}], k=3)
    0.5
    """
    return _mean_top_k("precision", recommended, relevant, k)


def recall_at_k(recommended, relevant, k=10):
    """Share of each user's relevant items found in the first ``k``, averaged over users.

    ``recall@k = |top-k ∩ relevant| / |relevant|``; users with no relevant item are
    skipped. Parameters, returns and errors are those of :func:`precision_at_k`.

    Examples
    --------
    >>> from fastmf.metrics import recall_at_k
    >>> recall_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"a", "x"}, {"e"}], k=3)
    0.75
    """
    return _mean_top_k("recall", recommended, relevant, k)


def ndcg_at_k(recommended, relevant, k=10):
    """Normalized discounted cumulative gain at ``k`` with binary relevance.

    ``DCG@k = Σ_{relevant item at rank r ≤ k} 1 / log2(r + 1)`` (ranks from 1), divided by
    the ideal ``IDCG@k = Σ_{r=1}^{min(k, |relevant|)} 1 / log2(r + 1)``, so 1.0 means the
    relevant items fill the top places. Averaged over users with a relevant item; the
    parameters are those of :func:`precision_at_k`.

    Examples
    --------
    >>> from fastmf.metrics import ndcg_at_k
    >>> ndcg_at_k([["a", "b", "c"]], [{"a"}], k=3)
    1.0
    >>> round(ndcg_at_k([["b", "a", "c"]], [{"a"}], k=3), 6)    # 1 / log2(3)
    0.63093
    """
    return _mean_top_k("ndcg", recommended, relevant, k)


def map_at_k(recommended, relevant, k=10):
    """Mean average precision at ``k``.

    ``AP@k = Σ_{relevant item at rank r ≤ k} precision@r / min(k, |relevant|)``, averaged
    over users with a relevant item; the parameters are those of :func:`precision_at_k`.

    Examples
    --------
    >>> from fastmf.metrics import map_at_k
    >>> map_at_k([["a", "b", "c"]], [{"a", "c"}], k=3)      # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    return _mean_top_k("map", recommended, relevant, k)


def catalog_coverage(recommended, n_items):
    """Share of the catalogue that appears in at least one recommendation list.

    Parameters
    ----------
    recommended : 2-D array or list of sequences
        Item ids recommended to each user (drop any padding entries first).
    n_items : int
        Size of the catalogue, at least 1.

    Returns
    -------
    float
        ``distinct recommended items / n_items``.

    Raises
    ------
    ValueError
        If ``n_items < 1`` or there are more distinct recommended items than ``n_items``.

    Examples
    --------
    >>> from fastmf.metrics import catalog_coverage
    >>> catalog_coverage([["a", "b"], ["b", "c"]], n_items=10)
    0.3
    """
    n_items = v.check_int("n_items", n_items, minimum=1)
    ids, _ = _flat_ids("recommended", recommended)
    n_distinct = len(np.unique(ids))
    if n_distinct > n_items:
        raise ValueError(f"recommended holds {n_distinct} distinct items, more than "
                         f"n_items={n_items}; pass the size of the whole catalogue")
    return n_distinct / n_items


def _mean_top_k(name, recommended, relevant, k):
    k = v.check_int("k", k, minimum=1)
    hits, n_relevant = _hit_matrix(recommended, relevant, k)
    keep = n_relevant > 0
    if not keep.any():
        raise ValueError("relevant holds no item for any user; at least one user with a "
                         "relevant item is needed")
    return float(np.mean(_top_k_scores(hits[keep], n_relevant[keep], k)[name]))


def _top_k_scores(hits, n_relevant, k):
    """Per-user precision, recall, NDCG and AP from a (users, k) boolean hit matrix."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    n_hits = hits.sum(axis=1)
    reachable = np.minimum(k, n_relevant)
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {"precision": n_hits / k,
            "recall": n_hits / n_relevant,
            "ndcg": (hits @ discounts) / np.cumsum(discounts)[reachable - 1],
            "map": np.sum(precision_at_rank * hits, axis=1) / reachable}


def _hit_matrix(recommended, relevant, k):
    """(hits, n_relevant): hits[u, r] is True when the item at place r of user u is
    relevant and not an earlier repeat; n_relevant counts each user's distinct items."""
    rec_ids, rec_lengths = _flat_ids("recommended", recommended, k)
    rel_ids, rel_lengths = _flat_ids("relevant", relevant)
    v.check_same_length(recommended=rec_lengths, relevant=rel_lengths)
    if len(rec_ids) and len(rel_ids) and (rec_ids.dtype.kind == "U") != (rel_ids.dtype.kind == "U"):
        kinds = {True: "string", False: "integer"}
        raise TypeError(f"recommended holds {kinds[rec_ids.dtype.kind == 'U']} item ids but "
                        f"relevant holds {kinds[rel_ids.dtype.kind == 'U']} ones; use the same "
                        f"kind of id in both")
    _, codes = np.unique(np.concatenate([rec_ids, rel_ids]), return_inverse=True)
    n_codes = max(int(codes.max(initial=0)) + 1, 1)
    n_users = len(rec_lengths)
    rec_rows = np.repeat(np.arange(n_users), rec_lengths)
    rel_rows = np.repeat(np.arange(n_users), rel_lengths)
    rec_keys = rec_rows * n_codes + codes[:len(rec_ids)]
    rel_keys = np.unique(rel_rows * n_codes + codes[len(rec_ids):])
    first = np.zeros(len(rec_keys), dtype=bool)
    first[np.unique(rec_keys, return_index=True)[1]] = True
    places = np.arange(len(rec_keys)) - np.repeat(np.cumsum(rec_lengths) - rec_lengths, rec_lengths)
    hits = np.zeros((n_users, k), dtype=bool)
    hits[rec_rows, places] = first & np.isin(rec_keys, rel_keys)
    return hits, np.bincount(rel_keys // n_codes, minlength=n_users)


def _flat_ids(name, rows, k=None):
    """All item ids of a 2-D array or a sequence of sequences (each row cut to ``k``),
    validated as ids, and the length of every row."""
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        rows = rows[:, :k]
        return v.as_ids(name, rows.ravel()), np.full(len(rows), rows.shape[1], dtype=np.int64)
    if isinstance(rows, (str, bytes, set, frozenset, dict)) or not hasattr(rows, "__len__") \
            or (isinstance(rows, np.ndarray) and rows.ndim != 1):
        what = f"an array of shape {rows.shape}" if isinstance(rows, np.ndarray) else type(rows).__name__
        raise TypeError(f"{name} must be a 2-D array or a list of sequences of item ids (one per "
                        f"user), got {what}")
    arrays = [_row(name, position, row)[:k] for position, row in enumerate(rows)]
    kinds = {a.dtype.kind == "U" for a in arrays if a.size}
    if len(kinds) > 1:
        raise TypeError(f"{name} mixes string and integer item ids; use one kind of id")
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    return v.as_ids(name, flat), lengths


def _row(name, position, row):
    array = np.asarray(list(row) if isinstance(row, (set, frozenset)) else row)
    if array.ndim != 1:
        raise TypeError(f"{name}[{position}] must be a sequence of item ids, got {row!r}")
    return array


# -- AUC on score matrices ------------------------------------------------------------------
def auc(scores, relevant_mask, candidate_mask=None):
    """ROC AUC of each user's scores, over candidate items only, averaged over users.

    For one user, AUC is the probability that a relevant candidate scores above a
    non-relevant one, ties counting one half (the Mann-Whitney U statistic divided by
    ``n_relevant * n_other``); 1.0 is a perfect ranking, 0.5 a random one. Users without
    at least one relevant and one non-relevant candidate are skipped.

    Parameters
    ----------
    scores : 2-D array of float, shape (n_users, n_items)
        Higher is better; NaN is refused among candidates, ±inf is ranked as usual.
    relevant_mask : 2-D boolean array, same shape
        True where the item is relevant to the user.
    candidate_mask : 2-D boolean array, same shape, optional
        True for the items that take part (for example, False on each user's training
        items); default: every item.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, a candidate score is NaN, or no user has both a relevant
        and a non-relevant candidate.
    TypeError
        If ``scores`` is not numeric or a mask is not boolean.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf.metrics import auc
    >>> scores = np.array([[0.9, 0.8, 0.1, 0.5]])
    >>> relevant = np.array([[True, False, False, True]])
    >>> auc(scores, relevant)                  # 3 of the 4 (relevant, other) pairs in order
    0.75
    >>> auc(scores, relevant, candidate_mask=np.array([[True, False, True, True]]))
    1.0
    """
    scores, relevant_mask, candidate_mask = _checked_auc_inputs(scores, relevant_mask,
                                                                candidate_mask)
    rows = max(1, _AUC_CHUNK // max(scores.shape[1], 1))
    values = [_auc_rows(scores[lo:lo + rows], relevant_mask[lo:lo + rows],
                        candidate_mask[lo:lo + rows]) for lo in range(0, len(scores), rows)]
    values = np.concatenate(values) if values else np.zeros(0)
    if len(values) == 0:
        raise ValueError("no user has both a relevant and a non-relevant candidate item; "
                         "AUC is undefined")
    return float(np.mean(values))


def _checked_auc_inputs(scores, relevant_mask, candidate_mask):
    scores = np.asarray(scores)
    if scores.dtype.kind not in "iuf":
        raise TypeError(f"scores must be numeric, got an array of dtype {scores.dtype}")
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D array (users x items), got shape {scores.shape}")
    masks = []
    for name, mask in (("relevant_mask", relevant_mask), ("candidate_mask", candidate_mask)):
        mask = np.ones(scores.shape, dtype=bool) if mask is None else np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"{name} must be a boolean array, got dtype {mask.dtype}")
        if mask.shape != scores.shape:
            raise ValueError(f"{name} must have the shape of scores {scores.shape}, "
                             f"got {mask.shape}")
        masks.append(mask)
    if scores.dtype.kind == "f":
        bad = np.isnan(scores) & masks[1]
        if bad.any():
            user, item = (int(x[0]) for x in np.nonzero(bad))
            raise ValueError(f"scores contain {int(bad.sum())} NaN values among the candidates "
                             f"(first at row {user}, column {item}); fix the scores or mask them out")
    return scores, masks[0], masks[1]


def _auc_rows(scores, relevant, candidate):
    """AUC of each row with a relevant and a non-relevant candidate: the Mann-Whitney U,
    counted per relevant candidate as the non-relevant candidates below it plus half of
    those tied with it, from one sort of each row (non-candidates count for nothing)."""
    order = np.argsort(scores, axis=1)
    s = np.take_along_axis(scores, order, axis=1)
    positive = np.take_along_axis(relevant & candidate, order, axis=1)
    negative = np.take_along_axis(~relevant & candidate, order, axis=1)
    negatives_upto = np.cumsum(negative, axis=1)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = np.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    # Spread each tie group's counts over the group: the cumulative counts never decrease,
    # so a running max (min from the right) carries the value at its start (end).
    below = np.maximum.accumulate(np.where(starts, negatives_upto - negative, 0), axis=1)
    through = np.minimum.accumulate(
        np.where(ends, negatives_upto, s.shape[1])[:, ::-1], axis=1)[:, ::-1]
    u = np.sum(positive * (below + 0.5 * (through - below)), axis=1)
    n_pos, n_neg = positive.sum(axis=1), negatives_upto[:, -1] if s.shape[1] else 0
    keep = (n_pos > 0) & (n_neg > 0)
    return u[keep] / (n_pos[keep] * n_neg[keep])


# -- evaluating a fitted model ----------------------------------------------------------------


# evaluate() ranks a fitted model's recommendations with the metrics above; it lives in its
# own module and is imported last because it uses them.
from ._evaluation import evaluate  # noqa: E402,F401
