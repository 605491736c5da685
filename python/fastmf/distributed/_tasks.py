"""The tasks of a distributed fit: what one worker does with one row block.

Each solve runs the same row solve as a fit on one machine (``solve_rows`` of
``fastmf._kernels.als`` and ``fastmf._kernels.implicit_als``) on one block of rows, against
the other side's factors put together from all its blocks, so every row gets the same bits
as on one machine. Losses are exact sums (``exact_sum``) of per-row parts, so the parts of
the blocks add up to the one-machine value; Gram matrices are sums of fixed chunks of rows
(``GRAM_CHUNK``), which ``gram_reduce`` rebuilds from the blocks' pieces.
"""
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from dask.sizeof import sizeof

from .._kernels import als, implicit_als
from .._kernels.arrays import aligned_empty, cache_aligned, exact_sum, sum_in_order
from .._kernels.gram import GRAM_CHUNK, gram_chunks


@dataclass
class FactorBlock:
    """The solved factors of one row block: rows ``lo ..`` of X (and the biases of ALS),
    the first failed row (-1: none; an index into the block), the penalty terms of the
    block's rows (ALS: a tuple; ImplicitALS: one exact sum), the pieces of the side's
    Gram matrix (ImplicitALS) and, from an iteration's second half-step, the loss terms of
    the block's rows (ALS: the squared errors; ImplicitALS: the observed part; exact sums)."""

    lo: int
    X: np.ndarray
    bias: np.ndarray = None
    failed: int = -1
    penalty: object = None
    gram: tuple = None
    loss: object = None


@sizeof.register(FactorBlock)
def _factor_block_bytes(block):
    """Dask's size of a factor block (what it counts as moved and held), its arrays."""
    return sizeof(block.X) + sizeof(block.bias) + sizeof(block.gram)


