"""The command line on the files people have: detected separators and header lines, and an
items file of their own (--items) whose titles recommend and similar print."""
import json
import os
import subprocess
import sys

import fastmf

ARTISTS = {1: "Queen", 2: "Björk", 3: "Earth, Wind & Fire", 4: "Nina Simone", 5: "Miles Davis",
           6: "Portishead"}
TAGS = {1: "rock", 2: "electronic|pop", 3: "funk|soul", 4: "jazz|soul", 5: "jazz", 6: "electronic"}


def run(folder, *args):
    return subprocess.run([sys.executable, "-m", "fastmf", *args], capture_output=True,
                          text=True, timeout=300, cwd=folder, env=dict(os.environ))


def plays(folder):
    """A tab-separated listening history with a header line, as hetrec's user_artists.dat."""
    lines = ["userID\tartistID\tweight"]
    for user in range(1, 41):
        for artist in ARTISTS:
            if (user + artist) % 3:
                lines.append(f"{user}\t{artist}\t{(user * artist) % 40 + 1}")
    (folder / "plays.dat").write_text("\n".join(lines) + "\n")
    (folder / "artists.csv").write_text("id,name,tags\n" + "".join(
        f'{artist},"{name}",{TAGS[artist]}\n' for artist, name in ARTISTS.items()))


def table(stdout):
    return [line.split("  ") for line in stdout.splitlines()]


def test_train_with_items_then_recommend_and_similar_print_the_titles(tmp_path):
    plays(tmp_path)
    trained = run(tmp_path, "train", "plays.dat", "--items", "artists.csv", "--model",
                  "implicit-als", "--factors", "3", "--iterations", "3", "--test-size", "0",
                  "--quiet", "-o", "model.npz")
    assert trained.returncode == 0, trained.stderr
    assert "data: 40 users, 6 items" in trained.stdout
    model = fastmf.load(tmp_path / "model.npz")
    outcome = run(tmp_path, "recommend", "model.npz", "--user", "7", "-n", "3", "--format", "json")
    assert outcome.returncode == 0, outcome.stderr
    rows = json.loads(outcome.stdout)
    expected, _ = model.recommend(7, n=3)
    assert [row["item"] for row in rows] == expected.tolist()
    assert [row["title"] for row in rows] == [ARTISTS[item] for item in expected.tolist()]
    outcome = run(tmp_path, "similar", "model.npz", "--item", "3", "-n", "2", "--format", "csv")
    assert outcome.returncode == 0, outcome.stderr
    header, *lines = outcome.stdout.splitlines()
    assert header == "item,rank,similar,cosine,title"
    similar, _ = model.similar_items(3, n=2)
    for line, other in zip(lines, similar.tolist()):
        assert line.startswith("3,") and line.endswith(f",{ARTISTS[other]}")


def test_a_movielens_1m_style_pair_of_dat_files_with_categories_as_features(tmp_path):
    movies = {1: ("Toy Story (1995)", "Animation|Children's|Comedy"),
              2: ("Amélie (2001)", "Comedy|Romance"), 3: ("Heat (1995)", "Action|Crime"),
              4: ("Léon (1994)", "Action|Crime|Drama")}
    (tmp_path / "movies.dat").write_bytes("".join(
        f"{movie}::{title}::{genres}\n" for movie, (title, genres) in movies.items())
        .encode("latin-1"))
    (tmp_path / "ratings.dat").write_text("".join(
        f"{user}::{movie}::{(user + movie) % 5 + 1}::97830{user:04d}\n"
        for user in range(1, 31) for movie in movies))
    trained = run(tmp_path, "train", "ratings.dat", "--items", "movies.dat", "--columns",
                  "0,1,2,3", "--param", "item_features=genres", "--factors", "2",
                  "--iterations", "2", "--quiet", "-o", "als.npz")
    assert trained.returncode == 0, trained.stderr
    model = fastmf.load(tmp_path / "als.npz")
    assert model.feature_names_.tolist() == ["Action", "Animation", "Children's", "Comedy",
                                             "Crime", "Drama", "Romance"]
    outcome = run(tmp_path, "recommend", "als.npz", "--user", "5", "-n", "4", "--include-seen")
    assert outcome.returncode == 0, outcome.stderr
    rows = table(outcome.stdout)
    assert rows[0][-1].strip() == "title"
    assert sorted(row[-1].strip() for row in rows[1:]) == sorted(t for t, _ in movies.values())


def test_items_columns_pick_the_fields_of_an_items_file(tmp_path):
    plays(tmp_path)
    (tmp_path / "catalog.tsv").write_text("genre\tartist\tname\n" + "".join(
        f"{TAGS[a]}\t{a}\t{name}\n" for a, name in ARTISTS.items()))
    trained = run(tmp_path, "train", "plays.dat", "--items", "catalog.tsv", "--items-columns",
                  "artist,name,genre", "--model", "bpr", "--iterations", "2", "--test-size",
                  "0", "--quiet", "-o", "bpr.npz")
    assert trained.returncode == 0, trained.stderr
    info = fastmf.load(tmp_path / "bpr.npz").item_info_
    assert info.title([3, 2]).tolist() == ["Earth, Wind & Fire", "Björk"]
    assert info.genres_of(4) == ["jazz", "soul"]


def test_a_whitespace_file_and_a_header_that_must_be_named(tmp_path):
    (tmp_path / "ratings.txt").write_text("".join(
        f"u{u}   m{m}  {(u * m) % 5 + 1}\n" for u in range(1, 21) for m in range(1, 9)))
    trained = run(tmp_path, "train", "ratings.txt", "--factors", "2", "--iterations", "2",
                  "--quiet", "-o", "m.npz")
    assert trained.returncode == 0, trained.stderr
    assert "data: 20 users, 8 items, 160 ratings" in trained.stdout
    plays(tmp_path)
    refused = run(tmp_path, "train", "plays.dat", "--no-header", "-o", "m.npz")
    assert refused.returncode == 1
    assert refused.stderr == ("fastmf train: error: plays.dat, line 1: rating 'weight' is not a "
                              "number; the first line looks like a header (userID, artistID, "
                              "weight): pass header=True (--header on the command line)\n")


def test_items_file_errors_are_one_line(tmp_path):
    plays(tmp_path)
    (tmp_path / "other.csv").write_text("a,Queen\nb,Björk\n")
    cases = [(["--items", "absent.csv"], "--items: no such file: 'absent.csv'"),
             (["--items-columns", "0,1"], "--items-columns goes with --items FILE"),
             (["--items", "other.csv"], "none of the 6 items of the data is in --items "
                                        "other.csv: the data's item ids are like 1, 2, 3, the "
                                        "items file's like 'a', 'b'; check its id column "
                                        "(--items-columns) and --id-dtype")]
    for extra, message in cases:
        outcome = run(tmp_path, "train", "plays.dat", *extra, "-o", "m.npz")
        assert outcome.returncode == 1
        assert outcome.stderr.startswith("fastmf train: error: ") and message in outcome.stderr
        assert outcome.stderr.count("\n") == 1
