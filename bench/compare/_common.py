"""What the peer comparisons share: sizes and synthetic data, workers in fresh processes,
peak memory, tables, and the MovieLens 100K implicit split.

Every comparison runs each library in its own fresh Python (``run_worker``), so that no
process carries another's memory or thread pools; the synthetic sets are generated once
per size by a worker of this module and saved to an ``.npz``.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA_HOME = REPO.parent / "shared" / "datasets"
NAMED_SIZES = {"2M": 2_000_000, "20M": 20_000_000}
RATINGS_PER_USER, RATINGS_PER_ITEM = 100, 400
# The MovieLens 100K implicit split: ratings >= POSITIVE are the positives (value 1),
# TEST_SIZE of them held out with SPLIT_SEED; ranking metrics at K.
POSITIVE, TEST_SIZE, SPLIT_SEED, K = 4, 0.2, 0, 10


# -- sizes and data --------------------------------------------------------------------

def parse_size(text):
    """"2M" -> 2_000_000, "200k" -> 200_000, "50000" -> 50_000."""
    if text in NAMED_SIZES:
        return NAMED_SIZES[text]
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"a size is a number of ratings like 2M, 200k or "
                                         f"50000, got {text!r}")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def parse_sizes(text):
    """"2M,20M" -> [("2M", 2_000_000), ("20M", 20_000_000)]."""
    return [(label.strip(), parse_size(label)) for label in text.split(",") if label.strip()]


def shape_for(n_ratings):
    """(n_users, n_items) at 100 ratings per user and 400 per item, at most half full."""
    n_users = max(n_ratings // RATINGS_PER_USER, 1)
    n_items = max(n_ratings // RATINGS_PER_ITEM, -(-2 * n_ratings // n_users))
    return n_users, n_items


def generate(n_ratings, path):
    """Worker: make the ratings and save (users, items, ratings) to ``path``."""
    import fastmf

    started = time.perf_counter()
    data = fastmf.datasets.make_ratings(*shape_for(n_ratings), n_ratings, seed=0,
                                        with_titles=False)
    users, items, ratings = data.users, data.items, data.ratings
    np.savez(path, users=users.astype(np.int32), items=items.astype(np.int32),
             ratings=ratings.astype(np.float32))
    return {"n_users": data.n_users, "n_items": data.n_items, "nnz": data.nnz,
            "seconds": time.perf_counter() - started, "peak_rss_gb": peak_rss_gb()}


def load(path):
    with np.load(path) as saved:
        return saved["users"], saved["items"], saved["ratings"]


def ensure_data(label, n_ratings, threads, workdir):
    """The path of ``ratings-<label>.npz`` in workdir, generated (in a worker of this
    module) unless an earlier run left it there."""
    data_path = workdir / f"ratings-{label}.npz"
    info_path = workdir / f"ratings-{label}.json"
    if data_path.exists() and info_path.exists():
        print(f"{label}: reusing {data_path}")
    else:
        info = run_worker(__name__, "generate", info_path, threads, ratings=n_ratings,
                          data=data_path)
        print(f"{label}: generated {info['nnz']:,} ratings of {info['n_users']:,} users x "
              f"{info['n_items']:,} items in {info['seconds']:.1f} s, "
              f"peak RSS {info['peak_rss_gb']:.2f} GB")
    return data_path


def movielens_split(data_home):
    """(train, test) of the MovieLens 100K positives (rating >= POSITIVE), value 1."""
    import fastmf

    data = fastmf.datasets.load_movielens("100k", data_home=data_home, download=False,
                                          progress=False)
    users, items, ratings = data.to_arrays()
    liked = ratings >= POSITIVE
    positives = fastmf.Interactions.from_arrays(users[liked], items[liked])
    return fastmf.train_test_split(positives, test_size=TEST_SIZE, seed=SPLIT_SEED)


def movielens_found(data_home):
    """Whether MovieLens 100K is under ``data_home``; if not, says that the quality part is
    skipped."""
    import fastmf

    try:
        movielens_split(data_home)
    except fastmf.DataNotFoundError as err:
        print(f"quality: MovieLens 100K not found under {data_home} ({err}); skipped")
        return False
    return True


def ranking_scores(X, Y, userids, top, train, test):
    """precision@K, NDCG@K and AUC of implicit's top-K lists ``top`` (train item indices, a
    row per test user, in the order of ``userids``), by the functions of fastmf.metrics, as
    ``evaluate()`` defines them: a user's relevant items are their test items that are in
    train and not among their training items; AUC ranks X·Yᵀ, training items excluded."""
    import fastmf

    R, T = train.by_user, test.by_user
    test_items = train.item_ids.index(test.item_ids.ids)      # test item -> train index
    recommended, relevant = [], []
    relevant_mask = np.zeros((len(userids), train.n_items), dtype=bool)
    seen_mask = np.zeros_like(relevant_mask)
    for row, u in enumerate(userids):
        seen = R.indices[R.indptr[u]:R.indptr[u + 1]]
        items = test_items[T.indices[T.indptr[row]:T.indptr[row + 1]]]
        items = items[(items >= 0) & ~np.isin(items, seen)]
        seen_mask[row, seen] = relevant_mask[row, items] = True
        relevant.append(train.item_ids.ids[items])
        recommended.append(train.item_ids.ids[top[row][top[row] >= 0]])
    scores = X[userids].astype(np.float64) @ Y.T.astype(np.float64)
    scored = relevant_mask.any(axis=1)
    return {f"precision@{K}": fastmf.metrics.precision_at_k(recommended, relevant, k=K),
            f"ndcg@{K}": fastmf.metrics.ndcg_at_k(recommended, relevant, k=K),
            "auc": fastmf.metrics.auc(scores[scored], relevant_mask[scored], ~seen_mask[scored]),
            "users": int(scored.sum())}


# -- the host ---------------------------------------------------------------------------

GEMM_SHAPES = {   # label: (A's shape, B's shape), float32
    "sgemm 4096 x 4096 x 4096": ((4096, 4096), (4096, 4096)),
    "sgemm Gram 64 x 200000 x 64": ((64, 200_000), (200_000, 64)),
}


def gemm_rates(repeats=5):
    """numpy's float32 GEMM GFLOP/s for each of GEMM_SHAPES (median of ``repeats``), on the
    BLAS threads this process has (run_worker sets them)."""
    rng = np.random.default_rng(0)
    rates = {}
    for label, (a, b) in GEMM_SHAPES.items():
        A = rng.standard_normal(a, dtype=np.float32)
        B = (np.ascontiguousarray(A.T) if a == b[::-1]
             else rng.standard_normal(b, dtype=np.float32))
        A @ B
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            A @ B
            times.append(time.perf_counter() - started)
        rates[label] = 2 * a[0] * a[1] * b[1] / sorted(times)[len(times) // 2] / 1e9
    return rates


def cpu_model():
    """The CPU's model name (/proc/cpuinfo), or what platform says where there is none."""
    import platform
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_host(threads, workdir, rates=None):
    """Lines naming where a comparison ran: the CPU, fastmf's kernel build and why, and
    numpy's float32 GEMM rates on ``threads`` threads (``rates`` as gemm_rates returns
    them, else measured now in a fresh worker)."""
    from fastmf import _core
    if rates is None:
        rates = run_worker("bench.compare._common", "gemm", Path(workdir) / "gemm.json", threads)
    return [f"host: {cpu_model()}, {os.cpu_count()} logical CPUs; fastmf kernels "
            f"{_core.variant} ({_core.reason})",
            "numpy float32 GEMM on {} threads: {}".format(threads, ", ".join(
                f"{label} {rate:.0f} GFLOP/s" for label, rate in rates.items()))]


