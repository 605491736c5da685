"""k_fold, cross_validate and GridSearch."""
import numpy as np
import pytest

import fastmf
from fastmf import ALS, ImplicitALS, GridSearch, cross_validate
from fastmf.model_selection import k_fold

from .conftest import synthetic


def _pairs(data):
    return set(zip(data.users.tolist(), data.items.tolist()))


def test_k_fold_partitions_the_ratings():
    data = synthetic(seed=1)
    tests = [test for _, test in k_fold(data, folds=4, seed=0, unseen="keep")]
    assert sum(t.nnz for t in tests) == data.nnz
    assert max(t.nnz for t in tests) - min(t.nnz for t in tests) <= 1
    assert set().union(*map(_pairs, tests)) == _pairs(data)
    for train, test in k_fold(data, folds=4, seed=0):
        assert not _pairs(train) & _pairs(test)
        assert set(test.users) <= set(train.users) and set(test.items) <= set(train.items)


def test_cross_validate_scores_each_fold_like_a_manual_loop():
    data = synthetic(seed=2)
    model = ALS(factors=3, iterations=3, seed=0, verbose=False)
    results = cross_validate(model, data, folds=3, seed=5)
    expected = []
    for train, test in k_fold(data, folds=3, seed=5):
        fitted = ALS(factors=3, iterations=3, seed=0, verbose=False).fit(train)
        expected.append(fastmf.metrics.rmse(test.ratings, fitted.predict(test.users, test.items)))
    np.testing.assert_allclose(results["test_rmse"], expected, rtol=1e-12)
    assert results["fit_time"].shape == (3,) and (results["fit_time"] > 0).all()
    assert results.mean()["test_rmse"] == pytest.approx(np.mean(expected))
    assert results.std()["test_rmse"] == pytest.approx(np.std(expected, ddof=1))
    table = str(results)
    assert "test_rmse" in table and "fold 3" in table and "mean" in table
    assert not hasattr(model, "item_factors_")          # the given model is left unfitted


def test_cross_validate_ranks_implicit_models():
    data = synthetic(seed=3)
    results = cross_validate(ImplicitALS(factors=3, iterations=3, seed=0, verbose=False), data,
                             folds=3, seed=0, metrics=["precision", "auc"], k=5)
    assert set(results) == {"test_precision@5", "test_auc", "fit_time", "test_time"}
    for fold, (train, test) in enumerate(k_fold(data, folds=3, seed=0)):    # a manual loop
        fitted = ImplicitALS(factors=3, iterations=3, seed=0, verbose=False).fit(train)
        scores = fastmf.metrics.evaluate(fitted, test, train=train, k=5, metrics=("precision", "auc"))
        assert results["test_auc"][fold] == pytest.approx(scores["auc"], rel=1e-12)
        assert results["test_precision@5"][fold] == pytest.approx(scores["precision@5"], rel=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda d: cross_validate(ALS(verbose=False), d, folds=1), ValueError, r"folds must be"),
    (lambda d: cross_validate(ALS(verbose=False), d, metrics=["r2"]), ValueError, r"unknown metric 'r2'"),
    (lambda d: cross_validate(ImplicitALS(verbose=False), d, metrics=["rmse"]), ValueError,
     r"unknown metric 'rmse' for ImplicitALS"),
    (lambda d: GridSearch(ALS(verbose=False), {"factorz": [2]}).fit(d), ValueError,
     r"'factorz' is not a parameter of ALS"),
    (lambda d: GridSearch(ALS(verbose=False), {"factors": []}).fit(d), ValueError,
     r"must be a non-empty list"),
    (lambda d: GridSearch(ALS(verbose=False), {"factors": [2]}, metric="ndcg2").fit(d), ValueError,
     r"unknown metric 'ndcg2'"),
])
def test_bad_model_selection_input(call, error, message):
    with pytest.raises(error, match=message):
        call(synthetic())


def test_grid_search_picks_the_lowest_rmse_and_refits_it():
    data = synthetic(seed=4)
    base = ALS(factors=3, iterations=3, seed=0, verbose=False)
    grid = {"regularization": [0.01, 1.0, 30.0], "bias_regularization": [1.0, 5.0]}
    search = GridSearch(base, grid, cv=3, seed=1).fit(data)
    manual = {}
    for reg in grid["regularization"]:
        for bias in grid["bias_regularization"]:
            candidate = ALS(**{**base.get_params(), "regularization": reg, "bias_regularization": bias})
            manual[(reg, bias)] = cross_validate(candidate, data, folds=3, seed=1,
                                                 metrics=["rmse"]).mean()["test_rmse"]
    best = min(manual, key=manual.get)
    assert search.best_params_ == {"regularization": best[0], "bias_regularization": best[1]}
    assert search.best_score_ == pytest.approx(manual[best], rel=1e-12)
    results = search.results_
    assert len(results) == 6 and sorted(results["rank"]) == list(range(1, 7))
    assert results.loc[results["rank"] == 1, "mean_test_rmse"].item() == pytest.approx(manual[best])
    refit = ALS(**{**base.get_params(), "regularization": best[0], "bias_regularization": best[1]})
    refit.fit(data)
    np.testing.assert_array_equal(search.best_model_.predict([0, 1], [2, 3]), refit.predict([0, 1], [2, 3]))


