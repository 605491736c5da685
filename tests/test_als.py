"""fastmf.ALS end to end: accuracy on MovieLens 100K, prediction fallbacks, recommend,
history, early stopping, callbacks, interruption and parameters."""
import numpy as np
import pytest

import fastmf
from fastmf import ALS, ModelFitError, UnknownIdError

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


def _fitted(dtype="float32", **params):
    data = fastmf.Interactions.from_arrays(["a", "a", "b", "b", "c"], ["x", "y", "x", "z", "y"],
                                           [5, 3, 4, 1, 2])
    return ALS(factors=2, iterations=3, seed=0, verbose=False, dtype=dtype, **params).fit(data)


def test_unknown_ids_fall_back_to_biases_and_global_mean():
    model = _fitted()
    pred = model.predict(["a", "zoe", "a", "zoe"], ["x", "x", "new", "new"], clip=False)
    u, i = model.user_ids_.index(["a"])[0], model.item_ids_.index(["x"])[0]
    mu = model.global_mean_
    expected = [mu + model.user_biases_[u] + model.item_biases_[i]
                + model.user_factors_[u] @ model.item_factors_[i],
                mu + model.item_biases_[i], mu + model.user_biases_[u], mu]
    np.testing.assert_allclose(pred, expected, rtol=1e-5)


def test_predictions_are_clipped_to_the_training_range_unless_asked_not_to():
    data = synthetic(30, 20, density=0.7, seed=1)
    model = ALS(factors=8, regularization=0.01, bias_regularization=0.01, weighted=False,
                iterations=5, dtype="float64", seed=0, verbose=False).fit(data)
    users, items = np.repeat(np.arange(30), 20), np.tile(np.arange(20), 30)
    raw = model.predict(users, items, clip=False)
    clipped = model.predict(users, items)
    assert raw.min() < 1 or raw.max() > 5
    assert clipped.min() >= 1 and clipped.max() <= 5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fitted_arrays_have_the_model_dtype(dtype):
    model = _fitted(dtype)
    for array in (model.user_factors_, model.item_factors_, model.user_biases_):
        assert array.dtype == np.dtype(dtype)
    assert model.predict(["a"], ["x"]).dtype == np.dtype(dtype)


def test_recommend_ranks_by_predicted_rating_and_filters_seen(small):
    model = ALS(factors=4, iterations=4, seed=0, verbose=False).fit(small)
    items, scores = model.recommend(3, n=5)
    seen = set(small.items[small.users == 3])
    assert len(items) == 5 and not seen & set(items)
    assert np.all(np.diff(scores) <= 0)
    all_items = small.item_ids.ids
    full = model.predict(np.full(len(all_items), 3), all_items, clip=False)
    unseen = [i for i in all_items if i not in seen]
    best = sorted(unseen, key=lambda i: -full[list(all_items).index(i)])[:5]
    assert list(items) == best
    np.testing.assert_allclose(scores, model.predict([3] * 5, items, clip=False), rtol=1e-5)


def test_recommend_with_candidates_and_without_filtering(small):
    model = ALS(factors=4, iterations=2, seed=0, verbose=False).fit(small)
    items, _ = model.recommend(0, n=50, filter_seen=False, items=[1, 2, 3])
    assert sorted(items) == [1, 2, 3]
    with pytest.raises(UnknownIdError, match="user 'nobody' was not in the training data; use fold_in"):
        model.recommend("nobody")
    with pytest.raises(UnknownIdError, match="item 999"):
        model.recommend(0, items=[1, 999])


def test_history_records_loss_and_rmse_per_iteration(small):
    train, test = fastmf.train_test_split(small, seed=0)
    model = ALS(factors=4, iterations=5, seed=0, verbose=False).fit(train, validation=test)
    assert [h["iteration"] for h in model.history_] == [1, 2, 3, 4, 5]
    assert set(model.history_[0]) == {"iteration", "loss", "train_rmse", "val_rmse", "seconds"}
    last = model.history_[-1]
    assert last["val_rmse"] == pytest.approx(
        fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items, clip=False)), rel=1e-5)
    assert model.n_iter_ == 5


def test_early_stopping_keeps_the_best_iteration(ml100k_split):
    train, test = ml100k_split
    # Tiny regularization overfits after a few iterations: validation RMSE turns upward.
    model = ALS(factors=32, regularization=0.005, iterations=30, early_stopping=2, seed=0,
                verbose=False).fit(train, validation=test)
    val = [h["val_rmse"] for h in model.history_]
    assert len(val) < 30
    assert val[-1] > min(val) and val[-2] > min(val)
    kept = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items, clip=False))
    assert kept == pytest.approx(min(val), rel=1e-5)


def test_early_stopping_needs_validation(small):
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        ALS(early_stopping=3, verbose=False).fit(small)


def test_a_callback_can_stop_training(small):
    seen = []
    model = ALS(factors=4, iterations=10, verbose=False).fit(
        small, callbacks=[lambda record: seen.append(record["iteration"]) or record["iteration"] == 3])
    assert seen == [1, 2, 3] and model.n_iter_ == 3


def test_keyboard_interrupt_keeps_the_completed_iterations(small):
    def interrupt(record):
        if record["iteration"] == 2:
            raise KeyboardInterrupt
    model = ALS(factors=4, iterations=10, seed=0, verbose=False)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small, callbacks=[interrupt])
    assert model.n_iter_ == 2
    reference = ALS(factors=4, iterations=2, seed=0, verbose=False).fit(small)
    np.testing.assert_array_equal(model.item_factors_, reference.item_factors_)


def test_singular_system_raises_model_fit_error_and_keeps_the_old_model():
    data = synthetic(20, 15, density=0.1, seed=2)
    model = ALS(factors=4, iterations=2, seed=0, verbose=False).fit(data)
    before = model.item_factors_.copy()
    model.set_params(factors=10, regularization=0.0, bias_regularization=0.0)
    with pytest.raises(ModelFitError, match=r"Cholesky failed for user .* increase regularization"):
        model.fit(data)
    np.testing.assert_array_equal(model.item_factors_, before)


def test_progress_bar_goes_to_stderr(small, capsys):
    ALS(factors=2, iterations=3, verbose=True).fit(small)
    captured = capsys.readouterr()
    assert "ALS" in captured.err and "3/3" in captured.err and captured.out == ""


def test_params_round_trip_and_repr():
    model = ALS(factors=8, seed=3)
    assert model.get_params()["factors"] == 8
    assert repr(model) == "ALS(factors=8, seed=3)"
    model.set_params(iterations=4)
    assert model.iterations == 4
    with pytest.raises(ValueError, match="'iters' is not a parameter of ALS"):
        model.set_params(iters=3)


def test_toy_example_predicts_the_missing_ratings(toy):
    model = ALS(factors=2, regularization=0.1, iterations=20, seed=0, verbose=False).fit(toy)
    bob_sholay, carol_swades = model.predict(["Bob", "Carol"], ["Sholay", "Swades"])
    assert 1 <= bob_sholay <= 5 and 1 <= carol_swades <= 5
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
