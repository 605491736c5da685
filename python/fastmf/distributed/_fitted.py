"""The fitted model's methods of ``fastmf.distributed.ALS`` and ``ImplicitALS``, for a model
on this machine (its factors gathered at the end of the fit, as the one-machine class) and
for one that keeps its factors on the cluster (``fit(..., keep_on_cluster=True)``,
``fastmf.distributed.load``): ``to_local``, ``save``, ``recommend_all``, and the refusals of
what only a model on this machine can do (serving one user, pickling)."""
import numpy as np

from .._locking import reads
from ..exceptions import NotFittedError
from ._model import gather_model
from ._recommend import recommend_all as recommend_on_cluster
from ._store import save_directory


class ClusterModelMixin:
    """The fitted model's side of ``fastmf.distributed.ALS`` and ``ImplicitALS``: a model
    on this machine (its factors gathered at the end of the fit) or on the cluster
    (``_cluster``, a ClusterFactors), and what each offers."""

    def __getstate__(self):
        if "_cluster" in vars(self):
            raise TypeError(f"this {type(self).__name__} keeps its factors on the cluster (fit "
                            f"with keep_on_cluster=True), which a pickle cannot hold; save() "
                            f"it to a directory, or pickle to_local()")
        state = super().__getstate__()
        state["client"] = None                  # a client is a connection, not a value
        state.pop("_keep_on_cluster", None)
        return state

    def _check_is_fitted(self):
        if "_cluster" in vars(self):
            raise NotFittedError(
                f"this {type(self).__name__} keeps its factors on the cluster (fit with "
                f"keep_on_cluster=True); call to_local() for a one-machine model that serves, "
                f"or use recommend_all(out=...), save() and fastmf.distributed.evaluate()")
        super()._check_is_fitted()

    # -- the fitted model ----------------------------------------------------------------
    @reads
    def to_local(self):
        """The fitted model as an ordinary one-machine model (``fastmf.ALS`` or
        ``fastmf.ImplicitALS``), with the same parameters and fitted state.

        A model that keeps its factors on the cluster gathers its blocks here, in block
        order: the result is, bit for bit, what ``fit`` without ``keep_on_cluster`` gives
        (and it must fit in this process's memory).

        Returns
        -------
        fastmf.ALS or fastmf.ImplicitALS

        Examples
        --------
        >>> import fastmf, fastmf.distributed
        >>> from distributed import Client, LocalCluster
        >>> client = Client(LocalCluster(n_workers=1, processes=False, dashboard_address=":0"))
        >>> model = fastmf.distributed.ALS(factors=2, iterations=2, seed=0, verbose=False)
        >>> local = model.fit(fastmf.datasets.toy()).to_local()
        >>> type(local).__name__, bool((local.item_factors_ == model.item_factors_).all())
        ('ALS', True)
        >>> client.cluster.close(); client.close()
        """
        if "_cluster" in vars(self):
            return gather_model(self)
        local = self._local_class(**{name: getattr(self, name)
                                     for name in self._local_class._param_names()})
        for name, value in vars(self).items():
            if name.endswith("_") or name in self._private_state:
                setattr(local, name, value)
        return local

    def save(self, path):
        """Write the fitted model as its one-machine class (see ``fastmf.ALS.save``):
        ``fastmf.load`` gives back a ``fastmf.ALS`` or ``fastmf.ImplicitALS``.

        A model that keeps its factors on the cluster (``fit(..., keep_on_cluster=True)``
        or :func:`fastmf.distributed.load`) is written from the workers as a directory
        instead: one ``.npz`` per block and a JSON manifest, written to a temporary
        directory beside ``path`` and renamed to it when complete. Every worker and this
        process must see ``path`` (a shared file system). :func:`fastmf.distributed.load`
        reads it back onto a cluster, ``fastmf.load`` onto one machine.

        Returns
        -------
        pathlib.Path
            The file (``.npz``) or the directory written.

        Raises
        ------
        FileExistsError
            For a directory: ``path`` exists and is not a model directory (an earlier one
            is replaced).
        FileNotFoundError
            The parent directory of ``path`` does not exist.

        Examples
        --------
        >>> import tempfile, fastmf, fastmf.distributed
        >>> from distributed import Client, LocalCluster
        >>> client = Client(LocalCluster(n_workers=1, processes=False, dashboard_address=":0"))
        >>> model = fastmf.distributed.ALS(factors=2, iterations=2, seed=0, verbose=False)
        >>> model = model.fit(fastmf.datasets.toy())
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print(type(fastmf.load(model.save(f"{folder}/model"))).__name__)
        ALS
        >>> client.cluster.close(); client.close()
        """
        if "_cluster" in vars(self):
            return save_directory(self, path)
        self._check_is_fitted()
        return self.to_local().save(path)

    def recommend_all(self, n=10, *, batch_size=4096, out=None, filter_seen=True,
                      filter_items=None, items=None, min_item_count=None, unknown="raise",
                      exact=False, verbose=None, item_blocks=None):
        """The ``n`` best items for every user: as ``fastmf.ALS.recommend_all`` for a model
        on this machine; for a model that keeps its factors on the cluster, computed on the
        workers and written as Parquet.

        On the cluster, one task per user block ranks its users where the block is,
        against the item factors (put together once on a worker; each worker fetches them
        once; or item block by item block, see ``item_blocks``), with the filters applied in
        the C++ top-n as on one machine, and writes
        ``part-<block>.parquet`` (columns user, rank, item, score: the rows of the
        one-machine output, a score perhaps rounded differently in its last bit where other
        users share its product) into ``out``, a directory that every worker and this
        process see. ``out`` is written whole or not at all (a temporary directory renamed
        into place, with an empty ``_SUCCESS`` file); a lost worker costs time: its blocks
        are ranked again and their files replaced, never duplicated. ``pandas.read_parquet``,
        ``pyarrow.dataset``, Spark and DuckDB read the directory.

        Parameters
        ----------
        n, batch_size, filter_seen, filter_items, items, min_item_count, unknown, exact, verbose
            As for ``fastmf.ALS.recommend_all`` (``batch_size``: users ranked at once within
            a block; ``exact`` changes nothing on the cluster, which has no approximate
            index; ``verbose``: a progress bar over the blocks).
        out : str or pathlib.Path, optional
            On the cluster, the directory to write (required; an earlier ``recommend_all``
            output there is replaced); else as for ``fastmf.ALS.recommend_all``.
        item_blocks : bool, optional
            On the cluster: True ranks each user block against each item block in its own
            task (the block's best ``n``, filters cut to its items), item block after item
            block, each merged into the best ``n`` of the blocks before it, so that no task
            holds more than one item block; False puts the item factors together on every
            worker that ranks; None (default) chooses True where the item factors would take
            more than a quarter of the smallest worker memory limit. Both give the same
            output. On this machine it changes nothing.

        Returns
        -------
        Recommendations or pathlib.Path
            On the cluster, the directory written.

        Raises
        ------
        ValueError, TypeError, UnknownIdError
            As for ``fastmf.ALS.recommend_all``; on the cluster also ``out`` missing or a
            ``.csv`` file.
        FileExistsError
            ``out`` exists and is not an earlier ``recommend_all`` output.

        Examples
        --------
        >>> import tempfile, pandas as pd, fastmf, fastmf.distributed
        >>> from distributed import Client, LocalCluster
        >>> client = Client(LocalCluster(n_workers=2, processes=False, dashboard_address=":0"))
        >>> data = fastmf.datasets.make_ratings(200, 50, 2000, seed=0)
        >>> model = fastmf.distributed.ALS(factors=4, iterations=3, seed=0, verbose=False)
        >>> model = model.fit(data, keep_on_cluster=True)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     recs = pd.read_parquet(model.recommend_all(n=3, out=f"{folder}/recs"))
        >>> len(recs), list(recs.columns)
        (600, ['user', 'rank', 'item', 'score'])
        >>> client.cluster.close(); client.close()
        """
        if item_blocks is not None and not isinstance(item_blocks, (bool, np.bool_)):
            raise TypeError(f"item_blocks must be True, False or None, got {item_blocks!r}")
        if "_cluster" not in vars(self):
            return super().recommend_all(
                n, batch_size=batch_size, out=out, filter_seen=filter_seen,
                filter_items=filter_items, items=items, min_item_count=min_item_count,
                unknown=unknown, exact=exact, verbose=verbose)
        return recommend_on_cluster(self, n, out, batch_size, filter_seen, filter_items, items,
                                    min_item_count, unknown, verbose, item_blocks)
