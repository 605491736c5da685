"""
Ranking quality against implicit
================================

Test NDCG@10 of fastmf's ImplicitALS and BPR and of implicit's ALS and BPR, each tuned by
the same search (``fastmf.model_selection.tune_function``: the same budget of 20 fits,
halving then refinement, the same validation part), refitted on all of the training part
and scored once on the test part; mean over search seeds 0 to 4, with the range of the
five as the error bar, and each library's defaults as a diamond. From
:doc:`/benchmarks/quality`; factors 64, 2 threads, one run on a 2-core VM:

.. code-block:: bash

    python -m bench.compare.ranking --budget 20 --seeds 5 --data-home ../shared/datasets
    python -m bench.compare.ranking --budget 20 --seeds 5 --skip strong --data ml100k-counts   # and the synthetic sets
"""
import matplotlib.pyplot as plt
import numpy as np

sets = ["ml100k", "ml100k-counts", "synthetic-dense", "synthetic-sparse"]
# mean, min, max over five seeds
tuned = {
    "fastmf ALS": [(0.322, 0.318, 0.330), (0.433, 0.411, 0.456), (0.289, 0.283, 0.291),
                   (0.1996, 0.1990, 0.1999)],
    "implicit ALS": [(0.312, 0.277, 0.336), (0.436, 0.414, 0.446), (0.278, 0.267, 0.289),
                     (0.1991, 0.1987, 0.1992)],
    "fastmf BPR": [(0.306, 0.303, 0.310), (0.423, 0.415, 0.427), (0.277, 0.268, 0.286),
                   (0.198, 0.195, 0.200)],
    "implicit BPR": [(0.246, 0.236, 0.254), (0.339, 0.329, 0.342), (0.262, 0.227, 0.275),
                     (0.101, 0.018, 0.158)],
}
defaults = {"fastmf ALS": [0.318, 0.422, 0.286, 0.199],
            "implicit ALS": [0.227, 0.366, 0.077, 0.012]}
colors = {"fastmf ALS": "tab:blue", "implicit ALS": "tab:gray",
          "fastmf BPR": "tab:cyan", "implicit BPR": "silver"}

x = np.arange(len(sets))
width = 0.2
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for n, (name, rows) in enumerate(tuned.items()):
    mean, low, high = np.array(rows).T
    place = x + (n - 1.5) * width
    ax.bar(place, mean, width, color=colors[name], label=f"{name}, tuned",
           yerr=[mean - low, high - mean], capsize=3)
    if name in defaults:
        ax.scatter(place, defaults[name], marker="D", color="black", zorder=3, s=18)
ax.scatter([], [], marker="D", color="black", s=18, label="defaults (ALS)")
ax.set_xticks(x, sets)
ax.set_ylabel("test NDCG@10")
ax.set_title("Tuned ranking models, mean and range over 5 search seeds")
ax.legend(ncols=3, fontsize=8, loc="upper right")
ax.set_ylim(0, 0.55)
