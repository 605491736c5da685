"""A fastmf.distributed model that keeps its factors on the cluster (fit(...,
keep_on_cluster=True), fastmf.distributed.load): gathered, saved and loaded, recommending
for every user and evaluated on the workers, with the one-machine model, recommend_all and
evaluate as the expected values; a worker killed during recommend_all costs time only."""
import json
import os
import pickle
import signal
import threading
import time

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import fastmf
import fastmf.distributed as fd
from fastmf.distributed._data import ClusterIds
from fastmf.exceptions import ModelFileError, NotFittedError, UnknownIdError

from . import reference
from .test_distributed import _assert_same_fit
from .test_distributed_faults import watchdog  # noqa: F401  (autouse: a hang fails the test)

COMMON = dict(factors=8, iterations=3, seed=0, verbose=False)


@pytest.fixture(scope="module")
def split():
    data = fastmf.datasets.make_ratings(3000, 400, 30_000, seed=4)
    return fastmf.train_test_split(data, test_size=0.2, seed=0)


@pytest.fixture(scope="module")
def fitted(client, split):
    """(one-machine model, the same model kept on the cluster) per class."""
    train, _ = split
    return {name: (getattr(fastmf, name)(**COMMON).fit(train),
                   getattr(fd, name)(**COMMON, blocks_per_worker=2, client=client)
                   .fit(train, keep_on_cluster=True))
            for name in ("ALS", "ImplicitALS")}


def _read(path):
    return pd.read_parquet(path).sort_values(["user", "rank"]).reset_index(drop=True)


# -- the model on the cluster, gathered ------------------------------------------------
@pytest.mark.parametrize("model, params, frame", [
    ("ALS", {"dtype": "float64"}, False),
    ("ALS", {"blocks_per_worker": 2}, True),
    ("ImplicitALS", {"solver": "cg", "blocks_per_worker": 2}, False),
    ("ImplicitALS", {}, True),
])
def test_to_local_gathers_the_one_machine_fit_bit_for_bit(client, split, tmp_path, model, params,
                                                          frame):
    train, val = split
    local_params = {k: v for k, v in params.items() if k != "blocks_per_worker"}
    validation = val if model == "ALS" else None
    local = getattr(fastmf, model)(**COMMON, **local_params).fit(train, validation=validation)
    data = dd.from_pandas(train.to_dataframe(), npartitions=3) if frame else train
    dist = getattr(fd, model)(**COMMON, **params, client=client)
    assert dist.fit(data, validation=validation, keep_on_cluster=True) is dist
    for name in ("user_factors_", "item_factors_", "user_biases_", "item_biases_", "_seen"):
        assert name not in vars(dist)                 # nothing of O(users x k) on the driver
    if frame:               # from a dask DataFrame the user ids never reach the driver
        assert isinstance(dist.user_ids_, ClusterIds) and len(dist.user_ids_) == train.n_users
        dist.save(tmp_path / "model")
        got = _read(dist.recommend_all(n=5, out=tmp_path / "recs"))
        assert dist.user_ids_._map is None
        expected = _read(local.recommend_all(n=5, out=tmp_path / "one.parquet"))
        pd.testing.assert_frame_equal(got[expected.columns], expected)
    _assert_same_fit(local, dist.to_local())
    assert type(dist.to_local()) is type(local)
    _assert_same_fit(local, fastmf.load(dist.save(tmp_path / "model")))   # ids from the blocks
    with pytest.raises(NotFittedError, match="keeps its factors on the cluster .*to_local"):
        dist.recommend(train.user_ids.ids[0])
    with pytest.raises(TypeError, match="a pickle cannot hold; save"):
        pickle.dumps(dist)


def test_a_later_fit_replaces_the_state_on_either_side(client, split):
    train, _ = split
    local = fastmf.ALS(**COMMON).fit(train)
    model = fd.ALS(**COMMON, client=client).fit(train)
    model.fit(train, keep_on_cluster=True)
    assert "user_factors_" not in vars(model)
    model.fit(train)
    assert "_cluster" not in vars(model)
    _assert_same_fit(local, model)


