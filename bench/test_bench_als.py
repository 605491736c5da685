"""The explicit ALS half-step: C++ kernel against its numpy twin, on identical inputs.

One benchmark group per (size, k, dtype, threads), each pairing ``_core.als_half_step``
with ``tests.reference.als_half_step`` on the user side of a synthetic data set (about
100 ratings per user; 1M ratings unless ``FASTMF_BENCH_RATINGS`` says otherwise), in
the case's dtype. The numpy twin has no threads of its own: it runs with the BLAS thread
count that is fastest for its tiny products, 1 (set with threadpoolctl; extra_info says
how it was set), whatever the C++ side uses. Run from the repository root::

    pytest bench --benchmark-only --benchmark-json=b.json; python bench/ratios.py b.json
    FASTMF_BENCH_RATINGS=50000 pytest bench --benchmark-only      # a smoke run in seconds
"""
import numpy as np
import pytest

from .conftest import assert_agree

ROUNDS = {"cpp": 5, "numpy": 2}    # the numpy twin takes seconds per call at 1M ratings
WARMUP = {"cpp": 1, "numpy": 0}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k", [32, 64])
@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_als_half_step(benchmark, als_cases, impl, k, dtype, threads):
    case = als_cases(k, np.dtype(dtype).type)
    benchmark.group = f"als_half_step {case.label} k={k} {dtype} threads={threads}"
    benchmark.extra_info.update(case.extra_info(impl, threads))
    def timed(*args, **kwargs):
        result = case.run[impl](*args, **kwargs)
        return result if impl == "numpy" else (result, *args[-2:])

    result = benchmark.pedantic(timed, setup=lambda: case.fresh(threads), rounds=ROUNDS[impl],
                                warmup_rounds=WARMUP[impl])
    if impl == "cpp":
        failed, *result = result
        assert failed == -1, f"Cholesky failed for row {failed}"
    other = _outputs(case, "numpy" if impl == "cpp" else "cpp")
    assert_agree(result, other, dtype)


_cache = {}


def _outputs(case, impl):
    """One untimed call of the other side, per case."""
    key = (id(case), impl)
    if key not in _cache:
        _cache[key] = case.output(impl)
    return _cache[key]
