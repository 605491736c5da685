"""The whole path past one machine at scale: synthetic ratings generated on the workers,
``fastmf.distributed`` fit with ``keep_on_cluster=True``, ``recommend_all`` to Parquet,
``evaluate`` on test pairs generated on the workers, and ``save``, on a 2-worker Dask
LocalCluster of this machine (spill to disk allowed). Run from the repository root::

    python -m bench.scale                                   # 20M ratings, 1M users
    python -m bench.scale --ratings 1e6 --users 5e4 --items 5e3 --iterations 2   # a smoke run
    python -m bench.scale --item-blocks        # recommend_all and evaluate item block by block

Reported per phase: seconds, the driver's peak RSS (VmHWM, the whole process so far), each
worker's peak RSS, and the bytes the workers sent each other (Dask's
``transfer_outgoing_bytes_total``). The ratings never pass through the driver: each
partition is made by a task on a worker (users of a contiguous range per partition, items
skewed towards the first ones, ratings 1 to 5; repeated pairs keep the last). The test pairs
are made the same way from other seeds.
"""
import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.compare._common import peak_rss_gb

N_WORKERS = 2


def ratings_partition(part, n_parts, n_users, n_items, per_part, seed):
    """One partition of synthetic ratings (made on a worker): users of the partition's own
    range, items drawn with a skew towards low ids, ratings 1..5."""
    import pandas as pd

    rng = np.random.default_rng([seed, part])
    lo, hi = part * n_users // n_parts, (part + 1) * n_users // n_parts
    users = rng.integers(lo, hi, per_part, dtype=np.int64)
    items = (n_items * rng.random(per_part) ** 2).astype(np.int64)
    ratings = rng.integers(1, 6, per_part).astype(np.float32)
    return pd.DataFrame({"user": users, "item": items, "rating": ratings})


def frame(n_ratings, n_users, n_items, n_parts, seed):
    import dask.dataframe as dd
    import pandas as pd

    meta = pd.DataFrame({"user": np.zeros(0, np.int64), "item": np.zeros(0, np.int64),
                         "rating": np.zeros(0, np.float32)})
    return dd.from_map(ratings_partition, list(range(n_parts)), n_parts=n_parts,
                       n_users=n_users, n_items=n_items, per_part=n_ratings // n_parts,
                       seed=seed, meta=meta, enforce_metadata=False)


