"""Ranking quality and seconds per ALS iteration: fastmf.ImplicitALS against implicit's ALS.

Both fit the implicit-feedback model of Hu, Koren and Volinsky (2008) with the same
factors, λ, α, iterations and threads, in float32: preference p_ui = 1 for every observed
pair (0 elsewhere), confidence c_ui = 1 + α r_ui for observed pairs (1 elsewhere), loss
Σ_{u,i} c_ui (p_ui - x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²), every row solved exactly by
Cholesky (fastmf ``solver="cholesky"``, implicit ``use_cg=False``) or by 3 conjugate-
gradient steps from the previous factors (``solver="cg"``, ``use_cg=True``). Run from the
repository root (implicit is optional; without it only fastmf runs)::

    python -m bench.compare.implicit_als                          # quality, then 2M and 20M
    python -m bench.compare.implicit_als --sizes 200k --speed-iterations 3    # a smoke run
    python -m bench.compare.implicit_als --skip speed             # MovieLens 100K only

``pip install implicit`` (0.7.x ships manylinux wheels).

Confidence convention. implicit's ``fit(user_items)`` reads the matrix values as the
confidence c_ui itself, multiplied by its ``alpha`` when ``alpha != 1`` (0.7.x: ``Cui =
alpha * user_items``): its row solve adds Σ_i (c_ui - 1) y_i y_iᵀ to YᵀY + λI and
Σ_i c_ui y_i to the right-hand side (p_ui = 1 for every stored value > 0), the same
system as fastmf's with its c_ui = 1 + α r_ui. So implicit's value is not r_ui, nor
c_ui - 1: given r_ui = 1 as is with ``alpha=1``, implicit would weigh an observed pair
like an unobserved one (c = 1), not 1 + α. This script therefore gives implicit the
matrix 1 + α r_ui, α folded in, with implicit's own ``alpha=1.0`` (which leaves the
values untouched); both libraries then solve the same least-squares systems, λ added
unscaled to every row (no weighted-λ in either). The quality part checks it: on implicit's
fitted item factors, fastmf's Cholesky half-step and implicit's ``recalculate_user`` on
that matrix give the same user factors (up to float32 rounding), and it prints how far
they are apart, and how far implicit's solve on the matrix α r_ui would be. The final
objective of every fit is recomputed from its factors by the same numpy code and printed.
What still differs: the initialization (fastmf: normal with ``init_std`` 0.1,
printed with each speed run; implicit: uniform on [0, 0.01)), so the two fits start from
different points and their factors and objectives differ a little after the same
iterations, and the order of the floating-point sums.

1. Quality, on MovieLens 100K as implicit data: the pairs rated 4 or 5 are the positives
   (value 1, so c_ui = 1 + α), 20% of them are held out at random
   (``fastmf.train_test_split(test_size=0.2, seed=0)``, test pairs of users or items
   absent from train dropped). Each library fits with model seeds 0 .. ``--seeds`` - 1
   (default 10) on that one split; the table gives the mean ± standard deviation over
   the seeds (a seed moves precision@10 by about 0.002, more than the libraries differ).
   fastmf is scored by ``fastmf.metrics.evaluate(model, test,
   train=train, k=10)``; implicit by the same ``fastmf.metrics`` functions on its own top
   10, ``recommend(userids, user_items[userids], N=10, filter_already_liked_items=True)``,
   with implicit's rows and columns being the train set's contiguous user and item indices
   (its matrix is built from ``train.by_user``); AUC ranks all of a user's non-training
   items by X·Yᵀ of implicit's factors. To check that mapping, implicit's factors are
   also scored by ``evaluate()`` itself (through a small adapter with ``user_ids_``,
   ``item_ids_`` and ``score_users``), and the largest difference is printed. MovieLens
   is read from ``--data-home`` (default: ``../shared/datasets`` beside the
   repository), never downloaded; without it the quality part is skipped.
2. Speed: the synthetic ratings of ``bench/compare/_common.py`` (``2M`` is
   ``make_ratings(20_000, 5_000, 2_000_000)``, ``20M`` is ``make_ratings(200_000, 50_000,
   20_000_000)``; the same ``ratings-<size>.npz`` in a shared ``--workdir`` serve every
   compare script), their values (1 to 5) read as counts: c_ui = 1 + α r_ui. Each library
   and solver runs in a fresh process that loads the data, fits, and reports its own peak
   resident memory (VmHWM). implicit's processes start with ``OPENBLAS_NUM_THREADS=1`` and
   ``MKL_NUM_THREADS=1`` (as implicit asks) and fit under ``threadpoolctl``'s limit of one
   BLAS thread; its ALS loops run on ``num_threads`` OpenMP threads. fastmf's processes
   get ``--threads`` BLAS threads, as in the other compare scripts, or
   ``--fastmf-blas-threads``. fastmf computes YᵀY with numpy between its own threaded
   half-steps, so OpenBLAS threads that spin after that product compete with fastmf's
   threads; ``--fastmf-blas-threads 1`` gives fastmf implicit's setting.

What each timing includes:

- fastmf, s/iter: median of ``history_[i]["seconds"]``: both half-steps (YᵀY included)
  plus the loss that fastmf evaluates after every iteration. fit s: ``fit()`` on a
  prebuilt ``Interactions`` (building it, "prep s", is timed apart), the confidence CSR
  copies both ways included.
- implicit, s/iter: median of the per-iteration seconds that ``fit(callback=...)``
  reports: both half-steps plus, by default, its training loss (``calculate_training_loss
  =True``), so that both libraries do the same work per iteration; ``--implicit-loss off``
  times implicit's default instead. fit s: ``fit()`` on a scipy CSR matrix (building it is
  "prep s"): its transpose and initialization and the iterations.
- peak RSS: the process's VmHWM after ``fit()``, data loaded included ("RSS before fit"
  is the same process after loading and preparing the data); the objective is computed
  later.
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
    K, POSITIVE, SPLIT_SEED, TEST_SIZE, add_worker_arguments, describe_host, ensure_data, load,
    missing, movielens_found, movielens_split, parse_sizes, peak_rss_gb, print_table,
    ranking_scores, run_worker, version, working_folder)

MODULE = "bench.compare.implicit_als"
REG, ALPHA, ITERATIONS, SPEED_ITERATIONS, CG_STEPS, SEEDS = 0.05, 1.0, 15, 5, 3, 10
# fastmf solver -> implicit use_cg; implicit's default (CG) first.
SOLVERS = {"cg": True, "cholesky": False}
CHUNK = 1 << 18                     # observed pairs per step when computing the objective


# -- the objective, the same for both ---------------------------------------------------

def objective(indptr, indices, conf, X, Y, reg):
    """Σ_{u,i} c (p - x·y)² + λ(‖X‖² + ‖Y‖²) in float64, with c = 1 + conf on the observed
    pairs of the CSR (indptr, indices, conf) and 1 elsewhere, without the dense matrix."""
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    total = float(np.sum((X64.T @ X64) * (Y64.T @ Y64)))      # Σ_{u,i} (x·y)², every pair
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    for lo in range(0, len(indices), CHUNK):
        s = np.einsum("ij,ij->i", X[rows[lo:lo + CHUNK]], Y[indices[lo:lo + CHUNK]],
                      dtype=np.float64)
        c = 1.0 + conf[lo:lo + CHUNK].astype(np.float64)
        total += float(np.sum(c * (1.0 - s) ** 2 - s * s))  # observed: c(1 - s)² instead of s²
    return total + reg * float(np.sum(X64 * X64) + np.sum(Y64 * Y64))


def blas_info():
    """"openblas:1, openblas:1": the BLAS libraries loaded and their thread counts."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (no threadpoolctl)"
    return ", ".join(f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info()
                     if i["user_api"] == "blas") or "none loaded"


