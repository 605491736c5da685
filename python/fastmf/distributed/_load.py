"""``fastmf.distributed.load``: a model directory read onto a Dask cluster, the manifest on
the driver and each block by a task on a worker (which Dask runs again, reading the file
again, when the worker holding the block is lost)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _validation as v
from ..data import Csr, IdMap
from ..exceptions import ModelFileError
from ..io._directory import MANIFEST, META, decode_values, read_block, read_manifest, read_meta
from ._data import ClusterIds, RowBlock
from ._model import ClusterFactors
from ._tasks import FactorBlock
from ._wait import Waiter
from .als import ALS
from .implicit_als import ImplicitALS

if TYPE_CHECKING:
    from distributed import Client

    from .._typing import PathLike

CLASSES = {"ALS": ALS, "ImplicitALS": ImplicitALS}


def load(path: PathLike, client: Client | None = None, timeout: float = 300.0
         ) -> ALS | ImplicitALS:
    """Read a model directory (written by ``save`` of a model kept on a cluster) onto a Dask
    cluster: each block file is read by a worker, and the factors stay there.

    Parameters
    ----------
    path : str or pathlib.Path
        The directory, which every worker must see (a shared file system).
    client : distributed.Client, optional
        The cluster; None: the current default client.
    timeout : float, default 300
        Seconds to wait while the cluster makes no progress (as for the fit).

    Returns
    -------
    fastmf.distributed.ALS or fastmf.distributed.ImplicitALS
        The model, its factors on the cluster: ``to_local()``, ``save``,
        ``recommend_all(out=...)`` and :func:`fastmf.distributed.evaluate` work as after
        ``fit(..., keep_on_cluster=True)``. The driver holds the id maps, the parameters
        and ``history_``.

    Raises
    ------
    FileNotFoundError
        ``path`` is not a directory.
    ModelFileError
        The manifest or a block file is missing, damaged or inconsistent (every size and
        count is checked against the manifest before anything is allocated), or names a
        class other than ALS and ImplicitALS.
    ClusterError
        The cluster made no progress for ``timeout`` seconds, or the client was closed.

    Examples
    --------
    >>> import tempfile, fastmf, fastmf.distributed
    >>> from distributed import Client, LocalCluster
    >>> client = Client(LocalCluster(n_workers=1, processes=False, dashboard_address=":0"))
    >>> model = fastmf.distributed.ALS(factors=2, iterations=2, seed=0, verbose=False)
    >>> model = model.fit(fastmf.datasets.toy(), keep_on_cluster=True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     again = fastmf.distributed.load(model.save(f"{folder}/model"))
    ...     local = fastmf.load(f"{folder}/model")
    >>> bool((again.to_local().user_factors_ == local.user_factors_).all())
    True
    >>> client.cluster.close(); client.close()
    """
    path = v.as_path("path", path)
    timeout = v.check_float("timeout", timeout, minimum=0.0, strict_minimum=True)
    if not path.is_dir():
        raise FileNotFoundError(f"no model directory at {str(path)!r}" + (
            "; it is a file: read a model file with fastmf.load" if path.exists() else ""))
    if not (path / MANIFEST).is_file():
        raise ModelFileError(f"cannot load {str(path)!r}: it has no {MANIFEST}; it is not a "
                             f"directory that save() of a model on a cluster writes")
    try:
        manifest = read_manifest(path)
        params, state = decode_values(manifest, read_meta(path))
    except ModelFileError as error:
        raise ModelFileError(f"cannot load {str(path)!r}: {error}") from None
    except (ValueError, KeyError, OSError) as error:
        raise ModelFileError(f"cannot load {str(path)!r}: its manifest or {META} is damaged "
                             f"({type(error).__name__}: {error})") from error
    model = _model(path, manifest, params)
    model.client = client
    waiter = Waiter(model._client(), timeout)
    waiter.wait_for_workers()
    cluster = _read_blocks(waiter, path, manifest)
    # the user ids stay on the cluster (checked there), the item ids come to the driver
    repeats = cluster.submit(repeated_ids, *cluster.user_ids, name="user-ids-check")
    found = waiter.gather([repeats] + cluster.item_ids, cancel=[repeats])
    item_ids = IdMap(np.concatenate(found[1:]))
    for side, repeated in (("user", found[0]), ("item", _repeats(item_ids))):
        if repeated:
            raise ModelFileError(f"cannot load {str(path)!r}: its {side} blocks list an id more "
                                 f"than once")
    model.user_ids_ = ClusterIds(waiter, cluster.user_ids, int(cluster.user_bounds[-1]))
    model.item_ids_ = item_ids
    for name, value in state.items():
        setattr(model, name, value)
    model._cluster = cluster
    return model


def _model(path: Path, manifest: dict[str, Any], params: dict[str, Any]) -> Any:
    """The unfitted model the manifest describes, its parameters checked."""
    cls = CLASSES.get(manifest["class"])
    if cls is None:
        raise ModelFileError(f"cannot load {str(path)!r}: its manifest names the class "
                             f"{manifest['class']!r}; fastmf.distributed loads "
                             f"{', '.join(sorted(CLASSES))}")
    unknown = set(params) - set(cls._local_class._param_names())
    if unknown:
        raise ModelFileError(f"cannot load {str(path)!r}: its manifest gives parameters "
                             f"{sorted(unknown)} that {manifest['class']} does not have")
    if manifest["biased"] != (cls._task == "rating"):
        raise ModelFileError(f"cannot load {str(path)!r}: its manifest says biased="
                             f"{manifest['biased']}, which {manifest['class']} is not")
    try:
        model = cls(**params)
        model._check_params()
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"cannot load {str(path)!r}: its parameters are invalid: "
                             f"{error}") from None
    return model


def _read_blocks(waiter: Waiter, path: Path, manifest: dict[str, Any]) -> ClusterFactors:
    """The blocks of a directory, each read by a task; every read is waited for, so that a
    damaged block raises here."""
    small = {key: manifest[key] for key in ("blocks", "seen", "dtype", "factors", "biased",
                                             "n_items", "n_users")}
    bounds = {side: np.r_[0, np.cumsum(manifest["blocks"][side])].astype(np.int64)
              for side in ("user", "item")}
    cluster = ClusterFactors(waiter, bounds["user"], bounds["item"], [], [], [], [], [],
                             np.dtype(manifest["dtype"]), manifest["factors"],
                             _biased=manifest["biased"])
    reads = []
    for side in ("user", "item"):
        for b in range(len(manifest["blocks"][side])):
            read = cluster.submit(read_block_task, str(path), side, b, small,
                                  int(bounds[side][b]), name=f"read-{side}", index=b)
            reads.append(read)
            (cluster.X if side == "user" else cluster.Y).append(
                cluster.submit(_part, read, 0, name=f"{side}-factors", index=b))
            getattr(cluster, f"{side}_ids").append(
                cluster.submit(_part, read, 1, name=f"{side}-ids", index=b))
            if side == "user":
                cluster.seen.append(cluster.submit(_part, read, 2, name="seen", index=b))
    waiter.gather(reads, cancel=reads)
    return cluster


def read_block_task(directory: str, side: str, b: int, manifest: dict[str, Any], lo: int
                    ) -> tuple[FactorBlock, np.ndarray, RowBlock | None]:
    """(factors, ids, seen items or None) of one block file, read and checked on a worker."""
    arrays = read_block(Path(directory), side, b, manifest)
    factors = FactorBlock(lo, arrays["factors"], arrays.get("biases"))  # type: ignore[arg-type]
    seen = None
    if side == "user":
        indices = arrays["seen_indices"]
        ones = np.broadcast_to(np.float32(1), indices.shape)
        seen = RowBlock(lo, Csr(arrays["seen_indptr"], indices, ones,
                                (len(arrays["ids"]), manifest["n_items"])))
    return factors, arrays["ids"], seen


def _part(read: tuple[Any, ...], position: int) -> Any:
    return read[position]


def repeated_ids(*blocks: np.ndarray) -> bool:
    """Whether the blocks' ids list an id more than once (a task: run where they are)."""
    return _repeats(IdMap(np.concatenate(blocks)))


def _repeats(ids: IdMap) -> bool:
    return bool((ids._sorted[1:] == ids._sorted[:-1]).any())
