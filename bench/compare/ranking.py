"""Ranking quality after tuning: fastmf's ImplicitALS and BPR against implicit's ALS and BPR,
each tuned by the same search on the same validation part, then scored once on test.

Run from the repository root (implicit is optional; without it only fastmf runs)::

    python -m bench.compare.ranking                     # budget 12 full fits per model
    python -m bench.compare.ranking --budget 4 --skip strong    # a smoke run
    python -m bench.compare.ranking --budget 20 --seeds 5       # 5 searches per model

The data is the README's MovieLens 100K implicit split (``movielens_split`` of
``_common.py``: ratings >= 4 as positives of value 1, 20% held out at random with seed 0),
or with ``--data`` one of the other data sets of ``bench/studies/implicit_defaults.py``
(MovieLens 100K's ratings as counts; two binarized ``make_ratings`` sets).
The validation part is carved out of train only (20% of each user's items, seed
``--seed``); test is read once per model, after tuning.

Every model is tuned by ``fastmf.model_selection``'s one search (``tune_function``, which
``fastmf.tune`` runs too) with the same ``--budget`` (in full fits), ``--strategy``
(successive halving over iterations by default), halving factor 3 and seed: the first
candidate is the model's defaults, the others are drawn from its space. fastmf's models go
through ``fastmf.tune`` with their default spaces (ImplicitALS: regularization, alpha, and
unobserved_weight, regularization_exponent where the model has them; BPR: learning_rate,
regularization); implicit's through a fit-and-score callable with the matching spaces (ALS:
regularization in [0.01, 1000] and alpha in [1, 100], log-uniform; it is given the data's
values, 1 on the liked views, so that its confidence alpha r is alpha there, as fastmf's 1 +
alpha r is 1 + alpha; on ``ml100k-counts`` each library keeps its own confidence of the
counts r; BPR: learning_rate in [0.005, 0.2], regularization in [1e-4, 0.1]). The iterations
(epochs) are the resource halving varies, up to each model's default (fastmf's ImplicitALS
8, implicit's ALS 15, both BPRs 100); half of each budget then refines the best
(``refine=0.5``, the default of both entry points); factors are 64 for all. Every candidate
is scored by NDCG@10 on validation with ``fastmf.metrics.evaluate`` (training items
excluded), on implicit's factors through an adapter, so the metric code is the same for all.

With ``--seeds N`` the whole search runs N times, seeds ``--seed`` to ``--seed + N - 1``,
each with its own validation part, candidates and model seed, and the mean, min and max test
NDCG@10 of the N picks are printed: one search on one validation part of MovieLens 100K is a
draw whose test score moves with the seed by more than the libraries differ (up to 0.06:
implicit's ALS on ``ml100k``, 0.277 to 0.336 over seeds 0 to 4). The full table is the first
seed's: the best parameters refitted on all of train and scored on test, NDCG@10 and Recall
at 10, 20, 50 and 100; "defaults" rows fit each model at its own defaults. The
strong-generalization rows (ALS models: implicit BPR has no fold-in) hold out 20% of all
users (``user_split``, seed 0), fit the tuned parameters on the others, fold each held-out
user in from 80% of their items (fastmf: ``evaluate(fold_in=...)``; implicit:
``recalculate_user``) and score the other 20%.

Threads: ``--threads`` for both libraries' loops (fastmf ``num_threads``, implicit
``num_threads``); BLAS held to 1 thread (threadpoolctl) for both, as implicit asks.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # before numpy loads OpenBLAS
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from bench.compare._common import (  # noqa: E402
    DATA_HOME, SPLIT_SEED, describe_host, missing, movielens_found, movielens_split, print_table,
    version)
from bench.compare.implicit_als import FactorModel, blas_limit  # noqa: E402
from bench.studies.implicit_defaults import views  # noqa: E402

K, CUTOFFS = 10, (10, 20, 50, 100)
DATA_SETS = {"ml100k": f"MovieLens 100K, ratings >= 4, 20% test (seed {SPLIT_SEED})",
             "ml100k-counts": "MovieLens 100K, every rating as a count, 20% of each user's "
                              "ratings held out (seed 0)",
             "synthetic-dense": "make_ratings(1000, 500, 100_000), ratings >= 4, 6.7% of the "
                                "pairs, 20% test (seed 0)",
             "synthetic-sparse": "make_ratings(5000, 2500, 40_000), ratings >= 4, 0.16% of the "
                                 "pairs, 20% test (seed 0)"}
FACTORS = 64
IMPLICIT_SPACES = {
    "ALS": {"regularization": (0.01, 1000.0, "log"), "alpha": (1.0, 100.0, "log")},
    "BPR": {"learning_rate": (0.005, 0.2, "log"), "regularization": (1e-4, 0.1, "log")},
}
IMPLICIT_DEFAULTS = {"ALS": ({"regularization": 0.01, "alpha": 1.0}, 15),
                     "BPR": ({"learning_rate": 0.01, "regularization": 0.01}, 100)}


def fastmf_models(threads, seed):
    import fastmf
    # The linear confidence, as when the README's figures were run (the default then).
    return {"ALS": fastmf.ImplicitALS(factors=FACTORS, num_threads=threads, seed=seed,
                                      confidence="linear", verbose=False),
            "BPR": fastmf.BPR(factors=FACTORS, num_threads=threads, seed=seed, verbose=False)}


def implicit_fit(kind, params, iterations, matrix, threads, seed):
    """An implicit model of ``kind`` fitted on the CSR ``matrix`` (users x items)."""
    if kind == "ALS":
        from implicit.cpu.als import AlternatingLeastSquares as Model
    else:
        from implicit.cpu.bpr import BayesianPersonalizedRanking as Model
    model = Model(factors=FACTORS, iterations=iterations, num_threads=threads,
                  random_state=seed, dtype=np.float32, **params)
    model.fit(matrix, show_progress=False)
    return model


def user_items(data):
    """implicit's input: the users x items CSR of the data's values (1 for the liked views;
    the counts of ``ml100k-counts``)."""
    import scipy.sparse as sp
    R = data.by_user
    return sp.csr_matrix((R.data.astype(np.float32), R.indices, R.indptr),
                         shape=(data.n_users, data.n_items))


def scores(model, test, train, cutoffs=CUTOFFS):
    """NDCG@10 and Recall at ``cutoffs`` of a fitted model (fastmf's, or an adapter)."""
    import fastmf
    found = fastmf.metrics.evaluate(model, test, train=train, k=cutoffs,
                                    metrics=("ndcg", "recall"))
    return {key: found[key] for key in [f"ndcg@{K}", *(f"recall@{k}" for k in cutoffs)]}


def tune_fastmf(kind, model, train, fit_part, val, args):
    import fastmf
    result = fastmf.tune(model, fit_part, validation=val, budget=args.budget,
                         strategy=args.strategy, seed=args.seed, refit=False, verbose=False)
    result.best_model = type(model)(**{**model.get_params(), **result.best_params}).fit(train)
    return result


def tune_implicit(kind, train, fit_part, val, args):
    from fastmf.model_selection import tune_function
    defaults, max_iterations = IMPLICIT_DEFAULTS[kind]
    matrix = user_items(fit_part)

    def fit_and_score(params, iterations):
        model = implicit_fit(kind, params, iterations, matrix, args.threads, args.seed)
        adapter = FactorModel(model.user_factors, model.item_factors, fit_part)
        return scores(adapter, val, fit_part, cutoffs=(K,))[f"ndcg@{K}"]

    result = tune_function(fit_and_score, IMPLICIT_SPACES[kind], max_iterations,
                           budget=args.budget, strategy=args.strategy, initial=defaults,
                           seed=args.seed, metric=f"ndcg@{K}")
    best = implicit_fit(kind, result.best_params, max_iterations, user_items(train),
                        args.threads, args.seed)
    result.best_model = FactorModel(best.user_factors, best.item_factors, train)
    return result


def defaults_row(library, kind, train, test, args):
    if library == "fastmf":
        model = fastmf_models(args.threads, args.seed)[kind].fit(train)
    else:
        params, iterations = IMPLICIT_DEFAULTS[kind]
        fitted = implicit_fit(kind, params, iterations, user_items(train), args.threads,
                              args.seed)
        model = FactorModel(fitted.user_factors, fitted.item_factors, train)
    return scores(model, test, train)


def strong_generalization(library, params, args):
    """The tuned ALS of ``library`` on the strong-generalization split: users held out,
    folded in from 80% of their items, scored on the rest."""
    import fastmf
    from fastmf.model_selection import user_split
    positives = movielens_split(args.data_home)
    data = fastmf.Interactions.from_arrays(*(np.concatenate([a, b]) for a, b in zip(
        positives[0].to_arrays()[:2], positives[1].to_arrays()[:2])))
    train, fold_in, test = user_split(data, test_users=0.2, test_size=0.2, seed=SPLIT_SEED)
    if library == "fastmf":
        model = fastmf.ImplicitALS(**{**fastmf_models(args.threads, args.seed)["ALS"].get_params(),
                                      **params}).fit(train)
        found = fastmf.metrics.evaluate(model, test, fold_in=fold_in, k=CUTOFFS,
                                        metrics=("ndcg", "recall"))
    else:
        fitted = implicit_fit("ALS", params, IMPLICIT_DEFAULTS["ALS"][1], user_items(train),
                              args.threads, args.seed)
        import scipy.sparse as sp
        columns = train.item_ids.index(fold_in.item_ids.ids)[fold_in.iidx]  # train's items
        rows = sp.csr_matrix((np.ones(fold_in.nnz, np.float32), (fold_in.uidx, columns)),
                             shape=(fold_in.n_users, train.n_items))
        X = fitted.recalculate_user(np.arange(fold_in.n_users), rows)
        adapter = FactorModel(np.asarray(X), fitted.item_factors, train)
        adapter.user_ids_ = fold_in.user_ids
        found = fastmf.metrics.evaluate(adapter, test, train=fold_in, k=CUTOFFS,
                                        metrics=("ndcg", "recall"))
    return {key: found[key] for key in [f"ndcg@{K}", *(f"recall@{k}" for k in CUTOFFS)]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=12,
                        help="the search's cost per model, in full fits (default 12)")
    parser.add_argument("--strategy", choices=("halving", "random"), default="halving")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the validation split, the candidates and every model")
    parser.add_argument("--seeds", type=int, default=1,
                        help="tune with seeds --seed, --seed + 1, ...: the mean, min and max "
                             "of the test NDCG@10 over them (default 1)")
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--skip", default="", help="comma-separated: defaults, strong")
    parser.add_argument("--data", choices=DATA_SETS, default="ml100k",
                        help="the data set: the README's split (default) or another view of "
                             "bench/studies/implicit_defaults.py (strong generalization runs "
                             "on ml100k only)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    if not movielens_found(args.data_home):
        return
    import fastmf
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    implicit_missing = missing("implicit.cpu.als", "implicit")
    print(f"threads={args.threads} factors={FACTORS} budget={args.budget} fits "
          f"({args.strategy}) seed={args.seed} seeds={args.seeds}; fastmf "
          f"{fastmf.__version__}, implicit "
          f"{'-' if implicit_missing else version('implicit')}")
    with tempfile.TemporaryDirectory(prefix="fastmf-ranking-") as folder:
        print("\n".join(describe_host(args.threads, folder)))
    if implicit_missing:
        print(f"{implicit_missing}: running fastmf only")
    train, test, _ = views(args.data_home)[args.data]
    libraries = ["fastmf"] + ([] if implicit_missing else ["implicit"])
    rows, tuned, header = [], {}, ["library", "model", "setting", f"ndcg@{K}",
                                   *(f"recall@{k}" for k in CUTOFFS), "val ndcg@10", "seconds",
                                   "parameters"]
    found_by_seed = {}                       # (library, kind) -> test NDCG@10 of each seed
    with blas_limit(1):
        for seed in range(args.seed, args.seed + args.seeds):
            run = argparse.Namespace(**{**vars(args), "seed": seed})
            fit_part, val = fastmf.train_test_split(train, test_size=0.2, seed=seed,
                                                    strategy="per_user")
            for library in libraries:
                for kind, model in fastmf_models(args.threads, seed).items():
                    started = time.perf_counter()
                    result = (tune_fastmf(kind, model, train, fit_part, val, run)
                              if library == "fastmf"
                              else tune_implicit(kind, train, fit_part, val, run))
                    seconds = time.perf_counter() - started
                    found = scores(result.best_model, test, train)
                    found_by_seed.setdefault((library, kind), []).append(found[f"ndcg@{K}"])
                    params = ", ".join(f"{n}={x:.4g}" for n, x in result.best_params.items())
                    print(f"seed {seed}, {library} {kind}: {len(result.trials)} trials, "
                          f"{result.fits:.1f} fits, {seconds:.0f} s; best {params}; test "
                          f"ndcg@{K} {found[f'ndcg@{K}']:.4f}", flush=True)
                    if seed != args.seed:
                        continue
                    tuned[library, kind] = result.best_params
                    rows.append([library, kind, "tuned", *(f"{x:.4f}" for x in found.values()),
                                 f"{result.best_score:.4f}", f"{seconds:.0f}", params])
                    if "defaults" not in skip:
                        found = defaults_row(library, kind, train, test, args)
                        rows.append([library, kind, "defaults",
                                     *(f"{x:.4f}" for x in found.values()), "", "", ""])
        if "strong" not in skip and args.data == "ml100k":
            for library in libraries:
                found = strong_generalization(library, tuned[library, "ALS"], args)
                rows.append([library, "ALS", "tuned, new users",
                             *(f"{x:.4f}" for x in found.values()), "", "", ""])
    print()
    print(f"{DATA_SETS[args.data]}; tuned on 20% of each user's train items; scored once "
          f"on test (seed {args.seed}):")
    print_table(header, rows, left=3)
    if args.seeds > 1:
        print(f"\nTest NDCG@{K} after tuning with seeds {args.seed}..{args.seed + args.seeds - 1} "
              f"(each seed: its own validation part, candidates and model seed):")
        print_table(["library", "model", "mean", "min", "max", "each seed"],
                    [[library, kind, f"{np.mean(x):.4f}", f"{min(x):.4f}", f"{max(x):.4f}",
                      " ".join(f"{v:.4f}" for v in x)]
                     for (library, kind), x in found_by_seed.items()], left=2)


if __name__ == "__main__":
    main()
