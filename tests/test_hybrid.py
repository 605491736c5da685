"""Side features on both sides: UserFeatures/ItemFeatures, the feature map's ridge update,
ALS and ImplicitALS fitted with features, cold start from features, and the model file."""
import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import ALS, ImplicitALS, ItemFeatures, UserFeatures
from fastmf._kernels.implicit_als import row_regularization, solve_rows
from fastmf.models._hybrid import feature_update

from . import reference
from .conftest import IMPLICIT_ALPHA, implicit_case, synthetic


# -- the features tables -------------------------------------------------------------------
def test_from_lists_takes_names_and_weighted_dicts():
    f = UserFeatures.from_lists(["u1", "u2", "u3"],
                                [["F", "F", "writer"], {"M": 1, "age": 0.25}, []])
    assert f.names.tolist() == ["F", "M", "age", "writer"]
    np.testing.assert_array_equal(f.matrix.toarray(), [[1, 0, 0, 1], [0, 1, 0.25, 0],
                                                       [0, 0, 0, 0]])
    # unit rows: [0, 1, .25, 0] / sqrt(1 + 1/16)
    np.testing.assert_allclose(f.weights(["u2", "zz", "u1"]).toarray(),
                               [[0, 4 / np.sqrt(17), 1 / np.sqrt(17), 0], [0, 0, 0, 0],
                                [2**-0.5, 0, 0, 2**-0.5]], rtol=1e-15)
    assert repr(f) == "UserFeatures(3 users, 4 features)"
    assert f.user_ids.ids.tolist() == ["u1", "u2", "u3"]


def test_from_sparse_keeps_weights_and_from_frame_and_csv_agree(tmp_path):
    pd = pytest.importorskip("pandas")
    g = ItemFeatures.from_sparse(sp.csr_matrix(np.array([[0, 3.0], [1, 0]])), ["x", "y"],
                                 ["p", "q"])
    assert g.matrix.toarray().tolist() == [[0, 3], [1, 0]]
    frame = pd.DataFrame({"id": [5, 6, 7], "age": [17, 30, np.nan], "score": [0.5, 0.0, 2.0],
                          "tags": ["a|b", None, "b"], "job": ["x", "y", "x"]})
    f = ItemFeatures.from_frame(frame, "id", buckets={"age": [18, 25]}, value_sep="|")
    assert f.names.tolist() == ["age<18", "age>=25", "job=x", "job=y", "score", "tags=a",
                                "tags=b"]
    # score is divided by its largest value, 2: weights in [0, 1] like the one-hot ones
    np.testing.assert_array_equal(f.matrix.toarray(), [[1, 0, 1, 0, 0.25, 1, 1],
                                                       [0, 1, 0, 1, 0, 0, 0],
                                                       [0, 0, 1, 0, 1, 0, 1]])
    path = tmp_path / "f.csv"
    path.write_text("id,age,score,tags,job\n5,17,0.5,a|b,x\n6,30,0,,y\n7,,2,b,x\n")
    c = ItemFeatures.from_csv(path, buckets={"age": [18, 25]}, value_sep="|")
    assert c.names.tolist() == f.names.tolist() and c.ids.ids.tolist() == [5, 6, 7]
    np.testing.assert_array_equal(c.matrix.toarray(), f.matrix.toarray())
    by_index = UserFeatures.from_frame(frame.set_index("id")[["job"]])
    assert by_index.names.tolist() == ["job=x", "job=y"] and by_index.ids.ids.tolist() == [5, 6, 7]


