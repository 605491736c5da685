"""Ranking metrics: hand-computed examples, loop twins, edge cases and evaluate()."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastmf
from fastmf import Interactions, NotFittedError, metrics
from fastmf.data import IdMap
from fastmf.metrics import (auc, catalog_coverage, evaluate, map_at_k, ndcg_at_k,
                            precision_at_k, recall_at_k)

TOP_K = {"precision": precision_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k, "map": map_at_k}


# -- loop twins: one user at a time, straight from the definitions --------------------------
def loop_top_k(name, recommended, relevant, k):
    values = []
    for rec, rel in zip(recommended, relevant):
        rel = set(rel)
        if not rel:
            continue
        ranked, hits = [], []
        for item in list(rec)[:k]:
            hits.append(item in rel and item not in ranked)
            ranked.append(item)
        hits += [False] * (k - len(hits))
        n_hits = sum(hits)
        dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hits) if h)
        idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(rel))))
        ap = sum(sum(hits[:r + 1]) / (r + 1) for r, h in enumerate(hits) if h) / min(k, len(rel))
        values.append({"precision": n_hits / k, "recall": n_hits / len(rel), "ndcg": dcg / idcg,
                       "map": ap}[name])
    return sum(values) / len(values)


def loop_auc(scores, relevant, candidate):
    values = []
    for s, r, c in zip(scores, relevant, candidate):
        pos, neg = s[r & c], s[~r & c]
        if len(pos) and len(neg):
            wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
            values.append(wins / (len(pos) * len(neg)))
    return sum(values) / len(values)


# -- top-k metrics on a hand-computed example ----------------------------------------------
RECOMMENDED = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
RELEVANT = [{1, 3, 20}, {8}, set()]          # the third user has nothing relevant: skipped
# user 0: hits at ranks 1 and 3 of 4, 3 relevant; user 1: a hit at rank 4, 1 relevant.
L2, L3, L5 = math.log2(2), math.log2(3), math.log2(5)
EXPECTED = {
    # (2/4 + 1/4) / 2
    "precision": 0.375,
    # (2/3 + 1/1) / 2
    "recall": 5 / 6,
    # user 0: DCG = 1/log2(2) + 1/log2(4) = 1.5, IDCG over min(4, 3) = 3 places
    #         = 1/log2(2) + 1/log2(3) + 1/log2(4); user 1: DCG = 1/log2(5), IDCG = 1
    "ndcg": (1.5 / (1 / L2 + 1 / L3 + 0.5) + 1 / L5) / 2,
    # user 0: (1/1 + 2/3) / min(4, 3) = 5/9; user 1: (1/4) / min(4, 1) = 1/4
    "map": (5 / 9 + 1 / 4) / 2,
}


@pytest.mark.parametrize("name", sorted(TOP_K))
@pytest.mark.parametrize("as_array", [False, True])
def test_top_k_metrics_match_hand_computed_values(name, as_array):
    recommended = np.array(RECOMMENDED) if as_array else RECOMMENDED
    assert TOP_K[name](recommended, RELEVANT, k=4) == pytest.approx(EXPECTED[name], rel=1e-12)


@pytest.mark.parametrize("name", sorted(TOP_K))
def test_users_without_relevant_items_are_skipped(name):
    full = TOP_K[name](RECOMMENDED, RELEVANT, k=4)
    assert full == TOP_K[name](RECOMMENDED[:2], RELEVANT[:2], k=4)


def test_columns_beyond_k_are_ignored():
    # k = 2: user 0 [1, 2] has 1 hit of min(2, 3) = 2 reachable; user 1 [5, 6] none.
    assert precision_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx((1 / 2 + 0) / 2)
    assert map_at_k(np.array(RECOMMENDED), RELEVANT, k=2) == pytest.approx((1 / 2 + 0) / 2)


def test_k_larger_than_the_lists_counts_missing_places_as_misses():
    recommended, relevant = [["a", "b"]], [{"a", "c"}]
    # one hit at rank 1; precision divides by k = 5, recall by |relevant| = 2
    assert precision_at_k(recommended, relevant, k=5) == pytest.approx(1 / 5)
    assert recall_at_k(recommended, relevant, k=5) == pytest.approx(1 / 2)
    # DCG = 1, IDCG over min(5, 2) = 2 places = 1 + 1/log2(3)
    assert ndcg_at_k(recommended, relevant, k=5) == pytest.approx(1 / (1 + 1 / L3))
    # AP = (1/1) / min(5, 2)
    assert map_at_k(recommended, relevant, k=5) == pytest.approx(0.5)


def test_ragged_lists_and_a_repeated_item_counting_once():
    recommended = [["a", "a", "b"], ["x"], np.array(["y", "z"])]
    relevant = [["a"], {"x", "w"}, ("z",)]
    # user 0: "a" once at rank 1 -> 1/3; user 1: 1/3; user 2: "z" at rank 2 -> 1/3
    assert precision_at_k(recommended, relevant, k=3) == pytest.approx(1 / 3)
    # user 0: 1/1; user 1: 1/2; user 2: 1/1
    assert recall_at_k(recommended, relevant, k=3) == pytest.approx((1 + 0.5 + 1) / 3)


def test_padding_from_recommend_batch_is_never_a_hit():
    recommended = np.array([[3, -1, -1], [4, 5, -1]])
    # user 0: 1 hit of 3 places; user 1: none
    assert precision_at_k(recommended, [{3, 7}, {6}], k=3) == pytest.approx((1 / 3 + 0) / 2)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6), st.data())
def test_top_k_metrics_match_the_loop_twin(k, data):
    items = st.integers(0, 9)
    recommended = data.draw(st.lists(st.lists(items, max_size=8), min_size=1, max_size=6))
    relevant = data.draw(st.lists(st.sets(items, max_size=5), min_size=len(recommended),
                                  max_size=len(recommended)))
    if not any(relevant):
        relevant[0] = {0}
    for name, function in TOP_K.items():
        expected = loop_top_k(name, recommended, relevant, k)
        assert function(recommended, relevant, k=k) == pytest.approx(expected, rel=1e-12)


def test_catalog_coverage_counts_distinct_items():
    # distinct: 1, 2, 3 of a catalogue of 4
    assert catalog_coverage([[1, 2], [2, 3]], n_items=4) == 0.75
    assert catalog_coverage(np.array([["a", "b"], ["b", "a"]]), n_items=5) == 0.4


# -- AUC ----------------------------------------------------------------------------------
def test_auc_hand_computed_with_ties_and_candidates():
    scores = np.array([[0.9, 0.8, 0.1, 0.5],
                       [1.0, 1.0, 0.0, 2.0],
                       [0.3, 0.2, 0.1, 0.0]])
    relevant = np.array([[True, False, False, True],
                         [True, False, False, False],
                         [False, False, False, False]])      # no positive: skipped
    candidate = np.array([[True, True, True, True],
                          [True, True, True, False],          # the 2.0 is not a candidate
                          [True, True, True, True]])
    # user 0: pairs (0.9 > 0.8, 0.9 > 0.1, 0.5 < 0.8, 0.5 > 0.1) -> 3/4
    # user 1: (1.0 = 1.0 -> 1/2, 1.0 > 0.0 -> 1) -> 1.5 / 2 = 0.75
    assert auc(scores, relevant, candidate) == pytest.approx(0.75)
    # without the mask user 1 also loses to 2.0: (0.5 + 1 + 0) / 3 = 1/2
    assert auc(scores, relevant) == pytest.approx((0.75 + 0.5) / 2)


def test_auc_ranks_infinite_candidates_but_ignores_non_candidates():
    inf = np.inf
    scores = np.array([[-inf, -inf, 0.0]])
    relevant = np.array([[True, False, False]])
    # all candidates: -inf ties -inf (1/2) and loses to 0.0 (0) -> 1/4
    assert auc(scores, relevant) == pytest.approx(0.25)
    # item 1 is not a candidate, so its -inf does not tie with item 0 -> 0
    assert auc(scores, relevant, np.array([[True, False, True]])) == 0.0


def test_auc_perfect_and_reversed():
    scores = np.arange(12.0).reshape(3, 4)
    relevant = scores >= 2 + 4 * np.arange(3)[:, None]       # the two best of each row
    assert auc(scores, relevant) == 1.0
    assert auc(-scores, relevant) == 0.0


@pytest.mark.parametrize("chunk", [1, 7, 1 << 22])
def test_auc_matches_the_pairwise_loop_in_any_chunking(monkeypatch, chunk, rng):
    monkeypatch.setattr(metrics._auc, "_AUC_CHUNK", chunk)
    scores = rng.integers(0, 4, size=(9, 7)).astype(np.float32)      # many ties
    relevant = rng.random((9, 7)) < 0.3
    candidate = rng.random((9, 7)) < 0.8
    expected = loop_auc(scores, relevant, candidate)
    assert auc(scores, relevant, candidate) == pytest.approx(expected, rel=1e-12)


# -- bad input ------------------------------------------------------------------------------
B = np.ones((2, 3), dtype=bool)
S = np.zeros((2, 3))
BAD_INPUT = [
    (lambda: precision_at_k([[1]], [{1}, {2}]), ValueError,
     r"recommended, relevant must have the same length, got 1 recommended and 2 relevant"),
    (lambda: ndcg_at_k([[1], [2], [3]], [{1}, {2}]), ValueError, r"got 3 recommended and 2 relevant"),
    (lambda: recall_at_k([[1]], [{1}], k=0), ValueError, r"k must be an integer >= 1, got 0"),
    (lambda: map_at_k([[1]], [{1}], k=2.0), TypeError, r"k must be an integer, got 2.0"),
    (lambda: precision_at_k([[1], [2]], [set(), []]), ValueError,
     r"relevant holds no item for any user"),
    (lambda: precision_at_k([["a"]], [{1}]), TypeError,
     r"recommended holds string item ids but relevant holds integer ones"),
    (lambda: precision_at_k([[1], ["a"]], [{1}, {2}]), TypeError,
     r"recommended mixes string and integer item ids"),
    (lambda: precision_at_k({1, 2}, [{1}]), TypeError, r"recommended must be a 2-D array or a list"),
    (lambda: precision_at_k([[1]], {1}), TypeError, r"relevant must be a 2-D array or a list"),
    (lambda: precision_at_k(np.zeros((2, 2, 2), int), [{1}]), TypeError, r"shape \(2, 2, 2\)"),
    (lambda: precision_at_k([5, 6], [{1}, {2}]), TypeError, r"recommended\[0\] must be a sequence"),
    (lambda: precision_at_k([[1.5]], [{1}]), ValueError, r"float id 1.5"),
    (lambda: catalog_coverage([[1, 2]], n_items=0), ValueError, r"n_items must be an integer >= 1"),
    (lambda: catalog_coverage([[1, 2, 3]], n_items=2), ValueError,
     r"recommended holds 3 distinct items, more than n_items=2"),
    (lambda: auc(S, B[:1]), ValueError, r"relevant_mask must have the shape of scores \(2, 3\)"),
    (lambda: auc(S, B, B[:, :2]), ValueError, r"candidate_mask must have the shape"),
    (lambda: auc(S, S), TypeError, r"relevant_mask must be a boolean array, got dtype float64"),
    (lambda: auc(S[0], B[0]), ValueError, r"scores must be a 2-D array"),
    (lambda: auc(S.astype(str), B), TypeError, r"scores must be numeric"),
    (lambda: auc(np.where(B, np.nan, 0), B), ValueError,
     r"scores contain 6 NaN values among the candidates \(first at row 0, column 0\)"),
    (lambda: auc(S, B), ValueError, r"no user has both a relevant and a non-relevant candidate"),
    (lambda: auc(S[:, :0], B[:, :0]), ValueError, r"no user has both a relevant and a non-relev"),
]


@pytest.mark.parametrize("call, error, match", BAD_INPUT)
def test_bad_input_raises_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_nan_outside_the_candidates_is_allowed():
    scores = np.array([[np.nan, 1.0, 0.0]])
    relevant = np.array([[False, True, False]])
    assert auc(scores, relevant, np.array([[False, True, True]])) == 1.0


# -- evaluate -------------------------------------------------------------------------------
class FakeModel:
    """A fitted model in miniature: id maps and a fixed score matrix."""

    def __init__(self, users, items, scores):
        self.user_ids_, self.item_ids_ = IdMap(np.array(users)), IdMap(np.array(items))
        self.scores = np.asarray(scores)
        self.calls = []

    def score_users(self, users):
        idx = self.user_ids_.index(users)
        assert (idx >= 0).all()
        self.calls.append(len(users))
        return self.scores[idx].copy()


ITEMS = [f"i{j}" for j in range(10)]
USERS = ["u0", "u1", "u2", "u3"]
TRAIN = {"u0": ["i0", "i1"], "u1": ["i2"], "u2": ["i3"], "u3": ["i4"]}
# "zz" is unknown to the model; u3's only test item "new" is too: both are skipped.
TEST = {"u0": ["i5", "i6"], "u1": ["i7"], "u2": ["i8"], "u3": ["new"], "zz": ["i1"]}


def _interactions(pairs):
    users = [u for u, items in pairs.items() for _ in items]
    items = [i for its in pairs.values() for i in its]
    return Interactions.from_arrays(users, items)


def _known_answer_model(sign=1.0):
    """Test items score 10, training items 20 (excluded when train is given), the others
    -0.01 * index: so they follow in index order."""
    scores = np.tile(-0.01 * np.arange(10.0), (4, 1))
    for row, user in enumerate(USERS):
        for item in TEST[user]:
            if item in ITEMS:
                scores[row, ITEMS.index(item)] = 10.0
        for item in TRAIN[user]:
            scores[row, ITEMS.index(item)] = 20.0
    return FakeModel(USERS, ITEMS, sign * scores)


def test_evaluate_on_a_known_answer():
    result = evaluate(_known_answer_model(), _interactions(TEST), _interactions(TRAIN), k=4)
    # top 4 with training items removed: u0 [i5 i6 i2 i3], u1 [i7 i0 i1 i3], u2 [i8 i0 i1 i2]
    assert result == pytest.approx({
        "precision@4": (2 / 4 + 1 / 4 + 1 / 4) / 3,    # |test| / k per user
        "recall@4": 1.0, "ndcg@4": 1.0, "map@4": 1.0, "auc": 1.0,
        "coverage@4": 8 / 10,                          # i0 i1 i2 i3 i5 i6 i7 i8
        "users": 3, "users_skipped": 2})
    assert list(result) == ["precision@4", "recall@4", "ndcg@4", "map@4", "auc", "coverage@4",
                            "users", "users_skipped"]


def test_evaluate_reversed_scores():
    result = evaluate(_known_answer_model(-1.0), _interactions(TEST), _interactions(TRAIN), k=4)
    # the test items are now the worst candidates: out of the top 4 and below every other
    assert result["precision@4"] == 0.0 and result["ndcg@4"] == 0.0
    assert result["auc"] == 0.0


def test_evaluate_without_train_lets_training_items_compete():
    result = evaluate(_known_answer_model(), _interactions(TEST), k=4, metrics=("ndcg", "auc"))
    # u0: top [i0 i1 i5 i6], hits at ranks 3, 4 of 2 relevant; u1, u2: a hit at rank 2
    ndcg_u0 = (1 / math.log2(4) + 1 / math.log2(5)) / (1 + 1 / L3)
    assert result["ndcg@4"] == pytest.approx((ndcg_u0 + 2 / L3) / 3)
    # u0: each test item beats 6 of the 8 others; u1, u2: 8 of the 9 others
    assert result["auc"] == pytest.approx((6 / 8 + 8 / 9 + 8 / 9) / 3)


def test_evaluate_drops_training_items_from_the_relevant_ones():
    test = dict(TEST, u0=["i0", "i5", "i6"])          # i0 is also a training item of u0
    result = evaluate(_known_answer_model(), _interactions(test), _interactions(TRAIN), k=4)
    assert result["recall@4"] == 1.0 and result["auc"] == 1.0


@pytest.mark.parametrize("batch_size", [1, 2, 1024])
def test_evaluate_in_batches_matches_the_pure_functions(batch_size, rng):
    n_users, n_items, k = 13, 17, 5
    model = FakeModel(np.arange(n_users), np.arange(n_items), rng.normal(size=(n_users, n_items)))
    train_mask = rng.random((n_users, n_items)) < 0.3
    test_mask = ~train_mask & (rng.random((n_users, n_items)) < 0.3)
    test_mask[0] = False                                # a user with no test item
    test = Interactions.from_arrays(*np.nonzero(test_mask))
    train = Interactions.from_arrays(*np.nonzero(train_mask))
    result = evaluate(model, test, train, k=k, batch_size=batch_size)

    users = np.flatnonzero(test_mask.any(axis=1))
    scores = np.where(train_mask, -np.inf, model.scores)[users]
    ranked = np.argsort(-scores, axis=1, kind="stable")[:, :k]         # a full sort
    relevant = [np.flatnonzero(row) for row in test_mask[users]]
    for name, function in TOP_K.items():
        assert result[f"{name}@{k}"] == pytest.approx(function(ranked, relevant, k=k), rel=1e-12)
    assert result["auc"] == pytest.approx(auc(scores, test_mask[users], ~train_mask[users]))
    assert result["coverage@5"] == catalog_coverage(ranked, n_items)
    assert (result["users"], result["users_skipped"]) == (len(users), test.n_users - len(users))
    assert model.calls == [min(batch_size, len(users) - lo)
                           for lo in range(0, len(users), batch_size)]


def test_evaluate_metric_selection():
    model, test = _known_answer_model(), _interactions(TEST)
    assert list(evaluate(model, test, metrics="auc")) == ["auc", "users", "users_skipped"]
    assert list(evaluate(model, test, k=3, metrics=("map", "precision", "map"))) == [
        "map@3", "precision@3", "users", "users_skipped"]


class _NoScores:
    user_ids_ = item_ids_ = IdMap(np.arange(3))


def _bad_scores(scores):
    return lambda: evaluate(FakeModel(USERS, ITEMS, scores), _interactions(TEST))


EVALUATE_BAD_INPUT = [
    (lambda: evaluate(_known_answer_model(), _interactions(TEST), metrics=("precision", "hits")),
     ValueError, r"metrics must be one of 'precision', 'recall', 'ndcg', 'map', 'auc', 'coverage', "
                 r"got 'hits'"),
    (lambda: evaluate(_known_answer_model(), _interactions(TEST), metrics=()), ValueError,
     r"metrics is empty"),
    (lambda: evaluate(_known_answer_model(), _interactions(TEST), k=0), ValueError,
     r"k must be an integer >= 1, got 0"),
    (lambda: evaluate(_known_answer_model(), _interactions(TEST), batch_size=0), ValueError,
     r"batch_size must be an integer >= 1, got 0"),
    (lambda: evaluate(_known_answer_model(), [1, 2]), TypeError, r"test must be a fastmf.Interactions"),
    (lambda: evaluate(_known_answer_model(), _interactions({"zz": ["i1"]})), ValueError,
     r"none of the 1 test users has a test item known to the model"),
    (lambda: evaluate(fastmf.ALS(verbose=False), _interactions(TEST)), NotFittedError,
     r"this ALS instance is not fitted yet"),
    (lambda: evaluate(_NoScores(), _interactions(TEST)), TypeError,
     r"_NoScores has no score_users"),
    (_bad_scores(np.zeros((4, 9))), ValueError,
     r"model.score_users returned an array of shape \(3, 9\); expected \(3, 10\)"),
    (_bad_scores(np.full((4, 10), np.nan)), ValueError, r"model.score_users returned NaN scores"),
]


@pytest.mark.parametrize("call, error, match", EVALUATE_BAD_INPUT)
def test_evaluate_bad_input_raises_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_evaluate_a_fitted_als_end_to_end():
    data = fastmf.datasets.make_ratings(120, 80, 3000, seed=3)
    train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    model = fastmf.ALS(factors=8, iterations=5, seed=0, verbose=False).fit(train)
    result = evaluate(model, test, train, k=10, batch_size=32)

    users = test.user_ids.ids[np.isin(test.user_ids.ids, model.user_ids_.ids)]
    recommended = model.recommend_batch(users, n=10).items
    relevant = [test.items[test.users == u] for u in users]
    for name, function in TOP_K.items():
        assert result[f"{name}@10"] == pytest.approx(function(recommended, relevant, k=10))
    assert result["coverage@10"] == catalog_coverage(recommended, len(model.item_ids_))
    # the explicit model ranks by predicted rating, not by what gets rated, so its AUC
    # need not beat 1/2: check it against auc() on masks built here
    scores = model.score_users(users)
    in_test = np.array([np.isin(model.item_ids_.ids, test.items[test.users == u]) for u in users])
    in_train = np.array([np.isin(model.item_ids_.ids, train.items[train.users == u]) for u in users])
    assert result["auc"] == pytest.approx(auc(scores, in_test, ~in_train))
    assert result["users"] == len(users)
    assert result["users"] + result["users_skipped"] == test.n_users


# -- several cut-offs, and new users folded in ---------------------------------------------
def test_evaluate_at_several_cutoffs_on_a_hand_computed_case():
    # 150 items scored -index: item j ranks j + 1, less one place past b's training item 1.
    items = [f"i{j:03d}" for j in range(150)]
    model = FakeModel(["a", "b"], items, np.tile(-np.arange(150.0), (2, 1)))
    test = Interactions.from_arrays(["a"] * 4 + ["b"] * 2,
                                    [items[j] for j in (4, 29, 69, 119, 0, 60)])
    train = Interactions.from_arrays(["b"], [items[1]])
    result = evaluate(model, test, train=train, k=(20, 50, 100),
                      metrics=("precision", "recall", "ndcg"))
    # a: 4 relevant at ranks 5, 30, 70, 120; b: 2 relevant at ranks 1 and 60
    idcg_a, idcg_b = sum(1 / math.log2(r + 1) for r in range(1, 5)), 1 + 1 / L3
    dcg_a = {20: 1 / math.log2(6), 50: 1 / math.log2(6) + 1 / math.log2(31),
             100: 1 / math.log2(6) + 1 / math.log2(31) + 1 / math.log2(71)}
    dcg_b = {20: 1.0, 50: 1.0, 100: 1 + 1 / math.log2(61)}
    hits_a, hits_b = {20: 1, 50: 2, 100: 3}, {20: 1, 50: 1, 100: 2}
    expected = {}
    for k in (20, 50, 100):
        expected[f"precision@{k}"] = (hits_a[k] / k + hits_b[k] / k) / 2
    for k in (20, 50, 100):
        expected[f"recall@{k}"] = (hits_a[k] / 4 + hits_b[k] / 2) / 2
    for k in (20, 50, 100):
        expected[f"ndcg@{k}"] = (dcg_a[k] / idcg_a + dcg_b[k] / idcg_b) / 2
    assert result == pytest.approx({**expected, "users": 2, "users_skipped": 0})
    assert list(result)[:9] == list(expected)          # metric-major, then k in order
    single = evaluate(model, test, train=train, k=50, metrics=("recall", "coverage"))
    assert single == pytest.approx({"recall@50": expected["recall@50"], "coverage@50": 51 / 150,
                                    "users": 2, "users_skipped": 0})


@pytest.mark.parametrize("k", [0, (), (10, 0), 2.5, "10"])
def test_evaluate_rejects_bad_cutoffs(k):
    model = _known_answer_model()
    with pytest.raises((ValueError, TypeError), match="k"):
        evaluate(model, _interactions(TEST), k=k)


def _folded_in_loop(model, fold_in, test, k):
    """The metrics of the fold-in protocol one user at a time: model.fold_in, scores by
    the model's formula in numpy, fold-in items excluded, ranked by a stable sort."""
    Y, items = model.item_factors_.astype(np.float64), model.item_ids_.ids
    bias = getattr(model, "item_biases_", np.zeros(len(items))).astype(np.float64)
    mean = getattr(model, "global_mean_", 0.0)
    recommended, relevant = [], []
    fold_users, fold_items, fold_values = fold_in.to_arrays()
    test_users, test_items, _ = test.to_arrays()
    for user in np.unique(test_users):
        mine = fold_users == user
        if not mine.any():
            continue
        user_vector = model.fold_in(fold_items[mine], fold_values[mine])
        scores = mean + user_vector.bias + bias + Y @ user_vector.factors.astype(np.float64)
        scores[np.isin(items, fold_items[mine])] = -np.inf
        recommended.append(items[np.argsort(-scores, kind="stable")[:max(k)]])
        relevant.append(set(test_items[test_users == user]) - set(fold_items[mine]))
    return {f"{name}@{kk}": loop_top_k(name, recommended, relevant, kk)
            for name in ("precision", "recall", "ndcg", "map") for kk in k}


