"""BPR's step schedule, regularization and negative sampler, chosen on validation data.

Two data sets, each split into (train, test) once, and train split again into (fit,
validation) with seed 1; every choice reads the validation NDCG@10 only:

- ``liked``: the MovieLens 100K implicit split of bench/compare/_common.py (ratings >= 4
  as positives, 20% held out at random with seed 0); validation: 20% of train at random.
- ``counts``: all MovieLens 100K ratings as counts (every rating a positive for BPR),
  20% of each user's ratings held out with seed 0 (``strategy="per_user"``); validation:
  20% of each user's training ratings.

Each configuration is fitted on the fit part for each epoch count (a linear schedule falls
to η/E over its own E epochs), with model seeds 0 .. ``--seeds`` - 1 on one thread, and
scored by ``fastmf.metrics.evaluate`` (training items excluded); the table gives the mean
over the seeds. Then the BPR defaults before and after this study are fitted once on the
whole train part of each data set and scored on its test part. Run from the repository
root (reads ``../shared/datasets/ml-100k``, never downloads)::

    python -m bench.studies.bpr_schedule [--data-home DIR] [--seeds 1] [--epochs 25,50,100,200]
"""
import argparse

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME, K, movielens_split

# (label, parameters); the first is the defaults before the study, the second after it.
BEFORE = dict(learning_rate=0.05, learning_rate_schedule="constant", regularization=0.02)
AFTER = dict(learning_rate=0.1, learning_rate_schedule="linear", regularization=0.02)
CONFIGS = [
    ("constant η=0.05 (old defaults)", BEFORE),
    ("linear η=0.1 (new defaults)", AFTER),
    ("constant η=0.02", dict(BEFORE, learning_rate=0.02)),
    ("constant η=0.1", dict(BEFORE, learning_rate=0.1)),
    ("constant η=0.05 λ=0.01", dict(BEFORE, regularization=0.01)),
    ("constant η=0.05 λ=0.05", dict(BEFORE, regularization=0.05)),
    ("linear η=0.05", dict(AFTER, learning_rate=0.05)),
    ("linear η=0.2", dict(AFTER, learning_rate=0.2)),
    ("linear η=0.1 λ=0.05", dict(AFTER, regularization=0.05)),
    ("linear η=0.1 popularity^0.5", dict(AFTER, negative_sampling="popularity",
                                         popularity_exponent=0.5)),
    ("linear η=0.1 popularity^1", dict(AFTER, negative_sampling="popularity",
                                       popularity_exponent=1.0)),
]


def data_sets(data_home):
    """{name: (train, test, fit, validation)}."""
    train, test = movielens_split(data_home)
    fit, val = fastmf.train_test_split(train, test_size=0.2, seed=1)
    ratings = fastmf.datasets.load_movielens("100k", data_home=data_home, download=False,
                                             progress=False)
    c_train, c_test = fastmf.train_test_split(ratings, test_size=0.2, seed=0, strategy="per_user")
    c_fit, c_val = fastmf.train_test_split(c_train, test_size=0.2, seed=1, strategy="per_user")
    return {"liked": (train, test, fit, val), "counts": (c_train, c_test, c_fit, c_val)}


def ndcg(params, epochs, seed, train, test):
    model = fastmf.BPR(epochs=epochs, num_threads=1, seed=seed, verbose=False, **params)
    model.fit(train)
    return fastmf.metrics.evaluate(model, test, train=train, k=K, metrics=("ndcg",))[f"ndcg@{K}"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", default="25,50,100,200")
    args = parser.parse_args(argv)
    epochs = [int(e) for e in args.epochs.split(",")]
    sets = data_sets(args.data_home)
    print(f"validation NDCG@{K} of BPR (k = 64, uniform negatives redrawn unless stated, "
          f"λ = 0.02 unless stated), mean over seeds 0..{args.seeds - 1}")
    header = " | ".join(f"{e} ep" for e in epochs)
    for name, (_, _, fit, val) in sets.items():
        print(f"\n{name}: fit {fit.nnz} pairs, validation {val.nnz}\n")
        print(f"| configuration | {header} |\n|---|" + "---|" * len(epochs))
        for label, params in CONFIGS:
            cells = [np.mean([ndcg(params, e, s, fit, val) for s in range(args.seeds)])
                     for e in epochs]
            print(f"| {label} | " + " | ".join(f"{c:.4f}" for c in cells) + " |", flush=True)
    print(f"\ntest NDCG@{K}, 100 epochs, seed 0, fitted on the whole train part:\n")
    print("| data | old defaults | new defaults |\n|---|---|---|")
    for name, (train, test, _, _) in sets.items():
        before, after = (ndcg(p, 100, 0, train, test) for p in (BEFORE, AFTER))
        print(f"| {name} | {before:.4f} | {after:.4f} |")


if __name__ == "__main__":
    main()
