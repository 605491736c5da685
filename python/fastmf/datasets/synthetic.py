"""Generated data: MovieLens-like synthetic ratings, heavy-tailed counts like play and click
logs, and the toy example of the documentation."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..data import Interactions, ItemInfo

if TYPE_CHECKING:
    from .._typing import Float64Array, Int64Array, Seed

_GLOBAL_MEAN = 3.55    # with the scales below: a mean near 3.5 after rounding and clipping
_USER_BIAS_STD, _ITEM_BIAS_STD = 0.5, 0.65
_TASTE_VARIANCE = 0.4  # variance of p_u·q_i, whatever the number of factors
_TIME_SPAN = (946_684_800, 1_577_836_800)   # 2000-01-01 .. 2020-01-01, Unix seconds
_CANDIDATES_PER_PAIR = 4     # make_counts: pairs drawn by popularity per pair kept by taste
# make_counts: the shares of the log counts' variance
_COUNT_SHARES = {"user": 0.5, "item": 0.2, "affinity": 1 / 6, "noise": 1 - 0.7 - 1 / 6}


def make_ratings(n_users: int = 943, n_items: int = 1682, n_ratings: int = 100_000,
                 factors: int = 10, seed: Seed = 0, *, noise: float = 0.5,
                 popularity_exponent: float = 1.0, activity_sigma: float = 1.0,
                 with_titles: bool = True) -> Interactions:
    """Generate MovieLens-like explicit ratings from a low-rank truth plus noise.

    Each rating is ``clip(round(mu + b_u + b_i + p_u·q_i + e), 1, 5)`` with Gaussian user
    and item biases (standard deviations 0.5 and 0.65), factors ``p_u, q_i`` whose product
    has variance 0.4 for any ``factors``, and noise ``e ~ N(0, noise²)``: a mean near 3.5
    with all five stars in use, as in MovieLens. Which pairs are rated follows a power law
    in item popularity (the item of popularity rank ``r`` is drawn with weight
    ``r ** -popularity_exponent``) and a lognormal user activity (weights
    ``exp(N(0, activity_sigma²))``). Pairs are distinct, so a popular item cannot gain more
    ratings than there are users. Every user has at least one rating when
    ``n_ratings >= n_users``, and every item when ``n_ratings >= n_items``.

    Parameters
    ----------
    n_users, n_items : int, default 943, 1682
        Size of the catalogue; raw ids are ``0..n_users-1`` and ``0..n_items-1``.
    n_ratings : int, default 100_000
        Exact number of distinct (user, item) ratings, at most ``n_users * n_items``.
    factors : int, default 10
        Rank of the true taste model.
    seed : int, numpy Generator or None, default 0
        The same seed gives identical data.
    noise : float, default 0.5
        Standard deviation of the noise added before rounding.
    popularity_exponent : float, default 1.0
        Power-law exponent of item popularity; 0 makes every item equally likely.
    activity_sigma : float, default 1.0
        Spread of the lognormal user activity; 0 makes every user equally active.
    with_titles : bool, default True
        Attach an ``ItemInfo`` with titles ``"Item 17"`` and, as the single genre of each
        item, its dominant taste ``"Taste 1"`` .. ``"Taste <factors>"``.

    Returns
    -------
    Interactions
        Ratings 1.0..5.0 in whole stars, with int64 timestamps drawn uniformly from the
        years 2000-2019 (they carry no signal).

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or range, or ``n_ratings > n_users * n_items``.

    Examples
    --------
    >>> from fastmf.datasets import make_ratings
    >>> data = make_ratings(n_users=100, n_items=50, n_ratings=1000, seed=1)
    >>> data.n_users, data.n_items, data.nnz
    (100, 50, 1000)
    >>> sorted(set(data.ratings.tolist()))
    [1.0, 2.0, 3.0, 4.0, 5.0]
    >>> data.item_info.title([17]), data.item_info.genres_of(17)[0].startswith("Taste")
    (array(['Item 17'], dtype='<U7'), True)
    """
    n_users = v.check_int("n_users", n_users, minimum=1)
    n_items = v.check_int("n_items", n_items, minimum=1)
    n_ratings = v.check_int("n_ratings", n_ratings, minimum=1)
    factors = v.check_int("factors", factors, minimum=1)
    noise = v.check_float("noise", noise, minimum=0.0)
    popularity_exponent = v.check_float("popularity_exponent", popularity_exponent, minimum=0.0)
    activity_sigma = v.check_float("activity_sigma", activity_sigma, minimum=0.0)
    if n_ratings > n_users * n_items:
        raise ValueError(f"n_ratings must be at most n_users * n_items = {n_users * n_items}, "
                         f"got {n_ratings}; ask for fewer ratings or more users or items")
    rng = np.random.default_rng(v.check_seed(seed))
    user_weight = rng.lognormal(0.0, activity_sigma, n_users)
    item_weight = rng.permutation(np.arange(1.0, n_items + 1.0) ** -popularity_exponent)
    uidx, iidx = np.divmod(_sample_pairs(rng, user_weight, item_weight, n_ratings), n_items)
    ratings, item_factors = _rate(rng, uidx, iidx, n_users, n_items, factors, noise)
    timestamps = rng.integers(*_TIME_SPAN, size=n_ratings)
    info = _synthetic_item_info(item_factors) if with_titles else None
    return Interactions.from_arrays(uidx, iidx, ratings, timestamps, item_info=info)


def _sample_pairs(rng: np.random.Generator, user_weight: Float64Array, item_weight: Float64Array,
                  n_ratings: int) -> Int64Array:
    """``n_ratings`` distinct keys ``user * n_items + item``, sorted."""
    n_users, n_items = len(user_weight), len(item_weight)
    # A walk k -> (k mod n_users, k mod n_items), permuted, meets every user and item
    # once it is long enough, and never repeats a pair before lcm(n_users, n_items) steps.
    steps = np.arange(min(n_ratings, max(n_users, n_items)), dtype=np.int64)
    keys = np.sort(rng.permutation(n_users)[steps % n_users] * n_items
                   + rng.permutation(n_items)[steps % n_items])
    if n_users * n_items <= 4 * n_ratings:
        return _sample_dense(rng, user_weight, item_weight, keys, n_ratings)
    uniform_share, fresh_share = 0.0, 0.8
    while len(keys) < n_ratings:
        need = n_ratings - len(keys)
        size = int(need * 1.1 / fresh_share) + 64   # enough draws to finish in one round, often
        users = _draw(rng, user_weight, size, uniform_share)
        items = _draw(rng, item_weight, size, uniform_share)
        rng.shuffle(items)                   # users come sorted: pair them at random
        new = _sorted_unique(users * n_items + items)
        at = np.searchsorted(keys, new)
        fresh = keys[np.minimum(at, len(keys) - 1)] != new
        new, at = new[fresh], at[fresh]
        fresh_share = max(len(new) / size, 0.01)
        if len(new) > need:
            drop = rng.choice(len(new), len(new) - need, replace=False, shuffle=False)
            new, at = np.delete(new, drop), np.delete(at, drop)
        elif fresh_share < 0.5:
            # The popular pairs are used up: blend in uniform draws so the loop ends.
            uniform_share = min(1.0, uniform_share + 0.25)
        keys = np.insert(keys, at, new)      # stays sorted
    return keys


def _draw(rng: np.random.Generator, weight: Float64Array, size: int, uniform_share: float
          ) -> Int64Array:
    """``size`` indices, sorted, drawn with probability ∝ weight blended with uniform."""
    p = (1.0 - uniform_share) * weight / weight.sum() + uniform_share / len(weight)
    counts = rng.multinomial(size, p / p.sum())
    return np.repeat(np.arange(len(weight), dtype=np.int64), counts)


def _sorted_unique(keys: Int64Array) -> Int64Array:
    keys = np.sort(keys)   # np.unique is far slower on tens of millions of int64 keys
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


def _sample_dense(rng: np.random.Generator, user_weight: Float64Array, item_weight: Float64Array,
                  keys: Int64Array, n_ratings: int) -> Int64Array:
    """Weighted sampling without replacement among all missing pairs (Gumbel top-k)."""
    n_items = len(item_weight)
    rest = np.setdiff1d(np.arange(len(user_weight) * n_items, dtype=np.int64), keys,
                        assume_unique=True)
    need = n_ratings - len(keys)
    if need == 0:
        return keys
    users, items = np.divmod(rest, n_items)
    score = np.log(user_weight[users]) + np.log(item_weight[items]) + rng.gumbel(size=len(rest))
    chosen = rest[np.argpartition(-score, need - 1)[:need]]
    return np.sort(np.concatenate([keys, chosen]))


def _rate(rng: np.random.Generator, uidx: Int64Array, iidx: Int64Array, n_users: int,
          n_items: int, factors: int, noise: float) -> tuple[Float64Array, Float64Array]:
    """Ratings of the pairs under a random biased low-rank model; also the item factors."""
    scale = (_TASTE_VARIANCE / factors) ** 0.25
    user_factors = rng.normal(0.0, scale, (n_users, factors))
    item_factors = rng.normal(0.0, scale, (n_items, factors))
    ratings = rng.normal(_GLOBAL_MEAN, noise, len(uidx))
    ratings += rng.normal(0.0, _USER_BIAS_STD, n_users)[uidx]
    ratings += rng.normal(0.0, _ITEM_BIAS_STD, n_items)[iidx]
    step = max(1, (1 << 22) // factors)   # bounds the gathered factor rows in memory
    for lo in range(0, len(uidx), step):
        rows = np.take(user_factors, uidx[lo:lo + step], axis=0)
        rows *= np.take(item_factors, iidx[lo:lo + step], axis=0)
        ratings[lo:lo + step] += rows.sum(axis=1)
    np.rint(ratings, out=ratings)
    np.clip(ratings, 1.0, 5.0, out=ratings)
    return ratings, item_factors


def _synthetic_item_info(item_factors: Float64Array) -> ItemInfo:
    n_items, factors = item_factors.shape
    genres = np.zeros((n_items, factors), dtype=bool)
    genres[np.arange(n_items), np.argmax(item_factors, axis=1)] = True
    return ItemInfo(np.arange(n_items), [f"Item {i}" for i in range(n_items)], genres,
                    [f"Taste {k + 1}" for k in range(factors)])


def make_counts(n_users: int = 2000, n_items: int = 20_000, n_interactions: int = 100_000,
                factors: int = 10, seed: Seed = 0, *, median: float = 3.0, spread: float = 2.3,
                taste: float = 1.5, popularity_exponent: float = 1.0,
                activity_sigma: float = 1.0) -> Interactions:
    """Generate implicit feedback with heavy-tailed counts, like play or click logs.

    Which pairs occur follows taste as well as popularity: candidate pairs are drawn as in
    :func:`make_ratings` (power-law item popularity, lognormal user activity), four times
    as many as needed, and ``n_interactions`` of them are kept with weights
    ``exp(taste * a_ui)``, ``a_ui`` a standardized low-rank affinity ``p_u·q_i`` (Gumbel
    top-k, without replacement). Each kept pair's count is lognormal,
    ``max(1, round(median * exp(spread * z_ui)))``, where ``z_ui`` has unit variance and
    sums a user's intensity (half its variance: some users play everything a lot), an
    item's replay factor (a fifth), the affinity (a sixth: a count says a little about
    taste) and noise. With the defaults most counts are 1 to 10 and a few of 100,000
    reach the tens of thousands, as in listening and click logs.

    Parameters
    ----------
    n_users, n_items : int, default 2000, 20_000
        Size of the catalogue; raw ids are ``0..n_users-1`` and ``0..n_items-1``.
    n_interactions : int, default 100_000
        Exact number of distinct (user, item) pairs, at most ``n_users * n_items / 4``.
    factors : int, default 10
        Rank of the true affinity.
    seed : int, numpy Generator or None, default 0
        The same seed gives identical data.
    median : float, default 3.0
        Median count (> 0).
    spread : float, default 2.3
        Standard deviation of the log counts (>= 0); 0 gives every pair the count
        ``round(median)`` (at least 1).
    taste : float, default 1.5
        How much the affinity decides which pairs occur (>= 0); 0: popularity and
        activity alone.
    popularity_exponent, activity_sigma : float, default 1.0
        As in :func:`make_ratings`.

    Returns
    -------
    Interactions
        Whole counts >= 1 (float64), no timestamps.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or range, or there are too few pairs to choose
        from.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmf.datasets import make_counts
    >>> data = make_counts(500, 2000, 20_000, seed=0)
    >>> data.n_users, data.nnz
    (500, 20000)
    >>> counts = data.ratings
    >>> bool(counts.min() >= 1 and np.median(counts) <= 10 and counts.max() > 1000)
    True
    """
    n_users = v.check_int("n_users", n_users, minimum=1)
    n_items = v.check_int("n_items", n_items, minimum=1)
    n_interactions = v.check_int("n_interactions", n_interactions, minimum=1)
    factors = v.check_int("factors", factors, minimum=1)
    median = v.check_float("median", median, minimum=0.0, strict_minimum=True)
    spread = v.check_float("spread", spread, minimum=0.0)
    taste = v.check_float("taste", taste, minimum=0.0)
    popularity_exponent = v.check_float("popularity_exponent", popularity_exponent, minimum=0.0)
    activity_sigma = v.check_float("activity_sigma", activity_sigma, minimum=0.0)
    n_candidates = _CANDIDATES_PER_PAIR * n_interactions
    if n_candidates > n_users * n_items:
        raise ValueError(f"n_interactions must be at most n_users * n_items / "
                         f"{_CANDIDATES_PER_PAIR} = {n_users * n_items // _CANDIDATES_PER_PAIR}, "
                         f"got {n_interactions}; ask for fewer or add users or items")
    rng = np.random.default_rng(v.check_seed(seed))
    user_weight = rng.lognormal(0.0, activity_sigma, n_users)
    item_weight = rng.permutation(np.arange(1.0, n_items + 1.0) ** -popularity_exponent)
    uidx, iidx = np.divmod(_sample_pairs(rng, user_weight, item_weight, n_candidates), n_items)
    affinity = _affinity(rng, uidx, iidx, n_users, n_items, factors)
    keep = np.sort(np.argpartition(-(taste * affinity + rng.gumbel(size=len(uidx))),
                                   n_interactions - 1)[:n_interactions])
    uidx, iidx, affinity = uidx[keep], iidx[keep], affinity[keep]
    shares = _COUNT_SHARES
    z = (np.sqrt(shares["user"]) * rng.normal(size=n_users)[uidx]
         + np.sqrt(shares["item"]) * rng.normal(size=n_items)[iidx]
         + np.sqrt(shares["affinity"]) * (affinity - affinity.mean()) / max(affinity.std(), 1e-12)
         + np.sqrt(shares["noise"]) * rng.normal(size=len(uidx)))
    counts = np.maximum(1.0, np.rint(median * np.exp(spread * z)))
    return Interactions.from_arrays(uidx, iidx, counts)


def _affinity(rng: np.random.Generator, uidx: Int64Array, iidx: Int64Array, n_users: int,
              n_items: int, factors: int) -> Float64Array:
    """p_u·q_i of the pairs for random factors whose product has unit variance."""
    scale = factors ** -0.25
    user_factors = rng.normal(0.0, scale, (n_users, factors))
    item_factors = rng.normal(0.0, scale, (n_items, factors))
    out = np.empty(len(uidx))
    step = max(1, (1 << 22) // factors)   # bounds the gathered factor rows in memory
    for lo in range(0, len(uidx), step):
        rows = np.take(user_factors, uidx[lo:lo + step], axis=0)
        rows *= np.take(item_factors, iidx[lo:lo + step], axis=0)
        out[lo:lo + step] = rows.sum(axis=1)
    return out

# -- the toy example -----------------------------------------------------------------

_TOY_MOVIES = ("Sholay", "Swades", "Batman", "Interstellar", "Shawshank")
_TOY_RATINGS: dict[str, tuple[int | None, ...]] = {      # None: not rated
    "Alice": (5, 4, 2, 3, 2),
    "Bob": (None, 5, 1, 4, None),
    "Carol": (4, None, 1, 5, None),
}


def toy() -> Interactions:
    """The worked example: three users' ratings of five movies, 11 ratings in all.

    ========  ======  ======  ======  ============  =========
    user      Sholay  Swades  Batman  Interstellar  Shawshank
    ========  ======  ======  ======  ============  =========
    Alice     5       4       2       3             2
    Bob       ?       5       1       4             ?
    Carol     4       ?       1       5             ?
    ========  ======  ======  ======  ============  =========

    Returns
    -------
    Interactions
        String ids (the names above); ``item_info`` titles are the movie names.

    Examples
    --------
    >>> from fastmf.datasets import toy
    >>> data = toy()
    >>> data
    Interactions(3 users, 5 items, 11 ratings, float64)
    >>> data.user_ids.ids.tolist()
    ['Alice', 'Bob', 'Carol']
    >>> data.item_info.title(["Sholay"])
    array(['Sholay'], dtype='<U6')
    """
    triples = [(user, movie, rating) for user, row in _TOY_RATINGS.items()
               for movie, rating in zip(_TOY_MOVIES, row) if rating is not None]
    users, movies, ratings = zip(*triples)
    return Interactions.from_arrays(list(users), list(movies), list(ratings),
                                    item_info=ItemInfo(list(_TOY_MOVIES), list(_TOY_MOVIES)))