def test_a_worker_killed_during_a_fit_kept_on_the_cluster_costs_time_only(client, split):
    train, _ = split
    local = fastmf.ALS(**COMMON).fit(train)
    client.wait_for_workers(2)
    pids = sorted(client.run(os.getpid).values())

    def kill(record):
        if record["iteration"] == 2:          # no checkpoint: rebuilt from the fit's start
            os.kill(pids[0], signal.SIGKILL)

    dist = fd.ALS(**COMMON, client=client, timeout=60)
    dist.fit(train, callbacks=[kill], keep_on_cluster=True)
    _assert_same_fit(local, dist.to_local())
    client.wait_for_workers(2)


def test_keep_on_cluster_refusals(client, split):
    train, val = split
    with pytest.raises(TypeError, match="keep_on_cluster must be True or False, got 'yes'"):
        fd.ALS(**COMMON).fit(train, keep_on_cluster="yes")
    with pytest.raises(ValueError, match="ranks its validation data on the driver"):
        fd.ImplicitALS(**COMMON).fit(train, validation=val, keep_on_cluster=True)
    for name in ("ALS", "ImplicitALS"):
        with pytest.raises(ValueError, match=f"user_features is not supported by "
                                             f"fastmf.distributed.{name}; fit fastmf.{name}"):
            getattr(fd, name)(**COMMON, user_features="x").fit(train)
        with pytest.raises(ValueError, match="item_features is not supported"):
            getattr(fd, name)(**COMMON, item_features="genres").fit(train)


# -- save and load ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ALS", "ImplicitALS"])
def test_save_then_load_on_the_cluster_and_on_one_machine(client, fitted, tmp_path, name):
    local, dist = fitted[name]
    path = dist.save(tmp_path / "model")
    assert sorted(os.listdir(tmp_path)) == ["model"]           # no temporary left
    assert sorted(os.listdir(path)) == ["item-00000.npz", "item-00001.npz", "item-00002.npz",
                                        "item-00003.npz", "manifest.json", "meta.npz",
                                        "user-00000.npz", "user-00001.npz", "user-00002.npz",
                                        "user-00003.npz"]
    one = fastmf.load(path)
    assert type(one) is type(local) and one.get_params() == local.get_params()
    _assert_same_fit(local, one)
    again = fd.load(path, client=client)
    assert type(again) is type(dist) and again.get_params()["factors"] == 8
    assert isinstance(again.user_ids_, ClusterIds) and again.user_ids_._map is None
    _assert_same_fit(local, again.to_local())
    again.save(path)                             # over the earlier directory
    _assert_same_fit(local, fastmf.load(path))
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_item_titles_and_a_seed_generator_go_through_the_directory(client, tmp_path):
    data = fastmf.datasets.toy()                 # string ids, item titles
    params = dict(factors=2, iterations=2, verbose=False, seed=np.random.default_rng(3))
    local = fastmf.ALS(**{**params, "seed": np.random.default_rng(3)}).fit(data)
    dist = fd.ALS(**params, client=client).fit(data, keep_on_cluster=True)
    one = fastmf.load(dist.save(tmp_path / "model"))
    _assert_same_fit(local, one)
    np.testing.assert_array_equal(one.item_info_.titles, data.item_info.titles)
    assert one.recommend("Bob", n=2)[0].tolist() == local.recommend("Bob", n=2)[0].tolist()
    again = fd.load(tmp_path / "model", client=client)
    np.testing.assert_array_equal(again.item_info_.titles, data.item_info.titles)


def test_save_refuses_a_path_that_is_not_a_model_directory(fitted, tmp_path):
    _, dist = fitted["ALS"]
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="exists and is not a fastmf model directory"):
        dist.save(tmp_path / "notes")
    assert os.listdir(tmp_path / "notes") == ["keep.txt"]
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        dist.save(tmp_path / "missing" / "model")
    assert sorted(os.listdir(tmp_path)) == ["notes"]


def _rewrite_block(path, **changes):
    with np.load(path) as archive:
        arrays = dict(archive)
    arrays.update({key: change(arrays[key]) for key, change in changes.items()})
    os.remove(path)
    np.savez(path, **arrays)


def _edit_manifest(path, change):
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


