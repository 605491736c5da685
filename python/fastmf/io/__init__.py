"""Model files: ``model.save(path)`` writes one ``.npz``, ``fastmf.load(path)`` reads it.

``fastmf.load`` also reads the directory that a model kept on a Dask cluster writes
(``fastmf.distributed``: one ``.npz`` per block and a JSON manifest); the format is
described, and checked, in ``_directory.py`` (``read_manifest``, ``read_block``), which
``fastmf.distributed.load`` uses on the workers too.

What a file holds, and writing it, are the models' (``fastmf.models._file``, which describes
the format); this package reads it (``_archive.py``). Reading never unpickles anything:
the arrays are read with ``allow_pickle=False``, every member is checked before it is
read, and the class is looked up among fastmf's own model classes, never imported by a
name taken from the file.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _validation as v
from ..models._file import FORMAT_VERSION, write
from ._archive import load_file, model_classes
from ._directory import MANIFEST, load_directory

if TYPE_CHECKING:
    from pathlib import Path

    from .._typing import PathLike
    from ..models import ALS, BPR, SGD, ImplicitALS
    from ..models._base import MatrixFactorizationBase

__all__ = ["FORMAT_VERSION", "load", "model_classes", "save"]


# -- writing ---------------------------------------------------------------------------
def save(model: MatrixFactorizationBase, path: PathLike) -> Path:
    """Write a fitted model to ``path``; the same as ``model.save(path)``, which see.

    Examples
    --------
    >>> import tempfile, fastmf
    >>> model = fastmf.SGD(factors=2, epochs=3, seed=0, verbose=False)
    >>> model = model.fit(fastmf.datasets.toy())
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(fastmf.io.save(model, f"{folder}/sgd").name)
    sgd.npz
    """
    return write(model, path)


# -- reading ---------------------------------------------------------------------------
def load(path: PathLike) -> ALS | SGD | ImplicitALS | BPR:
    """Load a model written by ``model.save(path)``.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. When it does not exist and has no ``.npz`` suffix, ``path + ".npz"``
        is read instead, as ``save`` appends that suffix. A directory written by a
        ``fastmf.distributed`` model kept on a cluster (one file per block and a
        ``manifest.json``) is read whole onto this machine.

    Returns
    -------
    model
        A fitted model of the saved class with the saved parameters, fitted arrays, id
        maps, item titles and genres, and ``history_``: it predicts and recommends
        exactly as the saved one did.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        ``path`` is missing or is a directory.
    ModelFileError
        The file (or a directory's manifest or block) is not a fastmf model file, is
        truncated or damaged, names an unknown model class, or was written by a newer
        fastmf (a higher format version).

    Examples
    --------
    >>> import tempfile, fastmf
    >>> data = fastmf.datasets.toy()
    >>> model = fastmf.ALS(factors=2, iterations=3, seed=0, verbose=False).fit(data)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = model.save(f"{folder}/model.npz")
    ...     loaded = fastmf.load(path)
    >>> loaded
    ALS(factors=2, iterations=3, seed=0, verbose=False)
    >>> bool((loaded.predict(["Bob"], ["Sholay"]) == model.predict(["Bob"], ["Sholay"])).all())
    True
    """
    path = v.as_path("path", path)
    if path.is_dir() and (path / MANIFEST).exists():
        return load_directory(path)
    return load_file(path)
