"""Saving, loading and pickling models: the same model comes back, damaged files fail clearly."""
import ast
import copy
import io
import json
import os
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import fastmf
from fastmf import ModelFileError, NotFittedError
from fastmf.io import FORMAT_VERSION, model_classes

from .conftest import synthetic

MODELS = {
    "ALS": lambda **kw: fastmf.ALS(**{"factors": 4, "iterations": 3, **kw}),
    "SGD": lambda **kw: fastmf.SGD(**{"factors": 4, "epochs": 4, "num_threads": 1, **kw}),
    "ImplicitALS": lambda **kw: fastmf.ImplicitALS(**{"factors": 4, "iterations": 3, **kw}),
    "BPR": lambda **kw: fastmf.BPR(**{"factors": 4, "epochs": 5, "num_threads": 1, **kw}),
}


def _data(ids="int"):
    """Ratings on 40 users x 30 items, ids as ints or strings, with item titles and genres."""
    data = synthetic()
    users, items, ratings = data.to_arrays()
    if ids == "str":
        users, items = np.char.add("u", users.astype(str)), np.char.add("i", items.astype(str))
    info = fastmf.ItemInfo(np.unique(items), titles=[f"Film {i}" for i in np.unique(items)],
                           genres=np.eye(30, 3, dtype=bool), genre_names=["a", "b", "c"])
    return fastmf.Interactions.from_arrays(users, items, ratings, item_info=info)


def _fit(name, ids="int", **params):
    data = _data(ids)
    train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    model = MODELS[name](**{"verbose": False, "seed": 0, **params}).fit(train, validation=test)
    return model, data


def _same_arrays(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all())


def assert_serves_the_same(model, loaded, data):
    """Same class, params, fitted state and history; identical answers from every method."""
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    assert set(vars(loaded)) == set(vars(model))
    assert loaded.history_ == model.history_ and loaded.n_iter_ == model.n_iter_
    for name in ("user_factors_", "item_factors_", "user_biases_", "item_biases_"):
        if hasattr(model, name):
            assert _same_arrays(getattr(loaded, name), getattr(model, name)), name
    assert all(_same_arrays(a, b) for a, b in zip(loaded._seen, model._seen))
    users, items = data.users[::7], data.items[::7]
    assert _same_arrays(loaded.predict(users, items), model.predict(users, items))
    some_users = data.user_ids.ids[:10]
    for filter_seen in (True, False):
        for a, b in zip(loaded.recommend_batch(some_users, n=5, filter_seen=filter_seen),
                        model.recommend_batch(some_users, n=5, filter_seen=filter_seen)):
            assert _same_arrays(a, b)
        for a, b in zip(loaded.recommend(some_users[0], n=5, filter_seen=filter_seen),
                        model.recommend(some_users[0], n=5, filter_seen=filter_seen)):
            assert _same_arrays(a, b)
    candidates = data.item_ids.ids[:8]
    for a, b in zip(loaded.recommend(some_users[1], n=3, items=candidates),
                    model.recommend(some_users[1], n=3, items=candidates)):
        assert _same_arrays(a, b)
    for a, b in zip(loaded.similar_items(data.item_ids.ids[0], n=4),
                    model.similar_items(data.item_ids.ids[0], n=4)):
        assert _same_arrays(a, b)
    for a, b in zip(loaded.similar_users(some_users[2], n=4), model.similar_users(some_users[2], n=4)):
        assert _same_arrays(a, b)


