"""Ranking quality and samples per second: fastmf.BPR against implicit's BPR.

Both fit Bayesian personalized ranking (Rendle et al. 2009) by Hogwild SGD with the same
factors, learning rate, regularization, epochs and threads, in float32: per sample, a
user u, an observed item i and an unobserved item j, x = p_u·(q_i - q_j) + b_i - b_j, and
every parameter θ the sample touches moves by η (σ(-x) ∂x/∂θ - λ θ), λ on the item biases
too. An epoch is as many samples as there are training interactions. Run from the
repository root (implicit is optional; without it only fastmf runs)::

    python -m bench.compare.implicit_bpr                        # quality, then 2M and 20M
    python -m bench.compare.implicit_bpr --sizes 200k --speed-epochs 2     # a smoke run
    python -m bench.compare.implicit_bpr --skip speed           # MovieLens 100K only

``pip install implicit`` (0.7.x ships manylinux wheels).

Conventions that differ (``implicit.cpu.bpr.BayesianPersonalizedRanking``, 0.7.x):

- Item bias. implicit keeps it inside the factors: its matrices have ``factors + 1``
  columns, the item's last column is b_i and the user's is a constant 1 (never updated),
  so its x is the same p_u·(q_i - q_j) + b_i - b_j with k = ``factors`` learned columns.
  fastmf keeps b apart (``item_biases=True``); both regularize it by λ.
- Negatives. implicit draws j as the item of a uniformly random interaction, that is with
  probability proportional to the item's popularity, and with
  ``verify_negative_samples=True`` (used here) skips a sample whose j the user has seen.
  fastmf draws j uniformly over the items by default and redraws a seen j (up to 32
  times); ``negative_sampling="popularity", popularity_exponent=1.0,
  seen_negatives="skip"`` is implicit's sampler.
- Initialization. implicit: uniform on [-0.5, 0.5) / factors (standard deviation
  1 / (factors √12), 0.0045 at 64; rows of items without interactions zeroed), the bias
  column included; fastmf: normal with ``init_std`` (0.1 by default; the "implicit's
  init" rows pass 1 / (factors √12)), biases 0.
- Settings. implicit's defaults are η = λ = 0.01, fastmf's η = 0.05, λ = 0.02; the
  quality part runs both libraries at both (``QUALITY``), so that each row has a like-for-
  like partner: the same sampler, initialization scale and settings.
- Randomness and threads. implicit gives each thread an mt19937 and a static share of the
  samples; fastmf derives each sample's draws from a per-epoch seed and its number, and
  gives each thread a contiguous share. Both update shared factors without locks.

1. Quality, on MovieLens 100K as implicit data (the split of bench/compare/_common.py):
   ratings >= 4 are positives, 20% of them held out (``fastmf.train_test_split(test_size=
   0.2, seed=0)``), test pairs of users or items absent from train dropped. fastmf is
   scored by ``fastmf.metrics.evaluate(model, test, train=train, k=10)``; implicit by the
   same ``fastmf.metrics`` functions on its own top 10 (``recommend(...,
   filter_already_liked_items=True)``, rows and columns being train's user and item
   indices) and its AUC from X·Yᵀ of its factors (bias column included), as
   bench/compare/implicit_als.py does it. Each configuration runs with ``--seeds`` seeds;
   the table gives the mean and the range.
2. Speed: the synthetic sets of bench/compare/_common.py (``2M`` is ``make_ratings(20_000,
   5_000, 2_000_000)``, ``20M`` is ``make_ratings(200_000, 50_000, 20_000_000)``; every
   rating is a positive), each library in a fresh process. implicit's processes start with
   ``OPENBLAS_NUM_THREADS=1`` and ``MKL_NUM_THREADS=1``. Samples per second: the number of
   training interactions over the median epoch, in seconds as each library reports it:
   fastmf's ``history_[i]["seconds"]`` (the epoch, the copy of the factors it keeps in
   case the epoch diverges, and its objective and train AUC, which the kernel
   accumulates as it goes); implicit's ``fit(callback=...)`` elapsed time per epoch. fit
   s: ``fit()`` on a prebuilt ``Interactions`` / a scipy CSR matrix with sorted indices.
   With ``--rounds N`` every configuration runs N times, in turn, and the table keeps its
   fastest run: on a shared machine, the one least disturbed by other work.
"""
import os
import sys

