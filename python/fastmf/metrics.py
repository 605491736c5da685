"""Metrics: rating accuracy (:func:`rmse`, :func:`mae`) and ranking quality.

The ranking metrics score top-k lists against held-out relevant items
(:func:`precision_at_k`, :func:`recall_at_k`, :func:`ndcg_at_k`, :func:`map_at_k`), whole
score matrices by ROC AUC (:func:`auc`) and the spread of the recommendations
(:func:`catalog_coverage`). :func:`evaluate` computes them all for a fitted model on test
interactions, in batches of users.
"""
import numpy as np

from . import _validation as v
from .data import as_interactions

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
def evaluate(model, test, train=None, k=10, metrics=METRICS, batch_size=1024):
    """Ranking metrics of a fitted model on held-out interactions.

    For each test user known to the model, every item is scored with
    ``model.score_users``; the user's training items (from ``train``) get score ``-inf``,
    so they are never recommended and are not AUC candidates. The relevant items are the
    user's test items known to the model and not among their training items. The top
    ``k`` comes from ``np.argpartition`` on each batch of ``batch_size`` users, then a sort
    of those ``k``; the metrics are those of :func:`precision_at_k`, :func:`recall_at_k`,
    :func:`ndcg_at_k`, :func:`map_at_k`, :func:`auc` and :func:`catalog_coverage` (with
    the model's items as the catalogue), averaged over the evaluated users.

    Parameters
    ----------
    model : fitted model
        Any fastmf model (or an object with ``user_ids_``, ``item_ids_`` and
        ``score_users(users) -> (len(users), n_items)`` scores for raw user ids).
    test : Interactions
        Held-out interactions; every test pair counts as relevant, whatever its rating.
    train : Interactions, optional
        The training interactions, whose items are excluded per user.
    k : int, default 10
        Cut-off of the top-k metrics, at least 1.
    metrics : sequence of str, default all
        Among ``"precision"``, ``"recall"``, ``"ndcg"``, ``"map"``, ``"auc"``, ``"coverage"``.
    batch_size : int, default 1024
        Users scored at once; memory is about ``batch_size * n_items`` scores.

    Returns
    -------
    dict
        ``"precision@k"``, ``"recall@k"``, ``"ndcg@k"``, ``"map@k"``, ``"auc"`` and
        ``"coverage@k"`` (those requested, in that form), plus ``"users"``: the number of
        test users evaluated, and ``"users_skipped"``: the test users left out because
        they are unknown to the model or have no relevant item known to it. AUC averages
        over the evaluated users that have a non-relevant candidate too (NaN if none).

    Raises
    ------
    ValueError
        On a bad ``k``, ``batch_size`` or metric name, if no test user can be evaluated,
        or if the model returns scores of the wrong shape or NaN scores.
    NotFittedError
        If the model is not fitted.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.metrics import evaluate
    >>> data = fastmf.datasets.make_ratings(100, 50, 1000, seed=0)
    >>> train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    >>> model = fastmf.ImplicitALS(factors=8, iterations=5, seed=0, verbose=False).fit(train)
    >>> result = evaluate(model, test, train=train, k=5, metrics=("precision", "auc"))
    >>> sorted(result)
    ['auc', 'precision@5', 'users', 'users_skipped']
    >>> result["users"] + result["users_skipped"] == test.n_users
    True
    """
    k = v.check_int("k", k, minimum=1)
    batch_size = v.check_int("batch_size", batch_size, minimum=1)
    names = _checked_metrics(metrics)
    _check_model(model)
    test = as_interactions(test, "test")
    train = None if train is None else as_interactions(train, "train")
    n_items = len(model.item_ids_)
    seen = _model_keys(model, train) if train is not None else np.zeros(0, dtype=np.int64)
    relevant = _model_keys(model, test)
    relevant = relevant[~np.isin(relevant, seen, assume_unique=True)]
    users = _sorted_unique(relevant // n_items)
    if len(users) == 0:
        raise ValueError(f"none of the {test.n_users} test users has a test item known to the "
                         f"model (and not among their training items); nothing to evaluate")
    totals = dict.fromkeys(names, 0.0)
    totals["auc_users"], covered = 0, np.zeros(n_items, dtype=bool)
    for lo in range(0, len(users), batch_size):
        _evaluate_batch(model, users[lo:lo + batch_size], relevant, seen, k, names, totals, covered)
    return _summary(names, totals, covered, k, len(users), test.n_users - len(users))


def _checked_metrics(metrics):
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not names:
        raise ValueError(f"metrics is empty; name at least one of {', '.join(map(repr, METRICS))}")
    for name in names:
        v.check_choice("metrics", name, METRICS)
    return tuple(dict.fromkeys(names))


def _check_model(model):
    check_is_fitted = getattr(model, "_check_is_fitted", None)
    if check_is_fitted is not None:
        check_is_fitted()
    needed = ("user_ids_", "item_ids_", "score_users")
    missing = [name for name in needed if not hasattr(model, name)]
    if missing:
        raise TypeError(f"model must be a fitted fastmf model with {', '.join(needed)}; "
                        f"{type(model).__name__} has no {', '.join(missing)}")


def _model_keys(model, data):
    """Sorted unique ``user * n_items + item`` keys, in the model's index space, of the
    pairs in ``data`` whose user and item the model knows."""
    n_items = len(model.item_ids_)
    if data.user_ids is model.user_ids_ and data.item_ids is model.item_ids_:
        users, items = data.uidx.astype(np.int64), data.iidx.astype(np.int64)
    else:
        users = model.user_ids_.index(data.user_ids.ids)[data.uidx]
        items = model.item_ids_.index(data.item_ids.ids)[data.iidx]
        known = (users >= 0) & (items >= 0)
        users, items = users[known], items[known]
    return _sorted_unique(users * n_items + items)


def _sorted_unique(keys):
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def _batch_mask(keys, users, n_items):
    """A (len(users), n_items) boolean matrix of the keys of ``users`` (sorted indices)."""
    lo, hi = np.searchsorted(keys, [users[0] * n_items, (users[-1] + 1) * n_items])
    keys = keys[lo:hi]
    rows = np.minimum(np.searchsorted(users, keys // n_items), len(users) - 1)
    keep = users[rows] == keys // n_items
    mask = np.zeros((len(users), n_items), dtype=bool)
    mask[rows[keep], keys[keep] % n_items] = True
    return mask


def _evaluate_batch(model, users, relevant_keys, seen_keys, k, names, totals, covered):
    n_items = len(model.item_ids_)
    scores = np.asarray(model.score_users(model.user_ids_.ids[users]))
    if scores.shape != (len(users), n_items):
        raise ValueError(f"model.score_users returned an array of shape {scores.shape}; "
                         f"expected ({len(users)}, {n_items}): one row per user, one column per item")
    if scores.dtype.kind == "f" and np.isnan(scores).any():
        raise ValueError("model.score_users returned NaN scores; the model may have diverged")
    relevant = _batch_mask(relevant_keys, users, n_items)
    seen = _batch_mask(seen_keys, users, n_items) if len(seen_keys) else np.zeros_like(relevant)
    scores = np.where(seen, -np.inf, scores.astype(np.float64, copy=False))
    top = _top_k_indices(scores, k)
    hits = np.zeros((len(users), k), dtype=bool)
    hits[:, :top.shape[1]] = np.take_along_axis(relevant, np.maximum(top, 0), axis=1) & (top >= 0)
    per_user = _top_k_scores(hits, relevant.sum(axis=1), k)
    for name in set(names) & set(per_user):
        totals[name] += float(per_user[name].sum())
    if "auc" in names:
        values = _auc_rows(scores, relevant, ~seen)
        totals["auc"] += float(values.sum())
        totals["auc_users"] += len(values)
    covered[top[top >= 0]] = True


def _top_k_indices(scores, k):
    """The best min(k, n_items) item indices of each row, best first; -inf places are -1."""
    n_items = scores.shape[1]
    kk = min(k, n_items)
    part = np.argpartition(scores, n_items - kk, axis=1)[:, n_items - kk:]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    top[np.take_along_axis(part_scores, order, axis=1) == -np.inf] = -1
    return top


def _summary(names, totals, covered, k, n_users, n_skipped):
    result = {}
    for name in names:
        if name == "auc":
            n_auc = totals["auc_users"]
            result["auc"] = totals["auc"] / n_auc if n_auc else float("nan")
        elif name == "coverage":
            result[f"coverage@{k}"] = float(covered.mean())
        else:
            result[f"{name}@{k}"] = totals[name] / n_users
    result["users"], result["users_skipped"] = int(n_users), int(n_skipped)
    return result
