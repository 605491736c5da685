"""Does ``fastmf.tune``'s refinement earn its share of the budget? Halving alone against
halving plus refinement, at the same budget, on the README's MovieLens 100K implicit split.

For each search seed (which fixes the validation part carved out of train and the
candidates), ``fastmf.tune(ImplicitALS(factors=64), train, budget=...)`` runs with
``refine=0`` (every fit spent on successive halving) and with ``refine=0.5`` (half of the
fits spent on random steps from the best candidate); each pick is refitted on all of train
and scored once on test (NDCG@10). The test part plays no role in either choice. Run from
the repository root (reads ``../shared/datasets/ml-100k``, never downloads)::

    python -m bench.studies.tune_refine [--budget 24] [--seeds 4]      # ~1 minute, 2 cores
"""
import argparse
import statistics

import fastmf
from bench.compare._common import DATA_HOME, movielens_split


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=24)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--refine", type=float, default=0.5)
    parser.add_argument("--data-home", default=str(DATA_HOME))
    args = parser.parse_args(argv)
    train, test = movielens_split(args.data_home)
    model = fastmf.ImplicitALS(factors=64, num_threads=2, seed=0, verbose=False,
                               confidence="linear")    # as when the README's figures were run
    print(f"budget {args.budget} fits, seeds 0..{args.seeds - 1}; test NDCG@10 of each pick")
    for refine in (0.0, args.refine):
        found = []
        for seed in range(args.seeds):
            result = fastmf.tune(model, train, budget=args.budget, refine=refine, seed=seed,
                                 verbose=False)
            found.append(fastmf.metrics.evaluate(result.best_model, test, train=train,
                                                 k=10)["ndcg@10"])
        print(f"refine={refine}: " + "  ".join(f"{x:.4f}" for x in found)
              + f"   mean {statistics.mean(found):.4f}")


if __name__ == "__main__":
    main()
