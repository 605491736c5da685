"""Seconds per ALS iteration and peak memory: fastmf.ALS against cmfrec's explicit ALS.

Both fit the same biased model on the same synthetic ratings with the same threads:
r̂ = mu + b_u + b_i + p_u·q_i, weighted-λ on the factors (λ·n_u), a constant penalty on
the biases, every row solved exactly by Cholesky (cmfrec: ``method="als"``,
``use_cg=False``; float32 in both unless ``--dtype float64``). Run from the repository
root (cmfrec is optional; without it only fastmf is timed)::

    python -m bench.compare.cmfrec                       # 2M and 20M ratings, 5 iterations
    python -m bench.compare.cmfrec --sizes 200k --iterations 3     # a smoke run

Sizes: ``2M`` is ``make_ratings(20_000, 5_000, 2_000_000)``, ``20M`` is
``make_ratings(200_000, 50_000, 20_000_000)``; any ``<N>``, ``<N>k`` or ``<N>M`` keeps
their shape: 100 ratings per user, 400 per item. The data are generated once per size in
their own process and saved to an ``.npz``; each library then runs in a fresh process
that loads it, fits and reports its own peak resident memory (VmHWM), so no process
carries another's memory. What each timing includes:

- fastmf, s/iter: median of ``history_[i]["seconds"]``: both half-steps plus the loss and
  train RMSE that fastmf evaluates after every iteration. fit s: ``fit()`` on a prebuilt
  ``Interactions`` (building it, "prep s", is timed apart).
- cmfrec, fit s: ``fit()`` on a scipy COO matrix: its own CSR/CSC build, bias
  initialization and the iterations (``precompute_for_predictions=False``). s/iter:
  (fit s of N iterations - fit s of 1 iteration) / (N - 1), from a second, 1-iteration
  process, so that setup cancels out (with ``--iterations 1``: fit s).
- peak RSS: the process's VmHWM after ``fit()``, data loaded included ("RSS before fit"
  is the same process after loading and preparing the data); the RMSE is computed later.
- threads: fastmf and cmfrec run ``--threads`` OpenMP threads. cmfrec calls BLAS from
  inside its parallel loops, so its BLAS is held to ``--cmfrec-blas-threads`` (1 by
  default: no oversubscription) by threadpoolctl around ``fit()``; the worker reports
  the BLAS libraries and thread counts it saw.
"""
import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from bench.compare._common import (add_worker_arguments, describe_host, ensure_data, load, missing,
                                   parse_sizes, peak_rss_gb, print_table, run_worker, version,
                                   working_folder)

MODULE = "bench.compare.cmfrec"
# The objective of both fits (weighted-λ, as in Spark; not fastmf.ALS's defaults, which are
# regularization=1.0 and bias_regularization=3.0 with weighted=0.5).
REG, BIAS_REG = 0.05, 5.0
CHUNK = 1 << 21                    # pairs per predict call when computing the RMSE


def scores(ratings, predict, X, xb, Y, yb, user_counts, item_counts):
    """Train RMSE and fastmf's objective, in float64, predicting CHUNK pairs at a time.

    The objective is the sum of squared errors + REG (Σ_u n_u ‖p_u‖² + Σ_i n_i ‖q_i‖²)
    + BIAS_REG (‖b_user‖² + ‖b_item‖²), which both libraries are set up to minimise.
    """
    sse = 0.0
    for lo in range(0, len(ratings), CHUNK):
        err = ratings[lo:lo + CHUNK].astype(np.float64) - predict(lo, lo + CHUNK)
        sse += float(err @ err)
    row_sq = lambda A: np.einsum("ij,ij->i", A, A, dtype=np.float64)  # noqa: E731
    sum_sq = lambda a: float(np.dot(a.astype(np.float64), a))            # noqa: E731
    penalty = REG * float(user_counts @ row_sq(X) + item_counts @ row_sq(Y))
    bias = BIAS_REG * (sum_sq(xb) + sum_sq(yb))
    return {"train_rmse": (sse / len(ratings)) ** 0.5, "objective": sse + penalty + bias}


