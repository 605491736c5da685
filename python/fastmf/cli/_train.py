"""fastmf train: fit a model on DATA and save it (fastmf evaluate, which scores it, is in
``_evaluate``)."""
from __future__ import annotations

import contextlib
import csv
import math
import os
import time
import types
from pathlib import Path
from typing import TYPE_CHECKING

from .. import ALS, ImplicitALS, ItemFeatures, UserFeatures
from .._files import replacing
from .._optional import require
from ._data import DATA_HELP, read_data
from ._models import (add_model_option, checked_options, chosen_model, implicit_names,
                      is_explicit)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager
    from typing import Any, TextIO

    from distributed import Client

    from .._typing import AnyModel
    from ..data import Interactions

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]



TRAIN_DESCRIPTION = (
    "Train a model on DATA, print its metrics and save it to one .npz file (read by the "
    "other commands and fastmf.load). DATA is cut in up to three parts. The test part "
    "(--test-size of the ratings, at random) is held out first and scored once, after the "
    "fit: nothing is chosen on it. The training part is the rest. A validation part "
    "(--validation of each user's training ratings) is carved out of the training part only "
    "when something needs a score per iteration: early stopping (--param early_stopping=N) "
    "or --plot. A first fit on the rest of the training part then scores the validation part "
    "after every iteration, early stopping picks the number of iterations there, and the "
    "saved model is fitted on the whole training part for that many iterations (as tune "
    "refits its best candidate), so no training rating is left out of the model. A plain "
    "train fits once and scores nothing while fitting. The closing lines say which part gave "
    "which figure. The implicit-feedback models ({implicit}) take rating values as counts "
    "(ImplicitALS: confidence 1 + alpha * log(1 + value / epsilon), or 1 + alpha * value "
    "with --param confidence=linear); --min-rating 4 turns the ratings >= 4 into positives "
    "of value 1 instead.")


def add_train(commands: Commands, data_options: argparse.ArgumentParser) -> None:
    train = commands.add_parser(
        "train", parents=[data_options], help="train a model on DATA and save it",
        description=TRAIN_DESCRIPTION.format(implicit=", ".join(implicit_names())))
    train.add_argument("data", metavar="DATA", help=DATA_HELP)
    add_model_option(train)
    train.add_argument("--output", "-o", required=True, metavar="MODEL.npz",
                       help="the model file to write")
    train.add_argument("--factors", type=int, default=None, help="default: the model's own")
    train.add_argument("--iterations", type=int, default=None,
                       help="iterations (ALS) or epochs (SGD, BPR); default: the model's own")
    train.add_argument("--regularization", type=float, default=None,
                       help="default: the model's own")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="any other parameter of the model class, e.g. alpha=2.0, "
                            "learning_rate=0.01, item_features=genres or early_stopping=2 "
                            "(stop when the validation metric has not improved for 2 "
                            "iterations) (repeatable)")
    for side in ("user", "item"):
        train.add_argument(f"--{side}-features", metavar="FILE.csv", default=None,
                           help=f"side features of the {side}s (als, implicit-als, bpr): a CSV "
                                f"file with a header line, the {side} id in the first "
                                f"column and an attribute per other column; a column of "
                                f"numbers >= 0 is one weighted feature, any other column "
                                f"one feature per value (several values separated by |). "
                                f"New {side}s can then be placed from their features alone")
    train.add_argument("--seed", type=int, default=0,
                       help="seed of the splits and of the model (default 0)")
    train.add_argument("--threads", type=int, default=0, help="0 = all cores (default)")
    train.add_argument("--test-size", type=float, default=0.2, metavar="FRACTION",
                       help="share of the ratings held out as the test part, scored once "
                            "after the fit (default 0.2; 0: no test part, everything is "
                            "trained on)")
    train.add_argument("--validation", type=float, default=0.2, metavar="FRACTION",
                       help="share of each user's training ratings scored after every "
                            "iteration, carved out only for early stopping or --plot "
                            "(default 0.2; 0: none, and --plot draws the training curve only)")
    train.add_argument("--test-output", metavar="FILE.csv", default=None,
                       help="write the test part to this CSV file, with a header line "
                            "(user,item,rating[,timestamp]), for fastmf evaluate")
    train.add_argument("--plot", metavar="CURVE.png", default=None,
                       help="draw the learning curve into this image (needs matplotlib): the "
                            "training and validation metric per iteration of the fit that "
                            "leaves the validation part out")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_cluster_options(train)
    train.set_defaults(run=_train)


