"""Top-k ranking metrics on given recommendation lists, and catalogue coverage."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v

if TYPE_CHECKING:
    from typing import Any, Literal

    from numpy.typing import NDArray

    from .._typing import BoolArray, Float64Array, IdArray, IdLists, Int64Array


def precision_at_k(recommended: IdLists, relevant: IdLists, k: int = 10) -> float:
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


def recall_at_k(recommended: IdLists, relevant: IdLists, k: int = 10) -> float:
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


def ndcg_at_k(recommended: IdLists, relevant: IdLists, k: int = 10) -> float:
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


def map_at_k(recommended: IdLists, relevant: IdLists, k: int = 10) -> float:
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


def catalog_coverage(recommended: IdLists, n_items: int) -> float:
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


def _mean_top_k(name: Literal["precision", "recall", "ndcg", "map"], recommended: IdLists,
                relevant: IdLists, k: int) -> float:
    k = v.check_int("k", k, minimum=1)
    hits, n_relevant = _hit_matrix(recommended, relevant, k)
    keep = n_relevant > 0
    if not keep.any():
        raise ValueError("relevant holds no item for any user; at least one user with a "
                         "relevant item is needed")
    return float(np.mean(_top_k_scores(hits[keep], n_relevant[keep], k)[name]))


def _top_k_scores(hits: BoolArray, n_relevant: Int64Array, k: int) -> dict[str, Float64Array]:
    """Per-user precision, recall, NDCG and AP from a (users, k) boolean hit matrix."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    n_hits = hits.sum(axis=1)
    reachable = np.minimum(k, n_relevant)
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {"precision": n_hits / k,
            "recall": n_hits / n_relevant,
            "ndcg": (hits @ discounts) / np.cumsum(discounts)[reachable - 1],
            "map": np.sum(precision_at_rank * hits, axis=1) / reachable}


def _hit_matrix(recommended: IdLists, relevant: IdLists, k: int
                ) -> tuple[BoolArray, Int64Array]:
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


def _flat_ids(name: str, rows: Any, k: int | None = None) -> tuple[IdArray, Int64Array]:
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


def _row(name: str, position: int, row: Any) -> NDArray[Any]:
    array = np.asarray(list(row) if isinstance(row, (set, frozenset)) else row)
    if array.ndim != 1:
        raise TypeError(f"{name}[{position}] must be a sequence of item ids, got {row!r}")
    return array
