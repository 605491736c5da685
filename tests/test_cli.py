"""The command line, run for real in subprocesses."""
import csv
import io
import json
import os
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import fastmf

from .conftest import SHARED_DATA

SCRIPT = Path(sys.executable).parent / "fastmf"


def run(*args, env=None, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "fastmf", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "FASTMF_DATA": str(SHARED_DATA),
                                            **(env or {})},
                          cwd=cwd, input=stdin)


def test_help_and_version():
    result = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "demo" in result.stdout
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"fastmf {fastmf.__version__}"


def test_demo_trains_and_shows_rmse_curve_and_recommendations():
    result = run("demo", "--iterations", "3", "--factors", "16")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "test RMSE:" in out and "top 5 for user" in out
    rmse = float(out.split("test RMSE:")[1].split()[0])
    train, test = _demo_split()                # the demo's model, fitted here by the library
    model = fastmf.ALS(factors=16, iterations=3, seed=0, verbose=False).fit(train)
    assert rmse == round(fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items)), 4)
    curve = [line.split() for line in out.splitlines() if line[:4].strip() in ("1", "2", "3")]
    assert [row[0] for row in curve[:3]] == ["1", "2", "3"]
    assert "ALS" in result.stderr            # the progress bar
    assert out.count("Item ") >= 10          # five titled items for each of two users


def _demo_split(implicit=False):
    """The demo's synthetic data and split, built here with the library."""
    data = fastmf.datasets.make_ratings(943, 1682, 100_000, seed=0)
    if implicit:
        users, items, ratings = data.to_arrays()
        data = fastmf.Interactions.from_arrays(users[ratings >= 4], items[ratings >= 4])
    return fastmf.train_test_split(data, test_size=0.2, seed=0)