def _add_cluster_options(train: argparse.ArgumentParser) -> None:
    cluster = train.add_argument_group(
        "training on a Dask cluster (als and implicit-als; pip install \"fastmf-recsys[dask]\")",
        "DATA is read here and cut into blocks for the workers; the model equals the one "
        "trained on this machine, and the parts are the same. --threads is then per task "
        "(0: the worker's threads).")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="the scheduler of a running cluster, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--dask-workers", type=int, default=None, metavar="N",
                       help="start a local cluster of N worker processes for this run")


# -- train --------------------------------------------------------------------------------
def _read_features(args: argparse.Namespace) -> dict[str, Any]:
    """The tables of --user-features and --item-features by parameter name, read before the
    data so that a bad file fails first."""
    tables: dict[str, Any] = {}
    for side, cls in (("user", UserFeatures), ("item", ItemFeatures)):
        path = getattr(args, f"{side}_features")
        if path is not None:
            tables[f"{side}_features"] = cls.from_csv(path, value_sep="|")
    return tables



def _train(args: argparse.Namespace, out: TextIO) -> int:
    cls, model = checked_options(args)
    cluster = _dask_options(cls, args)
    _check_outputs(args, model)
    features = _read_features(args)
    data = read_data(args.data, args)
    train, test = held_out(data, args)
    cls, model, chosen = chosen_model(args, data, cls, model)
    _attach_features(model, features)
    _check_validation(args, model)
    split = split_line(train, test)
    print(f"data: {data.n_users} users, {data.n_items} items, {data.nnz} ratings "
          f"({args.data}){split}", file=out)
    if chosen:
        print(chosen, file=out)
    with (cluster() if cluster is not None else contextlib.nullcontext()) as client:
        if client is not None:
            print(f"training on the Dask cluster at "
                  f"{client.scheduler.address} "  # type: ignore[union-attr]  # connected
                  f"({len(client.scheduler_info()['workers'])} workers)", file=out)
        probe = _validation_fit(model, train, args, client)
        if probe is not None:
            print(probe.report, file=out)
            model = probe.final
        started = time.perf_counter()
        model = _fit(model, train, client)
    trained_on = (f"the whole training part ({train.nnz} ratings)" if test is not None
                  else f"all of DATA ({train.nnz} ratings)")
    stopped = ", as early stopping chose," if probe is not None and probe.chosen else ""
    steps = cls._iterations_param if model.n_iter_ != 1 else cls._iterations_param[:-1]
    print(f"{model!r}: {model.n_iter_} {steps}{stopped} on {trained_on} in "
          f"{time.perf_counter() - started:.1f} s", file=out)
    print(_final_metrics(model, train, test, f"test ({args.test_size * 100:g}% of DATA, never "
                                             f"seen while fitting)"), file=out)
    print(f"model saved to {model.save(args.output)}", file=out)
    if args.test_output:
        _write_ratings(test, args.test_output)  # type: ignore[arg-type]  # checked above
        print(f"test part saved to {args.test_output}", file=out)
    if args.plot:
        _save_learning_curve(model if probe is None else probe, args.plot)
        print(f"learning curve saved to {args.plot}", file=out)
    return 0


def _check_outputs(args: argparse.Namespace, model: AnyModel | None) -> None:
    """The options checked before any data is read: the test part, validation, and the
    files to write."""
    check_test_size(args)
    _check_validation(args, model)
    if args.test_output and args.test_size == 0:
        raise ValueError("--test-output needs a test part: give --test-size above 0")
    for option in ("output", "test_output", "plot"):
        if getattr(args, option):
            _check_writable(f"--{option.replace('_', '-')}", getattr(args, option))
    if args.plot:
        _check_image_format(args.plot)


def _attach_features(model: AnyModel, features: dict[str, Any]) -> None:
    """--user-features and --item-features on a model that takes side features."""
    for name, table in features.items():
        if name not in model.get_params():
            raise ValueError(f"--{name.replace('_', '-')} needs a model with side features "
                             f"(als, implicit-als, bpr), got {type(model).__name__}")
        model.set_params(**{name: table})


def check_test_size(args: argparse.Namespace) -> None:
    if not 0 <= args.test_size < 1:
        raise ValueError(f"--test-size must be at least 0 and below 1, got {args.test_size}")


