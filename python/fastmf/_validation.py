"""Input checks shared by every public entry point.

Each check either returns a clean array/value (the contract the C++ kernels rely on) or
raises an exception that names the argument, what was expected and what was found.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence, Sized
    from typing import Any, NoReturn

    from numpy.typing import ArrayLike, NDArray

    from ._typing import FloatType, IdArray, Seed

_DTYPES: dict[str, FloatType] = {"float32": np.float32, "float64": np.float64}

_INT64 = np.iinfo(np.int64)
_FLOAT_EXACT = 2.0 ** 53          # floats hold every integer up to here, not beyond


def check_dtype(dtype: Any) -> FloatType:
    """Return np.float32 or np.float64 for a dtype given as a name, type or np.dtype (not
    None, which numpy reads as float64)."""
    try:
        name = None if dtype is None else np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return _DTYPES[name]


def check_int(name: str, value: object, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return value as int if it is an integer (not bool) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    _check_range(name, value, minimum, maximum, "an integer")
    return int(value)


def check_float(name: str, value: object, minimum: float | None = None,
                maximum: float | None = None, strict_minimum: bool = False) -> float:
    """Return value as float if it is a finite real number in the given range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if strict_minimum and minimum is not None and value <= minimum:
        raise ValueError(f"{name} must be a float > {minimum}, got {value}")
    _check_range(name, value, minimum, maximum, "a float")
    return value


_C_INT = np.iinfo(np.int32)     # the kernels' int parameters (steps, block sizes, threads)


def check_kernel_params(params: dict[str, Any], model: Any) -> dict[str, Any]:
    """``params`` (``model``'s checked parameters, a dict with its ``dtype``) as the kernels
    see them: every float is cast to the model dtype and must stay finite, and nonzero if
    it was (so float32's range decides, not float64's); every int but ``seed`` must fit
    the kernels' 32-bit ints. Returns ``params``."""
    dtype = params["dtype"]
    info = np.finfo(dtype)
    for key, value in params.items():
        if isinstance(value, bool) or key == "seed":
            continue
        name = model._iterations_param if key == "iterations" else key
        if isinstance(value, (float, np.floating)):
            with np.errstate(over="ignore", under="ignore"):
                cast = dtype(value)
            if not np.isfinite(cast):
                raise ValueError(f"{name}={value:g} overflows the model dtype {info.dtype} (its "
                                 f"largest value is {info.max:.3g}); use a smaller {name}"
                                 + (" or dtype='float64'" if dtype is np.float32 else ""))
            if value != 0 and cast == 0:
                raise ValueError(f"{name}={value:g} is 0 in the model dtype {info.dtype} (its "
                                 f"smallest value is {info.tiny:.3g}); use a larger {name}"
                                 + (" or dtype='float64'" if dtype is np.float32 else ""))
        elif isinstance(value, (int, np.integer)):
            _check_range(name, int(value), None, _C_INT.max, "an integer")
    return params


def _check_range(name: str, value: Any, minimum: float | None, maximum: float | None,
                 kind: str) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {kind} >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be {kind} <= {maximum}, got {value}")


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_num_threads(value: object) -> int:
    """0 means all cores (OpenMP's default, which honours OMP_NUM_THREADS); at most
    ``max_threads()``."""
    value = check_int("num_threads", value, minimum=0)
    if value > max_threads():
        raise ValueError(f"num_threads must be at most {max_threads()} (4 per core, at least 64), "
                         f"got {value}")
    return value


def max_threads() -> int:
    """The most threads fastmf's kernels start: 4 per core, at least 64 (OpenMP ends the
    process when it cannot start the threads it is asked for); num_threads=0 and
    OMP_NUM_THREADS are capped there too."""
    from ._kernels.common import thread_cap
    return thread_cap()


def check_seed(seed: object) -> Seed:
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r}")
    return int(seed)


def as_1d(name: str, values: ArrayLike | None) -> NDArray[Any]:
    """A 1-D numpy array from a list, array or pandas Series; scalars are refused."""
    if values is None:
        raise TypeError(f"{name} is required, got None")
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {array.shape}")
    return array


