"""Serving beyond the training data: fold_in, recommend_new_user, partial_fit_users/items."""
import numpy as np
import pytest

import fastmf
from fastmf import ALS, SGD, ImplicitALS, UnknownIdError

from . import reference
from .conftest import synthetic


def _fitted(model_class, data=None, **params):
    data = synthetic() if data is None else data
    params = {"factors": 5, "dtype": "float64", "seed": 0, "verbose": False, **params}
    iterations = "epochs" if model_class is SGD else "iterations"
    params.setdefault(iterations, 4)
    return model_class(**params).fit(data), data


def _user_row(data, u):
    R = data.by_user
    lo, hi = R.indptr[u], R.indptr[u + 1]
    return data.item_ids.ids[R.indices[lo:hi]], R.data[lo:hi]


@pytest.mark.parametrize("model_class, weighted", [(ALS, 0.5), (ALS, 0.0), (SGD, 0.0)])
def test_folding_in_a_training_user_is_one_more_user_half_step(model_class, weighted):
    params = {"weighted": weighted} if model_class is ALS else {}
    model, data = _fitted(model_class, **params)
    R = data.by_user
    X, xb = reference.als_half_step(R.indptr, R.indices, R.data, model.item_factors_,
                                    model.item_biases_, model.global_mean_, model.regularization,
                                    model.bias_regularization, weighted)
    for u in (0, 7, 39):
        items, ratings = _user_row(data, u)
        user = model.fold_in(items, ratings)
        np.testing.assert_allclose(user.factors, X[u], rtol=1e-10, atol=1e-12)
        assert user.bias == pytest.approx(xb[u], rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("alpha0, nu", [(1.0, 0.0), (3.0, 0.5)])
@pytest.mark.parametrize("confidence", ["log", "linear"])
def test_implicit_fold_in_is_the_exact_implicit_row_solve(alpha0, nu, confidence):
    model, data = _fitted(ImplicitALS, alpha=2.0, regularization=0.1, solver="cg",
                          unobserved_weight=alpha0, regularization_exponent=nu,
                          confidence=confidence, epsilon=0.3)
    R = data.by_user
    reg = reference.implicit_row_reg(R.counts(), data.n_items, 0.1, alpha0, nu)
    values = np.log1p(R.data / 0.3) if confidence == "log" else R.data      # c - 1 = 2 values
    X = reference.implicit_half_step_sparse(R.indptr, R.indices, 2.0 * values,
                                            model.item_factors_, reg, alpha0)
    items, counts = _user_row(data, 3)
    user = model.fold_in(items, counts)
    np.testing.assert_allclose(user.factors, X[3], rtol=1e-10, atol=1e-12)
    assert user.bias == 0.0


@pytest.mark.parametrize("model_class", [ALS, SGD, ImplicitALS])
def test_recommend_new_user_ranks_by_the_folded_vector_and_skips_the_given_items(model_class):
    model, data = _fitted(model_class)
    items, ratings = np.array([3, 11, 20]), np.array([5.0, 1.0, 4.0])
    got_items, got_scores = model.recommend_new_user(items, ratings, n=6)
    user = model.fold_in(items, ratings)
    scores = model.item_factors_ @ user.factors + user.bias
    if model_class is not ImplicitALS:
        scores += model.global_mean_ + model.item_biases_
    scores[model.item_ids_.index(items)] = -np.inf
    best = np.argsort(-scores, kind="stable")[:6]
    assert got_items.tolist() == model.item_ids_.ids[best].tolist()
    np.testing.assert_allclose(got_scores, scores[best], rtol=1e-12)


@pytest.mark.parametrize("model_class", [ALS, ImplicitALS])
def test_partial_fit_users_updates_known_users_and_appends_new_ones(model_class):
    model, data = _fitted(model_class)
    before = model.user_factors_.copy()
    users = np.array([2, 2, 2, 1000, 1000])               # 1000 is a new user
    items = np.array([0, 4, 9, 4, 5])
    ratings = np.array([5.0, 3.0, 1.0, 2.0, 5.0])
    model.partial_fit_users(users, items, ratings)
    assert model.user_factors_.shape == (len(before) + 1, 5)
    assert 1000 in model.user_ids_ and model.user_ids_.index([1000])[0] == len(before)
    np.testing.assert_allclose(model.user_factors_[2], model.fold_in([0, 4, 9], [5, 3, 1]).factors,
                               rtol=1e-12)
    np.testing.assert_allclose(model.user_factors_[-1], model.fold_in([4, 5], [2, 5]).factors,
                               rtol=1e-12)
    untouched = np.setdiff1d(np.arange(len(before)), [2])
    np.testing.assert_array_equal(model.user_factors_[untouched], before[untouched])
    if model_class is ALS:
        assert model.user_biases_.shape == (len(before) + 1,)
        assert model.user_biases_[-1] == pytest.approx(model.fold_in([4, 5], [2, 5]).bias)
    recommended, _ = model.recommend(1000, n=len(model.item_ids_))
    assert not {4, 5} & set(recommended.tolist())          # the new user's items are filtered
    assert len(recommended) == len(model.item_ids_) - 2
    old_seen, _ = _user_row(data, 2)                        # a known user keeps the old ones too
    recommended, _ = model.recommend(2, n=len(model.item_ids_))
    assert not (set(old_seen.tolist()) | {0, 4, 9}) & set(recommended.tolist())


def test_partial_fit_items_adds_an_item_that_can_be_recommended_at_once():
    model, data = _fitted(ALS)
    R = data.by_user
    users = np.arange(0, 40, 4)
    ratings = np.full(len(users), 5.0)
    model.partial_fit_items(np.full(len(users), 999), users, ratings)
    assert model.item_factors_.shape[0] == data.n_items + 1
    X = model.user_factors_[:data.n_users]
    Y, yb = reference.als_half_step(np.array([0, len(users)]), users, ratings, X,
                                    model.user_biases_[:data.n_users], model.global_mean_,
                                    model.regularization, model.bias_regularization, 0.5)
    np.testing.assert_allclose(model.item_factors_[-1], Y[0], rtol=1e-10, atol=1e-12)
    assert model.item_biases_[-1] == pytest.approx(yb[0], rel=1e-10)
    assert R.indptr is data.by_user.indptr                  # the training data is not touched
    recommended, _ = model.recommend(1, n=len(model.item_ids_))
    assert 999 in recommended.tolist()                      # user 1 did not rate it
    recommended, _ = model.recommend(4, n=len(model.item_ids_))
    assert 999 not in recommended.tolist()                  # user 4 did
    assert model.predict([1], [999])[0] == pytest.approx(
        np.clip(model.global_mean_ + model.user_biases_[1] + yb[0] + X[1] @ Y[0],
                *model.rating_range_), rel=1e-10)


def _state(model):
    return {name: (value.copy() if isinstance(value, np.ndarray) else value)
            for name, value in vars(model).items() if name.endswith("_")}


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.fold_in([0, 99999], [4.0, 5.0]), UnknownIdError, r"item 99999 was not in the training data"),
    (lambda m: m.fold_in([], []), ValueError, r"items is empty"),
    (lambda m: m.fold_in([1, 2], [4.0]), ValueError, r"must have the same length"),
    (lambda m: m.fold_in([1, 2], [4.0, np.nan]), ValueError, r"ratings contain 1 NaN"),
    (lambda m: m.fold_in([1, 1], [4.0, 3.0]), ValueError, r"items lists item 1 more than once"),
    (lambda m: m.recommend_new_user([1], [4.0], n=0), ValueError, r"n must be"),
    (lambda m: m.partial_fit_users([1, 500], [2, 99999], [3.0, 4.0]), UnknownIdError, r"item 99999"),
    (lambda m: m.partial_fit_users(["a"], [2], [3.0]), TypeError, r"user ids of dtype <U1 do not match"),
    (lambda m: m.partial_fit_users([500, 500], [2, 2], [3.0, 4.0]), ValueError, r"more than once"),
    (lambda m: m.partial_fit_items([3], [1, 2], [3.0]), ValueError, r"same length"),
])
def test_bad_cold_start_input_is_refused_and_changes_nothing(call, error, message):
    model, _ = _fitted(ALS)
    before = _state(model)
    with pytest.raises(error, match=message):
        call(model)
    after = _state(model)
    assert before.keys() == after.keys()
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value)
    assert len(model.user_ids_) == 40


def test_implicit_fold_in_refuses_negative_counts_and_an_unfitted_model_refuses_all():
    model, _ = _fitted(ImplicitALS)
    with pytest.raises(ValueError, match="counts >= 0"):
        model.fold_in([1, 2], [1.0, -1.0])
    with pytest.raises(fastmf.NotFittedError):
        ALS().fold_in([1], [5.0])


def test_a_model_grown_by_partial_fits_saves_and_loads(tmp_path):
    model, _ = _fitted(ALS)
    model.partial_fit_users([1000, 1000], [1, 2], [4.0, 5.0])
    model.partial_fit_items([999], [3], [2.0])
    loaded = fastmf.load(model.save(tmp_path / "grown.npz"))
    for user in (1000, 3):
        np.testing.assert_array_equal(loaded.recommend(user, n=5)[0], model.recommend(user, n=5)[0])
    np.testing.assert_array_equal(loaded.predict([1000, 3], [999, 999]),
                                  model.predict([1000, 3], [999, 999]))
