"""Data sets: MovieLens releases, a seeded synthetic generator and a toy example.

- :func:`load_movielens` reads a MovieLens release (100k, 1m, latest-small, 25m, 32m)
  from a local copy, downloading, checking and extracting it on first use.
- :func:`make_ratings` generates MovieLens-like explicit ratings at any scale from a
  low-rank truth plus noise, offline and reproducibly.
- :func:`toy` is the three-user, five-movie example of the documentation.

MovieLens is looked for, and downloaded, under ``data_home``, else the ``FASTMF_DATA``
environment variable, else ``~/.cache/fastmf``.
"""
import csv
import hashlib
import http.client
import io
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import numpy as np

from . import _validation as v
from .data import Interactions, ItemInfo
from .exceptions import DataNotFoundError

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/"
_TIMEOUT = 30.0        # seconds allowed to connect, and between two received blocks
_BLOCK = 1 << 16
_RATING_FIELDS = [("user", np.int64), ("item", np.int64), ("rating", np.float64),
                  ("timestamp", np.int64)]


def load_movielens(name="100k", data_home=None, download=True, *, base_url=GROUPLENS_URL,
                   progress=True):
    """Load a MovieLens release of the GroupLens group as explicit ratings.

    Files are read from ``<data home>/<folder>/``, where the data home is ``data_home``,
    else the ``FASTMF_DATA`` environment variable, else ``~/.cache/fastmf``, and the
    folder is the one the release's archive extracts to (``ml-100k``, ``ml-1m``,
    ``ml-latest-small``, ``ml-25m``, ``ml-32m``). When the ratings file is not there and
    ``download`` is true, ``<base_url><folder>.zip`` is downloaded into the data home
    (resuming an earlier ``.zip.part`` with an HTTP range request), checked against the
    md5 that GroupLens publishes beside it (``<folder>.zip.md5``), extracted, and deleted.
    Later calls read the extracted files and use no network.

    Parameters
    ----------
    name : {"100k", "1m", "latest-small", "25m", "32m"}, default "100k"
        The release: 100,000 ratings of 1,682 movies by 943 users; 1 million; the small
        "latest" snapshot (about 100,000 ratings in half-star steps); 25 or 32 million.
    data_home : str or path-like, optional
        The folder that holds (or will hold) the release's folder.
    download : bool, default True
        Download the release when no local copy is found.
    base_url : str, default "https://files.grouplens.org/datasets/movielens/"
        Where the archives and their ``.md5`` files are served.
    progress : bool, default True
        Show a download progress bar on stderr.

    Returns
    -------
    Interactions
        Ratings as float64 with int64 Unix timestamps; raw ids are the release's integer
        user and movie ids. ``item_info`` holds the movie titles and genres.

    Raises
    ------
    ValueError
        If ``name`` is not a known release.
    DataNotFoundError
        If the release is not found locally and ``download`` is false, or the download
        fails (no network, HTTP error, interrupted transfer, checksum mismatch).

    Examples
    --------
    >>> from fastmf.datasets import load_movielens
    >>> data = load_movielens("100k")  # doctest: +SKIP
    >>> data.item_info.title([1]), data.item_info.genres_of(1)  # doctest: +SKIP
    (array(['Toy Story (1995)'], dtype='<U81'), ['Animation', "Children's", 'Comedy'])
    """
    v.check_choice("name", name, tuple(_RELEASES))
    folder, ratings_file, reader = _RELEASES[name]
    home = Path(data_home or os.environ.get("FASTMF_DATA") or Path.home() / ".cache" / "fastmf")
    home = home.expanduser()
    wanted = home / folder / ratings_file
    if not wanted.is_file():
        url = f"{base_url.rstrip('/')}/{folder}.zip"
        if not download:
            raise DataNotFoundError(
                f"MovieLens {name} was not found: looked for {wanted}. Pass download=True to "
                f"download it, or extract {url} into {home} (or into the folder named by "
                f"data_home or the FASTMF_DATA environment variable)")
        _fetch(url, home, folder, progress)
        if not wanted.is_file():
            raise DataNotFoundError(f"{url} has no {folder}/{ratings_file}; check base_url")
    return reader(home / folder)


# -- download ------------------------------------------------------------------------

