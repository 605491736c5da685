"""fastmf train (fit a model on DATA and save it) and fastmf evaluate (score a saved one)."""
import ast
import contextlib
import csv
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from .. import ALS, ImplicitALS
from .._optional import require
from ..metrics import METRICS as RANKING_METRICS
from ..metrics._accuracy import RATING_METRICS
from ._data import DATA_HELP, read_data
from ._models import MODELS, implicit_names, is_explicit



def add_train(commands, data_options):
    train = commands.add_parser(
        "train", parents=[data_options], help="train a model on DATA and save it",
        description="Train a model on DATA, print its metrics on a held-out part and save "
                    "it to one .npz file (read by the other commands and fastmf.load). "
                    f"The implicit-feedback models ({', '.join(implicit_names())}) take "
                    "rating values as counts (ImplicitALS: confidence 1 + alpha * value); "
                    "--min-rating 4 turns the ratings >= 4 into positives of value 1 instead.")
    train.add_argument("data", metavar="DATA", help=DATA_HELP)
    train.add_argument("--model", choices=tuple(MODELS), default="als",
                       help="default: als")
    train.add_argument("--output", "-o", required=True, metavar="MODEL.npz",
                       help="the model file to write")
    train.add_argument("--factors", type=int, default=None, help="default: the model's own")
    train.add_argument("--iterations", type=int, default=None,
                       help="iterations (ALS) or epochs (SGD, BPR); default: the model's own")
    train.add_argument("--regularization", type=float, default=None,
                       help="default: the model's own")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="any other parameter of the model class, e.g. alpha=2.0, "
                            "learning_rate=0.01 or item_features=genres (repeatable)")
    train.add_argument("--seed", type=int, default=0,
                       help="seed of the split and of the model (default 0)")
    train.add_argument("--threads", type=int, default=0, help="0 = all cores (default)")
    train.add_argument("--test-size", type=float, default=0.2, metavar="FRACTION",
                       help="share of the ratings held out for the metrics (default 0.2; "
                            "0 trains on everything)")
    train.add_argument("--test-output", metavar="FILE.csv", default=None,
                       help="write the held-out ratings to this CSV file "
                            "(user,item,rating rows), for fastmf evaluate")
    train.add_argument("--plot", metavar="CURVE.png", default=None,
                       help="draw the learning curve into this image (needs matplotlib)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    cluster = train.add_argument_group(
        "training on a Dask cluster (als and implicit-als; pip install \"fastmf-recsys[dask]\")",
        "DATA is read here and cut into blocks for the workers; the model equals the one "
        "trained on this machine. --threads is then per task (0: the worker's threads).")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="the scheduler of a running cluster, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--dask-workers", type=int, default=None, metavar="N",
                       help="start a local cluster of N worker processes for this run")
    train.set_defaults(run=_train)


def add_evaluate(commands, data_options):
    evaluate = commands.add_parser(
        "evaluate", parents=[data_options], help="score a saved model on DATA",
        description="Print the metrics of a saved model on DATA. Rating metrics compare "
                    "predictions with every rating of DATA (unknown users and items get "
                    "the model's fallback prediction). Ranking metrics take the items of "
                    "each user in DATA as relevant and never rank the user's training "
                    "items, which the model file records (or those of --train).")
    evaluate.add_argument("model_file", metavar="MODEL.npz")
    evaluate.add_argument("data", metavar="DATA", help=DATA_HELP)
    evaluate.add_argument("--metrics", default=None, metavar="NAMES",
                          help="comma-separated among rmse, mae, precision, recall, ndcg, "
                               "map, auc, coverage (default: rmse,mae for ALS and SGD, "
                               "precision,recall,ndcg,map,auc for implicit models)")
    evaluate.add_argument("--k", type=int, default=10, help="cut-off of the ranking metrics")
    evaluate.add_argument("--train", metavar="DATA", default=None,
                          help="training data (read with the same options as DATA) whose "
                               "items are left out of each user's ranking; default: the "
                               "training items recorded in the model file")
    evaluate.add_argument("--format", choices=("table", "json"), default="table")
    evaluate.set_defaults(run=_evaluate)


