"""explain(): a score split over the user's history, checked against the dense normal
equations of each model's objective in float64, against fold_in and partial_fit_users, and
for its errors."""
import copy

import numpy as np
import pytest

import fastmf
from fastmf import ALS, ImplicitALS, NotFittedError, UnknownIdError, UserFeatures

# float32 models: the kernels see λ_u, α, μ and the confidences rounded to float32
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}
KINDS = ["als", "implicit-log", "implicit-linear"]


def user_features(data):
    ids = data.user_ids.ids
    return UserFeatures.from_lists(ids, [feature_row(i) for i in range(len(ids))])


def feature_row(position):
    return [f"g{position % 3}", f"h{position % 2}"]


def make_model(kind, dtype, features=False):
    """A fitted model of ``kind`` and its training data, a few iterations on small data."""
    if kind == "als":
        data = fastmf.datasets.make_ratings(40, 30, 500, factors=3, seed=1)
        model = ALS(factors=5, regularization=0.4, bias_regularization=2.0, weighted=0.5,
                    iterations=3, dtype=dtype, seed=0, verbose=False,
                    user_features=user_features(data) if features else None)
    else:
        data = fastmf.datasets.make_counts(40, 40, 380, factors=3, seed=1)
        confidence = kind.split("-")[1]
        alpha = 0.7 if confidence == "log" else 0.2
        model = ImplicitALS(factors=5, regularization=0.3, alpha=alpha, unobserved_weight=0.4,
                            regularization_exponent=0.5, confidence=confidence, epsilon=0.5,
                            iterations=3, dtype=dtype, seed=0, verbose=False,
                            user_features=user_features(data) if features else None)
    return model.fit(data), data


def history(data, user):
    """The raw item ids and values of ``user``'s interactions, from the raw triples."""
    mask = data.users == user
    return data.items[mask], data.ratings[mask].astype(np.float64)


def prior_of(model, user):
    if not hasattr(model, "user_priors_"):
        return np.zeros(model.item_factors_.shape[1])
    return model.user_priors_[model.user_ids_.index([user])[0]].astype(np.float64)


def dense_explicit(model, items, ratings, item, m):
    """(contribution per history item, prior's, base) from the ridge regression of ALS's
    objective for one user: Σ_j (r_j - μ - b_j - b_u - p·q_j)² + λ n^a ‖p - m‖² + λ_b b_u²."""
    Q, b = model.item_factors_.astype(np.float64), model.item_biases_.astype(np.float64)
    mu, cols = model.global_mean_, model.item_ids_.index(items)
    i = model.item_ids_.index([item])[0]
    lam = model.regularization * len(cols) ** model.weighted
    Z = np.column_stack([np.ones(len(cols)), Q[cols]])
    W = np.linalg.inv(Z.T @ Z + np.diag([model.bias_regularization] + [lam] * Q.shape[1]))
    zi = np.r_[1.0, Q[i]]
    contributions = (zi @ W @ Z.T) * (ratings - mu - b[cols])
    return contributions, zi @ W @ np.r_[0.0, lam * m], mu + b[i]


def dense_implicit(model, items, counts, item, m):
    """The same for ImplicitALS from its objective with every item's weight written out:
    Σ_i w_i (p_i - x·y_i)² + λ_u ‖x - m‖², w = c on the history, α0 elsewhere."""
    Y = model.item_factors_.astype(np.float64)
    cols, i = model.item_ids_.index(items), model.item_ids_.index([item])[0]
    v = np.log1p(counts / model.epsilon) if model.confidence == "log" else counts
    weight, preference = np.full(len(Y), model.unobserved_weight), np.zeros(len(Y))
    weight[cols], preference[cols] = 1.0 + model.alpha * v, 1.0
    lam = model.regularization * (len(cols) + model.unobserved_weight * len(Y)) ** \
        model.regularization_exponent
    W = np.linalg.inv(Y.T @ (weight[:, None] * Y) + lam * np.eye(Y.shape[1]))
    contributions = (Y[i] @ W @ Y[cols].T) * weight[cols] * preference[cols]
    return contributions, Y[i] @ W @ (lam * m), 0.0


def oracle(model, data, user, item):
    items, values = history(data, user)
    dense = dense_explicit if isinstance(model, ALS) else dense_implicit
    contributions, prior, base = dense(model, items, values, item, prior_of(model, user))
    return dict(zip(items.tolist(), contributions)), prior, base


