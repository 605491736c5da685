"""cmfrec in its own process for ``bench.compare.hybrid_movielens`` (it runs in the peers'
environment, beside LightFM).

    python -I bench/compare/_cmfrec_worker.py IN.npz OUT.npz

IN holds the training interactions (``rows``, ``cols``: the positive pairs), the dense
user and item attribute matrices (``U``, ``I``: one row per user and item index), ``k``,
``threads``, ``seed``, the users and items to score (``users``, ``items``) and ``grid``, a
JSON list of ``CMF_implicit`` settings. OUT holds, for the j-th setting, ``scores_j``
(len(users) x len(items)) and ``seconds_j``, its fit time.

The model is fitted on the users and items that have an interaction, with their attributes;
a user or item to score that has none is placed from its attributes alone
(``factors_cold``, ``item_factors_cold``), as a new user or item would be. The
fit runs ``threads`` threads with BLAS held to one (cmfrec calls BLAS from inside its
parallel loops). Started with ``python -I``: this folder's ``cmfrec.py`` must not shadow
the package.
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from cmfrec import CMF_implicit
from threadpoolctl import threadpool_limits


def fit(params, inputs, user_index, item_index):
    """A fitted CMF_implicit on the training pairs, relabelled to contiguous indices."""
    rows, cols = inputs["rows"], inputs["cols"]
    X = sp.coo_matrix((np.ones(len(rows)), (np.searchsorted(user_index, rows),
                                            np.searchsorted(item_index, cols))),
                      shape=(len(user_index), len(item_index)))
    model = CMF_implicit(k=int(inputs["k"]), nthreads=int(inputs["threads"]),
                         random_state=int(inputs["seed"]), use_cg=False, verbose=False,
                         **params)
    with threadpool_limits(limits=1, user_api="blas"):   # its BLAS calls run inside its threads
        started = time.perf_counter()
        model.fit(X, U=inputs["U"][user_index], I=inputs["I"][item_index])
        return model, time.perf_counter() - started


def factors(model, ids, index, attributes, cold):
    """Rows for ``ids``: the fitted factors of the known ones, the cold-start factors from
    ``attributes`` of the others."""
    position = np.searchsorted(index, ids)
    known = (position < len(index)) & (index[np.minimum(position, len(index) - 1)] == ids)
    fitted = model.A_ if cold == "user" else model.B_
    out = np.zeros((len(ids), fitted.shape[1]))
    out[known] = fitted[position[known]]
    place = model.factors_cold if cold == "user" else model.item_factors_cold
    for row in np.flatnonzero(~known):
        out[row] = place(attributes[ids[row]])
    return out


def main(source, target):
    inputs = np.load(source)
    user_index, item_index = np.unique(inputs["rows"]), np.unique(inputs["cols"])
    out = {}
    for j, params in enumerate(json.loads(str(inputs["grid"]))):
        model, out[f"seconds_{j}"] = fit(params, inputs, user_index, item_index)
        A = factors(model, inputs["users"], user_index, inputs["U"], "user")
        B = factors(model, inputs["items"], item_index, inputs["I"], "item")
        out[f"scores_{j}"] = A @ B.T
    np.savez(target, **out)


if __name__ == "__main__":
    main(*sys.argv[1:])
