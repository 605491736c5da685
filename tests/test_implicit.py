"""fastmf.ImplicitALS: the recorded objective against its dense formula, confidence values."""
import numpy as np
import pytest

import fastmf
from fastmf import ImplicitALS

from . import reference
from .conftest import IMPLICIT_ALPHA as ALPHA, implicit_case


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_recorded_loss_is_the_full_objective_and_cholesky_never_increases_it(solver):
    observed, conf_dense, *_ = implicit_case(seed=1)
    u, i = np.nonzero(observed)
    counts = conf_dense[u, i] / ALPHA
    model = ImplicitALS(factors=5, regularization=0.1, alpha=ALPHA, iterations=8, solver=solver,
                        dtype="float64", seed=0, verbose=False)
    model.fit(fastmf.Interactions.from_arrays(u, i, counts))
    rows = model.user_ids_.index(np.arange(observed.shape[0]))
    obs = observed[np.unique(u)]
    expected = reference.implicit_loss(obs, conf_dense[np.unique(u)], model.user_factors_,
                                       model.item_factors_, 0.1)
    assert (rows[np.unique(u)] >= 0).all()
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
    linear = ImplicitALS(dtype="float32")._check_params()
    assert ImplicitALS._confidence_values(counts, linear) is counts       # no copy
    with pytest.raises(ValueError, match="implicit data must be counts >= 0; found 1 negative"):
        ImplicitALS(verbose=False).fit(fastmf.Interactions.from_arrays([0, 1], [0, 0], [1.0, -2.0]))


def test_block_solver_never_increases_the_loss_and_one_block_is_cholesky():
    observed, conf_dense, *_ = implicit_case(n_items=60, k=12, seed=2)
    u, i = np.nonzero(observed)
    data = fastmf.Interactions.from_arrays(u, i, conf_dense[u, i] / ALPHA)
    common = dict(factors=12, regularization=0.1, alpha=ALPHA, iterations=6, dtype="float64",
                  seed=0, verbose=False)
    block = ImplicitALS(solver="block", block_size=5, **common).fit(data)
    losses = np.array([h["loss"] for h in block.history_])
    assert np.all(np.diff(losses) <= 1e-12 * losses[:-1])
    dense = reference.implicit_loss(observed[np.unique(u)], conf_dense[np.unique(u)],
                                    block.user_factors_, block.item_factors_, 0.1)
    assert losses[-1] == pytest.approx(dense, rel=1e-10)
    whole = ImplicitALS(solver="block", block_size=12, **common).fit(data)
    exact = ImplicitALS(solver="cholesky", **common).fit(data)
    np.testing.assert_allclose(whole.user_factors_, exact.user_factors_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(whole.item_factors_, exact.item_factors_, rtol=1e-8, atol=1e-10)
