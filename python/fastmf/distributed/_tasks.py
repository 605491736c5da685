"""The tasks of a distributed fit: what one worker does with one row block.

Each solve runs the same row solve as a fit on one machine (``solve_rows`` of
``fastmf._kernels.als`` and ``fastmf._kernels.implicit_als``) on one block of rows, against
the other side's factors put together from all its blocks, so every row gets the same bits
as on one machine. Losses are exact sums (``exact_sum``) of per-row parts, so the parts of
the blocks add up to the one-machine value; Gram matrices are sums of fixed chunks of rows
(``GRAM_CHUNK``), which ``gram_reduce`` rebuilds from the blocks' pieces.
"""
from dataclasses import dataclass, replace

import numpy as np
from dask.sizeof import sizeof

from .._kernels import als, implicit_als
from .._kernels.arrays import aligned_empty, cache_aligned, sum_in_order
from .._kernels.gram import GRAM_CHUNK, gram_chunks


@dataclass
class FactorBlock:
    """The solved factors of one row block: rows ``lo ..`` of X (and the biases of ALS),
    the first failed row (-1: none; an index into the block), the penalty terms of the
    block's rows (ALS: a tuple; ImplicitALS: one exact sum) and the pieces of the side's
    Gram matrix (ImplicitALS)."""

    lo: int
    X: np.ndarray
    bias: np.ndarray = None
    failed: int = -1
    penalty: object = None
    gram: tuple = None


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


def stacked(blocks, name):
    """One cache-aligned array of the blocks' ``name`` arrays, in block order."""
    parts = [getattr(block, name) for block in blocks]
    if len(parts) == 1 or parts[0] is None:
        return parts[0]
    out = aligned_empty((sum(len(part) for part in parts),) + parts[0].shape[1:],
                        parts[0].dtype)
    return np.concatenate(parts, out=out)          # one copy, straight into place


# -- ALS ---------------------------------------------------------------------------------
def als_solve(block, mu, p, blocks_per_worker, *others):
    """The ALS half-step of one block against the other side's blocks."""
    p = worker_params(p, blocks_per_worker)
    Y, yb = stacked(others, "X"), stacked(others, "bias")
    R = block.R
    X = aligned_empty((R.shape[0], Y.shape[1]), Y.dtype)
    X.fill(0)
    xb = np.zeros(R.shape[0], dtype=Y.dtype)
    counts = R.counts()
    failed = als.solve_rows(R, Y, yb, mu, als.row_regularization(counts, p, Y.dtype),
                            np.zeros((0, Y.shape[1]), Y.dtype), X, xb, p)
    return FactorBlock(block.lo, X, xb, int(failed), als.penalties(X, xb, counts, p.weighted))


def als_terms(block, user, own, mu, p, blocks_per_worker, val, *items):
    """The loss terms of one user block after an iteration: the squared errors of its
    ratings, its penalties and those of the item blocks numbered in ``own``, their failed
    rows and the predictions of its validation pairs ``val`` = (positions, local users,
    items)."""
    p = worker_params(p, blocks_per_worker)
    Y, yb = stacked(items, "X"), stacked(items, "bias")
    sse = als.squared_errors(block.R, user.X, user.bias, Y, yb, mu, p.num_threads)
    predictions = None
    if val is not None:
        positions, uidx, iidx = val
        predictions = (positions, als.predict_pairs(user.X, user.bias, Y, yb, mu, uidx, iidx,
                                                    p.num_threads))
    mine = [items[j] for j in own]
    return {"sse": sse, "penalty": user.penalty[0] + sum(fb.penalty[0] for fb in mine),
            "bias_sq": user.penalty[1] + sum(fb.penalty[1] for fb in mine),
            "failed": _failures(user, mine), "predictions": predictions}


def _failures(user, items):
    """[(side, global index)] of the blocks' first failed rows."""
    blocks = [("user", user)] + [("item", fb) for fb in items]
    return [(side, fb.lo + fb.failed) for side, fb in blocks if fb.failed >= 0]


# -- ImplicitALS -------------------------------------------------------------------------
def implicit_solve(block, previous, YtY, n_rows, p, blocks_per_worker, *others):
    """The implicit half-step of one block (CG and block start from ``previous``, the block's
    factors before it; ``YtY``: the other side's Gram matrix, unscaled), its rows' penalty
    and the pieces of its rows' Gram matrix."""
    p = worker_params(p, blocks_per_worker)
    Y = stacked(others, "X")
    C = block.R
    if p.solver != "cholesky":
        X = cache_aligned(previous.X)
    else:
        X = aligned_empty((C.shape[0], Y.shape[1]), Y.dtype)
        X.fill(0)
    failed = implicit_als.solve_rows(C, Y, YtY, X, p)
    return FactorBlock(block.lo, X, None, int(failed),
                       penalty=implicit_als.penalty(C.counts(), len(Y), X, p),
                       gram=gram_pieces(X, block.lo, n_rows, p.num_threads))


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


def implicit_terms(block, user, own, p, blocks_per_worker, *items):
    """The observed part of the loss of one user block, the penalties of it and of the
    item blocks numbered in ``own``, and the failed rows of them."""
    p = worker_params(p, blocks_per_worker)
    observed = implicit_als.observed_loss(block.R, user.X, stacked(items, "X"), p)
    mine = [items[j] for j in own]
    return {"observed": observed, "penalty": user.penalty + sum(fb.penalty for fb in mine),
            "failed": _failures(user, mine)}


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

