"""The directory of a model kept on a Dask cluster (``fastmf.distributed``): one ``.npz`` per
factor block, ``meta.npz`` with the small fitted values and a JSON manifest. The format is
described, and checked, in ``read_manifest`` and ``read_block``, which
``fastmf.distributed.load`` uses on the workers too; ``load_directory`` reads it whole onto
this machine (``fastmf.load``)."""
from __future__ import annotations

import json
import zipfile
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import ModelFileError
from ..models._file import FORMAT, FORMAT_VERSION
from ._archive import _build, _check_member, _decode

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from numpy.typing import NDArray

    from ..models import ALS, BPR, SGD, ImplicitALS

    #: The arrays of a model file, by member name.
    Arrays = dict[str, NDArray[Any]]

# A directory holds ``manifest.json``, ``meta.npz`` (the arrays of the small fitted values,
# such as item titles) and one file per block, ``user-00000.npz`` ... and
# ``item-00000.npz`` ..., each with the raw ``ids`` of its rows, their ``factors`` and, for
# models with biases, ``biases``; user blocks add their users' seen items as a CSR
# (``seen_indptr`` int64, ``seen_indices`` int32). The manifest::
#
#     {"format": "fastmf-model-directory", "format_version": 1, "fastmf_version": "...",
#      "class": "ALS", "params": {...}, "state": {"history_": [...], ...},
#      "dtype": "float32", "factors": 64, "biased": true, "n_users": 1000, "n_items": 300,
#      "blocks": {"user": [rows, ...], "item": [rows, ...]}, "seen": [nnz, ...]}
#
# with ``params`` and ``state`` encoded as in a model file. Block files are named by
# position, never by a name read from the manifest.
DIRECTORY_FORMAT = "fastmf-model-directory"
DIRECTORY_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
META = "meta.npz"
_MANIFEST_LIMIT = 64 * 2**20         # bytes
_MAX_BLOCKS = 100_000                # per side
_MAX_ROWS = 2**31 - 1                # per side: indices are int32
_MAX_FACTORS = 2**16
_BLOCK_ARRAYS = ("user_factors_", "item_factors_", "user_biases_", "item_biases_",
                 "user_ids_", "item_ids_", "_seen.0", "_seen.1")


def block_file(side: str, b: int) -> str:
    """The name of the file of block ``b`` of ``side`` ("user" or "item")."""
    return f"{side}-{b:05d}.npz"


