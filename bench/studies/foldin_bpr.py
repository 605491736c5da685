"""BPR's fold-in on MovieLens 100K: re-solved users rank as the fit did, re-solved items keep
their biases, and what each solve costs.

On the implicit split of bench/compare/_common.py (ratings >= 4 as positives, 20% held
out with seed 0), ``fastmf.BPR(num_threads=1, seed=0)``, at its defaults on one thread (so
that a run repeats exactly), is fitted on the training part. Then (1) every user is
re-solved from their own training items by ``partial_fit_users`` (Newton's method on BPR's
expected objective, item factors fixed), and NDCG@10 and AUC on
the test part are compared with the fit's; (2) on a fresh copy of the fitted model,
``--items`` items with at least 5 training users, drawn with seed 0, are re-solved by
``partial_fit_items`` from their training users, and their new biases are correlated with
the fitted ones. Seconds per user and per item are the wall time of each call over the
rows it solved (numpy's BLAS at its default threads). Run from the repository root (reads
``../shared/datasets/ml-100k``, never downloads)::

    python -m bench.studies.foldin_bpr [--data-home DIR] [--items 200]
"""
import argparse
import copy
import time

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME, K, movielens_split


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args(argv)
    train, test = movielens_split(args.data_home)
    model = fastmf.BPR(num_threads=1, seed=0, verbose=False).fit(train)
    metrics = ("ndcg", "auc")
    fitted = fastmf.metrics.evaluate(model, test, train=train, k=K, metrics=metrics)

    users, items, values = train.to_arrays()
    resolved = copy.deepcopy(model)
    started = time.perf_counter()
    resolved.partial_fit_users(users, items, values)
    user_s = (time.perf_counter() - started) / train.n_users
    after = fastmf.metrics.evaluate(resolved, test, train=train, k=K, metrics=metrics)

    counts = np.diff(train.by_item.indptr)
    pool = np.flatnonzero(counts >= 5)
    chosen = np.random.default_rng(0).choice(pool, size=min(args.items, len(pool)),
                                             replace=False)
    chosen_ids = train.item_ids.ids[chosen]
    keep = np.isin(items, chosen_ids)
    items_model = copy.deepcopy(model)
    before_bias = items_model.item_biases_[items_model.item_ids_.index(chosen_ids)].copy()
    started = time.perf_counter()
    items_model.partial_fit_items(items[keep], users[keep], values[keep])
    item_s = (time.perf_counter() - started) / len(chosen)
    after_bias = items_model.item_biases_[items_model.item_ids_.index(chosen_ids)]
    correlation = float(np.corrcoef(before_bias, after_bias)[0, 1])

    print(f"BPR defaults on MovieLens 100K (ratings >= 4, 0.2 held out, seed 0): "
          f"{train.n_users} users, {train.n_items} items, {train.nnz} training pairs")
    print(f"fit:                    NDCG@{K} {fitted[f'ndcg@{K}']:.4f}, AUC {fitted['auc']:.4f}")
    print(f"every user re-solved:   NDCG@{K} {after[f'ndcg@{K}']:.4f}, AUC {after['auc']:.4f}"
          f" ({user_s * 1e3:.1f} ms per user)")
    print(f"{len(chosen)} items re-solved: bias correlation with the fit {correlation:.4f} "
          f"({item_s * 1e3:.1f} ms per item)")


if __name__ == "__main__":
    main()
