"""Fuzzing the entry points a user or a file reaches: whatever goes in, what comes out is a
result or one of fastmf's documented exceptions, never a crash or an undocumented error.

The examples come from hypothesis under the profile of conftest.py: "ci" (fixed examples,
derandomized, the default) or, with FASTMF_HYPOTHESIS=long, many more random ones.
"""
import io
import json
import re
import warnings
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastmf
from fastmf import Interactions
from fastmf.exceptions import ModelFileError, UnknownIdError

# What a bad input may raise (documented): ValueError and TypeError and their subclasses
# (UnknownIdError, ModelFileError, NotFittedError), KeyError for a missing column,
# MemoryError for what cannot fit.
ALLOWED = (ValueError, TypeError, KeyError, MemoryError)
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

scalars = st.one_of(
    st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4), st.booleans(), st.none(), st.binary(max_size=3))
ids = st.one_of(
    st.lists(st.integers(-2**64, 2**64), max_size=8),
    st.lists(st.floats(allow_nan=True), max_size=8),
    st.lists(st.text(max_size=3), max_size=8),
    st.lists(scalars, max_size=8),
    st.sampled_from([np.int8, np.uint64, np.float16, np.float64, np.bool_, np.complex64,
                     np.int64]).flatmap(
        lambda dtype: st.lists(st.integers(0, 300), min_size=0, max_size=8).map(
            lambda xs: np.array(xs).astype(dtype))),
)
values = st.one_of(st.none(), st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=8),
                   st.lists(scalars, max_size=8), st.lists(st.integers(-10, 10), max_size=8))


@settings(deadline=None)
@given(users=ids, items=ids, ratings=values,
       duplicates=st.sampled_from(["error", "last", "sum", "mean", "max"]))
def test_from_arrays_gives_interactions_or_a_documented_error(users, items, ratings, duplicates):
    try:
        data = Interactions.from_arrays(users, items, ratings, duplicates=duplicates)
    except ALLOWED:
        return
    assert data.nnz >= 1 and np.isfinite(data.ratings).all()
    assert len(data.user_ids) == len(np.unique(data.user_ids.ids))


@settings(deadline=None, suppress_health_check=HEALTH)
@given(content=st.one_of(st.binary(max_size=200),
                         st.lists(st.lists(st.text(max_size=5), max_size=4), max_size=6).map(
                             lambda rows: "\n".join(",".join(r) for r in rows).encode())),
       header=st.booleans(), bom=st.booleans(),
       columns=st.sampled_from([(0, 1, 2), (0, 1, None), (0, 1), ("user", "item", "r"), (2, 0, 1, 3)]),
       id_dtype=st.sampled_from(["auto", "str"]))
def test_from_csv_gives_interactions_or_a_documented_error(tmp_path, content, header, bom,
                                                           columns, id_dtype):
    path = tmp_path / "fuzz.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + content)
    try:
        data = Interactions.from_csv(path, header=header, columns=columns, id_dtype=id_dtype)
    except ALLOWED:
        return
    assert data.nnz >= 1


@settings(deadline=None)
@given(shape=st.tuples(st.integers(0, 6), st.integers(0, 6)),
       density=st.floats(0, 1), fill=st.sampled_from([1.0, np.nan, np.inf, -3.0, 0.0]),
       dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_]))
