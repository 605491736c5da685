"""Seconds per ALS iteration beyond one machine: fastmf.distributed on a 2-worker Dask
LocalCluster against fastmf on one machine and Spark's ALS, on the same cores.

All fit explicit ALS with weighted-λ (λ·n_u, as Spark's ALS does), rank 64, float32 (Spark:
its own float32 factors), every row solved exactly, on the synthetic ratings of
``bench/compare/_common.py`` (``2M``: 20k users x 5k items; ``20M``: 200k x 50k). fastmf fits
biases as well (k + 1 unknowns per row; Spark's model has none). Run from the repository
root (pyspark and Java are optional; without them Spark is skipped)::

    python -m bench.compare.spark                              # 2M and 20M, 5 iterations
    python -m bench.compare.spark --sizes 200k --iterations 3  # a smoke run

Each run is a fresh process:

- ``fastmf``: ``fastmf.ALS(num_threads=2)`` on a prebuilt Interactions; s/iter is the median
  of ``history_[i]["seconds"]`` (both half-steps and the per-iteration loss).
- ``dask`` (and ``dask-implicit``, ImplicitALS against ``fastmf.ImplicitALS``): a
  ``LocalCluster(n_workers=2, threads_per_worker=1)``; the ratings are read by the workers
  from 8 Parquet files (they never pass through the driver). s/iter as for fastmf (the
  same loss, evaluated by the workers); "setup s" is reading the files and building the
  blocks; bytes/iter is the median over iterations of the bytes the workers sent
  (``transfer_outgoing_bytes_total``, Dask's own counter); peak RSS of the driver and of
  each worker process (VmHWM). The factors are checked equal to fastmf's, bit for bit.
- ``dask-threads`` (with ``--dask-threads``): the same on a ``LocalCluster(n_workers=2,
  threads_per_worker=1, processes=False)``, two workers in one process that share its
  memory: the engine's own cost, where ``dask`` adds two processes' copies of the factors
  they read (each worker gathers the other side's rows from its own copy).
- ``spark``: ``pyspark.ml.recommendation.ALS`` on ``local[2]`` (2 user and 2 item blocks)
  from the same Parquet files (cached and counted first); after an untimed 1-iteration fit
  that warms the JVM up, fits of ``maxIter`` 1 and N; s/iter is the difference of their
  seconds over N - 1, so that Spark's setup cancels out.
"""
import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from bench.compare._common import (add_worker_arguments, describe_host, ensure_data, load,
                                   parse_sizes, peak_rss_gb, run_worker, version, working_folder)

MODULE = "bench.compare.spark"

REG, BIAS_REG = 0.05, 5.0
N_FILES = 8


def write_parquet(data_path, folder):
    """The ratings of ``data_path`` as N_FILES Parquet files in ``folder`` (once)."""
    import pandas as pd

    folder.mkdir(exist_ok=True)
    if len(list(folder.glob("*.parquet"))) == N_FILES:
        return
    users, items, ratings = load(data_path)
    order = np.random.default_rng(0).permutation(len(users))     # files in no useful order
    for k, rows in enumerate(np.array_split(order, N_FILES)):
        pd.DataFrame({"user": users[rows], "item": items[rows], "rating": ratings[rows]}
                     ).to_parquet(folder / f"part-{k}.parquet")


def _params(iterations, factors):
    return dict(factors=factors, regularization=REG, iterations=iterations, seed=0,
                verbose=False)


def _local_model(kind, iterations, factors, threads):
    import fastmf
    if kind == "implicit":             # Spark's confidence: 1 + alpha * r
        return fastmf.ImplicitALS(**_params(iterations, factors), confidence="linear",
                                  num_threads=threads)
    return fastmf.ALS(**_params(iterations, factors), bias_regularization=BIAS_REG,
                      weighted=True, num_threads=threads)


def fit_fastmf(data_path, iterations, factors, threads, kind, out_factors):
    import fastmf

    users, items, ratings = load(data_path)
    data = fastmf.Interactions.from_arrays(users, items, ratings)
    model = _local_model(kind, iterations, factors, threads)
    started = time.perf_counter()
    model.fit(data)
    fit = time.perf_counter() - started
    np.save(out_factors, model.user_factors_)
    return {"library": "fastmf" if kind == "explicit" else "fastmf-implicit", "fit_s": fit,
            "s_per_iter": float(np.median([r["seconds"] for r in model.history_])),
            "peak_rss_gb": peak_rss_gb()}


