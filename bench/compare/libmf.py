"""Seconds per SGD epoch and peak memory: fastmf.SGD against LIBMF (the ``libmf`` package).

Both train k factors by parallel SGD on the same synthetic ratings, split once into the
same train and test sets, with the same threads, epochs, learning rate and L2
regularization, in float32. Run from the repository root (libmf is optional; without it
only fastmf is timed)::

    python -m bench.compare.libmf                        # 2M and 20M ratings, 10 epochs
    python -m bench.compare.libmf --sizes 200k --iterations 3      # a smoke run

``pip install libmf`` builds LIBMF from source (its PyPI package, bindings by S. F.
Royston). Sizes, the data and the peak
memory are as in ``bench/compare/cmfrec.py`` (the same ``ratings-<size>.npz`` in a shared
``--workdir`` serve both scripts): ``2M`` is ``make_ratings(20_000, 5_000, 2_000_000)``,
``20M`` is ``make_ratings(200_000, 50_000, 20_000_000)``. The ratings are then split once
per size by ``fastmf.train_test_split(test_size=0.1, seed=0)`` (test ratings whose user or
item is not in train are dropped) and saved; both libraries load that split.

The two models are not the same, and the table says so:

- fastmf: ``r̂ = μ + b_u + b_i + p_u·q_i``, plain SGD with a constant step
  (``decay=1.0``), λ on the factors and on the biases, normal initialization (std 0.1).
- LIBMF (``fun=0``, real-valued MF with squared loss): ``r̂ = p_u·q_i``, no global mean and
  no biases. Its SGD scales the ratings by their standard deviation and adapts the step
  per row (``eta / sqrt(accumulated squared gradient)``, as in its FPSG paper), so the same
  ``eta`` is not the same step; ``lambda_p2 = lambda_q2 = λ`` is the same per-update L2
  penalty as fastmf's (LIBMF rescales it with the ratings), the L1 penalties are 0, its
  grid has ``nr_bins = max(26, 2 threads + 1)`` (26: LIBMF's default), its initialization
  is its own (uniform, fixed seed). The PyPI package compiles LIBMF without the
  ``-DUSESSE``/``-DUSEAVX``/``-DUSEOMP`` flags of LIBMF's own Makefile (its SGD kernels are
  then plain C++; the SGD threads are std::threads either way), so it may run slower
  than a LIBMF built by its Makefile. The bindings load the library named by
  ``LIBMF_OBJ`` when it is set, which this script passes on: to time such a build, from
  the unpacked sdist (``pip download --no-binary :all: --no-deps libmf``)::

      g++ -O3 -march=native -DUSEAVX -DUSEOMP -fopenmp -pthread -std=c++11 -shared -fPIC \
          src_cpp/libmf_interface.cpp src_cpp/mf.cpp -o /tmp/libmf_avx.so
      LIBMF_OBJ=/tmp/libmf_avx.so python -m bench.compare.libmf

What each timing includes:

- fastmf, s/epoch: median of ``history_[i]["seconds"]``: the epoch's updates plus its
  bookkeeping (training loss and RMSE accumulated during the epoch, the penalty, the
  validation RMSE). fit s: ``fit(train, validation=test)`` on prebuilt ``Interactions``
  (building them, "prep s", is timed apart), its block layout included.
- LIBMF, s/epoch: LIBMF runs verbose (``quiet=False``) with the test set as its validation
  set, so that after every epoch it computes and prints the training RMSE accumulated
  during the epoch, the penalty and the validation RMSE, as fastmf does. Its output is
  read through a pipe and every line stamped as it arrives: s/epoch is the median gap
  between consecutive epochs' lines (one epoch's updates plus that bookkeeping; the first
  epoch, which has no line before it, is left out; with ``--iterations 1``: fit s). fit
  s: the whole ``mf_train_test`` call: the bindings' copies of the data into LIBMF's
  format, LIBMF's own copy, scaling, shuffling and grid, its initialization and epochs.
- peak RSS: the process's VmHWM after the fit, data loaded included ("RSS before fit" is
  the same process after loading and preparing the data). The train and test RMSE of the
  table are computed after the fit, the same way for both, from the fitted factors
  (fastmf: ``predict(clip=False)``; LIBMF: ``P[u]·Q[i]``).
"""
import argparse
import contextlib
import ctypes
import io
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from bench.compare._common import (add_worker_arguments, describe_host, ensure_data, load,
                                   parse_sizes, peak_rss_gb, print_table, run_worker, version,
                                   working_folder)

