"""Reading DATA arguments (files, MovieLens releases, synthetic ratings) and typed ids."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import UnknownIdError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import IdArray
    from ..data import IdMap, Interactions, ItemInfo

_SYNTHETIC_SHAPE = (943, 1682, 100_000)      # users, items, ratings of MovieLens 100K
DATA_HELP = ("a delimited text file of user, item[, rating[, timestamp]] rows (.csv, .tsv, "
             ".dat, .txt...; the separator and a header line are detected), "
             "'movielens:100k' (or 1m, latest-small, 25m, 32m; read from FASTMF_DATA or "
             "downloaded once) or 'synthetic[:N]' (N MovieLens-like ratings, offline)")


def data_options() -> argparse.ArgumentParser:
    """The options of reading DATA files, a parent parser of train and evaluate."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("reading DATA files")
    group.add_argument("--sep", default=None,
                       help="field separator (default: detected from the first lines: '::', "
                            "tab, ',', ';', '|' or runs of spaces); 'tab' or '\\t' for a tab, "
                            "'whitespace' for runs of spaces and tabs")
    group.add_argument("--columns", default="0,1,2", metavar="USER,ITEM[,RATING[,TIMESTAMP]]",
                       help="the fields to read, by position from 0 (default 0,1,2) or by the "
                            "names on the header line (names imply one); two fields mean "
                            "implicit data (every value 1)")
    group.add_argument("--header", action="store_true", default=None,
                       help="the first line names the fields (default: detected, when its "
                            "rating or timestamp is not a number and the next lines' are)")
    group.add_argument("--no-header", action="store_false", dest="header",
                       help="the first line is data, whatever it looks like")
    group.add_argument("--encoding", default="utf-8",
                       help="the file's text encoding (default utf-8; a byte-order mark is skipped)")
    group.add_argument("--id-dtype", choices=("auto", "str"), default="auto",
                       help="auto: ids that all read as integers are integers ('007' is 7); "
                            "str: ids stay text")
    group.add_argument("--duplicates", choices=("error", "last", "sum", "mean"), default="error",
                       help="how to combine repeated (user, item) pairs (default: error)")
    group.add_argument("--min-rating", type=float, default=None, metavar="R",
                       help="keep only ratings >= R, as implicit feedback (value 1); for "
                            "ranking models and metrics")
    items = options.add_argument_group("titles and categories of the items")
    items.add_argument("--items", metavar="FILE", default=None,
                       help="a file of item id, title[, categories] lines (such as MovieLens' "
                            "movies.csv or movies.dat; separator, header line and latin-1 "
                            "text are detected; categories separated by '|'): the model file "
                            "keeps the titles for recommend and similar, and "
                            "--param item_features=genres uses the categories")
    items.add_argument("--items-columns", metavar="ID,TITLE[,CATEGORY...]", default=None,
                       help="the fields of --items, by position from 0 or by header name "
                            "(default 0,1,2, or 0,1 for two-field lines)")
    return options


def read_data(spec: str, args: argparse.Namespace) -> Interactions:
    """Interactions of a DATA argument, with --items attached and --min-rating applied."""
    from .. import Interactions, datasets
    items = read_items(args)
    if spec == "synthetic" or spec.startswith("synthetic:"):
        data = synthetic(spec)
    elif spec.startswith("movielens:"):
        name: Any = spec.split(":", 1)[1]        # load_movielens checks it: an unknown release
        try:
            data = datasets.load_movielens(name, progress=not getattr(args, "quiet", False))
        except ValueError as err:          # an unknown release
            raise ValueError(f"{spec}: {err}") from None
    else:
        path = Path(spec)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {spec!r} (DATA is a CSV or TSV file, "
                                    f"'movielens:100k' or 'synthetic[:N]')")
        if path.is_dir():
            raise IsADirectoryError(f"{spec!r} is a directory, not a data file")
        try:
            data = Interactions.from_csv(path, sep=_sep(args.sep),
                                         columns=_columns(args.columns, args.header),
                                         header=args.header, duplicates=args.duplicates,
                                         encoding=args.encoding, id_dtype=args.id_dtype,
                                         item_info=items)
        except ValueError as err:      # name the option, not the Python argument
            raise ValueError(_options_named(str(err), args)) from None
        items = None
    if items is not None:              # titles of your own for MovieLens or synthetic data
        try:
            data = Interactions.from_arrays(data.users, data.items, data.ratings,
                                            data.timestamps, item_info=items)
        except ValueError as err:
            raise ValueError(_options_named(str(err), args)) from None
    if args.min_rating is None:
        return data
    users, items, ratings = data.to_arrays()
    keep = ratings >= args.min_rating
    if not keep.any():
        low, high = data.rating_range
        raise ValueError(f"no rating is >= --min-rating {args.min_rating:g} in {spec} (ratings "
                         f"range from {low:g} to {high:g})")
    return Interactions.from_arrays(users[keep], items[keep], item_info=data.item_info)


