"""The array helpers that one-machine and distributed fits share (fastmf._kernels.arrays and
.gram, fastmf.models._factors)."""
import math
from fractions import Fraction

import numpy as np
import pytest

from fastmf._kernels.arrays import cache_aligned, exact_mean, exact_sum, row_norms
from fastmf._kernels.gram import GRAM_CHUNK, gram
from fastmf.models._factors import init_factors


def test_exact_sum_is_exact_and_the_same_for_any_split(rng):
    values = rng.normal(size=5000) * 10.0 ** rng.integers(-300, 300, 5000)
    exact = sum(Fraction(x) for x in values)                 # Python's exact rationals
    assert exact_sum(values) == exact
    assert float(exact_sum(values)) == math.fsum(values)
    for parts in (2, 7, 4999):
        assert sum(exact_sum(part) for part in np.array_split(values, parts)) == exact


def test_exact_sum_of_edge_values():
    values = np.array([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e308, -1e308,
                       1.7976931348623157e308, 1e-300])
    assert exact_sum(values) == sum(Fraction(x) for x in values)
    assert exact_sum(np.zeros(0)) == 0
    assert exact_sum(np.float32([1.5, 2.25])) == Fraction(15, 4)
    assert exact_mean([1.0, 2.0, 2.0]) == 5 / 3
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="finite"):
            exact_sum([1.0, bad])


def test_exact_sum_of_many_values_of_one_exponent():
    # 2^20 copies of the largest mantissa below 2: every digit sum far past 2^53.
    value = 2.0 - 2.0 ** -52
    assert exact_sum(np.full(1 << 20, value)) == (1 << 20) * Fraction(value)
    assert exact_sum(np.full(1 << 20, -value)) == -(1 << 20) * Fraction(value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_row_norms_of_any_layout_and_dtype(dtype, rng):
    A = (rng.normal(size=(50, 7)) * 100).astype(dtype)
    expected = (A.astype(np.float64) ** 2).sum(axis=1)
    np.testing.assert_allclose(row_norms(A), expected, rtol=1e-14)
    np.testing.assert_allclose(row_norms(A[::2, 1:]), expected[::2] - A[::2, 0].astype(
        np.float64) ** 2, rtol=1e-12)
    assert row_norms(np.zeros((0, 3), dtype)).shape == (0,)


def test_exact_mean_is_correctly_rounded_where_a_float_sum_is_not():
    values = np.array([1e16, 1.0, -1e16, 1.0])
    assert np.sum(values) / 4 != 0.5                      # the naive sum loses the ones
    assert exact_mean(values) == 0.5


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_gram_sums_the_chunks(dtype, rtol, rng):
    Y = rng.normal(size=(2 * GRAM_CHUNK + 5, 16)).astype(dtype)
    wide = Y.astype(np.float64)
    # Rounding error is relative to Σ|y_a y_b|, not to the sum, which can be near 0.
    bound = rtol * (np.abs(wide).T @ np.abs(wide))
    assert (np.abs(gram(Y, 2) - wide.T @ wide) <= bound).all()
    assert gram(Y, 1).dtype == dtype
    np.testing.assert_array_equal(gram(np.zeros((0, 3), dtype), 1), np.zeros((3, 3)))


def test_factors_start_aligned_and_from_the_seed():
    X, Y = init_factors(np.random.default_rng(4), 5, 7, 3, 0.1, np.float32)
    gen = np.random.default_rng(4)
    np.testing.assert_array_equal(Y, gen.normal(0, 0.1, (7, 3)).astype(np.float32))
    np.testing.assert_array_equal(X, gen.normal(0, 0.1, (5, 3)).astype(np.float32))
    assert X.ctypes.data % 64 == 0 and Y.ctypes.data % 64 == 0
    none, same = init_factors(np.random.default_rng(4), 5, 7, 3, 0.1, np.float32, users=False)
    assert none is None and (same == Y).all()
    assert cache_aligned(np.arange(5.0)).ctypes.data % 64 == 0
