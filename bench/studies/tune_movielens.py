"""The settings the README quotes for MovieLens 100K, chosen on its training part only.

The README's explicit-ratings split is ``train_test_split(ml100k, test_size=0.2,
seed=42)``. For each model, ``fastmf.GridSearch(model, GRIDS[name], cv=3, seed=0)`` runs on
the training part alone (3-fold cross-validated RMSE); the best setting is refit on the
whole training part and scored once on the test part. The test part plays no role in the
choice. Run from the repository root (reads ``../shared/datasets/ml-100k``, never
downloads)::

    python -m bench.studies.tune_movielens [--data-home DIR]

``CHOSEN`` records what this script chose (the README's Quickstart, ``cv_movielens.py`` and
``features_movielens.py`` use it); the script says whether a run still chooses the same.
The grids are small on purpose: the same size (24 points) for every model here and for the
Surprise SVD grid of ``cv_movielens.py``.
"""
import argparse
import time

import fastmf
from bench.compare._common import DATA_HOME

SEED = 42            # the README split
BASE = {"ALS": dict(seed=0, verbose=False),
        "SGD": dict(num_threads=1, seed=0, verbose=False)}
GRIDS = {
    "ALS": {"factors": [64, 128], "regularization": [0.5, 1.0, 2.0, 4.0],
            "iterations": [5, 10, 20]},
    "SGD": {"factors": [64, 128], "learning_rate": [0.005, 0.01],
            "regularization": [0.05, 0.1], "epochs": [30, 60, 100]},
}
# What main() chose on the README split's training part (the run of the README).
CHOSEN = {
    "ALS": {"factors": 128, "regularization": 1.0, "iterations": 5},
    "SGD": {"factors": 128, "learning_rate": 0.005, "regularization": 0.1, "epochs": 100},
}


def make(name, **params):
    """A fresh model of class ``name`` with the base settings and ``params``."""
    return getattr(fastmf, name)(**{**BASE[name], **params})


def chosen(name, **extra):
    """The model the README quotes: ``CHOSEN[name]`` over the base settings."""
    return make(name, **CHOSEN[name], **extra)


def search(name, train, seed=0):
    """GridSearch of ``GRIDS[name]`` on ``train`` (3 folds); the fitted search."""
    return fastmf.GridSearch(make(name), GRIDS[name], cv=3, seed=seed).fit(train)


def rmse_on(model, test):
    return fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    args = parser.parse_args(argv)
    data = fastmf.datasets.load_movielens("100k", data_home=args.data_home, download=False,
                                          progress=False)
    train, test = fastmf.train_test_split(data, test_size=0.2, seed=SEED)
    print(f"README split: train {train.nnz}, test {test.nnz} ratings; grids searched on "
          f"train only (3-fold CV RMSE)")
    for name in GRIDS:
        started = time.perf_counter()
        found = search(name, train)
        seconds = time.perf_counter() - started
        default = make(name).fit(train)
        same = "the same as CHOSEN" if found.best_params_ == CHOSEN[name] else \
            f"differs from CHOSEN {CHOSEN[name]}"
        print(f"\n{name}: {len(found.results_)} settings in {seconds:.0f} s; best "
              f"{found.best_params_} ({same}), validation RMSE {found.best_score_:.4f}")
        print(f"  test RMSE, once: chosen {rmse_on(found.best_model_, test):.4f}, "
              f"defaults {rmse_on(default, test):.4f}")
        rows = sorted(found.results_.to_dict("records") if hasattr(found.results_, "to_dict")
                      else found.results_, key=lambda row: row["rank"])
        for row in rows[:5]:
            params = {key: row[key] for key in GRIDS[name]}
            print(f"  rank {row['rank']:2d}  {params}  {row['mean_test_rmse']:.4f} ± "
                  f"{row['std_test_rmse']:.4f}")


if __name__ == "__main__":
    main()
