"""How high can ImplicitALS rank on the README's MovieLens 100K implicit split?
At k = 64 (``--factors`` for another k), a diagnostic that scores a grid on the test part
itself, so its best figure is an upper bound for any tuner, never a setting to quote as
tuned.

A grid over λ̄ (the average training user's λ_u: ``regularization = λ̄ / (n̄_u + α0
n_items)^ν``), α, α0 (``unobserved_weight``), ν (``regularization_exponent``) and the
iterations is fitted on all of train and scored on test (NDCG@10), and on the validation
parts of three split seeds (20% of each user's train items, ``strategy="per_user"``),
fitted on the rest of train. Printed: the five best settings by test, and the rank among
all settings that each validation part gives the best one. Run from the repository root
(reads ``../shared/datasets/ml-100k``, never downloads)::

    python -m bench.studies.implicit_ceiling      # 360 settings, ~10 minutes on 2 cores
    python -m bench.studies.implicit_ceiling --factors 128               # ~20 minutes
"""
import argparse
import itertools

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME, movielens_split

GRID = {"lbar": [3, 10, 30, 100, 300], "alpha": [1, 2, 4, 8],
        "unobserved_weight": [0.1, 0.3, 1.0], "regularization_exponent": [0.0, 0.5, 1.0],
        "iterations": [8, 20]}
VALIDATION_SEEDS = (7, 8, 9)


def ndcg(params, train, test, factors):
    model = fastmf.ImplicitALS(factors=factors, num_threads=2, seed=0, verbose=False,
                               confidence="linear", **params)   # the grid's α is the linear one
    return fastmf.metrics.evaluate(model.fit(train), test, train=train, k=10)["ndcg@10"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--factors", type=int, default=64)
    args = parser.parse_args(argv)
    train, test = movielens_split(args.data_home)
    parts = [fastmf.train_test_split(train, test_size=0.2, seed=seed, strategy="per_user")
             for seed in VALIDATION_SEEDS]
    n_u = train.nnz / train.n_users
    rows = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        params = {name: x for name, x in setting.items() if name != "lbar"}
        scale = n_u + setting["unobserved_weight"] * train.n_items
        params["regularization"] = setting["lbar"] / scale ** setting["regularization_exponent"]
        rows.append({**setting, "test": ndcg(params, train, test, args.factors),
                     "val": [ndcg(params, fit, val, args.factors) for fit, val in parts]})
    rows.sort(key=lambda row: -row["test"])
    print(f"{len(rows)} settings; the best by test NDCG@10 (a bound, not a choice):")
    for row in rows[:5]:
        print("  " + ", ".join(f"{name} {row[name]:g}" for name in GRID)
              + f": test {row['test']:.4f}, validation " + " ".join(f"{x:.4f}" for x in row["val"]))
    val = np.array([row["val"] for row in rows])
    ranks = [int((val[:, j] > val[0, j]).sum()) + 1 for j in range(len(VALIDATION_SEEDS))]
    print(f"the best setting's rank on the validation parts of seeds {VALIDATION_SEEDS}: "
          f"{ranks} of {len(rows)}")


if __name__ == "__main__":
    main()
