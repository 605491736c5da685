"""Splitting interactions into training and test parts: at random, per user, in time,
by whole items or users (cold start, strong generalization), and into k folds."""
from __future__ import annotations

import logging
import warnings
from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..data import as_interactions
from ..exceptions import FastMFWarning

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Literal, NamedTuple

    from .._typing import BoolArray, InteractionsLike, Seed
    from ..data import Interactions

    Strategy = Literal["random", "per_user", "temporal"]
    Unseen = Literal["drop", "keep"]

logger = logging.getLogger("fastmf")

STRATEGIES = ("random", "per_user", "temporal")
# Dropping more than this share of the test ratings as unseen is a warning, not a log line
# only: a few singletons of a long tail are expected, most of the test part is not.
_UNSEEN_WARNING_SHARE = 0.05


def train_test_split(data: InteractionsLike, test_size: float = 0.2, seed: Seed = None,
                     strategy: Strategy = "random", unseen: Unseen = "drop"
                     ) -> tuple[Interactions, Interactions]:
    """Split interactions into (train, test).

    Parameters
    ----------
    data : Interactions
    test_size : float in (0, 1)
        Fraction of the ratings that go to the test set.
    seed : int or None
        Fixes the random choice ("random" and "per_user").
    strategy : {"random", "per_user", "temporal"}
        ``"random"``: a uniformly random ``test_size`` share of all ratings.
        ``"per_user"``: for every user with at least two ratings, a random
        ``round(test_size * n_u)`` of them (at least one, never all).
        ``"temporal"``: the latest ``test_size`` share by timestamp (ties broken by
        position); needs timestamps.
    unseen : {"drop", "keep"}
        Test ratings whose user or item has no rating left in train cannot be scored by
        the model itself. ``"drop"`` (default) removes them from the test set; ``"keep"``
        keeps them (models then predict them by their fallback rule). Either way their
        number is stored as ``test.n_unseen`` and logged to the "fastmf" logger; when
        more than 5% of the test ratings are dropped, a ``FastMFWarning`` says how many
        (a temporal split drops the ratings of users who appear only late, often most of
        them).

    Returns
    -------
    train, test : Interactions
        ``train`` holds only the users and items that have ratings in it.

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(100, 50, 1000, seed=0)
    >>> train, test = fastmf.train_test_split(data, test_size=0.2, seed=1)
    >>> train.nnz + test.nnz + test.n_unseen == data.nnz
    True
    """
    return split_parts(data, test_size, seed, strategy, unseen, warn=True)


def split_parts(data: InteractionsLike, test_size: object, seed: Seed, strategy: Strategy,
                unseen: Unseen = "drop", warn: bool = False) -> tuple[Interactions, Interactions]:
    """:func:`train_test_split`; ``warn=False`` for the library's own validation parts,
    which report what they dropped themselves (``test.n_unseen``)."""
    data = as_interactions(data)
    test_size = v.check_float("test_size", test_size, minimum=0, maximum=1, strict_minimum=True)
    if test_size >= 1:
        raise ValueError(f"test_size must be a float < 1, got {test_size}")
    v.check_choice("strategy", strategy, STRATEGIES)
    v.check_choice("unseen", unseen, ("drop", "keep"))
    rng = np.random.default_rng(v.check_seed(seed))
    is_test = _SPLITTERS[strategy](data, test_size, rng)
    if not is_test.any() or is_test.all():
        raise ValueError(f"test_size={test_size} puts {'no' if not is_test.any() else 'every'} "
                         f"rating in the test set ({data.nnz} ratings in all)")
    return _split(data, is_test, unseen, warn, strategy)


def _split(data: Interactions, is_test: BoolArray, unseen: Unseen, warn: bool = True,
           strategy: Strategy | None = None) -> tuple[Interactions, Interactions]:
    """(train, test) for a mask of test ratings, with the rule for unseen users and items."""
    train = data.take(np.flatnonzero(~is_test))
    test_pos = np.flatnonzero(is_test)
    known = (np.isin(data.uidx[test_pos], data.uidx[~is_test])
             & np.isin(data.iidx[test_pos], data.iidx[~is_test]))
    n_unseen = int((~known).sum())
    if n_unseen:
        logger.info("%d test ratings have a user or item absent from train (%s)", n_unseen,
                    "dropped" if unseen == "drop" else "kept")
    if warn and unseen == "drop" and n_unseen > _UNSEEN_WARNING_SHARE * len(test_pos):
        why = (" (a temporal split: users and items that appear only in the latest ratings)"
               if strategy == "temporal" else "")
        warnings.warn(f"{n_unseen} of the {len(test_pos)} test ratings were dropped: their user "
                      f"or item has no rating left in train{why}; pass unseen='keep' to keep "
                      f"them (scored by the fallback rule), or use strategy='per_user'",
                      FastMFWarning, stacklevel=4)
    if unseen == "drop":
        test_pos = test_pos[known]
    if len(test_pos) == 0:
        raise ValueError("no test rating has both its user and item in train; the data is "
                         "too sparse for this split: use a smaller test_size or unseen='keep'")
    test = data.take(test_pos)
    test.n_unseen = n_unseen
    return train, test


