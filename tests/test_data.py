"""Interactions: constructors, id maps, CSR both ways, duplicates and splits."""
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import Interactions


def test_string_ids_map_both_ways_and_csr_is_the_transpose():
    data = Interactions.from_arrays(["u2", "u1", "u2", "u3"], ["b", "a", "a", "c"], [4, 3, 5, 1])
    assert data.shape == (3, 3) and data.nnz == 4
    dense = data.by_user.to_scipy().toarray()
    np.testing.assert_array_equal(dense.T, data.by_item.to_scipy().toarray())
    u, i = data.user_ids.index(["u2"])[0], data.item_ids.index(["b"])[0]
    assert dense[u, i] == 4
    assert data.user_ids.to_raw([u])[0] == "u2"
    assert list(data.user_ids.index(["nobody", "u3"])) == [-1, 2]
    users, items, ratings = data.to_arrays()
    assert sorted(zip(users, items, ratings)) == [("u1", "a", 3), ("u2", "a", 5), ("u2", "b", 4),
                                                  ("u3", "c", 1)]


def test_csr_layout_is_what_kernels_take():
    data = Interactions.from_arrays([3, 1, 2], [10, 20, 10], np.array([1, 2, 3], np.float32))
    for csr in (data.by_user, data.by_item):
        assert csr.indptr.dtype == np.int64 and csr.indices.dtype == np.int32
    assert data.ratings_dtype == np.float32
    assert Interactions.from_arrays([1], [2], [3]).ratings_dtype == np.float64


@pytest.mark.parametrize("policy, expected", [("last", 2.0), ("sum", 6.0), ("mean", 3.0)])
def test_duplicate_policies(policy, expected):
    data = Interactions.from_arrays([1, 1, 1, 2], [5, 5, 6, 5], [4, 2, 1, 3], duplicates=policy)
    assert data.nnz == 3
    assert data.by_user.to_scipy().toarray()[0, 0] == expected


@pytest.mark.parametrize("policy", ["last", "sum", "mean"])
def test_duplicate_policies_agree_with_pandas_groupby(policy):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    n = 3000
    frame = pd.DataFrame({"user": rng.integers(0, 40, n), "item": rng.integers(0, 50, n),
                          "rating": rng.random(n), "timestamp": rng.permutation(n)})
    data = Interactions.from_dataframe(frame, timestamp_col="timestamp", duplicates=policy)
    grouped = frame.groupby(["user", "item"], sort=True)
    expected = grouped["rating"].agg(policy)
    assert data.nnz == len(expected)
    got = data.to_dataframe().set_index(["user", "item"])
    np.testing.assert_allclose(got["rating"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    last_time = grouped["timestamp"].agg("last" if policy == "last" else "max")
    np.testing.assert_array_equal(got["timestamp"].to_numpy(), last_time.to_numpy())


def test_duplicates_are_an_error_by_default():
    with pytest.raises(ValueError, match=r"user 'a' rated item 'x' more than once.*duplicates="):
        Interactions.from_arrays(["a", "b", "a"], ["x", "x", "x"], [1, 2, 3])
    with pytest.raises(ValueError, match=r"user 7 rated item 2 more than once \(first at position 1\)"):
        Interactions.from_arrays([9, 7, 9, 7], [2, 2, 1, 2], [1, 2, 3, 4])


def test_implicit_data_without_ratings_is_all_ones():
    data = Interactions.from_arrays([1, 2], [3, 4])
    np.testing.assert_array_equal(data.ratings, [1.0, 1.0])


def test_from_dataframe_and_back():
    df = pd.DataFrame({"uid": ["a", "b", "a"], "iid": [1, 2, 2], "r": [1.0, 2.0, 3.0],
                       "t": [10, 20, 30]})
    data = Interactions.from_dataframe(df, "uid", "iid", "r", "t")
    back = data.to_dataframe().sort_values(["user", "item"]).reset_index(drop=True)
    assert back["rating"].tolist() == [1.0, 3.0, 2.0] and back["timestamp"].tolist() == [10, 30, 20]
    with pytest.raises(KeyError, match="column 'rating' not in the DataFrame"):
        Interactions.from_dataframe(df, "uid", "iid")


def test_from_csv_with_header_and_tsv(tmp_path):
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("user,item,rating\nann,x,4\nbob,y,2.5\n")
    data = Interactions.from_csv(csv_path, columns=("user", "item", "rating"), header=True)
    assert data.n_users == 2 and sorted(data.ratings) == [2.5, 4.0]
    tsv = tmp_path / "u.data"
    tsv.write_text("1\t10\t5\t881250949\n2\t10\t3\t881250950\n")
    data = Interactions.from_csv(tsv, columns=(0, 1, 2, 3))
    assert data.user_ids.ids.dtype == np.int64 and data.timestamps.tolist() == [881250949, 881250950]


@pytest.mark.parametrize("header", [True, False])
def test_from_csv_implicit_with_timestamps(tmp_path, header):
    path = tmp_path / "clicks.csv"
    path.write_text(("u,i,ts\n" if header else "") + "a,x,100\nb,x,200\na,y,300\n")
    columns = ("u", "i", None, "ts") if header else (0, 1, None, 2)
    data = Interactions.from_csv(path, columns=columns, header=header)
    assert data.ratings.tolist() == [1.0, 1.0, 1.0]            # implicit: every pair is 1
    assert data.timestamps.tolist() == [100, 300, 200]          # stored by user, then item
    if header:
        with pytest.raises(KeyError, match=r"column 'tz' not in header \['u', 'i', 'ts'\]"):
            Interactions.from_csv(path, columns=("u", "i", None, "tz"), header=True)
    else:
        with pytest.raises(KeyError, match="column 'u' is a name, but the file has no header"):
            Interactions.from_csv(path, columns=("u", "i"))


def test_from_sparse_keeps_explicit_entries():
    m = sp.csr_matrix(np.array([[0, 3.0, 0], [1.0, 0, 2.0]]))
    data = Interactions.from_sparse(m, user_ids=["a", "b"])
    assert data.shape == (2, 3) and data.nnz == 3
    assert data.item_ids.ids.tolist() == [0, 1, 2]


def test_take_keeps_only_present_ids_in_order():
    data = Interactions.from_arrays([1, 2, 3, 3], [7, 8, 9, 7], [1, 2, 3, 4])
    sub = data.take([0, 2])        # ratings are stored sorted by (user, item)
    assert sub.user_ids.ids.tolist() == [1, 3] and sub.item_ids.ids.tolist() == [7]


@pytest.mark.parametrize("strategy", ["random", "per_user", "temporal"])
def test_split_partitions_the_ratings(strategy):
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 600), rng.integers(0, 40, 600)
    data = Interactions.from_arrays(users, items, rng.integers(1, 6, 600), np.arange(600),
                                    duplicates="last")
    train, test = fastmf.train_test_split(data, test_size=0.25, seed=3, strategy=strategy,
                                          unseen="keep")
    assert train.nnz + test.nnz == data.nnz
    seen = set(zip(*train.to_arrays()[:2]))
    assert not seen & set(zip(*test.to_arrays()[:2]))
    if strategy == "temporal":
        assert train.timestamps.max() < test.timestamps.min()
    if strategy == "per_user":     # every user keeps at least one rating in train
        assert set(data.user_ids.ids) == set(train.user_ids.ids)


def test_split_drops_and_counts_test_pairs_with_unseen_users():
    # User 9 has one rating only; with the per-user split it stays in train, with a random
    # split that puts it in test it must be dropped and counted.
    users = np.r_[np.repeat([1, 2, 3, 4], 3), 9]
    items = np.r_[np.tile([1, 2, 3], 4), 3]
    data = Interactions.from_arrays(users, items, np.arange(13) % 5 + 1)
    for seed in range(20):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            train, test = fastmf.train_test_split(data, test_size=0.4, seed=seed)
        assert "9" not in map(str, test.users)
        assert train.nnz + test.nnz + test.n_unseen == data.nnz
        # any dropped test rating of 5 is more than 5%: a warning says how many
        n_test = round(0.4 * data.nnz)
        assert [str(w.message).split(":")[0] for w in caught] == (
            [f"{test.n_unseen} of the {n_test} test ratings were dropped"] if test.n_unseen else [])


def test_split_is_reproducible_from_a_seed(small):
    a = fastmf.train_test_split(small, seed=5)[1].to_arrays()
    b = fastmf.train_test_split(small, seed=5)[1].to_arrays()
    c = fastmf.train_test_split(small, seed=6)[1].to_arrays()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0]) or not np.array_equal(a[1], c[1])


