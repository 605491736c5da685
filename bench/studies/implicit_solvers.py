"""ImplicitALS's solvers at large k: the training objective against fit time.

On the 2M synthetic set of bench/compare/_common.py (20,000 users x 5,000 items, 2M
ratings, seed 0; generated once into ``--workdir``), ``fastmf.ImplicitALS`` in float32
with ``regularization=0.05``, ``alpha=1.0`` on Hu, Koren and Volinsky's objective
(``unobserved_weight=1``, ``regularization_exponent=0``, ``init_std=0.1``), ``seed=0``, runs
at each k of ``--factors`` with ``solver="cholesky"`` for the iterations given by ``--iterations`` (10 at k = 512;
fewer at k = 1024, where an iteration takes minutes), then ``solver="cg"``
(``cg_steps=3``) and ``solver="block"`` at each ``--block-sizes``, each stopped at the
first iteration whose objective is at or below Cholesky's last one, or once it has run
as long as Cholesky did (or ``--max-iterations``). Every run starts from the same factors.
Per iteration it records the cumulative fit seconds (the half-steps only, not the
objective's evaluation) and the full objective (``history_["loss"]``'s formula).
Writes ``implicit_solvers.json`` and ``implicit_solvers.png`` (objective against seconds,
log time axis) into ``--out`` and prints, per k and solver, the seconds per iteration,
the last objective and the seconds to reach Cholesky's last objective. Run from the
repository root, niced on a shared machine::

    nice python -m bench.studies.implicit_solvers --workdir /tmp/fastmf-data \
        [--factors 512,1024] [--iterations 10,3] [--block-sizes 32,64] [--threads 2]

A run's objectives per iteration do not depend on the machine's load, its seconds do. On an
idle machine ``--from-json bench/studies/implicit_solvers.json --rates 3 --factors 512``
times 3 iterations of each saved solver again, checks their objectives against the saved
ones, and prints the seconds to Cholesky's last objective at the idle rates.
"""
import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

import fastmf
from bench.compare._common import ensure_data, load, print_table, working_folder

HERE = Path(__file__).resolve().parent
REG, ALPHA, CG_STEPS = 0.05, 1.0, 3
HEADER = ["k", "solver", "iterations", "s/iteration", "objective", "s to Cholesky's last",
          "speed-up"]


def run(data, k, solver, iterations, threads, target=None, budget=None, **params):
    """[{iteration, seconds, loss}] of one fit driven step by step (the fit loop's own
    pieces), so the objective is evaluated outside the timed part; stops early at
    ``target`` or past ``budget`` seconds."""
    model = fastmf.ImplicitALS(factors=k, regularization=REG, alpha=ALPHA, unobserved_weight=1.0,
                               regularization_exponent=0.0, init_std=0.1, confidence="linear",
                               iterations=iterations, solver=solver, dtype="float32",
                               num_threads=threads, seed=0, verbose=False, **params)
    p = model._check_params()
    state = model._start(data, None, p)
    records, elapsed = [], 0.0
    for it in range(iterations):
        started = time.perf_counter()
        model._iterate(state, p)
        elapsed += time.perf_counter() - started
        records.append({"iteration": it + 1, "seconds": elapsed, "loss": model._loss(state, p)})
        print(f"  k={k} {label(solver, params)} it {it + 1}: {elapsed:8.1f} s  "
              f"objective {records[-1]['loss']:.6e}", flush=True)
        if (target is not None and records[-1]["loss"] <= target) or \
                (budget is not None and elapsed >= budget):
            break
    return records


def label(solver, params):
    return f"block b={params['block_size']}" if solver == "block" else \
        (f"cg {params.get('cg_steps', CG_STEPS)} steps" if solver == "cg" else solver)


def study(data, k, iterations, block_sizes, threads, max_iterations):
    """{label: records} at one k: Cholesky first, its last objective the others' target."""
    runs = {"cholesky": run(data, k, "cholesky", iterations, threads)}
    target, budget = runs["cholesky"][-1]["loss"], runs["cholesky"][-1]["seconds"]
    others = [("cg", {"cg_steps": CG_STEPS})] + [("block", {"block_size": b})
                                                   for b in block_sizes]
    for solver, params in others:
        runs[label(solver, params)] = run(data, k, solver, max_iterations, threads, target,
                                          budget, **params)
    return runs


def summary(results):
    """Table rows: k, solver, iterations, median s/iteration, last objective, seconds to
    Cholesky's last objective and the speed-up over Cholesky to it."""
    rows = []
    for k, runs in results.items():
        target = runs["cholesky"][-1]["loss"]
        reference = runs["cholesky"][-1]["seconds"]
        for name, records in runs.items():
            steps = np.diff([0.0] + [r["seconds"] for r in records])
            reached = next((r["seconds"] for r in records if r["loss"] <= target), None)
            rows.append([k, name, len(records), f"{statistics.median(steps):.2f}",
                         f"{records[-1]['loss']:.6e}",
                         "-" if reached is None else f"{reached:.1f}",
                         "-" if reached is None else f"{reference / reached:.1f}x"])
    return rows