def worker_state(dask_worker):
    with open("/proc/self/status", encoding="ascii") as status:
        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return {"peak_rss_gb": hwm * 1024 / 1e9, "sent": dask_worker.transfer_outgoing_bytes_total}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ratings", type=float, default=20e6)
    parser.add_argument("--users", type=float, default=1e6)
    parser.add_argument("--items", type=float, default=50e3)
    parser.add_argument("--factors", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--model", choices=("ALS", "ImplicitALS"), default="ImplicitALS")
    parser.add_argument("--memory-limit", default="8GB", help="per worker; spills above it")
    parser.add_argument("--folder", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--item-blocks", action="store_true",
                        help="recommend_all and evaluate item block by item block "
                             "(item_blocks=True), as for a catalog too large for a worker")
    parser.add_argument("--one-machine", action="store_true",
                        help="then gather the model (to_local) and time the one-machine "
                             "recommend_all and evaluate on the same data, 2 threads")
    args = parser.parse_args()
    n_ratings, n_users, n_items = int(args.ratings), int(args.users), int(args.items)

    from distributed import Client, LocalCluster

    import fastmf
    import fastmf.distributed as fd

    folder = Path(args.folder or tempfile.mkdtemp(prefix="fastmf-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    report = {"ratings": n_ratings, "users": n_users, "items": n_items,
              "factors": args.factors, "iterations": args.iterations, "model": args.model,
              "item_blocks": args.item_blocks,
              "workers": N_WORKERS, "threads_per_worker": 1, "memory_limit": args.memory_limit,
              "cpu": _cpu(), "cores": os.cpu_count(), "fastmf": fastmf.__version__,
              "python": platform.python_version(), "phases": {}}
    with LocalCluster(n_workers=N_WORKERS, threads_per_worker=1, processes=True,
                      memory_limit=args.memory_limit, dashboard_address=":0",
                      local_directory=str(folder / "dask")) as cluster, \
            Client(cluster) as client:
        train = frame(n_ratings, n_users, n_items, args.partitions, seed=1)
        test = frame(n_ratings // 10, n_users, n_items, args.partitions, seed=2)
        model = getattr(fd, args.model)(factors=args.factors, iterations=args.iterations,
                                        seed=0, verbose=False, client=client)
        phases = [
            ("fit", lambda: model.fit(train, duplicates="last", keep_on_cluster=True)),
            ("recommend_all", lambda: model.recommend_all(n=10, out=folder / "recs",
                                                          item_blocks=args.item_blocks)),
            ("evaluate", lambda: fd.evaluate(model, test[["user", "item"]], k=10,
                                             item_blocks=args.item_blocks)),
            ("save", lambda: model.save(folder / "model")),
        ]
        before = sum(w["sent"] for w in client.run(worker_state).values())
        for name, run in phases:
            started = time.perf_counter()
            result = run()
            seconds = time.perf_counter() - started
            workers = client.run(worker_state)
            sent = sum(w["sent"] for w in workers.values())
            entry = {"seconds": round(seconds, 2), "driver_peak_rss_gb": round(peak_rss_gb(), 3),
                     "worker_peak_rss_gb": sorted(round(w["peak_rss_gb"], 3)
                                                  for w in workers.values()),
                     "bytes_sent": sent - before}
            before = sent
            if name == "fit":
                entry["seconds_per_iteration"] = [round(r["seconds"], 2) for r in model.history_]
            if name == "evaluate":
                entry["metrics"] = {k: round(v, 5) if isinstance(v, float) else v
                                    for k, v in result.items()}
            report["phases"][name] = entry
            print(json.dumps({name: entry}), flush=True)
        report["output_rows"] = _parquet_rows(folder / "recs")
        if args.one_machine:
            report["one_machine"] = _one_machine(model, test, folder)
    print(json.dumps(report, indent=1))
    if args.folder is None:
        shutil.rmtree(folder, ignore_errors=True)


def _one_machine(model, test, folder):
    """Seconds of the one-machine recommend_all and evaluate of the gathered model (with
    the same test pairs, gathered too), and whether they agree with the cluster's."""
    import pandas as pd

    import fastmf

    started = time.perf_counter()
    local = model.to_local()
    local.set_params(num_threads=N_WORKERS)
    pairs = test[["user", "item"]].compute()
    train = fastmf.Interactions(local.user_ids_, local.item_ids_, _seen_csr(local))
    gathered = time.perf_counter() - started
    started = time.perf_counter()
    path = local.recommend_all(n=10, out=folder / "one.parquet")
    recommend = time.perf_counter() - started
    started = time.perf_counter()
    metrics = fastmf.metrics.evaluate(local, fastmf.Interactions.from_arrays(
        pairs.user.to_numpy(), pairs.item.to_numpy(), duplicates="last"), train=train, k=10)
    evaluate = time.perf_counter() - started
    one = pd.read_parquet(path).sort_values(["user", "rank"]).reset_index(drop=True)
    cluster = pd.read_parquet(folder / "recs").sort_values(["user", "rank"])
    same = bool(one.equals(cluster[one.columns].reset_index(drop=True)))
    return {"gather_seconds": round(gathered, 2), "recommend_all_seconds": round(recommend, 2),
            "evaluate_seconds": round(evaluate, 2), "same_recommendations": same,
            "metrics": {k: round(v, 5) if isinstance(v, float) else v
                        for k, v in metrics.items()},
            "driver_peak_rss_gb": round(peak_rss_gb(), 3)}


def _seen_csr(local):
    from fastmf.data import Csr
    indptr, indices = local._seen
    return Csr(indptr, indices, np.ones(len(indices), np.float32),
               (len(local.user_ids_), len(local.item_ids_)))


def _parquet_rows(path):
    import pyarrow.parquet as pq
    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(path.glob("*.parquet")))


def _cpu():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next(line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


if __name__ == "__main__":
    main()
