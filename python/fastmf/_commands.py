"""The commands behind ``fastmf`` (see :mod:`fastmf.cli`): reading data and ids,
training, evaluating, recommending, the demo, and printing their results."""
import ast
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from . import ALS, BPR, SGD, ImplicitALS
from .exceptions import UnknownIdError

# Model names of --model; a new model class is one more entry.
MODELS = {"als": ALS, "sgd": SGD, "implicit-als": ImplicitALS, "bpr": BPR}
ACCURACY_METRICS = ("rmse", "mae")
RANKING_METRICS = ("precision", "recall", "ndcg", "map", "auc", "coverage")
_SYNTHETIC_SHAPE = (943, 1682, 100_000)      # users, items, ratings of MovieLens 100K
_DATA_HELP = ("a CSV or TSV file of user, item[, rating[, timestamp]] rows, "
              "'movielens:100k' (or 1m, latest-small, 25m, 32m; read from FASTMF_DATA or "
              "downloaded once) or 'synthetic[:N]' (N MovieLens-like ratings, offline)")


def _read_data(spec, args):
    """Interactions of a DATA argument, with --min-rating applied."""
    from . import Interactions, datasets
    if spec == "synthetic" or spec.startswith("synthetic:"):
        data = _synthetic(spec)
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


def _synthetic(spec):
    """make_ratings data: MovieLens 100K's shape, or N ratings at its density."""
    from .datasets import make_ratings
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


def _model_ids(texts, id_map, what):
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


def _read_ids(path):
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


def _implicit_names():
    return [name for name, cls in MODELS.items() if not _is_explicit(cls)]


def _is_explicit(model_or_class):
    from .models._explicit import BiasedMF
    cls = model_or_class if isinstance(model_or_class, type) else type(model_or_class)
    return issubclass(cls, BiasedMF)


# -- train --------------------------------------------------------------------------------
def _train(args, out):
    from . import train_test_split
    cls = MODELS[args.model]
    if args.min_rating is not None and _is_explicit(cls):
        raise ValueError(f"--min-rating makes implicit feedback, which {cls.__name__} does not "
                         f"fit; use --model {' or '.join(_implicit_names())}")
    model = cls(**_model_params(cls, args))
    model._check_params()                  # a bad parameter fails before the data is read
    cluster = _dask_options(cls, args)
    if not 0 <= args.test_size < 1:
        raise ValueError(f"--test-size must be at least 0 and below 1, got {args.test_size}")
    if args.test_output and args.test_size == 0:
        raise ValueError("--test-output needs a held-out part: give --test-size above 0")
    for option in ("output", "test_output", "plot"):
        if getattr(args, option):
            _check_writable(f"--{option.replace('_', '-')}", getattr(args, option))
    if args.plot:
        _check_image_format(args.plot)
    data = _read_data(args.data, args)
    train, test = (train_test_split(data, test_size=args.test_size, seed=args.seed)
                   if args.test_size > 0 else (data, None))
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
    import contextlib
    import os

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
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('--plot needs matplotlib, which is not installed; install it with '
                          'pip install "fastmf[plot]"') from None
    formats = Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in formats:
        raise ValueError(f"--plot {path!r}: unknown image format {suffix!r}; end the name in "
                         f"one of {', '.join('.' + f for f in sorted(formats))}")


def _final_metrics(model, train, test):
    from . import metrics
    if _is_explicit(model):
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

    from . import plotting
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    plotting.learning_curve(model, ax=figure.subplots())
    figure.savefig(path, dpi=120)


# -- evaluate -----------------------------------------------------------------------------
def _evaluate(args, out):
    from . import load, metrics
    model = load(args.model_file)
    names = _metric_names(args.metrics, _is_explicit(model))
    accuracy = [name for name in names if name in ACCURACY_METRICS]
    ranking = [name for name in names if name in RANKING_METRICS]
    if accuracy and not _is_explicit(model):
        raise ValueError(f"{accuracy[0]} compares predicted ratings, which {type(model).__name__} "
                         f"does not make; use ranking metrics ({', '.join(RANKING_METRICS)})")
    if accuracy and args.min_rating is not None:
        raise ValueError(f"--min-rating replaces ratings by 1, so {accuracy[0]} cannot be "
                         f"computed; leave it out or ask for ranking metrics only")
    data = _read_data(args.data, args)
    results = {}
    if accuracy:
        predicted = model.predict(data.users, data.items)
        for name in accuracy:
            results[name] = getattr(metrics, name)(data.ratings, predicted)
        known = ((model.user_ids_.index(data.user_ids.ids)[data.uidx] >= 0)
                 & (model.item_ids_.index(data.item_ids.ids)[data.iidx] >= 0))
        results["ratings"], results["ratings_unknown"] = data.nnz, int((~known).sum())
    if ranking:
        train = _read_data(args.train, args) if args.train else _training_items(model)
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
        return ACCURACY_METRICS if explicit else RANKING_METRICS[:-1]
    names = list(dict.fromkeys(name.strip().lower() for name in text.split(",") if name.strip()))
    known = ACCURACY_METRICS + RANKING_METRICS
    for name in names or [""]:
        if name not in known:
            raise ValueError(f"unknown metric {name!r} in --metrics; choose among "
                             f"{', '.join(known)}")
    return names


def _training_items(model):
    """The model's record of each user's training items, as Interactions (or None)."""
    from .data import Csr, Interactions
    seen = getattr(model, "_seen", None)
    if seen is None:
        return None
    indptr, indices = seen
    shape = (len(model.user_ids_), len(model.item_ids_))
    return Interactions(model.user_ids_, model.item_ids_,
                        Csr(indptr, indices, np.ones(len(indices)), shape))