def fit_dask(folder, iterations, factors, kind, local_factors, processes=True):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import fastmf.distributed as fd

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                           dashboard_address=":0")
    client = Client(cluster)
    try:
        client.run(lambda: __import__("fastmf.distributed"))         # warm the workers
        sent = []

        def count(record):
            sent.append(sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total
                                       ).values()))

        params = _params(iterations, factors)
        if kind == "implicit":
            model = fd.ImplicitALS(**params, confidence="linear", client=client)
        else:
            model = fd.ALS(**params, bias_regularization=BIAS_REG, weighted=True, client=client)
        started = time.perf_counter()
        model.fit(dd.read_parquet(str(folder)), callbacks=[count])
        fit = time.perf_counter() - started
        seconds = [r["seconds"] for r in model.history_]
        workers_rss = sorted(client.run(peak_rss_gb).values())
        same = bool(np.array_equal(np.load(local_factors), model.user_factors_))
    finally:
        client.close()
        cluster.close()
    library = "dask" if processes else "dask-threads"
    return {"library": library if kind == "explicit" else f"{library}-implicit", "fit_s": fit,
            "s_per_iter": float(np.median(seconds)), "setup_s": fit - sum(seconds),
            "bytes_per_iter": float(np.median(np.diff(sent))) if len(sent) > 1 else float("nan"),
            "peak_rss_gb": peak_rss_gb(), "workers_peak_rss_gb": workers_rss,
            "same_factors": same, "dask_version": version("distributed")}


def fit_spark(folder, iterations, factors):
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").config("spark.driver.memory", "8g")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        frame = spark.read.parquet(str(folder)).cache()
        frame.count()
        fits = {}
        for n in [1] + sorted({1, iterations}):      # the first, untimed, warms the JVM up
            als = ALS(rank=factors, maxIter=n, regParam=REG, userCol="user", itemCol="item",
                      ratingCol="rating", seed=0, numUserBlocks=2, numItemBlocks=2)
            started = time.perf_counter()
            als.fit(frame).userFactors.count()
            fits[n] = time.perf_counter() - started
    finally:
        spark.stop()
    marginal = ((fits[iterations] - fits[1]) / (iterations - 1) if iterations > 1
                else fits[1])
    return {"library": "spark", "fit_s": fits[iterations], "fit_1_iter_s": fits[1],
            "s_per_iter": marginal, "peak_rss_gb": peak_rss_gb(),
            "spark_version": version("pyspark")}


def spark_missing():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install pyspark)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (Spark needs it)"
    return None


def run(task, workdir, args, **kwargs):
    out = workdir / f"{task}.json"
    return run_worker(MODULE, task, out, args.threads, iterations=args.iterations,
                      factors=args.factors, **kwargs)


def measure(label, n_ratings, args, workdir):
    data_path = ensure_data(label, n_ratings, args.threads, workdir)
    folder = workdir / f"parquet-{label}"
    write_parquet(data_path, folder)
    rows = []
    for kind in args.kinds:
        factors_path = workdir / f"factors-{kind}.npy"
        rounds = []
        for _ in range(args.rounds):          # interleaved, so a slow spell hits all alike
            fits = [run("fastmf", workdir, args, data=data_path, kind=kind,
                        factors_out=factors_path),
                    run("dask", workdir, args, data=folder, kind=kind,
                        factors_out=factors_path)]
            if args.dask_threads:
                fits.append(run("dask", workdir, args, data=folder, kind=kind,
                                factors_out=factors_path, dask_processes="no"))
            rounds.append(fits)
        rows.extend(_over_rounds(rounds))
    if args.spark_missing is None and "explicit" in args.kinds:
        rows.append(run("spark", workdir, args, data=folder))
    return rows


