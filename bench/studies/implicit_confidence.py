"""ImplicitALS's handling of the values (the confidence transform), chosen by validation on
data sets of very different shapes, heavy-tailed counts among them.

The confidence of an observed pair is ``1 + α r`` (``confidence="linear"``) or
``1 + α log(1 + r/ε)`` (``"log"``). On binary data (every r = 1) the two are the same model
with α scaled, so the choice is decided by the data sets whose values vary:

- the four data sets of ``bench.studies.implicit_defaults`` (MovieLens 100K likes as 1s;
  MovieLens 100K's ratings 1-5 as counts; two binarized ``make_ratings`` sets);
- ``clicks``: ``fastmf.datasets.make_counts(2000, 10_000, 80_000)``, seed 0: most counts 1
  to 10, a few in the tens of thousands (median 3, log-spread 2.3);
- ``plays``: ``make_counts(1000, 5000, 50_000, median=200, spread=1.5)``, seed 0: counts in
  the hundreds, up to the hundred thousands;

each count set with 20% of each user's pairs held out (seed 0). Each training part is
split again, 20% for validation (seed 1), and every setting is fitted on the rest and scored
by validation NDCG@10 (``fastmf.metrics.evaluate(model, validation, train=rest)``); the
test parts are read only at the end. The other parameters stay at ImplicitALS's defaults
(λ = 1, α0 = 0.5, ν = 0.5, 8 iterations, k = 64) unless a stage says otherwise.

A. the transforms: linear with α in 0.25 .. 16, log with ε in 0.01 .. 100 x α in 0.5 .. 16;
B. around the most robust log and linear settings: λ and α0 at their neighbours among
   1, 2, 3, 5 x 10^e, ν in {0.25, 0.5, 0.75}, α and ε one step either way; then the same
   around the most robust setting of all, up to 3 rounds, until it stays.

The choice: the setting with the largest worst-case ratio of its validation NDCG@10 to each
data set's best (to 3 decimals, ties to the larger mean), as in ``implicit_defaults``; the
table shows the best linear setting beside it. Then the test parts: NDCG@10 at the chosen
setting, at the defaults before (linear, α = 2), and after a ``fastmf.tune`` of 24 fits on
each training part (its default space, seed 0), the figure a user who tunes reaches.
Run from the repository root (reads ``ml-100k`` under ``--data-home``, never downloads;
about 25 minutes on 2 cores)::

    python -m bench.studies.implicit_confidence --data-home ../shared/datasets
"""
import argparse
import itertools
import multiprocessing
import time

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME
from bench.studies import implicit_defaults as defaults
from bench.studies.implicit_defaults import Search, around, ndcg, neighbours, setting, show

LINEAR_ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
LOG_ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
EPSILONS = [1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0]
COUNT_SETS = {"clicks": dict(n_users=2000, n_items=10_000, n_interactions=80_000),
              "plays": dict(n_users=1000, n_items=5000, n_interactions=50_000, median=200.0,
                            spread=1.5)}
# The defaults before this study; the setting of the other parameters is ImplicitALS's.
OLD = {"confidence": "linear", "alpha": 2.0}
TUNE_BUDGET = 24
# What main() chose (ImplicitALS's defaults); the script says whether a run still chooses it.
CHOSEN = {"alpha": 0.5, "confidence": "log", "epsilon": 0.005}
ROUNDS = 3


def views(data_home):
    """{name: (train, test, split strategy)} of the six data sets."""
    out = defaults.views(data_home)
    for name, shape in COUNT_SETS.items():
        data = fastmf.datasets.make_counts(**shape, seed=0)
        out[name] = (*fastmf.train_test_split(data, test_size=0.2, seed=0,
                                              strategy="per_user"), "per_user")
    return out


def validation_parts(data_home):
    return {name: fastmf.train_test_split(train, test_size=0.2, seed=1, strategy=strategy)
            for name, (train, _, strategy) in views(data_home).items()}


_PARTS = {}


def _load(data_home):
    _PARTS.update(validation_parts(data_home))


def _score(task):
    params, name = task
    rest, val = _PARTS[name]
    fitted = fastmf.ImplicitALS(seed=0, verbose=False, num_threads=1, **dict(params)).fit(rest)
    return ndcg(fitted, val, rest)


def stage_a():
    linear = [setting(confidence="linear", alpha=a) for a in LINEAR_ALPHAS]
    log = [setting(confidence="log", alpha=a, epsilon=e)
           for a, e in itertools.product(LOG_ALPHAS, EPSILONS)]
    return linear + log


