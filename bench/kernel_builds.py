"""The four trainers in each kernel build (``FASTMF_KERNELS``), and numpy's GEMM rate.

For each build this machine runs (or those given by ``--builds``), a fresh Python with
``FASTMF_KERNELS=<build>`` fits, on the synthetic ratings of ``bench/compare/_common.py``
(``2M`` by default, kept in ``--workdir``; values read as counts for the implicit models),
at k = 64, float32, ``--threads`` threads, each model's defaults otherwise:

- ALS: seconds per iteration (both half-steps and the training loss);
- ImplicitALS with ``solver="cholesky"`` and with ``solver="cg"``: seconds per iteration;
- SGD: seconds per epoch;
- BPR: samples per second (an epoch draws as many samples as there are ratings).

Each fit runs in its own process. Each figure is the median over the iterations of one fit
(``history_`` seconds; the first iteration left out), and the median of that over
``--rounds`` rounds; in a round each trainer runs in every build, one right after another,
so that the builds meet the same machine: the avx512-over-avx2 speed-up is the median of
the rounds' ratios, with their range. Then
numpy's float32 GEMM rate on ``--threads`` BLAS threads (square n x n products, and a
k x m by m x k Gram product as ALS forms them), and the Gram flops bound of an ALS
iteration, 4·nnz·k² flops (two half-steps, each adding every rating's k x k outer product,
a multiply and an add per entry), at that rate.

Then each trainer's bound on this machine, the larger of two floors: its arithmetic at
numpy's best GEMM rate, and the time the machine takes to read the rows the trainer reads,
in the order it reads them, with nothing else to do, measured with fastmf's own gathering
kernels (the training loss, which reads each rating's row of the other side after its
row's own, prefetching as the trainers do; and predictions of the ratings in a random
order, which read two random rows a rating):

- ALS and ImplicitALS Cholesky: 4·nnz·k² flops; the loss by users (item rows) plus the
  loss by items (user rows);
- ImplicitALS CG (3 steps): 4 products with the gathered rows a half-step, two
  matrix-vector products each, 32·nnz·k flops; the same gathers (the rows stay in cache
  between a row's products);
- SGD: 12·k flops a rating (a dot product and two updates); the random-order predictions
  (an epoch also writes both rows back);
- BPR: 18·k flops a sample; 1.5 times the random-order predictions (three rows a sample;
  drawing the sample reads the positives besides).

Run from the repository root::

    python -m bench.kernel_builds --sizes 2M --workdir /tmp/fastmf-bench
"""
import argparse
import json
import os
import statistics
import time
from pathlib import Path

from bench.compare._common import (add_worker_arguments, describe_host, ensure_data, load,
                                   parse_sizes, print_table, run_worker, working_folder)

MODULE = "bench.kernel_builds"
K = 64
TRAINERS = {   # name: (model, parameters, unit)
    "ALS": ("ALS", {}, "s/iter"),
    "ImplicitALS cholesky": ("ImplicitALS", {"solver": "cholesky"}, "s/iter"),
    "ImplicitALS cg": ("ImplicitALS", {"solver": "cg"}, "s/iter"),
    "SGD": ("SGD", {}, "s/epoch"),
    "BPR": ("BPR", {}, "samples/s"),
}


def fit_trainer(name, data_path, iterations, threads):
    """Worker: the trainer's median seconds per iteration (BPR: samples/s)."""
    import fastmf
    from fastmf import _core

    users, items, ratings = load(data_path)
    data = fastmf.Interactions.from_arrays(users, items, ratings)
    model, params, unit = TRAINERS[name]
    steps = "epochs" if model in ("SGD", "BPR") else "iterations"
    fitted = getattr(fastmf, model)(factors=K, seed=0, num_threads=threads, verbose=False,
                                    **{steps: iterations}, **params).fit(data)
    seconds = statistics.median(r["seconds"] for r in fitted.history_[1:])
    return {"variant": _core.variant, "nnz": int(data.nnz),
            "value": data.nnz / seconds if unit == "samples/s" else seconds}


def gather_floors(data_path, threads, repeats=3):
    """Worker: seconds (median of ``repeats``) of the kernels that only read what a trainer
    reads: the loss by users and by items, and predictions of the ratings in random order."""
    import numpy as np

    import fastmf
    from fastmf import _core
    from fastmf._kernels.arrays import cache_aligned

    users, items, ratings = load(data_path)
    data = fastmf.Interactions.from_arrays(users, items, ratings)
    rng = np.random.default_rng(0)
    X = cache_aligned(rng.normal(0, 0.1, (data.n_users, K)).astype(np.float32))
    Y = cache_aligned(rng.normal(0, 0.1, (data.n_items, K)).astype(np.float32))
    xb, yb = np.zeros(data.n_users, np.float32), np.zeros(data.n_items, np.float32)
    order = rng.permutation(data.nnz)
    uidx, iidx = data.uidx[order].astype(np.int64), data.iidx[order].astype(np.int64)
    out = np.empty(data.nnz, np.float32)

    def loss(R, A, ab, B, bb):
        per_row = np.empty(R.shape[0])
        _core.row_squared_errors(R.indptr, R.indices, R.data, A, ab, B, bb, np.float32(0),
                                 per_row, threads)

    by_user, by_item = data.by_user.astype(np.float32), data.by_item.astype(np.float32)
    tasks = {"loss by users": lambda: loss(by_user, X, xb, Y, yb),
             "loss by items": lambda: loss(by_item, Y, yb, X, xb),
             "random pairs": lambda: _core.predict_pairs(X, xb, Y, yb, np.float32(0), uidx,
                                                         iidx, out, threads)}
    floors = {}
    for name, task in tasks.items():
        task()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            task()
            times.append(time.perf_counter() - started)
        floors[name] = statistics.median(times)
    return {"variant": _core.variant, **floors}


