"""fastmf.ALS end to end: accuracy on MovieLens 100K, prediction fallbacks, recommend,
history, early stopping, callbacks, interruption and parameters."""
import numpy as np
import pytest

import fastmf
from fastmf import ALS, ModelFitError

from . import reference
from .conftest import synthetic

# The README's example settings for MovieLens 100K.
README_PARAMS = dict(factors=128, regularization=1.1, bias_regularization=3.0, weighted=0.5,
                     init_std=0.003, iterations=5, seed=0)


def test_movielens_100k_test_rmse(ml100k_split):
    train, test = ml100k_split
    assert test.n_unseen > 0 and train.nnz + test.nnz + test.n_unseen == 100_000
    model = ALS(**README_PARAMS, verbose=False).fit(train)
    rmse = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))
    assert rmse <= 0.905


def test_predictions_are_clipped_to_the_training_range_unless_asked_not_to():
    data = synthetic(30, 20, density=0.7, seed=1)
    model = ALS(factors=8, regularization=0.01, bias_regularization=0.01, weighted=False,
                iterations=5, dtype="float64", seed=0, verbose=False).fit(data)
    users, items = np.repeat(np.arange(30), 20), np.tile(np.arange(20), 30)
    raw = model.predict(users, items, clip=False)
    clipped = model.predict(users, items)
    assert raw.min() < 1 or raw.max() > 5
    assert clipped.min() >= 1 and clipped.max() <= 5


def test_early_stopping_keeps_the_best_iteration(ml100k_split):
    train, test = ml100k_split
    # Tiny regularization overfits after a few iterations: validation RMSE turns upward.
    model = ALS(factors=32, regularization=0.005, iterations=30, early_stopping=2, seed=0,
                verbose=False).fit(train, validation=test)
    val = [h["val_rmse"] for h in model.history_]
    assert len(val) < 30
    assert val[-1] > min(val) and val[-2] > min(val)
    kept = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))  # clipped
    assert kept == pytest.approx(min(val), rel=1e-5)


def test_singular_system_raises_model_fit_error_and_keeps_the_old_model():
    data = synthetic(20, 15, density=0.1, seed=2)
    model = ALS(factors=4, iterations=2, seed=0, verbose=False).fit(data)
    before = model.item_factors_.copy()
    model.set_params(factors=10, regularization=0.0, bias_regularization=0.0)
    with pytest.raises(ModelFitError, match=r"Cholesky failed for user .* increase regularization"):
        model.fit(data)
    np.testing.assert_array_equal(model.item_factors_, before)


def test_params_round_trip_and_repr():
    model = ALS(factors=8, seed=3)
    assert model.get_params()["factors"] == 8
    assert repr(model) == "ALS(factors=8, seed=3)"
    model.set_params(iterations=4)
    assert model.iterations == 4
    with pytest.raises(ValueError, match="'iters' is not a parameter of ALS"):
        model.set_params(iters=3)


def test_toy_example_predicts_the_missing_ratings(toy):
    model = ALS(factors=2, regularization=0.1, weighted=0.0, iterations=20, dtype="float64",
                seed=0, verbose=False).fit(toy)
    bob_sholay, carol_swades = model.predict(["Bob", "Carol"], ["Sholay", "Swades"], clip=False)
    # The numpy ALS of tests/reference.py from the same start predicts the same two ratings.
    X, xb, Y, yb, mu = reference.als_fit(toy, 2, 0.1, 3.0, 0.0, 20, 0.01, 0)
    u, i = toy.user_ids.index(["Bob", "Carol"]), toy.item_ids.index(["Sholay", "Swades"])
    expected = mu + xb[u] + yb[i] + np.sum(X[u] * Y[i], axis=1)
    np.testing.assert_allclose([bob_sholay, carol_swades], expected, rtol=1e-8)
    assert model.recommend("Bob", n=2)[0].tolist() in (["Sholay", "Shawshank"], ["Shawshank", "Sholay"])


CHILD = """
import signal, fastmf
# A shell that starts jobs in the background makes them ignore SIGINT; Ctrl-C in a
# terminal reaches Python's default handler, which this restores.
signal.signal(signal.SIGINT, signal.default_int_handler)
data = fastmf.datasets.make_ratings(3000, 1000, 300_000, seed=0)
model = fastmf.ALS(factors=32, iterations=5000, seed=0, verbose=False)
def ready(record):
    if record["iteration"] == 1:
        print("ready", flush=True)
try:
    model.fit(data, callbacks=[ready])
except KeyboardInterrupt:
    print("interrupted after", model.n_iter_, "iterations", flush=True)
    print("predicts", model.predict([0], [0])[0] > 0)
"""


def test_ctrl_c_stops_a_long_fit_cleanly():
    import signal
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0
    lines = out.splitlines()
    assert lines[0].startswith("interrupted after") and int(lines[0].split()[2]) >= 1
    assert lines[1] == "predicts True"