def test_integer_ids_keep_their_dtype_and_lookups_do_not_wrap():
    users = np.array([5, 7, 5], dtype=np.int32)
    data = Interactions.from_arrays(users, np.array([1, 1, 2], np.int16), [1.0, 2.0, 3.0])
    assert data.user_ids.ids.dtype == np.int32 and data.item_ids.ids.dtype == np.int16
    # int64 queries, one of them 2**32 + 5, which an int32 cast would wrap to 5
    assert data.user_ids.index(np.array([7, 2**32 + 5, 5], np.int64)).tolist() == [1, -1, 0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transpose_is_the_dense_transpose_with_sorted_rows(dtype, rng):
    from fastmf.data import Csr, transpose
    dense = rng.random((9, 13)) * (rng.random((9, 13)) < 0.3)
    dense[4] = 0                     # an empty row
    dense[:, 7] = 0                  # an empty column
    rows, cols = np.nonzero(dense)
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=9))].astype(np.int64)
    T = transpose(Csr(indptr, cols.astype(np.int32), dense[rows, cols].astype(dtype), (9, 13)))
    assert T.shape == (13, 9) and T.indptr.dtype == np.int64 and T.indices.dtype == np.int32
    assert T.data.dtype == dtype
    back = np.zeros((13, 9))
    t_rows = np.repeat(np.arange(13), np.diff(T.indptr))
    back[t_rows, T.indices] = T.data
    np.testing.assert_array_equal(back, dense.T.astype(dtype))
    for r in range(13):                                       # each row's columns ascend
        assert np.all(np.diff(T.indices[T.indptr[r]:T.indptr[r + 1]]) > 0)


def test_a_pickle_that_names_the_classes_in_fastmf_data_still_loads():
    # fastmf.data was one module: older pickles name fastmf.data.Interactions, .IdMap, ...
    data = Interactions.from_arrays(["ann", "bob", "ann"], ["x", "y", "y"], [5.0, 3.0, 4.0],
                                    item_info=fastmf.ItemInfo(["x"], ["The X"]))
    assert data.by_item.shape == (2, 2)                       # the cached transpose too
    written = pickle.dumps(data, protocol=0)                  # text opcodes: names editable
    for module in (b"interactions", b"ids", b"item_info", b"csr"):
        written = written.replace(b"cfastmf.data." + module + b"\n", b"cfastmf.data\n")
    assert b"fastmf.data." not in written
    loaded = pickle.loads(written)
    for ours, theirs in zip(loaded.to_arrays(), data.to_arrays()):
        np.testing.assert_array_equal(ours, theirs)
    assert loaded.by_item.shape == (2, 2) and loaded.item_info.title(["x"]).tolist() == ["The X"]
