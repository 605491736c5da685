"""
BPR's step schedule
===================

Validation NDCG@10 of ``fastmf.BPR`` after 25, 50, 100 and 200 epochs for each step
schedule and setting of the study that chose BPR's defaults (the linear schedule with
η = 0.1), on validation parts carved from the training parts of two MovieLens 100K
splits: ``liked`` (ratings ≥ 4 as positives) and ``counts`` (every rating a positive).
k = 64, λ = 0.02, uniform negatives redrawn unless stated, seed 0. From
:doc:`/benchmarks/studies`:

.. code-block:: bash

    python -m bench.studies.bpr_schedule --data-home ../shared/datasets   # about 10 minutes
"""
import matplotlib.pyplot as plt

epochs = [25, 50, 100, 200]
runs = {  # configuration: (liked, counts)
    "constant η = 0.05 (earlier defaults)": ([0.192, 0.193, 0.199, 0.200],
                                             [0.232, 0.242, 0.241, 0.251]),
    "linear η = 0.1 (defaults)": ([0.200, 0.205, 0.208, 0.212], [0.245, 0.255, 0.262, 0.263]),
    "constant η = 0.02": ([0.160, 0.192, 0.206, 0.208], [0.228, 0.242, 0.249, 0.254]),
    "constant η = 0.1": ([0.187, 0.186, 0.189, 0.190], [0.228, 0.232, 0.231, 0.234]),
    "constant η = 0.05, λ = 0.01": ([0.185, 0.185, 0.190, 0.189], [0.225, 0.227, 0.229, 0.235]),
    "constant η = 0.05, λ = 0.05": ([0.183, 0.190, 0.193, 0.192], [0.218, 0.224, 0.229, 0.232]),
    "linear η = 0.05": ([0.177, 0.203, 0.206, 0.212], [0.241, 0.252, 0.256, 0.261]),
    "linear η = 0.2": ([0.203, 0.205, 0.209, 0.215], [0.245, 0.260, 0.261, 0.262]),
    "linear η = 0.1, λ = 0.05": ([0.197, 0.202, 0.205, 0.210], [0.241, 0.247, 0.251, 0.252]),
    "linear η = 0.1, popularity^0.5 negatives": ([0.174, 0.173, 0.172, 0.173],
                                                  [0.221, 0.225, 0.227, 0.228]),
    "linear η = 0.1, popularity^1 negatives": ([0.106, 0.094, 0.100, 0.096],
                                                [0.141, 0.134, 0.138, 0.139]),
}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
for side, (ax, title) in enumerate(zip(axes, ["liked", "counts"])):
    for name, values in runs.items():
        if "defaults" in name:
            style = dict(linewidth=2.5, zorder=3)
        else:
            style = dict(linewidth=1, alpha=0.5, linestyle="--" if "linear" in name else ":")
        ax.plot(epochs, values[side], marker="o", markersize=3, label=name, **style)
    ax.set_xscale("log", base=2)
    ax.set_xticks(epochs, [str(e) for e in epochs])
    ax.set_xlabel("epochs")
    ax.set_ylabel("validation NDCG@10")
    ax.set_title(title)
axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
fig.suptitle("BPR on MovieLens 100K: step schedules (dashed: linear, dotted: constant)")