def blas_limit(threads):
    """A context in which BLAS runs on ``threads`` threads (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


# -- the two libraries -------------------------------------------------------------------

def fastmf_model(solver, threads, factors, regularization, alpha, iterations, cg_steps, seed=0):
    import fastmf

    if not hasattr(fastmf, "ImplicitALS"):
        raise SystemExit(f"this fastmf ({fastmf.__file__}) has no ImplicitALS model")
    # Hu-Koren-Volinsky's model, as implicit fits it: α0 = 1, plain λ, init_std 0.1.
    hkv = (dict(unobserved_weight=1.0, regularization_exponent=0.0, init_std=0.1)
           if "unobserved_weight" in fastmf.ImplicitALS._param_names() else {})
    return fastmf.ImplicitALS(factors=factors, regularization=regularization, alpha=alpha,
                              confidence="linear", iterations=iterations, solver=solver,
                              cg_steps=cg_steps, dtype="float32", num_threads=threads, seed=seed,
                              verbose=False, **hkv)


def implicit_model(solver, threads, factors, regularization, iterations, cg_steps, loss, seed=0):
    from implicit.cpu.als import AlternatingLeastSquares

    # alpha=1.0: the matrix already holds c = 1 + α r (see the module docstring).
    model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=1.0,
                                    dtype=np.float32, use_native=True, use_cg=SOLVERS[solver],
                                    iterations=iterations, calculate_training_loss=loss,
                                    num_threads=threads, random_state=seed)
    model.cg_steps = cg_steps
    return model


def implicit_fit(model, matrix):
    """Fit, returning (fit seconds, [seconds of each iteration as implicit reports them])."""
    seconds = []
    started = time.perf_counter()
    model.fit(matrix, show_progress=False,
              callback=lambda iteration, elapsed, loss: seconds.append(elapsed))
    return time.perf_counter() - started, seconds


def confidence_csr(indptr, indices, values, alpha, shape):
    """implicit's input: the CSR of c = 1 + α r (float32) on the observed pairs."""
    import scipy.sparse as sp

    conf = (1.0 + alpha * values.astype(np.float64)).astype(np.float32)
    return sp.csr_matrix((conf, indices, indptr), shape=shape)