@pytest.mark.parametrize("model", [
    fastmf.ImplicitALS(factors=6, iterations=4, dtype="float64", seed=0, verbose=False),
    fastmf.ALS(factors=6, iterations=4, dtype="float64", seed=0, verbose=False)])
def test_evaluate_with_fold_in_matches_a_loop_over_users(model):
    from fastmf.model_selection import user_split
    data = fastmf.datasets.make_ratings(200, 120, 5000, seed=1)
    train, fold_in, test = user_split(data, test_users=0.2, seed=3)
    model.fit(train)
    k = (5, 20, 50)
    result = evaluate(model, test, fold_in=fold_in, k=k,
                      metrics=("precision", "recall", "ndcg", "map"), batch_size=7)
    expected = _folded_in_loop(model, fold_in, test, k)
    assert {key: result[key] for key in expected} == pytest.approx(expected, rel=1e-9)
    assert result["users"] == test.n_users and result["users_skipped"] == 0


def test_evaluate_with_fold_in_skips_users_with_nothing_to_fold_in():
    data = fastmf.datasets.make_ratings(60, 40, 900, seed=2)
    model = fastmf.ImplicitALS(factors=4, iterations=2, seed=0, verbose=False).fit(data)
    fold_in = Interactions.from_arrays(["new1", "new1", "new3"], [0, 1, 999])   # 999: unknown
    test = Interactions.from_arrays(["new1", "new2", "new3"], [2, 3, 4])
    result = evaluate(model, test, fold_in=fold_in, k=5, metrics="recall")
    assert (result["users"], result["users_skipped"]) == (1, 2)
    with pytest.raises(ValueError, match="train or fold_in"):
        evaluate(model, test, train=data, fold_in=fold_in)
    with pytest.raises(ValueError, match="fold-in item"):
        evaluate(model, test.take([1, 2]), fold_in=fold_in)
    with pytest.raises(TypeError, match="fold users in"):
        evaluate(_known_answer_model(), _interactions(TEST), fold_in=_interactions(TRAIN))


