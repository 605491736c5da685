"""Serving at catalog scale: recommend_all (blocks, files, bounded memory, the CLI), the
approximate index (recall against exact, filters, save/load, staleness) and serving from
several threads."""
import copy
import csv
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import fastmf
from fastmf.cli import main
from fastmf.data import IdMap
from fastmf.exceptions import FastMFWarning


@pytest.fixture(scope="module")
def als():
    data = fastmf.datasets.make_ratings(300, 150, 6000, seed=4)
    return data, fastmf.ALS(factors=8, iterations=3, seed=0, verbose=False).fit(data)


def planted(n_users=400, n_items=3000, k=16, seed=0):
    """An ImplicitALS model whose factors have planted structure (users and items near 50
    taste centres, log-normal popularity), each user with 10 seen items, plus a fitted
    bias-carrying twin (BPR scores x·y + b)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, k))

    def rows(n):
        X = centres[rng.integers(0, 50, n)] + 0.5 * rng.normal(size=(n, k))
        return (X * rng.lognormal(0, 0.3, size=(n, 1))).astype(np.float32)
    model = fastmf.ImplicitALS(factors=k, verbose=False)
    model.user_ids_, model.item_ids_ = IdMap(np.arange(n_users)), IdMap(np.arange(n_items) * 10)
    model.user_factors_, model.item_factors_ = rows(n_users), rows(n_items)
    seen = np.sort(np.stack([rng.choice(n_items, 10, replace=False) for _ in range(n_users)]), axis=1)
    model._seen = (np.arange(0, 10 * n_users + 1, 10, dtype=np.int64), seen.ravel().astype(np.int32))
    model.history_, model.n_iter_ = [], 0
    model._check_loaded_state()
    return model


@pytest.fixture(scope="module")
def indexed():
    model = planted()
    exact = model.recommend_batch(np.arange(400), n=10)
    model.build_index(M=16, ef_construction=80, ef_search=64)
    return model, exact


# -- recommend_all -------------------------------------------------------------------------
def test_recommend_all_equals_recommend_batch_of_every_user_in_any_block_size(als):
    data, model = als
    expected = model.recommend_batch(model.user_ids_.ids, n=6, filter_items=model.item_ids_.ids[:5])
    for batch_size in (1, 7, 4096):
        got = model.recommend_all(6, batch_size=batch_size, filter_items=model.item_ids_.ids[:5])
        np.testing.assert_array_equal(np.ma.getdata(got.items), np.ma.getdata(expected.items))
        np.testing.assert_array_equal(got.counts, expected.counts)
        np.testing.assert_allclose(np.ma.getdata(got.scores), np.ma.getdata(expected.scores),
                                   rtol=1e-6)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_recommend_all_writes_one_line_per_recommendation(als, tmp_path, suffix):
    data, model = als
    allowed = model.item_ids_.ids[:12]                 # some users have fewer than 8 left
    expected = model.recommend_batch(model.user_ids_.ids, n=8, items=allowed)
    path = model.recommend_all(8, batch_size=50, out=tmp_path / f"recs{suffix}", items=allowed)
    if suffix == ".csv":
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        users = np.array([int(r["user"]) for r in rows])
        ranks = np.array([int(r["rank"]) for r in rows])
        items = np.array([int(r["item"]) for r in rows])
        scores = np.array([float(r["score"]) for r in rows])
    else:
        import pyarrow.parquet as pq
        table = pq.read_table(path).to_pydict()
        users, ranks, items, scores = (np.array(table[c]) for c in ("user", "rank", "item", "score"))
    assert len(users) == expected.counts.sum() < 8 * len(model.user_ids_)
    for r, user in enumerate(model.user_ids_.ids):
        mine = users == user
        want_items, want_scores = expected.row(r)
        assert ranks[mine].tolist() == list(range(1, len(want_items) + 1))
        assert items[mine].tolist() == want_items.tolist()
        np.testing.assert_allclose(scores[mine], want_scores, rtol=1e-6)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_interrupted_recommend_all_leaves_the_previous_file_whole(als, tmp_path, suffix,
                                                                     monkeypatch):
    model = als[1]
    path = model.recommend_all(4, batch_size=50, out=tmp_path / f"recs{suffix}")
    before = path.read_bytes()
    blocks = []
    real = type(model)._recommend_rows

    def second_block_interrupted(self, *args):
        blocks.append(1)
        if len(blocks) == 2:
            raise KeyboardInterrupt
        return real(self, *args)
    monkeypatch.setattr(type(model), "_recommend_rows", second_block_interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.recommend_all(9, batch_size=50, out=path)
    assert len(blocks) == 2 and path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]          # no partial file left


def test_recommend_all_refuses_other_files_and_bad_sizes(als, tmp_path):
    model = als[1]
    with pytest.raises(ValueError, match="out must end in .csv or .parquet"):
        model.recommend_all(out=tmp_path / "recs.txt")
    with pytest.raises(ValueError, match="batch_size"):
        model.recommend_all(batch_size=0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.recommend_all(out=tmp_path / "missing" / "recs.csv")


def test_cli_recommend_all_writes_the_file(als, tmp_path):
    model = als[1]
    path = model.save(tmp_path / "model.npz")
    printed = io.StringIO()
    assert main(["recommend", str(path), "--all", "--output", str(tmp_path / "recs.csv"),
                 "-n", "3", "--quiet"], out=printed) == 0
    assert "300 users" in printed.getvalue()
    with open(tmp_path / "recs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = model.recommend(model.user_ids_.ids[0], n=3)[0]
    assert [int(r["item"]) for r in rows[:3]] == first.tolist()
    assert main(["recommend", str(path), "--all"], out=io.StringIO()) == 1      # no --output
    assert main(["recommend", str(path), "--user", "1", "--output", "x.csv"], out=io.StringIO()) == 1


def test_recommend_all_memory_stays_bounded_by_the_block(tmp_path):
    """200k users x 5k items: a score matrix would take 4 GB; the peak resident memory may
    grow by the result blocks and the per-thread scratch only."""
    script = textwrap.dedent(f"""
        import json, resource, sys
        import numpy as np, pyarrow.parquet, fastmf
        from fastmf.data import IdMap
        n_users, n_items, k = 200_000, 5_000, 8
        rng = np.random.default_rng(0)
        model = fastmf.ImplicitALS(factors=k, verbose=False)
        model.user_ids_, model.item_ids_ = IdMap(np.arange(n_users)), IdMap(np.arange(n_items))
        model.user_factors_ = rng.normal(size=(n_users, k)).astype(np.float32)
        model.item_factors_ = rng.normal(size=(n_items, k)).astype(np.float32)
        model._seen = (np.zeros(n_users + 1, np.int64), np.zeros(0, np.int32))
        model.history_, model.n_iter_ = [], 0
        model._check_loaded_state()
        model.recommend_all(10, batch_size=2048, out={str(tmp_path / 'warm.parquet')!r},
                            verbose=False)       # libraries loaded, allocator warm
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        model.recommend_all(10, batch_size=2048, out={str(tmp_path / 'recs.parquet')!r},
                            verbose=False)
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        rows = pyarrow.parquet.read_metadata({str(tmp_path / 'recs.parquet')!r}).num_rows
        print(json.dumps({{"grown": grown, "rows": rows, "matrix": n_users * n_items * 4}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={"OMP_NUM_THREADS": "2", "PATH": "",      # the fastmf under test
                               **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}},
                          check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["rows"] == 200_000 * 10
    assert got["grown"] < got["matrix"] / 40          # 100 MB of a 4 GB matrix


# -- the approximate index ---------------------------------------------------------------
def test_index_recalls_the_exact_top_n_with_exact_scores_and_every_filter(indexed):
    model, exact = indexed
    approx = model.recommend_batch(np.arange(400), n=10)
    recall = np.mean([len(set(approx.row(r)[0]) & set(exact.row(r)[0])) / 10 for r in range(400)])
    assert recall >= 0.95
    assert (approx.counts == 10).all()
    scores = model.score_users(np.arange(400))
    indptr, seen = model._seen
    for r in range(0, 400, 37):
        items, got = approx.row(r)
        iidx = model.item_ids_.index(items)
        np.testing.assert_allclose(got, scores[r, iidx], rtol=1e-5, atol=1e-5)   # k = 64, float32
        assert not set(iidx) & set(seen[indptr[r]:indptr[r + 1]].tolist())
        assert (np.diff(got) <= 0).all()
    ids = model.item_ids_.ids
    blocked, allowed = ids[:1500], ids[1000:2200]
    filtered = model.recommend_batch(np.arange(50), n=10, filter_items=blocked[::2],
                                     items=np.r_[allowed, blocked])
    for r in range(50):
        items = filtered.row(r)[0]
        assert len(items) == 10 and not set(items) & set(blocked[::2])
        assert set(items) <= set(allowed) | set(blocked)
    assert model.recommend(0, n=10, exact=True)[0].tolist() == exact.row(0)[0].tolist()


def test_index_serves_similar_items_without_the_query_and_new_users(indexed):
    model, _ = indexed
    ids = model.item_ids_.ids
    hits = 0
    for item in ids[:200:10]:
        approx = model.similar_items(item, n=10)[0]
        exact = model.similar_items(item, n=10, exact=True)[0]
        assert item not in approx and len(approx) == 10
        hits += len(set(approx) & set(exact))
    assert hits / 200 >= 0.95
    history = ids[[3, 50, 700]]
    found = model.recommend_new_user(history, n=10, filter_items=ids[:100])[0]
    assert len(found) == 10 and not set(found) & (set(history) | set(ids[:100]))


def test_index_rows_that_run_short_are_ranked_exactly():
    model = planted(n_users=20, n_items=300, seed=3)
    model.build_index(M=4, ef_construction=8, ef_search=1, similar_items=False)
    ids = model.item_ids_.ids
    got = model.recommend_batch(np.arange(20), n=290, filter_items=ids[:5])
    exact = model.recommend_batch(np.arange(20), n=290, filter_items=ids[:5], exact=True)
    np.testing.assert_array_equal(got.counts, exact.counts)
    assert (got.counts < 290).all()                        # 300 less the seen and filtered
    for r in range(20):
        assert set(got.row(r)[0]) == set(exact.row(r)[0])


def test_index_saves_loads_and_pickles_with_the_model(indexed, tmp_path):
    model, _ = indexed
    expected = model.recommend_batch(np.arange(100), n=10)
    loaded = fastmf.load(model.save(tmp_path / "model.npz"))
    assert repr(loaded.ann_index_) == repr(model.ann_index_)
    for again in (loaded, pickle.loads(pickle.dumps(model))):
        got = again.recommend_batch(np.arange(100), n=10)
        np.testing.assert_array_equal(np.ma.getdata(got.items), np.ma.getdata(expected.items))
        assert again.similar_items(0, n=5)[0].tolist() == model.similar_items(0, n=5)[0].tolist()
    assert not hasattr(loaded.drop_index(), "ann_index_")
    fastmf.load(loaded.save(tmp_path / "plain.npz"))     # saves and loads without one too


def test_a_stale_index_warns_once_ranks_exactly_and_is_not_saved(tmp_path):
    model = planted(n_users=30, n_items=500, seed=5)
    model.build_index(M=8, similar_items=False)
    model.item_factors_ = model.item_factors_ * np.float32(2)   # as a new fit would
    with pytest.warns(FastMFWarning, match="build_index"):
        got = model.recommend(0, n=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.recommend(0, n=5)[0].tolist() == got[0].tolist()
    assert got[0].tolist() == model.recommend(0, n=5, exact=True)[0].tolist()
    path = model.save(tmp_path / "model.npz")          # warned once already
    assert not hasattr(fastmf.load(path), "ann_index_")


def test_copies_pickles_and_files_never_use_an_index_of_other_factors(tmp_path):
    data = fastmf.datasets.make_counts(200, 600, 6000, seed=4)
    model = fastmf.ImplicitALS(factors=8, iterations=3, seed=0, verbose=False).fit(data)
    model.build_index(M=8, similar_items=False)
    users, items, counts = data.to_arrays()
    model.partial_fit_items(items, users, counts * 7 + 1)   # every item solved anew
    with pytest.warns(FastMFWarning, match="build_index"):   # the model itself knows
        model.recommend(0)
    twins = {"deepcopy": copy.deepcopy(model), "pickle": pickle.loads(pickle.dumps(model)),
             "file": fastmf.load(model.save(tmp_path / "model.npz"))}
    for name, twin in twins.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = twin.recommend_batch(np.arange(50), n=10)
        exact = model.recommend_batch(np.arange(50), n=10, exact=True)
        np.testing.assert_array_equal(np.ma.getdata(got.items), np.ma.getdata(exact.items))
        assert name == "file" or "build_index" in str(caught[0].message), name
    fresh = copy.deepcopy(model.build_index(M=8, similar_items=False))   # an index that fits
    assert fresh._ann_index("recommend") is not None


def test_a_model_file_whose_index_holds_other_vectors_is_refused(tmp_path):
    model = planted(n_users=30, n_items=400, seed=6)
    other = planted(n_users=30, n_items=400, seed=7).build_index(M=8)
    model.build_index(M=8)
    model.ann_index_._graphs = other.ann_index_._graphs      # a forged file's graphs
    model.ann_index_.digest = fastmf.models._ann.fingerprint(model.item_factors_,
                                                             model._item_bias())
    path = model.save(tmp_path / "forged.npz")
    with pytest.raises(fastmf.ModelFileError, match="graph holds other vectors"):
        fastmf.load(path)


def test_a_copy_taken_while_a_partial_fit_runs_waits_for_it():
    data = fastmf.datasets.make_counts(100, 300, 3000, seed=1)
    model = fastmf.ImplicitALS(factors=4, iterations=2, seed=0, verbose=False).fit(data)
    inside, release = threading.Event(), threading.Event()
    real = fastmf.models._coldstart._seen_with

    def paused(*args):                   # the partial fit holds the lock here
        inside.set()
        release.wait(30)
        return real(*args)
    copies = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fastmf.models._coldstart, "_seen_with", paused)
        writer = threading.Thread(target=model.partial_fit_users, args=([10**6], [0]))
        writer.start()
        assert inside.wait(30)
        reader = threading.Thread(target=lambda: copies.append(copy.deepcopy(model)))
        reader.start()
        reader.join(0.5)
        waited = reader.is_alive()        # it must wait for the partial fit to finish
        release.set()
        writer.join(30)
        reader.join(30)
    assert waited
    twin = copies[0]
    assert len(twin.user_ids_) == len(twin.user_factors_) == data.n_users + 1
    assert len(twin._seen[0]) == data.n_users + 2


def test_build_index_checks_its_parameters(indexed):
    model, _ = indexed
    with pytest.raises(ValueError, match="kind must be one of 'hnsw'"):
        model.build_index(kind="ivf")
    with pytest.raises(ValueError, match="M must be"):
        model.build_index(M=1)


# -- threads -----------------------------------------------------------------------------
def test_serving_from_many_threads_matches_serial_answers_with_and_without_the_index(indexed):
    model, _ = indexed
    users = np.arange(0, 400, 7)
    expected = {(exact, u): model.recommend(u, n=10, exact=exact)[0].tolist()
                for exact in (False, True) for u in users}
    similar = {i: model.similar_items(i, n=5)[0].tolist() for i in model.item_ids_.ids[:20]}
    failures = []

    def serve(seed):
        rng = np.random.default_rng(seed)
        for _ in range(30):
            u, exact = int(rng.choice(users)), bool(rng.integers(2))
            if model.recommend(u, n=10, exact=exact)[0].tolist() != expected[(exact, u)]:
                failures.append(("recommend", u, exact))
            i = int(rng.choice(model.item_ids_.ids[:20]))
            if model.similar_items(i, n=5)[0].tolist() != similar[i]:
                failures.append(("similar", i))
            batch = model.recommend_batch(users[:8], n=10)
            if [batch.row(r)[0].tolist() for r in range(8)] != [expected[(False, u)] for u in users[:8]]:
                failures.append(("batch",))
    threads = [threading.Thread(target=serve, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