def speed_fastmf(path, solver, iterations, threads, factors, regularization, alpha, cg_steps,
                 implicit_loss):
    import fastmf

    users, items, ratings = load(path)
    started = time.perf_counter()
    data = fastmf.Interactions.from_arrays(users, items, ratings)
    prep = time.perf_counter() - started
    before = peak_rss_gb()
    model = fastmf_model(solver, threads, factors, regularization, alpha, iterations, cg_steps)
    started = time.perf_counter()
    model.fit(data)
    fit = time.perf_counter() - started
    peak = peak_rss_gb()
    seconds = [record["seconds"] for record in model.history_]
    R = data.by_user
    return {"library": "fastmf", "solver": solver, "prep_s": prep, "fit_s": fit,
            "iterations": len(seconds), "s_per_iter": float(np.median(seconds)),
            "rss_before_fit_gb": before, "peak_rss_gb": peak, "blas": blas_info(),
            "reported_loss": model.history_[-1]["loss"], "init_std": model.init_std,
            "objective": objective(R.indptr, R.indices, alpha * R.data.astype(np.float64),
                                   model.user_factors_, model.item_factors_, regularization)}


def speed_implicit(path, solver, iterations, threads, factors, regularization, alpha, cg_steps,
                   implicit_loss):
    import scipy.sparse as sp

    users, items, ratings = load(path)
    started = time.perf_counter()
    shape = (int(users.max()) + 1, int(items.max()) + 1)
    R = sp.csr_matrix((ratings, (users, items)), shape=shape)
    matrix = confidence_csr(R.indptr, R.indices, R.data, alpha, shape)
    del R
    prep = time.perf_counter() - started
    before = peak_rss_gb()
    model = implicit_model(solver, threads, factors, regularization, iterations, cg_steps,
                           implicit_loss == "on")
    fit, seconds = implicit_fit(model, matrix)
    peak = peak_rss_gb()
    return {"library": "implicit", "solver": solver, "prep_s": prep, "fit_s": fit,
            "iterations": len(seconds), "s_per_iter": float(np.median(seconds)),
            "rss_before_fit_gb": before, "peak_rss_gb": peak, "blas": blas_info(),
            "implicit_version": version("implicit"),
            "objective": objective(matrix.indptr, matrix.indices, matrix.data - 1.0,
                                   model.user_factors, model.item_factors, regularization)}


# -- quality on MovieLens 100K -----------------------------------------------------------

def seed_summary(per_seed):
    """Mean and standard deviation of each metric over the seeds' dicts."""
    keys = [key for key in per_seed[0] if key != "users"]
    values = {key: np.array([m[key] for m in per_seed]) for key in keys}
    return ({key: float(v.mean()) for key, v in values.items()},
            {key: float(v.std(ddof=1)) if len(v) > 1 else 0.0 for key, v in values.items()})