# -- the C++ path of fastmf models against the numpy path of any scorer ---------------------
class ScoresOnly:
    """A fastmf model seen only through user_ids_, item_ids_ and score_users: evaluate
    ranks it in numpy, as it does any object that gives scores."""

    def __init__(self, model):
        self.user_ids_, self.item_ids_, self.score_users = (model.user_ids_, model.item_ids_,
                                                           model.score_users)


def _fitted_case(model, seed=5):
    data = fastmf.datasets.make_ratings(150, 700, 9000, seed=seed)
    train, test = fastmf.train_test_split(data, test_size=0.25, seed=0)
    return model.fit(train), train, test


@pytest.mark.parametrize("batch_size", [16, 1024])
@pytest.mark.parametrize("model", [
    fastmf.ImplicitALS(factors=12, iterations=3, dtype="float64", seed=0, verbose=False),
    fastmf.ALS(factors=12, iterations=3, dtype="float64", seed=0, verbose=False)])
def test_evaluate_in_cpp_equals_the_numpy_path(model, batch_size):
    model, train, test = _fitted_case(model)
    k = (1, 10, 37)
    result = evaluate(model, test, train, k=k, batch_size=batch_size)
    expected = evaluate(ScoresOnly(model), test, train, k=k, batch_size=batch_size)
    assert result == pytest.approx(expected, rel=1e-12)
    assert result["users"] > 100 and 0.5 < result["auc"] < 1