def read_items(args: argparse.Namespace) -> ItemInfo | None:
    """The ItemInfo of --items (None without it)."""
    from .. import ItemInfo
    if getattr(args, "items", None) is None:
        if getattr(args, "items_columns", None) is not None:
            raise ValueError("--items-columns goes with --items FILE")
        return None
    path = Path(args.items)
    if not path.is_file():
        raise FileNotFoundError(f"--items: no such file: {args.items!r}")
    columns = None
    if args.items_columns is not None:
        parts = [part.strip() for part in args.items_columns.split(",")]
        if len(parts) < 2 or "" in parts:
            raise ValueError(f"--items-columns must list the id, title and any category fields, "
                             f"ID,TITLE[,CATEGORY...], got {args.items_columns!r}")
        columns = [int(part) if part.isdigit() else part for part in parts]
    return ItemInfo.from_csv(path, columns=columns, id_dtype=args.id_dtype)


def _options_named(message: str, args: argparse.Namespace) -> str:
    """A message of the Python API with the command line's options in it."""
    for python, option in (("pass duplicates='last', 'sum' or 'mean'",
                            "pass --duplicates last, sum or mean"),
                           ("is in item_info:", f"is in --items {args.items}:"),
                           ("(columns=) and id_dtype", "(--items-columns) and --id-dtype")):
        message = message.replace(python, option)
    return message


def _sep(text: Any) -> str | None:
    return {"\\t": "\t", "tab": "\t", "whitespace": r"\s+"}.get(text, text)


def synthetic(spec: str) -> Interactions:
    """make_ratings data: MovieLens 100K's shape, or N ratings at its density."""
    from ..datasets import make_ratings
    n_users, n_items, n_ratings = _SYNTHETIC_SHAPE
    if spec != "synthetic":
        text = spec.split(":", 1)[1]
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"synthetic:N needs a positive whole number of ratings, got {text!r}")
        scale = math.sqrt(int(text) / n_ratings)
        n_users, n_items = max(10, round(n_users * scale)), max(10, round(n_items * scale))
        n_ratings = int(text)
    return make_ratings(n_users, n_items, n_ratings, seed=0)


def _columns(text: str, header: bool | None) -> tuple[int | str | None, ...]:
    parts = [part.strip() for part in text.split(",")]
    if not 2 <= len(parts) <= 4 or "" in parts:
        raise ValueError(f"--columns must list 2 to 4 fields, user,item[,rating[,timestamp]], "
                         f"got {text!r}")
    columns = [int(part) if part.isdigit() else part for part in parts]
    named = [c for c in columns if isinstance(c, str)]
    if named and header is False:
        raise ValueError(f"--columns names the field {named[0]!r}, which needs the header line "
                         f"that --no-header rules out; leave --no-header out or give positions "
                         f"(0,1,2)")
    return tuple(columns) if len(columns) > 2 else (*columns, None)


def model_ids(texts: Sequence[str], id_map: IdMap, what: str) -> IdArray:
    """Ids typed on the command line, as the model's ids (ints when those are ints)."""
    ids: NDArray[Any] = id_map.ids      # integers (kind "iu") or text
    if ids.dtype.kind in "iu":
        numbers = []
        for text in texts:
            try:
                numbers.append(int(text))
            except ValueError:
                raise ValueError(f"{what} id {text!r} is not an integer; the model's {what} "
                                 f"ids are integers") from None
        limits = np.iinfo(ids.dtype)
        fits = np.array([limits.min <= x <= limits.max for x in numbers], dtype=bool)
        found = id_map.index(np.array([x if ok else 0 for x, ok in zip(numbers, fits)],
                                      dtype=ids.dtype))
        found[~fits] = -1
    else:
        found = id_map.index(np.array(texts, dtype=str))
    if (found < 0).any():
        missing = texts[int(np.flatnonzero(found < 0)[0])]
        shown = missing if ids.dtype.kind in "iu" else repr(missing)
        raise UnknownIdError(f"{what} {shown} is not in the model ({len(id_map)} {what}s "
                             f"were in its training data)")
    return ids[found]


def read_ids(path: str) -> list[str]:
    """Ids in a file (or standard input for '-'), one per line; blank lines are skipped."""
    if path == "-":
        lines = sys.stdin.read().splitlines()
    else:
        if not Path(path).is_file():
            raise FileNotFoundError(f"no such file: {path!r}")
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    ids = [line.strip() for line in lines if line.strip()]
    if not ids:
        raise ValueError(f"{'standard input' if path == '-' else repr(path)} holds no ids")
    return ids