# -- train --------------------------------------------------------------------------------
def _train(args, out):
    cls, model = checked_model(args)
    cluster = _dask_options(cls, args)
    check_test_size(args)
    if args.test_output and args.test_size == 0:
        raise ValueError("--test-output needs a held-out part: give --test-size above 0")
    for option in ("output", "test_output", "plot"):
        if getattr(args, option):
            _check_writable(f"--{option.replace('_', '-')}", getattr(args, option))
    if args.plot:
        _check_image_format(args.plot)
    data = read_data(args.data, args)
    train, test = held_out(data, args)
    split = f"; train {train.nnz}, test {test.nnz}" if test is not None else ""
    print(f"data: {data.n_users} users, {data.n_items} items, {data.nnz} ratings "
          f"({args.data}){split}", file=out)
    if cluster is not None:
        with cluster() as client:
            model = _on_cluster(model, client)
            print(f"training on the Dask cluster at {client.scheduler.address} "
                  f"({len(client.scheduler_info()['workers'])} workers)", file=out)
            started = time.perf_counter()
            model.fit(train, validation=test)
            model = model.to_local()
    else:
        started = time.perf_counter()
        model.fit(train, validation=test)
    print(f"{model!r}: {model.n_iter_} {cls._iterations_param} in "
          f"{time.perf_counter() - started:.1f} s", file=out)
    print(_final_metrics(model, train, test), file=out)
    print(f"model saved to {model.save(args.output)}", file=out)
    if args.test_output:
        _write_ratings(test, args.test_output)
        print(f"held-out ratings saved to {args.test_output}", file=out)
    if args.plot:
        _save_learning_curve(model, args.plot)
        print(f"learning curve saved to {args.plot}", file=out)
    return 0


def checked_model(args):
    """(class, model) of --model and the parameter options, checked before any data is
    read."""
    cls = MODELS[args.model]
    if args.min_rating is not None and is_explicit(cls):
        raise ValueError(f"--min-rating makes implicit feedback, which {cls.__name__} does not "
                         f"fit; use --model {' or '.join(implicit_names())}")
    model = cls(**_model_params(cls, args))
    model._check_params()                  # a bad parameter fails before the data is read
    return cls, model


def check_test_size(args):
    if not 0 <= args.test_size < 1:
        raise ValueError(f"--test-size must be at least 0 and below 1, got {args.test_size}")


def held_out(data, args):
    """(train, test) of DATA by --test-size and --seed; test is None for --test-size 0."""
    from .. import train_test_split
    if args.test_size == 0:
        return data, None
    return train_test_split(data, test_size=args.test_size, seed=args.seed)