@pytest.mark.parametrize("build, error, match", [
    (lambda: UserFeatures([1, 2], [[1.0], [-1.0]], ["a"]), ValueError,
     r"finite and >= 0; user 2 has -1.0"),
    (lambda: UserFeatures([1, 2], [[1.0], [np.nan]], ["a"]), ValueError, "finite and >= 0"),
    (lambda: UserFeatures([1, 1], np.eye(2), ["a", "b"]), ValueError, "user_ids must be unique"),
    (lambda: ItemFeatures([1, 2], np.eye(2), ["a", "a"]), ValueError, "names must be unique"),
    (lambda: ItemFeatures([1, 2], np.eye(3), ["a", "b", "c"]), ValueError, "must have shape"),
    (lambda: UserFeatures.from_lists([1, 2], [["a"]]), ValueError, "same length, got 2 and 1"),
    (lambda: UserFeatures.from_lists([1], [{"a": -2}]), ValueError,
     r"feature_lists\[0\]: the weight of feature 'a' must be finite and >= 0"),
    (lambda: UserFeatures.from_lists([1], [3]), TypeError, "list of feature names or a dict"),
    (lambda: UserFeatures.from_sparse(np.eye(2), [1, 2]), TypeError, "scipy.sparse"),
    (lambda: UserFeatures.from_frame([1, 2]), TypeError, "pandas DataFrame"),
])
def test_bad_tables_are_refused_with_a_named_reason(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_frames_and_files_are_refused(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"id": [1, 2], "x": [1.0, -3.0], "age": [3, 4]})
    with pytest.raises(ValueError, match="column 'x' has a negative value"):
        UserFeatures.from_frame(frame, "id")
    with pytest.raises(ValueError, match="id_column 'user' is not a column"):
        UserFeatures.from_frame(frame, "user")
    with pytest.raises(ValueError, match="buckets names column 'height'"):
        UserFeatures.from_frame(frame[["id", "age"]], "id", buckets={"height": [1]})
    with pytest.raises(ValueError, match=r"buckets\['age'\] must be increasing"):
        UserFeatures.from_frame(frame[["id", "age"]], "id", buckets={"age": [5, 2]})
    bad = tmp_path / "bad.csv"
    bad.write_text("id,job\n1,x\n2,y,z\n")
    with pytest.raises(ValueError, match="line 3: 3 fields, the header has 2"):
        UserFeatures.from_csv(bad)
    with pytest.raises(FileNotFoundError, match="no features file"):
        UserFeatures.from_csv(tmp_path / "missing.csv")
    good = tmp_path / "good.csv"
    good.write_text("id,job\n1,x\n")
    with pytest.raises(ValueError, match="id_column 'user' is not a column"):
        UserFeatures.from_csv(good, id_column="user")


# -- the feature map -------------------------------------------------------------------
def test_feature_update_equals_lstsq_with_weighted_features():
    gen = np.random.default_rng(3)
    A = (gen.random((40, 7)) < 0.4) * gen.uniform(0.1, 3.0, (40, 7))
    A[5] = 0
    A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-300)
    Y, tau = gen.normal(size=(40, 5)), gen.uniform(0.2, 4.0, 40)
    W = feature_update(sp.csr_matrix(A), Y, tau, 0.3)
    np.testing.assert_allclose(W, reference.feature_map_lstsq(A, Y, tau, 0.3), rtol=1e-10,
                               atol=1e-12)


# -- a half-step with features against the whole objective -----------------------------------
@pytest.mark.parametrize("alpha0", [0.5, 1.0, 3.0])
def test_implicit_half_step_with_a_prior_minimises_the_whole_objective(alpha0):
    observed, conf_dense, indptr, indices, values, conf, Y = implicit_case(n_users=7,
                                                                           n_items=9, k=3,
                                                                           seed=4)
    model = ImplicitALS(factors=3, alpha=IMPLICIT_ALPHA, confidence="linear",
                        unobserved_weight=alpha0, regularization=0.3, dtype="float64")
    p = model._check_params()
    C = fastmf.data.Csr(indptr, indices, values, observed.shape)
    prior = np.random.default_rng(5).normal(0, 0.7, (7, 3))
    X = np.zeros((7, 3))
    assert solve_rows(C, Y, Y.T @ Y, X, p, prior=prior) == -1
    reg = row_regularization(C.counts(), len(Y), p, np.float64)
    expected = reference.implicit_whole_objective_step(observed, conf_dense, Y, reg, alpha0,
                                                       prior)
    np.testing.assert_allclose(X, expected, rtol=1e-10, atol=1e-12)