DAMAGE = [
    ("manifest not JSON", lambda p: (p / "manifest.json").write_text("{"), "not valid JSON"),
    ("a newer format", lambda p: _edit_manifest(p, lambda m: m.update(format_version=9)),
     "upgrade fastmf"),
    ("rows that do not add up", lambda p: _edit_manifest(
        p, lambda m: m["blocks"]["user"].__setitem__(0, m["blocks"]["user"][0] + 1)),
     "user blocks that do not add up"),
    ("a huge block", lambda p: _edit_manifest(
        p, lambda m: m.update(n_users=2**40)), "no valid 'n_users'"),
    ("too many factors", lambda p: _edit_manifest(p, lambda m: m.update(factors=2**40)),
     "no valid 'factors'"),
    ("a block missing", lambda p: os.remove(p / "item-00001.npz"), "'item-00001.npz' is missing"),
    ("a block truncated", lambda p: (p / "user-00002.npz").write_bytes(
        (p / "user-00002.npz").read_bytes()[:300]), "damaged or truncated"),
    ("factors of the wrong shape", lambda p: _rewrite_block(
        p / "user-00001.npz", factors=lambda a: a[:3]), "'factors' has shape"),
    ("seen items out of range", lambda p: _rewrite_block(
        p / "user-00000.npz", seen_indices=lambda a: np.full_like(a, 10**6)),
     "not a valid CSR"),
    ("non-finite factors", lambda p: _rewrite_block(
        p / "item-00000.npz", factors=lambda a: a * np.nan), "must be finite"),
    ("an unknown class", lambda p: _edit_manifest(p, lambda m: m.update({"class": "SGD"})),
     "SGD"),
]


@pytest.mark.parametrize("what, damage, message", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_a_damaged_directory_raises_model_file_error(client, fitted, tmp_path, what, damage,
                                                     message):
    _, dist = fitted["ALS"]
    path = dist.save(tmp_path / "model")
    damage(path)
    with pytest.raises(ModelFileError, match=message):
        fastmf.load(path)
    with pytest.raises(ModelFileError, match=message):
        fd.load(path, client=client)


# -- recommend_all -------------------------------------------------------------------------
FILTERS = [
    {},
    {"filter_seen": False, "filter_items": [3, 5, 7], "min_item_count": 40},
    {"items": list(range(0, 400, 3)), "n": 150},
]


@pytest.mark.parametrize("name", ["ALS", "ImplicitALS"])
@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("item_blocks", [False, True])
def test_recommend_all_on_the_cluster_equals_the_one_machine_one(fitted, tmp_path, name, filters,
                                                                 item_blocks):
    local, dist = fitted[name]
    filters = dict(filters)
    n = filters.pop("n", 10)
    expected = _read(local.recommend_all(n=n, out=tmp_path / "one.parquet", **filters))
    out = dist.recommend_all(n=n, out=tmp_path / "recs", batch_size=100, item_blocks=item_blocks,
                             **filters)
    assert sorted(os.listdir(out)) == ["_SUCCESS"] + [f"part-0000{b}.parquet" for b in range(4)]
    got = _read(out)
    # the same items in the same order; a score's product may round differently in the last
    # bit, as the users ranked together (and with item_blocks an allow list's items) differ
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_exact=False, rtol=1e-6,
                                  atol=1e-6)
    assert not got.duplicated(["user", "rank"]).any()


