"""BPR with side features (LightFM's formulation): the kernel against its numpy twin and
finite differences, and the model's feature rows against numpy oracles."""
import numpy as np
import pytest
import scipy.sparse as sp

import fastmf

from . import reference
from .test_kernels import TOLERANCES, _bpr_case


def _sides(dtype, n_users=30, n_items=25, k=37, n_uf=5, n_if=7, seed=3, biased=True,
           identity_only=False):
    """Both sides' CSR weights (own embedding first, then features) and embeddings."""
    gen = np.random.default_rng(seed)

    def side(n, n_f, bias):
        F = np.zeros((n, 0)) if identity_only else \
            gen.random((n, n_f)) * (gen.random((n, n_f)) < 0.4)
        A = sp.csr_matrix(np.hstack([np.eye(n), F]))
        E = gen.normal(0, 0.3, (A.shape[1], k)).astype(dtype)
        c = gen.normal(0, 0.3, A.shape[1] if bias else 0).astype(dtype)
        return A, E, c, n

    return side(n_users, n_uf, False), side(n_items, n_if, biased)


def _kernel_args(A, E, c, n_own, dtype):
    return (A.indptr.astype(np.int64), A.indices.astype(np.int32), A.data.astype(dtype), E,
            n_own)


def _steps(kernels, dtype, users, items, triples, lr=0.05, reg=0.01, freg=0.03):
    (Au, U, _, u_own), (Ai, V, c, i_own) = users, items
    triples = [np.asarray(t, np.int32) for t in triples]
    return kernels.bpr_feature_steps(*triples, *_kernel_args(Au, U, None, u_own, dtype),
                                     *_kernel_args(Ai, V, c, i_own, dtype)[:4], c, i_own,
                                     dtype(lr), dtype(reg), dtype(freg))


@pytest.mark.parametrize("biased", [True, False])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_feature_steps_equal_the_numpy_replay(kernels, dtype, rtol, biased):
    indptr, indices, user_of, *_ = _bpr_case(dtype)
    users, items = _sides(dtype, biased=biased)
    draws = reference.bpr_draws(indptr, indices, user_of, np.zeros(0), 25, 9, 400)
    U_ref, V_ref, c_ref, totals_ref = reference.bpr_feature_steps(
        *draws, (users[0].toarray(),) + users[1:], (items[0].toarray(),) + items[1:], 0.05,
        0.01, 0.03)
    totals = _steps(kernels, dtype, users, items, draws)
    for got, want in zip((users[1], items[1], items[2], totals[0]),
                         (U_ref, V_ref, c_ref, totals_ref[0])):
        np.testing.assert_allclose(got, want, rtol=rtol * 10, atol=rtol)
    assert totals[1:] == totals_ref[1:]


def test_feature_epoch_on_one_thread_is_its_steps_on_the_same_draws(kernels):
    # The same steps in the same order; the compiler may fuse a multiply-add in one and not
    # the other, so float64 and a tolerance at its rounding.
    indptr, indices, user_of, *_ = _bpr_case(np.float64)
    users, items = _sides(np.float64)
    copies = [(A, E.copy(), c.copy(), n) for A, E, c, n in (users, items)]
    samples = 2 * len(indices)
    draws = reference.bpr_draws(indptr, indices, user_of, np.zeros(0), 25, 21, samples)
    by_steps = _steps(kernels, np.float64, *copies, draws)
    by_epoch = _epoch(kernels, np.float64, (indptr, indices, user_of), users, items, samples,
                      21, 32)
    assert by_epoch[1:] == by_steps[1:]
    assert by_epoch[0] == pytest.approx(by_steps[0], rel=1e-12)
    for a, b in ((users[1], copies[0][1]), (items[1], copies[1][1]), (items[2], copies[1][2])):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _epoch(kernels, dtype, case, users, items, samples, seed, tries, threads=1):
    indptr, indices, user_of = case
    (Au, U, _, u_own), (Ai, V, c, i_own) = users, items
    return kernels.bpr_feature_epoch(
        indptr, indices, user_of, np.zeros(0), *_kernel_args(Au, U, None, u_own, dtype),
        *_kernel_args(Ai, V, c, i_own, dtype)[:4], c, i_own, dtype(0.05), dtype(0.01),
        dtype(0.03), samples, seed, tries, threads)


