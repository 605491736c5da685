"""The training data of a distributed fit: the ratings on the workers in contiguous row
blocks by user and by item; the item ids on the driver, and the user ids on the workers
when they came from a dask DataFrame (``ClusterIds``).

Every block is the result of a task, never data scattered from the driver, so that Dask
can build it again when the worker holding it is lost. From a dask DataFrame the ratings
never pass through the driver: a first pass over the partitions finds the sorted distinct
ids and their counts (a tree of merges), a task cuts the rows into blocks balanced by
ratings (the driver receives the block boundaries and the item ids, never the user ids),
and a second pass maps each partition's ids to indices (a search in the sorted ids, a
broadcast join) and sends each rating to its user block and its item block, which build
their CSR with the same counting sort as ``Interactions``.
"""
import warnings
from dataclasses import dataclass

import numpy as np
from dask.sizeof import sizeof

from .. import _validation as v
from .._kernels.arrays import exact_sum
from .._kernels.sparse import pairs_to_csr
from ..data import (DUPLICATE_POLICIES, Csr, IdMap, Interactions, combine_duplicates,
                    first_of_each_pair)

MERGE_FAN_IN = 8


@dataclass
class RowBlock:
    """Rows ``lo .. lo + R.shape[0]`` of one side: their values in the model's form (the
    ratings in its dtype, or ImplicitALS's confidence values), columns indexing the other
    side."""

    lo: int
    R: Csr


@sizeof.register(RowBlock)
def _row_block_bytes(block):
    """Dask's size of a rating block (what it counts as moved and held), its arrays."""
    return sizeof(block.R.indptr) + sizeof(block.R.indices) + sizeof(block.R.data)


@dataclass
class BlockStats:
    """What the driver learns of a user block: its ratings' count, exact sum, range, the
    number of negative values and the first repeated (user, item) pair, if any."""

    nnz: int
    total: object
    low: float
    high: float
    negatives: int
    duplicate: tuple = None


def balanced_bounds(counts, n_blocks):
    """Row boundaries (n_blocks + 1 of them, fewer for fewer rows) of contiguous blocks
    holding about equal numbers of ratings; every block has at least one row."""
    n_rows = len(counts)
    n_blocks = max(1, min(n_blocks, n_rows))
    cumulative = np.cumsum(counts, dtype=np.float64)
    targets = cumulative[-1] * np.arange(1, n_blocks) / n_blocks
    cuts = np.searchsorted(cumulative, targets, side="left") + 1
    cuts = np.clip(cuts, np.arange(1, n_blocks), n_rows - n_blocks + np.arange(1, n_blocks))
    cuts = np.maximum.accumulate(np.maximum(cuts, np.arange(1, n_blocks)))
    bounds = np.r_[0, cuts, n_rows].astype(np.int64)
    return bounds[np.r_[True, np.diff(bounds) > 0]]


def build_block(lo, hi, n_cols, duplicates, convert, *pieces):
    """(RowBlock of rows lo..hi, BlockStats) from pieces (rows, cols, values) in input
    order; repeated pairs are combined by ``duplicates`` or, for "error", reported."""
    rows = np.concatenate([piece[0] for piece in pieces]) - lo
    cols = np.concatenate([piece[1] for piece in pieces])
    values = np.concatenate([piece[2] for piece in pieces])
    indptr, indices, data, _ = pairs_to_csr(rows, cols, values, hi - lo)
    first = first_of_each_pair(indptr, indices)
    duplicate = None
    if not first.all():
        if duplicates == "error":
            repeat = int(np.flatnonzero(~first)[0])
            row = int(np.searchsorted(indptr, repeat, side="right")) - 1
            duplicate = (lo + row, int(indices[repeat]))
        else:
            indptr, indices, data, _ = combine_duplicates(duplicates, indptr, indices, data,
                                                          None, first)
    stats = BlockStats(len(data), exact_sum(data), float(data.min()), float(data.max()),
                       int((data < 0).sum()), duplicate)
    return RowBlock(lo, Csr(indptr, indices, convert(data), (hi - lo, n_cols))), stats


