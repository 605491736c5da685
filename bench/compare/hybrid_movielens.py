"""Hybrid recommendation on MovieLens 100K with its own side data: fastmf's ALS,
ImplicitALS and BPR with user and item features against the same models without features,
popularity and, where they can run, LightFM (BPR and WARP losses) and cmfrec (collective
matrix factorization for implicit feedback), both with the same features.

Run from the repository root::

    python -m bench.compare.hybrid_movielens
    python -m bench.compare.hybrid_movielens --peers-python /path/to/python   # the peers

Implicit protocol: the ratings >= 4 are the positives. Three settings, each split with seed
``--seed``:

- warm: 20% of the positive pairs are held out at random; every user and item is known;
- cold users: 20% of the users are held out with all their interactions; at test time only
  their features (age bucket, gender, occupation) are given;
- cold items: 20% of the items likewise (features: the 19 genres and the release decade);
  each user's held-out items are ranked among all held-out items.

Each model's settings are chosen on a validation part carved out of the training part by the
same protocol (seed ``--seed + 1``), never on test; the chosen setting is then fitted on the
whole training part, timed, and scored once on test. Metrics per user with a held-out
positive, averaged: NDCG@10 and Recall@20 (hits / held-out positives) over the candidates
(every item the user has not interacted with in training; the held-out items in the cold-item
setting), and AUC of the held-out positives against the other candidates (ties count half).
ALS is fitted on the training part's explicit ratings (all of them, 1 to 5 stars) and ranks
by predicted rating; the implicit models see the positives only (``KINDS`` says which data
each fastmf model takes, ``GRIDS`` and ``FEATURE_GRIDS`` its settings).

The peers run in a separate interpreter (``--peers-python``, a Python where ``import
lightfm`` or ``import cmfrec`` works; default ``/tmp/peers/bin/python`` when it exists), each
skipped where it does not import. LightFM: its features are the same attribute columns plus,
as LightFM's hybrid examples do, an indicator feature per id, or the attributes alone,
whichever validation prefers; epochs 10 or 40; 64 components, learning rate 0.05. cmfrec:
``CMF_implicit`` (X ≈ AB', U ≈ AC', I ≈ BD' with shared factors; a new user or item is
placed from its attributes by ``factors_cold``/``item_factors_cold``), k = 64, Cholesky
solves, 15 iterations, the same attribute columns as dense matrices (no id columns: its
A and B are per-id factors already); λ, α, the attribute weights and centering from
``CMFREC_GRID``.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

import fastmf

HERE = Path(__file__).resolve().parent
FACTORS = 64
FEATURE_MAPS = {"user": "user_feature_factors_", "item": "feature_factors_"}


# -- data ------------------------------------------------------------------------------------
def load(folder):
    """(ratings as arrays of user index, item index, stars; user table; item table), ids
    0-based, and the UserFeatures/ItemFeatures on those indices."""
    import pandas as pd

    data = np.loadtxt(folder / "u.data", dtype=np.int64)
    users, items, stars = data[:, 0] - 1, data[:, 1] - 1, data[:, 2].astype(np.float64)
    people = pd.read_csv(folder / "u.user", sep="|", names=["user", "age", "gender",
                                                            "occupation", "zip"])
    people["user"] -= 1
    user_table = fastmf.UserFeatures.from_frame(
        people[["user", "age", "gender", "occupation"]], "user",
        buckets={"age": [18, 25, 35, 45, 56]})
    genres = [line.split("|")[0] for line in (folder / "u.genre").read_text().splitlines()
              if line.strip()]
    films = pd.read_csv(folder / "u.item", sep="|", encoding="latin-1", header=None)
    frame = pd.DataFrame({"item": films[0] - 1,
                          "year": pd.to_datetime(films[2], format="%d-%b-%Y").dt.year})
    for j, genre in enumerate(genres):
        frame[genre] = films[5 + j].astype(float)
    item_table = fastmf.ItemFeatures.from_frame(frame, "item",
                                                buckets={"year": list(range(1930, 2000, 10))})
    return users, items, stars, user_table, item_table


def split(setting, users, items, n_users, n_items, gen):
    """A boolean mask of the held-out interactions (by ``setting``) and the held-out ids."""
    if setting == "warm":
        return gen.random(len(users)) < 0.2, None
    ids = np.unique(users if setting == "cold users" else items)
    held = gen.choice(ids, int(round(0.2 * len(ids))), replace=False)
    return np.isin(users if setting == "cold users" else items, held), held


# -- metrics ---------------------------------------------------------------------------------
def score_table(scores, relevant, candidates):
    """Mean NDCG@10, Recall@20 and AUC over the rows with a relevant candidate: ``scores``,
    ``relevant`` and ``candidates`` are (users x items) arrays."""
    ndcg, recall, auc = [], [], []
    discounts = 1.0 / np.log2(np.arange(2, 12))
    for s, rel, cand in zip(scores, relevant, candidates):
        rel = rel & cand
        n_rel = int(rel.sum())
        if n_rel == 0 or n_rel == int(cand.sum()):
            continue
        s = np.where(cand, s, -np.inf)
        top = np.argsort(-s, kind="stable")[:20]
        ndcg.append((rel[top[:10]] * discounts).sum() / discounts[:min(n_rel, 10)].sum())
        recall.append(rel[top].sum() / n_rel)
        ranks = rankdata(s[cand])
        pos = rel[cand]
        n_neg = len(ranks) - n_rel
        auc.append((ranks[pos].sum() - n_rel * (n_rel + 1) / 2) / (n_rel * n_neg))
    return {"ndcg@10": float(np.mean(ndcg)), "recall@20": float(np.mean(recall)),
            "auc": float(np.mean(auc))}


class Task:
    """One train/evaluation pair: the training interactions, the held-out ones, the users
    and items to score, and which of them are candidates."""

    def __init__(self, setting, users, items, stars, mask, held, n_users, n_items):
        self.setting = setting
        keep = ~mask
        self.train = (users[keep], items[keep], stars[keep])
        positive = stars >= 4
        test_pairs = mask & positive
        self.users = np.unique(users[test_pairs])
        self.items = held if setting == "cold items" else np.arange(n_items)
        column = np.full(n_items, -1)
        column[self.items] = np.arange(len(self.items))
        row = np.full(n_users, -1)
        row[self.users] = np.arange(len(self.users))
        self.relevant = np.zeros((len(self.users), len(self.items)), bool)
        sel = test_pairs & (column[items] >= 0)
        self.relevant[row[users[sel]], column[items[sel]]] = True
        self.candidates = np.ones_like(self.relevant)
        seen = keep & (row[users] >= 0) & (column[items] >= 0)   # any training interaction
        self.candidates[row[users[seen]], column[items[seen]]] = False
        self.n_users, self.n_items = n_users, n_items

    def positives(self):
        u, i, r = self.train
        return u[r >= 4], i[r >= 4]

    def evaluate(self, scores):
        return score_table(scores, self.relevant, self.candidates)


# -- fastmf -----------------------------------------------------------------------------------
def fastmf_scores(model, task, user_table, item_table):
    """Scores of the task's users and items; rows the model does not know are placed from
    their features (a model with features) or get zero factors (without)."""
    for side, ids, table in (("user", task.users, user_table), ("item", task.items, item_table)):
        known = getattr(model, f"{side}_ids_").index(ids) >= 0
        new = ids[~known]
        if len(new) and hasattr(model, FEATURE_MAPS[side]):
            getattr(model, f"add_{side}s")(new, table)

    def vectors(side, ids):
        index = getattr(model, f"{side}_ids_").index(ids)
        F = getattr(model, f"{side}_factors_")
        out = np.where((index >= 0)[:, None], F[np.maximum(index, 0)], 0.0)
        bias = getattr(model, f"{side}_biases_", None)
        b = (np.zeros(len(ids)) if bias is None
             else np.where(index >= 0, bias[np.maximum(index, 0)], 0.0))
        return out.astype(np.float64), b
    X, bu = vectors("user", task.users)
    Y, bi = vectors("item", task.items)
    return X @ Y.T + bu[:, None] + bi[None, :]


# Each kind: the data it is fitted on ("ratings": every rating with its stars; "positives":
# the ratings >= 4 as pairs), its grid of settings without features, and the grid that
# features add (features on both sides or only on the side the setting holds out, times
# these). Another fastmf model with features takes one entry in each.
KINDS = {"ImplicitALS": "positives", "BPR": "positives", "ALS": "ratings"}
GRIDS = {kind: [dict(regularization=r) for r in (0.3, 1.0, 3.0, 10.0, 30.0)]
         for kind in ("ImplicitALS", "ALS")}
FEATURE_GRIDS = {kind: [dict(feature_regularization=lf) for lf in (1.0, 10.0, 100.0)]
                 for kind in ("ImplicitALS", "ALS")}
# BPR: η = 0.1 falling linearly over the epochs (its default); epochs, λ and λ_f per step.
GRIDS["BPR"] = [dict(epochs=e, regularization=r) for e in (10, 25, 100) for r in (0.01, 0.05)]
FEATURE_GRIDS["BPR"] = [dict(feature_regularization=lf) for lf in (0.0, 0.01, 0.05)]
SIDES = {"warm": ("user", "item"), "cold users": ("user",), "cold items": ("item",)}


def fastmf_fit(kind, params, task, threads):
    """A fastmf ``kind`` with ``params`` fitted on the task's training part, and the seconds
    its fit took."""
    data = fastmf.Interactions.from_arrays(*(task.train if KINDS[kind] == "ratings"
                                             else task.positives()))
    model = getattr(fastmf, kind)(factors=FACTORS, num_threads=threads, seed=0, verbose=False,
                                  **params)
    started = time.perf_counter()
    model.fit(data)
    return model, time.perf_counter() - started


def fastmf_candidates(kind, with_features, setting, user_table, item_table):
    """The grid: the kind's settings, and with features each of them with each feature
    setting and the features on both sides or only on the side that the setting holds out."""
    tables = {"user": user_table, "item": item_table}
    for base in GRIDS[kind]:
        if not with_features:
            yield dict(base)
            continue
        for sides in dict.fromkeys([("user", "item"), SIDES[setting]]):
            for extra in FEATURE_GRIDS[kind]:
                yield dict(base, **extra, **{f"{side}_features": tables[side] for side in sides})


def describe(params):
    sides = [k.split("_")[0] for k in params if k.endswith("_features")]
    return ", ".join([f"{k}={v}" for k, v in params.items() if not k.endswith("_features")]
                     + ([f"features: {'+'.join(sides)}"] if sides else []))


def run_fastmf(kind, with_features, val_task, test_task, user_table, item_table, threads):
    best, best_score = None, -1.0
    for params in fastmf_candidates(kind, with_features, val_task.setting, user_table,
                                    item_table):
        model, _ = fastmf_fit(kind, dict(params), val_task, threads)
        score = val_task.evaluate(fastmf_scores(model, val_task, user_table, item_table))
        if score["ndcg@10"] > best_score:
            best, best_score = params, score["ndcg@10"]
    model, seconds = fastmf_fit(kind, dict(best), test_task, threads)
    return test_task.evaluate(fastmf_scores(model, test_task, user_table, item_table)), \
        seconds, describe(best)


def run_popularity(task):
    u, i = task.positives()
    counts = np.bincount(i, minlength=task.n_items).astype(np.float64)[task.items]
    started = time.perf_counter()
    scores = np.broadcast_to(counts, task.relevant.shape).copy()
    return task.evaluate(scores), time.perf_counter() - started, ""


# -- peers, each in a worker of its own in the peers' interpreter ----------------------------
def run_worker(python, worker, **inputs):
    """Run ``worker`` on ``inputs`` (saved as one .npz) and return what it saved; ``-I``
    keeps this folder, whose ``cmfrec.py`` would shadow the package, off its path."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(source, **inputs)
        subprocess.run([python, "-I", str(HERE / worker), str(source), str(target)],
                       check=True)
        with np.load(target) as out:
            return dict(out)