def test_recommend_all_replaces_its_earlier_output_and_refuses_bad_input(fitted, tmp_path,
                                                                        capsys):
    local, dist = fitted["ALS"]
    out = dist.recommend_all(n=2, out=tmp_path / "recs", verbose=True)
    shown = capsys.readouterr().err               # the progress bar, over the 4 user blocks
    assert "recommend_all: 100%" in shown and "4/4" in shown
    assert len(pd.read_parquet(out)) == 2 * len(local.user_ids_)
    dist.recommend_all(n=3, out=out)
    assert len(pd.read_parquet(out)) == 3 * len(local.user_ids_)
    (tmp_path / "other").mkdir()
    bad = [({"out": None}, ValueError, "pass out= a directory"),
           ({"out": tmp_path / "r.csv"}, ValueError, "got the CSV file"),
           ({"out": tmp_path / "other"}, FileExistsError, "not an earlier recommend_all output"),
           ({"out": tmp_path / "r", "n": 0}, ValueError, "n must be an integer >= 1"),
           ({"out": tmp_path / "r", "filter_items": [10**6]}, UnknownIdError, "not known"),
           ({"out": tmp_path / "r", "min_item_count": -1}, ValueError, "min_item_count"),
           ({"out": tmp_path / "r", "item_blocks": "yes"}, TypeError, "item_blocks must be")]
    for kwargs, error, message in bad:
        with pytest.raises(error, match=message):
            dist.recommend_all(**kwargs)
    assert sorted(os.listdir(tmp_path)) == ["other", "recs"]
    assert len(pd.read_parquet(out)) == 3 * len(local.user_ids_)


def _gate(folder):
    """Make recommend_all's block tasks on this worker wait for a file ``go`` in ``folder``
    after leaving a file that names this process."""
    from fastmf.distributed import _recommend
    original = getattr(_recommend.recommend_block, "original", _recommend.recommend_block)

    def gated(*args):
        open(os.path.join(folder, f"started-{os.getpid()}"), "w").close()
        while not os.path.exists(os.path.join(folder, "go")):
            time.sleep(0.01)
        return original(*args)
    gated.original = original
    _recommend.recommend_block = gated


def _ungate():
    from fastmf.distributed import _recommend
    _recommend.recommend_block = getattr(_recommend.recommend_block, "original",
                                         _recommend.recommend_block)


def test_a_worker_killed_during_recommend_all_costs_time_only(client, split, tmp_path):
    train, _ = split
    local = fastmf.ImplicitALS(**COMMON).fit(train)
    dist = fd.ImplicitALS(**COMMON, blocks_per_worker=2, client=client, timeout=60)
    dist.fit(train, keep_on_cluster=True)
    expected = _read(local.recommend_all(n=5, out=tmp_path / "one.parquet"))
    client.wait_for_workers(2)
    gates = tmp_path / "gates"
    gates.mkdir()
    client.run(_gate, str(gates))
    killed = []

    def kill_the_first_worker_that_starts():
        while not killed:
            started = [f for f in os.listdir(gates) if f.startswith("started-")]
            if started:
                pid = int(started[0].split("-")[1])
                os.kill(pid, signal.SIGKILL)       # its blocks and its running task are lost
                killed.append(pid)
            time.sleep(0.005)
        (gates / "go").touch()

    killer = threading.Thread(target=kill_the_first_worker_that_starts)
    killer.start()
    try:
        out = dist.recommend_all(n=5, out=tmp_path / "recs")
    finally:
        killer.join()
        client.wait_for_workers(2)
        client.run(_ungate)
    assert killed and killed[0] not in client.run(os.getpid).values()
    got = _read(out)
    pd.testing.assert_frame_equal(got[expected.columns], expected)
    assert not got.duplicated(["user", "rank"]).any()
    assert sorted(os.listdir(out)) == ["_SUCCESS"] + [f"part-0000{b}.parquet" for b in range(4)]


# -- evaluate ------------------------------------------------------------------------------
def _string_test(test):
    """The test pairs with string ids, and pairs of a user and an item the model never saw."""
    users, items, _ = test.to_arrays()
    frame = pd.DataFrame({"user": [f"u{u}" for u in users], "item": [f"i{i}" for i in items]})
    extra = pd.DataFrame({"user": ["stranger", "u1", "stranger"], "item": ["i1", "new", "i2"]})
    return pd.concat([frame, extra], ignore_index=True)


@pytest.mark.parametrize("name", ["ALS", "ImplicitALS"])
@pytest.mark.parametrize("exclude_seen, item_blocks", [(True, False), (False, False),
                                                       (True, True), (False, True)])