# -- recommend and similar ----------------------------------------------------------------
def _recommend(args, out):
    from . import load
    texts = list(args.user) + (_read_ids(args.users_file) if args.users_file else [])
    if not texts:
        raise ValueError("name the users: --user ID (repeatable) or --users-file FILE")
    _check_n(args.n)
    model = load(args.model_file)
    users = _model_ids(texts, model.user_ids_, "user")
    items, scores = model.recommend_batch(users, n=args.n, filter_seen=not args.include_seen)
    titles = _titles(model, items)
    rows = []
    for r, user in enumerate(users.tolist()):
        for place in np.flatnonzero(np.isfinite(scores[r])):      # -inf: padding
            row = {"user": user, "rank": int(place) + 1, "item": items[r, place].item(),
                   "score": _number(scores[r, place])}
            if titles is not None:
                row["title"] = str(titles[r, place])
            rows.append(row)
    columns = ["user", "rank", "item", "score"] + (["title"] if titles is not None else [])
    _print_rows(columns, rows, args.format, out)
    return 0


def _similar(args, out):
    from . import load
    _check_n(args.n)
    model = load(args.model_file)
    rows = []
    for item in _model_ids(args.item, model.item_ids_, "item"):
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


def _check_n(n):
    if n < 1:
        raise ValueError(f"-n must be at least 1, got {n}")


def _titles(model, items):
    info = getattr(model, "item_info_", None)
    return None if info is None else info.title(items)


def _number(value):
    """A float with the digits its own dtype holds (float32 scores print as 4.873214)."""
    return float(np.format_float_positional(value, unique=True, trim="0"))


def _print_rows(columns, rows, fmt, out):
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


# -- demo ---------------------------------------------------------------------------------
def _load(spec):
    from . import datasets
    if spec == "synthetic":
        return datasets.make_ratings(943, 1682, 100_000, seed=0)
    if spec.startswith("movielens:"):
        return datasets.load_movielens(spec.split(":", 1)[1])
    raise ValueError(f"unknown data set {spec!r}; use 'synthetic' or 'movielens:100k'")


def _demo(args, out):
    from . import metrics, train_test_split
    data = _load(args.data)
    if args.model in ("implicit-als", "bpr"):
        return _demo_implicit(args, data, out)
    train, test = train_test_split(data, test_size=0.2, seed=args.seed)
    print(f"data: {data.n_users} users, {data.n_items} items, {data.nnz} ratings "
          f"({args.data}); train {train.nnz}, test {test.nnz}", file=out)
    common = dict(factors=args.factors, num_threads=args.threads, seed=args.seed,
                  verbose=not args.quiet)
    if args.model == "als":
        model = ALS(**common, **({} if args.iterations is None else {"iterations": args.iterations}))
    else:
        model = SGD(**common, **({} if args.iterations is None else {"epochs": args.iterations}))
    model.fit(train, validation=test)
    print(f"\n{model!r}", file=out)
    print(f"{'iter':>4} {'loss':>12} {'train RMSE':>10} {'test RMSE':>10} {'seconds':>8}", file=out)
    for h in model.history_:
        print(f"{h['iteration']:>4} {h['loss']:>12.1f} {h['train_rmse']:>10.4f} "
              f"{h['val_rmse']:>10.4f} {h['seconds']:>8.3f}", file=out)
    rmse = metrics.rmse(test.ratings, model.predict(test.users, test.items))
    print(f"\ntest RMSE: {rmse:.4f}", file=out)
    _show_recommendations(model, data, train, out)
    return 0


def _demo_implicit(args, data, out):
    from . import Interactions, metrics, train_test_split
    users, items, ratings = data.to_arrays()
    liked = Interactions.from_arrays(users[ratings >= 4], items[ratings >= 4],
                                     item_info=data.item_info)
    train, test = train_test_split(liked, test_size=0.2, seed=args.seed)
    print(f"data: {liked.nnz} ratings >= 4 of {liked.n_users} users on {liked.n_items} items "
          f"({args.data}) as implicit feedback; train {train.nnz}, test {test.nnz}", file=out)
    model_class = MODELS[args.model]
    model = model_class(factors=args.factors, num_threads=args.threads, seed=args.seed,
                        verbose=not args.quiet,
                        **({} if args.iterations is None else
                           {model_class._iterations_param: args.iterations}))
    model.fit(train, validation=test)
    print(f"\n{model!r}", file=out)
    extra = "train_auc" if model_class is BPR else None       # BPR's sampled pairs in order
    print(f"{'iter':>4} {'loss':>14}" + (f" {'train AUC':>9}" if extra else "")
          + f" {'precision@10':>12} {'NDCG@10':>8} {'seconds':>8}", file=out)
    for h in model.history_:
        loss = f"{h['loss']:>14.4f}" if extra else f"{h['loss']:>14.1f}"
        print(f"{h['iteration']:>4} {loss}" + (f" {h[extra]:>9.4f}" if extra else "")
              + f" {h['val_precision@10']:>12.4f} {h['val_ndcg@10']:>8.4f} {h['seconds']:>8.3f}",
              file=out)
    scores = metrics.evaluate(model, test, train=train, k=10)
    print("\ntest: " + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()
                                 if isinstance(value, float)), file=out)
    _show_recommendations(model, data, train, out)
    return 0


def _show_recommendations(model, data, train, out):
    for user in train.user_ids.ids[:2]:
        items, scores = model.recommend(user, n=5)
        print(f"\ntop 5 for user {user}:", file=out)
        titles = data.item_info.title(items) if data.item_info is not None else items
        for title, score in zip(titles, scores):
            print(f"  {score:5.2f}  {title}", file=out)