def test_evaluate_in_cpp_counts_exact_ties_as_the_numpy_path(rng):
    # Factors of small integers: scores are exact in float32 and tie everywhere, so the
    # top k is decided by item order and AUC by the half-counted ties.
    model, train, test = _fitted_case(
        fastmf.ImplicitALS(factors=4, iterations=1, seed=0, verbose=False))
    model.user_factors_ = rng.integers(-1, 2, size=model.user_factors_.shape).astype(np.float32)
    model.item_factors_ = rng.integers(-1, 2, size=model.item_factors_.shape).astype(np.float32)
    k = (5, 20)
    result = evaluate(model, test, train, k=k)
    expected = evaluate(ScoresOnly(model), test, train, k=k)
    assert result == pytest.approx(expected, rel=1e-12)
    scores = model.score_users(model.user_ids_.ids[:20])
    assert (scores == np.round(scores)).all() and len(np.unique(scores)) < 10


def test_evaluate_ranks_ties_by_item_order_as_recommend_does():
    # every item scores 0 but the test items 1: the top 4 are the test items, then items
    # 0, 1, ... in order, whichever path ranks them
    items = [f"i{j:02d}" for j in range(40)]
    scores = np.zeros((2, 40))
    scores[0, [30, 35]] = scores[1, [10, 39]] = 1.0
    model = FakeModel(["a", "b"], items, scores)
    test = Interactions.from_arrays(["a", "a", "b", "b", "b"],
                                    ["i30", "i35", "i10", "i39", "i02"])
    train = Interactions.from_arrays(["a", "b"], ["i00", "i03"])
    result = evaluate(model, test, train, k=4, metrics=("precision", "map", "coverage"))
    # a: [i30 i35 i01 i02] 2 hits at ranks 1, 2; b: [i10 i39 i00 i01] 2 hits, i02 not shown
    assert result == pytest.approx({"precision@4": 0.5, "map@4": (1.0 + 2 / 3) / 2,
                                    "coverage@4": 7 / 40, "users": 2, "users_skipped": 0})


