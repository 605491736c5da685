"""ImplicitALS's defaults, chosen by validation only, robust over four data sets.

The defaults of ``fastmf.ImplicitALS`` (λ, α, α0 = ``unobserved_weight``, ν =
``regularization_exponent``, the initialization scale and the iterations; ``factors`` stays
64) are the setting whose validation NDCG@10 is closest to each data set's own best in the
worst case: it maximizes min over the data sets of NDCG@10(setting) / (the best NDCG@10
found for that data set), to 3 decimals, ties going to the larger mean ratio. The data
sets, each split into (train, test), the test parts not read until the choice is made:

- ``ml100k``: the README's implicit split of MovieLens 100K (ratings >= 4 as positives of
  value 1, 20% held out with seed 0; ``bench/compare/_common.py``'s ``movielens_split``);
- ``ml100k-counts``: every MovieLens 100K rating, its value read as a count (confidence
  1 + α r), 20% of each user's ratings held out (``strategy="per_user"``, seed 0);
- ``synthetic-dense`` and ``synthetic-sparse``: ``fastmf.datasets.make_ratings(1000, 500,
  100_000)`` and ``(5000, 2500, 40_000)`` (seed 0), binarized like ml100k (ratings >= 4,
  value 1; 6.7% and 0.16% of the pairs), 20% held out (seed 0).

Each training part is split again, 20% for validation (seed 1, the strategy of its test
split); a setting is fitted on the rest (one thread; two fits run at a time) and scored by
``fastmf.metrics.evaluate(model, validation, train=rest, k=10)``. The search, in stages,
each around the best setting so far:

A. α = 1, init N(0, 0.1²/k), 16 iterations: α0 in 0.01 .. 1 x ν in {0, 0.5, 1} x 7 values
   of λ a half-decade apart, a range per ν (the frequency-scaled λ (n + α0 N)^ν moves λ's
   good range with ν);
B. α in {0.5, 1, 2, 4} x α0 and λ at their neighbours among 1, 2, 3, 5 x 10^e; then
   ν ± 0.25 with λ two neighbours either side;
C. the initialization scale σ of N(0, σ²/k), σ in {0.01, 0.1, 1};
D. the iterations: one fit of 40 iterations per data set, its validation NDCG@10 after
   each; the fewest iterations within 0.001 of the best worst-case ratio.

A tuner's view: stage B again around ml100k's best, on ml100k alone, then its iterations.

Then, and only then, the test parts: NDCG@10 at the chosen defaults, at the defaults
before this study (Hu-Koren-Volinsky's model, λ = 0.05, α = 1, 15 iterations), and for
ml100k at the tuner's setting. Run from the repository root (reads ``ml-100k`` under
``--data-home``, never downloads; about 11 minutes on 2 busy cores)::

    python -m bench.studies.implicit_defaults --data-home ../shared/datasets
"""
import argparse
import itertools
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME, POSITIVE, movielens_split

FACTORS, SEARCH_ITERATIONS, MAX_ITERATIONS, TOLERANCE = 64, 16, 40, 0.001
# The defaults before this study (Hu-Koren-Volinsky's model).
OLD = dict(regularization=0.05, alpha=1.0, unobserved_weight=1.0, regularization_exponent=0.0,
           init_std=0.1, iterations=15)
ALPHA0S = [0.01, 0.03, 0.1, 0.3, 1.0]
LAMBDAS = {0.0: [0.1, 0.3, 1, 3, 10, 30, 100],
           0.5: [0.01, 0.03, 0.1, 0.3, 1, 3, 10],
           1.0: [3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3]}
ALPHAS = [0.5, 1.0, 2.0, 4.0]
# The finer steps of stages B: the neighbours of a value among 1, 2, 3, 5 times a power of 10.
NICE = sorted(round(m * 10.0 ** e, 6) for m in (1, 2, 3, 5) for e in range(-5, 4))
SIGMAS = [0.01, 0.1, 1.0]            # init_std = σ / √k
# What main() chose (ImplicitALS's defaults; init_std 0.1/√k is its init_std=None); the
# script says whether a run still chooses the same.
CHOSEN = {"alpha": 2.0, "init_std": 0.0125, "iterations": 8, "regularization": 1.0,
          "regularization_exponent": 0.5, "unobserved_weight": 0.5}