def _random(data: Interactions, test_size: float, rng: np.random.Generator) -> BoolArray:
    n_test = int(round(test_size * data.nnz))
    is_test = np.zeros(data.nnz, dtype=bool)
    is_test[rng.permutation(data.nnz)[:n_test]] = True
    return is_test


def _per_user(data: Interactions, test_size: float, rng: np.random.Generator) -> BoolArray:
    # Ratings are sorted by user: rank each rating by a random key inside its user's block.
    counts = data.by_user.counts()
    starts = np.repeat(data.by_user.indptr[:-1], counts)
    order = np.lexsort((rng.random(data.nnz), data.uidx))
    rank = np.empty(data.nnz, dtype=np.int64)
    rank[order] = np.arange(data.nnz) - starts
    n_test = np.where(counts >= 2, np.clip(np.round(test_size * counts), 1, counts - 1), 0)
    return rank < np.repeat(n_test, counts)


def _temporal(data: Interactions, test_size: float, rng: np.random.Generator) -> BoolArray:
    if data.timestamps is None:
        raise ValueError("strategy='temporal' needs timestamps; build the data with timestamps=...")
    n_test = int(round(test_size * data.nnz))
    order = np.argsort(data.timestamps, kind="stable")
    is_test = np.zeros(data.nnz, dtype=bool)
    is_test[order[data.nnz - n_test:]] = True
    return is_test


_SPLITTERS: dict[str, Callable[[Interactions, float, np.random.Generator], BoolArray]] = {
    "random": _random, "per_user": _per_user, "temporal": _temporal}


def cold_start_split(data: InteractionsLike, fraction: float = 0.1,
                     side: Literal["item", "user"] = "item", seed: Seed = None
                     ) -> tuple[Interactions, Interactions]:
    """Hold out a random ``fraction`` of the items (or users) with all their ratings:
    (train, test), where no test item (user) appears in train. For measuring how a model
    serves what it never saw, e.g. new items placed by their features
    (:meth:`fastmf.ALS.add_items`).

    Examples
    --------
    >>> import fastmf
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> train, test = fastmf.model_selection.cold_start_split(data, fraction=0.1, seed=0)
    >>> len(set(test.item_ids.ids) & set(train.item_ids.ids))
    0
    """
    data = as_interactions(data)
    fraction = v.check_float("fraction", fraction, minimum=0, maximum=1, strict_minimum=True)
    side = v.check_choice("side", side, ("item", "user"))
    rng = np.random.default_rng(v.check_seed(seed))
    n = data.n_items if side == "item" else data.n_users
    n_out = int(round(fraction * n))
    if not 0 < n_out < n:
        raise ValueError(f"fraction={fraction} holds out {n_out} of {n} {side}s; it must leave "
                         f"at least one on each side")
    out = np.zeros(n, dtype=bool)
    out[rng.choice(n, n_out, replace=False)] = True
    in_test = out[data.iidx] if side == "item" else np.repeat(out, data.by_user.counts())
    return data.take(np.flatnonzero(~in_test)), data.take(np.flatnonzero(in_test))



def k_fold(data: InteractionsLike, folds: int = 5, seed: Seed = None, unseen: Unseen = "drop"
           ) -> Iterator[tuple[Interactions, Interactions]]:
    """Yield ``folds`` (train, test) pairs: the ratings split at random into ``folds`` parts
    of near-equal size, each part the test set once (unseen users and items handled as in
    :func:`train_test_split`).

    Parameters
    ----------
    data : Interactions or (users, items[, ratings]) tuple
    folds : int, default 5
        Number of parts, at least 2 and at most the number of ratings.
    seed : int, numpy Generator or None
        Fixes the split.
    unseen : {"drop", "keep"}, default "drop"
        Test ratings whose user or item has no rating in the fold's train part are
        dropped from its test set or kept; their number is ``test.n_unseen`` either way.

    Yields
    ------
    train, test : Interactions
        ``train`` holds only the users and items that have ratings in it.

    Raises
    ------
    TypeError, ValueError
        A bad argument, or a fold whose test part keeps no rating. This is a generator:
        nothing is checked before the first pair is asked for.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import k_fold
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> folds = list(k_fold(data, folds=3, seed=0))
    >>> len(folds)
    3
    >>> all(train.nnz + test.nnz + test.n_unseen == data.nnz for train, test in folds)
    True
    """
    data = as_interactions(data)
    folds = v.check_int("folds", folds, minimum=2)
    v.check_choice("unseen", unseen, ("drop", "keep"))
    if folds > data.nnz:
        raise ValueError(f"folds={folds} is more than the {data.nnz} ratings")
    order = np.random.default_rng(v.check_seed(seed)).permutation(data.nnz)
    for part in np.array_split(order, folds):
        is_test = np.zeros(data.nnz, dtype=bool)
        is_test[part] = True
        yield _split(data, is_test, unseen)


