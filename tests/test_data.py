"""Interactions: constructors, id maps, CSR both ways, duplicates and splits; reading the
files people have (separators, header lines, encodings) and their items files (ItemInfo)."""
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import Interactions, ItemInfo

from .conftest import SHARED_DATA


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
            Interactions.from_csv(path, columns=("u", "i"), header=False)
        with pytest.raises(KeyError, match=r"column 'u' not in header \['a', 'x', '100'\] "
                                           r"\(the first line is read as a header because"):
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


# -- reading the files people have -------------------------------------------------------
def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def _triples(data):
    """(user, item, rating) of every rating, sorted: comparable with a hand-written list."""
    users, items, ratings = data.to_arrays()
    return sorted(zip(users.tolist(), items.tolist(), ratings.tolist()))


@pytest.mark.parametrize("name, text", [
    ("ratings.csv", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"),
    ("plays.dat", "1\t1193\t5\t978300760\n1\t661\t3\t978302109\n2\t1193\t4\t978298413\n"),
    ("plays.txt", "1   1193 5\t978300760\n1 661   3 978302109\n  2 1193 4 978298413  \n"),
    ("plays", "1|1193|5|978300760\n1|661|3|978302109\n2|1193|4|978298413\n"),
    ("plays.csv", "1;1193;5;978300760\n1;661;3;978302109\n2;1193;4;978298413\n"),
])
def test_the_separator_is_detected_whatever_the_extension(tmp_path, name, text):
    data = Interactions.from_csv(_write(tmp_path / name, text), columns=(0, 1, 2, 3))
    assert _triples(data) == [(1, 661, 3.0), (1, 1193, 5.0), (2, 1193, 4.0)]
    assert data.user_ids.ids.dtype == np.int64
    assert data.timestamps.dtype == np.int64
    assert data.timestamps.tolist() == [978302109, 978300760, 978298413]   # by user, item


def test_movielens_100k_u_data_is_read_with_its_tab_detected():
    path = SHARED_DATA / "ml-100k" / "u.data"
    data = Interactions.from_csv(path, columns=(0, 1, 2, 3))
    expected = np.loadtxt(path, dtype=np.int64)          # user, item, rating, time per line
    assert data.shape == (943, 1682) and data.nnz == len(expected) == 100_000
    order = np.lexsort((expected[:, 1], expected[:, 0]))
    np.testing.assert_array_equal(data.users, expected[order, 0])
    np.testing.assert_array_equal(data.items, expected[order, 1])
    np.testing.assert_array_equal(data.ratings, expected[order, 2])
    np.testing.assert_array_equal(data.timestamps, expected[order, 3])


def test_an_explicit_separator_is_used_as_given(tmp_path):
    path = _write(tmp_path / "r.csv", "a::x::4\nb::y::2\n")
    assert _triples(Interactions.from_csv(path, sep="::")) == [("a", "x", 4.0), ("b", "y", 2.0)]
    with pytest.raises(ValueError, match=r"r\.csv, line 1: expected at least 3 fields separated "
                                         r"by ',', found 1: 'a::x::4'"):
        Interactions.from_csv(path, sep=",")
    spaced = _write(tmp_path / "r.txt", "a  x 4\nb y\t2\n")
    assert _triples(Interactions.from_csv(spaced, sep=r"\s+")) == [("a", "x", 4.0), ("b", "y", 2.0)]
    with pytest.raises(ValueError, match="sep must be None"):
        Interactions.from_csv(path, sep="")


def test_an_undetectable_separator_asks_for_sep(tmp_path):
    path = _write(tmp_path / "r.txt", "1,2,5\n2;3\n")
    with pytest.raises(ValueError, match=r"r\.txt: cannot tell the field separator: .* "
                                         r"pass it, e\.g\. sep='\\t' .*\(--sep on the command"):
        Interactions.from_csv(path)
    # a .csv file falls back to ',' and the short line is named
    with pytest.raises(ValueError, match=r"r\.csv, line 2: expected at least 3 fields"):
        Interactions.from_csv(_write(tmp_path / "r.csv", "1,2,5\n2;3\n"))


def test_a_short_line_is_named_after_the_separator_is_detected(tmp_path):
    path = _write(tmp_path / "r.dat", "1::2::5\n\n2::3\n")
    with pytest.raises(ValueError, match=r"r\.dat, line 3: expected at least 3 fields "
                                         r"separated by '::', found 2: '2::3'"):
        Interactions.from_csv(path)


@pytest.mark.parametrize("text, columns, expected", [
    ("userId,movieId,rating\n1,10,4.5\n2,10,3\n", (0, 1, 2), [(1, 10, 4.5), (2, 10, 3.0)]),
    ("userId,movieId,rating\n1,10,4.5\n2,10,3\n", ("userId", "movieId", "rating"),
     [(1, 10, 4.5), (2, 10, 3.0)]),
    ("who,what,when\nann,x,100\nbob,y,200\n", (0, 1, None, 2),
     [("ann", "x", 1.0), ("bob", "y", 1.0)]),
    ("user,item\n1,10\n2,11\n", (0, 1), [(1, 10, 1.0), (2, 11, 1.0)]),
    ("user_id,item_id\nann,x\nbob,y\n", (0, 1), [("ann", "x", 1.0), ("bob", "y", 1.0)]),
    ("1,10,4.5\n2,10,3\n", (0, 1, 2), [(1, 10, 4.5), (2, 10, 3.0)]),
    ("customer,sku\nann,x\n", (0, 1), [("ann", "x", 1.0), ("customer", "sku", 1.0)]),
])
def test_a_header_line_is_detected_and_a_first_data_row_is_kept(tmp_path, text, columns,
                                                                 expected):
    data = Interactions.from_csv(_write(tmp_path / "r.csv", text), columns=columns)
    assert _triples(data) == expected


def test_a_header_read_as_data_is_an_error_that_suggests_header_true(tmp_path):
    path = _write(tmp_path / "r.dat", "user\titem\trating\n1\t10\t4\n2\t10\t3\n")
    with pytest.raises(ValueError, match=r"r\.dat, line 1: rating 'rating' is not a number; the "
                                         r"first line looks like a header \(user, item, "
                                         r"rating\): pass header=True \(--header on the command "
                                         r"line\)"):
        Interactions.from_csv(path, header=False)
    assert Interactions.from_csv(path, header=True).nnz == 2


def test_a_number_missing_later_in_the_file_names_its_line(tmp_path):
    path = _write(tmp_path / "r.csv", "user,item,rating,time\n\n1,10,4,100\n\n2,10,3,x\n")
    with pytest.raises(ValueError, match=r"r\.csv, line 5: timestamp 'x' is not a number$"):
        Interactions.from_csv(path, columns=(0, 1, 2, 3))
    path = _write(tmp_path / "s.csv", "1,10,4\n2,10,four\n3,10,3\n")
    with pytest.raises(ValueError, match=r"s\.csv, line 2: rating 'four' is not a number$"):
        Interactions.from_csv(path)


def test_quoted_fields_keep_their_commas(tmp_path):
    text = '"Smith, Ann",Heat,4\n"Lee, Bo","American President, The (1995)",2\n'
    data = Interactions.from_csv(_write(tmp_path / "r.csv", text))
    assert _triples(data) == [("Lee, Bo", "American President, The (1995)", 2.0),
                              ("Smith, Ann", "Heat", 4.0)]


def test_a_latin_1_dat_file_with_double_colons(tmp_path):
    path = _write(tmp_path / "r.dat", "José::Amélie (2001)::5\nZoë::Heat (1995)::3\n", "latin-1")
    with pytest.raises(ValueError, match=r"r\.dat, line 1: not utf-8 text .*encoding='latin-1'"):
        Interactions.from_csv(path)
    data = Interactions.from_csv(path, encoding="latin-1")
    assert _triples(data) == [("José", "Amélie (2001)", 5.0), ("Zoë", "Heat (1995)", 3.0)]


# -- items files ---------------------------------------------------------------------------
MOVIES_CSV = ('movieId,title,genres\n'
              '1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n'
              '11,"American President, The (1995)",Comedy|Drama|Romance\n'
              '42,Heat (1995),Action|Crime|Thriller\n'
              '7,Empty (2018),(no genres listed)\n')
MOVIES_DAT = ("1::Toy Story (1995)::Animation|Children's|Comedy\n"
              "20::Amélie (2001)::Comedy|Romance\n"
              "3::Grumpier Old Men (1995)::Comedy\n")


def test_item_info_from_a_movies_csv_file(tmp_path):
    info = ItemInfo.from_csv(_write(tmp_path / "movies.csv", MOVIES_CSV))
    assert info.ids.ids.tolist() == [1, 11, 42, 7] and info.ids.ids.dtype == np.int64
    assert info.title([11, 7]).tolist() == ["American President, The (1995)", "Empty (2018)"]
    assert info.genre_names == ["Action", "Adventure", "Animation", "Children", "Comedy",
                                "Crime", "Drama", "Fantasy", "Romance", "Thriller"]
    assert info.genres_of(11) == ["Comedy", "Drama", "Romance"]
    assert info.genres_of(7) == []


def test_item_info_from_a_latin_1_movies_dat_file(tmp_path):
    info = ItemInfo.from_csv(_write(tmp_path / "movies.dat", MOVIES_DAT, "latin-1"))
    assert info.title([20, 3]).tolist() == ["Amélie (2001)", "Grumpier Old Men (1995)"]
    assert info.genres_of([1, 20]) == [["Animation", "Children's", "Comedy"],
                                       ["Comedy", "Romance"]]
    with pytest.raises(ValueError, match=r"movies\.dat, line 2: not utf-8 text"):
        ItemInfo.from_csv(tmp_path / "movies.dat", encoding="utf-8")


def test_item_info_from_a_tsv_of_text_ids_with_named_columns(tmp_path):
    path = _write(tmp_path / "items.tsv", "sku\tdepartment\tname\n"
                                          "a-1\tgarden; tools\tRake\nb-2\tkitchen\tKettle\n")
    info = ItemInfo.from_csv(path, columns=("sku", "name", "department"), category_sep=";")
    assert info.title(["b-2", "a-1"]).tolist() == ["Kettle", "Rake"]
    assert info.genres_of("a-1") == ["garden", "tools"]
    plain = ItemInfo.from_csv(_write(tmp_path / "titles.txt", "5\tHeat\n6\tUp\n"))
    assert plain.title([6, 5]).tolist() == ["Up", "Heat"] and plain.genres is None


def test_item_info_from_movielens_100k_u_item_with_its_flag_columns():
    folder = SHARED_DATA / "ml-100k"
    genres = [line.split("|")[0] for line in (folder / "u.genre").read_text().splitlines()
              if line.strip()]
    info = ItemInfo.from_csv(folder / "u.item", columns=(0, 1, *range(5, 24)), flags=genres)
    lines = (folder / "u.item").read_bytes().decode("latin-1").splitlines()
    fields = [line.split("|") for line in lines]
    assert info.ids.ids.tolist() == [int(f[0]) for f in fields]
    assert info.title([1, 2]).tolist() == ["Toy Story (1995)", "GoldenEye (1995)"]
    assert info.titles.tolist() == [f[1].strip() for f in fields]    # fields are stripped
    np.testing.assert_array_equal(info.genres, [[flag == "1" for flag in f[5:]] for f in fields])
    assert info.genre_names == genres and info.genres_of(1) == ["Animation", "Children's", "Comedy"]


def test_item_info_errors_name_the_line(tmp_path):
    with pytest.raises(ValueError, match=r"items\.tsv: item 'a' is listed twice, on lines 1 and 3"):
        ItemInfo.from_csv(_write(tmp_path / "items.tsv", "a\tA\nb\tB\na\tC\n"))
    with pytest.raises(ValueError, match=r"flags\.tsv, line 2: category flag '2' is not 0 or 1"):
        ItemInfo.from_csv(_write(tmp_path / "flags.tsv", "1\tA\t0\n2\tB\t2\n"), flags=True)
    with pytest.raises(ValueError, match="flags names 1 categories, but 2 category columns"):
        ItemInfo.from_csv(_write(tmp_path / "two.tsv", "1\tA\t0\t1\n"), columns=(0, 1, 2, 3),
                          flags=["x"])


def test_item_info_methods_take_a_scalar_or_an_array():
    info = ItemInfo([5, 6], ["Heat", "Up"], [[True, False], [True, True]], ["Crime", "Drama"])
    assert info.title(6) == "Up" and isinstance(info.title(6), str)
    assert info.title(99) == "99"
    assert isinstance(info.title([6]), np.ndarray) and info.title([6]).tolist() == ["Up"]
    assert info.title(np.array([[5], [99]])).tolist() == [["Heat"], ["99"]]
    assert info.genres_of(5) == ["Crime"] and info.genres_of(99) == []
    assert info.genres_of([6, 99]) == [["Crime", "Drama"], []]
    assert info.genres_of(np.array([[5, 6]])) == [[["Crime"], ["Crime", "Drama"]]]
    assert info.genres_of([]) == []
    titled = ItemInfo(["a"], ["A"])
    assert titled.genres_of("a") == [] and titled.genres_of(["a", "b"]) == [[], []]


def test_an_items_file_attaches_titles_and_categories_as_item_features(tmp_path):
    ratings = _write(tmp_path / "ratings.dat", "".join(
        f"{u}::{i}::{(u * i) % 5 + 1}\n" for u in range(1, 9) for i in (1, 11, 42, 7)))
    movies = _write(tmp_path / "movies.csv", MOVIES_CSV)
    data = Interactions.from_csv(ratings, item_info=movies)
    assert data.item_info.title(42) == "Heat (1995)"
    assert data.item_info.genres_of(1) == ["Adventure", "Animation", "Children", "Comedy",
                                           "Fantasy"]
    model = fastmf.ALS(factors=2, iterations=2, item_features="genres", seed=0,
                       verbose=False).fit(data)
    assert model.feature_names_.tolist() == data.item_info.genre_names
    assert model.item_info_.title([11]).tolist() == ["American President, The (1995)"]
    # text ids in the ratings: the items file is read as text ids too
    as_text = Interactions.from_csv(ratings, id_dtype="str", item_info=movies)
    assert as_text.item_info.title("11") == "American President, The (1995)"


def test_an_items_file_that_matches_no_item_is_an_error(tmp_path):
    ratings = _write(tmp_path / "r.csv", "1,10,4\n2,11,3\n")
    other = _write(tmp_path / "items.csv", "a,Heat\nb,Up\n")
    with pytest.raises(ValueError, match=r"none of the 2 items of the data is in item_info "
                                         r"\(.*items\.csv\): the data's item ids are like 10, 11, "
                                         r"the items file's like 'a', 'b'; check its id column"):
        Interactions.from_csv(ratings, item_info=other)
    with pytest.raises(TypeError, match="item_info must be a fastmf.ItemInfo or the path"):
        Interactions.from_arrays([1], [2], item_info=5)
    typed = Interactions.from_arrays([1, 2], [10, 11], item_info=ItemInfo(["10", "11"], ["A", "B"]))
    assert typed.item_info.title([11, 10]).tolist() == ["B", "A"]


@pytest.mark.parametrize("text, value", [("1_0", "1_0"), ("３", "３"), ("nan", "nan"),
                                         ("inf", "inf"), ("٣.5", "٣.5")])
def test_ratings_are_read_in_plain_decimal_notation_only(tmp_path, text, value):
    path = tmp_path / "r.csv"
    path.write_text(f"1,5,4\n2,5,{text}\n3,6,1e1\n4,6,-.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"r\.csv, line 2: rating '{value}' is not a number in "
                                         rf"plain decimal notation \(digits 0-9, a point"):
        Interactions.from_csv(path)


def test_ids_that_python_reads_as_the_same_integer_stay_apart(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("1_0,5,4\n10,5,3\n３,5,1\n3,6,2\n٣,6,2\n", encoding="utf-8")
    data = Interactions.from_csv(path)
    assert sorted(data.user_ids.ids.tolist()) == ["10", "1_0", "3", "٣", "３"]   # five users
    assert data.nnz == 5


@pytest.mark.parametrize("ids, error, match", [
    (["a\x00", "a"], ValueError, r"users hold 'a\\x00', which ends in a NUL character"),
    ([1, "a"], TypeError, "users must be all integers or all strings, got a mix of int, str"),
    (pd.Series(["b", "b\x00"], dtype=object), ValueError, "ends in a NUL character"),
])
def test_ids_that_numpy_would_merge_or_turn_into_text_are_refused(ids, error, match):
    with pytest.raises(error, match=match):
        Interactions.from_arrays(ids, [1, 2])


def test_a_file_id_ending_in_nul_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a\x00,5,4\na,5,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"user ids hold 'a\\x00', which ends in a NUL"):
        Interactions.from_csv(path)
