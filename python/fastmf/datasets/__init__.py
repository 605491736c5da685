"""Data sets: MovieLens releases, a seeded synthetic generator and a toy example.

- :func:`load_movielens` reads a MovieLens release (100k, 1m, latest-small, 25m, 32m)
  from a local copy, downloading, checking and extracting it on first use.
- :func:`make_ratings` generates MovieLens-like explicit ratings at any scale from a
  low-rank truth plus noise, offline and reproducibly.
- :func:`make_counts` generates implicit feedback with heavy-tailed counts, like play and
  click logs, whose pairs follow a low-rank taste.
- :func:`toy` is the three-user, five-movie example of the documentation.

MovieLens is looked for, and downloaded, under ``data_home``, else the ``FASTMF_DATA``
environment variable, else ``~/.cache/fastmf``.
"""
from ._download import _BLOCK, _TIMEOUT, _download, _extract, _fetch, _md5, _open, _published_md5
from .movielens import (_RATING_FIELDS, _RELEASES, GROUPLENS_URL, _genre_list_info, _lines,
                        _read_100k, _read_1m, _read_csv_release, _read_ratings, load_movielens)
from .synthetic import (_GLOBAL_MEAN, _ITEM_BIAS_STD, _TASTE_VARIANCE, _TIME_SPAN, _TOY_MOVIES,
                        _TOY_RATINGS, _USER_BIAS_STD, _draw, _rate, _sample_dense, _sample_pairs,
                        _sorted_unique, _synthetic_item_info, make_counts, make_ratings, toy)

# fastmf.datasets is their home: doctest and the public-API listing look for them here.
for _public in (load_movielens, make_counts, make_ratings, toy):
    _public.__module__ = __name__
del _public
