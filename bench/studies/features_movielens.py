"""ALS with genre features on MovieLens 100K: RMSE with and without them, and cold start.

1. Warm items: the README's 80/20 split (``train_test_split(test_size=0.2, seed=42)``) and
   ALS settings (``tune_movielens.CHOSEN["ALS"]``, chosen on the training part: k = 128,
   λ = 1, 5 iterations, the other parameters at their defaults), with
   ``item_features=None`` and ``"genres"``.
2. Cold items: 10% of the movies held out with all their ratings
   (``model_selection.cold_start_split(fraction=0.1, seed=s)`` for s = 0..4), ALS with
   genres fitted on the rest. The held-out ratings are predicted (a) by the bias-only
   fallback for an unknown item, μ + b_u, and (b) after ``add_items`` placed each held-out
   movie at the prior of its genres (factors m_i, bias 0): μ + b_u + p_u·m_i.

Run from the repository root (reads ``../shared/datasets/ml-100k``, never downloads)::

    python -m bench.studies.features_movielens [--data-home DIR]
"""
import argparse

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME
from bench.studies.tune_movielens import chosen



def rmse(model, test):
    return fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--seeds", type=int, default=5, help="cold-start splits 0..SEEDS-1")
    args = parser.parse_args(argv)
    data = fastmf.datasets.load_movielens("100k", data_home=args.data_home, download=False,
                                          progress=False)
    train, test = fastmf.train_test_split(data, test_size=0.2, seed=42)
    print("warm items (80/20 split, seed 42):")
    for features in (None, "genres"):
        model = chosen("ALS", item_features=features).fit(train)
        print(f"  item_features={features!s:7}  test RMSE {rmse(model, test):.4f}")
    genres = fastmf.ItemFeatures.from_item_info(data.item_info)
    rows = []
    for seed in range(args.seeds):
        train, test = fastmf.model_selection.cold_start_split(data, fraction=0.1, seed=seed)
        model = chosen("ALS", item_features="genres").fit(train)
        fallback = rmse(model, test)
        model.add_items(test.item_ids.ids, genres)
        rows.append((fallback, rmse(model, test)))
        print(f"  cold split {seed}: {test.n_items} movies, {test.nnz} ratings: bias-only "
              f"{fallback:.4f}, genres {rows[-1][1]:.4f}")
    fallback, placed = np.array(rows).T
    print(f"cold items (10% of movies held out, {args.seeds} splits): bias-only fallback "
          f"{fallback.mean():.4f} ± {fallback.std(ddof=1):.4f}, placed by genres "
          f"{placed.mean():.4f} ± {placed.std(ddof=1):.4f}, better on "
          f"{int((placed < fallback).sum())} of {args.seeds} splits")


if __name__ == "__main__":
    main()
