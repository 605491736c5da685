"""ImplicitALS against dense numpy formulas; ranking and serving shared by every model."""
import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import ImplicitALS, _core

from . import reference


ALPHA = 0.7


def _implicit_case(n_users=25, n_items=40, k=6, seed=0, dtype=np.float64):
    """(observed, dense conf, indptr, indices, values, conf, Y): kernels take the counts
    `values` and ALPHA; the references take conf = c - 1 = ALPHA * values."""
    gen = np.random.default_rng(seed)
    observed = gen.random((n_users, n_items)) < 0.25
    observed[3] = False                                    # a user with no interactions
    counts = np.where(observed, gen.integers(1, 6, (n_users, n_items)), 0).astype(float)
    m = sp.csr_matrix(counts)
    m.eliminate_zeros()
    Y = gen.normal(0, 0.3, (n_items, k)).astype(dtype)
    return (observed, ALPHA * counts, m.indptr.astype(np.int64), m.indices.astype(np.int32),
            m.data.astype(dtype), (ALPHA * m.data).astype(dtype), Y)


TOLERANCES = [(np.float64, 1e-10), (np.float32, 1e-4)]
SIMD_SIZES = [6, 16, 37]          # below a vector, whole vectors, and a partial last vector


@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_cholesky_half_step_equals_the_dense_c_u_formula(kernels, dtype, rtol, k):
    observed, conf_dense, indptr, indices, values, conf, Y = _implicit_case(k=k, dtype=dtype)
    X = np.full((observed.shape[0], Y.shape[1]), 9, dtype)
    assert kernels.implicit_als_half_step(indptr, indices, values, dtype(ALPHA), Y, Y.T @ Y,
                                          dtype(0.1), X, 2) == -1
    expected = reference.implicit_half_step(observed, conf_dense, Y.astype(np.float64), 0.1)
    np.testing.assert_allclose(X, expected, rtol=rtol, atol=rtol)
    assert not X[3].any()
    sparse_twin = reference.implicit_half_step_sparse(indptr, indices, conf.astype(np.float64),
                                                      Y.astype(np.float64), 0.1)
    np.testing.assert_allclose(sparse_twin, expected, rtol=rtol, atol=rtol)   # conf rounded to dtype


@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_cg_step_matches_its_numpy_twin(kernels, dtype, rtol, k):
    observed, _, indptr, indices, values, conf, Y = _implicit_case(k=k, seed=3, dtype=dtype)
    X0 = np.random.default_rng(0).normal(0, 0.1, (observed.shape[0], k)).astype(dtype)
    X = X0.copy()
    kernels.implicit_als_cg_step(indptr, indices, values, dtype(ALPHA), Y, Y.T @ Y, dtype(0.1),
                                 X, 3, 2)
    twin = reference.implicit_cg_step(indptr, indices, conf.astype(np.float64),
                                      Y.astype(np.float64), 0.1, X0.astype(np.float64), 3)
    np.testing.assert_allclose(X, twin, rtol=rtol, atol=rtol)


def test_rows_longer_than_the_gather_buffer_are_solved_chunk_by_chunk(kernels):
    # At k = 64 in float64 a row's items are gathered 4096 at a time: 9000 takes 3 chunks.
    gen = np.random.default_rng(4)
    n_items, k = 9500, 64
    lengths = [9000, 5, 4200]
    indices = np.concatenate([np.sort(gen.choice(n_items, n, replace=False)) for n in lengths])
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    indices = indices.astype(np.int32)
    values = gen.integers(1, 4, len(indices)).astype(np.float64)
    Y = gen.normal(0, 0.1, (n_items, k))
    X = np.zeros((3, k))
    assert kernels.implicit_als_half_step(indptr, indices, values, 0.5, Y, Y.T @ Y, 0.1, X, 2) == -1
    exact = reference.implicit_half_step_sparse(indptr, indices, 0.5 * values, Y, 0.1)
    np.testing.assert_allclose(X, exact, rtol=1e-9, atol=1e-12)
    X0 = gen.normal(0, 0.1, (3, k))
    X = X0.copy()
    kernels.implicit_als_cg_step(indptr, indices, values, 0.5, Y, Y.T @ Y, 0.1, X, 3, 2)
    np.testing.assert_allclose(X, reference.implicit_cg_step(indptr, indices, 0.5 * values, Y,
                                                             0.1, X0, 3), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_observed_loss_kernel_matches_its_numpy_twin(kernels, dtype, rtol, k):
    observed, conf_dense, indptr, indices, values, conf, Y = _implicit_case(k=k, dtype=dtype)
    X = np.random.default_rng(2).normal(0, 0.5, (observed.shape[0], Y.shape[1])).astype(dtype)
    out = np.empty(observed.shape[0])
    kernels.implicit_observed_loss(indptr, indices, values, dtype(ALPHA), X, Y, out, 2)
    expected = reference.implicit_observed_loss(indptr, indices, conf, X, Y)
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)
    # With Σ_u x_uᵀ(YᵀY)x_u and the penalty it is the dense loss over all pairs.
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    total = np.sum((X64 @ Y64.T) ** 2) + out.sum() + 0.1 * (np.sum(X64**2) + np.sum(Y64**2))
    assert total == pytest.approx(reference.implicit_loss(observed, conf_dense, X64, Y64, 0.1),
                                  rel=max(rtol, 1e-12))


def test_conjugate_gradient_converges_to_the_exact_solve():
    observed, conf_dense, indptr, indices, values, conf, Y = _implicit_case(k=12)
    exact = reference.implicit_half_step(observed, conf_dense, Y, 0.1)
    errors = []
    for steps in (1, 3, 6, 12):
        X = np.zeros((observed.shape[0], 12))
        _core.implicit_als_cg_step(indptr, indices, values, ALPHA, Y, Y.T @ Y, 0.1, X, steps, 2)
        errors.append(np.abs(X - exact).max())
    assert all(b < a for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 1e-8


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_recorded_loss_is_the_full_objective_and_cholesky_never_increases_it(solver):
    observed, conf_dense, *_ = _implicit_case(seed=1)
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


@pytest.mark.parametrize("k", [5, 16, 37])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_topk_kernel_equals_a_full_sort(kernels, dtype, rtol, k, rng):
    Q, Y = rng.normal(size=(70, k)).astype(dtype), rng.normal(size=(40, k)).astype(dtype)
    offsets, bias = rng.normal(size=70).astype(dtype), rng.normal(size=40).astype(dtype)
    Y[7] = Y[8]; bias[7] = bias[8]                                   # a tie
    exclude = [rng.choice(40, size=rng.integers(0, 38), replace=False) for _ in range(70)]
    exclude[5] = np.arange(39)                                       # one candidate left
    indptr = np.r_[0, np.cumsum([len(e) for e in exclude])].astype(np.int64)
    indices = np.concatenate(exclude).astype(np.int32)
    items, scores = np.empty((70, 4), np.int32), np.empty((70, 4), dtype)
    kernels.topk_scores(Q, offsets, Y, bias, indptr, indices, items, scores, 2)
    full = Q.astype(np.float64) @ Y.T.astype(np.float64) + offsets[:, None] + bias[None, :]
    ref_items, ref_scores = reference.topk(full, exclude, 4)
    np.testing.assert_array_equal(items, ref_items)
    np.testing.assert_allclose(scores, ref_scores, rtol=rtol, atol=rtol)
    assert items[5].tolist() == [39, -1, -1, -1]


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