def quality_fastmf(data_home, solver, iterations, threads, factors, regularization, alpha,
                   cg_steps, implicit_loss, seeds):
    import fastmf

    train, test = movielens_split(data_home)
    per_seed, fit = [], []
    for seed in range(seeds):
        model = fastmf_model(solver, threads, factors, regularization, alpha, iterations,
                             cg_steps, seed)
        started = time.perf_counter()
        model.fit(train)
        fit.append(time.perf_counter() - started)
        per_seed.append(fastmf.metrics.evaluate(model, test, train=train, k=K))
        if seed == 0:
            R = train.by_user
            first_objective = objective(R.indptr, R.indices, alpha * R.data.astype(np.float64),
                                        model.user_factors_, model.item_factors_, regularization)
    mean, std = seed_summary(per_seed)
    return {"library": "fastmf", "solver": solver, "fit_s": float(np.median(fit)),
            "metrics": mean, "metrics_std": std, "per_seed": per_seed,
            "objective": first_objective}


def quality_implicit(data_home, solver, iterations, threads, factors, regularization, alpha,
                     cg_steps, implicit_loss, seeds):
    import fastmf

    train, test = movielens_split(data_home)
    R = train.by_user            # implicit's row u / column i = train's user / item index u / i
    matrix = confidence_csr(R.indptr, R.indices, R.data, alpha, train.shape)
    userids = train.user_ids.index(test.user_ids.ids)     # every test user is in train
    per_seed, fit = [], []
    for seed in range(seeds):
        model = implicit_model(solver, threads, factors, regularization, iterations, cg_steps,
                               implicit_loss == "on", seed)
        fit.append(implicit_fit(model, matrix)[0])
        ids, _ = model.recommend(userids, matrix[userids], N=K, filter_already_liked_items=True)
        per_seed.append(ranking_scores(model.user_factors, model.item_factors, userids, ids,
                                       train, test))
        if seed == 0:
            # The same factors scored by evaluate() itself: checks the index mapping above.
            check = fastmf.metrics.evaluate(
                FactorModel(model.user_factors, model.item_factors, train), test, train=train,
                k=K, metrics=("precision", "ndcg", "auc"))
            convention = (convention_check(model, R, alpha, regularization, threads)
                          if solver == "cholesky" else None)
            first_objective = objective(matrix.indptr, matrix.indices, matrix.data - 1.0,
                                        model.user_factors, model.item_factors, regularization)
            first_metrics = per_seed[0]
    mean, std = seed_summary(per_seed)
    return {"library": "implicit", "solver": solver, "fit_s": float(np.median(fit)),
            "metrics": mean, "metrics_std": std, "per_seed": per_seed,
            "implicit_version": version("implicit"), "first_seed": first_metrics,
            "evaluate_on_factors": check, "convention": convention,
            "objective": first_objective}


def convention_check(model, R, alpha, regularization, threads):
    """The user half-step of both libraries on implicit's fitted item factors Y: fastmf's
    Cholesky kernel with c = 1 + α r against implicit's ``recalculate_user`` given the
    matrix 1 + α r (this script's input) and given α r. Returns the largest difference
    of each, relative to the largest factor."""
    from fastmf import _core

    Y = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    X = np.zeros((R.shape[0], Y.shape[1]), dtype=np.float32)
    values = R.data.astype(np.float32)
    reg = np.full(R.shape[0], regularization, dtype=np.float32)
    no_prior = np.zeros((0, Y.shape[1]), dtype=np.float32)      # every row shrunk toward 0
    failed = _core.implicit_als_half_step(R.indptr, R.indices, values, np.float32(alpha),
                                          np.float32(0.0), Y, Y.T @ Y, reg, no_prior, X,
                                          threads)
    if failed >= 0:
        raise SystemExit(f"fastmf's half-step failed on user index {failed}")
    users = np.arange(R.shape[0])
    scale = float(np.abs(X).max())
    out = {}
    for name, shift in (("1+alpha*r", 1.0), ("alpha*r", 0.0)):
        matrix = confidence_csr(R.indptr, R.indices, R.data, alpha, R.shape)
        matrix.data -= np.float32(1.0 - shift)
        X_implicit = model.recalculate_user(users, matrix)
        out[name] = float(np.abs(X_implicit - X).max()) / scale
    return out