def plot(results, path):
    from matplotlib.figure import Figure     # no pyplot: no GUI backend
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    fig = Figure(figsize=(5.0 * len(results), 3.6), dpi=80)
    for j, (k, runs) in enumerate(results.items()):
        ax = fig.add_subplot(1, len(results), j + 1)
        for name, records in runs.items():
            ax.plot([r["seconds"] for r in records], [r["loss"] for r in records], marker="o",
                    markersize=3, label=name)
        ax.axhline(runs["cholesky"][-1]["loss"], color="grey", linewidth=0.7, linestyle=":")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("fit seconds")
        ax.set_ylabel("training objective")
        ax.set_title(f"k = {k}, 2M ratings, float32")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def rates(data, saved, k, threads, iterations):
    """Each solver of a saved run at ``k`` timed again for ``iterations`` iterations (their
    objectives checked against the saved ones, which do not depend on timing); prints the
    seconds to Cholesky's last objective at these rates and the saved iteration counts."""
    runs, target = saved[str(k)], saved[str(k)]["cholesky"][-1]["loss"]
    rows, seconds = [], {}
    for name, records in runs.items():
        solver, params = ("cholesky", {}) if name == "cholesky" else (
            ("cg", {"cg_steps": int(name.split()[1])}) if name.startswith("cg")
            else ("block", {"block_size": int(name.split("=")[1])}))
        again = run(data, k, solver, iterations, threads, **params)
        drift = max(abs(a["loss"] - b["loss"]) / b["loss"] for a, b in zip(again, records))
        seconds[name] = statistics.median(np.diff([0.0] + [r["seconds"] for r in again]))
        needed = next(i + 1 for i, r in enumerate(records) if r["loss"] <= target)
        rows.append([k, name, needed, f"{seconds[name]:.2f}", f"{drift:.1e}",
                     f"{needed * seconds[name]:.1f}"])
    for row in rows:
        row.append(f"{float(rows[0][5]) / float(row[5]):.1f}x")
    print_table(["k", "solver", "iterations to Cholesky's last", "s/iteration now",
                 "objective drift", "s to Cholesky's last", "speed-up"], rows, left=2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="keep the generated data here and reuse it "
                                          "(default: a temporary folder, deleted at the end)")
    parser.add_argument("--factors", default="512,1024")
    parser.add_argument("--iterations", default="10,3",
                        help="Cholesky's iterations at each k of --factors")
    parser.add_argument("--block-sizes", default="32,64")
    parser.add_argument("--max-iterations", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--from-json", help="redraw the plot and the table of a saved run")
    parser.add_argument("--rates", type=int, metavar="N",
                        help="with --from-json: time N iterations of each solver of the "
                             "saved run again (k: the first of --factors) and print the "
                             "seconds to Cholesky's last objective at these rates")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.from_json and args.rates:
        saved = json.loads(Path(args.from_json).read_text())["runs"]
        with working_folder(args.workdir, "fastmf-solvers-") as folder:
            users, items, ratings = load(ensure_data("2M", 2_000_000, args.threads, folder))
        data = fastmf.Interactions.from_arrays(users, items, ratings)
        rates(data, saved, int(args.factors.split(",")[0]), args.threads, args.rates)
        return
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())["runs"]
        results = {int(k): runs for k, runs in saved.items()}
        plot(results, out / "implicit_solvers.png")
        print_table(HEADER, summary(results), left=2)
        return
    factors = [int(f) for f in args.factors.split(",")]
    iterations = [int(i) for i in args.iterations.split(",")]
    if len(iterations) != len(factors):
        parser.error(f"--iterations needs one count per k of --factors ({len(factors)}), "
                     f"got {len(iterations)}")
    blocks = [int(b) for b in args.block_sizes.split(",")]
    with working_folder(args.workdir, "fastmf-solvers-") as folder:
        users, items, ratings = load(ensure_data("2M", 2_000_000, args.threads, folder))
    data = fastmf.Interactions.from_arrays(users, items, ratings)
    print(f"2M synthetic: {data.n_users} users x {data.n_items} items, {data.nnz} ratings; "
          f"float32, regularization={REG}, alpha={ALPHA}, {args.threads} threads, "
          f"{os.cpu_count()} cpus, kernels {fastmf._core.variant}")
    results = {k: study(data, k, n, blocks, args.threads, args.max_iterations)
               for k, n in zip(factors, iterations)}
    (out / "implicit_solvers.json").write_text(json.dumps(
        {"settings": {"regularization": REG, "alpha": ALPHA, "threads": args.threads,
                      "dtype": "float32", "data": "2M synthetic, seed 0"},
         "runs": {str(k): runs for k, runs in results.items()}}, indent=1))
    plot(results, out / "implicit_solvers.png")
    print_table(HEADER, summary(results), left=2)


if __name__ == "__main__":
    main()