if TYPE_CHECKING:
    class UserSplit(NamedTuple):
        train: Interactions
        fold_in: Interactions
        test: Interactions
else:
    UserSplit = namedtuple("UserSplit", ["train", "fold_in", "test"])
UserSplit.__doc__ = """What :func:`user_split` returns: ``train`` (the other users' ratings), and
for the held-out users ``fold_in`` (the interactions they are folded in from) and ``test``
(the ones scored)."""


def user_split(data: InteractionsLike, test_users: float = 0.1, test_size: float = 0.2,
               seed: Seed = None) -> UserSplit:
    """Hold out whole users, for strong generalization (Marlin 2004; Liang et al. 2018):
    (train, fold_in, test), where no held-out user appears in ``train``.

    A random ``test_users`` share of the users is held out with all their ratings; ``train``
    keeps every other user. Each held-out user's ratings of items that ``train`` knows are
    split at random: ``round(test_size * n_u)`` of them (at least one, never all; none for a
    user with a single one) into ``test``, the rest into ``fold_in``. A model fitted on
    ``train`` then solves each held-out user from ``fold_in`` and is scored on ``test``
    with the fold-in items left out: :func:`fastmf.metrics.evaluate` with ``fold_in=``.

    Parameters
    ----------
    data : Interactions or (users, items[, ratings]) tuple
    test_users : float in (0, 1) or int, default 0.1
        The share of the users held out, or their number.
    test_size : float in (0, 1), default 0.2
        The share of each held-out user's ratings that is scored.
    seed : int, numpy Generator or None
        Fixes the users held out and the split of their ratings.

    Returns
    -------
    UserSplit
        ``(train, fold_in, test)`` Interactions; ``fold_in.n_unseen`` counts the held-out
        ratings dropped because ``train`` has no rating of their item.

    Raises
    ------
    ValueError
        ``test_users`` holds out no user or every user, or ``test_size`` is out of range.

    Examples
    --------
    >>> import fastmf
    >>> from fastmf.model_selection import user_split
    >>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    >>> train, fold_in, test = user_split(data, test_users=0.1, seed=0)
    >>> fold_in.n_users, len(set(fold_in.user_ids.ids) & set(train.user_ids.ids))
    (30, 0)
    >>> train.nnz + fold_in.nnz + test.nnz + fold_in.n_unseen == data.nnz
    True
    """
    data = as_interactions(data)
    test_size = v.check_float("test_size", test_size, minimum=0, maximum=1, strict_minimum=True)
    if test_size >= 1:
        raise ValueError(f"test_size must be a float < 1, got {test_size}")
    n_out = _count("test_users", test_users, data.n_users)
    rng = np.random.default_rng(v.check_seed(seed))
    out = np.zeros(data.n_users, dtype=bool)
    out[rng.choice(data.n_users, n_out, replace=False)] = True
    held_out = np.repeat(out, data.by_user.counts())
    train = data.take(np.flatnonzero(~held_out))
    positions = np.flatnonzero(held_out & np.isin(data.iidx, data.iidx[~held_out]))
    users = data.take(positions)
    is_test = _per_user(users, test_size, rng)
    fold_in, test = users.take(np.flatnonzero(~is_test)), users.take(np.flatnonzero(is_test))
    fold_in.n_unseen = int(held_out.sum()) - len(positions)
    return UserSplit(train, fold_in, test)


def _count(name: str, value: object, n: int) -> int:
    """The number of users a share (float in (0, 1)) or a count (int) means, checked to
    leave at least one on each side."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        count = int(value)
    else:
        share = v.check_float(name, value, minimum=0, maximum=1, strict_minimum=True)
        count = int(round(share * n))
    if not 0 < count < n:
        raise ValueError(f"{name}={value!r} holds out {count} of {n} users; it must leave at "
                         f"least one on each side")
    return count
