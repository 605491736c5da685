"""fastmf demo: a model trained on a built-in data set, its learning curve and picks."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import ALS, BPR, SGD
from ._data import synthetic
from ._models import MODELS

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from .._typing import AnyModel
    from ..data import Interactions


def add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="train a model on a built-in data set and show what it learned (offline)",
        description="Train a model (ALS by default) on a built-in data set (synthetic "
                    "ratings shaped like MovieLens 100K, offline) and print the test RMSE, "
                    "the learning curve and top-5 recommendations for two users.")
    demo.add_argument("--model", choices=tuple(MODELS), default="als",
                      help="als: alternating least squares; sgd: Hogwild SGD (Funk SVD); "
                           "implicit-als, bpr: ratings >= 4 as implicit feedback, ranked by "
                           "implicit ALS or by Bayesian personalized ranking")
    demo.add_argument("--data", default="synthetic",
                      help="'synthetic' (default, offline) or 'movielens:100k' (read from "
                           "FASTMF_DATA or downloaded once)")
    demo.add_argument("--factors", type=int, default=64)
    demo.add_argument("--iterations", type=int, default=None,
                      help="iterations (ALS) or epochs (SGD, BPR); default: the model's own")
    demo.add_argument("--threads", type=int, default=0, help="0 = all cores")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo)


def _load(spec: str) -> Interactions:
    from .. import datasets
    if spec == "synthetic":
        return synthetic(spec)
    if spec.startswith("movielens:"):
        # load_movielens checks the name: an unknown release is a ValueError
        return datasets.load_movielens(spec.split(":", 1)[1])  # type: ignore[arg-type]
    raise ValueError(f"unknown data set {spec!r}; use 'synthetic' or 'movielens:100k'")


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from .. import metrics, train_test_split
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


def _demo_implicit(args: argparse.Namespace, data: Interactions, out: TextIO) -> int:
    from .. import Interactions, metrics, train_test_split
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


def _show_recommendations(model: AnyModel, data: Interactions, train: Interactions,
                          out: TextIO) -> None:
    for user in train.user_ids.ids[:2]:
        items, scores = model.recommend(user, n=5)
        print(f"\ntop 5 for user {user}:", file=out)
        titles = data.item_info.title(items) if data.item_info is not None else items
        for title, score in zip(titles, scores):
            print(f"  {score:5.2f}  {title}", file=out)
