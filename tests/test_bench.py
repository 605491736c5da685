"""The benchmark scripts' own pieces that could break without their runs showing it (they
run for minutes and are not part of the tests): each against an independent oracle."""
import numpy as np

from . import reference


def test_serving_benchmark_model_is_servable():
    """bench/compare/serving.py sets a model's factors by hand; recommend_all of that model
    must rank as numpy does (the benchmark once failed on a fitted attribute it lacked)."""
    from bench.compare.serving import N as top, fastmf_model, planted_factors, seen_items
    X, Y = planted_factors(40, 300, 0)
    indptr, indices = seen_items(40, 300, 0)
    recs = fastmf_model(X, Y, (indptr, indices)).recommend_all(top, verbose=False)
    valid = np.ones((40, 300), bool)
    valid[np.repeat(np.arange(40), np.diff(indptr)), indices] = False
    ref_items, _ = reference.top_n(X.astype(np.float64) @ Y.T.astype(np.float64), valid, top)
    np.testing.assert_array_equal(np.asarray(recs.items), ref_items)