def test_from_sparse_gives_interactions_or_a_documented_error(shape, density, fill, dtype):
    matrix = sp.random(*shape, density=density, format="coo", random_state=0)
    matrix.data[: len(matrix.data) // 2] = fill
    with np.errstate(invalid="ignore"):          # the test's own cast of NaN to integers
        matrix = matrix.astype(dtype)
    try:
        data = Interactions.from_sparse(matrix)
    except ALLOWED:
        return
    assert data.nnz >= 1


@pytest.fixture(scope="module")
def fitted():
    data = fastmf.datasets.make_ratings(40, 30, 400, seed=0)
    return [fastmf.ALS(factors=3, iterations=2, seed=0, verbose=False).fit(data),
            fastmf.ImplicitALS(factors=3, iterations=2, seed=0, verbose=False).fit(data),
            fastmf.BPR(factors=3, epochs=2, seed=0, num_threads=1, verbose=False).fit(data)]


counts = st.one_of(st.integers(-3, 10**12), st.floats(allow_nan=True), st.booleans(),
                   st.none(), st.text(max_size=2))


@settings(deadline=None, suppress_health_check=HEALTH)
@given(which=st.integers(0, 2), users=ids, items=ids, user=scalars, n=counts,
       filter_seen=st.one_of(st.booleans(), st.none(), st.integers(-1, 2)))
def test_serving_gives_results_or_documented_errors(fitted, which, users, items, user, n,
                                                    filter_seen):
    model = fitted[which]
    calls = [lambda: model.predict(users, items),
             lambda: model.recommend(user, n=n, filter_seen=filter_seen),
             lambda: model.recommend(user, n=3, items=items),
             lambda: model.recommend_batch(users, n=n, filter_seen=filter_seen),
             lambda: model.similar_items(user, n=n),
             lambda: model.similar_users(user, n=n),
             lambda: model.score_users(users),
             lambda: model.fold_in(items),
             lambda: model.recommend_new_user(items, n=n)]
    for call in calls:
        try:
            call()
        except (UnknownIdError, *ALLOWED):
            pass


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    data = fastmf.datasets.make_ratings(30, 20, 200, seed=1)
    model = fastmf.ALS(factors=3, iterations=2, seed=0, verbose=False).fit(data)
    path = model.save(tmp_path_factory.mktemp("fuzz") / "model")
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    return path.read_bytes(), arrays


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**65, 2**65), st.floats(allow_nan=True),
              st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _paths(node, prefix=()):
    """Every (path, value) inside a JSON tree."""
    yield prefix, node
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for position, child in enumerate(node):
            yield from _paths(child, prefix + (position,))


def _check_loaded(path):
    try:
        model = fastmf.load(path)
    except ModelFileError:
        return
    users, items = model.user_ids_.ids[:3], model.item_ids_.ids[:3]
    for call in (lambda: model.predict(users, items), lambda: model.recommend(users[0], n=3),
                 lambda: model.recommend_batch(users, n=2), lambda: model.similar_items(items[0]),
                 lambda: model.fold_in(items)):
        try:
            call()
        except (UnknownIdError, *ALLOWED):
            pass


@settings(deadline=None, suppress_health_check=HEALTH)
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1,
                      max_size=4),
       cut=st.one_of(st.none(), st.integers(0, 10**9)))
def test_a_damaged_model_file_loads_or_is_refused(tmp_path, model_file, flips, cut):
    content = bytearray(model_file[0])
    for position, mask in flips:
        content[position % len(content)] ^= mask
    if cut is not None:
        content = content[: cut % len(content)]
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(content))
    _check_loaded(path)


@settings(deadline=None, suppress_health_check=HEALTH)
@given(choice=st.integers(0, 10**6), replacement=json_values,
       array_key=st.integers(0, 100), array=st.one_of(
           st.none(),
           st.tuples(st.sampled_from(["f4", "f8", "i4", "i8", "u1", "U3", "b1"]),
                     st.lists(st.integers(0, 4), max_size=2)).map(
               lambda spec: np.full(spec[1], 1, dtype=spec[0]))))
def test_an_edited_model_file_loads_or_is_refused(tmp_path, model_file, choice, replacement,
                                                  array_key, array):
    arrays = dict(model_file[1])
    header = json.loads(arrays["header"].tobytes().decode())
    places = [p for p, _ in _paths(header) if p]
    target = places[choice % len(places)]
    node = header
    for step in target[:-1]:
        node = node[step]
    node[target[-1]] = replacement
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    if array is not None:
        keys = sorted(k for k in arrays if k != "header")
        arrays[keys[array_key % len(keys)]] = array
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = tmp_path / "edited.npz"
    path.write_bytes(buffer.getvalue())
    _check_loaded(path)


# -- parsing is strict: what is written apart stays apart, numbers are read as written --------
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS = "0123456789"
_SCRIPTS = ("０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९")   # fullwidth, Arabic, Devanagari


def _spellings(n):
    """Texts that Python's int() reads as n: plain, with digit separators, other scripts."""
    plain = str(n)
    return st.sampled_from([plain, "_".join(plain) if len(plain) > 1 else plain, f"0{plain}"]
                           + [plain.translate(str.maketrans(_DIGITS, s)) for s in _SCRIPTS])