class FactorModel:
    """implicit's factors as the fitted model that ``fastmf.metrics.evaluate`` accepts:
    ``user_ids_``, ``item_ids_`` and ``score_users`` (raw ids -> X·Yᵀ rows)."""

    def __init__(self, X, Y, train):
        self.X, self.Y = X, Y
        self.user_ids_, self.item_ids_ = train.user_ids, train.item_ids

    def score_users(self, users):
        return self.X[self.user_ids_.index(users)] @ self.Y.T


# -- driver ------------------------------------------------------------------------------

TASKS = {"fastmf": speed_fastmf, "implicit": speed_implicit,
         "quality-fastmf": quality_fastmf, "quality-implicit": quality_implicit}


def libraries(args):
    """[(library, its BLAS threads)] of the libraries to run."""
    return [("fastmf", args.fastmf_blas_threads)] + ([] if args.implicit_missing
                                                      else [("implicit", 1)])


def model_kwargs(args):
    return dict(factors=args.factors, regularization=args.regularization, alpha=args.alpha,
                cg_steps=args.cg_steps, implicit_loss=args.implicit_loss)


def quality(args, workdir):
    if not movielens_found(args.data_home):
        return None
    rows = []
    for solver in SOLVERS:
        for library, blas in libraries(args):
            r = run_worker(MODULE, f"quality-{library}", workdir / f"quality-{library}.json",
                           args.threads, data_home=args.data_home, solver=solver,
                           iterations=args.iterations, seeds=args.seeds, blas_threads=blas,
                           **model_kwargs(args))
            if r.get("convention"):
                c = r["convention"]
                print(f"quality: implicit's user solve on its fitted item factors, against "
                      f"fastmf's Cholesky half-step (c = 1 + alpha r): max |difference| / max "
                      f"|x| = {c['1+alpha*r']:.1e} given the matrix 1 + alpha r, "
                      f"{c['alpha*r']:.1e} given alpha r")
            m, sd = r["metrics"], r["metrics_std"]
            if "evaluate_on_factors" in r:
                e, first = r["evaluate_on_factors"], r["first_seed"]
                gap = max(abs(first[key] - e[key])
                          for key in (f"precision@{K}", f"ndcg@{K}", "auc"))
                print(f"quality: implicit {solver}: its recommend() top {K} scored for "
                      f"{first['users']} users; evaluate() on its factors ({e['users']} users) "
                      f"differs by at most {gap:.1e}")
            cells = [f"{m[key]:.4f} ± {sd[key]:.4f}" for key in (f"precision@{K}", f"ndcg@{K}",
                                                                 "auc")]
            rows.append((library, f"{solver} (use_cg={SOLVERS[solver]})" if library == "implicit"
                         else solver, *cells, f"{r['fit_s']:.2f}", f"{r['objective']:.6g}"))
    return rows


