"""fastmf.distributed on a real LocalCluster (2 worker processes, 1 thread each): the
distributed fit equals the one-machine fit from the same seed, bit for bit, whatever the
input, the blocks and the failures on the way."""
import os
import pickle
import signal
import subprocess
import sys
import time

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import fastmf
import fastmf.distributed as fd
from fastmf.exceptions import ModelFitError


@pytest.fixture(scope="module")
def ratings():
    """More than 2 x 4096 users, so that Gram chunks lie whole inside a block and across two."""
    data = fastmf.datasets.make_ratings(9000, 700, 60_000, seed=3)
    return fastmf.train_test_split(data, test_size=0.1, seed=0)


def _assert_same_fit(local, dist):
    for name in ("user_factors_", "item_factors_", "user_biases_", "item_biases_"):
        if hasattr(local, name):
            np.testing.assert_array_equal(getattr(dist, name), getattr(local, name), err_msg=name)
            assert getattr(dist, name).dtype == getattr(local, name).dtype
    for name in ("global_mean_", "rating_range_"):
        if hasattr(local, name):
            assert getattr(dist, name) == getattr(local, name)
    np.testing.assert_array_equal(dist.user_ids_.ids, local.user_ids_.ids)
    np.testing.assert_array_equal(dist.item_ids_.ids, local.item_ids_.ids)
    for got, want in zip(dist._seen, local._seen):
        np.testing.assert_array_equal(got, want)
    strip = lambda history: [{k: v for k, v in r.items() if k != "seconds"} for r in history]  # noqa: E731
    assert strip(dist.history_) == strip(local.history_)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("model, params", [
    ("ALS", {"weighted": 0.5}),
    ("ALS", {"weighted": 0.0, "blocks_per_worker": 2}),
    ("ImplicitALS", {"solver": "cholesky"}),
    ("ImplicitALS", {"solver": "cg", "blocks_per_worker": 2}),
    ("ImplicitALS", {"solver": "cholesky", "unobserved_weight": 4.0,   # some weights < 0
                     "regularization_exponent": 0.5, "regularization": 0.01}),
    ("ImplicitALS", {"solver": "cg", "unobserved_weight": 0.2, "regularization_exponent": 1.0,
                     "regularization": 0.001, "blocks_per_worker": 2}),
    ("ImplicitALS", {"solver": "block", "block_size": 7, "blocks_per_worker": 2}),
])
def test_distributed_fit_equals_the_one_machine_fit(client, ratings, dtype, model, params):
    train, val = ratings
    common = dict(factors=24, iterations=4, dtype=dtype, seed=0, verbose=False)
    local_params = {k: v for k, v in params.items() if k != "blocks_per_worker"}
    local = getattr(fastmf, model)(**common, **local_params).fit(train, validation=val)
    dist = getattr(fd, model)(**common, **params, checkpoint_every=3, client=client)
    dist.fit(train, validation=val)
    _assert_same_fit(local, dist)
    assert isinstance(dist, getattr(fastmf, model))