def _over_rounds(rounds):
    """Each library's fit of the first round, with s/iter the median over the rounds and
    ``ratios`` its s/iter over the one-machine fit's of the same round, round by round."""
    rows = []
    for j, first in enumerate(rounds[0]):
        seconds = [fits[j]["s_per_iter"] for fits in rounds]
        ratios = [fits[j]["s_per_iter"] / fits[0]["s_per_iter"] for fits in rounds]
        rows.append(dict(first, s_per_iter=float(np.median(seconds)), rounds_s=seconds,
                         ratios=ratios,
                         same_factors=all(fits[j].get("same_factors", True) for fits in rounds)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2M,20M", type=parse_sizes)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--kinds", default="explicit,implicit",
                        type=lambda text: text.split(","),
                        help="explicit (ALS; Spark too), implicit (ImplicitALS) or both")
    parser.add_argument("--rounds", type=int, default=1,
                        help="fit fastmf and Dask this many times, interleaved; s/iter is the "
                             "median over the rounds, 'vs one machine' the median of the "
                             "rounds' ratios")
    parser.add_argument("--no-spark", action="store_true", help="skip Spark")
    parser.add_argument("--dask-threads", action="store_true",
                        help="also fit on 2 Dask workers that are threads of one process "
                             "(the engine's cost without two processes' copies of the factors)")
    add_worker_arguments(parser, ["fastmf", "dask", "spark"])
    for hidden in ("--kind", "--factors-out", "--dask-processes"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        if args.worker == "fastmf":
            result = fit_fastmf(args.data, args.iterations, args.factors, args.threads,
                                args.kind, args.factors_out)
        elif args.worker == "dask":
            result = fit_dask(args.data, args.iterations, args.factors, args.kind,
                              args.factors_out, processes=args.dask_processes != "no")
        else:
            result = fit_spark(args.data, args.iterations, args.factors)
        Path(args.out).write_text(json.dumps(result))
        return

    args.spark_missing = "--no-spark" if args.no_spark else spark_missing()
    print(f"cores={os.cpu_count()} factors={args.factors} iterations={args.iterations}; "
          f"fastmf on {args.threads} threads, Dask on 2 workers x 1 thread, Spark local[2]")
    if args.spark_missing:
        print(f"Spark skipped: {args.spark_missing}")
    table = []
    with working_folder(args.workdir, "fastmf-spark-") as workdir:
        print("\n".join(describe_host(args.threads, workdir)))
        for label, n_ratings in args.sizes:
            rows = measure(label, n_ratings, args, workdir)
            base = {r["library"].split("-")[-1] if "-" in r["library"] else "explicit":
                    r["s_per_iter"] for r in rows if r["library"].startswith("fastmf")}
            for r in rows:
                kind = "implicit" if r["library"].endswith("implicit") else "explicit"
                extra = ""
                if r["library"].startswith("dask"):
                    extra = (f"setup {r['setup_s']:.1f} s, {r['bytes_per_iter'] / 1e6:.1f} MB/iter, "
                             f"workers' peak RSS {', '.join(f'{g:.2f}' for g in r['workers_peak_rss_gb'])} GB, "
                             f"factors {'equal' if r['same_factors'] else 'DIFFERENT'}")
                elif r["library"] == "spark":
                    extra = f"fit {r['fit_s']:.1f} s ({r['fit_1_iter_s']:.1f} s with 1 iteration)"
                ratio = f"{r['s_per_iter'] / base[kind]:.2f}x"
                if len(r.get("ratios", ())) > 1:
                    rounds = f"rounds: s/iter {', '.join(f'{x:.3f}' for x in r['rounds_s'])}"
                    if not r["library"].startswith("fastmf"):
                        rounds += f", vs one machine {', '.join(f'{x:.2f}' for x in r['ratios'])}"
                    extra = f"{extra}; {rounds}" if extra else rounds
                    ratio = f"{np.median(r['ratios']):.2f}x"
                table.append((label, r["library"], f"{r['s_per_iter']:.3f}", ratio,
                              f"{r['peak_rss_gb']:.2f}", extra))
    print()
    header = ("size", "library", "s/iter", "vs one machine", "peak RSS GB (driver)", "")
    widths = [max(len(str(row[j])) for row in [header, *table]) for j in range(len(header))]
    for row in [header, ["-" * w for w in widths[:-1]] + [""], *table]:
        print("  ".join(str(c).ljust(w) if j in (0, 1, 5) else str(c).rjust(w)
                        for j, (c, w) in enumerate(zip(row, widths))).rstrip())


if __name__ == "__main__":
    main()
