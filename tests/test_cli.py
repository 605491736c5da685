"""The command line, run for real in subprocesses."""
import os
import re
import subprocess
import sys
from pathlib import Path

import fastmf

from .conftest import SHARED_DATA

SCRIPT = Path(sys.executable).parent / "fastmf"


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fastmf", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


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
    assert 0.5 < rmse < 1.0
    curve = [line.split() for line in out.splitlines() if line[:4].strip() in ("1", "2", "3")]
    assert [row[0] for row in curve[:3]] == ["1", "2", "3"]
    assert "ALS" in result.stderr            # the progress bar
    assert out.count("Item ") >= 10          # five titled items for each of two users


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
    assert 0 < precision < 1
    assert result.stdout.count("Item ") >= 10


def test_demo_with_bpr_ranks_and_shows_the_train_auc():
    result = run("demo", "--model", "bpr", "--iterations", "5", "--factors", "16", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "BPR(" in result.stdout and "train AUC" in result.stdout
    curve = re.findall(r"^ +\d+ +[\d.]+ +([\d.]+) +[\d.]+ +[\d.]+ +[\d.]+$", result.stdout, re.M)
    assert len(curve) == 5 and float(curve[-1]) > float(curve[0]) > 0.5
    ndcg = float(re.search(r"ndcg@10 (\d\.\d+)", result.stdout).group(1))
    assert 0 < ndcg < 1
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