def views(data_home):
    """{name: (train, test, split strategy)} of the four data sets."""
    data = fastmf.datasets.load_movielens("100k", data_home=data_home, download=False,
                                          progress=False)
    out = {"ml100k": (*movielens_split(data_home), "random"),
           "ml100k-counts": (*fastmf.train_test_split(data, test_size=0.2, seed=0,
                                                      strategy="per_user"), "per_user")}
    for name, shape in (("synthetic-dense", (1000, 500, 100_000)),
                        ("synthetic-sparse", (5000, 2500, 40_000))):
        users, items, ratings = fastmf.datasets.make_ratings(*shape, seed=0).to_arrays()
        liked = ratings >= POSITIVE
        positives = fastmf.Interactions.from_arrays(users[liked], items[liked])
        out[name] = (*fastmf.train_test_split(positives, test_size=0.2, seed=0), "random")
    return out


def validation_parts(data_home):
    """{name: (rest, validation)}: each training part split again (seed 1)."""
    return {name: fastmf.train_test_split(train, test_size=0.2, seed=1, strategy=strategy)
            for name, (train, _, strategy) in views(data_home).items()}


def model(setting, num_threads=0):
    # This study chose λ, α0, ν, σ and the iterations under the linear confidence, the default
    # then; bench.studies.implicit_confidence chose the confidence after it.
    return fastmf.ImplicitALS(factors=FACTORS, seed=0, verbose=False, num_threads=num_threads,
                              **{"confidence": "linear", **dict(setting)})


def ndcg(fitted, test, train):
    return fastmf.metrics.evaluate(fitted, test, train=train, k=10, metrics=("ndcg",))["ndcg@10"]


# -- the search, two one-thread fits at a time ---------------------------------------------
_PARTS = {}


def _load(data_home):
    _PARTS.update(validation_parts(data_home))


def _score(task):
    setting, name = task
    rest, val = _PARTS[name]
    return ndcg(model(setting, num_threads=1).fit(rest), val, rest)


class Search:
    """The validation NDCG@10 of every setting tried, per data set (``scores``: a start,
    e.g. another search's, whose entries hold every data set of ``names``)."""

    def __init__(self, pool, names, scores=None):
        self.pool, self.names = pool, names
        self.scores = {s: {n: v[n] for n in names} for s, v in (scores or {}).items()}

    def run(self, settings):
        settings = [s for s in dict.fromkeys(settings) if s not in self.scores]
        tasks = [(s, name) for s in settings for name in self.names]
        for (s, name), value in zip(tasks, self.pool.map(_score, tasks, chunksize=1)):
            self.scores.setdefault(s, {})[name] = value

    def best_per_set(self):
        return {name: max(scores[name] for scores in self.scores.values())
                for name in self.names}

    def ratios(self, setting, best=None):
        best = best or self.best_per_set()
        return {name: self.scores[setting][name] / best[name] for name in self.names}

    def robust(self):
        """The setting with the largest worst-case ratio to each data set's best (to 3
        decimals; ties: the largest mean ratio)."""
        best = self.best_per_set()

        def key(s):
            ratios = list(self.ratios(s, best).values())
            return round(min(ratios), 3), np.mean(ratios)
        return max(self.scores, key=key)


def setting(**params):
    return tuple(sorted(params.items()))


def stage_a():
    return [setting(alpha=1.0, unobserved_weight=a0, regularization_exponent=nu,
                    regularization=lam, init_std=float(0.1 / np.sqrt(FACTORS)),
                    iterations=SEARCH_ITERATIONS)
            for a0, (nu, lambdas) in itertools.product(ALPHA0S, LAMBDAS.items())
            for lam in lambdas]


def neighbours(value, reach=1):
    """``value`` and the ``reach`` values of NICE on either side of it."""
    i = int(np.argmin(np.abs(np.log(NICE) - np.log(value))))
    return NICE[max(i - reach, 0):i + reach + 1]


def refine_exponent(best):
    """ν ± 0.25 around ``best``, λ from 2 steps below to 2 above (ν moves λ's scale)."""
    nu = best["regularization_exponent"]
    return around(best, regularization_exponent=[n for n in (nu - 0.25, nu + 0.25)
                                                 if 0 <= n <= 1],
                  regularization=neighbours(best["regularization"], reach=2))


def around(best, **grids):
    """Settings that change ``best`` in the parameters of ``grids`` (every combination)."""
    names = list(grids)
    return [setting(**{**dict(best), **dict(zip(names, values))})
            for values in itertools.product(*grids.values())]


def choose_iterations(best, parts, known):
    """(iterations, {name: validation NDCG@10 per iteration}) for setting ``best``; the
    ratios are to ``known[name]``, the best NDCG@10 found for each data set (or better)."""
    curves = {}
    for name, (rest, val) in parts.items():
        fitted = model(setting(**{**dict(best), "iterations": MAX_ITERATIONS})).fit(
            rest, validation=val)
        curves[name] = np.array([h["val_ndcg@10"] for h in fitted.history_])
    top = {name: max(known[name], curves[name].max()) for name in curves}
    worst = np.min([curves[name] / top[name] for name in curves], axis=0)
    return int(np.flatnonzero(worst >= worst.max() - TOLERANCE)[0]) + 1, curves