def as_ids(name: str, values: Any) -> IdArray:
    """Raw ids: integers that fit int64 (kept in their dtype, no copy) or strings. Integral
    floats up to 2^53 become int64; other types, and integers beyond int64, are refused."""
    array = as_1d(name, values)
    if array.dtype.kind == "U" and not isinstance(values, np.ndarray):
        # Built from Python objects: numpy turned any mix of kinds into text, and dropped
        # trailing NULs; look at what was given.
        given = values.tolist() if hasattr(values, "tolist") else list(values)
        if not all(isinstance(x, str) for x in given):
            kinds = sorted({type(x).__name__ for x in given})
            raise TypeError(f"{name} must be all integers or all strings, got a mix of "
                            f"{', '.join(kinds)}")
        check_no_trailing_nul(name, given)
    if array.dtype.kind == "f" and not isinstance(values, np.ndarray):
        # A list of Python ints too large for int64 arrives as floats; look at the ints.
        listed = np.array(list(values), dtype=object)
        if len(listed) and all(isinstance(x, numbers.Integral) and not isinstance(x, bool)
                               for x in listed):
            array = listed
    kind = array.dtype.kind
    if kind == "i" or kind == "U":
        return array
    if kind == "u":
        if array.dtype.itemsize == 8 and len(array) and array.max() > _INT64.max:
            _too_large(name, array, array > _INT64.max)
        return array
    if kind == "f":
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} must be integers or strings; got a float id {array[first].item()!r} "
                             f"at position {first}")
        huge = np.abs(array.astype(np.float64)) > _FLOAT_EXACT
        if huge.any():
            first = int(np.flatnonzero(huge)[0])
            raise ValueError(f"{name} holds the float id {array[first].item()!r} (position "
                             f"{first}), beyond 2^53, where floats no longer tell neighbouring "
                             f"integers apart; pass such ids as integers or strings")
        return array.astype(np.int64)
    if kind == "O":
        if all(isinstance(x, str) for x in array):
            check_no_trailing_nul(name, array)
            return array.astype(str)
        if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in array):
            outside = np.array([not _INT64.min <= int(x) <= _INT64.max for x in array], dtype=bool)
            if outside.any():
                _too_large(name, array, outside)
            return array.astype(np.int64)
        raise TypeError(f"{name} must be all integers or all strings, got mixed or other "
                        f"values (first: {array[0]!r}, dtype object)")
    raise TypeError(f"{name} must be integers or strings, got an array of dtype {array.dtype}")


def check_no_trailing_nul(name: str, texts: Iterable[Any]) -> None:
    """Refuse strings that end in NUL: numpy's text arrays drop trailing NULs, which would
    merge "a\\x00" with "a"."""
    texts = [t for t in texts if isinstance(t, str)]
    joined = "\n".join(texts) + "\n"
    if "\x00\n" in joined:
        first = next(t for t in texts if t.endswith("\x00"))
        raise ValueError(f"{name} hold {first!r}, which ends in a NUL character; numpy's text "
                         f"arrays drop trailing NULs, so it would be the same id as "
                         f"{first.rstrip(chr(0))!r}: remove the NULs first")


def _too_large(name: str, array: NDArray[Any], outside: NDArray[np.bool_]) -> NoReturn:
    first = int(np.flatnonzero(outside)[0])
    raise ValueError(f"{name} holds the id {int(array[first])} (position {first}), which does not "
                     f"fit a 64-bit signed integer; pass such ids as strings")


def as_ratings(name: str, values: Any) -> NDArray[np.float32 | np.float64]:
    """Finite numeric ratings as float32 (kept) or float64 (everything else)."""
    array = as_1d(name, values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    if array.dtype != np.float32:
        array = array.astype(np.float64)
    check_finite(name, array)
    return array


def check_finite(name: str, array: NDArray[np.floating[Any]]) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        n_nan = int(np.isnan(array).sum())
        what = f"{n_nan} NaN" if n_nan else ""
        n_inf = int(bad.sum()) - n_nan
        what += (" and " if n_nan and n_inf else "") + (f"{n_inf} infinite" if n_inf else "")
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} contain {what} values (first at position {first}); "
                         f"drop or fill them first")


def check_same_length(**arrays: Sized | None) -> None:
    named = [(name, len(a)) for name, a in arrays.items() if a is not None]
    lengths = {n for _, n in named}
    if len(lengths) > 1:
        parts = " and ".join(f"{n} {name}" for name, n in named)
        names = ", ".join(name for name, _ in named)
        raise ValueError(f"{names} must have the same length, got {parts}")


def check_not_empty(name: str, array: Sized) -> None:
    if len(array) == 0:
        raise ValueError(f"{name} is empty; at least one rating is needed")


def as_path(name: str, value: object) -> Path:
    """A file path given as a str or an os.PathLike (pathlib.Path), as a pathlib.Path."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or a pathlib.Path, got {type(value).__name__}")
    if isinstance(os.fspath(value), bytes):
        raise TypeError(f"{name} must be a str or a pathlib.Path, got a bytes path {value!r}")
    if os.fspath(value) == "":
        raise ValueError(f"{name} must name a file, got an empty string")
    return Path(value)


def check_path(path: str | os.PathLike[str]) -> str:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    return path


def memory_limit() -> int | None:
    """The most bytes this process could still allocate: the machine's physical memory, or
    what the address-space limit (RLIMIT_AS) leaves beside what the process maps already,
    when lower; None where neither can be read."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            limits.append(max(soft - _mapped_bytes(), 0))
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    return min(limits) if limits else None


def _mapped_bytes() -> int:
    """The address space this process maps now (Linux; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def check_memory(what: str, n_bytes: float, fix: str = "use fewer factors or threads") -> None:
    """MemoryError, before anything is allocated, when ``what`` needs more than
    ``memory_limit()`` bytes; the message says what it needed and ``fix``."""
    limit = memory_limit()
    if limit is not None and n_bytes > limit:
        raise MemoryError(f"{what} needs about {_bytes(n_bytes)}, more than this process can "
                          f"hold ({_bytes(limit)}); {fix}")


def _bytes(n: float) -> str:  # type: ignore[return]  # returns at its last unit
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