MODULE = "bench.compare.libmf"
CHUNK = 1 << 21                    # pairs per predict call when computing the RMSE
LEARNING_RATE, REG, BIAS_REG, INIT_STD = 0.05, 0.05, 0.05, 0.1
TEST_SIZE, SPLIT_SEED = 0.1, 0
LIBMF_BINS = 26                    # LIBMF's default nr_bins
MAX_LIBMF_ID = 1 << 24             # the bindings pass ids as float32: exact below 2**24


# -- data --------------------------------------------------------------------------------

def split(data_path, path):
    """Worker: split the saved ratings into train and test and save both to ``path``."""
    import fastmf

    started = time.perf_counter()
    data = fastmf.Interactions.from_arrays(*load(data_path))
    train, test = fastmf.train_test_split(data, test_size=TEST_SIZE, seed=SPLIT_SEED)
    arrays = {}
    for name, part in (("train", train), ("test", test)):
        users, items, ratings = part.to_arrays()
        arrays.update({f"{name}_users": users.astype(np.int32),
                       f"{name}_items": items.astype(np.int32),
                       f"{name}_ratings": ratings.astype(np.float32)})
    np.savez(path, **arrays)
    return {"train": train.nnz, "test": test.nnz, "unseen": test.n_unseen,
            "seconds": time.perf_counter() - started}


def load_split(path):
    """((users, items, ratings) of train, the same of test)."""
    with np.load(path) as saved:
        return tuple(tuple(saved[f"{name}_{column}"] for column in ("users", "items", "ratings"))
                     for name in ("train", "test"))


def rmse(ratings, predict):
    """RMSE in float64 of ``predict(lo, hi)`` against ``ratings[lo:hi]``, CHUNK at a time."""
    sse = 0.0
    for lo in range(0, len(ratings), CHUNK):
        err = ratings[lo:lo + CHUNK].astype(np.float64) - predict(lo, lo + CHUNK)
        sse += float(err @ err)
    return (sse / len(ratings)) ** 0.5


# -- the two libraries -------------------------------------------------------------------

def fit_fastmf(path, epochs, threads, factors, learning_rate, regularization):
    import fastmf

    if not hasattr(fastmf, "SGD"):
        raise SystemExit(f"this fastmf ({fastmf.__file__}) has no SGD model")
    (tu, ti, tr), (vu, vi, vr) = load_split(path)
    started = time.perf_counter()
    train = fastmf.Interactions.from_arrays(tu, ti, tr)
    test = fastmf.Interactions.from_arrays(vu, vi, vr)
    prep = time.perf_counter() - started
    before = peak_rss_gb()
    model = fastmf.SGD(factors=factors, epochs=epochs, learning_rate=learning_rate, decay=1.0,
                       regularization=regularization, bias_regularization=BIAS_REG,
                       init_std=INIT_STD, seed=0, num_threads=threads, dtype="float32",
                       verbose=False)
    started = time.perf_counter()
    model.fit(train, validation=test)
    fit = time.perf_counter() - started
    peak = peak_rss_gb()
    seconds = [record["seconds"] for record in model.history_]

    def predictor(u, i):
        return lambda lo, hi: model.predict(u[lo:hi], i[lo:hi], clip=False)

    return {"library": "fastmf", "prep_s": prep, "fit_s": fit, "epochs": len(seconds),
            "s_per_epoch": float(np.median(seconds)), "rss_before_fit_gb": before,
            "peak_rss_gb": peak, "reported_val_rmse": model.history_[-1].get("val_rmse"),
            "train_rmse": rmse(tr, predictor(tu, ti)), "test_rmse": rmse(vr, predictor(vu, vi))}


