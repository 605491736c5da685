"""Serving (models/_serving.py, _topn.py) for every model: top-n with every filter on every
call against a numpy oracle (score all, mask, stable sort), batches, similar rows."""
import numpy as np
import pytest

import fastmf
from fastmf.exceptions import UnknownIdError

from . import reference

MODELS = ["ALS", "SGD", "ImplicitALS", "BPR"]
N = 7


@pytest.fixture(scope="module")
def fitted():
    data = fastmf.datasets.make_ratings(200, 120, 4000, seed=2)
    quiet = {"factors": 8, "seed": 0, "verbose": False}
    return data, {"ALS": fastmf.ALS(iterations=3, **quiet).fit(data),
                  "SGD": fastmf.SGD(epochs=3, **quiet).fit(data),
                  "ImplicitALS": fastmf.ImplicitALS(iterations=3, **quiet).fit(data),
                  "BPR": fastmf.BPR(epochs=3, **quiet).fit(data)}


def oracle(model, scores, seen, filter_items, items, n):
    """The expected (indices, scores): every item scored, the filters as a mask."""
    valid = np.ones(scores.shape, bool)
    for row, s in enumerate(seen):
        valid[row, model.item_ids_.index(np.asarray(sorted(s), dtype=model.item_ids_.ids.dtype))] = False
    if filter_items is not None:
        valid[:, model.item_ids_.index(np.asarray(filter_items))] = False
    if items is not None:
        allowed = np.zeros(scores.shape[1], bool)
        allowed[model.item_ids_.index(np.asarray(items))] = True
        valid &= allowed
    return reference.top_n(scores, valid, n)


FILTERS = [  # (filter_seen, filter_items, items) as item positions in item_ids_
    (True, None, None), (False, None, None), (True, [0, 3, 5, 9, 11], None),
    (False, [2, 4], None), (True, None, list(range(0, 120, 3))),
    (False, [0, 3, 6], list(range(0, 40))), (True, [1], [1, 2, 3]), (False, None, [5, 5, 7])]


@pytest.mark.parametrize("filter_seen, exclude, allow", FILTERS)
@pytest.mark.parametrize("name", MODELS)
def test_recommend_and_batch_apply_every_filter_like_the_oracle(fitted, name, filter_seen,
                                                                exclude, allow):
    data, models = fitted
    model = models[name]
    ids = model.item_ids_.ids
    filter_items = None if exclude is None else ids[exclude]
    items = None if allow is None else ids[allow]
    users = data.user_ids.ids[:40]
    seen = [set(data.items[data.users == u]) if filter_seen else set() for u in users]
    expected, expected_scores = oracle(model, model.score_users(users), seen, filter_items, items, N)
    got = model.recommend_batch(users, n=N, filter_seen=filter_seen, filter_items=filter_items,
                                items=items)
    valid_counts = (expected >= 0).sum(axis=1)
    np.testing.assert_array_equal(got.counts, valid_counts)
    for row, user in enumerate(users):
        found, scores = got.row(row)
        assert model.item_ids_.index(found).tolist() == expected[row, :valid_counts[row]].tolist()
        np.testing.assert_allclose(scores, expected_scores[row, :valid_counts[row]], rtol=1e-5,
                                   atol=1e-6)     # float32 sums: scores near 0 too
        single = model.recommend(user, n=N, filter_seen=filter_seen, filter_items=filter_items,
                                 items=items)
        assert single[0].tolist() == found.tolist()
        np.testing.assert_allclose(single[1], scores, rtol=1e-5, atol=1e-6)
    assert got.items.mask.sum(axis=1).tolist() == (got.items.shape[1] - got.counts).tolist()


