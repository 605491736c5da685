"""fastmf.datasets: MovieLens readers, the download path, make_ratings and toy."""
import doctest
import hashlib
import io
import socket
import sys
import zipfile

import numpy as np
import pytest

import fastmf.datasets
from fastmf.datasets import load_movielens, make_counts, make_ratings, toy
from fastmf.exceptions import DataNotFoundError

from ._http_server import FileServer
from .conftest import SHARED_DATA

GENRES_100K = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
               "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
               "Romance", "Sci-Fi", "Thriller", "War", "Western"]


@pytest.fixture(params=["pandas", "numpy"])
def parser(request, monkeypatch):
    """Run a reader test with pandas, and again as if pandas were not installed."""
    if request.param == "numpy":
        monkeypatch.setitem(sys.modules, "pandas", None)
    return request.param


# -- the real MovieLens 100K copy ------------------------------------------------------

def test_reads_the_real_100k_copy(parser):
    data = load_movielens("100k", data_home=SHARED_DATA, download=False)
    assert (data.nnz, data.n_users, data.n_items) == (100_000, 943, 1_682)
    values, counts = np.unique(data.ratings, return_counts=True)
    assert values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert counts.tolist() == [6_110, 11_370, 27_145, 34_174, 21_201]
    assert data.ratings.dtype == np.float64 and data.timestamps.dtype == np.int64
    assert data.item_info.title([1]).tolist() == ["Toy Story (1995)"]
    assert data.item_info.genres_of(1) == ["Animation", "Children's", "Comedy"]
    assert data.item_info.genre_names == GENRES_100K


def test_fastmf_data_names_the_data_home(monkeypatch):
    monkeypatch.setenv("FASTMF_DATA", str(SHARED_DATA))
    assert load_movielens("100k", download=False).nnz == 100_000


def test_data_home_argument_wins_over_fastmf_data(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTMF_DATA", str(tmp_path))
    assert load_movielens("100k", data_home=SHARED_DATA, download=False).nnz == 100_000


def test_unknown_release_lists_the_valid_names():
    with pytest.raises(ValueError, match="'100k', '1m', 'latest-small', '25m', '32m', got '10m'"):
        load_movielens("10m", download=False)


# -- the other file layouts, read from local copies ------------------------------------

def test_reads_the_1m_layout(tmp_path, parser):
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::10::5::978300760\n1::20::3::978302109\n"
                                        "2::10::4::978301968\n")
    (folder / "movies.dat").write_bytes("10::Toy Story (1995)::Animation|Children's|Comedy\n"
                                        "20::Amélie (2001)::Comedy|Romance\n".encode("latin-1"))
    data = load_movielens("1m", data_home=tmp_path, download=False)
    assert (data.nnz, data.n_users, data.n_items) == (3, 2, 2)
    assert data.items.tolist() == [10, 20, 10] and data.ratings.tolist() == [5.0, 3.0, 4.0]
    assert data.timestamps.tolist() == [978300760, 978302109, 978301968]
    assert data.item_info.title([20]).tolist() == ["Amélie (2001)"]
    assert data.item_info.genres_of(10) == ["Animation", "Children's", "Comedy"]


@pytest.mark.parametrize("name, folder", [("latest-small", "ml-latest-small"),
                                          ("25m", "ml-25m"), ("32m", "ml-32m")])
def test_reads_the_csv_layout(tmp_path, parser, name, folder):
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n"
        "2,5,0.5,1537109082\n")
    (tmp_path / folder / "movies.csv").write_text(
        "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children|Comedy\n"
        '3,"American President, The (1995)",Comedy|Drama|Romance\n'
        "5,Some Film (2019),(no genres listed)\n", encoding="utf-8")
    data = load_movielens(name, data_home=tmp_path, download=False)
    assert data.ratings.tolist() == [4.0, 4.5, 0.5]
    assert data.timestamps.dtype == np.int64 and data.timestamps[2] == 1537109082
    assert data.item_info.title([3]).tolist() == ["American President, The (1995)"]
    assert data.item_info.genres_of(3) == ["Comedy", "Drama", "Romance"]
    assert data.item_info.genres_of(5) == []
    assert "(no genres listed)" not in data.item_info.genre_names


