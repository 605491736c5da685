"""evaluate(): the ranking metrics of a fitted model on test data, in batches of users."""
import numpy as np

from .. import _validation as v
from ..data import as_interactions
from ._auc import _auc_rows
from ._ranking import _top_k_scores

# The names evaluate() accepts, in the order of its result.
METRICS = ("precision", "recall", "ndcg", "map", "auc", "coverage")


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