if __name__ == "__main__" and "--blas-threads" in sys.argv[:-1]:
    # A worker: its BLAS threads are set before numpy and scipy load OpenBLAS.
    _BLAS = sys.argv[sys.argv.index("--blas-threads") + 1]
    os.environ.update(OPENBLAS_NUM_THREADS=_BLAS, MKL_NUM_THREADS=_BLAS)

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench.compare._common import (  # noqa: E402
    K, add_worker_arguments, describe_host, ensure_data, load, missing, movielens_found,
    movielens_split, parse_sizes, peak_rss_gb, print_table, ranking_scores, run_worker, version,
    working_folder)

MODULE = "bench.compare.implicit_bpr"

FACTORS, LEARNING_RATE, REG, EPOCHS, SPEED_EPOCHS, SEEDS = 64, 0.05, 0.02, 100, 5, 3
POPULARITY = {"negative_sampling": "popularity", "popularity_exponent": 1.0}
# fastmf's sampler (and initialization) per setting; implicit has one: "popularity, skip".
FASTMF_SAMPLING = {
    "uniform, redraw": {"negative_sampling": "uniform"},                 # fastmf's default
    "uniform, skip": {"negative_sampling": "uniform", "seen_negatives": "skip"},
    "popularity, redraw": POPULARITY,
    "popularity, redraw, implicit's init": {**POPULARITY, "init_std": "implicit"},
    "popularity, skip": {**POPULARITY, "seen_negatives": "skip"},        # implicit's sampler
    "popularity, skip, implicit's init": {**POPULARITY, "seen_negatives": "skip",
                                          "init_std": "implicit"},
}
# The quality rows: (library, sampler, learning rate, regularization); implicit's defaults
# first, then fastmf's.
QUALITY = [("implicit", "popularity, skip", 0.01, 0.01),
           ("fastmf", "popularity, skip, implicit's init", 0.01, 0.01),
           ("fastmf", "popularity, skip", 0.01, 0.01),
           ("fastmf", "popularity, redraw, implicit's init", 0.01, 0.01),
           ("fastmf", "popularity, redraw", 0.01, 0.01),
           ("fastmf", "uniform, redraw", 0.01, 0.01),
           ("implicit", "popularity, skip", 0.05, 0.02),
           ("fastmf", "popularity, skip, implicit's init", 0.05, 0.02),
           ("fastmf", "popularity, skip", 0.05, 0.02),
           ("fastmf", "uniform, redraw", 0.05, 0.02),
           ("fastmf", "uniform, skip", 0.05, 0.02)]


# -- the two libraries -------------------------------------------------------------------

def fastmf_model(sampling, threads, factors, learning_rate, regularization, epochs, seed):
    import fastmf

    if not hasattr(fastmf, "BPR"):
        raise SystemExit(f"this fastmf ({fastmf.__file__}) has no BPR model")
    sampler = dict(FASTMF_SAMPLING[sampling])
    if sampler.get("init_std") == "implicit":        # implicit's uniform / factors, its std
        sampler["init_std"] = 1.0 / (factors * 12 ** 0.5)
    return fastmf.BPR(factors=factors, learning_rate=learning_rate,
                      learning_rate_schedule="constant",     # implicit's step is constant
                      regularization=regularization, epochs=epochs, item_biases=True,
                      dtype="float32", num_threads=threads, seed=seed, verbose=False,
                      **sampler)


def implicit_model(threads, factors, learning_rate, regularization, epochs, seed):
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    return BayesianPersonalizedRanking(factors=factors, learning_rate=learning_rate,
                                       regularization=regularization, iterations=epochs,
                                       dtype=np.float32, num_threads=threads,
                                       verify_negative_samples=True, random_state=seed)


def implicit_fit(model, matrix):
    """Fit; returns (fit seconds, [per-epoch seconds], train AUC of the last epoch)."""
    epochs = []
    started = time.perf_counter()
    model.fit(matrix, show_progress=False,
              callback=lambda epoch, elapsed, correct, skipped: epochs.append(
                  (elapsed, correct / max(matrix.nnz - skipped, 1))))
    return time.perf_counter() - started, [e[0] for e in epochs], epochs[-1][1]


def binary_csr(indptr, indices, shape):
    import scipy.sparse as sp

    matrix = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=shape)
    matrix.sort_indices()
    return matrix


# -- workers -----------------------------------------------------------------------------

def quality_fastmf(data_home, sampling, threads, epochs, seed, **params):
    import fastmf

    train, test = movielens_split(data_home)
    model = fastmf_model(sampling, threads, epochs=epochs, seed=seed, **params)
    started = time.perf_counter()
    model.fit(train)
    fit = time.perf_counter() - started
    metrics = fastmf.metrics.evaluate(model, test, train=train, k=K,
                                      metrics=("precision", "ndcg", "auc"))
    return {"fit_s": fit, "metrics": metrics, "train_auc": model.history_[-1]["train_auc"]}


