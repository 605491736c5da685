"""evaluate(): the ranking metrics of a fitted model on test data, in batches of users, for
the model's own users or for new users folded in from their interactions."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..data import as_interactions
from ._batches import batch_ranker
from ._ranking import _top_k_scores

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import NDArray
    from tqdm.auto import tqdm

    from .._typing import (BoolArray, Float64Array, FloatArray, Int64Array, InteractionsLike,
                           Metric, ScoringModel)
    from ..data import IdMap, Interactions

# The names evaluate() accepts, in the order of its result.
METRICS: tuple[Metric, ...] = ("precision", "recall", "ndcg", "map", "auc", "coverage")


def evaluate(model: ScoringModel, test: InteractionsLike, train: InteractionsLike | None = None,
             k: int | Sequence[int] = 10, metrics: Metric | Sequence[Metric] = METRICS,
             batch_size: int = 1024, fold_in: InteractionsLike | None = None,
             verbose: bool | None = None) -> dict[str, float]:
    """Ranking metrics of a fitted model on held-out interactions.

    For each test user known to the model, every item is scored; the user's training items
    (from ``train``) are left out, so they are never recommended and are not AUC
    candidates. The relevant items are the user's test items known to the model and not
    among their training items. The metrics are those of :func:`precision_at_k`,
    :func:`recall_at_k`, :func:`ndcg_at_k`, :func:`map_at_k`, :func:`auc` and
    :func:`catalog_coverage` (with the model's items as the catalogue) on each user's top
    ``k`` (tied scores in ``item_ids_`` order, as :meth:`recommend` ranks them), averaged
    over the evaluated users.

    A fastmf model is evaluated in C++ at about the speed of
    :meth:`recommend_batch`: one pass that scores every item of a batch of users, keeps
    each user's top ``k`` and counts, for AUC, the relevant items above and tied with each
    other candidate, so no users x items matrix is formed and nothing is sorted but the
    relevant items' scores. Any other object is scored with ``model.score_users`` in
    batches of ``batch_size`` users: the training items get score ``-inf``, the top ``k``
    comes from ``np.argpartition`` and AUC from a sort of each row. Both give the same
    metrics, but for the last bits of the scores (matrix products summed in another order
    can part or join nearly equal scores).

    With ``fold_in``, the test users are new users (strong generalization, as split by
    :func:`fastmf.model_selection.user_split`): each is solved from their ``fold_in``
    interactions by the model's fold-in row solve (what :meth:`fold_in` computes, here for
    a batch of users at once), scored like a training user, and their fold-in items play
    the part of the training items.

    Parameters
    ----------
    model : fitted model
        Any fastmf model (or, without ``fold_in``, an object with ``user_ids_``,
        ``item_ids_`` and ``score_users(users) -> (len(users), n_items)`` scores for raw
        user ids).
    test : Interactions
        Held-out interactions; every test pair counts as relevant, whatever its rating.
    train : Interactions, optional
        The training interactions, whose items are excluded per user.
    k : int or sequence of int, default 10
        Cut-off of the top-k metrics, at least 1; several (``k=(10, 20, 50, 100)``) give
        every top-k metric at each, from one ranking.
    metrics : sequence of str, default all
        Among ``"precision"``, ``"recall"``, ``"ndcg"``, ``"map"``, ``"auc"``, ``"coverage"``.
    batch_size : int, default 1024
        Users scored at once: for a fastmf model memory is about ``batch_size * max(k)``
        entries, for another model ``batch_size * n_items`` scores.
    fold_in : Interactions, optional
        The interactions from which the test users are folded in (their values are the
        ratings or counts the fold-in solves with); items unknown to the model are left
        out. Test users with no fold-in item known to the model are skipped. Not with
        ``train``.
    verbose : bool, optional
        A progress bar over the users, shown once the evaluation has run 2 seconds (so a
        quick one prints nothing) and cleared when it ends; default: the model's
        ``verbose`` (no bar for a model without one).

    Returns
    -------
    dict
        ``"precision@k"``, ``"recall@k"``, ``"ndcg@k"``, ``"map@k"``, ``"auc"`` and
        ``"coverage@k"`` (those requested, in that form; for several k each top-k metric
        at every k in turn, ``"recall@10"``, ``"recall@20"``, ...), plus ``"users"``: the
        number of test users evaluated, and ``"users_skipped"``: the test users left out
        because they are unknown to the model (or, with ``fold_in``, have nothing to fold
        in) or have no relevant item known to it. AUC averages over the evaluated users
        that have a non-relevant candidate too (NaN if none).

    Raises
    ------
    ValueError
        On a bad ``k``, ``batch_size`` or metric name, if no test user can be evaluated,
        if both ``train`` and ``fold_in`` are given, or if the model returns scores of the
        wrong shape or NaN scores.
    TypeError
        If ``verbose`` is not True, False or None, or the model lacks what evaluation needs.
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
    >>> sorted(evaluate(model, test, train=train, k=(5, 10), metrics="recall"))
    ['recall@10', 'recall@5', 'users', 'users_skipped']
    """
    ks = _checked_ks(k)
    batch_size = v.check_int("batch_size", batch_size, minimum=1)
    names = _checked_metrics(metrics)
    _check_model(model, folding=fold_in is not None)
    verbose = _checked_verbose(verbose, model)
    test = as_interactions(test, "test")
    if fold_in is not None and train is not None:
        raise ValueError("pass train or fold_in, not both: with fold_in the test users are "
                         "new users, whose fold-in items are the ones left out")
    n_items = len(model.item_ids_)
    if fold_in is None:
        user_ids, rows = model.user_ids_, None
        seen = (np.zeros(0, dtype=np.int64) if train is None
                else _model_keys(user_ids, model.item_ids_, as_interactions(train, "train")))
    else:
        fold_in = as_interactions(fold_in, "fold_in")
        user_ids, rows = fold_in.user_ids, _fold_in_rows(model, fold_in)
        seen = _sorted_unique(rows[0] * n_items + rows[1])
    relevant = _model_keys(user_ids, model.item_ids_, test)
    relevant = relevant[~np.isin(relevant, seen, assume_unique=True)]
    users = _sorted_unique(relevant // n_items)
    if fold_in is not None:                 # nothing to fold in: nothing to score
        users = users[np.isin(users, rows[0])]  # type: ignore[index]  # set with fold_in
    if len(users) == 0:
        needs = ("a fold-in item known to the model and a test item not among them"
                 if fold_in is not None else
                 "a test item known to the model (and not among their training items)")
        raise ValueError(f"none of the {test.n_users} test users has {needs}; nothing to "
                         f"evaluate")
    rank = batch_ranker(model, relevant, seen, max(ks), "auc" in names, fold_in_rows=rows)
    totals = dict.fromkeys([_key(name, kk) for name in names for kk in ks], 0.0)
    totals["auc_users"] = 0
    covered = {kk: np.zeros(n_items, dtype=bool) for kk in ks}
    with _progress(len(users), verbose) as bar:
        for lo in range(0, len(users), batch_size):
            batch = users[lo:lo + batch_size]
            _add_batch(*rank(batch), batch, relevant, ks, names, totals, covered)
            bar.update(len(batch))
    return _summary(names, totals, covered, ks, len(users), test.n_users - len(users))


def _key(name: str, k: int) -> str:
    return name if name == "auc" else f"{name}@{k}"


def _checked_ks(k: object) -> tuple[int, ...]:
    """The cut-offs as a tuple of distinct ints >= 1 (an int, or a sequence of them)."""
    if isinstance(k, (numbers.Integral, np.integer)) or isinstance(k, (bool, float, str)):
        return (v.check_int("k", k, minimum=1),)
    ks = tuple(k) if hasattr(k, "__iter__") else ()
    if not ks:
        raise ValueError(f"k must be an int >= 1 or a non-empty sequence of them, got {k!r}")
    return tuple(dict.fromkeys(v.check_int("k", kk, minimum=1) for kk in ks))


def _checked_metrics(metrics: str | Sequence[str]) -> tuple[str, ...]:
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not names:
        raise ValueError(f"metrics is empty; name at least one of {', '.join(map(repr, METRICS))}")
    for name in names:
        v.check_choice("metrics", name, METRICS)
    return tuple(dict.fromkeys(names))


def _check_model(model: object, folding: bool = False) -> None:
    check_is_fitted = getattr(model, "_check_is_fitted", None)
    if check_is_fitted is not None:
        check_is_fitted()
    needed = ("user_ids_", "item_ids_", "item_factors_", "_solve_rows", "_query_from",
              "_item_bias") if folding else ("user_ids_", "item_ids_", "score_users")
    missing = [name for name in needed if not hasattr(model, name)]
    if missing:
        what = ("a fitted fastmf model to fold users in" if folding
                else f"a fitted fastmf model with {', '.join(needed)}")
        raise TypeError(f"model must be {what}; {type(model).__name__} has no {', '.join(missing)}")


def _model_keys(user_ids: IdMap, item_ids: IdMap, data: Interactions) -> Int64Array:
    """Sorted unique ``user * n_items + item`` keys, in the index space of ``user_ids`` and
    ``item_ids`` (the model's), of the pairs in ``data`` whose user and item they know."""
    n_items = len(item_ids)
    if data.user_ids is user_ids and data.item_ids is item_ids:
        users, items = data.uidx.astype(np.int64), data.iidx.astype(np.int64)
    else:
        users = user_ids.index(data.user_ids.ids)[data.uidx]
        items = item_ids.index(data.item_ids.ids)[data.iidx]
        known = (users >= 0) & (items >= 0)
        users, items = users[known], items[known]
    return _sorted_unique(users * n_items + items)


def _sorted_unique(keys: Int64Array) -> Int64Array:
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def _fold_in_rows(model: Any, fold_in: Interactions
                  ) -> tuple[Int64Array, Int64Array, FloatArray]:
    """(users, items, values): the fold-in pairs whose item the model knows, sorted by user
    (index in ``fold_in``) then item (the model's index), values in the model dtype."""
    items = model.item_ids_.index(fold_in.item_ids.ids)[fold_in.iidx]
    known = items >= 0
    users, items = fold_in.uidx[known].astype(np.int64), items[known].astype(np.int64)
    values = fold_in.ratings[known].astype(model.item_factors_.dtype)
    order = np.lexsort((items, users))
    return users[order], items[order], values[order]


def _checked_verbose(verbose: object, model: object) -> bool:
    """verbose as a bool: None means the model's own ``verbose`` (False if it has none)."""
    if verbose is None:
        return bool(getattr(model, "verbose", False))
    if not isinstance(verbose, (bool, np.bool_)):
        raise TypeError(f"verbose must be True, False or None (the model's verbose), got "
                        f"{verbose!r}")
    return bool(verbose)


def _progress(n_users: int, verbose: bool) -> tqdm[Any]:
    """A progress bar over the users that shows itself only after 2 seconds (a quick
    evaluation stays silent) and clears itself when done, also inside a fit's own bar."""
    from tqdm.auto import tqdm
    return tqdm(total=n_users, disable=not verbose, delay=2, leave=False, desc="evaluate",
                unit="user")


def _add_batch(top: NDArray[np.integer[Any]], auc: Float64Array | None, users: Int64Array,
               relevant_keys: Int64Array, ks: tuple[int, ...], names: tuple[str, ...],
               totals: dict[str, float], covered: dict[int, BoolArray]) -> None:
    """Add a batch's metrics to ``totals`` and its top-k items to ``covered``, from ``top``
    (the users' best item indices, -1 padded) and ``auc`` (a value per user, or None)."""
    n_items = next(iter(covered.values())).shape[0]
    lo, hi = np.searchsorted(relevant_keys, [users[0] * n_items, (users[-1] + 1) * n_items])
    keys = relevant_keys[lo:hi]              # every user of the batch has one at least
    n_relevant = (np.searchsorted(keys, (users + 1) * n_items)
                  - np.searchsorted(keys, users * n_items))
    wanted = users[:, None] * n_items + top
    found = keys[np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)] == wanted
    hits = np.zeros((len(users), max(ks)), dtype=bool)
    hits[:, :top.shape[1]] = found & (top >= 0)
    for k in ks:
        per_user = _top_k_scores(hits[:, :k], n_relevant, k)
        for name in set(names) & set(per_user):
            totals[f"{name}@{k}"] += float(per_user[name].sum())
        shown = top[:, :k]
        covered[k][shown[shown >= 0]] = True
    if auc is not None:
        totals["auc"] += float(auc.sum())
        totals["auc_users"] += len(auc)


def _summary(names: tuple[str, ...], totals: dict[str, float], covered: dict[int, BoolArray],
             ks: tuple[int, ...], n_users: int, n_skipped: int) -> dict[str, float]:
    result = {}
    for name in names:
        if name == "auc":
            n_auc = totals["auc_users"]
            result["auc"] = totals["auc"] / n_auc if n_auc else float("nan")
            continue
        for k in ks:
            result[f"{name}@{k}"] = (float(covered[k].mean()) if name == "coverage"
                                     else totals[f"{name}@{k}"] / n_users)
    result["users"], result["users_skipped"] = int(n_users), int(n_skipped)
    return result
