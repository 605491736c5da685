"""Rare items among similar items: should ``similar_items`` leave out or shrink items with
few interactions by default?

On MovieLens 100K (every rating as an interaction for ImplicitALS and BPR, ratings for
ALS; the models at their defaults, seed 0), for the 100 most rated films, the 10 most
similar items by cosine of the factors, with no filter and with ``min_item_count`` m,
and with the cosine shrunk toward 0 for rare items, cos · n / (n + β). Two measures, both
independent of the factors:

- rare share: how many of the 10 have fewer than 5 ratings;
- genre agreement: the mean Jaccard similarity of the query's and each result's genre
  sets (u.item's 19 genre flags), against 0.13, the agreement of random pairs of films;
- co-rating: the share of the query's raters who also rated each result (in all the data),
  an item-to-item collaborative measure.

Run from the repository root (reads ``ml-100k`` under ``--data-home``; about a minute)::

    python -m bench.studies.similar_rare --data-home ../shared/datasets
"""
import argparse

import numpy as np

import fastmf
from bench.compare._common import DATA_HOME

QUERIES, N, RARE = 100, 10, 5
MINIMUMS = [None, 2, 5, 10, 20]
SHRINKS = [5, 20]


def measures(found, queries, counts, genres, raters):
    """(rare share, genre agreement, co-rating) of result indices ``found`` (queries x N)."""
    rare = float(np.mean(counts[found] < RARE))
    g = genres.astype(bool)
    inter = (g[queries][:, None, :] & g[found]).sum(axis=2)
    union = (g[queries][:, None, :] | g[found]).sum(axis=2)
    jaccard = float(np.mean(inter / np.maximum(union, 1)))
    co = np.mean([[len(raters[q] & raters[j]) / len(raters[q]) for j in row]
                  for q, row in zip(queries, found)])
    return rare, jaccard, float(co)


def top_similar(unit, queries, allowed, n, weight=None):
    """The n best cosines of each query among the allowed items (never the query)."""
    scores = unit[queries] @ unit.T
    if weight is not None:
        scores = scores * weight[None, :]
    scores[:, ~allowed] = -np.inf
    scores[np.arange(len(queries)), queries] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :n]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DATA_HOME))
    args = parser.parse_args(argv)
    data = fastmf.datasets.load_movielens("100k", data_home=args.data_home, download=False,
                                          progress=False)
    info = data.item_info
    users, items, ratings = data.to_arrays()
    models = {"ImplicitALS": fastmf.ImplicitALS(seed=0, verbose=False).fit(data),
              "BPR": fastmf.BPR(seed=0, verbose=False).fit(data),
              "ALS": fastmf.ALS(seed=0, verbose=False).fit(data)}
    genre_of = {item: set(info.genres_of(item)) for item in data.item_ids.ids}
    names = sorted({g for s in genre_of.values() for g in s})
    print(f"{'model':<12}{'filter':<16}{'rare<5':>8}{'genres':>8}{'co-rating':>11}")
    for name, model in models.items():
        ids = model.item_ids_.ids
        counts = np.bincount(model.item_ids_.index(items), minlength=len(ids))
        genres = np.array([[g in genre_of[i] for g in names] for i in ids])
        raters = [set() for _ in ids]
        for u, i in zip(users, model.item_ids_.index(items)):
            raters[i].add(u)
        queries = np.argsort(-counts, kind="stable")[:QUERIES]
        factors = model.item_factors_.astype(np.float64)
        unit = factors / np.maximum(np.linalg.norm(factors, axis=1, keepdims=True), 1e-12)
        rows = [("none", top_similar(unit, queries, np.ones(len(ids), bool), N))]
        rows += [(f"min_count {m}", top_similar(unit, queries, counts >= m, N))
                 for m in MINIMUMS[1:]]
        rows += [(f"shrink {b}", top_similar(unit, queries, np.ones(len(ids), bool), N,
                                             counts / (counts + b))) for b in SHRINKS]
        for label, found in rows:
            rare, jaccard, co = measures(found, queries, counts, genres, raters)
            print(f"{name:<12}{label:<16}{rare:8.3f}{jaccard:8.3f}{co:11.3f}")
        pairs = np.random.default_rng(0).integers(0, len(ids), (2, 20000))
        g = genres.astype(bool)
        base = np.mean((g[pairs[0]] & g[pairs[1]]).sum(1)
                       / np.maximum((g[pairs[0]] | g[pairs[1]]).sum(1), 1))
        print(f"{name:<12}{'random pairs':<16}{'':>8}{base:8.3f}")


if __name__ == "__main__":
    main()
