"""
Rating prediction against Surprise
==================================

5-fold cross-validation on MovieLens 100K: fastmf and Surprise 1.1.5 fitted and scored on
the same folds (``k_fold(data, 5, seed=0)``), defaults beside defaults, and tuned beside
tuned (in each fold a 24-point grid search on that fold's training part alone, the best
setting refitted and scored once on the fold's test part). Mean test RMSE with its
standard deviation over the folds, and the fit seconds per fold (tuned: the search and the
refit). From :doc:`/benchmarks/quality`, one run on a 2-core VM (fastmf SGD and every
Surprise model on one thread, fastmf ALS on two):

.. code-block:: bash

    python -m bench.studies.cv_movielens      # about 20 minutes
"""
import matplotlib.pyplot as plt

rows = [  # model, RMSE, std, fit seconds per fold
    ("fastmf SGD, defaults", 0.9041, 0.0028, 0.09),
    ("fastmf ALS + genres, defaults", 0.9075, 0.0028, 0.35),
    ("fastmf ALS, defaults", 0.9101, 0.0026, 0.15),
    ("Surprise SVD++, defaults", 0.9193, 0.0051, 9.29),
    ("Surprise SVD, defaults", 0.9361, 0.0028, 0.28),
    ("Surprise baseline, defaults", 0.9436, 0.0028, 0.06),
    ("fastmf SGD, tuned", 0.9051, 0.0034, 8.25),
    ("fastmf ALS, tuned", 0.9075, 0.0026, 12.2),
    ("Surprise SVD, tuned", 0.9205, 0.0035, 117),
]
names = [row[0] for row in rows]
colors = ["tab:blue" if name.startswith("fastmf") else "tab:gray" for name in names]
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.5), sharey=True, layout="constrained",
                                  gridspec_kw={"width_ratios": [3, 2]})
left.barh(names, [row[1] for row in rows], xerr=[row[2] for row in rows], color=colors,
          capsize=3)
left.set_xlim(0.89, 0.95)
left.invert_yaxis()
left.set_xlabel("test RMSE (lower is better)")
right.barh(names, [row[3] for row in rows], color=colors)
right.set_xscale("log")
right.set_xlabel("fit seconds per fold (log)")
fig.suptitle("MovieLens 100K, 5-fold cross-validation")