def _check_validation(args: argparse.Namespace, model: AnyModel | None) -> None:
    if not 0 <= args.validation < 1:
        raise ValueError(f"--validation must be at least 0 and below 1, got {args.validation}")
    if model is not None and model.early_stopping is not None and args.validation == 0:
        raise ValueError(f"--param early_stopping={model.early_stopping} watches a validation "
                         f"part, and --validation 0 carves none; give --validation above 0 "
                         f"(default 0.2) or leave early_stopping out")


def held_out(data: Interactions, args: argparse.Namespace
             ) -> tuple[Interactions, Interactions | None]:
    """(train, test) of DATA by --test-size and --seed; test is None for --test-size 0.
    What the split dropped is said by ``split_line``, not by a warning."""
    from ..model_selection._split import split_parts
    if args.test_size == 0:
        return data, None
    return split_parts(data, args.test_size, args.seed, "random")


def split_line(train: Interactions, test: Interactions | None, trained: str = "train") -> str:
    """The split's part of the "data:" line: the sizes, and the test ratings dropped
    because their user or item has no rating left in the training part."""
    if test is None:
        return ""
    dropped = (f" ({test.n_unseen} more test ratings dropped: their user or item has no "
               f"rating left in the training part)" if test.n_unseen else "")
    return f"; {trained} {train.nnz}, test {test.nnz}{dropped}"


def _fit(model: AnyModel, data: Interactions, client: Client | None,
         validation: Interactions | None = None) -> AnyModel:
    """``model`` fitted on ``data``, on the Dask cluster of ``client`` when there is one."""
    if client is None:
        return model.fit(data, validation=validation)
    return _on_cluster(model, client).fit(data, validation=validation).to_local()


def _validation_fit(model: AnyModel, train: Interactions, args: argparse.Namespace,
                    client: Client | None) -> types.SimpleNamespace | None:
    """None when nothing needs a score per iteration; else the fit that leaves the
    validation part out: its ``history`` and ``report`` line, and the ``final`` model to
    fit on the whole training part (early stopping's choice of iterations)."""
    if args.validation == 0 or (model.early_stopping is None and not args.plot):
        return None
    from ..model_selection._tune import _validation_split      # as tune carves its own
    try:
        rest, val = _validation_split(train, args.validation, args.seed)
    except ValueError as error:
        raise ValueError(f"--validation {args.validation:g}: {error}") from None
    probe = _fit(type(model)(**model.get_params()), rest, client, validation=val)
    key, history = model._monitor, probe.history_
    sign = 1.0 if model._monitor_mode == "min" else -1.0
    scored = [row for row in history if math.isfinite(row.get(key, math.nan))]
    best = min(scored, key=lambda row: sign * row[key]) if scored else history[-1]
    label = key.removeprefix("val_").upper()
    part = (f"validation ({args.validation * 100:g}% of each user's training ratings, "
            f"{val.nnz} ratings)")
    final, steps = model, model._iterations_param
    if model.early_stopping is not None:
        final = type(model)(**{**model.get_params(), steps: best["iteration"],
                               "early_stopping": None})
        report = (f"{part}: best {label} {best.get(key, math.nan):.4f} at {steps[:-1]} "
                  f"{best['iteration']} of {len(history)} (early stopping, patience "
                  f"{model.early_stopping})")
    else:
        report = (f"{part}, for --plot: {label} {history[-1].get(key, math.nan):.4f} at the "
                  f"last {steps[:-1]} ({len(history)}), best {best.get(key, math.nan):.4f} at "
                  f"{steps[:-1]} {best['iteration']}")
    return types.SimpleNamespace(history=history, report=report, final=final,
                                 chosen=best["iteration"] if final is not model else None,
                                 title=f"{type(model).__name__} on the training part less "
                                       f"validation")