def test_rows_that_are_their_own_embedding_alone_train_as_plain_bpr(kernels):
    indptr, indices, user_of, *_ = _bpr_case(np.float64)
    users, items = _sides(np.float64, identity_only=True)
    X, Y, b = users[1].copy(), items[1].copy(), items[2].copy()
    kernels.bpr_epoch(indptr, indices, user_of, np.zeros(0), X, Y, b, 0.05, 0.01,
                      3 * len(indices), 4, 32, 1)
    _epoch(kernels, np.float64, (indptr, indices, user_of), users, items, 3 * len(indices), 4,
           32)
    for got, want in ((users[1], X), (items[1], Y), (items[2], b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_step_is_the_gradient_of_the_sample_objective_by_finite_differences(kernels):
    # One small step from the LightFM-formulation objective of one sample: the embeddings
    # move by -lr times its gradient (i and j share no embedding, so the step is exact to
    # first order in lr; the second-order term is below the tolerance).
    users, items = _sides(np.float64, k=19)
    (Au, U, _, u_own), (Ai, V, c, i_own) = users, items
    Ai = Ai.tolil()
    Ai[3, i_own:] = 0.0
    Ai[3, i_own + 1] = 0.6                       # items 3 and 8: disjoint features
    Ai[8, i_own:] = 0.0
    Ai[8, i_own + 2] = 0.8
    Ai = sp.csr_matrix(Ai)
    Ai.eliminate_zeros()
    items = (Ai, V, c, i_own)
    u, i, j, reg, freg = 2, 3, 8, 0.01, 0.03
    dense_u, dense_i = Au.toarray(), Ai.toarray()
    reg_u = np.where(np.arange(len(U)) < u_own, reg, freg)
    reg_i = np.where(np.arange(len(V)) < i_own, reg, freg)

    def objective(theta):
        U_, V_, c_ = np.split(theta, [U.size, U.size + V.size])
        U_, V_ = U_.reshape(U.shape), V_.reshape(V.shape)
        p, qi, qj = dense_u[u] @ U_, dense_i[i] @ V_, dense_i[j] @ V_
        x = p @ (qi - qj) + dense_i[i] @ c_ - dense_i[j] @ c_
        total = np.logaddexp(0.0, -x)
        for a, E, b, regs in ((dense_u[u], U_, None, reg_u), (dense_i[i], V_, c_, reg_i),
                              (dense_i[j], V_, c_, reg_i)):
            on = a != 0
            total += 0.5 * (regs[on] * ((E[on] ** 2).sum(1)
                                        + (b[on] ** 2 if b is not None else 0))).sum()
        return total

    theta = np.concatenate([U.ravel(), V.ravel(), c])
    h = 1e-6
    grad = np.array([(objective(theta + h * e) - objective(theta - h * e)) / (2 * h)
                     for e in np.eye(len(theta))])
    lr = 1e-5
    _steps(kernels, np.float64, users, items,
           [np.array([v], np.int32) for v in (u, i, j)], lr=lr, reg=reg, freg=freg)
    after = np.concatenate([U.ravel(), V.ravel(), c])
    np.testing.assert_allclose((theta - after) / lr, grad, rtol=1e-4, atol=1e-6)


# -- the model ---------------------------------------------------------------------------
def _hybrid_case(seed=0, n_users=120, n_items=80):
    """Implicit data whose tastes follow the features: users of group g like the items of
    genre g; every user and item has one of three groups."""
    gen = np.random.default_rng(seed)
    ug, ig = gen.integers(0, 3, n_users), gen.integers(0, 3, n_items)
    likes = (ug[:, None] == ig[None, :]) & (gen.random((n_users, n_items)) < 0.3)
    likes |= gen.random((n_users, n_items)) < 0.02
    u, i = np.nonzero(likes)
    users = fastmf.UserFeatures.from_lists(np.arange(n_users), [[f"g{g}"] for g in ug])
    items = fastmf.ItemFeatures.from_lists(np.arange(n_items), [[f"genre{g}"] for g in ig])
    return u, i, users, items, ug, ig


def _model(**params):
    return fastmf.BPR(factors=8, epochs=40, num_threads=1, seed=0, verbose=False, **params)


def test_priors_and_factors_are_the_features_weighted_sums():
    u, i, users, items, *_ = _hybrid_case()
    data = fastmf.Interactions.from_arrays(u, i)
    model = _model(user_features=users, item_features=items, dtype="float64").fit(data)
    A = users.weights(model.user_ids_.ids)
    np.testing.assert_allclose(model.user_priors_, A @ model.user_feature_factors_,
                               rtol=1e-12, atol=1e-12)
    B = items.weights(model.item_ids_.ids)
    np.testing.assert_allclose(model.item_priors_, B @ model.feature_factors_, rtol=1e-12,
                               atol=1e-12)
    # the feature biases are part of item_biases_; add_items places a new item at b F, b γ
    model.add_items([1000], [["genre1"]])
    np.testing.assert_allclose(model.item_factors_[-1],
                               model.feature_factors_[list(model.feature_names_).index("genre1")])
    np.testing.assert_allclose(model.item_biases_[-1],
                               model.feature_biases_[list(model.feature_names_).index("genre1")])


def test_cold_users_and_items_are_ranked_by_their_features():
    u, i, users, items, ug, ig = _hybrid_case()
    held_users = np.arange(0, 120, 6)
    held_items = np.arange(0, 80, 5)
    keep = ~np.isin(u, held_users) & ~np.isin(i, held_items)
    data = fastmf.Interactions.from_arrays(u[keep], i[keep])
    model = _model(user_features=users, item_features=items).fit(data)
    model.add_users(held_users, users).add_items(held_items, items)
    scores = model.predict(np.repeat(held_users, len(held_items)),
                           np.tile(held_items, len(held_users))).reshape(len(held_users), -1)
    match = ug[held_users][:, None] == ig[held_items][None, :]
    # every cold user ranks the cold items of its own group first
    assert np.mean([scores[r][match[r]].min() > scores[r][~match[r]].max()
                    for r in range(len(held_users))]) > 0.9
    plain = _model().fit(data)
    with pytest.raises(ValueError, match="user_features"):
        plain.add_users([999], [["g1"]])


def test_fold_in_with_features_minimises_the_objective_around_the_prior():
    u, i, users, items, ug, _ = _hybrid_case()
    data = fastmf.Interactions.from_arrays(u, i)
    model = _model(user_features=users, dtype="float64").fit(data)
    history = np.flatnonzero(np.isin(np.arange(80), i[u == 7]))[:5]
    folded = model.fold_in(history, features=["g0"])
    prior = model.user_feature_factors_[list(model.user_feature_names_).index("g0")]
    reg = model.regularization
    Y, b = model.item_factors_, model.item_biases_

    def objective(p):           # reference objective, its λ/2 ‖p‖² moved to ‖p − prior‖²
        return (reference.bpr_user_objective(p, list(history), Y, b, np.ones(80), reg)
                - 0.5 * reg * p @ p + 0.5 * reg * (p - prior) @ (p - prior))

    p, h = folded.factors, 1e-5
    grad = [(objective(p + h * e) - objective(p - h * e)) / (2 * h) for e in np.eye(len(p))]
    np.testing.assert_allclose(grad, 0.0, atol=1e-6)
    assert objective(p) < objective(prior)
    np.testing.assert_allclose(model.fold_in([], features=["g0"]).factors, prior)


def test_partial_fits_of_a_model_with_features_solve_toward_the_priors():
    u, i, users, items, ug, ig = _hybrid_case()
    data = fastmf.Interactions.from_arrays(u, i)
    model = _model(user_features=users, item_features=items, dtype="float64").fit(data)
    prior_u, prior_i = model.user_priors_[7].copy(), model.item_priors_[3].copy()
    reg = model.regularization
    Y, b = model.item_factors_.copy(), model.item_biases_.copy()
    history = list(i[u == 7])
    model.partial_fit_users(np.full(len(history), 7), history)
    p = model.user_factors_[model.user_ids_.index(np.array([7]))[0]]

    def objective(x):           # the reference objective, its λ/2 ‖x‖² moved to ‖x − prior‖²
        return (reference.bpr_user_objective(x, history, Y, b, np.ones(len(Y)), reg)
                - 0.5 * reg * x @ x + 0.5 * reg * (x - prior_u) @ (x - prior_u))

    h = 1e-5
    grad = [(objective(p + h * e) - objective(p - h * e)) / (2 * h) for e in np.eye(len(p))]
    np.testing.assert_allclose(grad, 0.0, atol=1e-6)
    # an item re-solved from its users stays finite and is pulled toward its prior
    model.partial_fit_items(i[i == 3], u[i == 3])
    q = model.item_factors_[model.item_ids_.index(np.array([3]))[0]]
    assert np.isfinite(q).all() and not np.allclose(q, prior_i)


def test_a_saved_model_places_new_rows_from_features(tmp_path):
    u, i, users, items, *_ = _hybrid_case()
    model = _model(user_features=users, item_features=items).fit(
        fastmf.Interactions.from_arrays(u, i))
    loaded = fastmf.load(model.save(tmp_path / "bpr.npz"))
    for m in (model, loaded):
        m.add_users([500], [["g2"]]).add_items([900], [["genre0"]])
    np.testing.assert_array_equal(loaded.user_factors_, model.user_factors_)
    np.testing.assert_array_equal(loaded.item_biases_, model.item_biases_)
    assert loaded.recommend(500, n=5)[0].tolist() == model.recommend(500, n=5)[0].tolist()


def test_a_refit_without_features_drops_the_feature_attributes():
    u, i, users, items, *_ = _hybrid_case()
    data = fastmf.Interactions.from_arrays(u, i)
    model = _model(item_features=items).fit(data)
    assert hasattr(model, "feature_biases_") and not hasattr(model, "user_priors_")
    model.set_params(item_features=None).fit(data)
    assert not any(hasattr(model, name) for name in ("feature_biases_", "feature_factors_",
                                                     "item_priors_"))


@pytest.mark.parametrize("params, error, match", [
    (dict(user_features="genres"), TypeError, "user_features"),
    (dict(item_features=fastmf.UserFeatures.from_lists([0], [["a"]])), TypeError,
     "item_features"),
    (dict(feature_regularization=-1.0), ValueError, "feature_regularization"),
])
def test_bad_feature_parameters_are_refused(params, error, match):
    u, i, *_ = _hybrid_case()
    with pytest.raises(error, match=match):
        _model(**params).fit(fastmf.Interactions.from_arrays(u, i))


def test_features_of_no_training_row_are_refused():
    u, i, *_ = _hybrid_case()
    strangers = fastmf.UserFeatures.from_lists([1000, 1001], [["a"], ["b"]])
    with pytest.raises(ValueError, match="none of the training users has features"):
        _model(user_features=strangers).fit(fastmf.Interactions.from_arrays(u, i))