def quality_implicit(data_home, sampling, threads, epochs, seed, **params):
    train, test = movielens_split(data_home)
    R = train.by_user            # implicit's row u / column i = train's user / item index
    matrix = binary_csr(R.indptr, R.indices, train.shape)
    model = implicit_model(threads, epochs=epochs, seed=seed, **params)
    fit, _, train_auc = implicit_fit(model, matrix)
    userids = train.user_ids.index(test.user_ids.ids)     # every test user is in train
    ids, _ = model.recommend(userids, matrix[userids], N=K, filter_already_liked_items=True)
    metrics = ranking_scores(model.user_factors, model.item_factors, userids, ids, train, test)
    return {"fit_s": fit, "metrics": metrics, "train_auc": train_auc,
            "implicit_version": version("implicit"), "columns": model.item_factors.shape[1]}


def speed_fastmf(path, sampling, threads, epochs, seed, **params):
    import fastmf

    users, items, ratings = load(path)
    started = time.perf_counter()
    data = fastmf.Interactions.from_arrays(users, items, ratings)
    prep = time.perf_counter() - started
    model = fastmf_model(sampling, threads, epochs=epochs, seed=seed, **params)
    started = time.perf_counter()
    model.fit(data)
    fit = time.perf_counter() - started
    seconds = [record["seconds"] for record in model.history_]
    return {"prep_s": prep, "fit_s": fit, "nnz": data.nnz, "epoch_s": seconds,
            "train_auc": model.history_[-1]["train_auc"], "peak_rss_gb": peak_rss_gb()}


def speed_implicit(path, sampling, threads, epochs, seed, **params):
    import scipy.sparse as sp

    users, items, _ = load(path)
    started = time.perf_counter()
    shape = (int(users.max()) + 1, int(items.max()) + 1)
    coo = sp.coo_matrix((np.ones(len(users), np.float32), (users, items)), shape=shape)
    matrix = coo.tocsr()
    matrix.sort_indices()
    del coo
    prep = time.perf_counter() - started
    model = implicit_model(threads, epochs=epochs, seed=seed, **params)
    fit, seconds, train_auc = implicit_fit(model, matrix)
    return {"prep_s": prep, "fit_s": fit, "nnz": int(matrix.nnz), "epoch_s": seconds,
            "train_auc": train_auc, "peak_rss_gb": peak_rss_gb(),
            "implicit_version": version("implicit")}


TASKS = {"quality-fastmf": quality_fastmf, "quality-implicit": quality_implicit,
         "speed-fastmf": speed_fastmf, "speed-implicit": speed_implicit}


# -- driver ------------------------------------------------------------------------------

def configurations(args):
    """[(library, negatives, BLAS threads)] of the speed part: fastmf with its default
    sampler and with implicit's, then implicit."""
    return ([("fastmf", "uniform, redraw", args.threads),
             ("fastmf", "popularity, skip", args.threads)]
            + ([] if args.implicit_missing else [("implicit", "popularity, skip", 1)]))


def params(args):
    return dict(factors=args.factors, learning_rate=args.learning_rate,
                regularization=args.regularization)


def quality(args, workdir):
    if not movielens_found(args.data_home):
        return None
    rows = []
    for library, sampling, learning_rate, regularization in QUALITY:
        if library == "implicit" and args.implicit_missing:
            continue
        runs = [run_worker(MODULE, f"quality-{library}", workdir / f"quality-{library}.json",
                           args.threads, data_home=args.data_home, sampling=sampling,
                           epochs=args.epochs, seed=seed,
                           blas_threads=1 if library == "implicit" else args.threads,
                           factors=args.factors, learning_rate=learning_rate,
                           regularization=regularization)
                for seed in range(args.seeds)]
        cells = []
        for key in (f"precision@{K}", f"ndcg@{K}", "auc"):
            values = np.array([r["metrics"][key] for r in runs])
            cells.append(f"{values.mean():.4f} ({values.min():.4f}-{values.max():.4f})")
        name = (f"{library} ({runs[0]['columns']} columns)" if library == "implicit"
                else library)
        rows.append((name, sampling, f"{learning_rate:g}", f"{regularization:g}", *cells,
                     f"{np.mean([r['train_auc'] for r in runs]):.4f}",
                     f"{np.mean([r['fit_s'] for r in runs]):.2f}"))
    return rows