# -- downloads from a local HTTP server ------------------------------------------------

def flags(*genres):
    return "|".join("1" if genre in genres else "0" for genre in GENRES_100K)


def fake_100k_zip(folder="ml-100k"):
    """A small archive laid out like ml-100k.zip."""
    files = {
        "u.data": "1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t881250951\n"
                  "2\t30\t1\t881250952\n3\t20\t2\t881250953\n",
        "u.item": f"10|Toy Story (1995)|01-Jan-1995||http://x|{flags('Animation', 'Comedy')}\n"
                  f"20|GoldenEye (1995)|01-Jan-1995||http://x|{flags('Action')}\n"
                  f"30|Four Rooms (1995)|01-Jan-1995||http://x|{flags('Thriller')}\n",
        "u.genre": "".join(f"{genre}|{k}\n" for k, genre in enumerate(GENRES_100K)) + "\n",
        "README": "a fake MovieLens 100K\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{folder}/{name}", text.encode("latin-1"))
    return buffer.getvalue()


def assert_is_fake_100k(data):
    assert (data.nnz, data.n_users, data.n_items) == (5, 3, 3)
    assert data.ratings.tolist() == [5.0, 3.0, 4.0, 1.0, 2.0]
    assert data.item_info.genres_of(10) == ["Animation", "Comedy"]


ARCHIVE = fake_100k_zip()
MD5 = hashlib.md5(ARCHIVE).hexdigest()


@pytest.fixture
def server():
    files = {"ml-100k.zip": ARCHIVE, "ml-100k.zip.md5": f"{MD5}  ml-100k.zip\n".encode()}
    with FileServer(files) as running:
        yield running


@pytest.mark.parametrize("md5_file", [f"{MD5}  ml-100k.zip\n", f"{MD5}\n", MD5.upper(),
                                      f"MD5 (ml-100k.zip) = {MD5}\n"])
def test_download_checks_extracts_and_reads(tmp_path, server, md5_file):
    server.files["ml-100k.zip.md5"] = md5_file.encode()
    home = tmp_path / "home"
    assert_is_fake_100k(load_movielens("100k", home, base_url=server.url, progress=False))
    assert [r.path for r in server.requests] == ["/ml-100k.zip.md5", "/ml-100k.zip"]
    assert server.requests[1].range is None and server.requests[1].sent == len(ARCHIVE)
    assert sorted(p.name for p in home.iterdir()) == ["ml-100k"]      # archive deleted
    assert (home / "ml-100k" / "README").is_file()
    # Read from the extracted copy from now on: no more requests.
    assert_is_fake_100k(load_movielens("100k", home, base_url=server.url, progress=False))
    assert len(server.requests) == 2


def test_download_goes_into_fastmf_data(tmp_path, server, monkeypatch):
    monkeypatch.setenv("FASTMF_DATA", str(tmp_path))
    assert_is_fake_100k(load_movielens(base_url=server.url.rstrip("/"), progress=False))
    assert (tmp_path / "ml-100k" / "u.data").is_file()


def test_download_shows_a_progress_bar_on_stderr(tmp_path, server, capsys):
    load_movielens("100k", tmp_path, base_url=server.url, progress=True)
    captured = capsys.readouterr()
    assert "ml-100k.zip" in captured.err and captured.out == ""


