"""MovieLens releases of the GroupLens group: where they are looked for, and their readers."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from ..data import Interactions, ItemInfo
from ..exceptions import DataNotFoundError
from ._download import _fetch

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Literal

    from numpy.typing import NDArray

    from .._typing import PathLike

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/"
_RATING_FIELDS: list[tuple[str, type[np.generic]]] = [
    ("user", np.int64), ("item", np.int64), ("rating", np.float64), ("timestamp", np.int64)]


def load_movielens(name: Literal["100k", "1m", "latest-small", "25m", "32m"] = "100k",
                   data_home: PathLike | None = None, download: bool = True, *,
                   base_url: str = GROUPLENS_URL, progress: bool = True) -> Interactions:
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


def _read_ratings(source: Path | io.BytesIO, sep: str, skiprows: int = 0) -> list[NDArray[Any]]:
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


def _lines(path: Path, encoding: str = "latin-1") -> list[str]:
    return [line for line in path.read_text(encoding=encoding).splitlines() if line.strip()]


def _read_100k(folder: Path) -> Interactions:
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


def _read_1m(folder: Path) -> Interactions:
    text = (folder / "ratings.dat").read_bytes().replace(b"::", b"\t")
    info = None
    if (folder / "movies.dat").is_file():
        info = _genre_list_info([line.split("::") for line in _lines(folder / "movies.dat")])
    return Interactions.from_arrays(*_read_ratings(io.BytesIO(text), "\t"), item_info=info)


def _read_csv_release(folder: Path) -> Interactions:
    info = None
    if (folder / "movies.csv").is_file():
        with open(folder / "movies.csv", newline="", encoding="utf-8") as handle:
            info = _genre_list_info([row for row in csv.reader(handle) if row][1:])
    columns = _read_ratings(folder / "ratings.csv", ",", skiprows=1)
    return Interactions.from_arrays(*columns, item_info=info)


def _genre_list_info(rows: Sequence[Sequence[str]]) -> ItemInfo:
    """ItemInfo from (id, title, "Genre1|Genre2") rows; genre names sorted."""
    lists = [[g for g in row[2].split("|") if g and g != "(no genres listed)"] for row in rows]
    names = sorted({genre for genres in lists for genre in genres})
    column = {genre: k for k, genre in enumerate(names)}
    flags = np.zeros((len(rows), len(names)), dtype=bool)
    for r, genres in enumerate(lists):
        flags[r, [column[genre] for genre in genres]] = True
    return ItemInfo([int(row[0]) for row in rows], [row[1] for row in rows], flags, names)


# name -> (folder the archive extracts to, ratings file, reader of that folder)
_RELEASES: dict[str, tuple[str, str, Callable[[Path], Interactions]]] = {
    "100k": ("ml-100k", "u.data", _read_100k),
    "1m": ("ml-1m", "ratings.dat", _read_1m),
    "latest-small": ("ml-latest-small", "ratings.csv", _read_csv_release),
    "25m": ("ml-25m", "ratings.csv", _read_csv_release),
    "32m": ("ml-32m", "ratings.csv", _read_csv_release),
}