# -- the two libraries -----------------------------------------------------------------

def fit_fastmf(path, iterations, threads, factors, dtype):
    import fastmf

    users, items, ratings = load(path)
    started = time.perf_counter()
    data = fastmf.Interactions.from_arrays(users, items, ratings)
    prep = time.perf_counter() - started
    before = peak_rss_gb()
    model = fastmf.ALS(factors=factors, regularization=REG, bias_regularization=BIAS_REG,
                       weighted=True, iterations=iterations, dtype=dtype, num_threads=threads,
                       seed=0, verbose=False)
    started = time.perf_counter()
    model.fit(data)
    fit = time.perf_counter() - started
    peak = peak_rss_gb()
    seconds = [record["seconds"] for record in model.history_]
    predict = lambda lo, hi: model.predict(users[lo:hi], items[lo:hi], clip=False)  # noqa: E731
    return {"library": "fastmf", "prep_s": prep, "fit_s": fit, "iterations": len(seconds),
            "s_per_iter": float(np.median(seconds)), "rss_before_fit_gb": before,
            "peak_rss_gb": peak,
            **scores(ratings, predict, model.user_factors_, model.user_biases_,
                     model.item_factors_, model.item_biases_, data.by_user.counts(),
                     data.by_item.counts())}


def fit_cmfrec(path, iterations, threads, factors, dtype, blas_threads=1):
    import cmfrec
    import scipy.sparse as sp
    from threadpoolctl import threadpool_info, threadpool_limits

    users, items, ratings = load(path)
    n_users, n_items = int(users.max()) + 1, int(items.max()) + 1
    X = sp.coo_matrix((ratings.astype(dtype), (users, items)), shape=(n_users, n_items))
    # cmfrec's lambda_ is (user bias, item bias, A, B, C, D). scale_lam multiplies the
    # factor penalty by each row's count (weighted-λ); scale_bias_const multiplies both
    # bias penalties by one constant instead, which is divided out here so that the
    # bias penalty is BIAS_REG as in fastmf (the constant is checked after the fit).
    user_scale, item_scale = len(ratings) / n_users, len(ratings) / n_items
    lam = np.array([BIAS_REG / user_scale, BIAS_REG / item_scale, REG, REG, REG, REG])
    before = peak_rss_gb()
    model = cmfrec.CMF(k=factors, lambda_=lam, method="als", use_cg=False, finalize_chol=False,
                       user_bias=True, item_bias=True, center=True, scale_lam=True,
                       scale_bias_const=True, niter=iterations, nthreads=threads,
                       use_float=dtype == "float32", precompute_for_predictions=False,
                       produce_dicts=False, random_state=0, verbose=False)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        blas = sorted({f"{info['internal_api']} x{info['num_threads']}"
                       for info in threadpool_info() if info["user_api"] == "blas"})
        started = time.perf_counter()
        model.fit(X)
        fit = time.perf_counter() - started
    peak = peak_rss_gb()
    bias_reg = [float(lam[0] * np.ravel(model.scaling_biasA_)[0]),
                float(lam[1] * np.ravel(model.scaling_biasB_)[0])]
    predict = lambda lo, hi: model.predict(users[lo:hi], items[lo:hi])  # noqa: E731
    return {"library": "cmfrec", "fit_s": fit, "iterations": iterations,
            "rss_before_fit_gb": before, "peak_rss_gb": peak,
            "effective_bias_reg": bias_reg, "cmfrec_version": version("cmfrec"),
            "blas": blas,
            **scores(ratings, predict, model.A_, model.user_bias_, model.B_, model.item_bias_,
                     np.bincount(users, minlength=n_users), np.bincount(items, minlength=n_items))}


# -- driver ----------------------------------------------------------------------------