def test_checksum_mismatch_deletes_the_download(tmp_path, server):
    server.files["ml-100k.zip.md5"] = b"0123456789abcdef0123456789abcdef  ml-100k.zip\n"
    with pytest.raises(DataNotFoundError, match=f"its md5 is {MD5}, but .* says 0123456789ab"):
        load_movielens("100k", tmp_path, base_url=server.url, progress=False)
    assert list(tmp_path.iterdir()) == []
    server.files["ml-100k.zip.md5"] = MD5.encode()     # a second call downloads afresh
    assert_is_fake_100k(load_movielens("100k", tmp_path, base_url=server.url, progress=False))
    assert server.requests_for("ml-100k.zip")[-1].range is None


def test_resumes_a_partial_download_with_a_range_request(tmp_path, server):
    half = len(ARCHIVE) // 2
    (tmp_path / "ml-100k.zip.part").write_bytes(ARCHIVE[:half])
    assert_is_fake_100k(load_movielens("100k", tmp_path, base_url=server.url, progress=False))
    [request] = server.requests_for("ml-100k.zip")
    assert (request.range, request.status, request.sent) == (f"bytes={half}-", 206,
                                                             len(ARCHIVE) - half)


def test_broken_transfer_resumes_on_the_next_call(tmp_path, server):
    half = len(ARCHIVE) // 2
    server.cut["ml-100k.zip"] = half
    with pytest.raises(DataNotFoundError, match=f"stopped after {half} of {len(ARCHIVE)} bytes"):
        load_movielens("100k", tmp_path, base_url=server.url, progress=False)
    assert (tmp_path / "ml-100k.zip.part").stat().st_size == half
    assert_is_fake_100k(load_movielens("100k", tmp_path, base_url=server.url, progress=False))
    assert server.requests_for("ml-100k.zip")[-1].range == f"bytes={half}-"


def test_starts_over_when_the_server_ignores_the_range(tmp_path, server):
    server.honour_range = False
    (tmp_path / "ml-100k.zip.part").write_bytes(b"stale bytes")
    assert_is_fake_100k(load_movielens("100k", tmp_path, base_url=server.url, progress=False))
    [request] = server.requests_for("ml-100k.zip")
    assert (request.range, request.status, request.sent) == ("bytes=11-", 200, len(ARCHIVE))


def test_a_complete_partial_file_is_checked_and_used(tmp_path, server):
    (tmp_path / "ml-100k.zip.part").write_bytes(ARCHIVE)
    assert_is_fake_100k(load_movielens("100k", tmp_path, base_url=server.url, progress=False))
    assert [r.status for r in server.requests_for("ml-100k.zip")] == [416]


def test_missing_copy_without_download_says_where_it_looked(tmp_path):
    with pytest.raises(DataNotFoundError) as raised:
        load_movielens("100k", tmp_path, download=False)
    message = str(raised.value)
    assert str(tmp_path / "ml-100k" / "u.data") in message and "FASTMF_DATA" in message
    assert isinstance(raised.value, FileNotFoundError)


def test_default_data_home_is_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("FASTMF_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="ml-latest-small"):
        load_movielens("latest-small", download=False)
    with pytest.raises(DataNotFoundError) as raised:
        load_movielens("100k", download=False)
    assert str(tmp_path / ".cache" / "fastmf" / "ml-100k" / "u.data") in str(raised.value)


def test_a_data_home_that_cannot_be_created_is_a_clear_error(tmp_path, server):
    (tmp_path / "a file").write_text("")
    with pytest.raises(DataNotFoundError, match="cannot create the data home .*a file/cache"):
        load_movielens("100k", tmp_path / "a file" / "cache", base_url=server.url)
    assert server.requests == []


def test_unreachable_server_is_a_clear_error(tmp_path):
    with socket.socket() as probe:        # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DataNotFoundError, match=rf"could not download http://127\.0\.0\.1:{port}/"
                                                r"ml-100k\.zip\.md5 .*Check the network"):
        load_movielens("100k", tmp_path, base_url=f"http://127.0.0.1:{port}/", progress=False)