def test_grid_search_maximises_ranking_metrics():
    data = synthetic(seed=5)
    search = GridSearch(ImplicitALS(factors=3, iterations=3, seed=0, verbose=False),
                        [{"regularization": [0.05, 500.0]}], cv=3, seed=0, refit=False).fit(data)
    manual = [cross_validate(ImplicitALS(factors=3, iterations=3, regularization=reg, seed=0,
                                         verbose=False), data, folds=3, seed=0,
                             metrics=["ndcg"]).mean()["test_ndcg@10"] for reg in (0.05, 500.0)]
    np.testing.assert_allclose(search.results_["mean_test_ndcg@10"], manual, rtol=1e-12)
    assert search.best_params_ == {"regularization": (0.05, 500.0)[int(np.argmax(manual))]}
    assert search.best_score_ == pytest.approx(max(manual), rel=1e-12)
    assert not hasattr(search, "best_model_")


# -- user_split: whole users held out, each split into fold-in and scored parts -------------
def test_user_split_holds_out_whole_users_and_splits_each_one():
    from fastmf.model_selection import user_split
    data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    train, fold_in, test = user_split(data, test_users=0.1, test_size=0.2, seed=4)
    held = set(fold_in.user_ids.ids) | set(test.user_ids.ids)
    assert len(held) == 30 and not held & set(train.user_ids.ids)
    assert set(test.item_ids.ids) | set(fold_in.item_ids.ids) <= set(train.item_ids.ids)
    assert train.nnz + fold_in.nnz + test.nnz + fold_in.n_unseen == data.nnz
    users, items, _ = data.to_arrays()
    f_users, f_items, _ = fold_in.to_arrays()
    t_users, t_items, _ = test.to_arrays()
    for user in held:
        known = np.isin(items[users == user], train.item_ids.ids).sum()
        n_test = (t_users == user).sum()
        assert n_test == (min(max(round(0.2 * known), 1), known - 1) if known >= 2 else 0)
        assert n_test + (f_users == user).sum() == known
        assert not set(t_items[t_users == user]) & set(f_items[f_users == user])
    again = fastmf.model_selection.user_split(data, test_users=30, test_size=0.2, seed=4)
    assert np.array_equal(again.test.to_arrays()[1], t_items)
    assert np.array_equal(again.fold_in.to_arrays()[0], f_users)


@pytest.mark.parametrize("kwargs, match", [
    ({"test_users": 0}, "holds out 0 of"), ({"test_users": 1.0}, "test_users"),
    ({"test_users": 300}, "at least one on each side"), ({"test_size": 1.0}, "test_size")])
def test_user_split_bad_arguments(kwargs, match):
    data = fastmf.datasets.make_ratings(300, 200, 6000, seed=0)
    with pytest.raises(ValueError, match=match):
        fastmf.model_selection.user_split(data, **kwargs)


def test_a_temporal_split_that_drops_most_test_ratings_says_how_many():
    # Users 0-9 rate early, users 10-19 only late: the latest 25% are the late users' ratings,
    # which have no user left in train.
    users = np.r_[np.repeat(np.arange(10), 6), np.repeat(np.arange(10, 20), 2)]
    items = np.r_[np.tile(np.arange(6), 10), np.tile([0, 1], 10)]
    times = np.r_[np.arange(60), 100 + np.arange(20)]
    data = fastmf.Interactions.from_arrays(users, items, None, times)
    with pytest.warns(fastmf.FastMFWarning, match=r"^20 of the 20 test ratings were dropped: "
                      r"their user or item has no rating left in train \(a temporal split"):
        with pytest.raises(ValueError, match="no test rating has both its user and item"):
            fastmf.train_test_split(data, test_size=0.25, strategy="temporal")
    with pytest.warns(fastmf.FastMFWarning, match=r"^20 of the 24 test ratings were dropped"):
        train, test = fastmf.train_test_split(data, test_size=0.3, strategy="temporal")
    assert (test.nnz, test.n_unseen) == (4, 20)
    kept = fastmf.train_test_split(data, test_size=0.3, strategy="temporal", unseen="keep")[1]
    assert (kept.nnz, kept.n_unseen) == (24, 20)             # kept: no warning
