"""fastmf.BPR: sampling, the fit loop's records, divergence, data rules and ranking quality."""
import numpy as np
import pytest

import fastmf
from fastmf import BPR, ModelFitError, _core
from fastmf.models.bpr import positive_csr

from . import reference
from .conftest import synthetic


def _liked(data, threshold=4):
    """Ratings >= threshold as implicit data (value 1)."""
    users, items, ratings = data.to_arrays()
    return fastmf.Interactions.from_arrays(users[ratings >= threshold], items[ratings >= threshold])


@pytest.fixture(scope="module")
def movielens_liked():
    """The MovieLens 100K implicit split of bench/compare/_common.py."""
    from .conftest import SHARED_DATA
    data = fastmf.datasets.load_movielens("100k", data_home=SHARED_DATA, download=False)
    return fastmf.train_test_split(_liked(data), test_size=0.2, seed=0)


def test_movielens_100k_ranking_with_the_defaults(movielens_liked):
    train, test = movielens_liked
    model = BPR(num_threads=1, seed=0, verbose=False).fit(train)
    scores = fastmf.metrics.evaluate(model, test, train=train, k=10, metrics=("ndcg", "auc"))
    # ImplicitALS reaches NDCG@10 0.232 and AUC 0.834 on this split (README).
    assert scores["ndcg@10"] > 0.27 and scores["auc"] > 0.92


@pytest.mark.parametrize("exponent", [None, 1.0, 0.5])
def test_negatives_follow_the_requested_distribution_over_unobserved_items(exponent):
    data = synthetic(12, 10, density=0.35, seed=3)
    R = positive_csr(data)
    user_of = np.repeat(np.arange(12, dtype=np.int32), np.diff(R.indptr))
    counts = np.bincount(R.indices, minlength=10).astype(float)
    weights = np.ones(10) if exponent is None else counts ** exponent
    cdf = np.zeros(0) if exponent is None else np.cumsum(weights)
    n = 200_000
    u, i, j = (np.empty(n, np.int32) for _ in range(3))
    _core.bpr_draws(R.indptr, R.indices, user_of, cdf, 10, 42, 32, 0, u, i, j)
    observed = np.zeros((12, 10), dtype=bool)
    observed[user_of, R.indices] = True
    # For a sample of user u, each of the 32 candidates is unobserved with probability
    # a_u = Σ_{unobserved} w / Σ w; the first such is j (probability w_j / Σ_{unobserved} w),
    # and the sample is skipped (j = -1) with probability (1 - a_u)^32.
    allowed = np.where(observed, 0.0, weights)
    a = allowed.sum(axis=1) / weights.sum()
    per_user = allowed / allowed.sum(axis=1, keepdims=True) * (1 - (1 - a[:, None]) ** 32)
    samples_of = np.bincount(u, minlength=12)
    expected = np.r_[samples_of @ (1 - a) ** 32, samples_of @ per_user]
    got = np.bincount(j + 1, minlength=11)
    assert not observed[u[j >= 0], j[j >= 0]].any() and observed[u, i].all()
    assert np.all(np.abs(got - expected) <= 5 * np.sqrt(expected) + 1)
    positives = np.bincount(u * 10 + i, minlength=120)[observed.ravel()]   # uniform over nnz
    assert np.all(np.abs(positives - n / len(user_of)) <= 5 * np.sqrt(n / len(user_of)))