def test_missing_archive_on_the_server_is_a_clear_error(tmp_path):
    with FileServer({}) as empty, pytest.raises(DataNotFoundError, match="HTTP 404"):
        load_movielens("1m", tmp_path, base_url=empty.url, progress=False)


@pytest.mark.parametrize("archive, message", [(b"not a zip", "not a zip archive"),
                                              (fake_100k_zip("other"), "has no ml-100k/ folder")])
def test_a_wrong_archive_is_a_clear_error(tmp_path, archive, message):
    files = {"ml-100k.zip": archive, "ml-100k.zip.md5": hashlib.md5(archive).hexdigest().encode()}
    with FileServer(files) as wrong, pytest.raises(DataNotFoundError, match=message):
        load_movielens("100k", tmp_path, base_url=wrong.url, progress=False)
    assert list(tmp_path.iterdir()) == []


# -- make_ratings --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic():
    return make_ratings(seed=0)


def top_decile_share(data):
    counts = np.sort(np.bincount(data.iidx))[::-1]
    return counts[:len(counts) // 10].sum() / data.nnz


def test_make_ratings_looks_like_movielens(synthetic):
    assert (synthetic.nnz, synthetic.n_users, synthetic.n_items) == (100_000, 943, 1682)
    values, counts = np.unique(synthetic.ratings, return_counts=True)
    assert values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0] and counts.min() > 1_000
    assert 3.0 < synthetic.ratings.mean() < 4.0
    assert top_decile_share(synthetic) > 0.35         # a power law in item popularity
    assert top_decile_share(make_ratings(popularity_exponent=0.0)) < 0.2
    assert np.bincount(synthetic.uidx).min() >= 1 and np.bincount(synthetic.iidx).min() >= 1
    assert synthetic.user_ids.ids.tolist() == list(range(943))


def test_make_ratings_is_reproducible_from_its_seed(synthetic):
    again, other = make_ratings(seed=0), make_ratings(seed=1)
    for name in ("uidx", "iidx", "ratings", "timestamps"):
        np.testing.assert_array_equal(getattr(again, name), getattr(synthetic, name))
    assert not np.array_equal(other.iidx, synthetic.iidx)
    assert not np.array_equal(other.ratings[:1000], synthetic.ratings[:1000])


@pytest.mark.parametrize("n_users, n_items, n_ratings", [
    (10, 100, 50),       # fewer ratings than items: every user, not every item
    (200, 300, 5_000),   # sparse
    (50, 40, 700),       # dense
    (30, 20, 600),       # every pair
    (1, 1, 1),
])
def test_make_ratings_gives_exactly_n_distinct_ratings(n_users, n_items, n_ratings):
    data = make_ratings(n_users, n_items, n_ratings, factors=3, seed=5)
    assert data.nnz == n_ratings
    keys = data.users.astype(np.int64) * n_items + data.items
    assert len(np.unique(keys)) == n_ratings
    assert data.n_users == min(n_users, n_ratings)    # everyone rates, if n_ratings allows
    assert data.n_items == n_items or n_ratings < n_items
    assert set(np.unique(data.ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_make_ratings_terminates_when_popular_pairs_run_out():
    data = make_ratings(100, 1_000, 20_000, popularity_exponent=3.0, activity_sigma=2.0)
    assert data.nnz == 20_000


def test_make_ratings_attaches_titles_and_dominant_tastes(synthetic):
    info = synthetic.item_info
    assert info.title([17]).tolist() == ["Item 17"]
    assert info.genre_names == [f"Taste {k}" for k in range(1, 11)]
    assert info.genres.sum(axis=1).tolist() == [1] * 1682
    assert make_ratings(20, 10, 50, with_titles=False).item_info is None


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_ratings=201, n_users=20, n_items=10), ValueError, r"at most n_users \* n_items = 200"),
    (dict(n_users=0), ValueError, "n_users must be an integer >= 1, got 0"),
    (dict(factors=2.5), TypeError, "factors must be an integer, got 2.5"),
    (dict(noise=-1.0), ValueError, "noise must be a float >= 0.0, got -1.0"),
    (dict(popularity_exponent="1"), TypeError, "popularity_exponent must be a number"),
    (dict(seed=-3), ValueError, "seed must be None, a non-negative integer"),
])
def test_make_ratings_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_ratings(**kwargs)


