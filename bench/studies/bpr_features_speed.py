"""BPR samples a second with side features and without, on 1 and 2 threads.

MovieLens 100K's positives (ratings >= 4, 55k) with its own side data, as
``bench.compare.hybrid_movielens`` builds them (user: age bucket, gender, occupation; item:
19 genres and the release decade); k = 64, float32, ``--epochs`` epochs a fit. Every
setting is fitted ``--rounds`` times in turn, so that all meet the same machine; printed:
the median seconds of a fit, the samples a second, and the ratio to plain BPR on as many
threads. Run from the repository root::

    FASTMF_DATA=../shared/datasets python -m bench.studies.bpr_features_speed
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import fastmf
from bench.compare.hybrid_movielens import load


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(os.environ.get("FASTMF_DATA", Path.home() / ".cache" / "fastmf")) / "ml-100k"
    users, items, stars, user_table, item_table = load(folder)
    liked = stars >= 4
    data = fastmf.Interactions.from_arrays(users[liked], items[liked])
    settings = {"plain": {}, "user features": dict(user_features=user_table),
                "item features": dict(item_features=item_table),
                "both": dict(user_features=user_table, item_features=item_table)}
    seconds = {(name, threads): [] for name in settings for threads in (1, 2)}
    for _ in range(args.rounds):
        for (name, threads), times in seconds.items():
            model = fastmf.BPR(factors=64, epochs=args.epochs, num_threads=threads, seed=0,
                               verbose=False, **settings[name])
            started = time.perf_counter()
            model.fit(data)
            times.append(time.perf_counter() - started)
    samples = args.epochs * int(liked.sum())
    print(f"{samples:,} samples a fit ({args.epochs} epochs of {int(liked.sum()):,}); "
          f"median of {args.rounds} fits")
    for (name, threads), times in seconds.items():
        median = float(np.median(times))
        plain = float(np.median(seconds["plain", threads]))
        print(f"{name:<14} {threads} thread{'s' if threads > 1 else ' '} {median:7.3f} s "
              f"{samples / median / 1e6:6.2f} M samples/s  {median / plain:5.2f}x plain")


if __name__ == "__main__":
    main()
