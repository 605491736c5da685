"""Rows of features as models and files give them: names or name-to-weight dicts checked
against a vocabulary, unit-length weights, number buckets and the cells of a CSV file."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    import scipy.sparse as sp
    from numpy.typing import NDArray

    from .._typing import Int64Array
    from ._table import _Features

    #: One row's features: names (weight 1 each) or a mapping of name to weight.
    FeatureRow = Sequence[str] | Mapping[str, float]


def normalized(A: sp.csr_matrix) -> sp.csr_matrix:
    """A copy of the CSR ``A`` with every nonzero row scaled to unit Euclidean length."""
    A = A.copy()
    norms = np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())
    A.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(A.indptr))
    return A


def rows_to_weights(names: NDArray[np.str_], rows: Sequence[FeatureRow], what: str
                    ) -> sp.csr_matrix:
    """The normalized weights (``_Features.weights``) of rows given as names or dicts, against
    the vocabulary ``names``; ValueError for an unknown name or a bad weight."""
    import scipy.sparse as sp

    parsed = [_as_row(row, f"{what}[{r}]") for r, row in enumerate(rows)]
    cols = [_columns(names, list(row), "feature") for row in parsed]
    counts = [len(row) for row in parsed]
    data = np.asarray([w for row in parsed for w in row.values()], dtype=np.float64)
    matrix = sp.csr_matrix((data, (np.repeat(np.arange(len(parsed)), counts),
                                   np.concatenate(cols + [np.zeros(0, np.int64)]))),
                           shape=(len(parsed), len(names)))
    matrix.eliminate_zeros()
    return normalized(matrix)


def table_to_weights(names: NDArray[np.str_], features: _Features, ids: NDArray[Any]
                     ) -> sp.csr_matrix:
    """The normalized weights of ``ids`` from a features table, its columns mapped onto the
    vocabulary ``names``; ValueError for an id the table lacks or a feature not in names."""
    index = features.ids.index(ids)
    if (index < 0).any():
        raise ValueError(f"{features._side} {ids[np.argmax(index < 0)].item()!r} is not in "
                         f"the given {type(features).__name__}")
    M = features.matrix[index]
    used = np.unique(M.indices)
    columns = np.zeros(len(features.names), dtype=np.int64)
    columns[used] = _columns(names, list(features.names[used]), "feature")
    import scipy.sparse as sp

    out = sp.csr_matrix((M.data, columns[M.indices], M.indptr), shape=(len(ids), len(names)))
    out.sum_duplicates()
    return normalized(out)


def _as_row(row: object, what: str) -> dict[str, float]:
    """One row's features as {name: weight}: a list of names (weight 1, repeats once), a
    dict of name to weight (finite, >= 0), a single string (one name)."""
    if isinstance(row, str):
        return {row: 1.0}
    if hasattr(row, "items"):
        out = {}
        for name, weight in row.items():
            w = float(weight)
            if not (np.isfinite(w) and w >= 0):
                raise ValueError(f"{what}: the weight of feature {str(name)!r} must be "
                                 f"finite and >= 0, got {weight!r}")
            out[str(name)] = w
        return out
    try:
        return {str(name): 1.0 for name in row}  # type: ignore[attr-defined]  # iterable
    except TypeError:
        raise TypeError(f"{what} must be a list of feature names or a dict of name to weight, "
                        f"got {type(row).__name__}") from None


def _columns(names: NDArray[np.str_], wanted: list[str], what: str) -> Int64Array:
    lookup = {name: j for j, name in enumerate(names)}
    unknown = [name for name in wanted if name not in lookup]
    if unknown:
        raise ValueError(f"{what} {unknown[0]!r} is not a known feature; known: "
                         f"{', '.join(names[:20])}{' ...' if len(names) > 20 else ''}")
    return np.array([lookup[name] for name in wanted], dtype=np.int64)


def _add_buckets(rows: list[dict[str, float]], name: str, values: NDArray[Any],
                 edges: Sequence[float]) -> None:
    """One-hot buckets of a numeric column: <e0, [e0,e1), ..., >=e_last (missing: none)."""
    edges_array = np.asarray(edges, dtype=np.float64)
    if (edges_array.ndim != 1 or len(edges_array) == 0 or not np.isfinite(edges_array).all()
            or (np.diff(edges_array) <= 0).any()):
        raise ValueError(f"buckets[{name!r}] must be increasing finite numbers, got "
                         f"{list(edges)!r}")
    labels = ([f"{name}<{_number(edges_array[0])}"]
              + [f"{name}:[{_number(lo)},{_number(hi)})"
                 for lo, hi in zip(edges_array[:-1], edges_array[1:])]
              + [f"{name}>={_number(edges_array[-1])}"])
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"column {name!r} has buckets but holds values that are not "
                         f"numbers") from None
    which = np.searchsorted(edges_array, numbers, side="right")
    for row, x, b in zip(rows, numbers, which):
        if np.isfinite(x):
            row[labels[b]] = 1.0


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _column_position(header: list[str], name: str, path: object) -> int:
    if name not in header:
        raise ValueError(f"id_column {name!r} is not a column of {str(path)!r}; its columns: "
                         f"{', '.join(header)}")
    return header.index(name)


def _parse_ids(cells: list[str]) -> NDArray[Any]:
    try:
        return np.array([int(cell) for cell in cells], dtype=np.int64)
    except ValueError:
        return np.array(cells, dtype=str)


def _parse_numbers(cells: list[str]) -> NDArray[np.float64] | None:
    """The cells as float64 (empty: NaN), or None when a non-empty cell is not a number."""
    try:
        return np.array([float(cell) if cell else np.nan for cell in cells], dtype=np.float64)
    except ValueError:
        return None
