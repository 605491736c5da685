"""ALS with item features: the prior m_i, the feature update, add_items and cold start."""
import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import ALS, ItemFeatures
from fastmf.models.als import feature_update

from . import reference
from .conftest import synthetic


def _features(data, n_features=6, seed=0):
    """Random features for every item but the last two (which have none)."""
    gen = np.random.default_rng(seed)
    lists = [[f"f{j}" for j in np.flatnonzero(gen.random(n_features) < 0.35)]
             for _ in range(data.n_items)]
    lists[-1] = lists[-2] = []
    return ItemFeatures.from_lists(data.item_ids.ids, lists)


def test_item_features_weights_and_constructors():
    f = ItemFeatures.from_lists([10, 20, 30], [["a", "b"], ["c"], []])
    np.testing.assert_allclose(f.weights([30, 10, 99, 20]).toarray(),
                               [[0, 0, 0], [2**-0.5, 2**-0.5, 0], [0, 0, 0], [0, 0, 1]])
    g = ItemFeatures.from_sparse(sp.csr_matrix(np.array([[0, 3.0], [1, 0]])), ["x", "y"], ["p", "q"])
    assert g.weights(["y", "x"]).toarray().tolist() == [[1, 0], [0, 1]]
    with pytest.raises(ValueError, match="must have shape"):
        ItemFeatures([1, 2], np.eye(3), ["a", "b", "c"])
    with pytest.raises(ValueError, match="no genres"):
        ItemFeatures.from_item_info(None)
    with pytest.raises(ValueError, match="feature 'z' is not a known feature"):
        f.columns_of(["a", "z"], what="feature")


def test_feature_update_equals_coordinate_descent():
    gen = np.random.default_rng(1)
    A = (gen.random((30, 5)) < 0.4) * 1.0
    A[3] = 0
    A = A / np.sqrt(np.maximum(A.sum(1, keepdims=True), 1))
    Y, tau = gen.normal(size=(30, 4)), gen.random(30) + 0.5
    E = feature_update(sp.csr_matrix(A), Y, tau, 0.7)
    np.testing.assert_allclose(E, reference.feature_update(A, Y, tau, 0.7), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weighted", [0.0, 0.5])
def test_fit_with_features_records_the_objective_and_never_increases_it(weighted):
    data = synthetic(seed=2)
    features = _features(data)
    model = ALS(factors=4, regularization=0.3, weighted=weighted, iterations=8,
                item_features=features, feature_regularization=0.5, dtype="float64", seed=0,
                verbose=False).fit(data)
    losses = np.array([h["loss"] for h in model.history_])
    assert np.all(np.diff(losses) <= 1e-12 * losses[:-1])
    A = features.weights(data.item_ids.ids)
    np.testing.assert_allclose(model.item_priors_, A @ model.feature_factors_, rtol=1e-12)
    R = data.by_user
    uidx, iidx = np.repeat(np.arange(data.n_users), R.counts()), R.indices
    pred = (model.global_mean_ + model.user_biases_[uidx] + model.item_biases_[iidx]
            + np.einsum("ij,ij->i", model.user_factors_[uidx], model.item_factors_[iidx]))
    w_u = R.counts() ** weighted
    w_i = np.bincount(iidx, minlength=data.n_items) ** weighted
    dev = model.item_factors_ - model.item_priors_
    expected = (np.sum((R.data - pred) ** 2)
                + 0.3 * (w_u @ np.sum(model.user_factors_**2, 1) + w_i @ np.sum(dev**2, 1))
                + model.bias_regularization * (np.sum(model.user_biases_**2)
                                               + np.sum(model.item_biases_**2))
                + 0.5 * np.sum(model.feature_factors_**2))
    assert losses[-1] == pytest.approx(expected, rel=1e-10)
    assert model.feature_names_.tolist() == features.names.tolist()


def test_fitted_items_are_one_item_half_step_toward_their_prior():
    data = synthetic(seed=3)
    features = _features(data)
    model = ALS(factors=4, regularization=0.3, iterations=3, item_features=features,
                dtype="float64", seed=0, verbose=False).fit(data)
    # Re-solving every item from its ratings with the fitted prior is a fixed point of
    # partial_fit_items only up to the last feature update; compare with the numpy twin.
    I = data.by_item
    Y, yb = reference.als_half_step(I.indptr, I.indices, I.data, model.user_factors_,
                                    model.user_biases_, model.global_mean_, 0.3,
                                    model.bias_regularization, model.weighted,
                                    prior=model.item_priors_)
    users, items, ratings = data.to_arrays()
    model.partial_fit_items(items, users, ratings)
    np.testing.assert_allclose(model.item_factors_, Y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.item_biases_, yb, rtol=1e-10, atol=1e-12)


def test_add_items_serves_new_items_from_their_features():
    data = synthetic(seed=4)
    model = ALS(factors=4, iterations=4, item_features=_features(data), dtype="float64",
                seed=0, verbose=False).fit(data)
    n = len(model.item_ids_)
    model.add_items([500, 501], [["f1", "f3"], []])
    assert len(model.item_ids_) == n + 2 and model.item_biases_[-2:].tolist() == [0.0, 0.0]
    column = {name: j for j, name in enumerate(model.feature_names_)}
    expected = (model.feature_factors_[column["f1"]] + model.feature_factors_[column["f3"]]) / 2**0.5
    np.testing.assert_allclose(model.item_factors_[-2], expected, rtol=1e-12)
    assert not model.item_factors_[-1].any()                  # no features: bias-only
    pred = model.predict([0, 0], [500, 501], clip=False)
    b = model.global_mean_ + model.user_biases_[0]
    np.testing.assert_allclose(pred, [b + model.user_factors_[0] @ expected, b], rtol=1e-12)
    assert 500 in model.recommend(0, n=n + 2)[0].tolist()


def test_partial_fit_items_keeps_the_priors_in_step_with_the_items():
    data = synthetic(seed=6)
    model = ALS(factors=4, iterations=2, item_features=_features(data), dtype="float64", seed=0,
                verbose=False).fit(data)
    model.partial_fit_items([700, 700], [0, 1], [4.0, 5.0])       # a new item, no features
    assert len(model.item_priors_) == len(model.item_ids_) and not model.item_priors_[-1].any()
    model.partial_fit_items([700], [2], [3.0])                     # solved again: no error
    model.add_items([701], [["f1"]])
    assert len(model.item_priors_) == len(model.item_ids_) == len(model.item_factors_)
    np.testing.assert_array_equal(model.item_priors_[-1], model.item_factors_[-1])


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.add_items([500], [["nope"]]), ValueError, r"feature 'nope' is not a known"),
    (lambda m: m.add_items([0], [["f1"]]), ValueError, r"item 0 is already in the model"),
    (lambda m: m.add_items([500, 501], [["f1"]]), ValueError, r"same length"),
    (lambda m: m.add_items([500, 500], [["f1"], ["f2"]]), ValueError, r"more than once"),
    (lambda m: m.add_items(["x"], [["f1"]]), TypeError, r"do not match"),
    (lambda m: m.add_items([], []), ValueError, r"empty"),
])
def test_bad_add_items_input_changes_nothing(call, error, message):
    data = synthetic(seed=4)
    model = ALS(factors=4, iterations=2, item_features=_features(data), seed=0,
                verbose=False).fit(data)
    before = model.item_factors_.copy(), len(model.item_ids_)
    with pytest.raises(error, match=message):
        call(model)
    np.testing.assert_array_equal(model.item_factors_, before[0])
    assert len(model.item_ids_) == before[1]