def test_evaluate_on_the_cluster_equals_the_one_machine_evaluate(client, split, name,
                                                                 exclude_seen, item_blocks):
    train, test = split
    users, items, ratings = train.to_arrays()
    named = fastmf.Interactions.from_arrays([f"u{u}" for u in users], [f"i{i}" for i in items],
                                            ratings)
    local = getattr(fastmf, name)(**COMMON).fit(named)
    dist = getattr(fd, name)(**COMMON, blocks_per_worker=2, client=client)
    dist.fit(dd.from_pandas(named.to_dataframe(), npartitions=3), keep_on_cluster=True)
    frame = _string_test(test)
    expected = fastmf.metrics.evaluate(
        local, fastmf.Interactions.from_arrays(frame.user, frame.item), k=(5, 10),
        train=named if exclude_seen else None)
    # item blocks: 4 of them, each user block's test users ranked in batches of 7
    got = fd.evaluate(dist, dd.from_pandas(frame, npartitions=3), k=(5, 10),
                      exclude_seen=exclude_seen, item_blocks=item_blocks,
                      batch_size=7 if item_blocks else 1024)
    assert list(got) == list(expected)
    assert dist.user_ids_._map is None          # the user ids stayed on the workers
    assert (got["users"], got["users_skipped"]) == (expected["users"], expected["users_skipped"])
    assert expected["users_skipped"] >= 1                         # the stranger
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-12, abs=0), key


def test_evaluate_refuses_bad_input(client, fitted, split):
    local, dist = fitted["ALS"]
    _, test = split
    frame = dd.from_pandas(test.to_dataframe(), npartitions=2)
    with pytest.raises(TypeError, match="must keep its factors on a cluster"):
        fd.evaluate(local, frame)
    with pytest.raises(KeyError, match="column 'film' is not in the test DataFrame"):
        fd.evaluate(dist, frame, columns=("user", "film"))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        fd.evaluate(dist, frame, k=0)
    with pytest.raises(TypeError, match="test must be a dask DataFrame"):
        fd.evaluate(dist, test.to_dataframe())
    with pytest.raises(TypeError, match="item_blocks must be True, False or None"):
        fd.evaluate(dist, frame, item_blocks="yes")
    strangers = dd.from_pandas(pd.DataFrame({"user": [10**6], "item": [1]}), npartitions=1)
    with pytest.raises(ValueError, match="none of the 1 test users"):
        fd.evaluate(dist, strangers)


def test_recommend_all_ranks_by_item_blocks_where_the_items_would_crowd_a_worker():
    """item_blocks=None: by item blocks where the item factors, put together, would take
    more than a quarter of the smallest worker memory limit (limits of 0 are no limits)."""
    from types import SimpleNamespace

    from fastmf.distributed._recommend import _items_too_large

    def cluster(n_items, *limits):
        workers = {str(w): {"memory_limit": limit} for w, limit in enumerate(limits)}
        return SimpleNamespace(item_bounds=np.array([0, n_items]), factors=64,
                               dtype=np.dtype(np.float32),
                               client=SimpleNamespace(scheduler_info=lambda: {"workers": workers}))
    gb = 10**9
    assert _items_too_large(cluster(1_000_000, 2 * gb, 0.9 * gb))      # 256 MB > 225 MB
    assert not _items_too_large(cluster(1_000_000, 2 * gb, 1.1 * gb))  # 256 MB < 275 MB
    assert not _items_too_large(cluster(10**9, 0, 0))                  # no limits


