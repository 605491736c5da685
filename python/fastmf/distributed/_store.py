"""A model on the cluster to a directory: ``save`` writes one ``.npz`` per block from the
workers and a JSON manifest from the driver (``fastmf.distributed.load``, in ``_load``,
reads it back). The format is ``fastmf.io``'s (``read_manifest``, ``read_block``), which
``fastmf.load`` reads onto one machine.

A directory is written whole or not at all: into a temporary directory beside it, renamed
into place when every block and the manifest are on disk (each block file is itself
written to a temporary name and renamed, so a task run again after a lost worker replaces
its file, never adds one).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _validation as v
from .._files import _fsync, create_new, replacing, replacing_directory
from .._version import __version__
from ..io._directory import DIRECTORY_FORMAT, DIRECTORY_FORMAT_VERSION, MANIFEST, META, block_file
from ..models._file import _encode, fitted_state

if TYPE_CHECKING:
    from ._data import RowBlock
    from ._tasks import FactorBlock

if TYPE_CHECKING:
    from .._typing import PathLike


def save_directory(model: Any, path: PathLike) -> Path:
    """``model.save(path)`` of a model on the cluster (see ``DaskFit.save``)."""
    path = v.as_path("path", path)
    if path.exists() and not (path.is_dir() and (path / MANIFEST).is_file()):
        raise FileExistsError(f"cannot save to {str(path)!r}: it exists and is not a fastmf "
                              f"model directory; remove it or choose another path")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {str(path)!r}: directory "
                                f"{str(path.parent)!r} does not exist; create it first")
    cluster = model._cluster
    params = {name: getattr(model, name) for name in model._local_class._param_names()}
    meta: dict[str, Any] = {}
    header = {"format": DIRECTORY_FORMAT, "format_version": DIRECTORY_FORMAT_VERSION,
              "fastmf_version": __version__, "class": model._local_class.__name__,
              "params": {k: _encode(value, f"params.{k}", meta) for k, value in params.items()},
              "state": {k: _encode(value, k, meta) for k, value in fitted_state(model).items()
                        if k not in ("user_ids_", "item_ids_")},
              "dtype": cluster.dtype.name, "factors": cluster.factors,
              "biased": cluster._biased, "n_users": len(model.user_ids_),
              "n_items": len(model.item_ids_),
              "blocks": {"user": np.diff(cluster.user_bounds).tolist(),
                         "item": np.diff(cluster.item_bounds).tolist()}}
    with replacing_directory(path) as temporary:
        futures = [cluster.submit(write_block, str(temporary), "user", b, cluster.X[b],
                                  cluster.user_ids[b], cluster.seen[b], name="save-user", index=b)
                   for b in range(len(cluster.X))]
        futures += [cluster.submit(write_block, str(temporary), "item", b, cluster.Y[b],
                                   cluster.item_ids[b], None, name="save-item", index=b)
                    for b in range(len(cluster.Y))]
        written = cluster.waiter.gather(futures, cancel=futures)
        header["seen"] = written[:len(cluster.X)]
        with create_new(temporary / META) as handle:
            np.savez(handle, **meta)
        _fsync(temporary / META)
        text = json.dumps(header, allow_nan=True, ensure_ascii=False, indent=1)
        with create_new(temporary / MANIFEST) as handle:
            handle.write(text.encode("utf-8"))
        _fsync(temporary / MANIFEST)
    return path


def write_block(directory: str, side: str, b: int, factors: FactorBlock, ids: np.ndarray,
                seen: RowBlock | None) -> int:
    """Write block ``b`` of ``side`` (a task, run where the block is); the number of seen
    items written (0 for an item block)."""
    arrays = {"ids": ids, "factors": factors.X}
    if factors.bias is not None:
        arrays["biases"] = factors.bias
    if seen is not None:
        arrays["seen_indptr"], arrays["seen_indices"] = seen.R.indptr, seen.R.indices
    path = Path(directory) / block_file(side, b)
    with replacing(path) as temporary, create_new(temporary) as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # no member is "allow_pickle"
    return 0 if seen is None else len(seen.R.indices)