def _dask_options(cls, args):
    """None, or a context manager giving the Client of --scheduler or --dask-workers."""
    if args.scheduler is None and args.dask_workers is None:
        return None
    if cls not in (ALS, ImplicitALS):
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
    def connect():
        if args.scheduler is not None:
            with Client(args.scheduler) as client:
                yield client
            return
        threads = max(1, (os.cpu_count() or 1) // args.dask_workers)
        with LocalCluster(n_workers=args.dask_workers, threads_per_worker=threads,
                          dashboard_address=":0") as local, Client(local) as client:
            yield client
    return connect


def _on_cluster(model, client):
    """The distributed twin of a one-machine model, with its parameters."""
    import fastmf.distributed
    return getattr(fastmf.distributed, type(model).__name__)(**model.get_params(), client=client)


def _model_params(cls, args):
    params = {"num_threads": args.threads, "seed": args.seed, "verbose": not args.quiet}
    given = {"factors": args.factors, cls._iterations_param: args.iterations,
             "regularization": args.regularization}
    params.update({name: value for name, value in given.items() if value is not None})
    names = cls._param_names()
    for text in args.param:
        name, equals, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name:
            raise ValueError(f"--param must be NAME=VALUE, got {text!r}")
        if name not in names:
            raise ValueError(f"--param {name}: {cls.__name__} has no parameter {name!r}; its "
                             f"parameters are {', '.join(names)}")
        try:
            params[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[name] = value.strip()       # a word such as genres or cg
    return params


def _check_writable(option, path):
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{option} {str(path)!r} is a directory; give a file name")
    if not path.resolve().parent.is_dir():
        raise FileNotFoundError(f"{option} {str(path)!r}: the directory {str(path.parent)!r} "
                                f"does not exist; create it first")


def _check_image_format(path):
    formats = require("matplotlib.figure", "--plot").Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in formats:
        raise ValueError(f"--plot {path!r}: unknown image format {suffix!r}; end the name in "
                         f"one of {', '.join('.' + f for f in sorted(formats))}")


def _final_metrics(model, train, test):
    from .. import metrics
    if is_explicit(model):
        data, part = (train, "train") if test is None else (test, "test")
        predicted = model.predict(data.users, data.items)
        return (f"{part}: RMSE {metrics.rmse(data.ratings, predicted):.4f}, "
                f"MAE {metrics.mae(data.ratings, predicted):.4f} ({data.nnz} ratings)")
    if test is None:
        return f"final loss {model.history_[-1]['loss']:.6g} (no held-out part: --test-size 0)"
    scores = metrics.evaluate(model, test, train=train, k=10, metrics=("precision", "ndcg"))
    return (f"test: precision@10 {scores['precision@10']:.4f}, NDCG@10 {scores['ndcg@10']:.4f} "
            f"({scores['users']} users)")


def _write_ratings(data, path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for user, item, rating in zip(data.users.tolist(), data.items.tolist(),
                                      data.ratings.tolist()):
            writer.writerow((user, item, f"{rating:g}"))


def _save_learning_curve(model, path):
    from matplotlib.figure import Figure     # no pyplot: no GUI backend, no global state

    from .. import plotting
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    plotting.learning_curve(model, ax=figure.subplots())
    figure.savefig(path, dpi=120)


# -- evaluate -----------------------------------------------------------------------------
def _evaluate(args, out):
    from .. import load, metrics
    model = load(args.model_file)
    names = _metric_names(args.metrics, is_explicit(model))
    accuracy = [name for name in names if name in RATING_METRICS]
    ranking = [name for name in names if name in RANKING_METRICS]
    if accuracy and not is_explicit(model):
        raise ValueError(f"{accuracy[0]} compares predicted ratings, which {type(model).__name__} "
                         f"does not make; use ranking metrics ({', '.join(RANKING_METRICS)})")
    if accuracy and args.min_rating is not None:
        raise ValueError(f"--min-rating replaces ratings by 1, so {accuracy[0]} cannot be "
                         f"computed; leave it out or ask for ranking metrics only")
    data = read_data(args.data, args)
    results = {}
    if accuracy:
        predicted = model.predict(data.users, data.items)
        for name in accuracy:
            results[name] = getattr(metrics, name)(data.ratings, predicted)
        known = ((model.user_ids_.index(data.user_ids.ids)[data.uidx] >= 0)
                 & (model.item_ids_.index(data.item_ids.ids)[data.iidx] >= 0))
        results["ratings"], results["ratings_unknown"] = data.nnz, int((~known).sum())
    if ranking:
        train = read_data(args.train, args) if args.train else _training_items(model)
        results.update(metrics.evaluate(model, data, train=train, k=args.k, metrics=ranking))
    if args.format == "json":
        nan_as_null = {name: None if isinstance(value, float) and math.isnan(value) else value
                       for name, value in results.items()}
        print(json.dumps(nan_as_null, indent=2), file=out)
    else:
        width = max(map(len, results))
        for name, value in results.items():
            print(f"{name:<{width}}  {value:.4f}" if isinstance(value, float)
                  else f"{name:<{width}}  {value}", file=out)
    return 0


def _metric_names(text, explicit):
    if text is None:
        return RATING_METRICS if explicit else RANKING_METRICS[:-1]
    names = list(dict.fromkeys(name.strip().lower() for name in text.split(",") if name.strip()))
    known = RATING_METRICS + RANKING_METRICS
    for name in names or [""]:
        if name not in known:
            raise ValueError(f"unknown metric {name!r} in --metrics; choose among "
                             f"{', '.join(known)}")
    return names


def _training_items(model):
    """The model's record of each user's training items, as Interactions (or None)."""
    from ..data import Csr, Interactions
    seen = getattr(model, "_seen", None)
    if seen is None:
        return None
    indptr, indices = seen
    shape = (len(model.user_ids_), len(model.item_ids_))
    return Interactions(model.user_ids_, model.item_ids_,
                        Csr(indptr, indices, np.ones(len(indices)), shape))


