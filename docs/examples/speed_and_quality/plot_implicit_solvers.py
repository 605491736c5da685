"""
ImplicitALS's solvers at large k
================================

The training objective against fit seconds of ``ImplicitALS(solver="cholesky")``,
``solver="cg"`` (3 conjugate-gradient steps) and ``solver="block"`` (the iALS++ sweep in
blocks of 32 coordinates) at k = 512 and k = 1024, read from the runs saved beside the
study script. On the 2M synthetic set (20,000 users x 5,000 items; float32,
``regularization=0.05``, ``alpha=1.0``, Hu, Koren and Volinsky's objective), 2 threads of
an otherwise idle 2-core machine, one run each; the seconds count the half-steps only.
See :doc:`/benchmarks/studies` for the table and the profile.

.. code-block:: bash

    nice python -m bench.studies.implicit_solvers --workdir /tmp/fastmf-data \\
        --factors 512 --iterations 10 --block-sizes 32 --max-iterations 30
    python -m bench.studies.implicit_solvers --workdir /tmp/fastmf-data --factors 1024 \\
        --iterations 3 --block-sizes 32 --out /tmp/k1024                # ~15 min
"""
import json
from pathlib import Path

import matplotlib.pyplot as plt

try:
    here = Path(__file__).resolve().parent
except NameError:                      # run by sphinx-gallery, from docs/examples
    here = Path.cwd()
studies = next(folder / "bench" / "studies" for folder in (here, *here.parents)
               if (folder / "bench" / "studies" / "implicit_solvers.json").is_file())

fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
for ax, name in zip(axes, ["implicit_solvers.json", "implicit_solvers_k1024.json"]):
    runs = json.loads((studies / name).read_text())["runs"]
    for k, solvers in runs.items():
        for solver, records in solvers.items():
            seconds = [r["seconds"] for r in records]
            loss = [r["loss"] for r in records]
            ax.plot(seconds, loss, marker="o", markersize=3, label=solver)
            print(f"k = {k}, {solver}: {len(records)} iterations, objective "
                  f"{loss[-1]:.4e} after {seconds[-1]:.1f} s")
        ax.set_title(f"k = {k}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("fit seconds (log)")
    ax.set_ylabel("training objective (log)")
    ax.legend()
fig.suptitle("ImplicitALS on 2M ratings, 2 threads: objective against time")