def lightfm_features(table, n, identity):
    A = table.weights(np.arange(n)).tocsr()
    if identity:
        A = sp.hstack([sp.identity(n, format="csr"), A]).tocsr()
    return A.astype(np.float32)


def run_lightfm_once(python, loss, identity, task, user_table, item_table, checkpoints, threads):
    u, i = task.positives()
    uf = lightfm_features(user_table, task.n_users, identity)
    itf = lightfm_features(item_table, task.n_items, identity)
    out = run_worker(python, "_lightfm_worker.py", rows=u, cols=i,
                     shape=np.array([task.n_users, task.n_items]), uf_data=uf.data,
                     uf_indices=uf.indices, uf_indptr=uf.indptr, uf_shape=np.array(uf.shape),
                     if_data=itf.data, if_indices=itf.indices, if_indptr=itf.indptr,
                     if_shape=np.array(itf.shape), loss=loss, learning_rate=0.05,
                     checkpoints=np.array(checkpoints), components=FACTORS, threads=threads,
                     seed=0, users=task.users, items=task.items)
    return {c: out[f"scores_{c}"] for c in checkpoints}, float(out["seconds"])


def run_lightfm(python, loss, val_task, test_task, user_table, item_table, threads):
    best, best_score = None, -1.0
    for identity in (True, False):
        scores, _ = run_lightfm_once(python, loss, identity, val_task, user_table, item_table,
                                     (10, 40), threads)
        for epochs, s in scores.items():
            ndcg = val_task.evaluate(s)["ndcg@10"]
            if ndcg > best_score:
                best, best_score = (identity, epochs), ndcg
    identity, epochs = best
    scores, seconds = run_lightfm_once(python, loss, identity, test_task, user_table, item_table,
                                       (epochs,), threads)
    return (test_task.evaluate(scores[epochs]), seconds,
            f"epochs={epochs}, {'ids+attributes' if identity else 'attributes only'}")