def test_evaluate_falls_back_to_numpy_and_names_nan_scores():
    model, train, test = _fitted_case(
        fastmf.ImplicitALS(factors=4, iterations=1, seed=0, verbose=False))
    model.item_factors_ = model.item_factors_.copy()
    model.item_factors_[3, 0] = np.nan
    with pytest.raises(ValueError, match="returned NaN scores; the model may have diverged"):
        evaluate(model, test, train)


def test_evaluate_ranks_a_model_that_changes_score_users_by_its_scores():
    class Reversed(fastmf.ImplicitALS):
        def score_users(self, users):
            return -super().score_users(users)
    model, train, test = _fitted_case(Reversed(factors=4, iterations=2, seed=0, verbose=False))
    users = model.user_ids_.ids
    reversed_scores = -fastmf.ImplicitALS.score_users(model, users)
    expected = evaluate(FakeModel(users, model.item_ids_.ids, reversed_scores), test, train)
    assert evaluate(model, test, train) == pytest.approx(expected, rel=1e-12)
    assert expected["auc"] < 0.5


class _Recorder:
    """Stands for tqdm: records how each bar was asked for."""
    made = []

    def __init__(self, **kwargs):
        self.made.append(kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


@pytest.mark.parametrize("model_verbose, verbose, shown", [
    (True, None, True), (False, None, False), (True, False, False), (False, True, True)])
def test_evaluate_progress_bar_follows_verbose_or_the_model(monkeypatch, model_verbose,
                                                            verbose, shown):
    import tqdm.auto
    monkeypatch.setattr(tqdm.auto, "tqdm", _Recorder)
    _Recorder.made.clear()
    model = fastmf.ImplicitALS(factors=4, iterations=1, seed=0, verbose=False)
    model, train, test = _fitted_case(model)
    model.verbose = model_verbose
    result = evaluate(model, test, train, verbose=verbose)
    [bar] = _Recorder.made
    assert bar["disable"] is not shown and bar["delay"] == 2
    assert bar["total"] == result["users"]


@pytest.mark.parametrize("verbose", ["yes", 1, 0.5])
def test_evaluate_refuses_a_verbose_that_is_not_a_bool(verbose):
    with pytest.raises(TypeError, match=r"verbose must be True, False or None .*, got"):
        evaluate(_known_answer_model(), _interactions(TEST), verbose=verbose)