def bounds(nnz, gflops, floors, steps=3):
    """(compute seconds, memory seconds) of each trainer's iteration (BPR: of an epoch)."""
    rate = gflops * 1e9
    gathers = floors["loss by users"] + floors["loss by items"]
    return {"ALS": (4 * nnz * K * K / rate, gathers),
            "ImplicitALS cholesky": (4 * nnz * K * K / rate, gathers),
            "ImplicitALS cg": (2 * (steps + 1) * 4 * nnz * K / rate, gathers),
            "SGD": (12 * nnz * K / rate, floors["random pairs"]),
            "BPR": (18 * nnz * K / rate, 1.5 * floors["random pairs"])}


def runnable_builds():
    from fastmf import _core
    return [name for name in _core.builds if _core.cpu_runs(name)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("2M"))
    parser.add_argument("--builds", default=None,
                        help="comma-separated, best first (default: every build this CPU runs)")
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    add_worker_arguments(parser, ["fit", "floors"])
    parser.add_argument("--trainer", choices=list(TRAINERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "fit":
        result = fit_trainer(args.trainer, args.data, args.iterations, args.threads)
        Path(args.out).write_text(json.dumps(result))
        return
    if args.worker == "floors":
        Path(args.out).write_text(json.dumps(gather_floors(args.data, args.threads)))
        return
    builds = args.builds.split(",") if args.builds else runnable_builds()
    with working_folder(args.workdir, "fastmf-builds-") as workdir:
        rates = run_worker("bench.compare._common", "gemm", workdir / "gemm.json", args.threads)
        print("\n".join(describe_host(args.threads, workdir, rates)))
        print(f"k={K} float32, {args.threads} threads, {args.iterations} iterations a fit "
              f"(median of all but the first), {args.rounds} rounds; builds {', '.join(builds)}")
        for label, n_ratings in args.sizes:
            data_path = ensure_data(label, n_ratings, args.threads, workdir)
            runs = {build: {name: [] for name in TRAINERS} for build in builds}
            for _ in range(args.rounds):
                for name in TRAINERS:
                    for build in builds:
                        os.environ["FASTMF_KERNELS"] = build
                        result = run_worker(MODULE, "fit", workdir / "fit.json", args.threads,
                                            data=data_path, iterations=args.iterations,
                                            trainer=name)
                        assert result["variant"] == build, result
                        runs[build][name].append(result["value"])
                        nnz = result["nnz"]
            os.environ.pop("FASTMF_KERNELS")
            bound = 4 * nnz * K * K / (max(rates.values()) * 1e9)
            print(f"\n{label} ({nnz:,} ratings): the Gram flops of an ALS iteration, "
                  f"4·nnz·k² = {4 * nnz * K * K / 1e9:.1f} GFLOP, take {bound:.3f} s at "
                  f"numpy's best rate above")
            header = ["trainer", "unit", *builds]
            if "avx512" in builds and "avx2" in builds:
                header.append("avx512 vs avx2 (range)")
            rows = []
            for name, (_, _, unit) in TRAINERS.items():
                medians = {b: statistics.median(runs[b][name]) for b in builds}
                row = [name, unit, *(f"{medians[b]:.4g}" for b in builds)]
                if "avx512" in builds and "avx2" in builds:
                    # per round: both builds met the same machine, whatever else ran on it
                    faster = [(a / b if unit == "samples/s" else b / a)
                              for a, b in zip(runs["avx512"][name], runs["avx2"][name])]
                    row.append(f"{statistics.median(faster):.2f}x ({min(faster):.2f}-"
                               f"{max(faster):.2f})")
                rows.append(row)
            print_table(header, rows, left=2)
            print("rounds: " + "; ".join(
                f"{b} " + " ".join(f"{x:.3f}" for x in runs[b]["ALS"]) for b in builds)
                + " (ALS s/iter)")
            floors = run_worker(MODULE, "floors", workdir / "floors.json", args.threads,
                                data=data_path)
            print(f"\nWhat only reading the rows takes ({floors.pop('variant')} build): " +
                  ", ".join(f"{name} {t:.3f} s" for name, t in floors.items()))
            rows = []
            for name, (compute, memory) in bounds(nnz, max(rates.values()), floors).items():
                unit = TRAINERS[name][2]
                value = statistics.median(runs[builds[0]][name])
                seconds = nnz / value if unit == "samples/s" else value
                rows.append([name, f"{seconds:.3f}", f"{compute:.3f}", f"{memory:.3f}",
                             f"{seconds / max(compute, memory):.2f}x"])
            print_table([f"{builds[0]}, s an iteration", "measured", "arithmetic at GEMM rate",
                         "reading the rows", "measured / larger"], rows, left=1)


if __name__ == "__main__":
    main()