def measure(label, n_ratings, args, workdir):
    """[(library, negatives, result)] of the speed runs on one size: of each
    configuration's ``--rounds`` runs (taken in turn), the one with the most samples/s."""
    data_path = ensure_data(label, n_ratings, args.threads, workdir)
    best = {}
    for round_ in range(1, args.rounds + 1):
        for library, sampling, blas in configurations(args):
            r = run_worker(MODULE, f"speed-{library}", workdir / f"speed-{library}.json",
                           args.threads, data=data_path, sampling=sampling,
                           speed_epochs=args.speed_epochs, seed=0, blas_threads=blas,
                           **params(args))
            r["samples_per_s"] = r["nnz"] / float(np.median(r["epoch_s"]))
            kept = best.get((library, sampling))
            if kept is None or r["samples_per_s"] > kept["samples_per_s"]:
                best[(library, sampling)] = r
            print(f"{label} round {round_} {library} {sampling}: prep {r['prep_s']:.2f} s, fit "
                  f"{r['fit_s']:.2f} s, epochs " + ", ".join(f"{s:.3f}" for s in r["epoch_s"])
                  + f" s: {r['samples_per_s'] / 1e6:.2f}M samples/s")
    return [(library, sampling, r) for (library, sampling), r in best.items()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2M,20M", type=parse_sizes,
                        help="comma-separated numbers of ratings for the speed part")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs of the quality part")
    parser.add_argument("--speed-epochs", type=int, default=SPEED_EPOCHS,
                        help="epochs of the speed part")
    parser.add_argument("--rounds", type=int, default=1,
                        help="speed runs of every configuration, taken in turn; the table "
                             "keeps each one's fastest (on a shared machine, the least disturbed)")
    parser.add_argument("--seeds", type=int, default=SEEDS,
                        help="seeds per configuration of the quality part")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=FACTORS)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--regularization", type=float, default=REG)
    add_worker_arguments(parser, TASKS, movielens=True)
    parser.add_argument("--sampling", choices=list(FASTMF_SAMPLING), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--blas-threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.epochs, args.speed_epochs, args.seeds, args.rounds) < 1:
        parser.error("--epochs, --speed-epochs, --seeds and --rounds must be at least 1")

    if args.worker:
        if args.worker.startswith("quality-"):
            result = TASKS[args.worker](args.data_home, args.sampling, args.threads, args.epochs,
                                        args.seed, **params(args))
        else:
            result = TASKS[args.worker](args.data, args.sampling, args.threads,
                                        args.speed_epochs, args.seed, **params(args))
        Path(args.out).write_text(json.dumps(result))
        return

    args.implicit_missing = missing("implicit.cpu.bpr", "implicit")
    print(f"threads={args.threads} factors={args.factors} learning_rate={args.learning_rate:g} "
          f"regularization={args.regularization:g} float32 cpus={os.cpu_count()}; numpy "
          f"{np.__version__}; implicit "
          + ("-" if args.implicit_missing else version("implicit")))
    if args.implicit_missing:
        print(f"{args.implicit_missing}: running fastmf only")
    quality_rows, speed_rows = None, []
    with working_folder(args.workdir, "fastmf-bpr-") as workdir:
        print("\n".join(describe_host(args.threads, workdir)))
        if "quality" not in args.skip:
            quality_rows = quality(args, workdir)
        if "speed" not in args.skip:
            for label, n_ratings in args.sizes:
                results = measure(label, n_ratings, args, workdir)
                other = {library: r["samples_per_s"] for library, _, r in results}
                for library, sampling, r in results:
                    ratio = (f"{r['samples_per_s'] / other['implicit']:.2f}x"
                             if "implicit" in other else "-")
                    speed_rows.append((label, library, sampling,
                                       f"{r['samples_per_s'] / 1e6:.2f}",
                                       f"{float(np.median(r['epoch_s'])):.3f}",
                                       f"{r['fit_s']:.2f}", ratio, f"{r['train_auc']:.4f}",
                                       f"{r['peak_rss_gb']:.2f}"))
    if quality_rows:
        print()
        print(f"MovieLens 100K, ratings >= 4 as positives, 0.2 held out (seed 0), "
              f"{args.epochs} epochs, {args.threads} threads; mean (range) over "
              f"{args.seeds} seeds:")
        print_table(("library", "negatives", "η", "λ", f"precision@{K}", f"ndcg@{K}", "auc",
                     "train auc", "fit s"), quality_rows, left=2)
    if speed_rows:
        print()
        print(f"Synthetic ratings, every one a positive, {args.speed_epochs} epochs, "
              f"{args.threads} threads, the fastest of {args.rounds} round(s):")
        print_table(("size", "library", "negatives", "M samples/s", "s/epoch", "fit s",
                     "vs implicit", "train auc", "peak RSS GB"), speed_rows, left=3)
        print("s/epoch: median epoch as each library reports it; M samples/s: training "
              "interactions / s/epoch;\nvs implicit: samples/s over implicit's.")


if __name__ == "__main__":
    main()