# -- make_counts ------------------------------------------------------------------------

def test_make_counts_gives_heavy_tailed_whole_counts_on_distinct_pairs():
    data = make_counts(seed=0)
    counts = data.ratings
    assert data.nnz == 100_000 and data.timestamps is None
    keys = data.users.astype(np.int64) * 20_000 + data.items
    assert len(np.unique(keys)) == 100_000
    assert counts.min() == 1 and (counts == np.rint(counts)).all()
    assert np.median(counts) == 3 and np.mean(counts <= 10) > 0.6     # most are 1 to 10,
    assert 10_000 < counts.max() < 1_000_000                        # a few are huge


def test_make_counts_are_lognormal_with_the_median_and_spread_asked():
    logs = np.log(make_counts(500, 2_000, 50_000, median=1_000.0, spread=0.8, seed=1).ratings)
    assert abs(np.median(logs) - np.log(1_000)) < 0.03
    assert abs(np.std(logs) - 0.8) < 0.03
    flat = make_counts(50, 200, 1_000, median=2.4, spread=0.0, seed=1).ratings
    assert set(flat.tolist()) == {2.0}


def test_make_counts_pairs_follow_a_low_rank_taste():
    def low_rank_share(data):      # of the 0/1 matrix's energy in its 10 largest directions
        dense = np.zeros((data.n_users, data.n_items))
        dense[data.uidx, data.iidx] = 1.0
        dense -= dense.mean(axis=0)
        s = np.linalg.svd(dense, compute_uv=False)
        return np.sum(s[:10] ** 2) / np.sum(s ** 2)
    shape = dict(n_users=400, n_items=1_000, n_interactions=20_000, popularity_exponent=0.0,
                 activity_sigma=0.0, seed=2)
    assert low_rank_share(make_counts(**shape, taste=3.0)) > 1.5 * low_rank_share(
        make_counts(**shape, taste=0.0))


def test_make_counts_is_reproducible_from_its_seed():
    a, b, c = (make_counts(300, 1_000, 5_000, seed=s) for s in (4, 4, 5))
    for name in ("uidx", "iidx", "ratings"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.iidx, c.iidx)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_users=20, n_items=10, n_interactions=51), ValueError,
     r"n_interactions must be at most n_users \* n_items / 4 = 50, got 51"),
    (dict(median=0.0), ValueError, "median must be a float > 0.0, got 0.0"),
    (dict(spread=-1.0), ValueError, "spread must be a float >= 0.0, got -1.0"),
    (dict(taste="high"), TypeError, "taste must be a number"),
])
def test_make_counts_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_counts(**kwargs)


# -- toy and the examples in the docstrings --------------------------------------------

def test_toy_is_the_worked_example():
    data = toy()
    rated = {(u, i): r for u, i, r in zip(*data.to_arrays())}
    assert len(rated) == 11
    assert [rated["Alice", m] for m in ("Sholay", "Swades", "Batman", "Interstellar",
                                        "Shawshank")] == [5, 4, 2, 3, 2]
    assert (rated["Bob", "Swades"], rated["Carol", "Interstellar"]) == (5, 5)
    assert ("Bob", "Sholay") not in rated and ("Carol", "Swades") not in rated
    assert data.user_ids.ids.tolist() == ["Alice", "Bob", "Carol"]
    assert data.item_info.title(["Shawshank", "Sholay"]).tolist() == ["Shawshank", "Sholay"]


def test_docstring_examples_run():
    result = doctest.testmod(fastmf.datasets)
    assert result.attempted > 0 and result.failed == 0
