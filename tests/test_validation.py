"""Bad input: every public entry point raises a specific exception with a message that
names the problem, before any state changes."""
import numpy as np
import pytest
import scipy.sparse as sp

import fastmf
from fastmf import ALS, DataNotFoundError, Interactions, NotFittedError, UnknownIdError

from .conftest import synthetic

NAN, INF = float("nan"), float("inf")


def _bad_csr():
    m = sp.csr_matrix(np.eye(3))
    m.indices[1] = 7            # out of range, as a hand-built CSR might be
    return m


def _truncated_csv(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("1,10,4\n2,11,3\n3,12")
    return Interactions.from_csv(path)


def _missing_csv(tmp_path):
    return Interactions.from_csv(tmp_path / "absent.csv")


def _missing_movielens(tmp_path):
    return fastmf.datasets.load_movielens("100k", data_home=tmp_path, download=False)


def _fit(**params):
    return lambda tmp_path: ALS(verbose=False, **params).fit(synthetic(10, 8))


def _fitted_call(method):
    def run(tmp_path):
        model = ALS(factors=2, iterations=1, verbose=False).fit(synthetic(10, 8))
        return method(model)
    return run


CASES = [
    # data
    ("nan ratings", lambda t: Interactions.from_arrays([1, 2, 3], [1, 2, 3], [4, NAN, 5]),
     ValueError, r"ratings contain 1 NaN values \(first at position 1\)"),
    ("inf ratings", lambda t: Interactions.from_arrays([1, 2], [1, 2], [INF, 5]),
     ValueError, r"ratings contain 1 infinite values \(first at position 0\)"),
    ("mismatched lengths", lambda t: Interactions.from_arrays([1, 2], [1, 2], [3, 4, 5]),
     ValueError, r"users, items, ratings must have the same length, got 2 users and 2 items and 3 ratings"),
    ("empty data", lambda t: Interactions.from_arrays([], [], []),
     ValueError, r"the data is empty"),
    ("string ratings", lambda t: Interactions.from_arrays([1, 2], [1, 2], ["4", "5"]),
     TypeError, r"ratings must be numeric, got an array of dtype <U1"),
    ("mixed id types", lambda t: Interactions.from_arrays([1, None], [1, 2], [3, 4]),
     TypeError, r"users must be all integers or all strings, got mixed or other values"),
    ("float ids", lambda t: Interactions.from_arrays([1.5, 2], [1, 2], [3, 4]),
     ValueError, r"users must be integers or strings; got a float id 1.5 at position 0"),
    ("bad duplicates policy", lambda t: Interactions.from_arrays([1], [1], [1], duplicates="max"),
     ValueError, r"duplicates must be one of 'error', 'last', 'sum', 'mean', got 'max'"),
    ("sparse index out of range", lambda t: Interactions.from_sparse(_bad_csr()),
     ValueError, r"matrix is not a valid csr matrix"),
    ("not a sparse matrix", lambda t: Interactions.from_sparse(np.eye(2)),
     TypeError, r"matrix must be a scipy.sparse matrix, got ndarray"),
    ("missing data file", _missing_csv, FileNotFoundError, r"no such file: .*absent.csv"),
    ("truncated csv", _truncated_csv, ValueError, r"cut.csv, line 3: expected at least 3 fields"),
    ("missing MovieLens copy", _missing_movielens, DataNotFoundError, r"ml-100k"),
    ("not interactions", lambda t: ALS(verbose=False).fit([1, 2, 3]),
     TypeError, r"train must be a fastmf.Interactions or a \(users, items, ratings\) tuple, got list"),
    # splits
    ("test_size too big", lambda t: fastmf.train_test_split(synthetic(), test_size=1.5),
     ValueError, r"test_size must be a float <= 1, got 1.5"),
    ("unknown strategy", lambda t: fastmf.train_test_split(synthetic(), strategy="by_item"),
     ValueError, r"strategy must be one of 'random', 'per_user', 'temporal', got 'by_item'"),
    ("temporal without timestamps", lambda t: fastmf.train_test_split(synthetic(), strategy="temporal"),
     ValueError, r"strategy='temporal' needs timestamps"),
    # parameters
    ("negative factors", _fit(factors=-1), ValueError, r"factors must be an integer >= 1, got -1"),
    ("float factors", _fit(factors=2.5), TypeError, r"factors must be an integer, got 2.5"),
    ("negative regularization", _fit(regularization=-0.1), ValueError,
     r"regularization must be a float >= 0, got -0.1"),
    ("nan regularization", _fit(regularization=NAN), ValueError, r"regularization must be finite"),
    ("weighted out of range", _fit(weighted=2), ValueError, r"weighted must be a float <= 1, got 2"),
    ("zero iterations", _fit(iterations=0), ValueError, r"iterations must be an integer >= 1, got 0"),
    ("unknown dtype", _fit(dtype="float16"), ValueError,
     r"dtype must be 'float32' or 'float64', got 'float16'"),
    ("negative threads", _fit(num_threads=-2), ValueError, r"num_threads must be an integer >= 0, got -2"),
    ("negative seed", _fit(seed=-1), ValueError, r"seed must be None, a non-negative integer"),
    ("bad patience", _fit(early_stopping=0), ValueError, r"early_stopping must be an integer >= 1"),
    ("zero learning rate", lambda t: fastmf.SGD(learning_rate=0, verbose=False).fit(synthetic()),
     ValueError, r"learning_rate must be a float > 0, got 0.0"),
    ("decay above one", lambda t: fastmf.SGD(decay=1.5, verbose=False).fit(synthetic()),
     ValueError, r"decay must be a float <= 1, got 1.5"),
    ("shuffle not a bool", lambda t: fastmf.SGD(shuffle="yes", verbose=False).fit(synthetic()),
     TypeError, r"shuffle must be True or False, got 'yes'"),
    ("negative epochs", lambda t: fastmf.SGD(epochs=-3, verbose=False).fit(synthetic()),
     ValueError, r"epochs must be an integer >= 1, got -3"),
    ("zero alpha", lambda t: fastmf.ImplicitALS(alpha=0, verbose=False).fit(synthetic()),
     ValueError, r"alpha must be a float > 0, got 0.0"),
    ("unknown solver", lambda t: fastmf.ImplicitALS(solver="lu", verbose=False).fit(synthetic()),
     ValueError, r"solver must be one of 'cholesky', 'cg', 'block', got 'lu'"),
    ("unknown confidence", lambda t: fastmf.ImplicitALS(confidence="exp", verbose=False).fit(synthetic()),
     ValueError, r"confidence must be one of 'linear', 'log', got 'exp'"),
    ("zero cg steps", lambda t: fastmf.ImplicitALS(cg_steps=0, verbose=False).fit(synthetic()),
     ValueError, r"cg_steps must be an integer >= 1, got 0"),
    ("zero block size", lambda t: fastmf.ImplicitALS(solver="block", block_size=0, verbose=False).fit(synthetic()),
     ValueError, r"block_size must be an integer >= 1, got 0"),
    ("float block size", lambda t: fastmf.ImplicitALS(block_size=8.0, verbose=False).fit(synthetic()),
     TypeError, r"block_size must be an integer, got 8.0"),
    ("zero implicit regularization", lambda t: fastmf.ImplicitALS(regularization=0, verbose=False).fit(synthetic()),
     ValueError, r"regularization must be a float > 0, got 0.0"),
    ("zero unobserved weight", lambda t: fastmf.ImplicitALS(unobserved_weight=0, verbose=False).fit(synthetic()),
     ValueError, r"unobserved_weight must be a float > 0, got 0.0"),
    ("regularization exponent above one", lambda t: fastmf.ImplicitALS(regularization_exponent=1.5, verbose=False).fit(synthetic()),
     ValueError, r"regularization_exponent must be a float <= 1, got 1.5"),
    ("negative regularization exponent", lambda t: fastmf.ImplicitALS(regularization_exponent=-0.5, verbose=False).fit(synthetic()),
     ValueError, r"regularization_exponent must be a float >= 0, got -0.5"),
    ("implicit init_std not a number", lambda t: fastmf.ImplicitALS(init_std="small", verbose=False).fit(synthetic()),
     TypeError, r"init_std must be a number, got 'small'"),
    ("zero BPR learning rate", lambda t: fastmf.BPR(learning_rate=0, verbose=False).fit(synthetic()),
     ValueError, r"learning_rate must be a float > 0, got 0.0"),
    ("negative BPR regularization", lambda t: fastmf.BPR(regularization=-0.1, verbose=False).fit(synthetic()),
     ValueError, r"regularization must be a float >= 0, got -0.1"),
    ("unknown negative sampling", lambda t: fastmf.BPR(negative_sampling="hard", verbose=False).fit(synthetic()),
     ValueError, r"negative_sampling must be one of 'uniform', 'popularity', got 'hard'"),
    ("negative popularity exponent", lambda t: fastmf.BPR(popularity_exponent=-1, verbose=False).fit(synthetic()),
     ValueError, r"popularity_exponent must be a float >= 0, got -1.0"),
    ("item_biases not a bool", lambda t: fastmf.BPR(item_biases=1, verbose=False).fit(synthetic()),
     TypeError, r"item_biases must be True or False, got 1"),
    ("zero BPR init_std", lambda t: fastmf.BPR(init_std=0, verbose=False).fit(synthetic()),
     ValueError, r"init_std must be a float > 0, got 0.0"),
    ("zero BPR epochs", lambda t: fastmf.BPR(epochs=0, verbose=False).fit(synthetic()),
     ValueError, r"epochs must be an integer >= 1, got 0"),
    ("BPR without positives", lambda t: fastmf.BPR(verbose=False).fit(([1, 2], [1, 2], [0, 0])),
     ValueError, r"the training data has no value > 0; BPR needs positive interactions"),
    ("BPR without negatives", lambda t: fastmf.BPR(verbose=False).fit(([1, 1, 2, 2], [1, 2, 1, 2])),
     ValueError, r"every user with interactions has them with every item"),
    # serving
    ("unfitted predict", lambda t: ALS().predict([1], [1]), NotFittedError,
     r"this ALS instance is not fitted yet; call fit\(\) first"),
    ("unfitted recommend", lambda t: ALS().recommend(1), NotFittedError, r"not fitted yet"),
    ("unknown user", _fitted_call(lambda m: m.recommend(12345)), UnknownIdError,
     r"user 12345 was not in the training data; use fold_in\(\) to score a new user"),
    ("predict lengths", _fitted_call(lambda m: m.predict([1, 2], [1])), ValueError,
     r"users, items must have the same length, got 2 users and 1 items"),
    ("bad n", _fitted_call(lambda m: m.recommend(1, n=0)), ValueError, r"n must be an integer >= 1, got 0"),
    ("unknown user in a batch", _fitted_call(lambda m: m.recommend_batch([1, 77])), UnknownIdError,
     r"user 77 in users was not in the training data"),
    ("unknown item for similar", _fitted_call(lambda m: m.similar_items("zz")), UnknownIdError,
     r"item 'zz' was not in the training data"),
    ("unfitted similar users", lambda t: ALS().similar_users(1), NotFittedError, r"not fitted yet"),
    ("nan metric input", lambda t: fastmf.metrics.rmse([1, 2], [1, NAN]), ValueError,
     r"y_pred contain 1 NaN values"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(call, error, message, tmp_path):
    with pytest.raises(error, match=message):
        call(tmp_path)


def test_a_failed_fit_leaves_the_fitted_model_unchanged():
    data = synthetic(20, 10)
    model = ALS(factors=3, iterations=2, seed=0, verbose=False).fit(data)
    state = {k: np.copy(v) for k, v in vars(model).items() if k.endswith("_") and isinstance(v, np.ndarray)}
    params = model.get_params()
    for bad in (dict(regularization=-1), dict(dtype="int8"), dict(factors=0)):
        model.set_params(**bad)
        with pytest.raises((ValueError, TypeError)):
            model.fit(data)
        model.set_params(**params)
    with pytest.raises(ValueError):
        model.fit((["a", "b"], ["x", "y"], [1.0, NAN]))
    for name, value in state.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    assert model.predict([0], [0]).shape == (1,)


SERVING_CALLS = {
    "predict": lambda m: m.predict([1], [1]),
    "score_users": lambda m: m.score_users([1]),
    "recommend": lambda m: m.recommend(1),
    "recommend_batch": lambda m: m.recommend_batch([1]),
    "recommend_all": lambda m: m.recommend_all(),
    "recommend_new_user": lambda m: m.recommend_new_user([1]),
    "fold_in": lambda m: m.fold_in([1]),
    "similar_items": lambda m: m.similar_items(1),
    "similar_users": lambda m: m.similar_users(1),
    "save": lambda m: m.save("never-written.npz"),
    "partial_fit_users": lambda m: m.partial_fit_users([1], [1]),
    "partial_fit_items": lambda m: m.partial_fit_items([1], [1]),
    "build_index": lambda m: m.build_index(),
}


@pytest.mark.parametrize("call", list(SERVING_CALLS))
@pytest.mark.parametrize("cls", [fastmf.ALS, fastmf.SGD, fastmf.ImplicitALS, fastmf.BPR])
def test_every_serving_call_on_an_unfitted_model_raises_not_fitted(cls, call, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFittedError, match=f"this {cls.__name__} instance is not fitted yet"):
        SERVING_CALLS[call](cls())
    assert list(tmp_path.iterdir()) == []


# Parameters valid in float64 that the float32 kernels cannot hold, and ints beyond C's int:
# each fails at fit with the kernel's view of it, the model unchanged; the last column says
# whether float64 holds it.
KERNEL_RANGE = [
    (fastmf.ImplicitALS, dict(alpha=1e40), r"alpha=1e\+40 overflows the model dtype float32",
     True),
    (fastmf.ImplicitALS, dict(epsilon=1e40), r"epsilon=1e\+40 overflows the model dtype float32",
     True),
    (fastmf.ImplicitALS, dict(solver="cg", cg_steps=2**31),
     r"cg_steps must be an integer <= 2147483647, got 2147483648", False),
    (fastmf.ImplicitALS, dict(solver="block", block_size=2**31 + 3),
     r"block_size must be an integer <= 2147483647", False),
    (fastmf.ImplicitALS, dict(confidence="linear", alpha=1e38),
     r"the largest confidence, 1 \+ alpha \* 5 = 5e\+38, overflows the model dtype float32",
     True),
    (fastmf.ImplicitALS, dict(regularization=1e38, regularization_exponent=1.0),
     r"regularization_exponent reaches \S+, which overflows the model dtype float32", True),
    (fastmf.ImplicitALS, dict(regularization=1e-50),
     r"regularization=1e-50 is 0 in the model dtype float32", True),
    (fastmf.ALS, dict(regularization=1e39), r"regularization=1e\+39 overflows", True),
    (fastmf.ALS, dict(dtype=None), r"dtype must be 'float32' or 'float64', got None", False),
    (fastmf.SGD, dict(learning_rate=1e39), r"learning_rate=1e\+39 overflows", True),
    (fastmf.SGD, dict(init_std=1e-46), r"init_std=1e-46 is 0 in the model dtype float32", True),
    (fastmf.BPR, dict(epochs=2**31), r"epochs must be an integer <= 2147483647", False),
    (fastmf.BPR, dict(regularization=1e39), r"regularization=1e\+39 overflows", True),
]


@pytest.mark.parametrize("cls, params, match, float64_holds_it", KERNEL_RANGE,
                         ids=[f"{c.__name__}-{'-'.join(p)}" for c, p, *_ in KERNEL_RANGE])
def test_parameters_are_checked_in_the_kernels_types(cls, params, match, float64_holds_it):
    data = synthetic()
    model = cls(verbose=False, **params)
    before = dict(vars(model))
    with pytest.raises(ValueError, match=match):
        model.fit(data)
    assert vars(model) == before
    if float64_holds_it:
        model.set_params(dtype="float64")._check_params()


@pytest.mark.parametrize("cls", [fastmf.ALS, fastmf.SGD, fastmf.ImplicitALS, fastmf.BPR])
def test_early_stopping_on_validation_pairs_all_unknown_raises_for_every_model(cls):
    train = Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 1, 2, 0], [5.0, 3.0, 4.0, 2.0, 1.0])
    strangers = Interactions.from_arrays([7, 8, 0], [9, 9, 9], [4.0, 2.0, 3.0])
    model = cls(factors=2, early_stopping=1, verbose=False)
    with pytest.raises(ValueError, match=r"none of its 3 pairs has both its user and its item "
                                         r"in the training data \(1 have a known user, 0 a "
                                         r"known item\)"):
        model.fit(train, validation=strangers)
    assert not hasattr(model, "user_factors_")