def test_models_without_features_refuse_add_items_and_bad_feature_params():
    model = ALS(iterations=1, verbose=False).fit(synthetic())
    with pytest.raises(ValueError, match="needs a model fitted with item_features"):
        model.add_items([500], [["a"]])
    with pytest.raises(TypeError, match="item_features must be None, 'genres'"):
        ALS(item_features="tags", verbose=False).fit(synthetic())
    with pytest.raises(ValueError, match="no genres"):
        ALS(item_features="genres", verbose=False).fit(synthetic())


def test_a_features_model_saves_and_loads(tmp_path):
    data = synthetic(seed=5)
    model = ALS(factors=4, iterations=2, item_features=_features(data), seed=0,
                verbose=False).fit(data)
    loaded = fastmf.load(model.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.feature_factors_, model.feature_factors_)
    assert loaded.item_features.names.tolist() == model.item_features.names.tolist()
    loaded.add_items([500], [["f2"]])
    model.add_items([500], [["f2"]])
    np.testing.assert_array_equal(loaded.predict([1], [500]), model.predict([1], [500]))


# -- MovieLens 100K ----------------------------------------------------------------------

def _kids(info, items):
    return sum(bool({"Children's", "Animation"} & set(info.genres_of(i))) for i in items)


def test_a_toy_story_fan_gets_childrens_and_animation_titles_with_genres(ml100k):
    toy_story = 1
    assert ml100k.item_info.title([toy_story])[0] == "Toy Story (1995)"
    counts = {}
    for features in ("genres", None):
        model = ALS(factors=64, regularization=1.1, iterations=15, item_features=features,
                    seed=0, verbose=False).fit(ml100k)
        items, _ = model.recommend_new_user([toy_story], [5.0], n=10)
        counts[features] = _kids(ml100k.item_info, items)
    assert counts["genres"] >= 6 and counts["genres"] > counts[None]


def test_items_held_out_of_training_are_predicted_better_from_genres(ml100k):
    train, test = fastmf.model_selection.cold_start_split(ml100k, fraction=0.1, seed=0)
    held_out = test.item_ids.ids
    model = ALS(factors=32, regularization=1.1, iterations=8, item_features="genres", seed=0,
                verbose=False).fit(train)
    fallback = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))
    model.add_items(held_out, ItemFeatures.from_item_info(ml100k.item_info))
    with_genres = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))
    assert with_genres < fallback