@pytest.mark.parametrize("seen_negatives, tries", [("redraw", 32), ("skip", 1)])
def test_history_records_the_objective_and_train_auc_of_each_epoch(seen_negatives, tries):
    data = _liked(fastmf.datasets.make_ratings(300, 200, 8000, seed=1))
    model = BPR(factors=16, epochs=15, seen_negatives=seen_negatives, num_threads=1, seed=0,
                dtype="float64", verbose=False).fit(data)
    assert [h["iteration"] for h in model.history_] == list(range(1, 16)) and model.n_iter_ == 15
    assert {"iteration", "loss", "train_auc", "learning_rate", "seconds"} == set(model.history_[0])
    # The first epoch replayed in numpy from the same seed: the draws of reference.bpr_draws
    # (the epoch seed is the fit's generator's first draw) and the steps of bpr_steps.
    rng = np.random.default_rng(0)
    X, Y = (rng.normal(0.0, 0.1, size=(n, 16)) for n in (data.n_users, data.n_items))
    R = positive_csr(data)
    user_of = np.repeat(np.arange(data.n_users, dtype=np.int32), np.diff(R.indptr))
    draws = reference.bpr_draws(R.indptr, R.indices, user_of, np.zeros(0), data.n_items,
                                int(rng.integers(0, 2**63)), len(R.indices), tries=tries)
    assert ((draws[2] < 0).sum() == 0) == (tries == 32)       # "skip" skips samples here
    *_, (objective, ordered, used) = reference.bpr_steps(*draws, X, Y, np.zeros(data.n_items),
                                                         0.1, 0.02)     # η of the first epoch
    first = model.history_[0]
    assert first["train_auc"] == ordered / used
    assert first["loss"] == pytest.approx(objective / used, rel=1e-10)
    losses = [h["loss"] for h in model.history_]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_a_linear_schedule_steps_by_the_falling_learning_rate(dtype, rtol):
    data = _liked(fastmf.datasets.make_ratings(300, 200, 8000, seed=1))
    epochs, lr, reg = 3, 0.2, 0.02
    model = BPR(factors=19, epochs=epochs, learning_rate=lr, learning_rate_schedule="linear",
                regularization=reg, num_threads=1, seed=0, dtype=dtype, verbose=False).fit(data)
    # η (1 - t/E) for epochs t = 0, 1, 2 of E = 3: 0.2, 0.1333..., 0.0666...
    steps = [lr, lr * 2 / 3, lr / 3]
    assert [h["learning_rate"] for h in model.history_] == pytest.approx(steps, rel=1e-15)
    # The epochs replayed in numpy: each epoch's seed is the fit's generator's next draw.
    rng = np.random.default_rng(0)
    X, Y = (rng.normal(0.0, 0.1, size=(n, 19)).astype(dtype) for n in (data.n_users, data.n_items))
    b = np.zeros(data.n_items)
    R = positive_csr(data)
    user_of = np.repeat(np.arange(data.n_users, dtype=np.int32), np.diff(R.indptr))
    for step in steps:
        draws = reference.bpr_draws(R.indptr, R.indices, user_of, np.zeros(0), data.n_items,
                                    int(rng.integers(0, 2**63)), len(R.indices))
        X, Y, b, _ = reference.bpr_steps(*draws, X, Y, b, step, reg)
    np.testing.assert_allclose(model.item_factors_, Y, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(model.user_factors_, X, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(model.item_biases_, b, rtol=rtol, atol=rtol * 1e-2)


def test_a_constant_schedule_keeps_the_learning_rate_and_unknown_schedules_are_refused(small):
    model = BPR(factors=4, epochs=3, learning_rate=0.03, learning_rate_schedule="constant",
                num_threads=1, seed=0, verbose=False).fit(small)
    assert [h["learning_rate"] for h in model.history_] == [0.03] * 3
    bad = BPR(learning_rate_schedule="cosine", verbose=False)
    with pytest.raises(ValueError, match="learning_rate_schedule must be one of 'constant', "
                                         "'linear', got 'cosine'"):
        bad.fit(small)
    assert not hasattr(bad, "item_factors_")


def test_validation_metrics_and_early_stopping_keep_the_best_epoch(movielens_liked):
    train, test = movielens_liked
    model = BPR(factors=16, epochs=60, learning_rate=0.1, early_stopping=1, num_threads=1, seed=0,
                verbose=False).fit(train, validation=test)
    ndcg = [h["val_ndcg@10"] for h in model.history_]
    assert {"val_precision@10", "val_ndcg@10"} <= set(model.history_[-1])
    assert model.n_iter_ < 60 and ndcg[-1] <= max(ndcg[:-1])
    scores = fastmf.metrics.evaluate(model, test, train=train, k=10, metrics=("precision", "ndcg"))
    assert scores["ndcg@10"] == pytest.approx(max(ndcg), rel=1e-12)
    best = int(np.argmax(ndcg))
    assert scores["precision@10"] == pytest.approx(model.history_[best]["val_precision@10"])


def test_divergence_names_the_epoch_and_keeps_the_last_finite_state():
    data = synthetic(60, 40, density=0.3, seed=1)
    # η·λ > 2: the weight decay itself overshoots and the factors grow without bound.
    params = dict(factors=8, learning_rate=1.0, regularization=2.5, num_threads=1, seed=0,
                  verbose=False)
    model = BPR(epochs=20, **params)
    with pytest.raises(ModelFitError, match=r"BPR diverged in epoch 2: .* smaller learning_rate"):
        model.fit(data)
    assert model.n_iter_ == 1 and np.isfinite(model.item_factors_).all()
    one_epoch = BPR(epochs=1, **params).fit(data)
    np.testing.assert_array_equal(model.item_factors_, one_epoch.item_factors_)
    with pytest.raises(ModelFitError, match="epoch 1"):
        fresh = BPR(epochs=3, **{**params, "learning_rate": 100.0})
        fresh.fit(data)
    assert not hasattr(fresh, "item_factors_")


def test_a_seed_fixes_the_model_on_one_thread_and_threads_train_as_well(small):
    a, b = (BPR(factors=4, epochs=5, num_threads=1, seed=3, verbose=False).fit(small)
            for _ in range(2))
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    np.testing.assert_array_equal(a.item_biases_, b.item_biases_)
    c = BPR(factors=4, epochs=5, num_threads=1, seed=4, verbose=False).fit(small)
    assert not np.array_equal(a.item_factors_, c.item_factors_)
    # Hogwild on two threads draws the same samples; only the order of racing updates
    # differs, which moves the training AUC by well under a hundredth on 8000 interactions.
    data = _liked(fastmf.datasets.make_ratings(300, 200, 8000, seed=1))
    one, two = (BPR(factors=8, epochs=10, num_threads=t, seed=3, verbose=False).fit(data)
                for t in (1, 2))
    assert two.history_[-1]["train_auc"] == pytest.approx(one.history_[-1]["train_auc"], abs=0.01)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scores_are_factors_plus_item_biases_in_the_model_dtype(small, dtype):
    model = BPR(factors=3, epochs=3, dtype=dtype, seed=0, verbose=False).fit(small)
    X, Y, b = model.user_factors_, model.item_factors_, model.item_biases_
    assert X.dtype == Y.dtype == b.dtype == np.dtype(dtype) and b.any()
    users = small.user_ids.ids[:5]
    np.testing.assert_allclose(model.score_users(users),
                               X[model.user_ids_.index(users)] @ Y.T + b, rtol=1e-5)
    plain = BPR(factors=3, epochs=3, item_biases=False, seed=0, verbose=False).fit(small)
    assert not plain.item_biases_.any() and len(plain.item_biases_) == small.n_items


def test_predict_falls_back_to_the_item_bias_then_zero(small):
    model = BPR(factors=3, epochs=3, seed=0, verbose=False).fit(small)
    u, i = model.user_ids_.index([5])[0], model.item_ids_.index([7])[0]
    pred = model.predict([5, 999, 5, 999], [7, 7, 999, 999])
    known = model.user_factors_[u] @ model.item_factors_[i] + model.item_biases_[i]
    np.testing.assert_allclose(pred, [known, model.item_biases_[i], 0, 0], rtol=1e-5)


def test_stored_zeros_are_not_positives_and_negative_values_are_refused():
    data = fastmf.Interactions.from_arrays([0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 0, 2],
                                           [3.0, 0.0, 1.0, 2.0, 0.0, 0.0])
    R = positive_csr(data)
    assert R.indptr.tolist() == [0, 1, 3, 3] and R.indices.tolist() == [0, 1, 2]
    model = BPR(factors=2, epochs=2, num_threads=1, seed=0, verbose=False).fit(data)
    longer = BPR(factors=2, epochs=6, num_threads=1, seed=0, verbose=False).fit(data)
    # User 2 has only zeros: never sampled, its factors stay at their initial values.
    np.testing.assert_array_equal(model.user_factors_[2], longer.user_factors_[2])
    assert not np.array_equal(model.user_factors_[0], longer.user_factors_[0])
    with pytest.raises(ValueError, match="implicit data must be counts >= 0; found 1 negative"):
        BPR(verbose=False).fit(fastmf.Interactions.from_arrays([0, 1], [0, 0], [1.0, -2.0]))


def test_keyboard_interrupt_keeps_the_completed_epochs(small):
    def interrupt(record):
        if record["iteration"] == 2:
            raise KeyboardInterrupt
    params = dict(factors=4, learning_rate_schedule="constant", num_threads=1, seed=0,
                  verbose=False)       # epochs 1 and 2 take the same steps in both fits
    model = BPR(epochs=5, **params)
    with pytest.raises(KeyboardInterrupt):
        model.fit(small, callbacks=[interrupt])
    two = BPR(epochs=2, **params).fit(small)
    assert model.n_iter_ == 2
    np.testing.assert_array_equal(model.item_factors_, two.item_factors_)


def test_held_out_block_items_rank_first():
    # Two groups of users who like two disjoint groups of items; one liked item per user is
    # held out and must come back first among the user's unseen items.
    users, items = [], []
    for u in range(40):
        group = range(0, 10) if u < 20 else range(10, 20)
        for i in group:
            if i != group[u % 10]:
                users.append(u)
                items.append(i)
    model = BPR(factors=4, epochs=60, num_threads=1, seed=0, verbose=False)
    model.fit(fastmf.Interactions.from_arrays(users, items))
    for u in range(40):
        held_out = (0 if u < 20 else 10) + u % 10
        assert model.recommend(u, n=1)[0].tolist() == [held_out]


# -- serving: rows solved by BPR's own objective --------------------------------------
def _numeric_gradient(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


@pytest.mark.parametrize("seen_negatives", ["redraw", "skip"])
@pytest.mark.parametrize("pairs_per_chunk", [None, 7])      # 7: one positive (user) a part
@pytest.mark.parametrize("sampling", ["uniform", "popularity"])
def test_fold_in_minimises_the_users_bpr_objective(sampling, pairs_per_chunk, seen_negatives,
                                                   monkeypatch):
    # Skipping a sample whose negative was seen scales the user's loss and regularization
    # alike (by the weight of the unseen items over all): the same minimiser.
    if pairs_per_chunk:
        monkeypatch.setattr(fastmf._kernels.bpr, "_PAIRS_PER_CHUNK", pairs_per_chunk)
    data = synthetic(30, 12, density=0.4, seed=1)
    model = BPR(factors=3, epochs=20, dtype="float64", negative_sampling=sampling,
                popularity_exponent=0.7, seen_negatives=seen_negatives, num_threads=1, seed=0,
                verbose=False).fit(data)
    items = np.array([1, 4, 5, 9])
    user = model.fold_in(items)
    counts = np.bincount(data.by_user.indices, minlength=12).astype(float)
    weights = np.ones(12) if sampling == "uniform" else counts ** 0.7
    index = model.item_ids_.index(items)
    objective = lambda p: reference.bpr_user_objective(p, list(index), model.item_factors_,
                                                       model.item_biases_, weights, 0.02)
    assert np.abs(_numeric_gradient(objective, user.factors)).max() < 1e-7
    assert user.bias == 0.0
    best = objective(user.factors)
    rng = np.random.default_rng(0)
    assert all(objective(user.factors + 0.05 * rng.normal(size=3)) > best for _ in range(5))


@pytest.mark.parametrize("seen_negatives", ["redraw", "skip"])
@pytest.mark.parametrize("pairs_per_chunk", [None, 7])
def test_a_new_item_minimises_the_bpr_terms_it_enters(pairs_per_chunk, seen_negatives,
                                                      monkeypatch):
    if pairs_per_chunk:
        monkeypatch.setattr(fastmf._kernels.bpr, "_PAIRS_PER_CHUNK", pairs_per_chunk)
    data = synthetic(25, 10, density=0.4, seed=2)
    model = BPR(factors=3, epochs=20, dtype="float64", seen_negatives=seen_negatives,
                num_threads=1, seed=0, verbose=False).fit(data)
    users = np.array([0, 3, 4, 10, 17])
    model.partial_fit_items([100] * 5, users)
    q, c = model.item_factors_[-1], model.item_biases_[-1]
    R = data.by_user
    seen = [set(R.indices[R.indptr[u]:R.indptr[u + 1]]) for u in range(25)]
    X, Y, b = model.user_factors_, model.item_factors_[:-1], model.item_biases_[:-1]
    index = model.user_ids_.index(users)
    objective = lambda t: reference.bpr_item_objective(t[:3], t[3], set(index), X, Y, b, seen,
                                                       np.ones(10), 1.0, 0.02,
                                                       skip=seen_negatives == "skip")
    theta = np.r_[q, c]
    assert np.abs(_numeric_gradient(objective, theta)).max() < 1e-7


def test_re_solving_every_user_keeps_the_ranking_quality(movielens_liked):
    train, test = movielens_liked
    model = BPR(epochs=60, num_threads=1, seed=0, verbose=False).fit(train)
    first = train.user_ids.ids[:120]
    users, items, values = train.to_arrays()
    keep = np.isin(users, first)
    test_users, test_items, _ = test.to_arrays()
    part = fastmf.Interactions.from_arrays(test_users[np.isin(test_users, first)],
                                           test_items[np.isin(test_users, first)])
    before = fastmf.metrics.evaluate(model, part, train=train, k=10, metrics=("ndcg", "auc"))
    model.partial_fit_users(users[keep], items[keep], values[keep])
    after = fastmf.metrics.evaluate(model, part, train=train, k=10, metrics=("ndcg", "auc"))
    assert after["ndcg@10"] > before["ndcg@10"] - 0.02 and after["auc"] > before["auc"] - 0.005
