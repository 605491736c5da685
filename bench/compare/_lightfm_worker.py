"""LightFM in its own process for ``bench.compare.hybrid_movielens`` (it runs in an
environment of its own: LightFM needs an older numpy than fastmf supports).

    python bench/compare/_lightfm_worker.py IN.npz OUT.npz

IN holds the training interactions (``rows``, ``cols``, ``shape``), the user and item feature
matrices (``uf_*`` and ``if_*`` CSR parts), the loss, the epochs at which to score
(``checkpoints``), ``components``, ``threads``, ``seed`` and the users and items to score
(``users``, ``items``). OUT holds ``scores_<epoch>`` (len(users) x len(items)) per
checkpoint and ``seconds``, the fit time up to the last checkpoint.
"""
import sys
import time

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM


def _csr(inputs, prefix):
    return sp.csr_matrix((inputs[f"{prefix}_data"], inputs[f"{prefix}_indices"],
                          inputs[f"{prefix}_indptr"]), shape=tuple(inputs[f"{prefix}_shape"]))


def main(source, target):
    inputs = np.load(source)
    shape = tuple(inputs["shape"])
    train = sp.coo_matrix((np.ones(len(inputs["rows"]), np.float32),
                           (inputs["rows"], inputs["cols"])), shape=shape)
    user_features, item_features = _csr(inputs, "uf"), _csr(inputs, "if")
    model = LightFM(no_components=int(inputs["components"]), loss=str(inputs["loss"]),
                    learning_rate=float(inputs["learning_rate"]),
                    random_state=int(inputs["seed"]))
    users, items = inputs["users"], inputs["items"]
    out, seconds, done = {}, 0.0, 0
    for epoch in sorted(int(e) for e in inputs["checkpoints"]):
        started = time.perf_counter()
        model.fit_partial(train, user_features=user_features, item_features=item_features,
                          epochs=epoch - done, num_threads=int(inputs["threads"]))
        seconds += time.perf_counter() - started
        done = epoch
        _, user_vectors = model.get_user_representations(user_features)
        item_bias, item_vectors = model.get_item_representations(item_features)
        out[f"scores_{epoch}"] = (user_vectors[users] @ item_vectors[items].T
                                  + item_bias[items][None, :])
    np.savez(target, seconds=seconds, **out)


if __name__ == "__main__":
    main(*sys.argv[1:])