# λ and α go together (cmfrec's λ is not scaled by the rows' counts); w weighs the attribute
# matrices against X; centering the attributes (cmfrec's default) drops the intercept that
# places a cold row near the average one, so both ways are tried.
CMFREC_GRID = [dict(lambda_=lam, alpha=alpha, w_user=w, w_item=w, center_U=center,
                    center_I=center, niter=15)
               for lam, alpha in ((30.0, 4.0), (100.0, 4.0), (100.0, 16.0))
               for w in (1.0, 10.0) for center in (True, False)]


def run_cmfrec_once(python, grid, task, user_table, item_table, threads):
    """(scores, fit seconds) of each setting of ``grid`` on ``task``."""
    u, i = task.positives()
    out = run_worker(python, "_cmfrec_worker.py", rows=u, cols=i,
                     U=user_table.weights(np.arange(task.n_users)).toarray(),
                     I=item_table.weights(np.arange(task.n_items)).toarray(), k=FACTORS,
                     threads=threads, seed=0, users=task.users, items=task.items,
                     grid=json.dumps(grid))
    return [(out[f"scores_{j}"], float(out[f"seconds_{j}"])) for j in range(len(grid))]


def run_cmfrec(python, val_task, test_task, user_table, item_table, threads):
    found = run_cmfrec_once(python, CMFREC_GRID, val_task, user_table, item_table, threads)
    ndcg = [val_task.evaluate(scores)["ndcg@10"] for scores, _ in found]
    best = CMFREC_GRID[int(np.argmax(ndcg))]
    [(scores, seconds)] = run_cmfrec_once(python, [best], test_task, user_table, item_table,
                                          threads)
    return (test_task.evaluate(scores), seconds,
            f"lambda_={best['lambda_']}, alpha={best['alpha']}, w_user=w_item={best['w_user']}, "
            f"{'centered' if best['center_U'] else 'raw'} attributes")