def _fetch(url, home, folder, progress):
    """Download ``url`` into ``home``, check its md5, extract it, delete the archive."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataNotFoundError(f"cannot create the data home {home} ({err.strerror}); pass "
                                f"data_home or set FASTMF_DATA to a writable folder") from None
    expected = _published_md5(url, home, folder)
    part = home / (url.rsplit("/", 1)[-1] + ".part")
    _download(url, part, progress, home, folder)
    actual = _md5(part)
    if actual != expected:
        part.unlink()
        raise DataNotFoundError(
            f"the file downloaded from {url} is corrupt: its md5 is {actual}, but {url}.md5 "
            f"says {expected}. It was deleted; call load_movielens again to download it afresh")
    try:
        _extract(part, url, home, folder)
    finally:
        part.unlink()


def _open(url, home, folder, start=0):
    """An open HTTP response, or None when a range starting at ``start`` is past the end."""
    request = Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        return urlopen(request, timeout=_TIMEOUT)
    except HTTPError as err:
        err.close()
        if err.code == 416 and start:
            return None
        reason = f"HTTP {err.code} {err.reason}"
    except (OSError, http.client.HTTPException) as err:
        reason = str(getattr(err, "reason", err))
    raise DataNotFoundError(
        f"could not download {url} ({reason}). Check the network connection and base_url, "
        f"or download {url.removesuffix('.md5')} yourself and extract it into {home} so that "
        f"{home / folder} exists (data_home or FASTMF_DATA name the folder to look in)")


def _published_md5(url, home, folder):
    with _open(url + ".md5", home, folder) as response:
        text = response.read(4096).decode("ascii", "replace")
    found = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if found is None:
        raise DataNotFoundError(f"{url}.md5 holds no md5 checksum, found {text[:80]!r}")
    return found.group().lower()


def _download(url, part, progress, home, folder):
    """Download ``url`` into ``part``, resuming from what ``part`` already holds."""
    from tqdm.auto import tqdm

    start = part.stat().st_size if part.exists() else 0
    response = _open(url, home, folder, start)
    if response is None:            # the partial file is already complete
        return
    with response:
        if response.status != 206:  # the server ignored the range: start over
            start = 0
        length = response.headers.get("Content-Length")
        total = start + int(length) if length else None
        received, reason = start, None
        with open(part, "ab" if start else "wb") as out, tqdm(
                total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                desc=part.name[:-len(".part")], file=sys.stderr, disable=not progress) as bar:
            try:
                for block in iter(lambda: response.read(_BLOCK), b""):
                    out.write(block)
                    bar.update(len(block))
                    received += len(block)
            except (OSError, http.client.HTTPException) as err:
                reason = str(err) or type(err).__name__
    if reason is None and total is not None and received < total:
        reason = "the connection closed early"
    if reason is not None:
        of_total = "" if total is None else f" of {total}"
        raise DataNotFoundError(
            f"the download of {url} stopped after {received}{of_total} bytes ({reason}); "
            f"call load_movielens again to resume it from {part}")


def _md5(path):
    digest = hashlib.md5(usedforsecurity=False)   # a transfer check, not security
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _extract(archive, url, home, folder):
    """Extract the archive's ``folder`` into ``home/folder``, file by file."""
    try:
        with zipfile.ZipFile(archive) as zipped, tempfile.TemporaryDirectory(dir=home) as tmp:
            zipped.extractall(tmp)
            source = Path(tmp) / folder
            if not source.is_dir():
                raise DataNotFoundError(f"{url} has no {folder}/ folder; check base_url")
            (home / folder).mkdir(exist_ok=True)
            for entry in source.iterdir():
                os.replace(entry, home / folder / entry.name)
    except zipfile.BadZipFile as err:
        raise DataNotFoundError(f"{url} is not a zip archive ({err}); check base_url") from None


# -- readers -------------------------------------------------------------------------

def _read_ratings(source, sep, skiprows=0):
    """The user, item, rating and timestamp columns of a delimited ratings file."""
    try:
        import pandas as pd
    except ImportError:
        table = np.loadtxt(source, delimiter=sep, skiprows=skiprows, dtype=_RATING_FIELDS,
                           ndmin=1)
        return [np.ascontiguousarray(table[field]) for field, _ in _RATING_FIELDS]
    frame = pd.read_csv(source, sep=sep, header=None, skiprows=skiprows,
                        names=[field for field, _ in _RATING_FIELDS], dtype=dict(_RATING_FIELDS))
    return [frame[field].to_numpy() for field, _ in _RATING_FIELDS]


def _lines(path, encoding="latin-1"):
    return [line for line in path.read_text(encoding=encoding).splitlines() if line.strip()]