def stage_b(best):
    """λ and α0 at their neighbours, α and ε one step either way, around ``best``."""
    grids = {"regularization": neighbours(best.get("regularization", 1.0)),
             "unobserved_weight": neighbours(best.get("unobserved_weight", 0.5)),
             "regularization_exponent": [0.25, 0.5, 0.75]}
    out = around(best, **grids)
    out += around(best, alpha=neighbours(best["alpha"]))
    if best["confidence"] == "log":
        out += around(best, epsilon=neighbours(best["epsilon"]))
    return out


def robust_of(search, confidence):
    """The most robust setting of one transform."""
    best = search.best_per_set()

    def key(s):
        ratios = list(search.ratios(s, best).values())
        return round(min(ratios), 3), np.mean(ratios)
    return max((s for s in search.scores if dict(s)["confidence"] == confidence), key=key)


def choose(data_home, processes=2):
    parts = validation_parts(data_home)
    for name, (rest, val) in parts.items():
        values = rest.ratings
        print(f"{name:>16}: {rest.n_users} users, {rest.n_items} items, {rest.nnz} pairs, "
              f"values {values.min():g}..{values.max():g} (median {np.median(values):g})")
    # Each worker starts with Search's class as implicit_defaults defines it; _score here.
    with multiprocessing.get_context("spawn").Pool(processes, _load, (data_home,)) as pool:
        search = Search(pool, list(parts))
        search.run = _runner(search, pool)
        started = time.perf_counter()
        search.run(stage_a())
        for confidence in ("log", "linear"):
            search.run(stage_b(dict(robust_of(search, confidence))))
        for _ in range(ROUNDS):                # again around the most robust, until it stays
            before = search.robust()
            search.run(stage_b(dict(before)))
            if search.robust() == before:
                break
        print(f"{len(search.scores)} settings x {len(parts)} data sets in "
              f"{time.perf_counter() - started:.0f} s")
    ranked = sorted(search.scores, key=lambda s: -min(search.ratios(s).values()))
    show(search, ranked[:12], "validation NDCG@10, best worst-case ratio first (top 12):")
    show(search, [robust_of(search, "linear"), setting(**OLD)],
         "the most robust linear setting, and the defaults before:")
    print("  best per data set: " + ", ".join(f"{n} {v:.4f}"
                                              for n, v in search.best_per_set().items()))
    for name in search.names:
        top = max(search.scores, key=lambda s: search.scores[s][name])
        print(f"  {name}'s best: {dict(top)}")
    return dict(search.robust()), search


def _runner(search, pool):
    def run(settings):
        settings = [s for s in dict.fromkeys(settings) if s not in search.scores]
        tasks = [(s, name) for s in settings for name in search.names]
        for (s, name), value in zip(tasks, pool.map(_score, tasks, chunksize=1)):
            search.scores.setdefault(s, {})[name] = value
    return run


def report(data_home, chosen):
    """Test NDCG@10 at the chosen setting, the defaults before and after tuning."""
    print(f"\ntest NDCG@10 (each fitted on its whole training part); tuned: fastmf.tune, "
          f"{TUNE_BUDGET} fits, default space, seed 0")
    print(f"  {'data set':<18}{'chosen':>8}{'before':>8}{'tuned':>8}{'chosen/tuned':>14}")
    for name, (train, test, _) in views(data_home).items():
        row = [ndcg(fastmf.ImplicitALS(seed=0, verbose=False, **params).fit(train), test, train)
               for params in (chosen, OLD)]
        base = fastmf.ImplicitALS(seed=0, verbose=False, **chosen)
        result = fastmf.tune(base, train, budget=TUNE_BUDGET, seed=0, verbose=False)
        row.append(ndcg(result.best_model, test, train))
        print(f"  {name:<18}" + "".join(f"{v:8.4f}" for v in row) + f"{row[0] / row[2]:14.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--report-only", metavar="SETTING", default=None,
                        help="skip the search: report the test figures of this setting, "
                             "e.g. confidence=log,alpha=4,epsilon=1")
    args = parser.parse_args(argv)
    if args.report_only:
        chosen = {}
        for part in args.report_only.split(","):
            name, _, value = part.partition("=")
            try:
                chosen[name] = float(value)
            except ValueError:
                chosen[name] = value
    else:
        chosen, _ = choose(args.data_home, args.processes)
    print(f"\nchosen: {chosen}")
    print("the same as CHOSEN" if chosen == CHOSEN else f"differs from CHOSEN {CHOSEN}")
    report(args.data_home, chosen)


if __name__ == "__main__":
    main()