def test_demo_with_sgd():
    result = run("demo", "--model", "sgd", "--iterations", "5", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "SGD(" in result.stdout and "test RMSE:" in result.stdout
    curve = re.findall(r"^ +\d+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$", result.stdout, re.M)
    assert len(curve) == 5


def test_demo_with_implicit_als_ranks():
    result = run("demo", "--model", "implicit-als", "--iterations", "4", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "ImplicitALS(" in result.stdout and "precision@10" in result.stdout
    precision = float(re.search(r"test: precision@10 (\d\.\d+)", result.stdout).group(1))
    train, test = _demo_split(implicit=True)
    model = fastmf.ImplicitALS(iterations=4, seed=0, verbose=False).fit(train)
    expected = fastmf.metrics.evaluate(model, test, train=train, k=10)["precision@10"]
    assert precision == pytest.approx(expected, abs=1e-4)      # printed to 4 decimals
    assert result.stdout.count("Item ") >= 10


def test_demo_with_bpr_ranks_and_shows_the_train_auc():
    result = run("demo", "--model", "bpr", "--iterations", "5", "--factors", "16", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "BPR(" in result.stdout and "train AUC" in result.stdout
    curve = re.findall(r"^ +\d+ +[\d.]+ +([\d.]+) +[\d.]+ +[\d.]+ +[\d.]+$", result.stdout, re.M)
    assert len(curve) == 5 and float(curve[-1]) > float(curve[0]) > 0.5
    ndcg = float(re.search(r"ndcg@10 (\d\.\d+)", result.stdout).group(1))
    train, test = _demo_split(implicit=True)
    model = fastmf.BPR(factors=16, epochs=5, seed=0, verbose=False).fit(train)
    expected = fastmf.metrics.evaluate(model, test, train=train, k=10)["ndcg@10"]
    assert ndcg == pytest.approx(expected, abs=0.02)     # BPR's two Hogwild threads race
    assert result.stdout.count("Item ") >= 10


def test_demo_on_the_real_movielens_copy_shows_titles():
    result = run("demo", "--data", "movielens:100k", "--iterations", "2", "--quiet",
                 env={"FASTMF_DATA": str(SHARED_DATA)})
    assert result.returncode == 0, result.stderr
    assert "(19" in result.stdout            # MovieLens titles carry their year
    assert result.stderr == ""


def test_errors_exit_nonzero_with_a_message():
    result = run("demo", "--data", "nowhere")
    assert result.returncode == 1
    assert "unknown data set 'nowhere'" in result.stderr
    result = run("demo", "--factors", "0", "--quiet")
    assert result.returncode == 1 and "factors must be an integer >= 1" in result.stderr


# -- train, evaluate, recommend, similar --------------------------------------------------
README = Path(__file__).resolve().parents[1] / "README.md"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def readme_commands():
    """The command lines of the documentation's command-line page
    (docs/user_guide/command_line.md, which README.md links to), in order."""
    text = (README.parent / "docs" / "user_guide" / "command_line.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """The README's commands, run in a folder (``.path``) that holds the files they read and
    write, and each command's result under its command line (``.results``)."""
    folder = tmp_path_factory.mktemp("cli")
    rows = (SHARED_DATA / "ml-100k" / "u.data").read_text().splitlines()
    (folder / "ratings.csv").write_text("user_id,movie_id,stars,timestamp\n"
                                        + "\n".join(row.replace("\t", ",") for row in rows) + "\n")
    (folder / "users.txt").write_text("1\n2\n")
    results = {}
    for line in readme_commands():
        args = shlex.split(line)
        assert args[0] == "fastmf", line
        results[line] = run(*args[1:], cwd=folder)
    return types.SimpleNamespace(path=folder, results=results)


def result(ran, start):
    """The result of the README command line that starts with ``start``."""
    return next(r for line, r in ran.results.items() if line.startswith(start))


def run_in(folder, *args, stdin=None):
    return run(*args, cwd=folder, stdin=stdin)


def test_readme_command_line_examples_run_and_print_what_it_shows(ran):
    assert len(ran.results) >= 6
    for line, outcome in ran.results.items():
        assert outcome.returncode == 0, (line, outcome.stderr)
    line = r"^test[^:\n]*: RMSE (\d\.\d+), MAE (\d\.\d+)"
    quoted = re.search(line, README.read_text(), re.M)
    printed = re.search(line, result(ran, "fastmf train movielens").stdout, re.M)
    for quoted_value, printed_value in zip(quoted.groups(), printed.groups()):
        assert float(printed_value) == pytest.approx(float(quoted_value), abs=3e-4)
    assert "ALS" in result(ran, "fastmf train movielens").stderr      # the progress bar


def test_train_saves_the_model_the_held_out_ratings_and_the_learning_curve(ran):
    out = result(ran, "fastmf train movielens").stdout
    n_test = int(re.search(r"test (\d+)( \(\d+ more test ratings dropped: .*\))?$",
                           out.splitlines()[0]).group(1))
    model = fastmf.load(ran.path / "als.npz")
    assert isinstance(model, fastmf.ALS) and len(model.history_) == 10
    header = (ran.path / "test.csv").read_text().splitlines()[0]
    assert header == "user,item,rating,timestamp"            # MovieLens has timestamps
    test = fastmf.Interactions.from_csv(ran.path / "test.csv", columns=(0, 1, 2, 3), header=True)
    assert test.nnz == n_test
    _, expected = fastmf.train_test_split(fastmf.datasets.load_movielens(
        "100k", data_home=SHARED_DATA, download=False), test_size=0.2, seed=0)
    when = dict(zip(zip(expected.users.tolist(), expected.items.tolist()),
                    expected.timestamps.tolist()))
    assert test.timestamps.tolist() == [when[pair] for pair in zip(test.users.tolist(),
                                                                   test.items.tolist())]
    rmse = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))
    assert f"test (20% of DATA, never seen while fitting): RMSE {rmse:.4f}," in out
    image = (ran.path / "curve.png").read_bytes()
    assert image[:8] == PNG_MAGIC and len(image) > 1000


def test_evaluate_on_the_held_out_file_repeats_the_train_metrics(ran):
    trained = result(ran, "fastmf train movielens").stdout
    rmse, mae = re.search(r"test \(.*\): RMSE (\S+), MAE (\S+) \((\d+)", trained).groups()[:2]
    out = result(ran, "fastmf evaluate als.npz").stdout
    assert re.search(rf"^rmse +{rmse}$", out, re.M) and re.search(rf"^mae +{mae}$", out, re.M)
    assert re.search(r"^ratings_unknown +0$", out, re.M)


def test_evaluate_ranks_without_the_training_items_the_model_file_records(ran, ml100k):
    outcome = run_in(ran.path, "evaluate", "als.npz", "test.csv", "--metrics",
                     "rmse,precision,ndcg", "--k", "5", "--format", "json")
    assert outcome.returncode == 0, outcome.stderr
    scores = json.loads(outcome.stdout)
    assert list(scores) == ["rmse", "ratings", "ratings_unknown", "precision@5", "ndcg@5",
                            "users", "users_skipped"]
    train, test = fastmf.train_test_split(ml100k, test_size=0.2, seed=0)   # train's split
    expected = fastmf.metrics.evaluate(fastmf.load(ran.path / "als.npz"), test, train=train, k=5,
                                       metrics=("precision", "ndcg"))
    for name in ("precision@5", "ndcg@5", "users"):
        assert scores[name] == pytest.approx(expected[name], rel=1e-12)


def test_evaluate_with_the_training_file_excludes_the_same_items(ran, ml100k):
    train, _ = fastmf.train_test_split(ml100k, test_size=0.2, seed=0)     # train's split
    (ran.path / "train.csv").write_text("".join(
        f"{u},{i},{r:g}\n" for u, i, r in zip(*train.to_arrays())))
    outcomes = [run_in(ran.path, "evaluate", "als.npz", "test.csv", "--metrics", "ndcg,auc",
                       *extra) for extra in ([], ["--train", "train.csv"])]
    assert [o.returncode for o in outcomes] == [0, 0], outcomes[1].stderr
    assert outcomes[0].stdout == outcomes[1].stdout and "ndcg@10" in outcomes[0].stdout


def test_implicit_model_scores_on_the_whole_file_as_on_its_held_out_part(ran):
    trained = result(ran, "fastmf train ratings.csv").stdout
    assert "ImplicitALS(alpha=4" in trained
    precision, ndcg, users = re.search(r"test \(.*\): precision@10 (\S+), NDCG@10 (\S+) "
                                       r"\((\d+) users", trained).groups()
    out = result(ran, "fastmf evaluate implicit.npz").stdout
    table = dict(line.split() for line in out.splitlines())
    assert list(table) == ["precision@10", "recall@10", "ndcg@10", "map@10", "auc", "users",
                           "users_skipped"]
    assert (table["precision@10"], table["ndcg@10"], table["users"]) == (precision, ndcg, users)


def test_recommend_prints_the_model_recommendations_with_titles(ran):
    model = fastmf.load(ran.path / "als.npz")
    lines = result(ran, "fastmf recommend als.npz").stdout.splitlines()
    assert lines[0].split() == ["user", "rank", "item", "score", "title"]
    items, scores = model.recommend(1, n=5)
    titles = model.item_info_.title(items)
    for line, item, score, title in zip(lines[1:], items, scores, titles):
        assert line.split(maxsplit=4) == ["1", line.split()[1], str(item), f"{score:.4f}", title]
    assert len(lines) == 6


def test_recommend_batch_from_a_users_file_as_json_and_from_stdin_as_csv(ran):
    model = fastmf.load(ran.path / "implicit.npz")
    rows = json.loads(result(ran, "fastmf recommend implicit.npz").stdout)
    items, scores, _ = model.recommend_batch([1, 2], n=3)
    assert [(r["user"], r["rank"], r["item"]) for r in rows] == [
        (user, rank + 1, int(items[u, rank])) for u, user in enumerate([1, 2]) for rank in range(3)]
    assert [r["score"] for r in rows] == pytest.approx(scores.ravel().tolist(), rel=1e-6)
    assert "title" not in rows[0]                # a CSV file has no titles

    outcome = run_in(ran.path, "recommend", "als.npz", "--users-file", "-", "-n", "2",
                     "--include-seen", "--format", "csv", stdin="7\n\n 3 \n")
    assert outcome.returncode == 0, outcome.stderr
    rows = list(csv.DictReader(io.StringIO(outcome.stdout)))
    assert list(rows[0]) == ["user", "rank", "item", "score", "title"]
    model = fastmf.load(ran.path / "als.npz")
    for user, pair in zip(["7", "3"], [rows[:2], rows[2:]]):
        expected, _ = model.recommend(int(user), n=2, filter_seen=False)
        assert [r["user"] for r in pair] == [user, user]
        assert [int(r["item"]) for r in pair] == expected.tolist()
    assert len(rows) == 4


def test_similar_prints_the_nearest_items_by_cosine(ran):
    model = fastmf.load(ran.path / "als.npz")
    rows = list(csv.DictReader(io.StringIO(result(ran, "fastmf similar als.npz").stdout)))
    items, cosines = model.similar_items(50, n=5)
    assert [int(r["similar"]) for r in rows] == items.tolist()
    assert [float(r["cosine"]) for r in rows] == pytest.approx(cosines.tolist(), rel=1e-6)
    assert [r["title"] for r in rows] == model.item_info_.title(items).tolist()
    assert {r["item"] for r in rows} == {"50"} and [r["rank"] for r in rows] == list("12345")


def test_string_ids_from_a_tsv_file_with_named_columns(tmp_path):
    data = fastmf.datasets.make_ratings(120, 60, 2400, seed=3)
    users, items, ratings = data.to_arrays()
    lines = ["when\twho\twhat\tstars"] + [f"0\tu{u}\tfilm {i}\t{r:g}"
                                          for u, i, r in zip(users, items, ratings)]
    (tmp_path / "ratings.tsv").write_text("\n".join(lines) + "\n")
    outcome = run_in(tmp_path, "train", "ratings.tsv", "--header", "--columns", "who,what,stars",
                     "--factors", "4", "--iterations", "3", "--quiet", "-o", "model")
    assert outcome.returncode == 0, outcome.stderr
    assert "model saved to model.npz" in outcome.stdout and "test (20% of DATA" in outcome.stdout
    model = fastmf.load(tmp_path / "model.npz")
    assert model.user_ids_.ids.dtype.kind == "U"
    outcome = run_in(tmp_path, "recommend", "model.npz", "--user", "u7", "-n", "3")
    expected, _ = model.recommend("u7", n=3)
    assert outcome.returncode == 0, outcome.stderr
    table = [re.split(r" {2,}", line.strip()) for line in outcome.stdout.splitlines()]
    assert table[0] == ["user", "rank", "item", "score"]       # no titles in a TSV file
    assert [row[2] for row in table[1:]] == expected.tolist()
    outcome = run_in(tmp_path, "similar", "model.npz", "--item", "film 5", "--item", "film 6",
                     "-n", "2", "--format", "json")
    rows = json.loads(outcome.stdout)
    assert [r["item"] for r in rows] == ["film 5", "film 5", "film 6", "film 6"]
    assert [r["similar"] for r in rows[:2]] == model.similar_items("film 5", n=2)[0].tolist()


def test_implicit_counts_from_two_columns_with_a_separator_and_repeated_pairs(tmp_path):
    data = fastmf.datasets.make_ratings(150, 80, 3000, seed=1)
    users, items, ratings = data.to_arrays()
    clicks = "".join(f"{u}\t{i}\n" * int(r) for u, i, r in zip(users, items, ratings))
    (tmp_path / "clicks.txt").write_text(clicks)
    args = ["train", "clicks.txt", "--sep", "tab", "--columns", "0,1", "--model", "implicit-als",
            "--iterations", "2", "--factors", "8", "--quiet", "-o", "clicks.npz"]
    outcome = run_in(tmp_path, *args)
    assert outcome.returncode == 1
    assert "rated item" in outcome.stderr
    assert "pass --duplicates last, sum or mean to combine" in outcome.stderr
    outcome = run_in(tmp_path, *args, "--duplicates", "sum", "--test-size", "0")
    assert outcome.returncode == 0, outcome.stderr
    assert f"{data.nnz} ratings (clicks.txt)" in outcome.stdout and "final loss" in outcome.stdout
    model = fastmf.load(tmp_path / "clicks.npz")          # the counts, summed, as values
    expected = fastmf.ImplicitALS(factors=8, iterations=2, seed=0, verbose=False).fit(data)
    np.testing.assert_allclose(model.user_factors_, expected.user_factors_, rtol=1e-4, atol=1e-6)


def test_train_sgd_on_synthetic_data_without_a_held_out_part(tmp_path):
    outcome = run_in(tmp_path, "train", "synthetic:5000", "--model", "sgd", "--iterations", "3",
                     "--factors", "8", "--test-size", "0", "--quiet", "--threads", "1",
                     "--output", "sgd.npz")
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stderr == ""
    first, second, third, fourth = outcome.stdout.splitlines()[:4]
    assert first.startswith("data: ") and "5000 ratings (synthetic:5000)" in first
    assert "3 epochs on all of DATA (5000 ratings) in" in second
    assert third == "test: none (--test-size 0: every rating was trained on)"
    assert fourth.startswith("train (seen while fitting, so optimistic): RMSE ")
    model = fastmf.load(tmp_path / "sgd.npz")
    assert isinstance(model, fastmf.SGD) and model.get_params()["epochs"] == 3
    assert model.item_info_.title([0])[0] == "Item 0"


def test_train_on_a_local_dask_cluster_saves_the_one_machine_model(tmp_path):
    # early stopping on the cluster watches the same validation part and refits the same way
    common = ("train", "synthetic:20000", "--iterations", "8", "--factors", "8", "--quiet",
              "--model", "als", "--param", "early_stopping=1")
    outcome = run_in(tmp_path, *common, "--dask-workers", "2", "--output", "dask.npz")
    assert outcome.returncode == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert re.fullmatch(r"training on the Dask cluster at tcp://127\.0\.0\.1:\d+ \(2 workers\)",
                        lines[1])
    here = run_in(tmp_path, *common, "--output", "here.npz")
    assert here.returncode == 0, here.stderr
    validation = here.stdout.splitlines()[1]
    assert validation.startswith("validation (20% of each user's training ratings, ")
    assert lines[2] == validation
    stopped = int(re.search(r"at iteration (\d+) of", validation).group(1))
    assert lines[3].startswith(f"ALS(factors=8, iterations={stopped}, seed=0, verbose=False): "
                               f"{stopped} iterations, as early stopping chose, on the whole "
                               f"training part")
    dask, here = fastmf.load(tmp_path / "dask.npz"), fastmf.load(tmp_path / "here.npz")
    assert type(dask) is fastmf.ALS and dask.n_iter_ == stopped
    np.testing.assert_array_equal(dask.user_factors_, here.user_factors_)
    refused = run_in(tmp_path, *common[:-4], "--model", "bpr", "--dask-workers", "2",
                     "-o", "b.npz")
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("fastmf train: error: --scheduler and --dask-workers train "
                                      "als and implicit-als; BPR trains on one machine only")


def test_train_keeps_ids_as_text_and_reads_other_encodings(tmp_path):
    rows = [f"{u:03d},{i},{(u + i) % 5 + 1}" for u in range(1, 30) for i in range(u % 7, 12, 2)]
    (tmp_path / "zeros.csv").write_bytes(("\n".join(["Zoë,0,5"] + rows) + "\n").encode("latin-1"))
    common = ("train", "zeros.csv", "--iterations", "2", "--factors", "2", "--quiet",
              "--test-size", "0", "--encoding", "latin-1")
    outcome = run_in(tmp_path, *common, "--id-dtype", "str", "-o", "m.npz")
    assert outcome.returncode == 0, outcome.stderr
    ids = fastmf.load(tmp_path / "m.npz").user_ids_.ids
    assert "001" in ids.tolist() and "Zoë" in ids.tolist()
    refused = run_in(tmp_path, *common[:-2], "-o", "m.npz")
    assert refused.returncode == 1 and "zeros.csv, line 1: not utf-8 text" in refused.stderr


def _synthetic(n_ratings):
    """The data of DATA synthetic:N, built here with the library."""
    return fastmf.datasets.make_ratings(*_synthetic_shape(n_ratings), n_ratings, seed=0)


def _pairs(data):
    return set(zip(data.users.tolist(), data.items.tolist()))


@pytest.fixture
def fits(monkeypatch):
    """Every (train, validation) that ALS.fit and ImplicitALS.fit receive in this process."""
    calls = []
    for cls in (fastmf.ALS, fastmf.ImplicitALS):
        def spy(self, train, validation=None, callbacks=(), _fit=cls.fit):
            calls.append((train, validation))
            return _fit(self, train, validation=validation, callbacks=callbacks)
        monkeypatch.setattr(cls, "fit", spy)
    return calls


def test_early_stopping_watches_a_validation_part_of_train_and_never_the_test_part(tmp_path,
                                                                                fits):
    from fastmf.cli import main
    out = io.StringIO()
    status = main(["train", "synthetic:20000", "--factors", "8", "--iterations", "12",
                   "--param", "early_stopping=2", "--quiet", "--threads", "1",
                   "-o", str(tmp_path / "m.npz")], out=out)
    assert status == 0
    # the parts, built here: test at random from DATA, validation per user from train
    train, test = fastmf.train_test_split(_synthetic(20000), test_size=0.2, seed=0)
    rest, val = fastmf.train_test_split(train, test_size=0.2, seed=0, strategy="per_user")
    params = dict(factors=8, seed=0, num_threads=1, verbose=False)
    probe = fastmf.ALS(iterations=12, early_stopping=2, **params)
    history = probe.fit(rest, validation=val).history_
    best = min(history, key=lambda row: row["val_rmse"])
    final = fastmf.ALS(iterations=best["iteration"], **params).fit(train)
    fits[:] = fits[:2]                               # the fits main made, not those here
    (fit_part, watched), (whole, none) = fits
    assert _pairs(watched) == _pairs(val) and _pairs(fit_part) == _pairs(rest)
    assert not _pairs(watched) & _pairs(test) and not _pairs(fit_part) & _pairs(test)
    assert _pairs(whole) == _pairs(train) and none is None
    saved = fastmf.load(tmp_path / "m.npz")
    assert saved.n_iter_ == best["iteration"] and saved.early_stopping is None
    np.testing.assert_allclose(saved.item_factors_, final.item_factors_, rtol=1e-5, atol=1e-7)
    rmse = fastmf.metrics.rmse(test.ratings, final.predict(test.users, test.items))
    lines = out.getvalue().splitlines()
    assert lines[2] == (f"validation (20% of each user's training ratings, {val.nnz} ratings): "
                        f"best RMSE {best['val_rmse']:.4f} at iteration {best['iteration']} of "
                        f"{len(history)} (early stopping, patience 2)")
    assert lines[4].startswith(f"test (20% of DATA, never seen while fitting): RMSE {rmse:.4f}, ")


def test_a_plain_train_fits_once_and_scores_nothing_per_iteration(tmp_path, fits):
    from fastmf.cli import main
    for model, extra in (("als", []), ("implicit-als", ["--plot", "c.png", "--validation", "0"])):
        fits.clear()
        path = tmp_path / f"{model}.npz"
        status = main(["train", "synthetic:5000", "--model", model, "--iterations", "3",
                       "--factors", "4", "--quiet", "-o", str(path),
                       *[str(tmp_path / arg) if arg.endswith(".png") else arg for arg in extra]],
                      out=io.StringIO())
        assert status == 0
        assert len(fits) == 1 and fits[0][1] is None
        keys = set().union(*fastmf.load(path).history_)
        assert not [key for key in keys if key.startswith("val_")]
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG_MAGIC   # the training curve only


def test_plot_draws_the_validation_curve_of_a_fit_without_the_validation_part(tmp_path, fits):
    from fastmf.cli import main
    out = io.StringIO()
    status = main(["train", "synthetic:5000", "--iterations", "3", "--factors", "4", "--quiet",
                   "--validation", "0.25", "-o", str(tmp_path / "m.npz"),
                   "--plot", str(tmp_path / "c.png")], out=out)
    assert status == 0
    train, _ = fastmf.train_test_split(_synthetic(5000), test_size=0.2, seed=0)
    rest, val = fastmf.train_test_split(train, test_size=0.25, seed=0, strategy="per_user")
    assert [(_pairs(a), b is not None and _pairs(b)) for a, b in fits] == [
        (_pairs(rest), _pairs(val)), (_pairs(train), False)]
    assert re.search(r"^validation \(25% of each user's training ratings, \d+ ratings\), for "
                     r"--plot: RMSE \d\.\d{4} at the last iteration \(3\)", out.getvalue(), re.M)
    assert fastmf.load(tmp_path / "m.npz").n_iter_ == 3             # the iterations as given
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG_MAGIC


def test_the_test_output_reads_back_whole_with_or_without_header(tmp_path):
    data = fastmf.datasets.make_ratings(100, 60, 3000, seed=5)
    rows = [f"{u},{i},{r / 3:g}" for u, i, r in zip(*data.to_arrays())]     # 4.33333 and such
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    outcome = run_in(tmp_path, "train", "r.csv", "--model", "als", "--iterations", "3",
                     "--factors", "4", "--quiet", "-o", "m.npz", "--test-output", "t.csv")
    assert outcome.returncode == 0, outcome.stderr
    _, test = fastmf.train_test_split(fastmf.Interactions.from_csv(tmp_path / "r.csv"),
                                      test_size=0.2, seed=0)
    text = (tmp_path / "t.csv").read_text().splitlines()
    assert text[0] == "user,item,rating" and len(text) == test.nnz + 1
    rmse = re.search(r"RMSE (\S+),", outcome.stdout).group(1)
    for extra in (["--header"], []):
        scored = run_in(tmp_path, "evaluate", "m.npz", "t.csv", *extra)
        assert scored.returncode == 0, scored.stderr
        assert re.search(rf"^ratings +{test.nnz}$", scored.stdout, re.M)     # none dropped
        assert re.search(rf"^rmse +{rmse}$", scored.stdout, re.M)


# -- the model family of --model auto ------------------------------------------------------
def test_auto_takes_star_ratings_for_als():
    from fastmf.cli._models import choose_model
    stars = np.loadtxt(SHARED_DATA / "ml-100k" / "u.data", usecols=2)
    assert choose_model(stars) == ("als", "the values look like ratings on a scale: 5 values "
                                          "from 1 to 5")
    halves = np.arange(1, 21) / 2                     # 0.5 to 10 in steps of 0.5
    assert choose_model(halves)[0] == "als"


def test_auto_takes_binary_data_and_counts_for_implicit_als():
    from fastmf.cli._models import choose_model
    assert choose_model(np.ones(500)) == ("implicit-als",
                                          "every value is 1: which pairs occur, not how much")
    plays = np.random.default_rng(0).zipf(1.6, 20_000).astype(np.float64)      # heavy-tailed
    assert choose_model(plays) == ("implicit-als",
                                   f"the values look like counts: 1 to {plays.max():g}")
    minutes = np.random.default_rng(1).lognormal(2.0, 1.5, 5000)
    name, reason = choose_model(minutes)
    assert name == "implicit-als" and reason.startswith("the values look like amounts: ")
    assert choose_model([4.0, 5.0, 3.0], min_rating=4) == (
        "implicit-als", "--min-rating 4 makes positives of the ratings")


def test_auto_takes_decimal_and_negative_ratings_for_als():
    from fastmf.cli._models import choose_model
    rng = np.random.default_rng(2)
    averages = np.round(rng.uniform(1.0, 5.0, 3000), 2)          # e.g. averaged ratings
    name, reason = choose_model(averages)
    assert name == "als" and reason.startswith("the values look like ratings: 1")
    jokes = np.round(rng.uniform(-10.0, 10.0, 3000), 2)        # Jester's scale
    assert choose_model(jokes) == ("als", f"the values look like ratings: some are below 0 "
                                          f"({jokes.min():g} to {jokes.max():g})")


def test_train_and_tune_without_model_say_what_auto_chose(tmp_path):
    data = fastmf.datasets.make_ratings(80, 40, 1200, seed=4)
    users, items, ratings = data.to_arrays()
    plays = np.random.default_rng(0).zipf(1.6, data.nnz)
    (tmp_path / "plays.csv").write_text("".join(f"{u},{i},{p}\n"
                                                for u, i, p in zip(users, items, plays)))
    trained = run_in(tmp_path, "train", "plays.csv", "--iterations", "2", "--factors", "4",
                     "--quiet", "-o", "plays.npz")
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.splitlines()[1] == (f"model: implicit-als (the values look like counts: "
                                              f"1 to {plays.max()}); pass --model to choose")
    assert type(fastmf.load(tmp_path / "plays.npz")) is fastmf.ImplicitALS
    tuned = run_in(tmp_path, "tune", "synthetic:2000", "--iterations", "2", "--factors", "4",
                   "--budget", "1", "--quiet", "-o", "stars.npz")
    assert tuned.returncode == 0, tuned.stderr
    assert tuned.stdout.splitlines()[1] == ("model: als (the values look like ratings on a "
                                            "scale: 5 values from 1 to 5); pass --model to "
                                            "choose")
    assert "rmse" in tuned.stdout.splitlines()[3].split()
    assert type(fastmf.load(tmp_path / "stars.npz")) is fastmf.ALS


def test_model_registry_maps_names_to_classes():
    from fastmf.cli import MODELS
    assert MODELS["als"] is fastmf.ALS and MODELS["sgd"] is fastmf.SGD
    assert MODELS["implicit-als"] is fastmf.ImplicitALS and MODELS["bpr"] is fastmf.BPR
    assert sorted(MODELS) == ["als", "bpr", "implicit-als", "sgd"]


@pytest.mark.parametrize("command", ["train", "evaluate", "recommend", "similar"])
def test_every_command_has_help(command):
    outcome = run(command, "--help")
    assert outcome.returncode == 0 and outcome.stdout.startswith(f"usage: fastmf {command}")
    assert "--format" in outcome.stdout or "--output" in outcome.stdout


@pytest.mark.parametrize("args, message", [
    (["train", "missing.csv", "-o", "m.npz"], "no such file: 'missing.csv'"),
    (["train", "ratings.csv", "--header", "--columns", "user_id,film,stars", "-o", "m.npz"],
     "column 'film' not in header ['user_id', 'movie_id', 'stars', 'timestamp']"),
    (["train", "ratings.csv", "--no-header", "--columns", "user_id,movie_id", "-o", "m.npz"],
     "names the field 'user_id', which needs the header line that --no-header rules out"),
    (["train", "synthetic", "--param", "alpah=1", "-o", "m.npz"],
     "neither ALS nor ImplicitALS has a parameter 'alpah'"),
    (["train", "synthetic", "--model", "als", "--param", "alpah=1", "-o", "m.npz"],
     "ALS has no parameter 'alpah'"),
    (["train", "synthetic", "--param", "alpha=2", "-o", "m.npz"],
     "ALS has no parameter 'alpha'; the parameters are factors, "),
    (["train", "synthetic", "--model", "als", "--min-rating", "4", "-o", "m.npz"],
     "use --model implicit-als"),
    (["train", "synthetic", "--param", "early_stopping=2", "--validation", "0", "-o", "m.npz"],
     "--param early_stopping=2 watches a validation part, and --validation 0 carves none"),
    (["train", "synthetic", "--validation", "1", "-o", "m.npz"],
     "--validation must be at least 0 and below 1, got 1.0"),
    (["train", "synthetic", "-o", "nowhere/m.npz"], "the directory 'nowhere' does not exist"),
    (["recommend", "damaged.npz", "--user", "1"],
     "cannot load 'damaged.npz': the file is damaged or truncated"),
    (["recommend", "als.npz", "--user", "99999"], "user 99999 is not in the model (943 users"),
    (["recommend", "als.npz", "--user", "u1"], "user id 'u1' is not an integer"),
    (["similar", "als.npz", "--item", "5000"], "item 5000 is not in the model (1643 items"),
    (["evaluate", "implicit.npz", "test.csv", "--metrics", "rmse"],
     "rmse compares predicted ratings, which ImplicitALS does not make"),
    (["evaluate", "als.npz", "test.csv", "--metrics", "rmse,ndgc"], "unknown metric 'ndgc'"),
])
def test_user_errors_print_one_line_and_exit_1(ran, args, message):
    (ran.path / "damaged.npz").write_bytes(b"PK\x03\x04 not really an archive")
    outcome = run_in(ran.path, *args)
    assert outcome.returncode == 1
    assert outcome.stderr.startswith(f"fastmf {args[0]}: error: ")
    assert message in outcome.stderr and outcome.stderr.count("\n") == 1
    assert outcome.stdout == ""


def test_plot_without_matplotlib_says_how_to_install_it_before_training(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from fastmf.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    outcome = subprocess.run([sys.executable, "-c", code, "train", "synthetic", "--quiet",
                              "-o", "m.npz", "--plot", "curve.png"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert outcome.returncode == 1 and outcome.stdout == ""
    assert outcome.stderr == ('fastmf train: error: --plot needs matplotlib, which is not '
                              'installed; install it with pip install "fastmf-recsys[plot]" (or pip '
                              'install matplotlib)\n')
    assert list(tmp_path.iterdir()) == []


def test_a_malformed_command_line_exits_2_with_the_usage():
    outcome = run("train", "synthetic")
    assert outcome.returncode == 2
    assert "usage: fastmf train" in outcome.stderr
    assert "the following arguments are required: --output/-o" in outcome.stderr


def test_tune_prints_the_trials_and_saves_the_refitted_best(tmp_path):
    path = tmp_path / "best.npz"
    result = run("tune", "synthetic:3000", "--model", "implicit-als", "--factors", "4",
                 "--iterations", "3", "--budget", "2", "--space", "regularization=0.01:10:log",
                 "--space", "alpha=1,4", "--seed", "1", "--quiet", "--output", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("halving + refine search:") and "best ndcg@10" in lines[1]
    assert lines[2].split() == ["rank", "trial", "regularization", "alpha", "iterations",
                                "ndcg@10", "seconds"]
    best = dict(part.split("=") for part in lines[-2].removeprefix("best: ").split(", "))
    model = fastmf.load(path)
    assert model.regularization == float(best["regularization"])
    assert model.alpha == float(best["alpha"]) and model.factors == 4
    # the library's own search from the same seed finds the same parameters
    data = fastmf.datasets.make_ratings(*_synthetic_shape(3000), 3000, seed=0)
    expected = fastmf.tune(fastmf.ImplicitALS(factors=4, iterations=3, seed=1, verbose=False),
                           data, budget=2, seed=1, verbose=False,
                           space={"regularization": (0.01, 10.0, "log"), "alpha": [1, 4]})
    assert model.regularization == expected.best_params["regularization"]
    assert np.allclose(model.item_factors_, expected.best_model.item_factors_)


def _synthetic_shape(n_ratings):
    scale = (n_ratings / 100_000) ** 0.5
    return max(10, round(943 * scale)), max(10, round(1682 * scale))


@pytest.mark.parametrize("args, message", [
    (["--space", "regularization"], "NAME=LOW:HIGH"),
    (["--space", "alpha=1:2:lin"], "LOW:HIGH:log"),
    (["--space", "alpha_=1,2"], "neither ALS nor ImplicitALS has a parameter 'alpha_'"),
    (["--model", "implicit-als", "--metric", "rmse"], "unknown metric"),
    (["--metric", "ndgc"], "unknown --metric")])
def test_tune_reports_bad_options_in_one_line(tmp_path, args, message):
    result = run("tune", "synthetic:2000", "--quiet", "-o", str(tmp_path / "m.npz"), *args)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert result.stderr.startswith("fastmf tune: error:")


def test_tune_prints_every_trial_and_the_failed_ones_with_their_error(tmp_path):
    # 32 factors over 20 items: regularization 1e-12 leaves YᵀY singular, Cholesky fails
    data = fastmf.datasets.make_ratings(60, 20, 600, seed=0)
    (tmp_path / "r.csv").write_text("".join(f"{u},{i},{r:g}\n"
                                            for u, i, r in zip(*data.to_arrays())))
    result = run_in(tmp_path, "tune", "r.csv", "--model", "implicit-als", "--factors", "32",
                    "--iterations", "2", "--space", "regularization=1e-12,1.0", "--strategy",
                    "random", "--budget", "30", "--refine", "0", "--quiet", "-o", "m.npz")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:]
            if re.match(r" *\d+ +\d+ ", line)]
    assert len(rows) == 30 and "more" not in result.stdout        # the whole table
    failed = [row for row in rows if float(row[2]) == 1e-12]
    assert failed and all(row[4] == "-" and row[6:9] == ["ModelFitError:", "Cholesky", "failed"]
                          for row in failed)
    assert all(row[4] != "-" and len(row) == 6 for row in rows if float(row[2]) == 1.0)
    assert result.stderr.startswith(f"tune: {len(failed)} of 30 trials failed, the first ")
    assert result.stderr.count("\n") == 1
    assert fastmf.load(tmp_path / "m.npz").regularization == 1.0


def test_named_columns_read_the_header_line_without_header_flag(ran):
    outcome = run_in(ran.path, "train", "ratings.csv", "--columns", "user_id,movie_id,stars",
                     "--model", "als", "--iterations", "1", "--quiet", "-o", "named.npz")
    assert outcome.returncode == 0, outcome.stderr
    assert "100000 ratings" in outcome.stdout


def test_train_reports_the_test_ratings_the_split_dropped(tmp_path):
    rows = [f"{u},{i},{1 + (u + i) % 5}" for u in range(40) for i in range(8)]
    rows += [f"{100 + u},{100 + u},3" for u in range(30)]    # 30 users and items seen once
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    data = fastmf.Interactions.from_csv(tmp_path / "r.csv")
    with pytest.warns(fastmf.FastMFWarning, match="test ratings were dropped"):
        train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    assert test.n_unseen > 0
    outcome = run_in(tmp_path, "train", "r.csv", "--model", "als", "--iterations", "1",
                     "--quiet", "-o", "m.npz")
    assert outcome.returncode == 0 and outcome.stderr == ""          # said once, in the report
    assert (f"train {train.nnz}, test {test.nnz} ({test.n_unseen} more test ratings dropped: "
            f"their user or item has no rating left in the training part)") in outcome.stdout
    written = run_in(tmp_path, "train", "r.csv", "--model", "als", "--iterations", "1",
                     "--quiet", "-o", "m.npz", "--test-output", "t.csv")
    assert written.returncode == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no temp
