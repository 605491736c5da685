"""Reading one model file (``model.save(path)``'s ``.npz``): the archive and its members
checked before anything is read, the JSON header decoded into the saved class's parameters
and fitted state. Nothing is unpickled and no class is imported by a name from the file."""
from __future__ import annotations

import json
import warnings
import zipfile
from typing import TYPE_CHECKING

import numpy as np

from .. import models
from .._optional import install_hint
from ..data import IdMap, ItemInfo
from ..exceptions import FastMFWarning, ModelFileError
from ..features import ItemFeatures
from ..models._ann import ANNIndex
from ..models._file import FORMAT, FORMAT_VERSION, HEADER, is_fitted_name

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from numpy.typing import NDArray

    from ..models import ALS, BPR, SGD, ImplicitALS

    #: The arrays of a model file, by member name.
    Arrays = dict[str, NDArray[Any]]
    #: A decoder: (JSON value, its key in the header, the arrays) -> the Python value.
    Decoder = Callable[[Any, str, Arrays], Any]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")       # an archive, an empty archive
_SEED_STATE_LIMIT = 1024     # values in a saved seed or generator state (MT19937: 624)
_BIT_GENERATORS = {name: getattr(np.random, name)
                   for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")}


def model_classes() -> dict[str, type[ALS | SGD | ImplicitALS | BPR]]:
    """The classes ``load`` can build (and ``save`` writes): fastmf's model classes, those
    that ``fastmf.models`` exports, by name (each sets ``_model_file``, which ``save`` asks).

    Examples
    --------
    >>> from fastmf.io import model_classes
    >>> model_classes()["ALS"]
    <class 'fastmf.models.als.ALS'>
    """
    return {name: getattr(models, name) for name in models.__all__}


def load_file(path: Path) -> ALS | SGD | ImplicitALS | BPR:
    """``fastmf.load`` of a model file (``path`` checked by the caller)."""
    path = _existing_file(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    try:
        if magic not in _ZIP_MAGIC:
            raise ModelFileError("not a fastmf model file (not an .npz archive)")
        return _build(*_read_archive(path))
    except ModelFileError as error:
        raise ModelFileError(f"cannot load {str(path)!r}: {error}") from None
    except (ValueError, KeyError, EOFError, OSError, RuntimeError, NotImplementedError,
            zipfile.BadZipFile) as error:     # what zipfile and numpy raise on damaged data
        raise ModelFileError(f"cannot load {str(path)!r}: the file is damaged or truncated "
                             f"({type(error).__name__}: {error})") from error
    except (TypeError, AttributeError, IndexError) as error:   # a header of the wrong shape
        raise ModelFileError(f"cannot load {str(path)!r}: its header does not describe a "
                             f"model ({type(error).__name__}: {error})") from error



def _existing_file(path: Path) -> Path:
    if not path.exists() and path.suffix != ".npz" and path.with_name(path.name + ".npz").exists():
        path = path.with_name(path.name + ".npz")
    if path.is_dir():
        raise IsADirectoryError(f"path {str(path)!r} is a directory, not a model file")
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {str(path)!r}")
    return path


def _read_archive(path: Path) -> tuple[dict[str, Any], Arrays]:
    """(header dict, {key: array}) of an .npz, every member checked before it is read."""
    # np.load is given an open file: on a damaged archive it would leak a file it opened.
    with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
        if HEADER not in archive.files:
            raise ModelFileError(f"not a fastmf model file (the archive has no {HEADER!r} "
                                 f"entry)")
        arrays = {}
        for key in archive.files:
            _check_member(archive.zip, key)
            arrays[key] = archive[key]
    raw = arrays.pop(HEADER)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError("its header is not UTF-8 text")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except ValueError as error:
        raise ModelFileError(f"its header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"its header is a JSON {type(header).__name__}, not an object")
    return header, arrays


def _check_member(zip_file: zipfile.ZipFile, key: str) -> None:
    """Refuse a member that is not a .npy array, is compressed (``save`` stores members as
    they are, so a member is never larger than its bytes in the file: a file cannot inflate
    to gigabytes), or whose header promises more data than the member holds (a damaged file
    must not make numpy allocate a huge array)."""
    name = key + ".npy"
    if name not in zip_file.namelist():
        raise ValueError(f"member {key!r} is not a .npy array")
    info = zip_file.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise ValueError(f"member {key!r} is compressed ({info.compress_size} bytes in the file "
                         f"for {info.file_size}); fastmf writes members uncompressed")
    with zip_file.open(name) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"member {key!r} has .npy format version {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(member)
        if dtype.hasobject:
            raise ValueError(f"member {key!r} holds pickled Python objects, which fastmf never "
                             f"reads")
        expected = member.tell() + int(np.prod(shape, dtype=object)) * dtype.itemsize
    if zip_file.getinfo(name).file_size != expected:
        raise ValueError(f"member {key!r} holds {zip_file.getinfo(name).file_size} bytes, its "
                         f"header describes {expected}")


def _build(header: dict[str, Any], arrays: Arrays) -> ALS | SGD | ImplicitALS | BPR:
    if header.get("format") != FORMAT:
        raise ModelFileError(f"not a fastmf model file (its header names the format "
                             f"{header.get('format')!r}, not {FORMAT!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"its format version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:     # checked first: a newer format may change the rest
        raise ModelFileError(
            f"it was written by fastmf {header.get('fastmf_version', '(unknown)')} in format "
            f"version {version}; this fastmf reads format versions up to {FORMAT_VERSION}: "
            f"upgrade fastmf to load it")
    for key in ("class", "params", "state"):
        if key not in header:
            raise ModelFileError(f"its header lacks the key {key!r}")
    classes = model_classes()
    name = header["class"]
    if not isinstance(name, str) or name not in classes:
        raise ModelFileError(f"its header names an unknown model class {name!r}; known classes: "
                             f"{', '.join(sorted(classes))}")
    cls = classes[name]
    for key in ("params", "state"):
        if not isinstance(header[key], dict):
            raise ModelFileError(f"its header's {key!r} must be a JSON object")
    unknown = set(header["params"]) - set(cls._param_names())
    if unknown:
        raise ModelFileError(f"its header gives parameters {sorted(unknown)} that {name} does "
                             f"not have")
    params = dict(cls._legacy_params)       # a file older than these parameters
    params.update({k: _decode(value, f"params.{k}", arrays)
                   for k, value in header["params"].items()})
    model = cls(**params)
    for attribute, value in header["state"].items():
        if not is_fitted_name(cls, attribute):
            raise ModelFileError(f"its header names {attribute!r}, which is not a fitted "
                                 f"attribute of {name}")
        setattr(model, attribute, _decode(value, attribute, arrays))
    try:
        model._check_params()         # what the constructor's caller would be told by fit
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"its parameters are invalid: {error}") from None
    try:
        model._check_loaded_state()
    except ValueError as error:
        raise ModelFileError(str(error)) from None
    return model


def _decode(value: Any, key: str, arrays: Arrays) -> Any:
    """The inverse of ``_encode``; raises ModelFileError on anything it did not write."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(item, f"{key}.{i}", arrays) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        raise ModelFileError(f"{key} holds a JSON value that fastmf never writes")
    kind = value.get("__type__")
    if kind is None:
        return {k: _decode(item, f"{key}.{k}", arrays) for k, item in value.items()}
    if not isinstance(kind, str) or kind not in _DECODERS:
        raise ModelFileError(f"{key} holds an entry of unknown type {kind!r}")
    try:
        return _DECODERS[kind](value, key, arrays)
    except ModelFileError:
        raise
    except KeyError as error:
        raise ModelFileError(f"{key}: its {kind} entry lacks the key {error}") from None
    except (TypeError, ValueError, AttributeError, IndexError, OverflowError) as error:
        raise ModelFileError(f"{key}: invalid {kind} entry ({error})") from None


def _decode_array(value: Any, key: str, arrays: Arrays) -> NDArray[Any]:
    if value["key"] not in arrays:
        raise ModelFileError(f"{key}: the array {value['key']!r} is missing from the archive")
    array = arrays[value["key"]]
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _decode_scalar(value: Any, key: str, arrays: Arrays) -> np.generic:
    dtype, number = np.dtype(value["dtype"]), value["value"]
    if dtype.kind not in "biuf" or not isinstance(number, (bool, int, float)):
        raise ValueError(f"{number!r} as a scalar of dtype {dtype}")
    return dtype.type(number)


def _decode_ids(value: Any, key: str, arrays: Arrays) -> NDArray[Any]:
    ids = _decode(value, key, arrays)
    if not isinstance(ids, np.ndarray) or ids.ndim != 1 or ids.dtype.kind not in "iuU":
        raise ValueError("ids must be a 1-D array of integers or strings")
    return ids


def _decode_item_info(value: Any, key: str, arrays: Arrays) -> ItemInfo:
    parts = {part: _decode(value[part], f"{key}.{part}", arrays)
             for part in ("titles", "genres", "genre_names")}
    return ItemInfo(_decode_ids(value["ids"], f"{key}.ids", arrays), **parts)


def _decode_item_features(value: Any, key: str, arrays: Arrays) -> ItemFeatures:
    import scipy.sparse as sp

    ids = _decode_ids(value["ids"], f"{key}.ids", arrays)
    names = _decode(value["names"], f"{key}.names", arrays)
    indptr, indices = (_decode(value[part], f"{key}.{part}", arrays)
                       for part in ("indptr", "indices"))
    if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in (names, indptr, indices)):
        raise ValueError("names, indptr and indices must be 1-D arrays")
    if (len(indptr) != len(ids) + 1 or indptr[0] != 0 or (np.diff(indptr) < 0).any()
            or indptr[-1] != len(indices)
            or (len(indices) and (indices.min() < 0 or indices.max() >= len(names)))):
        raise ValueError("not a valid items x features matrix")
    matrix = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(ids), len(names)))
    return ItemFeatures(ids, matrix, names)


def _decode_dtype(value: Any, key: str, arrays: Arrays) -> np.dtype[Any] | type[np.generic]:
    dtype = np.dtype(value["name"])
    if dtype.kind not in "biuf":
        raise ValueError(f"the dtype {dtype}")
    return dtype if value["as"] == "dtype" else dtype.type


def _check_small(value: Any, key: str, limit: int = _SEED_STATE_LIMIT) -> None:
    """Refuse a seed or generator state with an array or a list longer than ``limit`` (what
    numpy's own states hold is far smaller), so that a file cannot make load build a huge
    one."""
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) > limit:
        raise ValueError(f"{key} holds {len(value)} values; a seed state holds at most {limit}")
    if isinstance(value, (dict, list, tuple)):
        for item in items:
            _check_small(item, key, limit)
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4096:
        raise ValueError(f"{key} holds an integer of {value.bit_length()} bits")


def _decode_generator(value: Any, key: str, arrays: Arrays) -> np.random.Generator:
    state = _decode(value["state"], f"{key}.state", arrays)
    _check_small(state, f"{key}.state")
    if state.get("bit_generator") not in _BIT_GENERATORS:
        raise ValueError(f"unknown bit generator {state.get('bit_generator')!r}")
    bit_generator = _BIT_GENERATORS[state["bit_generator"]]()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _decode_seed_sequence(value: Any, key: str, arrays: Arrays) -> np.random.SeedSequence:
    entropy = _decode(value["entropy"], f"{key}.entropy", arrays)
    _check_small([entropy, list(value["spawn_key"])], key)
    for name in ("pool_size", "n_children_spawned"):
        count = value[name]
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= (
                _SEED_STATE_LIMIT if name == "pool_size" else 2**63 - 1):
            raise ValueError(f"{name} {count!r} is out of range")
    return np.random.SeedSequence(entropy,
                                  spawn_key=tuple(value["spawn_key"]),
                                  pool_size=value["pool_size"],
                                  n_children_spawned=value["n_children_spawned"])


def _decode_ann_index(value: Any, key: str, arrays: Arrays) -> ANNIndex | None:
    """The approximate index; without faiss the model loads without it (it then ranks
    exactly), with a warning that says how to get it back."""
    graphs = {name: _decode(graph, f"{key}.{name}", arrays)
              for name, graph in value["graphs"].items()}
    if value["kind"] != "hnsw" or not all(isinstance(g, np.ndarray) and g.dtype == np.uint8
                                          and g.ndim == 1 for g in graphs.values()):
        raise ValueError("an approximate index fastmf does not write")
    try:
        digest = value.get("digest")
        if digest is not None and not isinstance(digest, str):
            raise ValueError("its approximate index has a fingerprint that is not text")
        return ANNIndex.from_arrays(graphs, int(value["n_items"]), dict(value["params"]), digest)
    except ImportError:
        warnings.warn(f"the model file holds an approximate index, which needs faiss "
                      f"({install_hint('faiss')}); loaded without it, serving ranks exactly",
                      FastMFWarning, stacklevel=4)
        return None
    except RuntimeError as error:      # what faiss raises on damaged bytes
        raise ValueError(f"its approximate index is damaged ({error})") from None


_DECODERS: dict[str, Decoder] = {
    "array": _decode_array,
    "scalar": _decode_scalar,
    "tuple": lambda value, key, arrays: tuple(_decode(list(value["items"]), key, arrays)),
    "IdMap": lambda value, key, arrays: IdMap(_decode_ids(value["ids"], key, arrays)),
    "ItemInfo": _decode_item_info,
    "ItemFeatures": _decode_item_features,
    "dtype": _decode_dtype,
    "Generator": _decode_generator,
    "SeedSequence": _decode_seed_sequence,
    "ANNIndex": _decode_ann_index,
}