class ClusterIds:
    """The raw ids of one side kept on the workers, one array per block (rows ``lo .. hi``
    of the side, each a future): the driver holds their number and the futures. The
    ``IdMap`` of all of them is gathered when first asked for (``gathered``, ``ids``,
    ``index``, ``to_raw``: a one-machine model, validation pairs, an error message that
    names an id), and kept."""

    def __init__(self, waiter, blocks, n):
        self.waiter, self.blocks, self._n, self._map = waiter, list(blocks), int(n), None

    def __len__(self):
        return self._n

    def __repr__(self):
        return f"ClusterIds({self._n} ids in {len(self.blocks)} blocks on the cluster)"

    def gathered(self):
        """The IdMap of every id, in block order."""
        if self._map is None:
            parts = self.waiter.gather(self.blocks, cancel=[])
            self._map = IdMap(np.concatenate(parts))
        return self._map

    ids = property(lambda self: self.gathered().ids)

    def index(self, raw):
        return self.gathered().index(raw)

    def to_raw(self, index):
        return self.gathered().to_raw(index)


def as_id_map(ids):
    """An IdMap of ``ids`` (an IdMap, or ClusterIds gathered)."""
    return ids.gathered() if isinstance(ids, ClusterIds) else ids


class ClusterData:
    """The driver's view of the training data of a distributed fit.

    Holds the id maps, the block boundaries and the futures of the blocks, and reads as
    much like an ``Interactions`` as the fit loop and the fitted model need: ``user_ids``,
    ``item_ids``, ``n_users``, ``n_items``, ``nnz``, ``rating_range``, ``item_info`` and
    ``by_user``, the items each user has seen (gathered from the workers once, when first
    asked for: 4 bytes per rating and 8 per user). ``user_ids`` is an IdMap, gathered when
    first asked for where the ids are on the cluster (``cluster_user_ids``, a
    ``ClusterIds``, or None where the driver had them). ``keep_on_cluster``: the fit leaves
    its factors on the workers (``fit(..., keep_on_cluster=True)``)."""

    keep_on_cluster = False
    ids = None          # from a dask DataFrame: the future of the sorted ids and counts

    def __init__(self, waiter, user_ids, item_ids, user_blocks, item_blocks, user_bounds,
                 item_bounds, stats, item_info=None):
        self.waiter = waiter
        self._user_ids, self.item_ids, self.item_info = user_ids, item_ids, item_info
        self.user_blocks, self.item_blocks = user_blocks, item_blocks
        self.user_bounds, self.item_bounds = user_bounds, item_bounds
        self.nnz = sum(s.nnz for s in stats)
        self.total = sum((s.total for s in stats), 0)
        self.rating_range = (min(s.low for s in stats), max(s.high for s in stats))
        self.negatives = sum(s.negatives for s in stats)
        self._seen = None

    n_users = property(lambda self: len(self._user_ids))
    n_items = property(lambda self: len(self.item_ids))
    user_ids = property(lambda self: as_id_map(self._user_ids))
    cluster_user_ids = property(
        lambda self: self._user_ids if isinstance(self._user_ids, ClusterIds) else None)

    @property
    def mean(self):
        """The mean rating, correctly rounded (as ``exact_mean`` of all the ratings)."""
        return float(self.total / self.nnz)

    @property
    def by_user(self):
        """A Csr of each user's items (its data is a read-only view of ones)."""
        if self._seen is None:
            client = self.waiter.client
            self.waiter.check_open()
            futures = client.map(_structure, self.user_blocks, pure=False)
            parts = self.waiter.gather(futures, cancel=futures)
            counts = np.concatenate([np.diff(indptr) for indptr, _ in parts])
            indptr = np.zeros(self.n_users + 1, dtype=np.int64)
            np.cumsum(counts, out=indptr[1:])
            indices = np.concatenate([indices for _, indices in parts])
            ones = np.broadcast_to(np.float32(1), indices.shape)
            self._seen = Csr(indptr, indices, ones, (self.n_users, self.n_items))
        return self._seen

    def seen_interactions(self):
        """An Interactions of the seen pairs (values 1), for ``fastmf.metrics.evaluate``."""
        return Interactions(self.user_ids, self.item_ids, self.by_user)


def _structure(block):
    return block.R.indptr, block.R.indices