# -- processes -------------------------------------------------------------------------

def peak_rss_gb():
    """This process's VmHWM (peak resident set) in GB, from /proc/self/status."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    import resource     # ru_maxrss is in kB on Linux; the same peak, where /proc is absent
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def version(package):
    """The installed version of ``package``, or "unknown"."""
    from importlib.metadata import PackageNotFoundError, version as installed
    try:
        return installed(package)
    except PackageNotFoundError:
        return "unknown"


def missing(module, package):
    """None when ``module`` imports, else a sentence saying why not (``package`` is what
    pip installs)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as err:
        if module == getattr(err, "name", None) or module.startswith(f"{err.name}."):
            return f"{package} is not installed (pip install {package})"
        return f"{package} is installed but does not import: {err}"
    return None


def run_worker(module, task, out, threads, **kwargs):
    """Run ``python -m module --worker task ...`` in a fresh Python from the repository
    root, with ``threads`` OpenMP and BLAS threads; return what it wrote to ``out``."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    command = [sys.executable, "-m", module, "--worker", task, "--out", str(out),
               "--threads", str(threads)]
    for name, value in kwargs.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(command, env=env, cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit(f"{task} failed (exit {done.returncode}):\n{done.stdout}")
    return json.loads(Path(out).read_text())


@contextlib.contextmanager
def working_folder(path, prefix):
    """The folder for the data and the workers' results: ``path`` (created, kept), else a
    temporary one (``prefix``...), deleted at the end."""
    folder = Path(path) if path else Path(tempfile.mkdtemp(prefix=prefix))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        if not path:
            shutil.rmtree(folder, ignore_errors=True)


def add_worker_arguments(parser, tasks, movielens=False):
    """--workdir, the hidden options by which a comparison runs its own ``tasks`` as
    workers, and with ``movielens`` --data-home and --skip (of its quality and speed parts)."""
    if movielens:
        parser.add_argument("--data-home", default=str(DATA_HOME),
                            help="the folder holding ml-100k/ (default: %(default)s)")
        parser.add_argument("--skip", choices=["quality", "speed"], action="append",
                            default=[], help="leave out a part (repeatable)")
    parser.add_argument("--workdir", help="keep the generated data here and reuse it "
                                          "(default: a temporary folder, deleted at the end)")
    parser.add_argument("--worker", choices=list(tasks), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)


def print_table(header, rows, left):
    """Columns padded to their widest cell, the first ``left`` aligned left."""
    widths = [max(len(str(row[j])) for row in [header, *rows]) for j in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(w) if j < left else str(cell).rjust(w)
                        for j, (cell, w) in enumerate(zip(row, widths))).rstrip())


def main(argv=None):
    """The workers of this module: ``--worker generate --ratings N --data PATH --out JSON``
    (synthetic ratings) and ``--worker gemm --out JSON`` (numpy's GEMM rates)."""
    parser = argparse.ArgumentParser(description="generate synthetic ratings, time numpy's GEMM")
    parser.add_argument("--worker", choices=["generate", "gemm"], required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--ratings", type=int)
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    if args.worker == "gemm":
        result = gemm_rates()
    elif args.ratings is None or args.data is None:
        parser.error("--worker generate needs --ratings and --data")
    else:
        result = generate(args.ratings, args.data)
    Path(args.out).write_text(json.dumps(result))

if __name__ == "__main__":
    main()
