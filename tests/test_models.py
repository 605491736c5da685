"""Behaviour every model shares (fit loop, history, progress, seeds), run for each one;
the tests that take `make_explicit` hold for the rating models (ALS, SGD) only."""
import numpy as np
import pytest

import fastmf
from fastmf import UnknownIdError

MODELS = {
    "ALS": lambda **kw: fastmf.ALS(**{"iterations": 4, **kw}),
    "SGD": lambda **kw: fastmf.SGD(**{"epochs": 8, "num_threads": 1, **kw}),
    "ImplicitALS": lambda **kw: fastmf.ImplicitALS(**{"iterations": 4, **kw}),
    "BPR": lambda **kw: fastmf.BPR(**{"epochs": 8, "num_threads": 1, **kw}),
}
EXPLICIT = ["ALS", "SGD"]
ITERATIONS = {"ALS": 4, "SGD": 8, "ImplicitALS": 4, "BPR": 8}
FITTED_ARRAYS = {
    "ALS": ("user_factors_", "item_factors_", "user_biases_", "item_biases_"),
    "SGD": ("user_factors_", "item_factors_", "user_biases_", "item_biases_"),
    "ImplicitALS": ("user_factors_", "item_factors_"),
    "BPR": ("user_factors_", "item_factors_", "item_biases_"),
}


def _maker(name):
    return lambda **kw: MODELS[name](**{"verbose": False, "seed": 0, **kw})


@pytest.fixture(params=sorted(MODELS))
def make(request):
    """make(**params) -> an unfitted model of the parametrized class, quiet and seeded."""
    return _maker(request.param)


@pytest.fixture(params=EXPLICIT)
def make_explicit(request):
    """make, for the models that fit ratings: biases, a global mean, an RMSE."""
    return _maker(request.param)


def _tiny():
    return fastmf.Interactions.from_arrays(["a", "a", "b", "b", "c"], ["x", "y", "x", "z", "y"],
                                           [5, 3, 4, 1, 2])


def test_unknown_ids_fall_back_to_biases_and_global_mean(make_explicit):
    # Ranking models have no user biases or global mean; test_implicit.py and test_bpr.py
    # hold their fallbacks.
    model = make_explicit(factors=2).fit(_tiny())
    pred = model.predict(["a", "zoe", "a", "zoe"], ["x", "x", "new", "new"], clip=False)
    u, i = model.user_ids_.index(["a"])[0], model.item_ids_.index(["x"])[0]
    mu = model.global_mean_
    expected = [mu + model.user_biases_[u] + model.item_biases_[i]
                + model.user_factors_[u] @ model.item_factors_[i],
                mu + model.item_biases_[i], mu + model.user_biases_[u], mu]
    np.testing.assert_allclose(pred, expected, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fitted_arrays_have_the_model_dtype(make, dtype):
    model = make(factors=2, dtype=dtype).fit(_tiny())
    for name in FITTED_ARRAYS[type(model).__name__]:
        assert getattr(model, name).dtype == np.dtype(dtype), name
    assert model.predict(["a"], ["x"]).dtype == np.dtype(dtype)


def test_recommend_ranks_by_predicted_rating_and_filters_seen(make_explicit, small):
    model = make_explicit(factors=4).fit(small)
    items, scores = model.recommend(3, n=5)
    seen = set(small.items[small.users == 3])
    assert len(items) == 5 and not seen & set(items)
    assert np.all(np.diff(scores) <= 0)
    all_items = list(small.item_ids.ids)
    full = model.predict(np.full(len(all_items), 3), all_items, clip=False)
    unseen = [i for i in all_items if i not in seen]
    assert list(items) == sorted(unseen, key=lambda i: -full[all_items.index(i)])[:5]
    np.testing.assert_allclose(scores, model.predict([3] * 5, items, clip=False), rtol=1e-5)


def test_recommend_with_candidates_and_without_filtering(make, small):
    model = make(factors=4).fit(small)
    items, _ = model.recommend(0, n=50, filter_seen=False, items=[1, 2, 3])
    assert sorted(items) == [1, 2, 3]
    with pytest.raises(UnknownIdError, match="user 'nobody' was not in the training data; use fold_in"):
        model.recommend("nobody")
    with pytest.raises(UnknownIdError, match="item 999"):
        model.recommend(0, items=[1, 999])


def test_history_records_loss_and_rmse_per_iteration(make_explicit, small):
    train, test = fastmf.train_test_split(small, seed=0)
    model = make_explicit(factors=4).fit(train, validation=test)
    n = len(model.history_)
    assert [h["iteration"] for h in model.history_] == list(range(1, n + 1)) and model.n_iter_ == n
    assert {"iteration", "loss", "train_rmse", "val_rmse", "seconds"} <= set(model.history_[0])
    last = model.history_[-1]
    assert last["val_rmse"] == pytest.approx(
        fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items)), rel=1e-5)  # clipped
    assert model.history_[-1]["train_rmse"] < model.history_[0]["train_rmse"]


def test_history_has_one_record_per_iteration_scored_on_the_validation_data(make, small):
    train, test = fastmf.train_test_split(small, seed=0)
    model = make(factors=4).fit(train, validation=test)
    name = type(model).__name__
    assert [h["iteration"] for h in model.history_] == list(range(1, ITERATIONS[name] + 1))
    assert model.n_iter_ == ITERATIONS[name]
    assert {"iteration", "loss", "seconds"} <= set(model.history_[0])
    assert all(np.isfinite(h["loss"]) for h in model.history_)
    last = model.history_[-1]
    if name in EXPLICIT:
        expected = {"val_rmse": fastmf.metrics.rmse(test.ratings, model.predict(test.users,
                                                                                test.items))}
    else:
        scores = fastmf.metrics.evaluate(model, test, train=train, k=10,
                                         metrics=("precision", "ndcg"))
        expected = {"val_precision@10": scores["precision@10"], "val_ndcg@10": scores["ndcg@10"]}
    for key, value in expected.items():
        assert last[key] == pytest.approx(value, rel=1e-5), key


def test_early_stopping_needs_validation(make, small):
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        make(early_stopping=3).fit(small)


def test_a_callback_can_stop_training(make, small):
    seen = []
    model = make(factors=4).fit(
        small, callbacks=[lambda record: seen.append(record["iteration"]) or record["iteration"] == 3])
    assert seen == [1, 2, 3] and model.n_iter_ == 3


def test_keyboard_interrupt_keeps_the_completed_iterations(make, small):
    def interrupt(record):
        if record["iteration"] == 2:
            raise KeyboardInterrupt
    model = make(factors=4)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small, callbacks=[interrupt])
    assert model.n_iter_ == 2
    stopped = make(factors=4).fit(small, callbacks=[lambda record: record["iteration"] == 2])
    np.testing.assert_array_equal(model.item_factors_, stopped.item_factors_)


def test_progress_bar_goes_to_stderr(make, small, capsys):
    model = make(factors=2, verbose=True).fit(small)
    captured = capsys.readouterr()
    assert type(model).__name__ in captured.err and f"{model.n_iter_}/{model.n_iter_}" in captured.err
    assert captured.out == ""


def test_a_seed_fixes_the_model(make, small):
    a, b = make(factors=3).fit(small), make(factors=3).fit(small)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    c = make(factors=3, seed=1).fit(small)
    assert not np.array_equal(a.item_factors_, c.item_factors_)