def read_manifest(directory: Path) -> dict[str, Any]:
    """The checked manifest of a model directory: ModelFileError on anything its writer
    does not write (every count and size within bounds and consistent)."""
    path = directory / MANIFEST
    size = path.stat().st_size
    if size > _MANIFEST_LIMIT:
        raise ModelFileError(f"its {MANIFEST} holds {size} bytes, more than the "
                             f"{_MANIFEST_LIMIT} a manifest may hold")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except ValueError as error:
        raise ModelFileError(f"its {MANIFEST} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != DIRECTORY_FORMAT:
        raise ModelFileError(f"its {MANIFEST} does not describe a fastmf model directory")
    version = manifest.get("format_version")
    if not isinstance(version, int) or not _is_int(version, 1):
        raise ModelFileError(f"its format version must be a positive integer, got {version!r}")
    if version > DIRECTORY_FORMAT_VERSION:
        raise ModelFileError(f"it was written by fastmf {manifest.get('fastmf_version')} in "
                             f"directory format {version}; this fastmf reads up to "
                             f"{DIRECTORY_FORMAT_VERSION}: upgrade fastmf to load it")
    for key, check in (("class", lambda x: isinstance(x, str)),
                       ("params", lambda x: isinstance(x, dict)),
                       ("state", lambda x: isinstance(x, dict)),
                       ("dtype", lambda x: x in ("float32", "float64")),
                       ("factors", lambda x: _is_int(x, 1, _MAX_FACTORS)),
                       ("biased", lambda x: isinstance(x, bool)),
                       ("n_users", lambda x: _is_int(x, 1, _MAX_ROWS)),
                       ("n_items", lambda x: _is_int(x, 1, _MAX_ROWS)),
                       ("blocks", lambda x: isinstance(x, dict) and set(x) == {"user", "item"}),
                       ("seen", lambda x: isinstance(x, list))):
        if key not in manifest or not check(manifest[key]):
            raise ModelFileError(f"its {MANIFEST} has no valid {key!r} "
                                 f"(found {str(manifest.get(key))[:80]!r})")
    for side in ("user", "item"):
        rows = manifest["blocks"][side]
        if (not isinstance(rows, list) or not 1 <= len(rows) <= _MAX_BLOCKS
                or not all(_is_int(r, 1, _MAX_ROWS) for r in rows)
                or sum(rows) != manifest[f"n_{side}s"]):
            raise ModelFileError(f"its {MANIFEST} lists {side} blocks that do not add up to its "
                                 f"{manifest[f'n_{side}s']} {side}s (1 to {_MAX_BLOCKS} blocks "
                                 f"of at least one row)")
    seen = manifest["seen"]
    if len(seen) != len(manifest["blocks"]["user"]) or not all(_is_int(n, 0) for n in seen):
        raise ModelFileError(f"its {MANIFEST} must give the seen items' count of each user "
                             f"block")
    return manifest


def _is_int(value: Any, minimum: int, maximum: int | None = None) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value >= minimum
            and (maximum is None or value <= maximum))


def read_block(directory: Path, side: str, b: int, manifest: dict[str, Any]
               ) -> dict[str, NDArray[Any]]:
    """The arrays of block ``b`` of ``side``, each checked against the manifest (shapes,
    dtypes, finite values, a valid CSR of seen items): ModelFileError naming the file."""
    path = directory / block_file(side, b)
    try:
        return _block_arrays(path, side, manifest["blocks"][side][b], manifest,
                             manifest["seen"][b] if side == "user" else 0)
    except ModelFileError as error:
        raise ModelFileError(f"cannot load {str(path)!r}: {error}") from None
    except FileNotFoundError:
        raise ModelFileError(f"cannot load {str(directory)!r}: its block file "
                             f"{block_file(side, b)!r} is missing") from None
    except (ValueError, KeyError, EOFError, OSError, RuntimeError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"cannot load {str(path)!r}: the file is damaged or truncated "
                             f"({type(error).__name__}: {error})") from error


def _block_arrays(path: Path, side: str, rows: int, manifest: dict[str, Any], nnz: int
                  ) -> dict[str, NDArray[Any]]:
    wanted = {"ids", "factors"} | ({"biases"} if manifest["biased"] else set())
    if side == "user":
        wanted |= {"seen_indptr", "seen_indices"}
    with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
        if set(archive.files) != wanted:
            raise ModelFileError(f"it holds the arrays {sorted(archive.files)}, not "
                                 f"{sorted(wanted)}")
        for key in wanted:
            _check_member(archive.zip, key)
        arrays = {key: archive[key] for key in wanted}
    dtype, k = np.dtype(manifest["dtype"]), manifest["factors"]
    expected = {"ids": (rows,), "factors": (rows, k), "biases": (rows,),
                "seen_indptr": (rows + 1,), "seen_indices": (nnz,)}
    for key, array in arrays.items():
        if array.shape != expected[key]:
            raise ModelFileError(f"its {key!r} has shape {array.shape}, the manifest says "
                                 f"{expected[key]}")
    if arrays["ids"].dtype.kind not in "iuU":
        raise ModelFileError(f"its ids are of dtype {arrays['ids'].dtype}, not integers or "
                             f"strings")
    for key in ("factors", "biases"):
        if key in arrays and (arrays[key].dtype != dtype or not np.isfinite(arrays[key]).all()):
            raise ModelFileError(f"its {key!r} must be finite {dtype} values")
    if side == "user":
        indptr, indices = arrays["seen_indptr"], arrays["seen_indices"]
        if (indptr.dtype != np.int64 or indices.dtype != np.int32 or indptr[0] != 0
                or indptr[-1] != nnz or (np.diff(indptr) < 0).any()
                or (nnz and (indices.min() < 0 or indices.max() >= manifest["n_items"]))):
            raise ModelFileError(f"its seen items are not a valid CSR of {rows} users x "
                                 f"{manifest['n_items']} items")
    for key in arrays:
        if not arrays[key].flags.c_contiguous:
            arrays[key] = np.ascontiguousarray(arrays[key])
    return arrays