def show(search, settings, title):
    print(f"\n{title}")
    names = search.names
    print("  " + "  ".join(f"{n:>16}" for n in names) + "  worst  mean  setting")
    for s in settings:
        r = search.ratios(s)
        print("  " + "  ".join(f"{search.scores[s][n]:16.4f}" for n in names)
              + f"  {min(r.values()):.3f}  {np.mean(list(r.values())):.3f}  {dict(s)}")


def choose(data_home, processes=2):
    """The robust setting (with its iterations), the best setting for ml100k's validation
    alone, and the search."""
    parts = validation_parts(data_home)
    with multiprocessing.get_context("spawn").Pool(processes, _load, (data_home,)) as pool:
        search = Search(pool, list(parts))
        started = time.perf_counter()
        search.run(stage_a())
        a = dict(search.robust())
        search.run(around(a, alpha=ALPHAS, unobserved_weight=neighbours(a["unobserved_weight"]),
                          regularization=neighbours(a["regularization"])))
        b = dict(search.robust())
        search.run(refine_exponent(b))
        search.run(around(search.robust(),
                          init_std=[float(s / np.sqrt(FACTORS)) for s in SIGMAS]))
        c = search.robust()
        # A tuner's view: the same refinements around ml100k's own best, on ml100k alone.
        alone = Search(pool, ["ml100k"], search.scores)
        t = dict(alone.robust())
        alone.run(around(t, alpha=ALPHAS, unobserved_weight=neighbours(t["unobserved_weight"]),
                         regularization=neighbours(t["regularization"])))
        alone.run(refine_exponent(dict(alone.robust())))
        tuned = alone.robust()
        print(f"{len(search.scores)} settings x {len(parts)} data sets, then "
              f"{len(alone.scores) - len(search.scores)} on ml100k alone, in "
              f"{time.perf_counter() - started:.0f} s")
    ranked = sorted(search.scores, key=lambda s: -min(search.ratios(s).values()))
    show(search, ranked[:10], "validation NDCG@10, best worst-case ratio first (top 10):")
    print("  best per data set: " + ", ".join(f"{n} {v:.4f}"
                                              for n, v in search.best_per_set().items()))
    known = search.best_per_set()
    iterations, curves = choose_iterations(c, parts, known)
    chosen = {**dict(c), "iterations": iterations}
    tuned_iterations, _ = choose_iterations(tuned, {"ml100k": parts["ml100k"]},
                                            alone.best_per_set())
    return chosen, {**dict(tuned), "iterations": tuned_iterations}, curves, search


def report(data_home, chosen, tuned):
    """Test NDCG@10 of the chosen defaults, the old ones and (ml100k) the tuned setting,
    each fitted on the whole training part."""
    print("\ntest NDCG@10 (each fitted on its whole training part):")
    print(f"  {'data set':<18}{'chosen':>8}{'old':>8}{'ml100k-tuned':>14}")
    for name, (train, test, _) in views(data_home).items():
        row = [ndcg(model(setting(**params)).fit(train), test, train)
               for params in ([chosen, OLD] + ([tuned] if name == "ml100k" else []))]
        print(f"  {name:<18}" + "".join(f"{v:8.4f}" for v in row[:2])
              + (f"{row[2]:14.4f}" if len(row) > 2 else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--scores", help="write every setting's validation NDCG@10 to this "
                                         "JSON file")
    args = parser.parse_args(argv)
    chosen, tuned, curves, search = choose(args.data_home, args.processes)
    if args.scores:
        rows = [{**dict(s), **{f"ndcg@10 {n}": v for n, v in scores.items()}}
                for s, scores in search.scores.items()]
        Path(args.scores).write_text(json.dumps(rows, indent=1))
    print("\nvalidation NDCG@10 of the chosen setting by iteration: "
          + "; ".join(f"{n} " + " ".join(f"{v:.3f}" for v in c[4::5]) for n, c in curves.items())
          + " (iterations 5, 10, ...)")
    print(f"chosen defaults: {chosen}")
    print(f"best on ml100k's validation alone: {tuned}")
    if CHOSEN is not None:
        print("the same as CHOSEN" if chosen == CHOSEN else f"differs from CHOSEN {CHOSEN}")
    report(args.data_home, chosen, tuned)


if __name__ == "__main__":
    main()
