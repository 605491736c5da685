"""``fastmf.metrics.evaluate`` in C++ against the numpy evaluation, and against serving.

One case: ``make_ratings(2_000, 20_000, 200_000, seed=0)`` (about 100 ratings per user, a
catalogue of about 19,400 rated items), split 80/20 per rating, an ImplicitALS (k = 64,
float32, 2 threads) fitted once; every test user, all six metrics at k = 10, training
items left out. A ``FASTMF_BENCH_RATINGS`` below the default 1M shrinks users, items and
ratings alike (a smoke run: the ratios are then not this case's).

- group ``evaluate ...``: ``cpp`` is ``evaluate(model, ...)``, which ranks and counts AUC
  pairs in ``_core.topk_auc``; ``numpy`` is ``evaluate`` of the same model seen only through
  ``score_users``: numpy scores, ``argpartition`` and a sort of every row for AUC, the
  plain-numpy path it replaces (BLAS on 2 threads too).
- group ``evaluate / recommend_batch ...``: ``cpp`` is ``recommend_batch(users, n=10)`` for
  the same users, the baseline is the C++ ``evaluate``: the ratio printed is what evaluation
  costs over serving the same users.

Each benchmark checks its result against the other side's. Run from the repository root::

    pytest bench/test_bench_evaluate.py --benchmark-only --benchmark-json=e.json
    python bench/ratios.py e.json
"""
import numpy as np
import pytest

import fastmf
from fastmf.metrics import evaluate

from .conftest import DEFAULT_RATINGS, bench_ratings, threadpool_limits

THREADS, K, TOP = 2, 64, 10
N_USERS, N_ITEMS, N_RATINGS = 2_000, 20_000, 200_000


class ScoresOnly:
    """A fitted model seen only through its ids and ``score_users``: evaluate ranks it in
    numpy, as it does any object that gives scores."""

    def __init__(self, model):
        self.user_ids_, self.item_ids_ = model.user_ids_, model.item_ids_
        self.score_users = model.score_users


@pytest.fixture(scope="module")
def case():
    scale = max(min(1.0, bench_ratings() / DEFAULT_RATINGS), 0.05)
    data = fastmf.datasets.make_ratings(int(N_USERS * scale), int(N_ITEMS * scale),
                                        int(N_RATINGS * scale), seed=0)
    train, test = fastmf.train_test_split(data, test_size=0.2, seed=0)
    model = fastmf.ImplicitALS(factors=K, iterations=3, num_threads=THREADS, seed=0,
                               verbose=False).fit(train)
    known = np.isin(test.users, model.user_ids_.ids) & np.isin(test.items, model.item_ids_.ids)
    users = np.unique(test.users[known])                # the users evaluate scores
    relevant = [test.items[known & (test.users == user)] for user in users]
    label = f"{len(model.item_ids_) / 1000:.1f}k items x {len(users)} users"
    return dict(model=model, train=train, test=test, users=users, relevant=relevant, label=label)


def _numpy(fn):
    """The numpy side with BLAS on as many threads as the C++ side."""
    if threadpool_limits is None:
        return fn()
    with threadpool_limits(limits=THREADS, user_api="blas"):
        return fn()


def _info(benchmark, case, group, impl, baseline=None):
    benchmark.group = f"{group} {case['label']} k={K} top {TOP} float32 threads={THREADS}"
    benchmark.extra_info.update(kernel="evaluate", impl=impl, k=K, top=TOP, threads=THREADS,
                                users=len(case["users"]), items=len(case["model"].item_ids_))
    if baseline:
        benchmark.extra_info["baseline"] = baseline
    if impl == "numpy" and threadpool_limits is not None:
        benchmark.extra_info.update(blas_threads=THREADS, blas_threads_set_by="threadpoolctl")
    elif impl != "numpy":
        benchmark.extra_info.update(blas_threads="none used", blas_threads_set_by="-")


_results = {}


def _evaluations(case):
    """Both paths' metrics, computed once: what each benchmark checks its result against."""
    if not _results:
        _results["cpp"] = evaluate(case["model"], case["test"], case["train"], k=TOP)
        _results["numpy"] = _numpy(lambda: evaluate(ScoresOnly(case["model"]), case["test"],
                                                    case["train"], k=TOP))
    return _results


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_evaluate(benchmark, case, impl):
    _info(benchmark, case, "evaluate", impl)
    run = {"cpp": lambda: evaluate(case["model"], case["test"], case["train"], k=TOP),
           "numpy": lambda: _numpy(lambda: evaluate(ScoresOnly(case["model"]), case["test"],
                                                    case["train"], k=TOP))}
    result = benchmark.pedantic(run[impl], rounds=5 if impl == "cpp" else 2,
                                warmup_rounds=int(impl == "cpp"))
    other = _evaluations(case)["numpy" if impl == "cpp" else "cpp"]
    assert result == pytest.approx(other, rel=1e-3)      # float32: near ties may part


@pytest.mark.parametrize("impl", ["cpp", "evaluate"])
def test_evaluate_over_recommend_batch(benchmark, case, impl):
    _info(benchmark, case, "evaluate / recommend_batch", impl,
          baseline="evaluate (C++, 6 metrics) over recommend_batch" if impl == "evaluate" else None)
    model, users = case["model"], case["users"]
    run = {"cpp": lambda: model.recommend_batch(users, n=TOP),
           "evaluate": lambda: evaluate(model, case["test"], case["train"], k=TOP)}
    result = benchmark.pedantic(run[impl], rounds=7, warmup_rounds=1)
    expected = _evaluations(case)["cpp"]
    if impl == "cpp":          # the top 10 that evaluate scores: its precision, from the lists
        precision = fastmf.metrics.precision_at_k(result.items, case["relevant"], k=TOP)
        assert expected["users"] == len(users)
        assert precision == pytest.approx(expected["precision@10"], rel=1e-3)
    else:
        assert result == expected
