"""No input, parameter or model file crashes the interpreter or gives a silently wrong
result: each probe runs as a user would run it and must end in a result or a named
exception. The crashes run in a child process, where a signal exit fails the test."""
import json
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import fastmf
from fastmf import Interactions
from fastmf.exceptions import FastMFWarning, ModelFileError

THREE = "fastmf.Interactions.from_arrays([1, 2, 3], [1, 2, 3], [1.0, 2.0, 3.0])"
SMALL = "fastmf.datasets.make_ratings(60, 40, 500, seed=0)"


def _run_child(body, address_space=None, env=None):
    """Run ``body`` in a fresh Python (under an address-space limit in bytes, if given);
    it prints the name of the exception it ends with."""
    limit = ""
    if address_space:
        limit = (f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({address_space}, "
                 f"{address_space}))\n")
    code = (f"{limit}import fastmf, numpy as np\ntry:\n{textwrap.indent(body, '    ')}\n"
            f"    print('no error')\nexcept Exception as error:\n"
            f"    print(type(error).__name__ + ': ' + str(error))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env)


GB = 1 << 30
CRASHES = {
    "huge factors, ALS": (f"fastmf.ALS(factors=10**6, verbose=False).fit({THREE})", None,
                          "MemoryError: solving rows of 1000000 factors"),
    "huge factors, ALS, 4 GB": (f"fastmf.ALS(factors=10**5, verbose=False).fit({THREE})", 4 * GB,
                                "MemoryError: solving rows of 100000 factors"),
    "huge factors, ImplicitALS, 4 GB": (f"fastmf.ImplicitALS(factors=20000, verbose=False).fit({THREE})",
                                        4 * GB, "MemoryError: solving rows of 20000 factors"),
    "factor matrices beyond memory": (f"fastmf.SGD(factors=10**9, verbose=False).fit({THREE})",
                                      None, "MemoryError: SGD on 3 ratings (6 rows of 1000000000 "
                                      "factors, the ratings laid out in blocks) needs about"),
    "scratch allocation fails inside the parallel region": (textwrap.dedent("""\
        from fastmf import _core
        k = 12000                                   # a k x k system per thread: 580 MB each
        Y, X = np.zeros((1, k), np.float32), np.zeros((1, k), np.float32)
        one = np.ones(1, np.float32)
        _core.als_half_step(np.array([0, 1], np.int64), np.zeros(1, np.int32), one, Y, one, np.float32(0),
                            one, np.float32(1), np.zeros((0, k), np.float32), X, one.copy(), 2)"""),
        int(1.2 * GB), "MemoryError: std::bad_alloc"),
    "SGD's fit beyond what the process can still map": (textwrap.dedent("""\
        rng = np.random.default_rng(0)
        n = 3_000_000
        data = fastmf.Interactions.from_arrays(rng.integers(0, 100_000, n), rng.integers(0, 20_000, n),
                                               rng.integers(1, 6, n).astype(float), duplicates="last")
        fastmf.SGD(factors=256, epochs=1, verbose=False).fit(data)"""), int(0.49 * GB),
        "MemoryError: SGD on 2997732 ratings (120000 rows of 256 factors, the ratings laid out "
        "in blocks) needs about"),
    "100000 threads, fit": (f"fastmf.ALS(num_threads=100000, verbose=False).fit({THREE})", None,
                            "ValueError: num_threads must be at most"),
    "2**31 threads, fit": (f"fastmf.BPR(num_threads=2**31, verbose=False).fit({THREE})", None,
                           "ValueError: num_threads must be at most"),
    "100000 threads set after the fit": (
        f"model = fastmf.ALS(factors=4, verbose=False).fit({SMALL})\n"
        "model.num_threads = 100000\nmodel.predict([0], [0])", None,
        "ValueError: num_threads must be at most"),
    "40000 threads set after the fit, recommend": (
        f"model = fastmf.ALS(factors=4, verbose=False).fit({SMALL})\n"
        "model.num_threads = 40000\nmodel.recommend_batch([0, 1], n=3)", None,
        "ValueError: num_threads must be at most"),
}


@pytest.mark.parametrize("probe", CRASHES)
def test_what_used_to_crash_raises_a_named_error(probe):
    body, address_space, expected = CRASHES[probe]
    outcome = _run_child(body, address_space)
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    assert outcome.stdout.strip().startswith(expected), outcome.stdout


def test_omp_num_threads_beyond_the_cap_is_capped():
    import os
    body = (f"model = fastmf.ALS(factors=2, iterations=2, verbose=False).fit({THREE})\n"
            "print(fastmf._core.max_threads(), fastmf._core.thread_cap())")
    outcome = _run_child(body, env={**os.environ, "OMP_NUM_THREADS": "100000"})
    assert outcome.returncode == 0, outcome.stderr[-2000:]
    threads, cap = outcome.stdout.split()[:2]
    assert threads == cap and outcome.stdout.strip().endswith("no error")


# -- model files ------------------------------------------------------------------------------
def _edited(tmp_path, edit_header=None, edit_arrays=None):
    """A saved model file with its header or arrays edited, as a hand or a bug might."""
    model = fastmf.ALS(factors=3, iterations=2, seed=0, verbose=False).fit(
        fastmf.datasets.make_ratings(30, 20, 200, seed=1))
    path = model.save(tmp_path / "model")
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(arrays["header"].tobytes().decode())
    if edit_header:
        edit_header(header)
    if edit_arrays:
        edit_arrays(arrays)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    return path


def _set_param(name, value):
    return lambda header: header["params"].__setitem__(name, value)


def _set_state(name, value):
    return lambda header: header["state"].__setitem__(name, value)


def _array(key, change):
    def edit(arrays):
        arrays[key] = change(arrays[key].copy())
    return edit


def _nan_first(a):
    a.flat[0] = np.nan
    return a


EDITS = {
    "num_threads 70000": (_set_param("num_threads", 70000), None, "num_threads must be at most"),
    "negative factors": (_set_param("factors", -3), None, "factors must be an integer >= 1"),
    "iterations -1": (_set_param("iterations", -1), None, "iterations must be an integer >= 1"),
    "dtype object": (_set_param("dtype", "object"), None, "dtype must be 'float32' or 'float64'"),
    "junk generator state": (_set_param("seed", {"__type__": "Generator", "state": "junk"}), None,
                             "params.seed: invalid Generator entry"),
    "global mean NaN": (_set_state("global_mean_", float("nan")), None,
                        "global_mean_ must be a finite number"),
    "NaN factors": (None, _array("user_factors_", _nan_first), "user_factors_ holds non-finite"),
    "NaN biases": (None, _array("item_biases_", _nan_first), "item_biases_ holds non-finite"),
    "duplicated user ids": (None, _array("user_ids_", lambda ids: np.r_[ids[:1], ids[:-1]]),
                            "user_ids_ lists an id more than once"),
    "rating range reversed": (_set_state("rating_range_", {"__type__": "tuple", "items": [5.0, 1.0]}),
                              None, "rating_range_ must be \\(low, high\\)"),
}


@pytest.mark.parametrize("probe", EDITS)
def test_an_edited_model_file_is_refused_by_name(tmp_path, probe):
    edit_header, edit_arrays, message = EDITS[probe]
    path = _edited(tmp_path, edit_header, edit_arrays)
    with pytest.raises(ModelFileError, match=f"cannot load '{path}': .*{message}"):
        fastmf.load(path)


def test_an_unedited_model_file_still_loads(tmp_path):
    assert isinstance(fastmf.load(_edited(tmp_path)), fastmf.ALS)


# -- ids and files -----------------------------------------------------------------------------
@pytest.mark.parametrize("ids, message", [
    ([2**63 - 1, -2**63, 2**64 - 1], "the id 18446744073709551615 .* does not fit a 64-bit"),
    (np.array([2**64 - 1, 1], dtype=np.uint64), "does not fit a 64-bit signed integer"),
    ([1e19, 2.0], "float id 1e\\+19 .* beyond 2\\^53"),
    (np.array([2.0**53 + 2, 1.0]), "beyond 2\\^53"),
])
def test_ids_that_do_not_fit_int64_are_refused(ids, message):
    with pytest.raises(ValueError, match=message):
        Interactions.from_arrays(ids, [1] * len(ids))


def test_ids_at_the_edges_of_int64_stay_apart():
    data = Interactions.from_arrays([2**63 - 1, -2**63, 0], [1, 2, 3])
    assert data.n_users == 3 and data.user_ids.ids.dtype == np.int64
    assert Interactions.from_arrays([2.0**53, 1.0], [1, 2]).n_users == 2


@pytest.mark.parametrize("header", [False, True])
def test_a_csv_byte_order_mark_is_skipped(tmp_path, header):
    path = tmp_path / "bom.csv"
    text = ("user,item,rating\n" if header else "") + "1,10,4\n2,11,5\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    columns = ("user", "item", "rating") if header else (0, 1, 2)
    data = Interactions.from_csv(path, header=header, columns=columns)
    assert data.user_ids.ids.tolist() == [1, 2] and data.user_ids.ids.dtype == np.int64


def test_a_csv_in_another_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("user,item\nJosé,x\nZoë,y\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv, line 2: not utf-8 text .*encoding="):
        Interactions.from_csv(path, header=True, columns=("user", "item", None))
    data = Interactions.from_csv(path, header=True, columns=("user", "item", None),
                                 encoding="latin-1")
    assert data.user_ids.ids.tolist() == ["José", "Zoë"]


def test_ids_with_leading_zeros_warn_and_can_stay_text(tmp_path):
    path = tmp_path / "zeros.csv"
    path.write_text("007,1,4\n7,2,5\n08,1,3\n")
    with pytest.warns(FastMFWarning, match="user ids written apart are the same integer "
                                           "\\(e.g. '007' and 7\\); pass id_dtype='str'"):
        merged = Interactions.from_csv(path)
    assert merged.n_users == 2
    kept = Interactions.from_csv(path, id_dtype="str")
    assert kept.user_ids.ids.tolist() == ["007", "08", "7"]


def test_combined_duplicates_that_overflow_are_refused():
    with pytest.raises(ValueError, match="combining repeated pairs by 'sum' overflowed"):
        Interactions.from_arrays([1, 1], [2, 2], [-1.7e308, -1.7e308], duplicates="sum")


@pytest.mark.parametrize("model_class", [fastmf.ALS, fastmf.SGD, fastmf.ImplicitALS, fastmf.BPR])
def test_predict_with_ids_of_the_wrong_kind_raises(model_class):
    data = Interactions.from_arrays(["a", "b", "c"], ["x", "y", "x"], [1.0, 2.0, 3.0])
    model = _small(model_class).fit(data)
    with pytest.raises(TypeError, match="users are integers, but the model's user ids are strings"):
        model.predict([1], ["x"])
    with pytest.raises(TypeError, match="items are integers, but the model's item ids are strings"):
        model.predict(["a"], [10])


def _small(model_class):
    name = model_class._iterations_param
    return model_class(factors=2, **{name: 1}, verbose=False)


# -- threads -----------------------------------------------------------------------------------
def test_partial_fits_from_two_threads_lose_no_user():
    data = fastmf.datasets.make_ratings(100, 50, 1500, seed=0)
    model = fastmf.ALS(factors=4, iterations=2, seed=0, verbose=False).fit(data)
    start = threading.Barrier(2)

    def add(first):
        start.wait()
        for user in range(first, first + 30):
            model.partial_fit_users([user, user], [0, 1], [5.0, 3.0])

    threads = [threading.Thread(target=add, args=(first,)) for first in (1000, 2000)]
    readers_failed = []

    def read():
        for _ in range(200):
            try:
                model.recommend_batch(model.user_ids_.ids[:5], n=3)
                model.predict([1000, 2010], [0, 1])
            except Exception as error:           # anything but a clean result fails the test
                readers_failed.append(error)

    reader = threading.Thread(target=read)
    for thread in threads + [reader]:
        thread.start()
    for thread in threads + [reader]:
        thread.join()
    added = set(model.user_ids_.ids.tolist()) - set(data.user_ids.ids.tolist())
    assert added == set(range(1000, 1030)) | set(range(2000, 2030))
    assert len(model.user_factors_) == len(model.user_ids_) == data.n_users + 60
    assert readers_failed == []


# -- model selection -----------------------------------------------------------------------------
def test_grid_search_scores_a_failed_point_and_goes_on():
    data = fastmf.datasets.make_ratings(100, 60, 1500, seed=0)
    model = fastmf.SGD(factors=4, epochs=3, num_threads=1, seed=0, verbose=False)
    grid = {"learning_rate": [0.01, 1e30]}           # the second diverges
    with pytest.warns(FastMFWarning, match=r"GridSearch: \{'learning_rate': 1e\+30\} failed and "
                                           r"scores nan: ModelFitError: SGD diverged"):
        search = fastmf.GridSearch(model, grid, cv=2, seed=0).fit(data)
    assert search.best_params_ == {"learning_rate": 0.01}
    assert np.isnan(search.results_["mean_test_rmse"][1])
    with pytest.raises(fastmf.ModelFitError, match="SGD diverged"):
        fastmf.GridSearch(model, grid, cv=2, seed=0, error_score="raise").fit(data)
    with pytest.raises(ValueError, match="error_score must be 'raise' or a number"):
        fastmf.GridSearch(model, grid, error_score="ignore").fit(data)


def test_a_truncated_model_file_is_refused(tmp_path):
    path = _edited(tmp_path)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ModelFileError, match="damaged or truncated"):
        fastmf.load(path)