@pytest.mark.parametrize("filter_seen, exclude, allow", FILTERS)
@pytest.mark.parametrize("name", MODELS)
def test_recommend_new_user_applies_every_filter_like_the_oracle(fitted, name, filter_seen,
                                                                 exclude, allow):
    model = fitted[1][name]
    ids = model.item_ids_.ids
    history, ratings = ids[[1, 4, 9, 30]], [5.0, 3.0, 1.0, 4.0]
    filter_items = None if exclude is None else ids[exclude]
    items = None if allow is None else ids[allow]
    user = model.fold_in(history, ratings)
    bias = model._item_bias()
    offset = user.bias + getattr(model, "global_mean_", 0.0)
    scores = (model.item_factors_ @ user.factors + bias + offset)[None, :]
    seen = [set(history.tolist()) if filter_seen else set()]
    expected, expected_scores = oracle(model, scores, seen, filter_items, items, N)
    found, got_scores = model.recommend_new_user(history, ratings, n=N, filter_seen=filter_seen,
                                                 filter_items=filter_items, items=items)
    keep = expected[0] >= 0
    assert model.item_ids_.index(found).tolist() == expected[0][keep].tolist()
    np.testing.assert_allclose(got_scores, expected_scores[0][keep], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("exclude, allow", [(None, None), ([0, 5, 6], None),
                                            (None, list(range(4, 60))), ([7], [4, 7, 8, 9])])
@pytest.mark.parametrize("name", MODELS)
def test_similar_items_and_users_filter_like_the_oracle_and_never_return_the_query(
        fitted, name, exclude, allow):
    model = fitted[1][name]
    for side, method, names in (("item", model.similar_items, ("filter_items", "items")),
                                ("user", model.similar_users, ("filter_users", "users"))):
        factors, ids = getattr(model, f"{side}_factors_"), getattr(model, f"{side}_ids_").ids
        unit = factors / np.linalg.norm(factors, axis=1, keepdims=True)
        cosines = (unit @ unit[4])[None, :]
        valid = np.ones(cosines.shape, bool)
        valid[0, 4] = False                                  # the query itself, even if allowed
        kwargs = {}
        if exclude is not None:
            valid[0, exclude] = False
            kwargs[names[0]] = ids[exclude]
        if allow is not None:
            allowed = np.zeros(len(ids), bool)
            allowed[allow] = True
            valid &= allowed
            kwargs[names[1]] = ids[allow + [4]]
        expected, expected_cosines = reference.top_n(cosines, valid, 5)
        got, sims = method(ids[4], n=5, **kwargs)
        keep = expected[0] >= 0
        assert getattr(model, f"{side}_ids_").index(got).tolist() == expected[0][keep].tolist()
        np.testing.assert_allclose(sims, expected_cosines[0][keep], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("minimum, allow", [(0, None), (1, None), (25, None), (40, None),
                                            (25, list(range(0, 120, 2))), (10**6, None)])
@pytest.mark.parametrize("name", MODELS)
def test_min_item_count_leaves_out_items_with_fewer_training_interactions(fitted, name,
                                                                          minimum, allow):
    data, models = fitted
    model = models[name]
    ids = model.item_ids_.ids
    # the count of each of the model's items, from the raw training triples
    counts = np.array([np.sum(data.items == item) for item in ids])
    assert 0 < np.sum(counts < 25) < len(ids)          # the filter has something to do
    items = None if allow is None else ids[allow]
    users = data.user_ids.ids[:30]
    seen = [set(data.items[data.users == u]) for u in users]
    scores = model.score_users(users)
    expected, expected_scores = oracle(model, scores, seen, ids[counts < minimum], items, N)
    got = model.recommend_batch(users, n=N, items=items, min_item_count=minimum)
    np.testing.assert_array_equal(got.counts, (expected >= 0).sum(axis=1))
    for row, user in enumerate(users):
        found = model.item_ids_.index(got.row(row)[0])
        assert found.tolist() == expected[row, :got.counts[row]].tolist()
        single = model.recommend(user, n=N, items=items, min_item_count=minimum)[0]
        assert single.tolist() == got.row(row)[0].tolist()
    everyone = model.recommend_all(n=N, items=items, min_item_count=minimum)
    assert everyone.row(0)[0].tolist() == model.recommend(data.user_ids.ids[0], n=N, items=items,
                                                          min_item_count=minimum)[0].tolist()
    similar, _ = model.similar_items(ids[4], n=N, items=items, min_item_count=minimum)
    assert (counts[model.item_ids_.index(similar)] >= minimum).all()
    new_user, _ = model.recommend_new_user(ids[[1, 4]], [5.0, 3.0], n=N, min_item_count=minimum)
    assert (counts[model.item_ids_.index(new_user)] >= minimum).all()


def test_min_item_count_counts_the_partial_fits_and_is_checked(fitted):
    data = fastmf.Interactions.from_arrays([0, 0, 1, 1, 2], [10, 11, 10, 12, 10])
    model = fastmf.ImplicitALS(factors=2, iterations=2, seed=0, verbose=False).fit(data)
    assert sorted(model.recommend_batch([0, 1, 2], n=3, filter_seen=False,
                                        min_item_count=2).items.compressed().tolist()) == [10] * 3
    model.partial_fit_users([5, 6], [11, 11])           # item 11: 1 -> 3 interactions
    got = model.recommend(0, n=3, filter_seen=False, min_item_count=2)[0]
    assert sorted(got.tolist()) == [10, 11]
    for bad, error, match in ((-1, ValueError, "min_item_count must be an integer >= 0, got -1"),
                              (2.5, TypeError, "min_item_count must be an integer")):
        with pytest.raises(error, match=match):
            model.recommend(0, min_item_count=bad)


def test_ties_rank_the_lower_index_first_exactly_as_a_stable_sort():
    data = fastmf.datasets.make_ratings(50, 40, 600, seed=1)
    model = fastmf.ImplicitALS(factors=4, iterations=2, seed=0, verbose=False).fit(data)
    Y = model.item_factors_.copy()
    Y[[3, 17, 30]] = Y[25]                    # four items with one score for every user
    model.item_factors_ = Y
    users = data.user_ids.ids[:10]
    expected, _ = reference.top_n(model.score_users(users), np.ones((10, 40), bool), 40)
    got = model.recommend_batch(users, n=40, filter_seen=False)
    for row in range(10):
        assert model.item_ids_.index(got.row(row)[0]).tolist() == expected[row].tolist()


def test_n_beyond_the_candidates_returns_every_candidate_and_masks_the_rest(fitted):
    data, models = fitted
    model = models["ALS"]
    ids = model.item_ids_.ids
    got = model.recommend_batch(data.user_ids.ids[:3], n=50, filter_seen=False, items=ids[:4])
    assert got.counts.tolist() == [4, 4, 4]
    assert got.items.shape == (3, 50) and got.items.mask[:, 4:].all() and not got.items.mask[:, :4].any()
    assert set(got.items.compressed().tolist()) == set(ids[:4].tolist())
    assert np.isneginf(np.ma.getdata(got.scores)[:, 4:]).all()
    assert len(model.recommend(data.user_ids.ids[0], n=500, filter_seen=False)[0]) == len(ids)
    empty = model.recommend_batch(data.user_ids.ids[:2], n=3, items=[])
    assert empty.counts.tolist() == [0, 0] and empty.items.mask.all()
    assert model.recommend(data.user_ids.ids[0], items=[])[0].tolist() == []
    assert model.similar_items(ids[0], items=[])[0].tolist() == []


@pytest.mark.parametrize("call", [
    lambda m, ids: m.recommend(ids[0], filter_items=[ids[1], 10**6]),
    lambda m, ids: m.recommend_batch([ids[0]], items=[10**6]),
    lambda m, ids: m.recommend_new_user([ids[1]], items=[10**6]),
    lambda m, ids: m.similar_items(ids[0], filter_items=[10**6]),
    lambda m, ids: m.recommend_all(3, items=[10**6]),
])
def test_unknown_ids_in_filters_raise_unless_ignored(fitted, call):
    model = fitted[1]["ALS"]
    ids = model.item_ids_.ids
    with pytest.raises(UnknownIdError, match=r"1000000 in (filter_items|items).*unknown=\"ignore\""):
        call(model, ids)


def test_ignored_unknown_ids_are_dropped_from_both_lists(fitted):
    data, models = fitted
    model = models["ALS"]
    user, ids = data.user_ids.ids[0], model.item_ids_.ids
    plain = model.recommend(user, filter_items=ids[:3], items=ids[:20], n=5)
    noisy = model.recommend(user, filter_items=[*ids[:3], 10**6], items=[*ids[:20], -5],
                            n=5, unknown="ignore")
    assert plain[0].tolist() == noisy[0].tolist()
    assert model.similar_users(user, users=[10**7], unknown="ignore")[0].tolist() == []
    with pytest.raises(ValueError, match="unknown must be one of 'raise', 'ignore', got 'skip'"):
        model.recommend(user, unknown="skip")
    with pytest.raises(UnknownIdError, match="user 10000000 in users"):
        model.similar_users(user, users=[10**7])


def test_string_ids_in_filters_and_masked_padding(fitted):
    data = fastmf.datasets.toy()
    model = fastmf.ALS(factors=2, iterations=5, seed=0, verbose=False).fit(data)
    got = model.recommend_batch(["Alice", "Bob"], n=3)
    assert got.counts.tolist() == [0, 2]
    assert got.items.tolist() == [[None, None, None], ["Sholay", "Shawshank", None]]
    assert model.recommend("Bob", filter_items=["Sholay"])[0].tolist() == ["Shawshank"]


# (queries, items, allowed items): 140k items split in slabs merged across threads; one
# query (scored by dot products, not a matrix product); 2100 queries of 1300 items: blocks
# of 256 queries and chunks of 512 items, each with a part.
SHAPES = {5: (70, 300, 200), 16: (3, 140_000, 200), 37: (70, 300, 200),
          "one": (1, 140_000, 2000), "blocks": (2100, 1300, 1000)}


@pytest.mark.parametrize("k", [5, 16, 37, "one", "blocks"])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("allow", [None, "some", "none"])
def test_topk_filtered_kernel_equals_the_masked_stable_sort(kernels, dtype, rtol, k, allow, rng):
    n_queries, n_items, n_allowed = SHAPES[k]
    # Small integers in the large case: scores exact in float32 too, and ties everywhere.
    draw = ((lambda size: rng.integers(-3, 4, size)) if k == "blocks" else
            (lambda size: rng.normal(size=size)))
    k = {"blocks": 24, "one": 16}.get(k, k)
    Q, Y = draw((n_queries, k)).astype(dtype), draw((n_items, k)).astype(dtype)
    offsets, bias = draw(len(Q)).astype(dtype), draw(n_items).astype(dtype)
    Y[7] = Y[8]; bias[7] = bias[8]                                       # a tie
    exclude = [rng.choice(n_items, size=rng.integers(0, 40), replace=False) for _ in Q]
    indptr = np.r_[0, np.cumsum([len(e) for e in exclude])].astype(np.int64)
    indices = np.concatenate(exclude).astype(np.int32)                   # rows unsorted
    shared = np.unique(rng.choice(n_items, 30)).astype(np.int32)
    candidates = {None: np.zeros(0, np.int32), "none": np.zeros(0, np.int32),
                  "some": np.unique(rng.choice(n_items, n_allowed)).astype(np.int32)}[allow]
    valid = np.ones((len(Q), n_items), bool)
    for q, e in enumerate(exclude):
        valid[q, e] = False
    if allow is None:
        valid[:, shared] = False
    else:
        keep = np.zeros(n_items, bool)
        keep[candidates] = True
        valid &= keep
    items, scores = np.empty((len(Q), 12), np.int32), np.empty((len(Q), 12), dtype)
    kernels.topk_filtered(Q, offsets, Y, bias, allow is None, candidates, indptr, indices,
                          shared if allow is None else np.zeros(0, np.int32), 0, n_items, items,
                          scores, 2)
    full = Q.astype(np.float64) @ Y.T.astype(np.float64) + offsets[:, None] + bias[None, :]
    ref_items, ref_scores = reference.top_n(full, valid, 12)
    np.testing.assert_array_equal(items, ref_items)
    np.testing.assert_allclose(scores, ref_scores, rtol=rtol, atol=rtol)