def measure(label, n_ratings, args, workdir):
    data_path = ensure_data(label, n_ratings, args.threads, workdir)
    common = dict(data=data_path, factors=args.factors, dtype=args.dtype)
    results = [run_worker(MODULE, "fastmf", workdir / "fastmf.json", args.threads,
                          iterations=args.iterations, **common)]
    if args.cmfrec_missing is None:
        common = dict(common, cmfrec_blas_threads=args.cmfrec_blas_threads)
        full = run_worker(MODULE, "cmfrec", workdir / "cmfrec.json", args.threads,
                          iterations=args.iterations, **common)
        full["s_per_iter"] = full["fit_s"] / args.iterations
        if args.iterations > 1:
            one = run_worker(MODULE, "cmfrec", workdir / "cmfrec1.json", args.threads,
                             iterations=1, **common)
            full["s_per_iter"] = (full["fit_s"] - one["fit_s"]) / (args.iterations - 1)
            full["fit_1_iter_s"] = one["fit_s"]
        results.append(full)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2M,20M", type=parse_sizes,
                        help="comma-separated numbers of ratings: 2M, 20M, 200k, 50000, ...")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--cmfrec-blas-threads", type=int, default=1,
                        help="BLAS threads inside cmfrec's OpenMP loops (default 1)")
    add_worker_arguments(parser, ["fastmf", "cmfrec"])
    args = parser.parse_args(argv)

    if args.worker:
        if args.worker == "fastmf":
            result = fit_fastmf(args.data, args.iterations, args.threads, args.factors, args.dtype)
        else:
            result = fit_cmfrec(args.data, args.iterations, args.threads, args.factors, args.dtype,
                                args.cmfrec_blas_threads)
        Path(args.out).write_text(json.dumps(result))
        return

    args.cmfrec_missing = missing("cmfrec", "cmfrec")
    print(f"threads={args.threads} factors={args.factors} iterations={args.iterations} "
          f"dtype={args.dtype} cpus={os.cpu_count()}; numpy {np.__version__}")
    if args.cmfrec_missing:
        print(f"{args.cmfrec_missing}: timing fastmf only")
    rows = []
    with working_folder(args.workdir, "fastmf-cmp-") as workdir:
        print("\n".join(describe_host(args.threads, workdir)))
        for label, n_ratings in args.sizes:
            results = measure(label, n_ratings, args, workdir)
            base = results[0]["s_per_iter"]
            for r in results:
                rows.append((label, r["library"], f"{r['s_per_iter']:.3f}",
                             f"{r['fit_s'] / r['iterations']:.3f}",
                             f"{r['s_per_iter'] / base:.2f}x", f"{r['peak_rss_gb']:.2f}",
                             f"{r['rss_before_fit_gb']:.2f}", f"{r['train_rmse']:.4f}",
                             f"{r['objective']:.6g}"))
                if r["library"] == "fastmf":
                    print(f"{label} fastmf: prep {r['prep_s']:.2f} s, fit {r['fit_s']:.2f} s")
                else:
                    print(f"{label} cmfrec {r['cmfrec_version']}: fit {r['fit_s']:.2f} s "
                          f"({r.get('fit_1_iter_s', float('nan')):.2f} s with 1 iteration); "
                          f"bias penalty user {r['effective_bias_reg'][0]:.3g}, "
                          f"item {r['effective_bias_reg'][1]:.3g} (fastmf: {BIAS_REG:g}); "
                          f"BLAS in fit: {', '.join(r['blas'])}")
    print()
    print_table(("size", "library", "s/iter", "fit s/iter", "vs fastmf", "peak RSS GB",
                 "RSS before fit GB", "train RMSE", "objective"), rows, left=2)
    print("s/iter: fastmf's median iteration with its loss evaluation; cmfrec's fit time "
          "marginal in iterations.\nRMSE and objective after the same iterations from "
          "different random starts: they agree as iterations grow.")


if __name__ == "__main__":
    main()