# -- inputs ----------------------------------------------------------------------------
def from_interactions(waiter, data, convert, n_blocks):
    """ClusterData of an Interactions: each block's rows cut from the driver's CSR and
    built by a task that carries them (the scheduler keeps a copy to build it again)."""
    bounds = {"user": balanced_bounds(data.by_user.counts(), n_blocks),
              "item": balanced_bounds(data.by_item.counts(), n_blocks)}
    built = {}
    for side, R in (("user", data.by_user), ("item", data.by_item)):
        built[side] = []
        for b, (lo, hi) in enumerate(zip(bounds[side][:-1], bounds[side][1:])):
            start, stop = R.indptr[lo], R.indptr[hi]
            rows = np.repeat(np.arange(lo, hi, dtype=np.int32), np.diff(R.indptr[lo:hi + 1]))
            piece = (rows, R.indices[start:stop], R.data[start:stop])
            built[side].append(_block_task(lo, hi, R.shape[1], "error", convert, [piece]))
    return _collect(waiter, data.user_ids, data.item_ids, built, bounds, data.item_info)


def from_dask_frame(waiter, frame, columns, duplicates, convert, n_blocks):
    """ClusterData of a dask DataFrame of (user, item[, rating]) columns."""
    import dask

    v.check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
    parts = frame[list(columns)].to_delayed()
    summaries = [dask.delayed(_partition_ids)(part, p) for p, part in enumerate(parts)]
    while len(summaries) > 1:
        summaries = [dask.delayed(_merge_ids)(*summaries[i:i + MERGE_FAN_IN])
                     for i in range(0, len(summaries), MERGE_FAN_IN)]
    ids = waiter.client.compute(summaries[0])
    cut = waiter.client.submit(_cut, ids, n_blocks, pure=False)
    user_bounds, item_ids, item_bounds = waiter.gather([cut], cancel=[ids, cut])[0]
    n_users = int(user_bounds[-1])
    if n_users == 0:
        raise ValueError("the data is empty; at least one rating is needed")
    bounds = {"user": user_bounds, "item": item_bounds}
    n_user_blocks = len(bounds["user"]) - 1
    splits = [dask.delayed(_split_partition, nout=n_user_blocks + len(bounds["item"]) - 1)(
        part, p, ids, bounds["user"], bounds["item"]) for p, part in enumerate(parts)]
    built = {}
    for side, offset, n_cols in (("user", 0, len(item_ids)),
                                 ("item", n_user_blocks, n_users)):
        built[side] = [_block_task(lo, hi, n_cols, duplicates, convert,
                                   [split[offset + b] for split in splits])
                       for b, (lo, hi) in enumerate(zip(bounds[side][:-1], bounds[side][1:]))]
    # each block's ids cut from the sorted ids, on the cluster
    user_ids = ClusterIds(waiter, [
        waiter.client.submit(cut_ids, ids, 0, int(lo), int(hi), pure=False)
        for lo, hi in zip(user_bounds[:-1], user_bounds[1:])], n_users)
    data = _collect(waiter, user_ids, IdMap(item_ids), built, bounds)
    data.ids = ids
    return data


def _cut(ids, n_blocks):
    """(user bounds, item ids, item bounds) of the first pass's sorted ids and counts: the
    rows of each side cut into blocks balanced by ratings (a task: the user ids stay on the
    cluster)."""
    user_ids, user_counts, item_ids, item_counts = ids
    if len(user_ids) == 0:
        return np.zeros(1, np.int64), item_ids, np.zeros(1, np.int64)
    return (balanced_bounds(user_counts, n_blocks), item_ids,
            balanced_bounds(item_counts, n_blocks))


def cut_ids(ids, position, lo, hi, beside=None):
    """Rows lo..hi of the sorted distinct ids of a side (``ids[position]``) that the first
    pass over a dask DataFrame found; ``beside`` only places the task where that block is."""
    return ids[position][lo:hi].copy()