def test_als_half_step_with_a_prior_minimises_the_whole_objective():
    data = synthetic(n_users=6, n_items=8, density=0.4, seed=3)
    R = data.by_user
    gen = np.random.default_rng(1)
    Y, yb, prior = gen.normal(size=(8, 3)), gen.normal(size=8), gen.normal(size=(6, 3))
    model = ALS(factors=3, regularization=0.4, bias_regularization=0.7, weighted=0.5,
                dtype="float64")
    p = model._check_params()
    from fastmf._kernels.als import row_regularization as als_reg, solve_rows as als_solve

    X, xb = np.zeros((6, 3)), np.zeros(6)
    lam = als_reg(R.counts(), p, np.float64)
    assert als_solve(R, Y, yb, 3.0, lam, prior, X, xb, p) == -1
    # one least-squares problem in every [b_u, x_u] at once
    rows, targets = [], []
    for u in range(6):
        for e in range(R.indptr[u], R.indptr[u + 1]):
            row = np.zeros(24)
            row[4 * u] = 1
            row[4 * u + 1:4 * u + 4] = Y[R.indices[e]]
            rows.append(row)
            targets.append(R.data[e] - 3.0 - yb[R.indices[e]])
        ridge = np.zeros((4, 24))
        ridge[0, 4 * u] = np.sqrt(0.7)
        ridge[1:, 4 * u + 1:4 * u + 4] = np.sqrt(lam[u]) * np.eye(3)
        rows.extend(ridge)
        targets.extend(np.r_[0.0, np.sqrt(lam[u]) * prior[u]])
    solution = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)[0].reshape(6, 4)
    np.testing.assert_allclose(xb, solution[:, 0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(X, solution[:, 1:], rtol=1e-10, atol=1e-12)


# -- fits with features ------------------------------------------------------------------
def _tables(data, seed=0, n_features=5):
    """Weighted features for every user and item but the last of each."""
    gen = np.random.default_rng(seed)

    def rows(n):
        out = [{f"f{j}": float(gen.uniform(0.5, 2))
                for j in np.flatnonzero(gen.random(n_features) < 0.5)} for _ in range(n)]
        out[-1] = {}
        return out
    return (UserFeatures.from_lists(data.user_ids.ids, rows(data.n_users)),
            ItemFeatures.from_lists(data.item_ids.ids, rows(data.n_items)))


def _implicit_data(seed=0):
    gen = np.random.default_rng(seed)
    observed = gen.random((30, 20)) < 0.3
    observed[np.arange(30), gen.integers(0, 20, 30)] = True
    users, items = np.nonzero(observed)
    return fastmf.Interactions.from_arrays(users, items, gen.integers(1, 4, len(users)))


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_implicit_fit_with_features_on_both_sides(solver):
    data = _implicit_data()
    users, items = _tables(data)
    model = ImplicitALS(factors=4, regularization=0.2, iterations=6, solver=solver, cg_steps=8,
                        user_features=users, item_features=items, feature_regularization=0.4,
                        dtype="float64", seed=0, verbose=False).fit(data)
    p = model._check_params()
    A_u, A_i = users.weights(data.user_ids.ids), items.weights(data.item_ids.ids)
    X, Y = model.user_factors_, model.item_factors_
    tau_u = row_regularization(data.by_user.counts(), data.n_items, p, np.float64)
    tau_i = row_regularization(data.by_item.counts(), data.n_users, p, np.float64)
    # each map was solved last from its side's final factors
    np.testing.assert_allclose(model.user_feature_factors_,
                               reference.feature_map_lstsq(A_u.toarray(), X, tau_u, 0.4),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.feature_factors_,
                               reference.feature_map_lstsq(A_i.toarray(), Y, tau_i, 0.4),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.user_priors_, A_u @ model.user_feature_factors_, rtol=1e-12)
    np.testing.assert_allclose(model.item_priors_, A_i @ model.feature_factors_, rtol=1e-12)
    assert model.user_feature_names_.tolist() == users.names.tolist()
    # the recorded loss is the whole objective, computed densely
    observed = np.zeros((data.n_users, data.n_items), bool)
    conf = np.zeros(observed.shape)
    R = data.by_user
    rows = np.repeat(np.arange(data.n_users), R.counts())
    observed[rows, R.indices] = True
    conf[rows, R.indices] = p.alpha * np.log1p(R.data / p.epsilon)
    w = np.where(observed, 1 + conf, p.unobserved_weight)
    dense = (np.sum(w * (observed - X @ Y.T) ** 2)
             + tau_u @ np.sum((X - model.user_priors_) ** 2, 1)
             + tau_i @ np.sum((Y - model.item_priors_) ** 2, 1)
             + 0.4 * (np.sum(model.user_feature_factors_**2) + np.sum(model.feature_factors_**2)))
    losses = np.array([h["loss"] for h in model.history_])
    assert losses[-1] == pytest.approx(dense, rel=1e-10)
    if solver == "cholesky":        # every block is minimised exactly
        assert np.all(np.diff(losses) <= 1e-12 * losses[:-1])


def test_als_fit_with_user_features_keeps_the_objective_and_the_map():
    data = synthetic(seed=4)
    users, items = _tables(data, seed=1)
    model = ALS(factors=4, regularization=0.3, weighted=0.5, iterations=6, user_features=users,
                item_features=items, feature_regularization=0.5, dtype="float64", seed=0,
                verbose=False).fit(data)
    losses = np.array([h["loss"] for h in model.history_])
    assert np.all(np.diff(losses) <= 1e-12 * losses[:-1])
    A_u = users.weights(data.user_ids.ids).toarray()
    tau = 0.3 * data.by_user.counts() ** 0.5
    np.testing.assert_allclose(model.user_feature_factors_,
                               reference.feature_map_lstsq(A_u, model.user_factors_, tau, 0.5),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.user_priors_, A_u @ model.user_feature_factors_,
                               rtol=1e-12, atol=1e-14)


def test_bad_feature_parameters_are_refused():
    data = _implicit_data()
    users, items = _tables(data)
    with pytest.raises(ValueError, match="solver='block' does not take side features"):
        ImplicitALS(solver="block", user_features=users, verbose=False).fit(data)
    with pytest.raises(TypeError, match="user_features must be None or a fastmf.UserFeatures"):
        ImplicitALS(user_features=items, verbose=False).fit(data)
    with pytest.raises(TypeError, match="item_features must be None, 'genres' or"):
        ALS(item_features=users, verbose=False).fit(synthetic())
    with pytest.raises(ValueError, match="feature_regularization"):
        ImplicitALS(item_features=items, feature_regularization=0, verbose=False).fit(data)
    stranger = UserFeatures.from_lists(["nobody"], [["a"]])
    with pytest.raises(ValueError, match="none of the training users has features"):
        ImplicitALS(user_features=stranger, verbose=False).fit(data)


# -- cold start ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def implicit_model():
    data = _implicit_data(seed=1)
    users, items = _tables(data, seed=2)
    model = ImplicitALS(factors=4, regularization=0.2, iterations=4, user_features=users,
                        item_features=items, dtype="float64", seed=0, verbose=False)
    return model.fit(data), data


def _cold_row(model, side, weights):
    """The prior a W of a row known by its features alone, a = weights / ‖weights‖."""
    names, W, _ = fastmf.models._hybrid.ATTRIBUTES[side]
    a = np.array([weights.get(n, 0.0) for n in getattr(model, names)])
    return (a / np.linalg.norm(a)) @ getattr(model, W)


def test_a_new_user_from_features_alone(implicit_model):
    model, data = implicit_model
    features = {"f1": 2.0, "f3": 0.5}
    expected = _cold_row(model, "user", features)
    user = model.fold_in(features=features)
    np.testing.assert_allclose(user.factors, expected, rtol=1e-10)
    assert user.bias == 0.0
    items, scores = model.recommend_new_user(features=features, n=5)
    order = np.argsort(-(model.item_factors_ @ expected), kind="stable")[:5]
    assert items.tolist() == model.item_ids_.ids[order].tolist()
    np.testing.assert_allclose(scores, (model.item_factors_ @ expected)[order], rtol=1e-10)
    assert model.fold_in(features=["f1", "f3"]).factors.shape == (4,)


def test_features_and_a_few_interactions_together(implicit_model):
    model, data = implicit_model
    p = model._check_params()
    features = {"f0": 1.0}
    fitted = model.fold_in([3, 7], features=features)
    prior = model.user_feature_factors_[model.user_feature_names_.tolist().index("f0")]
    Y = model.item_factors_
    conf = np.zeros((1, len(Y)))
    observed = np.zeros((1, len(Y)), bool)
    observed[0, [3, 7]] = True
    conf[0, [3, 7]] = p.alpha * np.log1p(1 / p.epsilon)
    lam = p.regularization * (2 + p.unobserved_weight * len(Y)) ** p.regularization_exponent
    expected = reference.implicit_half_step(observed, conf, Y, np.array([lam]),
                                            p.unobserved_weight, prior=prior[None, :])
    np.testing.assert_allclose(fitted.factors, expected[0], rtol=1e-10)


def test_add_users_and_items_from_features_serve_with_filters(implicit_model, tmp_path):
    model, data = implicit_model
    model.save(tmp_path / "m.npz")
    model = fastmf.load(tmp_path / "m.npz")     # a copy; the fixture stays as it is
    n_users, n_items = len(model.user_ids_), len(model.item_ids_)
    model.add_users([100, 101], [{"f2": 1.0}, ["f0", "f4"]])
    np.testing.assert_allclose(model.user_factors_[n_users], _cold_row(model, "user", {"f2": 1}),
                               rtol=1e-10)
    model.add_items([200], ItemFeatures.from_lists([200, 201], [["f1"], ["f2"]]))
    np.testing.assert_allclose(model.item_factors_[n_items], _cold_row(model, "item", {"f1": 1}),
                               rtol=1e-10)
    assert len(model.user_ids_) == n_users + 2 and len(model.item_ids_) == n_items + 1
    assert model.user_priors_.shape == (n_users + 2, 4)
    items, _ = model.recommend(101, n=len(model.item_ids_), filter_items=[200, 0])
    assert 200 not in items and 0 not in items and len(items) == n_items - 1
    assert 200 in model.recommend(100, n=n_items + 1)[0]
    batch = model.recommend_batch([100, 0], n=3)
    assert batch.items.shape == (2, 3)


@pytest.mark.parametrize("make", [
    lambda users, items: ImplicitALS(factors=3, iterations=3, user_features=users,
                                     item_features=items, seed=0, verbose=False),
    lambda users, items: ALS(factors=3, iterations=3, user_features=users, item_features=items,
                             seed=0, verbose=False),
])
def test_a_loaded_model_places_new_rows_from_features(make, tmp_path):
    data = synthetic(seed=5)
    users, items = _tables(data, seed=3)
    model = make(users, items).fit(data)
    model.save(tmp_path / "m.npz")
    loaded = fastmf.load(tmp_path / "m.npz")
    assert loaded.user_features is None                  # the table itself is not kept
    np.testing.assert_array_equal(loaded.user_feature_factors_, model.user_feature_factors_)
    assert loaded.user_feature_names_.tolist() == users.names.tolist()
    for m in (model, loaded):
        m.add_users(["new"] if data.user_ids.ids.dtype.kind == "U" else [10**6], [["f1"]])
        m.add_items([10**6], [{"f2": 3.0}])
    np.testing.assert_array_equal(loaded.user_factors_, model.user_factors_)
    np.testing.assert_array_equal(loaded.item_factors_, model.item_factors_)
    np.testing.assert_array_equal(loaded.fold_in(features=["f0"]).factors,
                                  model.fold_in(features=["f0"]).factors)


def test_an_als_user_from_features_is_its_prior_with_zero_bias():
    data = synthetic(seed=6)
    users, _ = _tables(data, seed=4)
    model = ALS(factors=3, iterations=3, user_features=users, dtype="float64", seed=0,
                verbose=False).fit(data)
    user = model.fold_in(features={"f1": 1.0, "f2": 1.0})
    names = model.user_feature_names_.tolist()
    W = model.user_feature_factors_
    np.testing.assert_allclose(user.factors, (W[names.index("f1")] + W[names.index("f2")])
                               / np.sqrt(2), rtol=1e-12)
    assert user.bias == 0.0


def test_bad_cold_start_calls_change_nothing(implicit_model):
    model, data = implicit_model
    before = {name: np.copy(getattr(model, name)) for name in
              ("user_factors_", "item_factors_", "user_priors_")}
    with pytest.raises(ValueError, match="feature 'nope' is not a known feature"):
        model.add_users([100], [["f1", "nope"]])
    with pytest.raises(ValueError, match="user 0 is already in the model"):
        model.add_users([0], [["f1"]])
    with pytest.raises(ValueError, match="got 2 user_ids and 1 features"):
        model.add_users([100, 101], [["f1"]])
    with pytest.raises(TypeError, match="do not match the model's user ids"):
        model.add_users(["s"], [["f1"]])
    with pytest.raises(TypeError, match="add_items takes the features of items, got a "
                                        "UserFeatures"):
        model.add_items([999], UserFeatures.from_lists([999], [["f1"]]))
    with pytest.raises(ValueError, match="item 999 is not in the given ItemFeatures"):
        model.add_items([999], ItemFeatures.from_lists([1], [["f1"]]))
    with pytest.raises(ValueError, match="items must not be empty|items is empty|empty"):
        model.fold_in()
    plain = ImplicitALS(factors=2, iterations=1, seed=0, verbose=False).fit(data)
    with pytest.raises(ValueError, match="need a model fitted with user_features"):
        plain.fold_in(features=["f1"])
    with pytest.raises(ValueError, match="add_items needs a model fitted with item_features"):
        plain.add_items([999], [["f1"]])
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    assert len(model.user_ids_) == data.n_users


def test_features_place_cold_users_better_than_popularity():
    """Users' tastes follow a feature: held-out users, known by that feature alone, get
    their group's items first."""
    gen = np.random.default_rng(0)
    n_users, n_items = 200, 60
    group = gen.integers(0, 3, n_users)
    liked = [np.arange(20 * g, 20 * g + 20) for g in range(3)]
    users, items = [], []
    for u in range(n_users):
        chosen = gen.choice(liked[group[u]], 8, replace=False)
        users += [u] * 8
        items += chosen.tolist()
    data = fastmf.Interactions.from_arrays(users, items)
    train_users = np.arange(160)
    keep = np.isin(np.array(users), train_users)
    train = fastmf.Interactions.from_arrays(np.array(users)[keep], np.array(items)[keep])
    table = UserFeatures.from_lists(np.arange(n_users), [[f"g{g}"] for g in group])
    model = ImplicitALS(factors=8, iterations=8, user_features=table, seed=0,
                        verbose=False).fit(train)
    hits = [np.isin(model.recommend_new_user(features=[f"g{group[u]}"], n=10)[0],
                    liked[group[u]]).mean() for u in range(160, n_users)]
    assert np.mean(hits) > 0.9
    assert data.n_users == n_users


def test_the_approximate_index_serves_items_added_from_features(implicit_model, tmp_path):
    model, data = implicit_model
    model.save(tmp_path / "m.npz")
    model = fastmf.load(tmp_path / "m.npz")
    model.build_index(M=8, ef_construction=50, ef_search=64)
    model.add_items([300, 301], [["f0", "f1"], {"f3": 2.0}])
    model.add_users([400], [["f0", "f1"]])
    with pytest.warns(fastmf.FastMFWarning, match="built for earlier item factors"):
        stale = model.recommend(400, n=5)[0]
    model.build_index(M=8, ef_construction=50, ef_search=64)
    approximate, _ = model.recommend(400, n=5, filter_items=[301])
    exact, _ = model.recommend(400, n=5, filter_items=[301], exact=True)
    assert 301 not in approximate and approximate.tolist() == exact.tolist()
    assert stale.tolist() == model.recommend(400, n=5, exact=True)[0].tolist()


@pytest.mark.parametrize("cls, added", [
    (ALS, ("user_features",)),
    (ImplicitALS, ("user_features", "item_features", "feature_regularization")),
])
def test_a_model_pickled_before_the_feature_parameters_unpickles_without_features(cls, added):
    import pickle

    model = cls(factors=2, iterations=1, seed=0, verbose=False).fit(synthetic(seed=7))
    state = model.__getstate__()
    for name in added:
        del state[name]
    old = cls.__new__(cls)
    old.__setstate__(state)
    assert old.user_features is None
    clone = pickle.loads(pickle.dumps(old))
    np.testing.assert_array_equal(clone.recommend(0, n=3)[0], model.recommend(0, n=3)[0])
    clone.fit(synthetic(seed=7))


@pytest.mark.parametrize("name, value, match", [
    ("user_feature_factors_", np.zeros((2, 3)), r"user_feature_factors_ must be a finite"),
    ("user_priors_", np.zeros((5, 3), np.float32), r"user_priors_ must be a finite"),
    ("feature_factors_", np.full((5, 3), np.nan, np.float32), r"feature_factors_ must be"),
    ("user_feature_names_", np.array(["a", "a", "b", "c", "d"]), "distinct strings"),
])
def test_a_model_file_with_inconsistent_feature_arrays_is_refused(tmp_path, name, value, match):
    data = synthetic(seed=8)
    users, items = _tables(data, seed=5)
    model = ImplicitALS(factors=3, iterations=2, user_features=users, item_features=items,
                        seed=0, verbose=False).fit(data)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as archive:
        arrays = dict(archive)
    arrays[name] = value
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(fastmf.ModelFileError, match=match):
        fastmf.load(tmp_path / "bad.npz")