# -- round trips -------------------------------------------------------------------------
@pytest.mark.parametrize("ids", ["int", "str"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip_serves_identically(tmp_path, name, dtype, ids):
    model, data = _fit(name, ids, dtype=dtype)
    path = model.save(tmp_path / "model.npz")
    loaded = fastmf.load(path)
    assert_serves_the_same(model, loaded, data)
    assert loaded.user_factors_.dtype == np.dtype(dtype)
    assert loaded.user_ids_.ids.dtype.kind == ("U" if ids == "str" else "i")
    assert loaded.recommend(data.user_ids.ids[0], n=2)[0].dtype == data.item_ids.ids.dtype


@pytest.mark.parametrize("cls", sorted(model_classes().values(), key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_every_exported_model_class_round_trips(tmp_path, cls):
    data = _data("str")
    model = cls(**{cls._iterations_param: 2, "factors": 3, "seed": 0, "verbose": False}).fit(data)
    assert_serves_the_same(model, fastmf.load(model.save(tmp_path / "m.npz")), data)


def test_the_ials_parameters_round_trip_and_older_files_load_as_the_hkv_model(tmp_path):
    params = dict(unobserved_weight=0.3, regularization_exponent=0.7, init_std=None)
    model, data = _fit("ImplicitALS", "str", **params)
    loaded = fastmf.load(model.save(tmp_path / "new.npz"))
    assert_serves_the_same(model, loaded, data)
    assert {k: loaded.get_params()[k] for k in params} == params
    # A file written before the parameters existed: its model had α0 = 1 and ν = 0.
    header, arrays = _read(tmp_path / "new.npz")
    for name in ("unobserved_weight", "regularization_exponent"):
        del header["params"][name]
    old = fastmf.load(_write(tmp_path / "old.npz", header, arrays))
    assert old.unobserved_weight == 1.0 and old.regularization_exponent == 0.0
    assert _same_arrays(old.user_factors_, model.user_factors_)
    # The same for a model pickled then.
    state = dict(vars(model))
    del state["unobserved_weight"], state["regularization_exponent"]
    unpickled = fastmf.ImplicitALS.__new__(fastmf.ImplicitALS)
    unpickled.__setstate__(state)
    assert (unpickled.unobserved_weight, unpickled.regularization_exponent) == (1.0, 0.0)


def test_item_titles_and_genres_survive(tmp_path):
    model, data = _fit("ALS", "str")
    loaded = fastmf.load(model.save(tmp_path / "m.npz"))
    items = data.item_ids.ids[:5]
    assert list(loaded.item_info_.title(items)) == [f"Film {i}" for i in items]
    assert loaded.item_info_.genres_of(items[1]) == model.item_info_.genres_of(items[1]) == ["b"]
    assert loaded.item_info_.genre_names == ["a", "b", "c"]


def test_a_model_without_item_info_round_trips(tmp_path):
    model = fastmf.ALS(factors=2, iterations=2, seed=0, verbose=False).fit(synthetic())
    assert model.item_info_ is None
    assert fastmf.load(model.save(tmp_path / "m.npz")).item_info_ is None


@pytest.mark.parametrize("params", [
    {"seed": np.random.default_rng(7)},
    {"seed": np.random.Generator(np.random.Philox(7))},
    {"seed": np.random.SeedSequence(7, spawn_key=(1, 2))},
    {"dtype": np.float64},
    {"dtype": np.dtype("float32")},
    {"factors": np.int64(3), "regularization": np.float32(0.5)},
], ids=["generator", "philox", "seed-sequence", "dtype-type", "dtype", "numpy-scalars"])
def test_parameters_of_every_accepted_kind_survive(tmp_path, params):
    model = fastmf.ALS(iterations=2, verbose=False, **{"factors": 2, **params}).fit(synthetic())
    loaded = fastmf.load(model.save(tmp_path / "m.npz"))
    for name, value in params.items():
        restored = loaded.get_params()[name]
        assert type(restored) is type(value)
        if isinstance(value, np.random.Generator):   # the same stream from here on
            assert restored.integers(0, 2**62, 5).tolist() == value.integers(0, 2**62, 5).tolist()
        elif isinstance(value, np.random.SeedSequence):
            assert restored.generate_state(4).tolist() == value.generate_state(4).tolist()
        else:
            assert restored == value


def test_history_keeps_its_exact_values_and_types(tmp_path):
    model, _ = _fit("ALS")
    loaded = fastmf.load(model.save(tmp_path / "m.npz"))
    for a, b in zip(loaded.history_, model.history_):
        assert list(a) == list(b)
        assert all(type(a[k]) is type(b[k]) and a[k] == b[k] for k in a)


# -- paths ---------------------------------------------------------------------------------
def test_npz_suffix_is_appended_and_load_finds_the_file_by_either_name(tmp_path):
    model, data = _fit("ALS")
    path = model.save(str(tmp_path / "model"))
    assert path == tmp_path / "model.npz" and isinstance(path, Path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    for name in (tmp_path / "model", str(tmp_path / "model.npz")):
        assert_serves_the_same(model, fastmf.load(name), data)


def test_save_overwrites_an_existing_file_with_the_new_model(tmp_path):
    first, _ = _fit("ALS", seed=0)
    second, data = _fit("ALS", seed=1)
    first.save(tmp_path / "m.npz")
    second.save(tmp_path / "m.npz")
    assert_serves_the_same(second, fastmf.load(tmp_path / "m.npz"), data)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_bad_paths_give_clear_errors(tmp_path):
    model, _ = _fit("ALS")
    (tmp_path / "folder.npz").mkdir()
    cases = [
        (lambda: model.save(42), TypeError, "path must be a str or a pathlib.Path, got int"),
        (lambda: model.save(b"m.npz"), TypeError, "path must be a str or a pathlib.Path, got bytes"),
        (lambda: model.save(""), ValueError, "path must name a file, got an empty string"),
        (lambda: model.save(tmp_path / "folder.npz"), IsADirectoryError, "is a directory"),
        (lambda: model.save(tmp_path / "no" / "m.npz"), FileNotFoundError,
         "directory '.*no' does not exist"),
        (lambda: fastmf.load(None), TypeError, "path must be a str or a pathlib.Path, got NoneType"),
        (lambda: fastmf.load(tmp_path / "missing.npz"), FileNotFoundError, "no such model file"),
        (lambda: fastmf.load(tmp_path / "folder"), IsADirectoryError, "is a directory"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    assert sorted(os.listdir(tmp_path)) == ["folder.npz"]


def test_saving_an_unfitted_model_raises_and_writes_nothing(tmp_path):
    with pytest.raises(NotFittedError, match="this SGD instance is not fitted yet"):
        fastmf.SGD().save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


def test_what_a_model_file_cannot_hold_is_refused_before_writing(tmp_path):
    model, _ = _fit("ALS")
    model.set_params(seed=lambda: 0)
    with pytest.raises(TypeError, match="params.seed: a function cannot be saved"):
        model.save(tmp_path / "m.npz")

    class Custom(fastmf.ALS):
        pass

    custom = Custom(factors=2, iterations=1, verbose=False).fit(synthetic())
    with pytest.raises(TypeError, match="only fastmf's model classes can be saved.*Custom; use pickle"):
        custom.save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


# -- atomic writes -------------------------------------------------------------------------
def _fail_midway(handle, **arrays):
    handle.write(b"PK\x03\x04 partial archive")
    raise OSError(28, "No space left on device")


def _interrupt(handle, **arrays):
    handle.write(b"PK\x03\x04")
    raise KeyboardInterrupt


def _fail_rename(source, target):
    raise PermissionError(13, "Permission denied", str(target))


@pytest.mark.parametrize("target, replacement, error", [
    ("numpy.savez", _fail_midway, OSError),
    ("numpy.savez", _interrupt, KeyboardInterrupt),
    ("os.replace", _fail_rename, PermissionError),
], ids=["disk-full", "interrupted", "rename-fails"])
def test_a_failed_save_leaves_the_old_file_untouched_and_no_temporary(tmp_path, monkeypatch,
                                                                      target, replacement, error):
    old, data = _fit("ALS", seed=0)
    path = old.save(tmp_path / "m.npz")
    before = path.read_bytes()
    new, _ = _fit("ALS", seed=1)
    monkeypatch.setattr(target, replacement)
    with pytest.raises(error):
        new.save(path)
    with pytest.raises(error):
        new.save(tmp_path / "fresh.npz")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]
    assert path.read_bytes() == before
    assert_serves_the_same(old, fastmf.load(path), data)


def test_the_file_gets_the_permissions_of_any_new_file(tmp_path):
    model, _ = _fit("ALS")
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    path = model.save(tmp_path / "m.npz")
    assert path.stat().st_mode == reference.stat().st_mode


# -- the format ------------------------------------------------------------------------------
def _read(path):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    return json.loads(arrays.pop("header").tobytes().decode("utf-8")), arrays


def _write(path, header, arrays):
    text = header if isinstance(header, str) else json.dumps(header)
    np.savez(path, header=np.frombuffer(text.encode("utf-8"), np.uint8), **arrays)
    return path


def test_the_file_is_plain_arrays_and_a_json_header(tmp_path):
    model, _ = _fit("ImplicitALS", "str", dtype="float64")
    header, arrays = _read(model.save(tmp_path / "m.npz"))
    assert header["format"] == "fastmf-model" and header["format_version"] == FORMAT_VERSION
    assert header["fastmf_version"] == fastmf.__version__ and header["class"] == "ImplicitALS"
    assert header["params"] == model.get_params()
    assert header["state"]["user_factors_"] == {"__type__": "array", "key": "user_factors_"}
    assert arrays["user_factors_"].dtype == np.float64
    assert arrays["user_ids_"].dtype.kind == "U" and arrays["item_info_.titles"].dtype.kind == "U"
    assert not any(a.dtype.hasobject for a in arrays.values())
    assert set(header["state"]) == {"user_factors_", "item_factors_", "user_ids_", "item_ids_",
                                    "item_info_", "history_", "n_iter_", "_seen"}


# -- damaged and foreign files ----------------------------------------------------------------
class _Tripwire:
    """Unpickling this sets a flag: a reader that unpickles would trip it."""

    tripped = False

    def __reduce__(self):
        return (_trip, ())


def _trip():
    _Tripwire.tripped = True


def _edit(path, header=None, state=None, arrays=None):
    """Rewrite a saved model file with parts of its header and arrays changed."""
    h, a = _read(path)
    h.update(header or {})
    h["state"].update(state or {})
    a.update(arrays or {})
    return _write(path, h, {k: v for k, v in a.items() if v is not None})


DAMAGE = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
                  "the file is damaged or truncated"),
    "empty": (lambda p: p.write_bytes(b""), "not a fastmf model file \\(not an .npz archive\\)"),
    "random-bytes": (lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)),
                     "not a fastmf model file \\(not an .npz archive\\)"),
    "npy-file": (lambda p: p.write_bytes(_npy_bytes(p)),
                 "not a fastmf model file \\(not an .npz archive\\)"),
    "zip-without-header": (lambda p: np.savez(p, user_factors_=np.zeros((2, 2))),
                           "not a fastmf model file \\(the archive has no 'header' entry\\)"),
    "header-not-json": (lambda p: _write(p, "{'class': 'ALS'", {}), "its header is not valid JSON"),
    "header-not-object": (lambda p: _write(p, "[1, 2]", {}), "its header is a JSON list, not an object"),
    "header-not-text": (lambda p: np.savez(p, header=np.arange(3.0)), "its header is not UTF-8 text"),
    "other-format": (lambda p: _edit(p, header={"format": "other"}),
                     "not a fastmf model file \\(its header names the format 'other'"),
    "future-format": (lambda p: _edit(p, header={"format_version": FORMAT_VERSION + 1,
                                                 "fastmf_version": "9.0"}),
                      f"it was written by fastmf 9.0 in format version {FORMAT_VERSION + 1}; this fastmf "
                      f"reads format versions up to {FORMAT_VERSION}: upgrade fastmf"),
    "bad-format-version": (lambda p: _edit(p, header={"format_version": "1"}),
                           "its format version must be a positive integer, got '1'"),
    "unknown-class": (lambda p: _edit(p, header={"class": "os.system"}),
                      "its header names an unknown model class 'os.system'; known classes: ALS, "),
    "missing-state": (lambda p: _edit_without(p, "state"), "its header lacks the key 'state'"),
    "missing-class": (lambda p: _edit_without(p, "class"), "its header lacks the key 'class'"),
    "unknown-param": (lambda p: _edit(p, header={"params": {"rm_rf": True}}),
                      "its header gives parameters \\['rm_rf'\\] that ALS does not have"),
    "not-fitted-attribute": (lambda p: _edit(p, state={"__class__": 1}),
                             "its header names '__class__', which is not a fitted attribute of ALS"),
    "unknown-entry": (lambda p: _edit(p, state={"global_mean_": {"__type__": "eval"}}),
                      "global_mean_ holds an entry of unknown type 'eval'"),
    "missing-array": (lambda p: _edit(p, arrays={"item_factors_": None}),
                      "item_factors_: the array 'item_factors_' is missing from the archive"),
    "shape-mismatch": (lambda p: _edit(p, arrays={"user_factors_": np.zeros((3, 4), np.float32)}),
                       "user_factors_ must be a float32 or float64 matrix with a row per id"),
    "seen-out-of-range": (lambda p: _edit(p, arrays={"_seen.1": _read(p)[1]["_seen.1"] + 1000}),
                          "_seen is not a valid CSR of \\d+ users x \\d+ items"),
    "no-factors": (lambda p: _edit_without(p, "item_factors_", where="state"),
                   "it lacks the fitted attribute item_factors_ that every fitted ALS holds"),
    "pickled-array": (lambda p: _edit(p, arrays={"user_factors_": _pickled_array()}),
                      "the file is damaged or truncated \\(ValueError: member 'user_factors_' "
                      "holds pickled Python objects"),
    "compressed-members": (lambda p: _compress(p),
                           "the file is damaged or truncated \\(ValueError: member '\\S+' is "
                           "compressed \\(\\d+ bytes in the file for \\d+\\); fastmf writes "
                           "members uncompressed"),
    "no-global-mean": (lambda p: _edit_without(p, "global_mean_", where="state"),
                       "it lacks the fitted attribute global_mean_ that every fitted ALS holds"),
    "no-history": (lambda p: (_edit_without(p, "history_", where="state"),
                              _edit_without(p, "_seen", where="state")),
                   "it lacks the fitted attributes _seen, history_ that every fitted ALS holds"),
    "n-iter-beyond-history": (lambda p: _edit(p, state={"n_iter_": 99}),
                              "n_iter_ must be an int from 0 to the \\d+ iterations of "
                              "history_, got 99"),
    "oversized-array-header": (lambda p: _replace_member(p, "_seen.0.npy", _huge_npy_header()),
                               "the file is damaged or truncated \\(ValueError: member '_seen.0' "
                               "holds 144 bytes, its header describes 8000000128\\)"),
}


def _npy_bytes(path):
    np.save(path.with_suffix(".npy"), np.zeros(3))
    return path.with_suffix(".npy").read_bytes()


def _edit_without(path, key, where="header"):
    h, a = _read(path)
    del (h if where == "header" else h["state"])[key]
    return _write(path, h, a)


def _pickled_array():
    array = np.empty(1, dtype=object)
    array[0] = _Tripwire()
    return array


def _huge_npy_header():
    """.npy bytes whose header promises 10⁹ int64 values followed by only two."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "<i8", "fortran_order": False,
                                               "shape": (10**9,)})
    return out.getvalue() + bytes(16)


def _compress(path):
    """The same members, deflated (a zip bomb would be: tiny in the file, huge inflated)."""
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, data in members.items():
            archive.writestr(n, data)


@pytest.mark.parametrize("edit, message", [
    (lambda seed: seed.update(pool_size=10**9), "pool_size 1000000000 is out of range"),
    (lambda seed: seed.update(spawn_key=list(range(10**5))), "holds 100000 values"),
    (lambda seed: seed.update(entropy=2**5000), "an integer of 5001 bits"),
])
def test_a_seed_state_of_unbounded_size_is_refused_at_once(tmp_path, edit, message):
    model = fastmf.ALS(factors=2, iterations=1, seed=np.random.SeedSequence(7), verbose=False)
    path = model.fit(synthetic()).save(tmp_path / "m.npz")
    header, arrays = _read(path)
    edit(header["params"]["seed"])
    _write(path, json.dumps(header), arrays)
    with pytest.raises(ModelFileError, match=message):
        fastmf.load(path)


def _replace_member(path, name, content):
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[name] = content
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_or_foreign_files_raise_model_file_error_naming_file_and_problem(tmp_path, damage):
    model, _ = _fit("ALS")
    path = model.save(tmp_path / "m.npz")
    change, message = DAMAGE[damage]
    change(path)
    if path.with_suffix(".npy").exists():
        path.with_suffix(".npy").unlink()
    _Tripwire.tripped = False
    with pytest.raises(ModelFileError, match=f"cannot load '{re.escape(str(path))}': {message}"):
        fastmf.load(path)
    assert not _Tripwire.tripped
    assert isinstance(ModelFileError("x"), (fastmf.FastMFError, ValueError))


def test_damage_at_any_offset_loads_the_same_model_or_raises_model_file_error(tmp_path):
    model, data = _fit("ImplicitALS", "str")
    path = model.save(tmp_path / "m.npz")
    original = path.read_bytes()
    rng = np.random.default_rng(1)
    outcomes = set()
    for offset in sorted(rng.choice(len(original), 60, replace=False)):
        for damaged in (original[:offset],
                        original[:offset] + bytes([original[offset] ^ 0xFF]) + original[offset + 1:]):
            path.write_bytes(damaged)
            try:
                loaded = fastmf.load(path)
            except ModelFileError:
                outcomes.add("error")
            else:
                outcomes.add("loaded")
                assert _same_arrays(loaded.user_factors_, model.user_factors_)
                assert _same_arrays(loaded.predict(data.users, data.items),
                                    model.predict(data.users, data.items))
    assert "error" in outcomes


# -- pickle ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_pickle_and_deepcopy_give_an_identical_model(name):
    model, data = _fit(name, "str", seed=np.random.default_rng(3))
    for copied in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert copied.seed.bit_generator.state == model.seed.bit_generator.state
        copied.seed = model.seed
        assert_serves_the_same(model, copied, data)
    unfitted = pickle.loads(pickle.dumps(MODELS[name](factors=7)))
    assert unfitted.get_params() == MODELS[name](factors=7).get_params()
    assert not hasattr(unfitted, "item_factors_")


def test_a_loaded_model_pickles_and_saves_again_to_the_same_content(tmp_path):
    model, data = _fit("SGD", "str")
    loaded = fastmf.load(model.save(tmp_path / "a.npz"))
    again = fastmf.load(pickle.loads(pickle.dumps(loaded)).save(tmp_path / "b.npz"))
    assert_serves_the_same(model, again, data)
    (header_a, arrays_a), (header_b, arrays_b) = _read(tmp_path / "a.npz"), _read(tmp_path / "b.npz")
    assert header_a == header_b
    assert arrays_a.keys() == arrays_b.keys()
    assert all(_same_arrays(arrays_a[k], arrays_b[k]) for k in arrays_a)


def test_load_knows_the_classes_fastmf_models_exports_and_models_never_import_io():
    assert model_classes() == {name: getattr(fastmf.models, name) for name in fastmf.models.__all__}
    assert set(model_classes()) == {"ALS", "BPR", "ImplicitALS", "SGD"}
    folder = Path(fastmf.models.__file__).parent
    for source in sorted(folder.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):       # io builds on the models, not inside a function either
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                imported = [node.module] if node.module else [a.name for a in node.names]
                assert "io" not in imported, f"{source.name} imports fastmf.io at module level"
