"""fastmf.SGD: accuracy on MovieLens 100K, divergence, schedule, layout and threads."""
import numpy as np
import pytest

import fastmf
from fastmf import SGD, ModelFitError
from fastmf.models.sgd import block_layout

from .conftest import synthetic

# The settings of the SGD docstring's MovieLens 100K example.
DOCSTRING_PARAMS = dict(factors=128, epochs=100, learning_rate=0.005, decay=1.0,
                        regularization=0.09, bias_regularization=0.05, init_std=0.01,
                        num_threads=1, seed=0)


def test_movielens_100k_test_rmse(ml100k_split):
    train, test = ml100k_split
    model = SGD(**DOCSTRING_PARAMS, verbose=False).fit(train)
    rmse = fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items))
    assert rmse <= 0.905


def test_divergence_names_the_epoch_and_keeps_the_last_finite_state():
    data = synthetic(60, 40, density=0.3, seed=1)
    params = dict(factors=8, learning_rate=0.3, decay=1.0, regularization=0.05,
                  bias_regularization=0.02, init_std=0.1, seed=0, num_threads=1, verbose=False)
    model = SGD(epochs=20, **params)
    with pytest.raises(ModelFitError, match=r"SGD diverged in epoch 2 .* use a smaller learning_rate"):
        model.fit(data)
    assert model.n_iter_ == 1 and np.isfinite(model.item_factors_).all()
    one_epoch = SGD(epochs=1, **params).fit(data)
    np.testing.assert_array_equal(model.item_factors_, one_epoch.item_factors_)


def test_divergence_in_the_first_epoch_leaves_an_unfitted_model_unfitted():
    model = SGD(factors=8, epochs=3, learning_rate=1.0, seed=0, verbose=False)
    with pytest.raises(ModelFitError, match="epoch 1"):
        model.fit(synthetic(60, 40, density=0.3, seed=1))
    assert not hasattr(model, "item_factors_")


def test_learning_rate_decays_per_epoch(small):
    model = SGD(factors=4, epochs=4, learning_rate=0.01, decay=0.5, seed=0, verbose=False).fit(small)
    np.testing.assert_allclose([h["learning_rate"] for h in model.history_],
                               [0.01, 0.005, 0.0025, 0.00125])


def test_block_layout_holds_every_rating_once(small):
    block_ptr, uidx, iidx, ratings = block_layout(small, 256, np.random.default_rng(0), True,
                                                  np.float32)
    assert block_ptr[0] == 0 and block_ptr[-1] == small.nnz and np.all(np.diff(block_ptr) >= 0)
    laid_out = sorted(zip(uidx.tolist(), iidx.tolist(), ratings.tolist()))
    assert laid_out == sorted(zip(small.uidx.tolist(), small.iidx.tolist(), small.ratings.tolist()))
    # Block b is user block b // side x item block b % side: a user's ratings all lie in
    # one row of the grid, an item's in one column.
    side = int(np.sqrt(len(block_ptr) - 1))
    blocks = np.repeat(np.arange(len(block_ptr) - 1), np.diff(block_ptr))
    for ids, grid_index in ((uidx, blocks // side), (iidx, blocks % side)):
        per_id = [set(grid_index[ids == i]) for i in np.unique(ids)]
        assert all(len(s) == 1 for s in per_id)


def test_unshuffled_epochs_visit_ratings_by_user_and_are_repeatable(small):
    fit = lambda: SGD(factors=4, epochs=5, shuffle=False, seed=0, num_threads=2,  # noqa: E731
                      verbose=False).fit(small)
    # One block only: the threads cannot share it, so even two threads repeat exactly.
    np.testing.assert_array_equal(fit().user_factors_, fit().user_factors_)


def test_two_threads_train_as_well_as_one():
    data = fastmf.datasets.make_ratings(2000, 500, 60_000, seed=3)
    train, test = fastmf.train_test_split(data, seed=0)
    rmses = []
    for threads in (1, 2):
        model = SGD(factors=16, epochs=15, seed=0, num_threads=threads, verbose=False).fit(train)
        rmses.append(fastmf.metrics.rmse(test.ratings, model.predict(test.users, test.items)))
    assert rmses[1] == pytest.approx(rmses[0], abs=0.01)