def _read_100k(folder):
    info = None
    if (folder / "u.item").is_file():
        rows = [line.split("|") for line in _lines(folder / "u.item")]
        genres, names = None, None
        if (folder / "u.genre").is_file():
            pairs = [line.rsplit("|", 1) for line in _lines(folder / "u.genre")]
            names = [genre for genre, _ in sorted(pairs, key=lambda pair: int(pair[1]))]
            genres = np.array([[flag == "1" for flag in row[5:]] for row in rows], dtype=bool)
        info = ItemInfo([int(row[0]) for row in rows], [row[1] for row in rows], genres, names)
    return Interactions.from_arrays(*_read_ratings(folder / "u.data", "\t"), item_info=info)


def _read_1m(folder):
    text = (folder / "ratings.dat").read_bytes().replace(b"::", b"\t")
    info = None
    if (folder / "movies.dat").is_file():
        info = _genre_list_info([line.split("::") for line in _lines(folder / "movies.dat")])
    return Interactions.from_arrays(*_read_ratings(io.BytesIO(text), "\t"), item_info=info)


def _read_csv_release(folder):
    info = None
    if (folder / "movies.csv").is_file():
        with open(folder / "movies.csv", newline="", encoding="utf-8") as handle:
            info = _genre_list_info([row for row in csv.reader(handle) if row][1:])
    columns = _read_ratings(folder / "ratings.csv", ",", skiprows=1)
    return Interactions.from_arrays(*columns, item_info=info)


def _genre_list_info(rows):
    """ItemInfo from (id, title, "Genre1|Genre2") rows; genre names sorted."""
    lists = [[g for g in row[2].split("|") if g and g != "(no genres listed)"] for row in rows]
    names = sorted({genre for genres in lists for genre in genres})
    column = {genre: k for k, genre in enumerate(names)}
    flags = np.zeros((len(rows), len(names)), dtype=bool)
    for r, genres in enumerate(lists):
        flags[r, [column[genre] for genre in genres]] = True
    return ItemInfo([int(row[0]) for row in rows], [row[1] for row in rows], flags, names)


# name -> (folder the archive extracts to, ratings file, reader of that folder)
_RELEASES = {
    "100k": ("ml-100k", "u.data", _read_100k),
    "1m": ("ml-1m", "ratings.dat", _read_1m),
    "latest-small": ("ml-latest-small", "ratings.csv", _read_csv_release),
    "25m": ("ml-25m", "ratings.csv", _read_csv_release),
    "32m": ("ml-32m", "ratings.csv", _read_csv_release),
}


# -- synthetic ratings ---------------------------------------------------------------

_GLOBAL_MEAN = 3.55    # with the scales below: a mean near 3.5 after rounding and clipping
_USER_BIAS_STD, _ITEM_BIAS_STD = 0.5, 0.65
_TASTE_VARIANCE = 0.4  # variance of p_u·q_i, whatever the number of factors
_TIME_SPAN = (946_684_800, 1_577_836_800)   # 2000-01-01 .. 2020-01-01, Unix seconds


def make_ratings(n_users=943, n_items=1682, n_ratings=100_000, factors=10, seed=0, *,
                 noise=0.5, popularity_exponent=1.0, activity_sigma=1.0, with_titles=True):
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


def _sample_pairs(rng, user_weight, item_weight, n_ratings):
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


def _draw(rng, weight, size, uniform_share):
    """``size`` indices, sorted, drawn with probability ∝ weight blended with uniform."""
    p = (1.0 - uniform_share) * weight / weight.sum() + uniform_share / len(weight)
    counts = rng.multinomial(size, p / p.sum())
    return np.repeat(np.arange(len(weight), dtype=np.int64), counts)


def _sorted_unique(keys):
    keys = np.sort(keys)   # np.unique is far slower on tens of millions of int64 keys
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


def _sample_dense(rng, user_weight, item_weight, keys, n_ratings):
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


def _rate(rng, uidx, iidx, n_users, n_items, factors, noise):
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


def _synthetic_item_info(item_factors):
    n_items, factors = item_factors.shape
    genres = np.zeros((n_items, factors), dtype=bool)
    genres[np.arange(n_items), np.argmax(item_factors, axis=1)] = True
    return ItemInfo(np.arange(n_items), [f"Item {i}" for i in range(n_items)], genres,
                    [f"Taste {k + 1}" for k in range(factors)])


# -- the toy example -----------------------------------------------------------------

_TOY_MOVIES = ("Sholay", "Swades", "Batman", "Interstellar", "Shawshank")
_TOY_RATINGS = {                     # None: not rated
    "Alice": (5, 4, 2, 3, 2),
    "Bob": (None, 5, 1, 4, None),
    "Carol": (4, None, 1, 5, None),
}


def toy():
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
