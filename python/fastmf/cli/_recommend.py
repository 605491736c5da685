"""fastmf recommend (the best items for users) and fastmf similar (items like an item)."""
from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING

import numpy as np

from ._data import model_ids, read_ids

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, TextIO

    from numpy.typing import ArrayLike, NDArray

    from .._typing import AnyModel

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def add_recommend(commands: Commands) -> None:
    recommend = commands.add_parser(
        "recommend", help="recommend items to users of a saved model",
        description="The best items for each user, best first, as a table, CSV or JSON; "
                    "items the user rated in training are left out (--include-seen keeps "
                    "them). --all writes every user's to a .csv or .parquet file "
                    "(--output), a block of users at a time.")
    recommend.add_argument("model_file", metavar="MODEL.npz")
    recommend.add_argument("--user", action="append", default=[], metavar="ID",
                           help="a user id (repeatable)")
    recommend.add_argument("--users-file", metavar="FILE",
                           help="a file of user ids, one per line ('-': standard input)")
    recommend.add_argument("-n", type=int, default=10, help="items per user (default 10)")
    recommend.add_argument("--include-seen", action="store_true",
                           help="also recommend items the user rated in training")
    recommend.add_argument("--all", action="store_true", dest="all_users",
                           help="recommend to every user of the model; needs --output")
    recommend.add_argument("--output", metavar="FILE",
                           help="with --all: the .csv or .parquet file to write (columns "
                                "user, rank, item, score)")
    recommend.add_argument("--batch-size", type=int, default=4096,
                           help="with --all: users per block (default 4096)")
    recommend.add_argument("--exact", action="store_true",
                           help="rank exactly even when the model file holds an approximate "
                                "index")
    recommend.add_argument("--quiet", action="store_true", help="no progress bar")
    recommend.add_argument("--format", choices=("table", "csv", "json"), default="table")
    recommend.set_defaults(run=_recommend)


def add_similar(commands: Commands) -> None:
    similar = commands.add_parser(
        "similar", help="items similar to an item of a saved model",
        description="The items whose factors are closest to the item's in cosine "
                    "similarity, most similar first.")
    similar.add_argument("model_file", metavar="MODEL.npz")
    similar.add_argument("--item", action="append", required=True, metavar="ID",
                         help="an item id (repeatable)")
    similar.add_argument("-n", type=int, default=10, help="items per item (default 10)")
    similar.add_argument("--format", choices=("table", "csv", "json"), default="table")
    similar.set_defaults(run=_similar)


def _recommend(args: argparse.Namespace, out: TextIO) -> int:
    from .. import load
    texts = list(args.user) + (read_ids(args.users_file) if args.users_file else [])
    if args.all_users:
        return _recommend_all(args, texts, out)
    if args.output:
        raise ValueError("--output goes with --all; without it results go to stdout")
    if not texts:
        raise ValueError("name the users: --user ID (repeatable), --users-file FILE or --all")
    _check_n(args.n)
    model = load(args.model_file)
    users = model_ids(texts, model.user_ids_, "user")
    recs = model.recommend_batch(users, n=args.n, filter_seen=not args.include_seen,
                                 exact=args.exact)
    rows = []
    for r, user in enumerate(users.tolist()):
        items, scores = recs.row(r)
        titles = _titles(model, items)
        for place, (item, score) in enumerate(zip(items.tolist(), scores)):
            row = {"user": user, "rank": place + 1, "item": item, "score": _number(score)}
            if titles is not None:
                row["title"] = str(titles[place])
            rows.append(row)
    titles = getattr(model, "item_info_", None) is not None
    columns = ["user", "rank", "item", "score"] + (["title"] if titles else [])
    _print_rows(columns, rows, args.format, out)
    return 0


def _recommend_all(args: argparse.Namespace, texts: list[str], out: TextIO) -> int:
    from .. import load
    if texts:
        raise ValueError("--all recommends to every user; drop --user and --users-file")
    if not args.output:
        raise ValueError("--all needs --output FILE (.csv or .parquet)")
    _check_n(args.n)
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    model = load(args.model_file)
    path = model.recommend_all(args.n, batch_size=args.batch_size, out=args.output,
                               filter_seen=not args.include_seen, exact=args.exact,
                               verbose=not args.quiet)
    print(f"wrote recommendations for {len(model.user_ids_)} users to {path}", file=out)
    return 0


def _similar(args: argparse.Namespace, out: TextIO) -> int:
    from .. import load
    _check_n(args.n)
    model = load(args.model_file)
    rows = []
    for item in model_ids(args.item, model.item_ids_, "item"):
        similar, cosines = model.similar_items(item, n=args.n)
        titles = _titles(model, similar)
        for place, (other, cosine) in enumerate(zip(similar.tolist(), cosines)):
            row = {"item": item.item(), "rank": place + 1, "similar": other,
                   "cosine": _number(cosine)}
            if titles is not None:
                row["title"] = str(titles[place])
            rows.append(row)
    titled = getattr(model, "item_info_", None) is not None
    columns = ["item", "rank", "similar", "cosine"] + (["title"] if titled else [])
    _print_rows(columns, rows, args.format, out)
    return 0


def _check_n(n: int) -> None:
    if n < 1:
        raise ValueError(f"-n must be at least 1, got {n}")


def _titles(model: AnyModel, items: ArrayLike) -> str | NDArray[np.str_] | None:
    info = getattr(model, "item_info_", None)
    return None if info is None else info.title(items)


def _number(value: np.floating[Any] | float) -> float:
    """A float with the digits its own dtype holds (float32 scores print as 4.873214)."""
    return float(np.format_float_positional(value, unique=True, trim="0"))


def _print_rows(columns: list[str], rows: Sequence[dict[str, Any]], fmt: str, out: TextIO
                ) -> None:
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=out)
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        cells = [[f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
                 for row in rows]
        widths = [max([len(c)] + [len(line[j]) for line in cells]) for j, c in enumerate(columns)]
        numeric = [bool(rows) and all(isinstance(row[c], (int, float)) for row in rows)
                   for c in columns]
        for line in [columns] + cells:
            padded = [text.rjust(w) if right else text.ljust(w)
                      for text, w, right in zip(line, widths, numeric)]
            print("  ".join(padded).rstrip(), file=out)
