"""fastmf.ImplicitALS: the recorded objective against its dense formula, confidence values."""
import numpy as np
import pytest

import fastmf
from fastmf import ImplicitALS

from . import reference
from .conftest import IMPLICIT_ALPHA as ALPHA, implicit_case


# (α0, ν): Hu-Koren-Volinsky; every weight c - α0 > 0; some weights negative.
FORMULATIONS = [(1.0, 0.0), (0.2, 1.0), (4.0, 0.5)]


def _case_data(seed):
    """implicit_case's pairs as Interactions (counts), and the dense matrices of the users
    and items it holds, in the model's index order."""
    observed, conf_dense, *_ = implicit_case(seed=seed)
    u, i = np.nonzero(observed)
    data = fastmf.Interactions.from_arrays(u, i, conf_dense[u, i] / ALPHA)
    users, items = data.user_ids.ids, data.item_ids.ids
    return data, observed[np.ix_(users, items)], conf_dense[np.ix_(users, items)]


@pytest.mark.parametrize("alpha0, nu", FORMULATIONS)
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_recorded_loss_is_the_full_objective_and_cholesky_never_increases_it(solver, alpha0,
                                                                              nu):
    data, observed, conf = _case_data(seed=1)
    model = ImplicitALS(factors=5, regularization=0.1, alpha=ALPHA, unobserved_weight=alpha0,
                        regularization_exponent=nu, iterations=8, solver=solver,
                        confidence="linear", dtype="float64", seed=0, verbose=False).fit(data)
    expected = reference.implicit_loss(observed, conf, model.user_factors_,
                                       model.item_factors_, 0.1, alpha0, nu)
    assert model.history_[-1]["loss"] == pytest.approx(expected, rel=1e-10)
    losses = np.array([h["loss"] for h in model.history_])
    if solver == "cholesky":
        assert np.all(np.diff(losses) <= 1e-12 * losses[:-1])


def test_log_confidence_and_negative_counts():
    model = ImplicitALS(confidence="log", alpha=2.0, epsilon=0.5, verbose=False)
    p = model._check_params()
    values = model._confidence_values(np.array([3.0]), p)     # c - 1 = alpha * values
    np.testing.assert_allclose(p.alpha * values, [2 * np.log(1 + 6)], rtol=1e-6)
    counts = np.array([3.0, 1.0], np.float32)
    linear = ImplicitALS(confidence="linear", dtype="float32")._check_params()
    assert ImplicitALS._confidence_values(counts, linear) is counts       # no copy
    with pytest.raises(ValueError, match="implicit data must be counts >= 0; found 1 negative"):
        ImplicitALS(verbose=False).fit(fastmf.Interactions.from_arrays([0, 1], [0, 0], [1.0, -2.0]))


@pytest.mark.parametrize("confidence", ["linear", "log"])
@pytest.mark.parametrize("alpha0, nu", FORMULATIONS)
def test_a_fit_equals_the_dense_numpy_fit_of_the_same_objective(alpha0, nu, confidence):
    data, observed, conf = _case_data(seed=2)
    if confidence == "log":      # the same values r, read through c - 1 = α log(1 + r/ε)
        conf = np.where(observed, ALPHA * np.log1p(conf / ALPHA / 0.2), 0.0)
    k, std = 6, 0.3
    model = ImplicitALS(factors=k, regularization=0.05, alpha=ALPHA, unobserved_weight=alpha0,
                        regularization_exponent=nu, iterations=5, init_std=std,
                        confidence=confidence, epsilon=0.2, dtype="float64", seed=7,
                        verbose=False).fit(data)
    # The documented start: item factors first, N(0, init_std²) from the seed's generator.
    Y0 = np.random.default_rng(7).normal(0.0, std, (data.n_items, k))
    X, Y = reference.implicit_fit(observed, conf, Y0, 0.05, 5, alpha0, nu)
    np.testing.assert_allclose(model.user_factors_, X, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.item_factors_, Y, rtol=1e-8, atol=1e-10)


def test_init_std_none_is_the_scaled_start_of_rendle_et_al():
    data = _case_data(seed=0)[0]
    fits = [ImplicitALS(factors=16, iterations=2, solver="cg", init_std=std, seed=3,
                        verbose=False).fit(data) for std in (None, 0.1 / 4)]
    np.testing.assert_array_equal(fits[0].user_factors_, fits[1].user_factors_)
    np.testing.assert_array_equal(fits[0].item_factors_, fits[1].item_factors_)


@pytest.mark.parametrize("alpha0, nu", FORMULATIONS)
def test_block_solver_never_increases_the_loss_and_one_block_is_cholesky(alpha0, nu):
    observed, conf_dense, *_ = implicit_case(n_items=60, k=12, seed=2)
    u, i = np.nonzero(observed)
    data = fastmf.Interactions.from_arrays(u, i, conf_dense[u, i] / ALPHA)
    common = dict(factors=12, regularization=0.1, alpha=ALPHA, unobserved_weight=alpha0,
                  regularization_exponent=nu, iterations=6, confidence="linear",
                  dtype="float64", seed=0, verbose=False)
    block = ImplicitALS(solver="block", block_size=5, **common).fit(data)
    losses = np.array([h["loss"] for h in block.history_])
    assert np.all(np.diff(losses) <= 1e-12 * losses[:-1])
    rows, cols = np.unique(u), np.unique(i)
    dense = reference.implicit_loss(observed[np.ix_(rows, cols)], conf_dense[np.ix_(rows, cols)],
                                    block.user_factors_, block.item_factors_, 0.1, alpha0, nu)
    assert losses[-1] == pytest.approx(dense, rel=1e-10)
    whole = ImplicitALS(solver="block", block_size=12, **common).fit(data)
    exact = ImplicitALS(solver="cholesky", **common).fit(data)
    np.testing.assert_allclose(whole.user_factors_, exact.user_factors_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(whole.item_factors_, exact.item_factors_, rtol=1e-8, atol=1e-10)
