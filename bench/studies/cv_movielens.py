"""5-fold cross-validated RMSE and MAE on MovieLens 100K: fastmf and Surprise on the same
folds, defaults beside defaults and tuned beside tuned.

The folds are ``fastmf.model_selection.k_fold(ml100k, 5, seed=0)`` (test ratings of users
or items absent from a fold's training part dropped); Surprise (``pip install
scikit-surprise``; optional) is fitted on each fold's training part and predicts the same
test ratings, both libraries clipping to 1..5. Rows:

- defaults: ``fastmf.ALS()``, ``fastmf.SGD(num_threads=1)`` and ``fastmf.ALS(item_features=
  "genres")``; Surprise's ``SVD()``, ``SVDpp()`` and ``BaselineOnly()`` (seeds fixed where
  a model has one).
- tuned, nested: in each fold, a grid search on that fold's training part alone
  (3-fold cross-validated RMSE; ``tune_movielens.GRIDS`` for fastmf, ``SURPRISE_GRID``,
  the same 24 points as fastmf's SGD grid in Surprise's names, for Surprise's SVD through
  its ``GridSearchCV``), the best setting refit on the training part and scored once on
  the fold's test part. No setting is chosen on a part that is scored.

Run from the repository root (reads ``../shared/datasets/ml-100k``, never downloads;
about 20 minutes with the tuned rows, most of them Surprise's)::

    python -m bench.studies.cv_movielens [--data-home DIR] [--folds 5] [--skip tuned]
"""
import argparse
import time

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME
from bench.studies import tune_movielens

SURPRISE_GRID = {"n_factors": [64, 128], "lr_all": [0.005, 0.01], "reg_all": [0.02, 0.05],
                 "n_epochs": [20, 50, 100]}


# -- the two libraries, one fold at a time: (fit seconds, test predictions, chosen) ---------

def fastmf_default(name, **params):
    def run(train, test):
        model = tune_movielens.make(name, **params)
        started = time.perf_counter()
        model.fit(train)
        return time.perf_counter() - started, model.predict(test.users, test.items), None
    return run


def fastmf_tuned(name):
    def run(train, test):
        started = time.perf_counter()
        found = tune_movielens.search(name, train)
        seconds = time.perf_counter() - started
        return seconds, found.best_model_.predict(test.users, test.items), found.best_params_
    return run


def surprise_data(train):
    import pandas as pd
    import surprise

    frame = pd.DataFrame({"user": train.users, "item": train.items, "rating": train.ratings})
    return surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(1, 5)))


def surprise_predict(algo, test):
    return np.array([algo.predict(u, i).est for u, i in zip(test.users, test.items)])


def surprise_default(name):
    def run(train, test):
        import surprise

        algo = {"SVD": lambda: surprise.SVD(random_state=0),
                "SVD++": lambda: surprise.SVDpp(random_state=0),
                "baseline": lambda: surprise.BaselineOnly(verbose=False)}[name]()
        trainset = surprise_data(train).build_full_trainset()
        started = time.perf_counter()
        algo.fit(trainset)
        return time.perf_counter() - started, surprise_predict(algo, test), None
    return run


def surprise_tuned(train, test):
    import surprise
    from surprise.model_selection import GridSearchCV, KFold

    data = surprise_data(train)
    started = time.perf_counter()
    search = GridSearchCV(surprise.SVD, {**SURPRISE_GRID, "random_state": [0]},
                          measures=["rmse"], cv=KFold(3, random_state=0), n_jobs=1)
    search.fit(data)
    algo = search.best_estimator["rmse"]
    algo.fit(data.build_full_trainset())
    seconds = time.perf_counter() - started
    chosen = {key: value for key, value in search.best_params["rmse"].items()
              if key != "random_state"}
    return seconds, surprise_predict(algo, test), chosen


def surprise_missing():
    try:
        import surprise  # noqa: F401
    except ImportError as err:
        return f"Surprise does not import ({err}); pip install scikit-surprise"
    return None


def rows(args):
    """[(label, kind, run)] in table order; kind is "defaults" or "tuned"."""
    table = [("fastmf ALS", "defaults", fastmf_default("ALS")),
             ("fastmf ALS + genres", "defaults", fastmf_default("ALS", item_features="genres")),
             ("fastmf SGD", "defaults", fastmf_default("SGD"))]
    if args.surprise_missing is None:
        table += [("Surprise SVD", "defaults", surprise_default("SVD")),
                  ("Surprise SVD++", "defaults", surprise_default("SVD++")),
                  ("Surprise baseline", "defaults", surprise_default("baseline"))]
    if "tuned" not in args.skip:
        table += [("fastmf ALS", "tuned", fastmf_tuned("ALS")),
                  ("fastmf SGD", "tuned", fastmf_tuned("SGD"))]
        if args.surprise_missing is None:
            table.append(("Surprise SVD", "tuned", surprise_tuned))
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip", choices=["tuned"], action="append", default=[])
    args = parser.parse_args(argv)
    args.surprise_missing = surprise_missing()
    if args.surprise_missing:
        print(f"{args.surprise_missing}: fastmf only")
    data = fastmf.datasets.load_movielens("100k", data_home=args.data_home, download=False,
                                          progress=False)
    folds = list(fastmf.model_selection.k_fold(data, folds=args.folds, seed=0))
    table = []
    for label, kind, run in rows(args):
        rmse, mae, seconds = [], [], []
        for number, (train, test) in enumerate(folds):
            fit_s, predicted, chosen = run(train, test)
            rmse.append(fastmf.metrics.rmse(test.ratings, predicted))
            mae.append(fastmf.metrics.mae(test.ratings, predicted))
            seconds.append(fit_s)
            print(f"{label} ({kind}) fold {number}: RMSE {rmse[-1]:.4f}, MAE {mae[-1]:.4f}, "
                  f"{fit_s:.1f} s" + (f", chose {chosen}" if chosen else ""), flush=True)
        table.append((label, kind, f"{np.mean(rmse):.4f} ± {np.std(rmse):.4f}",
                      f"{np.mean(mae):.4f} ± {np.std(mae):.4f}", f"{np.median(seconds):.2f}"))
    header = ("model", "settings", "RMSE", "MAE", "s / fold (tuned: search + refit)")
    widths = [max(len(row[j]) for row in [header, *table]) for j in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