def measure(label, n_ratings, args, workdir):
    data_path = ensure_data(label, n_ratings, args.threads, workdir)
    results = []
    for solver in SOLVERS:
        for library, blas in libraries(args):
            r = run_worker(MODULE, library, workdir / f"{library}.json", args.threads,
                           data=data_path, solver=solver, speed_iterations=args.speed_iterations,
                           blas_threads=blas, **model_kwargs(args))
            results.append(r)
            print(f"{label} {library} {solver}: prep {r['prep_s']:.2f} s, fit {r['fit_s']:.2f} s, "
                  f"BLAS threads {r['blas']}"
                  + (f"; init_std {r['init_std']:g}, reported loss {r['reported_loss']:.6g}"
                     if library == "fastmf" else ""))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2M,20M", type=parse_sizes,
                        help="comma-separated numbers of ratings for the speed part: 2M, 20M, "
                             "200k, 50000, ...")
    parser.add_argument("--iterations", type=int, default=ITERATIONS,
                        help="ALS iterations of the quality part")
    parser.add_argument("--seeds", type=int, default=SEEDS,
                        help="quality: fit each library with seeds 0 .. SEEDS-1 and report the "
                             "mean ± standard deviation over them")
    parser.add_argument("--speed-iterations", type=int, default=SPEED_ITERATIONS,
                        help="ALS iterations of the speed part")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--regularization", type=float, default=REG, help="λ of both")
    parser.add_argument("--alpha", type=float, default=ALPHA,
                        help="α of c = 1 + α r, for both")
    parser.add_argument("--cg-steps", type=int, default=CG_STEPS,
                        help="conjugate-gradient steps per row of the cg solvers")
    parser.add_argument("--implicit-loss", choices=["on", "off"], default="on",
                        help="implicit computes its training loss every iteration, as fastmf "
                             "does (on), or not, its default (off)")
    parser.add_argument("--fastmf-blas-threads", type=int,
                        help="BLAS threads of fastmf's processes (default: --threads, as in the "
                             "other compare scripts; implicit's always get 1)")
    add_worker_arguments(parser, TASKS, movielens=True)
    parser.add_argument("--solver", choices=list(SOLVERS), help=argparse.SUPPRESS)
    parser.add_argument("--blas-threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fastmf_blas_threads is None:
        args.fastmf_blas_threads = args.threads
    if min(args.iterations, args.speed_iterations, args.cg_steps, args.seeds) < 1:
        parser.error("--iterations, --speed-iterations, --cg-steps and --seeds must be at "
                     "least 1")

    if args.worker:
        with blas_limit(args.blas_threads):
            if args.worker.startswith("quality-"):
                result = TASKS[args.worker](args.data_home, args.solver, args.iterations,
                                            args.threads, **model_kwargs(args),
                                            seeds=args.seeds)
            else:
                result = TASKS[args.worker](args.data, args.solver, args.speed_iterations,
                                            args.threads, **model_kwargs(args))
        Path(args.out).write_text(json.dumps(result))
        return

    args.implicit_missing = missing("implicit.cpu.als", "implicit")
    print(f"threads={args.threads} factors={args.factors} regularization={args.regularization:g} "
          f"alpha={args.alpha:g} cg_steps={args.cg_steps} float32 cpus={os.cpu_count()}; "
          f"BLAS threads: fastmf {args.fastmf_blas_threads}, implicit 1; "
          f"numpy {np.__version__}; implicit "
          + (f"{version('implicit')} (training loss {args.implicit_loss})"
             if not args.implicit_missing else "-"))
    if args.implicit_missing:
        print(f"{args.implicit_missing}: running fastmf only")
    quality_rows, speed_rows = None, []
    with working_folder(args.workdir, "fastmf-implicit-") as workdir:
        print("\n".join(describe_host(args.threads, workdir)))
        if "quality" not in args.skip:
            quality_rows = quality(args, workdir)
        if "speed" not in args.skip:
            for label, n_ratings in args.sizes:
                results = measure(label, n_ratings, args, workdir)
                base = {r["solver"]: r["s_per_iter"] for r in results if r["library"] == "fastmf"}
                for r in results:
                    speed_rows.append((label, r["library"], r["solver"], f"{r['s_per_iter']:.3f}",
                                       f"{r['fit_s'] / r['iterations']:.3f}",
                                       f"{r['s_per_iter'] / base[r['solver']]:.2f}x",
                                       f"{r['peak_rss_gb']:.2f}", f"{r['rss_before_fit_gb']:.2f}",
                                       f"{r['objective']:.6g}"))
    if quality_rows:
        print()
        print(f"MovieLens 100K, ratings >= {POSITIVE} as positives, {TEST_SIZE:g} held out "
              f"(seed {SPLIT_SEED}), {args.iterations} iterations; mean ± standard deviation "
              f"over model seeds 0..{args.seeds - 1}; objective of seed 0:")
        print_table(("library", "solver", f"precision@{K}", f"ndcg@{K}", "auc", "fit s",
                     "objective"), quality_rows, left=2)
    if speed_rows:
        print()
        print(f"Synthetic ratings as counts, {args.speed_iterations} iterations:")
        print_table(("size", "library", "solver", "s/iter", "fit s/iter", "vs fastmf",
                     "peak RSS GB", "RSS before fit GB", "objective"), speed_rows, left=3)
        print("s/iter: median iteration as each library reports it (fastmf with its loss; "
              f"implicit {'with' if args.implicit_loss == 'on' else 'without'} its training "
              "loss);\nvs fastmf: against fastmf with the same solver. Objective: "
              "Σ c(p - x·y)² + λ(‖X‖² + ‖Y‖²) of the fitted factors, computed alike for both.")


if __name__ == "__main__":
    main()