# -- the table --------------------------------------------------------------------------------
def tasks(setting, users, items, stars, n_users, n_items, seed):
    """(validation task, test task): the test split with ``seed``, the validation split of
    its training part with ``seed + 1``."""
    mask, _ = split(setting, users, items, n_users, n_items, np.random.default_rng(seed))
    held = np.unique((users if setting == "cold users" else items)[mask]) \
        if setting != "warm" else None
    test_task = Task(setting, users, items, stars, mask, held, n_users, n_items)
    keep = ~mask
    vmask, _ = split(setting, users[keep], items[keep], n_users, n_items,
                     np.random.default_rng(seed + 1))
    vheld = np.unique((users[keep] if setting == "cold users" else items[keep])[vmask]) \
        if setting != "warm" else None
    return (Task(setting, users[keep], items[keep], stars[keep], vmask, vheld, n_users,
                 n_items), test_task)


def importable(python, module):
    return python is not None and subprocess.run([python, "-c", f"import {module}"],
                                                 capture_output=True).returncode == 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="the ml-100k folder (default: "
                        "$FASTMF_DATA/ml-100k, else ~/.cache/fastmf/ml-100k)")
    parser.add_argument("--peers-python", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", default="warm,cold users,cold items")
    args = parser.parse_args(argv)
    folder = Path(args.data) if args.data else Path(
        os.environ.get("FASTMF_DATA", Path.home() / ".cache" / "fastmf")) / "ml-100k"
    python = args.peers_python or ("/tmp/peers/bin/python"
                                   if Path("/tmp/peers/bin/python").exists() else None)
    peers = {name: importable(python, name) for name in ("lightfm", "cmfrec")}
    users, items, stars, user_table, item_table = load(folder)
    n_users, n_items = int(users.max()) + 1, int(items.max()) + 1
    print(f"MovieLens 100K: {len(users)} ratings, {int((stars >= 4).sum())} positives; "
          f"{len(user_table.names)} user features, {len(item_table.names)} item features; "
          f"threads {args.threads}; " + "; ".join(
              f"{name}: {'yes' if ok else 'not importable, skipped'}"
              for name, ok in peers.items()))
    print(f"{'setting':<11} {'model':<30} {'NDCG@10':>8} {'Recall@20':>9} {'AUC':>6} "
          f"{'fit s':>7}  chosen on validation")
    for setting in args.settings.split(","):
        val_task, test_task = tasks(setting, users, items, stars, n_users, n_items, args.seed)
        common = (val_task, test_task, user_table, item_table, args.threads)
        rows = [("popularity", run_popularity(test_task))]
        for kind in KINDS:
            for with_features in (True, False):
                name = f"fastmf {kind}" + (" + features" if with_features else "")
                rows.append((name, run_fastmf(kind, with_features, *common)))
        if peers["lightfm"]:
            for loss in ("bpr", "warp"):
                rows.append((f"LightFM {loss.upper()} + features",
                             run_lightfm(python, loss, *common)))
        if peers["cmfrec"]:
            rows.append(("cmfrec CMF_implicit + features", run_cmfrec(python, *common)))
        for name, (scores, seconds, chosen) in rows:
            print(f"{setting:<11} {name:<30} {scores['ndcg@10']:>8.4f} "
                  f"{scores['recall@20']:>9.4f} {scores['auc']:>6.4f} {seconds:>7.2f}  {chosen}",
                  flush=True)


if __name__ == "__main__":
    main()
