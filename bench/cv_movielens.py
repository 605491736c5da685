"""5-fold cross-validated RMSE and MAE on MovieLens 100K, beside Surprise's published table.

fastmf.cross_validate(model, ml100k, folds=5, seed=0) for ALS, ALS with genre features and
SGD at the settings the README tunes on its 80/20 split. Surprise's figures are the ones
it publishes for the same protocol (5-fold cross-validation of MovieLens 100K): RMSE
only, quoted, not rerun. Run from the repository root
(reads ``../shared/datasets/ml-100k``, never downloads)::

    python bench/cv_movielens.py [--data-home DIR] [--folds 5]
"""
import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fastmf  # noqa: E402

DATA_HOME = Path(__file__).resolve().parents[2] / "shared" / "datasets"
ALS_PARAMS = dict(factors=128, regularization=1.1, bias_regularization=3.0, weighted=0.5,
                  init_std=0.003, iterations=5, seed=0, verbose=False)
MODELS = {
    "fastmf ALS": lambda: fastmf.ALS(**ALS_PARAMS),
    "fastmf ALS + genres": lambda: fastmf.ALS(item_features="genres", **ALS_PARAMS),
    "fastmf SGD": lambda: fastmf.SGD(factors=128, epochs=100, learning_rate=0.005,
                                     regularization=0.09, bias_regularization=0.05,
                                     init_std=0.01, num_threads=1, seed=0, verbose=False),
}
SURPRISE = [("Surprise SVD++", 0.920), ("Surprise SVD", 0.934), ("Surprise baseline", 0.944)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    data = fastmf.datasets.load_movielens("100k", data_home=args.data_home, download=False,
                                          progress=False)
    rows = []
    for name, make in MODELS.items():
        results = fastmf.cross_validate(make(), data, folds=args.folds, seed=0)
        mean, std = results.mean(), results.std()
        rows.append((name, f"{mean['test_rmse']:.4f} ± {std['test_rmse']:.4f}",
                     f"{mean['test_mae']:.4f} ± {std['test_mae']:.4f}",
                     f"{mean['fit_time']:.2f}"))
        print(f"{name}:\n{results}\n")
    rows += [(name, f"{rmse:.3f}", "-", "(published)") for name, rmse in SURPRISE]
    header = ("model", "RMSE", "MAE", "fit s / fold")
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