def test_item_block_ranks_merge_as_the_whole_catalog_ranks(tmp_path):
    """rank_block along the item blocks, each merging into the best of those before, then
    write_ranked: each user's best n of the whole catalog, ties between blocks to the lower
    item index (items 3 and 9 have the same factors; user 0 scores every item 0), as numpy's
    stable sort ranks them; a block without users gives no rows."""
    from fastmf.data import IdMap
    from fastmf.distributed._recommend import rank_block, write_ranked
    from fastmf.distributed._tasks import FactorBlock
    from fastmf.models._topn import Filter

    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(30, 4)).astype(np.float32), rng.normal(size=(14, 4)).astype(np.float32)
    Y[9] = Y[3]
    X[0] = 0
    filt = Filter(None, np.array([5], np.int32))
    user, best = FactorBlock(0, X), None
    for lo, hi in ((0, 4), (4, 11), (11, 14)):
        best = rank_block(user, None, FactorBlock(lo, Y[lo:hi]), filt, 6, 7, None, 1, best)
    written = write_ranked(str(tmp_path), 0, np.arange(30) + 100, IdMap(np.arange(14) + 50), 7,
                           best)
    got = pd.read_parquet(tmp_path / "part-00000.parquet")
    valid = np.ones((30, 14), bool)
    valid[:, 5] = False
    ref_items, ref_scores = reference.top_n(X.astype(np.float64) @ Y.T.astype(np.float64), valid, 6)
    assert written == 30 * 6
    np.testing.assert_array_equal(got["item"].to_numpy().reshape(30, 6), ref_items + 50)
    np.testing.assert_allclose(got["score"].to_numpy().reshape(30, 6), ref_scores, atol=1e-6)
    np.testing.assert_array_equal(got["user"].to_numpy(), np.repeat(np.arange(30) + 100, 6))
    empty = rank_block(FactorBlock(0, X[:0]), None, FactorBlock(0, Y), filt, 6, 7, None, 1)
    assert empty[0].shape == (0, 6) and empty[1].shape == (0, 6)


def test_evaluate_by_item_blocks_counts_ties_across_blocks_as_the_whole_catalog():
    """The tasks of evaluate by item blocks (pair_scores, sorted_probes, a chain of
    rank_part, block_metrics) give what evaluate_block gives against the whole catalog, on
    small integer factors where scores tie within and across the item blocks (a block of
    one item among them) and with users that have seen most items."""
    from fastmf.data import Csr
    from fastmf.distributed._data import RowBlock
    from fastmf.distributed._evaluate import (block_metrics, evaluate_block, pair_scores,
                                              rank_part, sorted_probes, test_pairs)
    from fastmf.distributed._tasks import FactorBlock

    rng = np.random.default_rng(5)
    n_users, n_items, k = 40, 23, 3
    X = rng.integers(-1, 2, (n_users, k)).astype(np.float32)
    Y = rng.integers(-1, 2, (n_items, k)).astype(np.float32)
    user_bias = rng.integers(-1, 2, n_users).astype(np.float32)
    item_bias = rng.integers(-1, 2, n_items).astype(np.float32)
    seen = (rng.random((n_users, n_items)) < np.where(np.arange(n_users)[:, None] < 5, 0.8, 0.2))
    test = (rng.random((n_users, n_items)) < 0.25) & ~seen
    test[7] = False                                          # a user without test items
    rows, cols = np.nonzero(seen)
    R = Csr(np.r_[0, np.cumsum(seen.sum(1))].astype(np.int64), cols.astype(np.int32),
            np.ones(len(cols), np.float32), (n_users, n_items))
    tu, ti = np.nonzero(test)
    split = [(np.unique(tu), [tu.astype(np.int64) * n_items + ti])]
    user = FactorBlock(0, X, user_bias)
    bounds = np.array([0, 9, 10, 16, n_items])
    parts = [FactorBlock(int(lo), Y[lo:hi], item_bias[lo:hi])
             for lo, hi in zip(bounds[:-1], bounds[1:])]
    ks, names = (3, 20), ("precision", "recall", "ndcg", "map", "coverage", "auc")
    for block in (RowBlock(0, R), None):
        whole = evaluate_block(0, user, block, (Y, item_bias), n_items, 0.5, ks, names, 6, 1,
                               *split)
        pairs = test_pairs(0, block, n_items, *split)
        probes = sorted_probes(pairs, bounds, *[pair_scores(user, c, pairs, 0.5, 1)
                                                for c in parts])
        ranked = None
        for c in parts:
            ranked = rank_part(user, c, pairs, probes, 0.5, max(ks), 6, 1, ranked)
        got = block_metrics(pairs, ranked, ks, names, 6)
        assert got[0] == whole[0] and got[2] == whole[2]
        for kk in ks:
            np.testing.assert_array_equal(got[1][kk], whole[1][kk])


def test_item_blocks_is_checked_on_a_model_on_this_machine_too():
    with pytest.raises(TypeError, match="item_blocks must be True, False or None"):
        fd.ALS(verbose=False).recommend_all(2, item_blocks="yes")