def worker_params(p, blocks_per_worker):
    """``p`` with ``num_threads`` 0 resolved to the worker's share of its threads."""
    if p.num_threads:
        return p
    from distributed import get_worker

    threads = get_worker().state.nthreads
    return replace(p, num_threads=max(1, threads // blocks_per_worker))


class _Spares:
    """Arrays that ``stacked`` filled and its tasks are done with, kept by this worker
    process for the next task that stacks the same shape, at most MAX of them (the last
    released). A fresh array of factors is new memory from the kernel (glibc maps every
    allocation over 32 MB afresh, and numpy asks huge pages for it): on a worker that has
    been moving blocks about, finding them took ~0.1 s for 51 MB, ten times the copy. A
    fit frees them on every worker when it ends (``release_spares``)."""

    MAX = 4                      # each side's factors and biases

    def __init__(self):
        self._lock = threading.Lock()
        self._arrays = {}

    def take(self, shape, dtype):
        with self._lock:
            array = self._arrays.pop((shape, np.dtype(dtype).str), None)
        return aligned_empty(shape, dtype) if array is None else array

    def give(self, array):
        with self._lock:
            self._arrays[(array.shape, array.dtype.str)] = array
            while len(self._arrays) > self.MAX:
                del self._arrays[next(iter(self._arrays))]

    def clear(self):
        with self._lock:
            self._arrays.clear()

    def __len__(self):
        return len(self._arrays)


_SPARES = _Spares()


@contextmanager
def stacked(blocks, *names):
    """One cache-aligned array per name of the blocks' ``name`` arrays, in block order
    (None where the blocks have none), made from the worker's spares and given back to them
    when the ``with`` block ends."""
    made, out = [], []
    for name in names:
        parts = [getattr(block, name) for block in blocks]
        if len(parts) == 1 or parts[0] is None:
            out.append(parts[0])
            continue
        array = _SPARES.take((sum(len(part) for part in parts),) + parts[0].shape[1:],
                             parts[0].dtype)
        made.append(array)
        out.append(np.concatenate(parts, out=array))      # one copy, straight into place
    try:
        yield out
    finally:
        for array in made:
            _SPARES.give(array)


async def release_spares():
    """Free this worker's spare arrays (run on every worker when a fit ends; a coroutine,
    so that the driver need not wait for it)."""
    _SPARES.clear()


def block_terms(factor_block, side):
    """What the driver reads of a solved block (a small task run where the block is): its
    loss terms (None for the first half-step's blocks), penalty and failed row, as
    (side, global index)."""
    fb = factor_block
    return {"loss": fb.loss, "penalty": fb.penalty,
            "failed": [(side, fb.lo + fb.failed)] if fb.failed >= 0 else []}


def _row_losses(block, last):
    """The per-row loss terms that the solve of ``block`` fills when it is an iteration's
    second half-step (``last``), else None."""
    return np.empty(block.R.shape[0], dtype=np.float64) if last else None


# -- ALS ---------------------------------------------------------------------------------
def als_solve(block, mu, p, blocks_per_worker, last, *others):
    """The ALS half-step of one block against the other side's blocks (``last``: the
    iteration's second, which also sums its rows' squared errors)."""
    p = worker_params(p, blocks_per_worker)
    R = block.R
    row_sse = _row_losses(block, last)
    with stacked(others, "X", "bias") as (Y, yb):
        X = aligned_empty((R.shape[0], Y.shape[1]), Y.dtype)
        X.fill(0)
        xb = np.zeros(R.shape[0], dtype=Y.dtype)
        counts = R.counts()
        failed = als.solve_rows(R, Y, yb, mu, als.row_regularization(counts, p, Y.dtype),
                                np.zeros((0, Y.shape[1]), Y.dtype), X, xb, p, row_sse)
    return FactorBlock(block.lo, X, xb, int(failed), als.penalties(X, xb, counts, p.weighted),
                       loss=None if row_sse is None else exact_sum(row_sse))


def als_predictions(user, mu, p, blocks_per_worker, val, *items):
    """The predictions of one user block's validation pairs ``val`` = (positions, local
    users, items) after an iteration: (positions, predictions)."""
    p = worker_params(p, blocks_per_worker)
    positions, uidx, iidx = val
    with stacked(items, "X", "bias") as (Y, yb):
        return positions, als.predict_pairs(user.X, user.bias, Y, yb, mu, uidx, iidx,
                                            p.num_threads)


# -- ImplicitALS -------------------------------------------------------------------------
def implicit_solve(block, previous, YtY, n_rows, p, blocks_per_worker, last, *others):
    """The implicit half-step of one block (CG and block start from ``previous``, the block's
    factors before it; ``YtY``: the other side's Gram matrix, unscaled), its rows' penalty,
    the pieces of its rows' Gram matrix and, when ``last`` (the iteration's second), the
    observed part of its rows' loss."""
    p = worker_params(p, blocks_per_worker)
    C = block.R
    row_loss = _row_losses(block, last)
    with stacked(others, "X") as (Y,):
        if p.solver != "cholesky":
            X = cache_aligned(previous.X)
        else:
            X = aligned_empty((C.shape[0], Y.shape[1]), Y.dtype)
            X.fill(0)
        failed = implicit_als.solve_rows(C, Y, YtY, X, p, row_loss=row_loss)
        n_other = len(Y)
    return FactorBlock(block.lo, X, None, int(failed),
                       penalty=implicit_als.penalty(C.counts(), n_other, X, p),
                       gram=gram_pieces(X, block.lo, n_rows, p.num_threads),
                       loss=None if row_loss is None else exact_sum(row_loss))


def gram_pieces(X, lo, n_rows, num_threads):
    """What rows lo.. (X) of a side of n_rows rows add to the side's Gram matrix: the
    products of the GRAM_CHUNK chunks they hold whole, {chunk: product}, and the rows of the
    chunks they share with other blocks, {chunk: rows}."""
    hi = lo + len(X)
    whole, shared = {}, {}
    first, last = lo // GRAM_CHUNK, (hi - 1) // GRAM_CHUNK
    full = [c for c in range(first, last + 1)
            if lo <= c * GRAM_CHUNK and min((c + 1) * GRAM_CHUNK, n_rows) <= hi]
    if full:
        start, stop = full[0] * GRAM_CHUNK - lo, min((full[-1] + 1) * GRAM_CHUNK, n_rows) - lo
        for c, product in zip(full, gram_chunks(X[start:stop], num_threads)):
            whole[c] = product
    for c in range(first, last + 1):
        if c not in whole:
            shared[c] = X[max(c * GRAM_CHUNK, lo) - lo:min((c + 1) * GRAM_CHUNK, hi) - lo].copy()
    return whole, shared


def gram_part(factor_block):
    """The Gram pieces of a solved block (a small task run where the block is)."""
    return factor_block.gram


def gram_reduce(*pieces):
    """A side's Gram matrix from its blocks' pieces (in block order): the chunks' products
    summed in chunk order, a shared chunk's product taken of its rows put back together."""
    products = {}
    shared = {}
    for whole, parts in pieces:
        products.update(whole)
        for c, rows in parts.items():
            shared.setdefault(c, []).append(rows)
    for c, parts in shared.items():
        products[c] = gram_chunks(np.concatenate(parts), 1)[0]
    first = next(iter(products.values()))
    return sum_in_order((products[c] for c in sorted(products)), first.shape, first.dtype)


def carry(value, beside=None):
    """A value carried by its task (validation pairs), held on a worker for the fit;
    ``beside``, a rating block, only places the task where that block is."""
    return value


def root(lo, X, bias, n_rows=None, beside=None):
    """A factor block carried by its task (the start of a fit, or a checkpoint), with the
    pieces of its side's Gram matrix when ``n_rows`` (the side's rows) is given; ``beside``,
    the rating block of the same rows, only places the task where that block is."""
    X = cache_aligned(X)
    return FactorBlock(lo, X, bias, gram=None if n_rows is None else gram_pieces(X, lo, n_rows, 1))

