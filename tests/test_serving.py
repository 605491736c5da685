"""Serving (models/_serving.py) for every model: top-n, batches and similar rows."""
import numpy as np
import pytest

import fastmf

MODELS = ["ALS", "SGD", "ImplicitALS", "BPR"]


@pytest.fixture(scope="module")
def fitted():
    data = fastmf.datasets.make_ratings(200, 120, 4000, seed=2)
    quiet = {"factors": 8, "seed": 0, "verbose": False}
    return data, {"ALS": fastmf.ALS(iterations=3, **quiet).fit(data),
                  "SGD": fastmf.SGD(epochs=3, **quiet).fit(data),
                  "ImplicitALS": fastmf.ImplicitALS(iterations=3, **quiet).fit(data),
                  "BPR": fastmf.BPR(epochs=3, **quiet).fit(data)}


@pytest.mark.parametrize("name", MODELS)
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


@pytest.mark.parametrize("name", MODELS)
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
