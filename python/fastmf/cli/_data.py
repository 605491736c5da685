"""Reading DATA arguments (files, MovieLens releases, synthetic ratings) and typed ids."""
import argparse
import math
import sys
from pathlib import Path

import numpy as np

from ..exceptions import UnknownIdError

_SYNTHETIC_SHAPE = (943, 1682, 100_000)      # users, items, ratings of MovieLens 100K
DATA_HELP = ("a CSV or TSV file of user, item[, rating[, timestamp]] rows, "
             "'movielens:100k' (or 1m, latest-small, 25m, 32m; read from FASTMF_DATA or "
             "downloaded once) or 'synthetic[:N]' (N MovieLens-like ratings, offline)")


def data_options():
    """The options of reading DATA files, a parent parser of train and evaluate."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("reading DATA files")
    group.add_argument("--sep", default=None,
                       help="field separator (default: tab for .tsv/.tab/.data files, else ','; "
                            "'\\t' or 'tab' for a tab)")
    group.add_argument("--columns", default="0,1,2", metavar="USER,ITEM[,RATING[,TIMESTAMP]]",
                       help="the fields to read, by position from 0 (default 0,1,2) or by name "
                            "with --header; two fields mean implicit data (every value 1)")
    group.add_argument("--header", action="store_true", help="the first line names the fields")
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
    return options


def read_data(spec, args):
    """Interactions of a DATA argument, with --min-rating applied."""
    from .. import Interactions, datasets
    if spec == "synthetic" or spec.startswith("synthetic:"):
        data = synthetic(spec)
    elif spec.startswith("movielens:"):
        name = spec.split(":", 1)[1]
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
        sep = {"\\t": "\t", "tab": "\t"}.get(args.sep, args.sep)
        try:
            data = Interactions.from_csv(path, sep=sep, columns=_columns(args.columns, args.header),
                                         header=args.header, duplicates=args.duplicates,
                                         encoding=args.encoding, id_dtype=args.id_dtype)
        except ValueError as err:      # name the option, not the Python argument
            raise ValueError(str(err).replace("pass duplicates='last', 'sum' or 'mean'",
                                              "pass --duplicates last, sum or mean")) from None
    if args.min_rating is None:
        return data
    users, items, ratings = data.to_arrays()
    keep = ratings >= args.min_rating
    if not keep.any():
        low, high = data.rating_range
        raise ValueError(f"no rating is >= --min-rating {args.min_rating:g} in {spec} (ratings "
                         f"range from {low:g} to {high:g})")
    return Interactions.from_arrays(users[keep], items[keep], item_info=data.item_info)


def synthetic(spec):
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


def _columns(text, header):
    parts = [part.strip() for part in text.split(",")]
    if not 2 <= len(parts) <= 4 or "" in parts:
        raise ValueError(f"--columns must list 2 to 4 fields, user,item[,rating[,timestamp]], "
                         f"got {text!r}")
    columns = [int(part) if part.isdigit() else part for part in parts]
    named = [c for c in columns if isinstance(c, str)]
    if named and not header:
        raise ValueError(f"--columns names the field {named[0]!r}; pass --header when the "
                         f"first line of the file names the fields, or give positions (0,1,2)")
    return tuple(columns) if len(columns) > 2 else (*columns, None)


def model_ids(texts, id_map, what):
    """Ids typed on the command line, as the model's ids (ints when those are ints)."""
    ids = id_map.ids
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


def read_ids(path):
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
