"""
ImplicitALS's defaults on six data sets
=======================================

Test NDCG@10 of ``fastmf.ImplicitALS`` at its defaults (the log confidence, α = 0.5,
ε = 0.005), at the defaults before them (the linear confidence, α = 2) and after a
``fastmf.tune`` of 24 fits of each training part, each fitted on its whole training
part. The defaults were chosen on validation parts only; the test parts were read once,
after the choice. From :doc:`/benchmarks/studies`:

.. code-block:: bash

    python -m bench.studies.implicit_confidence --data-home ../shared/datasets  # ~25 min, 2 cores
"""
import matplotlib.pyplot as plt
import numpy as np

sets = ["MovieLens 100K,\nratings ≥ 4", "MovieLens 100K,\nratings as counts",
        "synthetic,\n6.7% dense", "synthetic,\n0.16% dense", "clicks\n(heavy tails)",
        "plays\n(heavy tails)"]
scores = {
    "defaults": [0.330, 0.445, 0.279, 0.195, 0.126, 0.137],
    "before (linear, α = 2)": [0.318, 0.422, 0.286, 0.199, 0.081, 0.036],
    "tuned": [0.335, 0.451, 0.280, 0.200, 0.128, 0.147],
}
x = np.arange(len(sets))
fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
for n, (name, values) in enumerate(scores.items()):
    ax.bar(x + (n - 1) * 0.27, values, 0.27, label=name,
           color=["tab:blue", "silver", "tab:green"][n])
ax.set_xticks(x, sets, fontsize=8)
ax.set_ylabel("test NDCG@10")
ax.set_title("ImplicitALS: defaults, the defaults before, and tuned")
ax.legend()
print("defaults / tuned:", [round(d / t, 3) for d, t in zip(scores["defaults"], scores["tuned"])])
