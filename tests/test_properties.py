"""Properties of ALS that hold for any data: optimality of each solved row, a loss that
never increases, independence from the thread count, and reproducibility from a seed."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastmf
from fastmf import _core

from . import reference
from .conftest import synthetic


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])   # a module, no state
@given(n_users=st.integers(1, 12), n_items=st.integers(1, 10), k=st.integers(1, 40),
       reg=st.floats(0.01, 5.0), bias_reg=st.floats(0.0, 5.0), weighted=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**16))
def test_solved_row_zeroes_its_ridge_gradient(kernels, n_users, n_items, k, reg, bias_reg,
                                              weighted, seed):
    data = synthetic(n_users, n_items, density=0.5, seed=seed)
    R = data.by_user
    gen = np.random.default_rng(seed)
    Y, y_bias, mu = gen.normal(size=(n_items, k)), gen.normal(size=n_items), 3.0
    X, xb = np.zeros((n_users, k)), np.zeros(n_users)
    row_reg = reg * R.counts().astype(float) ** weighted
    assert kernels.als_half_step(R.indptr, R.indices, R.data, Y, y_bias, mu, row_reg, bias_reg,
                                 np.zeros((0, k)), X, xb, 2) == -1
    for u in range(n_users):
        lo, hi = R.indptr[u], R.indptr[u + 1]
        cols, r = R.indices[lo:hi], R.data[lo:hi]
        err = r - (mu + xb[u] + y_bias[cols] + Y[cols] @ X[u])
        lam = reg * float(len(cols)) ** weighted
        grad_x = -Y[cols].T @ err + lam * X[u]
        grad_b = -err.sum() + bias_reg * xb[u]
        scale = 1 + np.abs(Y[cols].T @ r).max()
        assert np.abs(grad_x).max() < 1e-9 * scale
        assert abs(grad_b) < 1e-9 * scale


@pytest.mark.parametrize("weighted", [False, 0.5, True])
def test_training_loss_never_increases(weighted):
    data = synthetic(60, 40, density=0.25, seed=3)
    model = fastmf.ALS(factors=8, regularization=0.1 if weighted == 1 else 1.0, iterations=12,
                       dtype="float64", seed=1, weighted=weighted, verbose=False).fit(data)
    losses = np.array([h["loss"] for h in model.history_])
    assert np.all(np.diff(losses) <= 1e-9 * losses[:-1])
    assert losses[-1] < losses[0]


def test_loss_in_history_equals_the_dense_objective():
    data = synthetic(30, 20, seed=4)
    model = fastmf.ALS(factors=4, regularization=0.2, bias_regularization=1.5, weighted=True,
                       iterations=3, dtype="float64", seed=0, verbose=False).fit(data)
    R = reference.dense_ratings(data.uidx, data.iidx, data.ratings, data.shape)
    expected = reference.objective(R, model.user_factors_, model.user_biases_, model.item_factors_,
                                   model.item_biases_, model.global_mean_, 0.2, 1.5, True)
    assert model.history_[-1]["loss"] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("weighted", [False, 0.5, True])
def test_whole_fit_matches_numpy_als_from_the_same_init(weighted):
    data = synthetic(50, 35, density=0.3, seed=5)
    params = dict(factors=6, regularization=0.3, bias_regularization=2.0, weighted=weighted)
    model = fastmf.ALS(**params, iterations=5, init_std=0.2, dtype="float64", seed=9,
                       verbose=False).fit(data)
    X, xb, Y, yb, mu = reference.als_fit(data, 6, 0.3, 2.0, weighted, 5, 0.2, 9)
    np.testing.assert_allclose(model.user_factors_, X, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(model.item_factors_, Y, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(model.user_biases_, xb, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(model.item_biases_, yb, rtol=1e-9, atol=1e-10)
    assert model.global_mean_ == pytest.approx(mu, rel=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_factors_do_not_depend_on_num_threads(dtype):
    data = synthetic(200, 80, density=0.2, seed=6)
    fits = [fastmf.ALS(factors=16, iterations=4, dtype=dtype, seed=2, num_threads=t,
                       verbose=False).fit(data) for t in (1, 2, 3)]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0].user_factors_, other.user_factors_)
        np.testing.assert_array_equal(fits[0].item_biases_, other.item_biases_)


def test_a_seed_fixes_the_model_and_another_seed_changes_it():
    data = synthetic(60, 40, seed=7)
    fit = lambda seed: fastmf.ALS(factors=8, iterations=3, seed=seed, verbose=False).fit(data)  # noqa: E731
    a, b, c = fit(11), fit(11), fit(12)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    assert not np.array_equal(a.item_factors_, c.item_factors_)
