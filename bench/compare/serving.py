"""Serving at catalog scale: exact and approximate top-10 against implicit's ``recommend``,
and recommendations for every user in bounded memory.

Run from the repository root (implicit and faiss-cpu are optional; without them their
rows are left out)::

    python -m bench.compare.serving                          # 1M items; 200k x 50k
    python -m bench.compare.serving --items 100k --all-users 20k --all-items 5k   # smoke

1. Top-10 for one user at a time and for batches, on a model with ``--items`` items
   (default 1M) and k = 64. The factors are random with planted structure, as learned
   factors have it: 1,000 "taste" centres drawn N(0, I/k), each user and item a centre
   plus N(0, 0.7² I/k) noise, each row scaled by a log-normal(0, 0.3) popularity; every
   user has 20 random "seen" items, filtered by both libraries. The model is an
   ImplicitALS whose fitted arrays are set directly (scores x_u·y_i, no biases, as
   implicit's). fastmf exact: ``recommend_batch`` (C++ top-n) and ``recommend``; fastmf
   approximate: the same after ``build_index()`` (faiss HNSW, M=16, ef_construction=100,
   ef_search=64 unless given), its build time, and its recall@10 against the exact top 10
   on the same queries; implicit: ``implicit.cpu.als.AlternatingLeastSquares`` with
   ``user_factors``/``item_factors`` set, ``recommend(userids, user_items[userids], N=10,
   filter_already_liked_items=True)``. Queries per second is the median of 3 runs.
2. Recommendations for every user, ``--all-users`` x ``--all-items`` (default 200k x
   50k; a users x items float32 score matrix would be 40 GB): fastmf ``recommend_all(10)``
   to memory and to a Parquet file, and implicit's ``recommend`` of all users at once, each
   in a fresh process that reports seconds and the growth of its peak resident memory
   (VmHWM) over what the process held once its factors were built.
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import (add_worker_arguments, describe_host, missing, parse_size, peak_rss_gb,
                      print_table, run_worker, version, working_folder)

K, N, SEEN = 64, 10, 20


def planted_factors(n_users, n_items, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(1000, K)).astype(np.float32)

    def rows(n):
        X = centres[rng.integers(0, 1000, n)] + 0.7 * rng.normal(size=(n, K)).astype(np.float32)
        return (X * rng.lognormal(0, 0.3, size=(n, 1)).astype(np.float32)
                / np.float32(np.sqrt(K))).astype(np.float32)
    return rows(n_users), rows(n_items)


def seen_items(n_users, n_items, seed):
    """A CSR (indptr, indices) of SEEN random items per user, each row sorted."""
    rng = np.random.default_rng(seed + 1)
    indices = np.sort(rng.integers(0, n_items, (n_users, SEEN)), axis=1)
    return np.arange(0, n_users * SEEN + 1, SEEN, dtype=np.int64), indices.ravel().astype(np.int32)


def fastmf_model(X, Y, seen):
    import fastmf
    from fastmf.data import IdMap
    model = fastmf.ImplicitALS(factors=K, verbose=False)
    model.user_ids_, model.item_ids_ = IdMap(np.arange(len(X))), IdMap(np.arange(len(Y)))
    model.user_factors_, model.item_factors_ = X, Y
    model._seen = seen
    model.history_, model.n_iter_ = [], 0
    model._check_loaded_state()
    return model


def implicit_model(X, Y):
    from implicit.cpu.als import AlternatingLeastSquares
    model = AlternatingLeastSquares(factors=K, random_state=0)
    model.user_factors, model.item_factors = X, Y
    return model


def seen_matrix(seen, n_items):
    import scipy.sparse as sp
    indptr, indices = seen
    return sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr),
                         shape=(len(indptr) - 1, n_items))


def median_qps(run, queries, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return queries / statistics.median(times)


def qps_worker(args):
    X, Y = planted_factors(args.users, args.items, 0)
    seen = seen_items(args.users, args.items, 0)
    model = fastmf_model(X, Y, seen)
    users = np.arange(args.batch)
    singles = users[:args.singles]
    rows = []
    exact = model.recommend_batch(users, n=N)

    def batch(**kw):
        return lambda: model.recommend_batch(users, n=N, **kw)

    def single(**kw):
        return lambda: [model.recommend(u, n=N, **kw) for u in singles]
    rows.append(["fastmf exact (C++ top-n)", median_qps(batch(), len(users)),
                 median_qps(single(), len(singles)), 1.0, None])
    if missing("faiss", "faiss-cpu") is None:
        start = time.perf_counter()
        model.build_index(M=args.M, ef_construction=args.ef_construction,
                          ef_search=args.ef_search, similar_items=False)
        built = time.perf_counter() - start
        approx = model.recommend_batch(users, n=N)
        recall = np.mean([len(set(approx.row(r)[0]) & set(exact.row(r)[0])) / N
                          for r in range(len(users))])
        rows.append([f"fastmf HNSW (faiss {version('faiss-cpu')})", median_qps(batch(), len(users)),
                     median_qps(single(), len(singles)), recall, built])
    if missing("implicit", "implicit") is None:
        other = implicit_model(X, Y)
        liked = seen_matrix(seen, args.items)

        def implicit_batch():
            return other.recommend(users, liked[users], N=N, filter_already_liked_items=True)

        def implicit_single():
            return [other.recommend(u, liked[u], N=N, filter_already_liked_items=True)
                    for u in singles]
        found, _ = implicit_batch()
        recall = np.mean([len(set(found[r]) & set(exact.row(r)[0])) / N for r in range(len(users))])
        rows.append([f"implicit {version('implicit')} recommend", median_qps(implicit_batch, len(users)),
                     median_qps(implicit_single, len(singles)), recall, None])
    return {"rows": rows}


def all_worker(args):
    X, Y = planted_factors(args.users, args.items, 1)
    seen = seen_items(args.users, args.items, 1)
    if args.library == "implicit":
        model, liked = implicit_model(X, Y), seen_matrix(seen, args.items)
    else:
        model = fastmf_model(X, Y, seen)
        if args.library == "fastmf-parquet":
            import pyarrow.parquet  # noqa: F401  (its libraries count before, not as growth)
    base = peak_rss_gb()
    start = time.perf_counter()
    if args.library == "implicit":
        found, _ = model.recommend(np.arange(args.users), liked, N=N,
                                   filter_already_liked_items=True)
    elif args.library == "fastmf-parquet":
        with tempfile.TemporaryDirectory() as folder:
            model.recommend_all(N, out=Path(folder) / "recs.parquet", verbose=False)
    else:
        model.recommend_all(N, verbose=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "growth_gb": peak_rss_gb() - base, "base_gb": base}


WORKERS = {"qps": qps_worker, "all": all_worker}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=parse_size, default=1_000_000)
    parser.add_argument("--users", type=parse_size, default=20_000,
                        help="users of the top-10 model (queries are its first users)")
    parser.add_argument("--batch", type=int, default=2000, help="users per batch query")
    parser.add_argument("--singles", type=int, default=200, help="one-user calls timed")
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=100)
    parser.add_argument("--ef-search", type=int, default=64)
    parser.add_argument("--all-users", type=parse_size, default=200_000)
    parser.add_argument("--all-items", type=parse_size, default=50_000)
    parser.add_argument("--threads", type=int, default=0, help="0: every core")
    parser.add_argument("--library", help=argparse.SUPPRESS)
    parser.add_argument("--skip", choices=["qps", "all"], action="append", default=[])
    add_worker_arguments(parser, WORKERS)
    args = parser.parse_args(argv)
    if args.worker:
        Path(args.out).write_text(json.dumps(WORKERS[args.worker](args)))
        return
    import os
    threads = args.threads or os.cpu_count()
    with working_folder(args.workdir, "fastmf-serving-") as folder:
        print("\n".join(describe_host(threads, folder)))
        if "qps" not in args.skip:
            got = run_worker("bench.compare.serving", "qps", folder / "qps.json", threads,
                             items=args.items, users=args.users, batch=args.batch,
                             singles=args.singles, M=args.M, ef_construction=args.ef_construction,
                             ef_search=args.ef_search)
            print(f"\nTop-10 of {args.items:,} items, k={K}, {SEEN} seen items filtered per user, "
                  f"{threads} threads (batch: {args.batch} users per call; single: one user "
                  f"per call)")
            rows = [[name, f"{b:,.0f}", f"{s:,.0f}", f"{recall:.3f}",
                     "" if built is None else f"{built:.0f} s"]
                    for name, b, s, recall, built in got["rows"]]
            print_table(["", "batch q/s", "single q/s", "recall@10", "index build"], rows, 1)
        if "all" not in args.skip:
            rows = []
            for library in ("fastmf", "fastmf-parquet", "implicit"):
                if library == "implicit" and missing("implicit", "implicit"):
                    continue
                got = run_worker("bench.compare.serving", "all", folder / f"{library}.json",
                                 threads, users=args.all_users, items=args.all_items,
                                 library=library)
                rows.append([library, f"{got['seconds']:.1f}", f"{got['growth_gb']:.3f}",
                             f"{got['base_gb']:.2f}"])
            matrix = args.all_users * args.all_items * 4 / 1e9
            print(f"\nTop-10 for all {args.all_users:,} users of {args.all_items:,} items "
                  f"(a float32 score matrix: {matrix:.0f} GB), {threads} threads")
            print_table(["", "seconds", "peak RSS growth GB", "RSS before GB"], rows, 1)


if __name__ == "__main__":
    sys.exit(main())