def test_the_stacking_arrays_are_reused_within_a_fit_and_freed_after_it(client, ratings):
    def spares():
        from fastmf.distributed._tasks import _SPARES
        return len(_SPARES)

    during = []
    dist = fd.ImplicitALS(factors=8, iterations=3, seed=0, verbose=False, client=client)
    dist.fit(ratings[0], callbacks=[lambda record: during.append(client.run(spares))])
    # kept between the iterations by the workers that stacked (the scheduler may run both
    # blocks of a side on one worker)
    assert all(any(count > 0 for count in counts.values()) for counts in during)
    deadline = time.monotonic() + 30              # freed without the driver waiting for it
    while any(client.run(spares).values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(client.run(spares).values())


def test_stacked_gives_the_concatenation_in_an_array_it_reuses():
    from fastmf.distributed._tasks import _SPARES, FactorBlock, release_spares, stacked
    rng = np.random.default_rng(0)
    blocks = [FactorBlock(0, rng.standard_normal((n, 5)), rng.standard_normal(n))
              for n in (3, 4, 2)]
    with stacked(blocks, "X", "bias") as (X, bias):
        np.testing.assert_array_equal(X, np.vstack([b.X for b in blocks]))
        np.testing.assert_array_equal(bias, np.concatenate([b.bias for b in blocks]))
        first = X.ctypes.data
        assert first % 64 == 0 and len(_SPARES) == 0
    assert len(_SPARES) == 2
    blocks[0].X[:] = 7.0
    with stacked(blocks, "X") as (X,):                    # the same memory, filled afresh
        assert X.ctypes.data == first
        np.testing.assert_array_equal(X, np.vstack([b.X for b in blocks]))
    for n in range(6):                                    # at most MAX kept: the last ones
        with stacked([FactorBlock(0, np.zeros((n + 1, 2))), FactorBlock(0, np.ones((1, 2)))],
                     "X"):
            pass
    assert len(_SPARES) == _SPARES.MAX
    with stacked([blocks[0]], "X", "penalty") as (X, penalty):   # one block: itself
        assert X is blocks[0].X and penalty is None
    import asyncio
    asyncio.run(release_spares())
    assert len(_SPARES) == 0


def _string_frame(data):
    users, items, ratings = data.to_arrays()
    order = np.random.default_rng(1).permutation(len(users))
    return pd.DataFrame({"user": [f"u{u}" for u in users[order]],
                         "item": [f"film {i}" for i in items[order]], "stars": ratings[order]})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_dask_frame_of_files_with_string_ids(client, ratings, tmp_path, fmt):
    train, _ = ratings
    frame = _string_frame(train)
    for k, rows in enumerate(np.array_split(np.arange(len(frame)), 5)):
        part = frame.iloc[rows]
        if fmt == "csv":
            part.to_csv(tmp_path / f"part{k}.csv", index=False)
        else:
            part.to_parquet(tmp_path / f"part{k}.parquet")
    files = (dd.read_csv(str(tmp_path / "part*.csv")) if fmt == "csv"
             else dd.read_parquet(str(tmp_path)))
    assert files.npartitions == 5
    data = fastmf.Interactions.from_arrays(frame.user.to_numpy(), frame.item.to_numpy(),
                                           frame.stars.to_numpy())
    local = fastmf.ALS(factors=8, iterations=3, seed=1, verbose=False).fit(data)
    dist = fd.ALS(factors=8, iterations=3, seed=1, verbose=False)       # the default client
    dist.fit(files, columns=("user", "item", "stars"))
    _assert_same_fit(local, dist)
    assert dist.recommend("u3", n=3)[0].tolist() == local.recommend("u3", n=3)[0].tolist()
    implicit = fd.ImplicitALS(factors=8, iterations=2, seed=1, verbose=False)
    implicit.fit(files[["user", "item"]].rename(columns={"item": "film"}),
                 columns=("user", "film"))
    ones = fastmf.Interactions.from_arrays(frame.user.to_numpy(), frame.item.to_numpy())
    _assert_same_fit(fastmf.ImplicitALS(factors=8, iterations=2, seed=1, verbose=False).fit(ones),
                     implicit)


def test_repeated_pairs_in_a_frame(client):
    frame = pd.DataFrame({"user": [1, 2, 1, 3, 2, 1], "item": [5, 5, 5, 6, 7, 6],
                          "rating": [1.0, 2.0, 4.0, 3.0, 5.0, 2.0]})
    parts = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(ValueError, match="user 1 rated item 5 more than once; pass duplicates="):
        fd.ALS(factors=2, iterations=2, verbose=False).fit(parts)
    for policy in ("sum", "mean", "last"):
        local = fastmf.ALS(factors=2, iterations=3, seed=0, verbose=False).fit(
            fastmf.Interactions.from_arrays(frame.user, frame.item, frame.rating, duplicates=policy))
        dist = fd.ALS(factors=2, iterations=3, seed=0, verbose=False).fit(parts, duplicates=policy)
        _assert_same_fit(local, dist)


def test_bad_input_is_refused_with_a_clear_error(client, ratings):
    train, _ = ratings
    nan = pd.DataFrame({"user": [1, 2, 3, 4], "item": [1, 1, 2, 2], "rating": [1, 2, np.nan, 4]})
    with pytest.raises(ValueError, match=r"ratings contain 1 NaN values .*\(partition 1\)"):
        fd.ALS(verbose=False).fit(dd.from_pandas(nan, npartitions=2))
    frame = dd.from_pandas(nan.fillna(3), npartitions=2)
    with pytest.raises(KeyError, match="column 'stars' is not in the DataFrame"):
        fd.ALS(verbose=False).fit(frame, columns=("user", "item", "stars"))
    with pytest.raises(ValueError, match="ALS needs ratings"):
        fd.ALS(verbose=False).fit(frame[["user", "item"]])
    with pytest.raises(ValueError, match="implicit data must be counts >= 0; found 1 negative"):
        fd.ImplicitALS(verbose=False).fit(dd.from_pandas(nan.fillna(-1.0), npartitions=2))
    with pytest.raises(ValueError, match="item_features is not supported"):
        fd.ALS(item_features="genres", verbose=False).fit(train)
    with pytest.raises(ValueError, match="blocks_per_worker must be an integer >= 1, got 0"):
        fd.ALS(blocks_per_worker=0, verbose=False).fit(train)
    with pytest.raises(ValueError, match=r"timeout must be a float > 0.0, got 0.0"):
        fd.ALS(timeout=0, verbose=False).fit(train)
    with pytest.raises(ValueError, match="timeout must be finite, got inf"):
        fd.ImplicitALS(timeout=float("inf"), verbose=False).fit(train)
    with pytest.raises(TypeError, match="timeout must be a number, got '60'"):
        fd.ALS(timeout="60", verbose=False).fit(train)
    with pytest.raises(AttributeError, match="fastmf.distributed has no SGD: Hogwild SGD trains"):
        fd.SGD
    with pytest.raises(TypeError, match="train must be a fastmf.Interactions"):
        fd.ALS(verbose=False).fit([1, 2, 3])


def test_a_lost_worker_is_rebuilt_and_the_fit_ends_the_same(client, ratings):
    train, _ = ratings
    local = fastmf.ALS(factors=16, iterations=6, seed=0, verbose=False).fit(train)
    for checkpoint_every in (None, 2):
        client.wait_for_workers(2)
        pids = sorted(client.run(os.getpid).values())

        def kill(record):
            if record["iteration"] == 3:        # rating blocks, factors of iterations 1-3 lost
                os.kill(pids[0], signal.SIGKILL)

        dist = fd.ALS(factors=16, iterations=6, seed=0, verbose=False,
                      checkpoint_every=checkpoint_every).fit(train, callbacks=[kill])
        _assert_same_fit(local, dist)
    client.wait_for_workers(2)


def test_a_failed_row_raises_model_fit_error_and_keeps_the_earlier_fit(client):
    data = fastmf.datasets.make_ratings(60, 40, 400, seed=2)
    model = fd.ALS(factors=4, iterations=2, seed=0, verbose=False).fit(data)
    before = model.item_factors_.copy()
    model.set_params(factors=30, regularization=0.0, bias_regularization=0.0)
    local = fastmf.ALS(factors=30, iterations=2, regularization=0.0, bias_regularization=0.0,
                       seed=0, verbose=False)
    with pytest.raises(ModelFitError) as expected:
        local.fit(data)
    with pytest.raises(ModelFitError) as error:
        model.fit(data)
    assert str(error.value) == str(expected.value)
    assert str(error.value).startswith("Cholesky failed for user ")
    np.testing.assert_array_equal(model.item_factors_, before)


def test_early_stopping_and_the_fitted_model_as_a_one_machine_model(client, ratings, tmp_path):
    train, val = ratings
    params = dict(factors=16, regularization=0.01, iterations=12, early_stopping=2, seed=0,
                  verbose=False)
    local = fastmf.ALS(**params).fit(train, validation=val)
    dist = fd.ALS(**params, client=client).fit(train, validation=val)
    assert dist.n_iter_ < 12
    _assert_same_fit(local, dist)
    loaded = fastmf.load(dist.save(tmp_path / "model"))
    assert type(loaded) is fastmf.ALS
    assert loaded.get_params() == local.get_params()
    users, items = val.users[:50], val.items[:50]
    np.testing.assert_array_equal(loaded.predict(users, items), local.predict(users, items))
    again = pickle.loads(pickle.dumps(dist))
    assert again.client is None and again.n_iter_ == dist.n_iter_
    np.testing.assert_array_equal(again.fold_in([1, 2], [5.0, 1.0])[0],
                                  local.fold_in([1, 2], [5.0, 1.0])[0])
    assert type(dist.to_local()) is fastmf.ALS


def test_parameters_clone_like_the_one_machine_class(client):
    model = fd.ImplicitALS(factors=8, checkpoint_every=None, client=client)
    params = model.get_params()
    assert params["factors"] == 8 and params["client"] is client
    assert params["blocks_per_worker"] == 1 and params["checkpoint_every"] is None
    assert params["timeout"] == 300.0
    assert fd.ImplicitALS(**params).get_params() == params
    assert repr(model).startswith("ImplicitALS(factors=8, client=")
    assert "checkpoint_every=None" in repr(model)
    with pytest.raises(TypeError):
        fd.ALS(8)                                 # keyword-only, as its signature says


CHILD = """
import signal, numpy as np, fastmf, fastmf.distributed as fd
from distributed import Client, LocalCluster
signal.signal(signal.SIGINT, signal.default_int_handler)
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
    client = Client(cluster)
    data = fastmf.datasets.make_ratings(20000, 4000, 1_000_000, seed=0)
    model = fd.ALS(factors=32, iterations=5000, seed=0, verbose=False)
    def ready(record):
        if record["iteration"] == 1:
            print("ready", flush=True)
    try:
        model.fit(data, callbacks=[ready])
    except KeyboardInterrupt:
        print("interrupted after", model.n_iter_, "iterations", flush=True)
        local = fastmf.ALS(factors=32, iterations=model.n_iter_, seed=0, verbose=False).fit(data)
        print("same", np.array_equal(local.user_factors_, model.user_factors_))
        print("left running", sum(len(v) for v in client.processing().values()))
    client.close()
    cluster.close()
"""


def test_ctrl_c_cancels_the_tasks_and_keeps_the_last_iteration(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0
    lines = out.splitlines()
    assert lines[0].startswith("interrupted after") and int(lines[0].split()[2]) >= 1
    assert lines[1:] == ["same True", "left running 0"]


def test_importing_fastmf_does_not_import_dask():
    code = "import sys, fastmf; print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