def _dask_options(cls: type[AnyModel] | None, args: argparse.Namespace
                  ) -> Callable[[], AbstractContextManager[Client]] | None:
    """None, or a context manager giving the Client of --scheduler or --dask-workers."""
    if args.scheduler is None and args.dask_workers is None:
        return None
    if cls not in (None, ALS, ImplicitALS):           # None: auto picks one of the two
        raise ValueError(f"--scheduler and --dask-workers train als and implicit-als; "
                         f"{cls.__name__} trains on one machine only")
    if args.dask_workers is not None and args.dask_workers < 1:
        raise ValueError(f"--dask-workers must be at least 1, got {args.dask_workers}")
    try:
        import fastmf.distributed  # noqa: F401
    except ImportError as err:
        raise ImportError(f"{err}; or train without --scheduler and --dask-workers") from None
    from distributed import Client, LocalCluster

    @contextlib.contextmanager
    def connect() -> Iterator[Client]:
        if args.scheduler is not None:
            with Client(args.scheduler) as client:
                yield client
            return
        threads = max(1, (os.cpu_count() or 1) // args.dask_workers)
        with LocalCluster(n_workers=args.dask_workers, threads_per_worker=threads,
                          dashboard_address=":0") as local, Client(local) as client:
            yield client
    return connect


def _on_cluster(model: AnyModel, client: Client) -> Any:
    """The distributed twin of a one-machine model, with its parameters."""
    import fastmf.distributed
    return getattr(fastmf.distributed, type(model).__name__)(**model.get_params(), client=client)


def _check_writable(option: str, path: str) -> None:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{option} {str(path)!r} is a directory; give a file name")
    if not path.resolve().parent.is_dir():
        raise FileNotFoundError(f"{option} {str(path)!r}: the directory {str(path.parent)!r} "
                                f"does not exist; create it first")


def _check_image_format(path: str) -> None:
    formats = require("matplotlib.figure", "--plot").Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in formats:
        raise ValueError(f"--plot {path!r}: unknown image format {suffix!r}; end the name in "
                         f"one of {', '.join('.' + f for f in sorted(formats))}")


def _final_metrics(model: AnyModel, train: Interactions, test: Interactions | None, part: str
                   ) -> str:
    """The closing line of metrics: on the test part (called ``part``), or with none on the
    training ratings, which says so."""
    from .. import metrics
    if test is None:
        none = "test: none (--test-size 0: every rating was trained on)"
        if not is_explicit(model):
            return f"{none}\ntrain: final loss {model.history_[-1]['loss']:.6g}"
        predicted = model.predict(train.users, train.items)
        return (f"{none}\ntrain (seen while fitting, so optimistic): "
                f"RMSE {metrics.rmse(train.ratings, predicted):.4f}, "
                f"MAE {metrics.mae(train.ratings, predicted):.4f} ({train.nnz} ratings)")
    if is_explicit(model):
        predicted = model.predict(test.users, test.items)
        return (f"{part}: RMSE {metrics.rmse(test.ratings, predicted):.4f}, "
                f"MAE {metrics.mae(test.ratings, predicted):.4f} ({test.nnz} ratings)")
    scores = metrics.evaluate(model, test, train=train, k=10, metrics=("precision", "ndcg"))
    return (f"{part}: precision@10 {scores['precision@10']:.4f}, NDCG@10 "
            f"{scores['ndcg@10']:.4f} ({scores['users']} users)")


HEADER = ("user", "item", "rating", "timestamp")       # the first line --test-output writes


def _write_ratings(data: Interactions, path: str) -> None:
    """DATA's ratings as CSV, after a header line that fastmf evaluate recognizes."""
    columns = [data.users.tolist(), data.items.tolist(), map(_number, data.ratings.tolist())]
    if data.timestamps is not None:
        columns.append(map(_number, data.timestamps.tolist()))
    with replacing(Path(path)) as temporary, \
            open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER[:len(columns)])
        writer.writerows(zip(*columns))


def _number(x: float) -> str:
    """The shortest text that reads back as ``x``: 4 for 4.0, 3.25, 0.1."""
    text = f"{x:g}"
    return text if float(text) == x else repr(x)


def _save_learning_curve(model_or_fit: Any, path: str) -> None:
    """The curve of the fit that left the validation part out (with the iterations early
    stopping chose), or of the saved model when none was carved."""
    from matplotlib.figure import Figure     # no pyplot: no GUI backend, no global state

    from .. import plotting
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    if hasattr(model_or_fit, "history"):
        ax = plotting.learning_curve(model_or_fit.history, ax=figure.subplots(),
                                     labels=[model_or_fit.title])
        if model_or_fit.chosen is not None:
            ax.axvline(model_or_fit.chosen, color="0.5", linestyle=":",
                       label=f"early stopping's choice: {model_or_fit.chosen}")
            ax.legend()
    else:
        plotting.learning_curve(model_or_fit, ax=figure.subplots())
    figure.savefig(path, dpi=120)
