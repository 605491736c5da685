"""ImplicitALS against dense numpy formulas; ranking and serving shared by every model."""
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


@pytest.fixture(scope="module")
def fitted():
    data = fastmf.datasets.make_ratings(200, 120, 4000, seed=2)
    return data, {"ALS": fastmf.ALS(factors=8, iterations=3, seed=0, verbose=False).fit(data),
                  "SGD": fastmf.SGD(factors=8, epochs=3, seed=0, verbose=False).fit(data),
                  "ImplicitALS": ImplicitALS(factors=8, iterations=3, seed=0, verbose=False).fit(data),
                  "BPR": fastmf.BPR(factors=8, epochs=3, seed=0, verbose=False).fit(data)}


@pytest.mark.parametrize("name", ["ALS", "SGD", "ImplicitALS", "BPR"])
def test_recommend_batch_matches_scores_and_filters_seen(fitted, name):
    data, models = fitted
    model = models[name]
    users = data.user_ids.ids[:30]
    items, scores = model.recommend_batch(users, n=7)
    full = model.score_users(users)
    seen = [set(data.items[data.users == u]) for u in users]
    for row, user in enumerate(users):
        assert not seen[row] & set(items[row])
        allowed = [i for i in range(len(model.item_ids_)) if model.item_ids_.ids[i] not in seen[row]]
        best = sorted(allowed, key=lambda i: (-full[row, i], i))[:7]
        assert model.item_ids_.index(items[row]).tolist() == best
        np.testing.assert_allclose(scores[row], full[row, best], rtol=1e-5)
        single = model.recommend(user, n=7)
        assert single[0].tolist() == items[row].tolist()


@pytest.mark.parametrize("name", ["ALS", "ImplicitALS", "BPR"])
def test_similar_items_and_users_by_cosine(fitted, name):
    model = fitted[1][name]
    for factors, ids, method in ((model.item_factors_, model.item_ids_, model.similar_items),
                                 (model.user_factors_, model.user_ids_, model.similar_users)):
        unit = factors / np.linalg.norm(factors, axis=1, keepdims=True)
        cos = unit @ unit[4]
        cos[4] = -np.inf
        expected = np.argsort(-cos, kind="stable")[:5]
        got, sims = method(ids.ids[4], n=5)
        assert ids.index(got).tolist() == expected.tolist()
        np.testing.assert_allclose(sims, cos[expected], rtol=1e-4)
