"""The model file, on the models' side: what it holds, writing it (``model.save``), and the
check of a fitted state read back (``fastmf.load``, in ``fastmf.io``, reads the file).

The file is one ``.npz`` archive: a JSON ``header`` (stored as UTF-8 bytes in a uint8 array)
and one array per fitted array. The header names the model class, its parameters, every
fitted attribute and the versions of fastmf and of the format::

    {"format": "fastmf-model", "format_version": 1, "fastmf_version": "0.1.0",
     "class": "ALS", "params": {"factors": 64, ...},
     "state": {"user_factors_": {"__type__": "array", "key": "user_factors_"},
               "global_mean_": 3.53, "history_": [{"iteration": 1, ...}], ...}}

The fitted state is found, not listed: every public attribute whose name ends in ``_``
plus the private names in the class's ``_private_state``. Values are numbers, strings,
lists, dicts and tuples of them (JSON, tuples tagged), numpy arrays and scalars (their
dtype kept exactly), ``IdMap``, ``ItemInfo``, ``ItemFeatures``, generators, seed sequences
and the approximate index. The archive holds no pickle, and only the classes that
``fastmf.models`` exports are written (a class says so with ``_model_file = True`` in its
own body; a subclass of one is not one).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as v
from .._files import create_new, replacing
from .._version import __version__
from ..data import IdMap, ItemInfo
from ..features import ItemFeatures, _Features
from ._ann import ANNIndex
from ._hybrid import ATTRIBUTES

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from numpy.typing import NDArray

    from .._typing import PathLike
    from ._base import MatrixFactorizationBase

    #: The arrays of a model file, by member name.
    Arrays = dict[str, NDArray[Any]]

FORMAT = "fastmf-model"
FORMAT_VERSION = 1
HEADER = "header"                 # the archive member that holds the JSON header


def fitted_state(model: MatrixFactorizationBase) -> dict[str, Any]:
    """The attributes ``save`` stores: public names ending in ``_`` and ``_private_state``."""
    return {name: value for name, value in vars(model).items()
            if is_fitted_name(type(model), name)}


def is_fitted_name(cls: type[MatrixFactorizationBase], name: str) -> bool:
    return (name.isidentifier() and name.endswith("_") and not name.startswith("_")
            or name in cls._private_state)


# -- writing ---------------------------------------------------------------------------
def write(model: MatrixFactorizationBase, path: PathLike) -> Path:
    """``model.save(path)`` and ``fastmf.io.save``: see ``MatrixFactorizationBase.save``."""
    path = v.as_path("path", path)
    if path.suffix != ".npz":           # as np.savez does; load() looks for it too
        path = path.with_name(path.name + ".npz")
    if path.is_dir():
        raise IsADirectoryError(f"path {str(path)!r} is a directory; give a file name such as "
                                f"{str(path / 'model.npz')!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {str(path)!r}: directory {str(path.parent)!r} "
                                f"does not exist; create it first")
    cls = type(model)
    if not vars(cls).get("_model_file", False):
        raise TypeError(f"only fastmf's model classes can be saved to a model file, got "
                        f"{cls.__module__}.{cls.__qualname__}; use pickle for other classes")
    model._check_is_fitted()
    arrays: Arrays = {}
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "fastmf_version": __version__, "class": cls.__name__,
              "params": {name: _encode(_param_to_write(value), f"params.{name}", arrays)
                         for name, value in model.get_params().items()},
              "state": {name: _encode(value, name, arrays)
                        for name, value in fitted_state(model).items()
                        if name != "ann_index_" or model._ann_index("recommend") is not None}}
    text = json.dumps(header, allow_nan=True, ensure_ascii=False)
    arrays[HEADER] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    _write_atomically(path, arrays)
    return path


def _param_to_write(value: Any) -> Any:
    """A parameter as the file keeps it: a features table the file cannot hold exactly (user
    features, weights other than 1) is written as None; the fitted feature maps and
    vocabularies, which serving needs, are fitted attributes and always kept."""
    if isinstance(value, _Features) and (not isinstance(value, ItemFeatures)
                                         or (value.matrix.data != 1).any()):
        return None
    return value


def _encode(value: Any, key: str, arrays: Arrays) -> Any:
    """A JSON-able description of ``value``; arrays go into ``arrays`` under ``key``."""
    if isinstance(value, np.generic):           # first: np.float64 is also a float
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{key}: a numpy scalar of dtype {value.dtype} cannot be saved")
        return {"__type__": "scalar", "dtype": value.dtype.str, "value": value.item()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"{key}: an array of dtype {value.dtype} cannot be saved without "
                            f"pickle; convert it to numbers or strings")
        if key in arrays or key == HEADER:
            raise TypeError(f"{key}: two arrays would share this name in the archive")
        arrays[key] = value
        return {"__type__": "array", "key": key}
    if isinstance(value, list):
        return [_encode(item, f"{key}.{i}", arrays) for i, item in enumerate(value)]
    if isinstance(value, tuple):
        return {"__type__": "tuple",
                "items": [_encode(item, f"{key}.{i}", arrays) for i, item in enumerate(value)]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value) or "__type__" in value:
            raise TypeError(f"{key}: only dicts with string keys (not '__type__') can be saved")
        return {k: _encode(item, f"{key}.{k}", arrays) for k, item in value.items()}
    return _encode_object(value, key, arrays)


def _encode_object(value: Any, key: str, arrays: Arrays) -> dict[str, Any]:
    """``_encode`` of the objects a fitted state holds beyond JSON values and arrays."""
    if isinstance(value, IdMap):
        return {"__type__": "IdMap", "ids": _encode(value.ids, key, arrays)}
    if isinstance(value, ItemInfo):
        return {"__type__": "ItemInfo", "ids": _encode(value.ids.ids, f"{key}.ids", arrays),
                "titles": _encode(value.titles, f"{key}.titles", arrays),
                "genres": _encode(value.genres, f"{key}.genres", arrays),
                "genre_names": list(value.genre_names)}
    if isinstance(value, ItemFeatures):
        return {"__type__": "ItemFeatures",
                "ids": _encode(value.item_ids.ids, f"{key}.ids", arrays),
                "indptr": _encode(value.matrix.indptr.astype(np.int64), f"{key}.indptr", arrays),
                "indices": _encode(value.matrix.indices.astype(np.int64), f"{key}.indices", arrays),
                "names": _encode(value.names, f"{key}.names", arrays)}
    if isinstance(value, np.dtype) or isinstance(value, type) and issubclass(value, np.generic):
        if np.dtype(value).kind not in "biuf":
            raise TypeError(f"{key}: the dtype {np.dtype(value)} cannot be saved")
        return {"__type__": "dtype", "name": np.dtype(value).name,
                "as": "dtype" if isinstance(value, np.dtype) else "type"}
    if isinstance(value, np.random.Generator):
        state = value.bit_generator.state
        return {"__type__": "Generator", "state": _encode(state, f"{key}.state", arrays)}
    if isinstance(value, ANNIndex):
        return {"__type__": "ANNIndex", "kind": value.kind, "n_items": value.n_items,
                "params": dict(value.params), "digest": value.digest,
                "graphs": {name: _encode(graph, f"{key}.{name}", arrays)
                           for name, graph in value.to_arrays().items()}}
    if isinstance(value, np.random.SeedSequence):
        return {"__type__": "SeedSequence",
                "entropy": _encode(value.entropy, f"{key}.entropy", arrays),
                "spawn_key": list(value.spawn_key), "pool_size": value.pool_size,
                "n_children_spawned": value.n_children_spawned}
    raise TypeError(f"{key}: a {type(value).__name__} cannot be saved to a model file")


def _write_atomically(path: Path, arrays: Arrays) -> None:
    """Write to a new file beside ``path``, flush it to disk, then rename it over ``path``:
    a failure at any point leaves no partial file and an existing ``path`` untouched."""
    with replacing(path) as temporary, create_new(temporary) as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # no member is "allow_pickle"


# -- the fitted state read back ----------------------------------------------------------
def check_loaded_state(model: MatrixFactorizationBase) -> None:
    """Raise ValueError unless the fitted state is what serving and the C++ kernels (which
    trust their inputs) need: every attribute of ``_required_state``, unique ids, finite
    factors with a row per id, matching biases, a finite global mean and rating range,
    a valid CSR of seen items, a history. ``fastmf.load`` calls it on what it read."""
    missing = [name for name in model._required_state if name not in vars(model)]
    if missing:
        raise ValueError(f"it lacks the fitted attribute{'s' * (len(missing) > 1)} "
                         f"{', '.join(missing)} that every fitted {type(model).__name__} "
                         f"holds")
    if not (isinstance(model.history_, list) and all(isinstance(h, dict)
                                                      for h in model.history_)):
        raise ValueError("history_ must be a list of dicts, one per iteration")
    if (not isinstance(model.n_iter_, int) or isinstance(model.n_iter_, bool)
            or not 0 <= model.n_iter_ <= len(model.history_)):
        raise ValueError(f"n_iter_ must be an int from 0 to the {len(model.history_)} "
                         f"iterations of history_, got {model.n_iter_!r}")
    X, Y = _checked_side(model, "user"), _checked_side(model, "item")
    if X.dtype != Y.dtype or X.shape[1] != Y.shape[1]:
        raise ValueError(f"user_factors_ ({X.dtype}, {X.shape}) and item_factors_ "
                         f"({Y.dtype}, {Y.shape}) do not match")
    _check_explicit_state(model, Y)
    seen = getattr(model, "_seen", None)
    if seen is not None and not _valid_csr(seen, len(X), len(Y)):
        raise ValueError(f"_seen is not a valid CSR of {len(X)} users x {len(Y)} items")
    index = vars(model).get("ann_index_")
    if index is not None:
        if index.n_items != len(Y):
            raise ValueError(f"ann_index_ indexes {index.n_items} items, the model {len(Y)}")
        index.check_vectors(Y, model._item_bias())


def _checked_side(model: MatrixFactorizationBase, side: str) -> NDArray[Any]:
    """The factors of ``side`` ("user" or "item"), checked with its ids and biases."""
    ids, X = getattr(model, f"{side}_ids_", None), getattr(model, f"{side}_factors_", None)
    if not isinstance(ids, IdMap) or not isinstance(X, np.ndarray):
        raise ValueError(f"it holds no {side}_ids_ or no {side}_factors_")
    if len(ids) and (ids._sorted[1:] == ids._sorted[:-1]).any():
        raise ValueError(f"{side}_ids_ lists an id more than once")
    if X.ndim != 2 or X.dtype not in (np.float32, np.float64) or len(X) != len(ids):
        raise ValueError(f"{side}_factors_ must be a float32 or float64 matrix with a row "
                         f"per id of {side}_ids_ ({len(ids)}), got {X.dtype} {X.shape}")
    biases = getattr(model, f"{side}_biases_", None)
    if biases is not None and (not isinstance(biases, np.ndarray)
                               or biases.dtype != X.dtype or biases.shape != (len(ids),)):
        raise ValueError(f"{side}_biases_ must be a {X.dtype} vector of length {len(ids)}")
    for name, array in ((f"{side}_factors_", X), (f"{side}_biases_", biases)):
        if array is not None and not np.isfinite(array).all():
            raise ValueError(f"{name} holds non-finite values")
    return X


def _check_explicit_state(model: MatrixFactorizationBase, Y: NDArray[Any]) -> None:
    """The global mean and rating range of the explicit models, and the feature names, maps
    and priors of the models with features, where the model holds them (each size checked
    against the factors it belongs with)."""
    state = vars(model)
    for name in ("global_mean_",):
        if name in state and not _finite_number(state[name]):
            raise ValueError(f"{name} must be a finite number, got {state[name]!r}")
    if "rating_range_" in state:
        low_high = state["rating_range_"]
        if (not isinstance(low_high, tuple) or len(low_high) != 2
                or not all(_finite_number(x) for x in low_high) or low_high[0] > low_high[1]):
            raise ValueError(f"rating_range_ must be (low, high) finite numbers, got "
                             f"{low_high!r}")
    X = model.user_factors_
    for side, rows in (("user", X), ("item", Y)):
        names_attr, map_attr, prior_attr = ATTRIBUTES[side]
        present = [name for name in ATTRIBUTES[side] if name in state]
        if present and len(present) < 3:
            raise ValueError(f"{', '.join(present)} need {names_attr}, {map_attr} and "
                             f"{prior_attr} together")
        if not present:
            continue
        names = state[names_attr]
        if not (isinstance(names, np.ndarray) and names.ndim == 1 and names.dtype.kind == "U"
                and len(np.unique(names)) == len(names)):
            raise ValueError(f"{names_attr} must be a 1-D array of distinct strings")
        checked = [(prior_attr, rows.shape), (map_attr, (len(names), Y.shape[1]))]
        if side == "item" and "feature_biases_" in state:        # BPR's item feature biases
            checked.append(("feature_biases_", (len(names),)))
        for name, shape in checked:
            array = state[name]
            if (not isinstance(array, np.ndarray) or array.shape != shape
                    or array.dtype != Y.dtype or not np.isfinite(array).all()):
                raise ValueError(f"{name} must be a finite {Y.dtype} array of shape {shape}")
    if "feature_biases_" in state and ATTRIBUTES["item"][0] not in state:
        raise ValueError("feature_biases_ needs the item feature names, map and priors")


def _finite_number(value: object) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool) and bool(np.isfinite(value)))


def _valid_csr(csr_arrays: object, n_rows: int, n_cols: int) -> bool:
    """Whether (indptr, indices) is a CSR with int64 indptr and int32 indices in range."""
    if not (isinstance(csr_arrays, tuple) and len(csr_arrays) == 2
            and all(isinstance(a, np.ndarray) and a.ndim == 1 for a in csr_arrays)):
        return False
    indptr, indices = csr_arrays
    return bool(indptr.dtype == np.int64 and indices.dtype == np.int32
                and len(indptr) == n_rows + 1 and indptr[0] == 0 and indptr[-1] == len(indices)
                and (np.diff(indptr) >= 0).all()
                and (len(indices) == 0 or (indices.min() >= 0 and indices.max() < n_cols)))
