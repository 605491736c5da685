"""
The C++ kernels against numpy
=============================

How many times faster each C++ kernel is than the best plain numpy we could write for the
same work (its twin in ``tests/reference.py``: blocked where memory matters, BLAS
products, vectorized), k = 64, float32, 2 threads unless the label says, medians over 5
runs of the benchmark suite on a shared 2-core AMD EPYC VM. From :doc:`/benchmarks/kernels`:

.. code-block:: bash

    for run in 1 2 3 4 5; do pytest bench --benchmark-only --benchmark-json=b$run.json; done
    python bench/ratios.py b1.json b2.json b3.json b4.json b5.json
"""
import matplotlib.pyplot as plt

ratios = {
    "ALS half-step, k = 32, float32": 20.8,
    "ALS half-step, k = 64, float32": 14.5,
    "ALS half-step, k = 64, float64": 9.1,
    "implicit Cholesky half-step": 10.2,
    "implicit CG step": 22.7,
    "implicit block sweep (b = 32)": 11.5,
    "implicit observed loss": 74,
    "row_squared_errors": 26,
    "predict_pairs": 8.8,
    "top-10 of 1,000 users": 2.7,
    "coo_to_csr vs scipy tocsr()": 1.3,
    "gram (YᵀY) vs X.T @ X": 0.7,
    "SGD epoch vs mini-batch numpy": 83,
    "BPR epoch vs mini-batch numpy": 23,
}
fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
names = list(ratios)
bars = ax.barh(names, list(ratios.values()),
               color=["tab:gray" if r < 1 else "tab:blue" for r in ratios.values()])
ax.bar_label(bars, labels=[f"{r:g}×" for r in ratios.values()], padding=3, fontsize=8)
ax.axvline(1, color="black", linestyle="--", linewidth=1)
ax.set_xscale("log")
ax.set_xlim(0.5, 200)
ax.set_xticks([0.5, 1, 2, 5, 10, 20, 50, 100], ["0.5×", "1×", "2×", "5×", "10×", "20×", "50×", "100×"])
ax.minorticks_off()
ax.invert_yaxis()
ax.set_xlabel("C++ kernel speed-up over its numpy twin (log scale)")
ax.set_title("fastmf's kernels against numpy, 2 threads")