@pytest.mark.parametrize("features", [False, True], ids=["plain", "user_features"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_explain_matches_the_dense_normal_equations(kind, dtype, features):
    model, data = make_model(kind, dtype, features)
    for user, item in [(0, 3), (7, 0), (19, 11)]:
        why = model.explain(user, item, data)
        contributions, prior, base = oracle(model, data, user, item)
        scale = max(1.0, abs(why.score))
        assert sorted(why.items.tolist()) == sorted(contributions)
        expected = np.array([contributions[j] for j in why.items.tolist()])
        np.testing.assert_allclose(why.contributions, expected, rtol=0,
                                   atol=TOLERANCE[dtype] * scale)
        assert why.prior == pytest.approx(prior, abs=TOLERANCE[dtype] * scale)
        assert why.base == pytest.approx(base, abs=TOLERANCE[dtype] * scale)
        assert (why.prior != 0.0) == features
        assert why.rest == 0.0


@pytest.mark.parametrize("features", [False, True], ids=["plain", "user_features"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_contributions_sum_to_the_score_of_the_re_solved_user(kind, dtype, features):
    model, data = make_model(kind, dtype, features)
    user, item = 5, 2
    why = model.explain(user, item, data)
    total = why.base + why.prior + why.contributions.sum()
    assert total == pytest.approx(why.score, rel=1e-12, abs=1e-12)
    # what fold_in of the history scores (with the user's features, as fitted)
    items, values = history(data, user)
    folded = model.fold_in(items, values, features=feature_row(user) if features else None)
    i = model.item_ids_.index([item])[0]
    offset = (model.global_mean_ + model.item_biases_[i]) if isinstance(model, ALS) else 0.0
    refolded = offset + folded.bias + float(folded.factors.astype(np.float64)
                                            @ model.item_factors_[i].astype(np.float64))
    scale = max(1.0, abs(why.score))
    assert why.score == pytest.approx(refolded, abs=TOLERANCE[dtype] * scale)
    # and what predict gives after partial_fit_users re-solves the user in place
    resolved = copy.deepcopy(model).partial_fit_users(np.full(len(items), user), items, values)
    kwargs = {"clip": False} if isinstance(model, ALS) else {}
    predicted = float(resolved.predict([user], [item], **kwargs)[0])
    assert why.score == pytest.approx(predicted, abs=TOLERANCE[dtype] * scale)


@pytest.mark.parametrize("kind", KINDS)
def test_n_keeps_the_largest_contributions_and_rest_sums_the_others(kind):
    model, data = make_model(kind, "float64")
    full = model.explain(3, 4, data)
    top = model.explain(3, 4, data, n=2)
    magnitudes = np.abs(full.contributions)
    assert (np.diff(magnitudes) <= 0).all()
    assert top.items.tolist() == full.items[:2].tolist()
    np.testing.assert_array_equal(top.contributions, full.contributions[:2])
    assert top.rest == pytest.approx(full.contributions[2:].sum(), abs=1e-12)
    assert top.base + top.prior + top.contributions.sum() + top.rest == \
        pytest.approx(top.score, abs=1e-12)
    assert model.explain(3, 4, data, n=10_000).items.tolist() == full.items.tolist()


def test_the_fitted_user_scores_close_to_the_explained_score():
    """The fitted user was solved before the last item half-step: close, not equal."""
    model, data = make_model("implicit-log", "float64")
    model.set_params(iterations=30).fit(data)
    why = model.explain(0, 3, data)
    assert why.score == pytest.approx(float(model.predict([0], [3])[0]), abs=1e-3)


def test_explain_changes_nothing_and_reads_string_ids():
    data = fastmf.datasets.toy()
    model = ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
    before = copy.deepcopy(model.__dict__)
    why = model.explain("Bob", "Sholay", data, n=1)
    assert why.user == "Bob" and why.item == "Sholay" and why.items.dtype.kind == "U"
    for name in ("user_factors_", "item_factors_", "user_biases_", "item_biases_"):
        np.testing.assert_array_equal(getattr(model, name), before[name])
    frame = why.to_frame()
    assert frame.columns.tolist() == ["item", "contribution"] and len(frame) == 1


@pytest.mark.parametrize("call, error, match", [
    (lambda m, d: m.explain("Zoe", "Sholay", d), UnknownIdError,
     "user 'Zoe' was not in the training data; use fold_in"),
    (lambda m, d: m.explain("Bob", "Dune", d), UnknownIdError,
     "item 'Dune' was not in the training data"),
    (lambda m, d: m.explain("Bob", "Sholay", d, n=0), ValueError, "n must be"),
    (lambda m, d: m.explain("Bob", "Sholay", d, n=1.5), TypeError, "n must be"),
    (lambda m, d: m.explain("Bob", "Sholay", fastmf.Interactions.from_arrays(
        ["Alice"], ["Sholay"], [5.0])), ValueError, "data holds no interactions of user 'Bob'"),
    (lambda m, d: m.explain("Bob", "Sholay", fastmf.Interactions.from_arrays(
        ["Bob"], ["Dune"], [5.0])), UnknownIdError, "item 'Dune' was not in the training data"),
])
@pytest.mark.parametrize("cls", [ALS, ImplicitALS])
def test_explain_errors(cls, call, error, match):
    data = fastmf.datasets.toy()
    model = cls(factors=2, iterations=3, seed=0, verbose=False).fit(data)
    factors = model.user_factors_.copy()
    with pytest.raises(error, match=match):
        call(model, data)
    np.testing.assert_array_equal(model.user_factors_, factors)


@pytest.mark.parametrize("cls", [ALS, ImplicitALS])
def test_explain_needs_a_fitted_model(cls):
    with pytest.raises(NotFittedError):
        cls().explain("Bob", "Sholay", fastmf.datasets.toy())


def test_implicit_explain_refuses_negative_counts():
    data = fastmf.datasets.toy()
    model = ImplicitALS(factors=2, iterations=3, seed=0, verbose=False).fit(data)
    bad = fastmf.Interactions.from_arrays(["Bob"], ["Sholay"], [-1.0])
    with pytest.raises(ValueError, match="counts >= 0"):
        model.explain("Bob", "Sholay", bad)
