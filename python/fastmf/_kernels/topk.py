"""Top-n (cpp/topk.hpp): the best n items of each query row by Q[u]·Y[i] + offsets[u] +
bias[i], with the filters applied while it ranks, for serving (``topk_filtered``), and the
same pass counting each row's AUC pairs for ``fastmf.metrics.evaluate`` (``topk_auc``).

Both write -1 / -inf where a row has fewer than n candidates left. ``_core`` also exports
``topk_scores``, the plain top-n without filters: tests/test_kernels.py checks it against
its numpy twin, and nothing in fastmf calls it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _core

if TYPE_CHECKING:
    from .._typing import CsrArrays, FloatArray, Int32Array, Int64Array

_NO_ITEMS = np.zeros(0, np.int32)


def topk_filtered(Q: FloatArray, offsets: FloatArray, Y: FloatArray, bias: FloatArray,
                  candidates: Int32Array | None, exclude: CsrArrays, shared: Int32Array,
                  n: int, num_threads: int, part: tuple[int, int] | None = None
                  ) -> tuple[Int32Array, FloatArray]:
    """(indices int32, scores) of shape (len(Q), n): each row's best n among ``candidates``
    (sorted indices; None: every item), less the row's own ``exclude`` (a CSR of
    (indptr, indices)) and the ``shared`` exclusions (sorted indices). ``part``: (the
    index of Y's first item, the items) of the catalog Y is a part of, whose scores then
    have the bits the whole catalog's ranking gives them (None: Y is the catalog)."""
    out_items = np.empty((len(Q), n), dtype=np.int32)
    out_scores = np.empty((len(Q), n), dtype=Y.dtype)
    _core.topk_filtered(np.ascontiguousarray(Q, Y.dtype), np.ascontiguousarray(offsets, Y.dtype),
                        Y, bias, candidates is None,
                        _NO_ITEMS if candidates is None else candidates, *exclude, shared,
                        *(part or (0, len(Y))), out_items, out_scores, num_threads)
    return out_items, out_scores


def topk_auc(Q: FloatArray, offsets: FloatArray, Y: FloatArray, bias: FloatArray,
             exclude: CsrArrays, relevant: CsrArrays, n: int, num_threads: int,
             probes: tuple[Int64Array, FloatArray] | None = None,
             part: tuple[int, int] | None = None
             ) -> tuple[Int32Array, Int64Array, FloatArray]:
    """(top, wins, top scores): each row's best min(n, n_items) item indices (int32) less
    its own ``exclude``, and its doubled Mann-Whitney U: the pairs of a ``relevant`` item (a
    CSR like ``exclude``) and another candidate in which the relevant one scores higher,
    counted twice, ties once.

    With ``probes`` (indptr, scores), Y is one part of a catalog: a CSR of each row's
    ``relevant_scores`` of all its relevant items, sorted, which every item of Y but the
    excluded ones is counted against; ``wins`` then still holds the probes' count against
    themselves, m² for m probes, which the sum over the parts gives back once; ``part`` is
    then (the index of Y's first item, the items) of that catalog, as for
    ``topk_filtered``."""
    top = np.empty((len(Q), min(n, len(Y))), dtype=np.int32)
    top_scores = np.empty(top.shape, dtype=Y.dtype)
    wins = np.empty(len(Q), dtype=np.int64)
    probe_indptr, probe_scores = ((np.zeros(0, np.int64), np.zeros(0, Y.dtype))
                                  if probes is None else probes)
    _core.topk_auc(np.ascontiguousarray(Q, Y.dtype), np.ascontiguousarray(offsets, Y.dtype), Y,
                   bias, *exclude, *relevant, probe_indptr,
                   np.ascontiguousarray(probe_scores, Y.dtype), *(part or (0, len(Y))), top,
                   top_scores, wins, num_threads)
    return top, wins, top_scores


def relevant_scores(Q: FloatArray, offsets: FloatArray, Y: FloatArray, bias: FloatArray,
                    relevant: CsrArrays, num_threads: int) -> FloatArray:
    """The score ``topk_auc`` gives each entry of the ``relevant`` CSR (a row per query),
    in entry order: the probes of the parts of a catalog."""
    out = np.empty(len(relevant[1]), dtype=Y.dtype)
    _core.relevant_scores(np.ascontiguousarray(Q, Y.dtype),
                          np.ascontiguousarray(offsets, Y.dtype), Y, bias, *relevant, out,
                          num_threads)
    return out