def libmf_missing():
    """None when libmf's bindings load, else why they do not."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):   # it prints where it found LIBMF
            from libmf import mf  # noqa: F401
    except ImportError as err:
        if getattr(err, "name", None) == "libmf":
            return "libmf is not installed (pip install libmf)"
        return f"libmf is installed but does not import: {err}"
    except OSError as err:                                 # its compiled LIBMF not found
        return f"libmf is installed but its LIBMF library does not load: {err}"
    return None


def stamped_stdout(call):
    """Run ``call()`` with file descriptor 1 (where LIBMF's C++ writes) going to a pipe.

    Returns (its result, [(perf_counter when the line arrived, line), ...]). The ctypes
    call releases the GIL, so the reader thread stamps each line as LIBMF flushes it.
    """
    sys.stdout.flush()
    read_end, write_end = os.pipe()
    lines = []

    def read():
        with os.fdopen(read_end, "r", errors="replace") as pipe:
            for line in pipe:
                lines.append((time.perf_counter(), line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    saved = os.dup(1)
    os.dup2(write_end, 1)
    os.close(write_end)
    try:
        result = call()
    finally:
        sys.stdout.flush()
        ctypes.CDLL(None).fflush(None)           # C stdio's buffer too, before fd 1 goes back
        os.dup2(saved, 1)
        os.close(saved)
        reader.join()
    return result, lines


def epoch_lines(lines):
    """[(time, train_rmse, val_rmse)] of LIBMF's per-epoch lines ("iter tr va obj")."""
    epochs = []
    for stamp, line in lines:
        fields = line.split()
        if len(fields) == 4 and fields[0].isdigit():
            epochs.append((stamp, float(fields[1]), float(fields[2])))
    return epochs


def fit_libmf(path, epochs, threads, factors, learning_rate, regularization):
    with contextlib.redirect_stdout(io.StringIO()):
        from libmf import mf

    (tu, ti, tr), (vu, vi, vr) = load_split(path)
    if max(tu.max(), ti.max()) >= MAX_LIBMF_ID:
        raise SystemExit(f"the libmf bindings pass ids as float32: ids must be < {MAX_LIBMF_ID}")
    train = np.column_stack([tu, ti, tr]).astype(np.float32)
    test = np.column_stack([vu, vi, vr]).astype(np.float32)
    before = peak_rss_gb()
    model = mf.MF(fun=mf.P_L2_MFR, k=factors, nr_threads=threads,
                  nr_bins=max(LIBMF_BINS, 2 * threads + 1), nr_iters=epochs, eta=learning_rate,
                  lambda_p1=0.0, lambda_q1=0.0, lambda_p2=regularization,
                  lambda_q2=regularization, quiet=False, copy_data=True)
    started = time.perf_counter()
    try:
        _, lines = stamped_stdout(lambda: model.mf_train_test(train, test))
    except ValueError as err:          # a NULL model: LIBMF rejected the parameters
        raise SystemExit(f"LIBMF did not train: {err}") from None
    fit = time.perf_counter() - started
    peak = peak_rss_gb()
    reported = epoch_lines(lines)
    if len(reported) != epochs:
        raise SystemExit(f"expected {epochs} epoch lines from LIBMF, got:\n"
                         + "\n".join(line for _, line in lines))
    gaps = np.diff([stamp for stamp, _, _ in reported])
    P, Q = model.p_factors()[:, :factors], model.q_factors()[:, :factors]

    def predictor(u, i):
        return lambda lo, hi: np.einsum("ij,ij->i", P[u[lo:hi]], Q[i[lo:hi]], dtype=np.float64)

    return {"library": "LIBMF", "fit_s": fit, "epochs": epochs,
            "s_per_epoch": float(np.median(gaps)) if len(gaps) else fit,
            "rss_before_fit_gb": before, "peak_rss_gb": peak,
            "reported_val_rmse": reported[-1][2], "libmf_version": version("libmf"),
            "libmf_library": mf.compiled_src,
            "train_rmse": rmse(tr, predictor(tu, ti)), "test_rmse": rmse(vr, predictor(vu, vi))}


# -- driver ------------------------------------------------------------------------------

def measure(label, n_ratings, args, workdir):
    data_path = ensure_data(label, n_ratings, args.threads, workdir)
    split_path = workdir / f"split-{label}-{TEST_SIZE:g}-{SPLIT_SEED}.npz"
    split_info = workdir / f"split-{label}-{TEST_SIZE:g}-{SPLIT_SEED}.json"
    if split_path.exists() and split_info.exists():
        parts = json.loads(split_info.read_text())
    else:
        parts = run_worker(MODULE, "split", split_info, args.threads, data=data_path,
                           split=split_path)
    print(f"{label}: {parts['train']:,} train and {parts['test']:,} test ratings "
          f"({parts['unseen']:,} test ratings of users or items absent from train dropped)")
    common = dict(split=split_path, iterations=args.iterations, factors=args.factors,
                  learning_rate=args.learning_rate, regularization=args.regularization)
    results = [run_worker(MODULE, "fastmf", workdir / "fastmf.json", args.threads, **common)]
    if args.libmf_missing is None:
        results.append(run_worker(MODULE, "libmf", workdir / "libmf.json", args.threads,
                                  **common))
    return results


MODELS = {"fastmf": "mu+b_u+b_i+p.q", "LIBMF": "p.q (no biases)"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2M,20M", type=parse_sizes,
                        help="comma-separated numbers of ratings: 2M, 20M, 200k, 50000, ...")
    parser.add_argument("--iterations", type=int, default=10, help="SGD epochs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE,
                        help="fastmf's learning_rate and LIBMF's eta")
    parser.add_argument("--regularization", type=float, default=REG,
                        help="fastmf's regularization and LIBMF's lambda_p2 and lambda_q2")
    add_worker_arguments(parser, ["split", "fastmf", "libmf"])
    parser.add_argument("--split", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")

    if args.worker:
        if args.worker == "split":
            result = split(args.data, args.split)
        else:
            fit = fit_fastmf if args.worker == "fastmf" else fit_libmf
            result = fit(args.split, args.iterations, args.threads, args.factors,
                         args.learning_rate, args.regularization)
        Path(args.out).write_text(json.dumps(result))
        return

    args.libmf_missing = libmf_missing()
    print(f"threads={args.threads} factors={args.factors} epochs={args.iterations} "
          f"learning_rate={args.learning_rate:g} regularization={args.regularization:g} "
          f"(fastmf bias_regularization={BIAS_REG:g}) float32 cpus={os.cpu_count()}; "
          f"numpy {np.__version__}")
    if args.libmf_missing:
        print(f"{args.libmf_missing}: timing fastmf only")
    rows = []
    with working_folder(args.workdir, "fastmf-libmf-") as workdir:
        print("\n".join(describe_host(args.threads, workdir)))
        for label, n_ratings in args.sizes:
            results = measure(label, n_ratings, args, workdir)
            base = results[0]["s_per_epoch"]
            for r in results:
                rows.append((label, r["library"], MODELS[r["library"]], f"{r['s_per_epoch']:.3f}",
                             f"{r['fit_s'] / r['epochs']:.3f}", f"{r['s_per_epoch'] / base:.2f}x",
                             f"{r['peak_rss_gb']:.2f}", f"{r['rss_before_fit_gb']:.2f}",
                             f"{r['train_rmse']:.4f}", f"{r['test_rmse']:.4f}"))
                if r["library"] == "fastmf":
                    print(f"{label} fastmf: prep {r['prep_s']:.2f} s, fit {r['fit_s']:.2f} s; "
                          f"last epoch's val_rmse {r['reported_val_rmse']:.4f}")
                else:
                    print(f"{label} LIBMF (libmf {r['libmf_version']}, {r['libmf_library']}): "
                          f"fit {r['fit_s']:.2f} s; last epoch's va_rmse "
                          f"{r['reported_val_rmse']:.4f}")
    print()
    print_table(("size", "library", "model", "s/epoch", "fit s/epoch", "vs fastmf",
                 "peak RSS GB", "RSS before fit GB", "train RMSE", "test RMSE"), rows, left=3)
    print("s/epoch: median epoch with its per-epoch evaluation (validation RMSE on the test "
          "set), as each library\nreports it; fit s/epoch: the whole fit over the epochs. "
          "LIBMF fits no global mean or biases, scales\nthe ratings and adapts its step per "
          "row: the same learning rate is not the same step.")


if __name__ == "__main__":
    main()
