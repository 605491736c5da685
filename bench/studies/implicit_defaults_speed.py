"""Seconds per ImplicitALS iteration at its defaults and at the defaults before
``bench.studies.implicit_defaults`` chose them (k = 64, float32, Cholesky).

The synthetic ratings of ``bench/compare/_common.py`` (``2M``, ``20M``; their values read
as counts, as ``bench.compare.implicit_als`` reads them), kept in ``--workdir`` and shared
with the compare scripts. One process fits both settings in turn, ``--rounds`` times, so
that both meet the same machine; each fit runs ``--iterations`` iterations and reports the
median of its ``history_`` seconds (both half-steps and the loss). Printed: the median over
the rounds of each setting and their ratio. Run from the repository root::

    python -m bench.studies.implicit_defaults_speed --sizes 2M --workdir /tmp/fastmf-bench
"""
import argparse
import tempfile
from pathlib import Path

import numpy as np

import fastmf
from bench.compare._common import ensure_data, load, parse_sizes
from bench.studies.implicit_defaults import OLD


def seconds_per_iteration(data, params, iterations, threads):
    model = fastmf.ImplicitALS(**{**params, "iterations": iterations}, factors=64, seed=0,
                               num_threads=threads, verbose=False).fit(data)
    return float(np.median([record["seconds"] for record in model.history_]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("2M"))
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="fastmf-speed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    settings = {"defaults": {}, "before": OLD}
    print(f"k=64 float32 cholesky, {args.threads} threads, {args.iterations} iterations a "
          f"fit, {args.rounds} rounds; defaults {fastmf.ImplicitALS().get_params()}")
    for label, n_ratings in args.sizes:
        users, items, ratings = load(ensure_data(label, n_ratings, args.threads, workdir))
        data = fastmf.Interactions.from_arrays(users, items, ratings)
        times = {name: [] for name in settings}
        for _ in range(args.rounds):
            for name, params in settings.items():
                times[name].append(seconds_per_iteration(data, params, args.iterations,
                                                         args.threads))
        median = {name: float(np.median(t)) for name, t in times.items()}
        print(f"{label}: s/iter defaults {median['defaults']:.3f}, before "
              f"{median['before']:.3f}, ratio {median['defaults'] / median['before']:.2f} "
              f"(rounds: " + "; ".join(f"{n} " + " ".join(f"{x:.3f}" for x in t)
                                       for n, t in times.items()) + ")")


if __name__ == "__main__":
    main()