def read_meta(directory: Path) -> Arrays:
    """The arrays of the small fitted values (``meta.npz``), each member checked."""
    with open(directory / META, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
        for key in archive.files:
            _check_member(archive.zip, key)
            if key in _BLOCK_ARRAYS:
                raise ModelFileError(f"its {META} holds {key!r}, which the blocks hold")
        return {key: archive[key] for key in archive.files}


def decode_values(manifest: dict[str, Any], meta: Arrays) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, state): the manifest's parameters and small fitted values, decoded as a
    model file's header is."""
    params = {k: _decode(value, f"params.{k}", meta) for k, value in manifest["params"].items()}
    state = {k: _decode(value, k, meta) for k, value in manifest["state"].items()}
    return params, state


def load_directory(directory: Path) -> ALS | SGD | ImplicitALS | BPR:
    """``fastmf.load`` of a model directory: every block read and put together here."""
    try:
        manifest = read_manifest(directory)
        arrays = read_meta(directory)
        blocks = {side: [read_block(directory, side, b, manifest)
                         for b in range(len(manifest["blocks"][side]))]
                  for side in ("user", "item")}
    except ModelFileError as error:
        message = str(error)
        raise ModelFileError(message if message.startswith("cannot load")
                             else f"cannot load {str(directory)!r}: {message}") from None
    except (ValueError, KeyError, EOFError, OSError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"cannot load {str(directory)!r}: a file is damaged or truncated "
                             f"({type(error).__name__}: {error})") from error
    state = dict(manifest["state"])
    for side in ("user", "item"):
        parts = blocks[side]
        arrays[f"{side}_ids_"] = np.concatenate([p["ids"] for p in parts])
        arrays[f"{side}_factors_"] = np.concatenate([p["factors"] for p in parts])
        state[f"{side}_ids_"] = {"__type__": "IdMap",
                                 "ids": {"__type__": "array", "key": f"{side}_ids_"}}
        state[f"{side}_factors_"] = {"__type__": "array", "key": f"{side}_factors_"}
        if manifest["biased"]:
            arrays[f"{side}_biases_"] = np.concatenate([p["biases"] for p in parts])
            state[f"{side}_biases_"] = {"__type__": "array", "key": f"{side}_biases_"}
    users = blocks["user"]
    counts = np.concatenate([np.diff(p["seen_indptr"]) for p in users])
    indptr = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    arrays["_seen.0"] = indptr
    arrays["_seen.1"] = np.concatenate([p["seen_indices"] for p in users])
    state["_seen"] = {"__type__": "tuple", "items": [{"__type__": "array", "key": "_seen.0"},
                                                     {"__type__": "array", "key": "_seen.1"}]}
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "class": manifest["class"],
              "params": manifest["params"], "state": state}
    try:
        return _build(header, arrays)
    except ModelFileError as error:
        raise ModelFileError(f"cannot load {str(directory)!r}: {error}") from None
    except (TypeError, AttributeError, IndexError, ValueError) as error:
        raise ModelFileError(f"cannot load {str(directory)!r}: its manifest does not describe "
                             f"a model ({type(error).__name__}: {error})") from error
