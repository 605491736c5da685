"""
Speed against the peers
=======================

How many times faster fastmf trains (or serves) than each peer library, on the same data
and the same number of threads, from the tables of :doc:`/benchmarks/peers`,
:doc:`/benchmarks/serving` and the distributed comparison there. Bars right of the
dashed line are fastmf's; the one bar left of it is LIBMF's AVX build at 2M.

Every figure was measured on a shared 2-core AMD EPYC VM (AVX2 kernels, float32, 2
threads, k = 64), one run of each command, every library in its own fresh process:

.. code-block:: bash

    python -m bench.compare.cmfrec --sizes 2M,20M --iterations 3
    python -m bench.compare.libmf --sizes 2M,20M --iterations 10
    LIBMF_OBJ=/path/to/libmf_avx.so python -m bench.compare.libmf --sizes 2M,20M --iterations 10
    python -m bench.compare.implicit_als --sizes 2M,20M --speed-iterations 3
    python -m bench.compare.implicit_bpr --skip quality --speed-epochs 3 --rounds 3
    python -m bench.compare.spark

The 2M set has 20,000 users and 5,000 items, the 20M set 200,000 users and 50,000 items
(``make_ratings``). The machine is noisy: expect ±20% from run to run.
"""
import matplotlib.pyplot as plt
import numpy as np

# The speed-ups of the tables (the peer's seconds over fastmf's, per iteration, epoch or
# sample), as published there.
speedup = {
    "ALS vs cmfrec (s/iteration)": {"2M": 11.2, "20M": 13.6},
    "SGD vs LIBMF pip (s/epoch)": {"2M": 3.3, "20M": 2.4},
    "SGD vs LIBMF AVX build (s/epoch)": {"2M": 0.86, "20M": 1.8},
    "ImplicitALS CG vs implicit (s/iteration)": {"2M": 2.75, "20M": 4.0},
    "ImplicitALS Cholesky vs implicit": {"2M": 7.4, "20M": 7.1},
    "BPR, implicit's sampler, vs implicit (samples/s)": {"2M": 1.96, "20M": 3.49},
    "distributed ALS (Dask) vs Spark ALS (s/iteration)": {"2M": 14.0, "20M": 11.4},
}

labels = list(speedup)
y = np.arange(len(labels))
fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
for offset, size, color in ((-0.2, "2M", "tab:blue"), (0.2, "20M", "tab:orange")):
    ratio = [speedup[name][size] for name in labels]
    bars = ax.barh(y + offset, ratio, height=0.38, color=color, label=f"{size} ratings")
    ax.bar_label(bars, labels=[f"{r}×" for r in ratio], padding=3, fontsize=8)
ax.axvline(1, color="black", linestyle="--", linewidth=1)
ax.set_xscale("log")
ax.set_xlim(0.5, 60)
ax.set_xticks([0.5, 1, 2, 5, 10, 20, 50], ["0.5×", "1×", "2×", "5×", "10×", "20×", "50×"])
ax.minorticks_off()
ax.set_yticks(y, labels)
ax.invert_yaxis()
ax.set_xlabel("times faster than the peer (log scale)")
ax.set_title("fastmf against its peers, 2-core VM, 2 threads")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)

# %%
# Serving, from :doc:`/benchmarks/serving` (``python -m bench.compare.serving``, one run,
# the same kind of 2-core machine, otherwise idle): queries per second of the exact top 10
# over 1M items, and the seconds to rank every one of 200k users over 50k items.
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.5), layout="constrained")
names = ["fastmf exact", "fastmf HNSW index", "implicit exact"]
batch, one = [1074, 11858, 444], [106, 1546, 99]
x = np.arange(3)
left.bar(x - 0.2, batch, 0.4, label="batches")
left.bar(x + 0.2, one, 0.4, label="one user per call")
left.set_xticks(x, names, rotation=15)
left.set_yscale("log")
left.set_ylabel("queries per second (log scale)")
left.set_title("top 10 of 1M items")
left.legend()
right.barh(["fastmf recommend_all", "fastmf to Parquet", "implicit recommend"],
           [10.3, 10.7, 38.9], color=["tab:blue", "tab:blue", "tab:gray"])
right.invert_yaxis()
right.set_xlabel("seconds")
right.set_title("every user: 200k × 50k items")