id_texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                          blacklist_characters=",\"'"), min_size=1, max_size=6),
    st.integers(0, 30).flatmap(_spellings))


@settings(deadline=None, suppress_health_check=HEALTH)
@given(spellings=st.integers(0, 99).flatmap(
           lambda n: st.lists(_spellings(n), min_size=2, max_size=4, unique=True)),
       others=st.lists(id_texts, max_size=8))
def test_ids_written_apart_are_read_apart(tmp_path, spellings, others):
    texts = list(dict.fromkeys(spellings + others))     # one integer spelled several ways
    path = tmp_path / "ids.csv"
    path.write_text("".join(f"{t},i{k},1\n" for k, t in enumerate(texts)), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data = Interactions.from_csv(path, header=False)
        except ALLOWED:
            return                           # refused by name (a NUL, ...)
    if any("ids written apart are the same integer" in str(w.message) for w in caught):
        data = Interactions.from_csv(path, header=False, id_dtype="str")   # "007", "7": said
    assert data.n_users == len(texts)
    kind = data.user_ids.ids.dtype.kind
    assert {str(u) for u in data.user_ids.ids} == {t if kind == "U" else str(int(t))
                                                   for t in texts}


@settings(deadline=None, suppress_health_check=HEALTH)
@given(rating=st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                        st.sampled_from(["1_0", "nan", "inf", "-Infinity", "３", "٣.5", "1e5",
                                         ".5", "5.", "+3", "4 ", "0x10", "1e", "--1"]),
                        st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                                              blacklist_characters=",\"'"),
                                min_size=1, max_size=6)))
def test_ratings_read_exactly_what_plain_decimal_text_says(tmp_path, rating):
    path = tmp_path / "r.csv"
    path.write_text(f"1,2,3\n4,5,{rating}\n6,7,8\n", encoding="utf-8")
    plain = _NUMBER_TEXT.fullmatch(rating.strip()) is not None
    try:
        data = Interactions.from_csv(path, header=False)
    except ValueError as error:
        assert not plain or "ratings contain" in str(error) or "too large" in str(error) \
            or "infinite" in str(error), (rating, error)
        return
    assert plain, rating
    assert sorted(data.ratings.tolist()) == sorted([3.0, 8.0, float(rating)])


def _npy(shape, dtype, payload):
    """A .npy member whose header says ``shape`` and ``dtype`` and whose data is
    ``payload`` (so header and data may disagree)."""
    header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": tuple(shape)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


@settings(deadline=None, suppress_health_check=HEALTH)
@given(choice=st.integers(0, 10**6), mutation=st.sampled_from(["drop", "rename", "shape",
                                                               "count", "duplicate"]),
       shape=st.lists(st.one_of(st.integers(0, 5), st.integers(2**20, 2**62)), max_size=3),
       dtype=st.sampled_from(["<f4", "<f8", "<i4", "<i8", "|u1", "<U3"]),
       count=st.one_of(st.integers(-5, 5), st.integers(2**31, 2**70)))
def test_a_model_file_with_mutated_sizes_counts_or_members_loads_or_is_refused(
        tmp_path, model_file, choice, mutation, shape, dtype, count):
    with zipfile.ZipFile(io.BytesIO(model_file[0])) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    names = sorted(members)
    target = names[choice % len(names)]
    if mutation == "drop":
        del members[target]
    elif mutation == "rename":
        members["x" + target] = members.pop(target)
    elif mutation == "duplicate":                      # another member's bytes under this name
        members[target] = members[names[(choice + 1) % len(names)]]
    elif mutation == "shape":                          # a header that says another size
        members[target] = _npy(shape, dtype, members[target][128:])
    else:                                              # a count in the JSON header
        header = json.loads(np.load(io.BytesIO(members["header.npy"])).tobytes().decode())
        places = [p for p, value in _paths(header) if isinstance(value, int)
                  and not isinstance(value, bool)]
        node = header
        for step in places[choice % len(places)][:-1]:
            node = node[step]
        node[places[choice % len(places)][-1]] = count
        buffer = io.BytesIO()
        np.save(buffer, np.frombuffer(json.dumps(header).encode(), np.uint8))
        members["header.npy"] = buffer.getvalue()
    path = tmp_path / "mutated.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _check_loaded(path)
