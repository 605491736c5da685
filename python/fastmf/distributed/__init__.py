"""ALS and ImplicitALS on a Dask cluster (``pip install "fastmf-recsys[dask]"``).

``fastmf.distributed.ALS`` and ``fastmf.distributed.ImplicitALS`` take every parameter of
``fastmf.ALS`` and ``fastmf.ImplicitALS`` (every solver), plus

- ``client``: a ``dask.distributed.Client`` (None: the current default client);
- ``blocks_per_worker`` (1): row blocks per worker and side;
- ``checkpoint_every`` (5): gather the factors every so many iterations and start the next
  from them, so that a lost worker costs at most that many iterations of recomputation
  (None: never);
- ``retries`` (2): how often a task that raised is run again;
- ``timeout`` (300): seconds of no progress on the cluster (no workers, every worker
  paused for memory) after which ``fit`` raises ``fastmf.ClusterError`` naming the cause;
  a closed client raises at once.

and train on a dask DataFrame of (user, item[, rating]) columns (``dd.read_parquet``,
``dd.read_csv`` over many files: the ratings never pass through the driver) or, for
convenience, an ``Interactions``. The fitted model is the one-machine model from the same
seed, bit for bit (factors, biases, ``history_`` but its seconds): each half-step is one task
per block of rows running the one-machine row solve against the other side's factor
blocks, fetched from worker to worker. It then serves, folds in and saves as the
one-machine class; ``save`` writes that class and ``to_local()`` returns it.

The driver holds the id maps, the factors and each user's seen items (4 bytes per rating);
the ratings stay on the workers. ``fit(..., keep_on_cluster=True)`` leaves the factors on
the workers too: the model then writes every user's top-n from the workers
(``recommend_all(out=directory)``), is scored there (``evaluate``), saves one file per block
(``save(directory)``, read back by ``load`` onto a cluster or ``fastmf.load`` onto one
machine) and gathers into the one-machine model on request (``to_local()``).
``num_threads`` is per task (0: the worker's threads shared among its
``blocks_per_worker`` blocks). Features (``user_features``,
``item_features``) and the one-machine-only models SGD and BPR are not available here.

Examples
--------
>>> import fastmf, fastmf.distributed
>>> from distributed import Client, LocalCluster
>>> cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
...                        dashboard_address=":0")
>>> client = Client(cluster)
>>> data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
>>> model = fastmf.distributed.ALS(factors=8, iterations=5, seed=0, verbose=False).fit(data)
>>> local = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False).fit(data)
>>> bool((model.user_factors_ == local.user_factors_).all())
True
>>> client.close(); cluster.close()
"""
from .._optional import require

require("distributed", "fastmf.distributed")

from ._evaluate import evaluate
from ._load import load
from .als import ALS
from .implicit_als import ImplicitALS

__all__ = ["ALS", "ImplicitALS", "evaluate", "load"]

_ONE_MACHINE = {"SGD": "Hogwild SGD", "BPR": "BPR"}


def __getattr__(name):
    if name in _ONE_MACHINE:
        raise AttributeError(f"fastmf.distributed has no {name}: {_ONE_MACHINE[name]} trains on "
                             f"one machine only (fastmf.{name}); fastmf.distributed trains ALS "
                             f"and ImplicitALS")
    raise AttributeError(f"module 'fastmf.distributed' has no attribute {name!r}")