def _block_task(lo, hi, n_cols, duplicates, convert, pieces):
    """The delayed (block, stats) of one block, restricted to no worker: a task restricted
    to workers (allow_other_workers or not) that finds no running worker waits in Dask's
    "no-worker" state until a worker it names comes back, which a lost worker never does.
    Unrestricted, it runs on the first worker that can take it; the tasks that use the block
    run where the block is, their largest input."""
    import dask

    with dask.annotate(retries=3):
        built = dask.delayed(build_block, nout=2, pure=False)(
            int(lo), int(hi), int(n_cols), duplicates, convert, *pieces)
        return built[0], built[1]


def _collect(waiter, user_ids, item_ids, built, bounds, item_info=None):
    """Compute every block in one graph, then check the user blocks' stats."""
    tasks = [task for side in ("user", "item") for pair in built[side] for task in pair]
    with warnings.catch_warnings():        # blocks carried by their tasks make a large graph
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        futures = waiter.client.compute(tasks, optimize_graph=False)
    n_user = 2 * len(built["user"])
    user_blocks, user_stats = futures[0:n_user:2], futures[1:n_user:2]
    item_blocks = futures[n_user::2]
    stats = waiter.gather(user_stats, cancel=futures)
    duplicate = next((s.duplicate for s in stats if s.duplicate is not None), None)
    if duplicate is not None:
        u, i = duplicate
        raise ValueError(f"user {user_ids.ids[u].item()!r} rated item {item_ids.ids[i].item()!r} "
                         f"more than once; pass duplicates='last', 'sum' or 'mean' to combine "
                         f"repeated pairs")
    return ClusterData(waiter, user_ids, item_ids, user_blocks, item_blocks, bounds["user"],
                       bounds["item"], stats, item_info)


# -- the tasks of the two passes over a dask DataFrame --------------------------------------
def _partition_columns(frame, position):
    """(users, items, values) of one partition, validated as ``Interactions.from_arrays``
    validates its arrays; values are 1.0 without a rating column."""
    where = f" (partition {position})"
    try:
        users = v.as_ids("users", frame.iloc[:, 0].to_numpy())
        items = v.as_ids("items", frame.iloc[:, 1].to_numpy())
        if frame.shape[1] > 2:
            values = v.as_ratings("ratings", frame.iloc[:, 2].to_numpy())
        else:
            values = np.ones(len(frame))
    except (TypeError, ValueError) as error:
        raise type(error)(f"{error}{where}") from None
    return users, items, values


def _unique_counts(ids):
    unique, counts = np.unique(ids, return_counts=True)
    return unique, counts.astype(np.int64)


def _partition_ids(frame, position):
    users, items, _ = _partition_columns(frame, position)
    return (*_unique_counts(users), *_unique_counts(items))


def _merge_ids(*summaries):
    """The union of sorted distinct ids with their counts, per side."""
    out = []
    for side in (0, 2):
        ids = [s[side] for s in summaries if len(s[side])]
        if not ids:
            out += [summaries[0][side], summaries[0][side + 1]]
            continue
        kinds = {a.dtype.kind in "iu" for a in ids}
        if len(kinds) > 1:
            raise TypeError(f"{'users' if side == 0 else 'items'} must be all integers or all "
                            f"strings; the partitions mix both")
        unique, inverse = np.unique(np.concatenate(ids), return_inverse=True)
        counts = np.bincount(inverse.ravel(), minlength=len(unique),
                             weights=np.concatenate([s[side + 1] for s in summaries
                                                     if len(s[side])]))
        out += [unique, counts.astype(np.int64)]
    return tuple(out)


def _split_partition(frame, position, ids, user_bounds, item_bounds):
    """The partition's ratings as pieces (rows, cols, values), one per user block then
    one per item block, each in input order."""
    users, items, values = _partition_columns(frame, position)
    uidx = np.searchsorted(ids[0], users).astype(np.int32)
    iidx = np.searchsorted(ids[2], items).astype(np.int32)
    pieces = []
    for rows, cols, bounds in ((uidx, iidx, user_bounds), (iidx, uidx, item_bounds)):
        block = np.searchsorted(bounds, rows, side="right") - 1
        order = np.argsort(block, kind="stable")
        starts = np.searchsorted(block[order], np.arange(len(bounds)))
        for lo, hi in zip(starts[:-1], starts[1:]):
            take = order[lo:hi]
            pieces.append((rows[take], cols[take], values[take]))
    return tuple(pieces)
