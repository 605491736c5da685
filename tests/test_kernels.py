"""Each C++ kernel against its numpy twin in tests/reference.py."""
import os

import numpy as np
import pytest

from fastmf import _core

from . import reference
from .conftest import IMPLICIT_ALPHA as ALPHA, implicit_case, kernel_builds, synthetic

TOLERANCES = [(np.float64, 1e-10), (np.float32, 1e-4)]
SIMD_SIZES = [6, 16, 37]          # below a vector, whole vectors, and a partial last vector


def _row_reg(indptr, reg, weighted, dtype):
    """Per-row λ as ALS passes it: reg * n_u**weighted."""
    return (reg * np.diff(indptr).astype(np.float64) ** weighted).astype(dtype)


def _half_step_case(dtype, seed=0, k=5, n_users=40, n_items=30, empty_rows=(3, 17)):
    data = synthetic(n_users, n_items, seed=seed)
    R = data.by_user
    # Empty some rows to cover the "no ratings" branch.
    keep = ~np.isin(np.repeat(np.arange(R.shape[0]), R.counts()), empty_rows)
    counts = np.bincount(np.repeat(np.arange(R.shape[0]), R.counts())[keep], minlength=R.shape[0])
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    indices, ratings = R.indices[keep], R.data[keep].astype(dtype)
    gen = np.random.default_rng(seed)
    Y = gen.normal(0, 0.5, (n_items, k)).astype(dtype)
    y_bias = gen.normal(0, 0.3, n_items).astype(dtype)
    return indptr, indices, ratings, Y, y_bias, dtype(3.5)


@pytest.mark.parametrize("k", [1, 5, 16, 40, 67])   # whole, partial and single-vector panels
@pytest.mark.parametrize("weighted", [False, 0.5, True])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
@pytest.mark.parametrize("with_prior", [False, True])
def test_als_half_step_matches_numpy(kernels, dtype, rtol, weighted, k, with_prior):
    indptr, indices, ratings, Y, y_bias, mu = _half_step_case(dtype, k=k)
    n_rows = len(indptr) - 1
    prior = (np.random.default_rng(5).normal(size=(n_rows, k)).astype(dtype) if with_prior
             else np.zeros((0, k), dtype))
    X = np.full((n_rows, Y.shape[1]), 7, dtype)
    xb = np.full(n_rows, 7, dtype)
    row_sse = np.full(n_rows, np.nan)
    failed = kernels.als_half_step(indptr, indices, ratings, Y, y_bias, mu,
                                   _row_reg(indptr, 0.1, weighted, dtype), dtype(2.0), prior, X,
                                   xb, 2, row_sse)
    X_ref, xb_ref = reference.als_half_step(indptr, indices, ratings.astype(np.float64),
                                            Y.astype(np.float64), y_bias.astype(np.float64),
                                            float(mu), 0.1, 2.0, weighted,
                                            prior.astype(np.float64) if with_prior else None)
    assert failed == -1
    np.testing.assert_allclose(X, X_ref, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(xb, xb_ref, rtol=rtol, atol=rtol)
    # each row's squared residuals under the factors it got, short and long rows alike
    np.testing.assert_allclose(row_sse, reference.row_squared_errors(
        indptr, indices, ratings.astype(np.float64), X, xb, Y, y_bias, float(mu)),
        rtol=rtol * 10, atol=rtol)
    assert row_sse[17] == 0
    # empty rows: zero bias, factors equal to the prior (zeros without one)
    np.testing.assert_array_equal(X[3], prior[3] if with_prior else 0)
    assert xb[17] == 0


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_als_half_step_sums_long_rows_block_by_block(kernels, dtype, rtol):
    # About 120 ratings per row at k = 40: the Gram matrix is summed over blocks of rows
    # (51 of them per block in float64, 102 in float32).
    indptr, indices, ratings, Y, y_bias, mu = _half_step_case(dtype, k=40, n_items=400)
    n_rows = len(indptr) - 1
    X, xb = np.zeros((n_rows, 40), dtype), np.zeros(n_rows, dtype)
    assert np.diff(indptr).max() > 110
    assert kernels.als_half_step(indptr, indices, ratings, Y, y_bias, mu,
                                 _row_reg(indptr, 0.1, 0.5, dtype), dtype(2.0),
                                 np.zeros((0, 40), dtype), X, xb, 2) == -1
    X_ref, xb_ref = reference.als_half_step(indptr, indices, ratings.astype(np.float64),
                                            Y.astype(np.float64), y_bias.astype(np.float64),
                                            float(mu), 0.1, 2.0, 0.5)
    np.testing.assert_allclose(X, X_ref, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(xb, xb_ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("k", [16, 40])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
@pytest.mark.parametrize("with_prior", [False, True])
@pytest.mark.parametrize("bias_reg", [2.0, 1e-9, 0.0])
def test_als_half_step_short_and_long_rows_match_numpy(kernels, dtype, rtol, k, with_prior,
                                                        bias_reg):
    # Row lengths 1 .. 2k: rows shorter than 3k/4 are solved as n x n systems, the rest as
    # k x k ones; both must give the numpy twin's answer, for any bias regularization.
    gen = np.random.default_rng(k)
    n_items = 3 * k
    lengths = np.arange(1, 2 * k + 1)
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    indices = np.concatenate([np.sort(gen.choice(n_items, n, replace=False))
                              for n in lengths]).astype(np.int32)
    ratings = gen.integers(1, 6, indptr[-1]).astype(dtype)
    Y = gen.normal(0, 0.5, (n_items, k)).astype(dtype)
    y_bias = gen.normal(0, 0.3, n_items).astype(dtype)
    prior = (gen.normal(size=(len(lengths), k)).astype(dtype) if with_prior
             else np.zeros((0, k), dtype))
    X, xb = np.zeros((len(lengths), k), dtype), np.zeros(len(lengths), dtype)
    assert kernels.als_half_step(indptr, indices, ratings, Y, y_bias, dtype(3.5),
                                 _row_reg(indptr, 0.1, 0.5, dtype), dtype(bias_reg), prior, X,
                                 xb, 2) == -1
    X_ref, xb_ref = reference.als_half_step(indptr, indices, ratings.astype(np.float64),
                                            Y.astype(np.float64), y_bias.astype(np.float64),
                                            3.5, 0.1, bias_reg, 0.5,
                                            prior.astype(np.float64) if with_prior else None)
    np.testing.assert_allclose(X, X_ref, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(xb, xb_ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("k", [12, 40])
def test_als_half_step_reports_first_singular_row(kernels, k):
    # No regularization and fewer ratings than unknowns: the system is singular.
    indptr, indices, ratings, Y, y_bias, mu = _half_step_case(np.float64, k=k)
    X = np.zeros((len(indptr) - 1, k))
    xb = np.zeros(len(indptr) - 1)
    counts = np.diff(indptr)
    failed = kernels.als_half_step(indptr, indices, ratings, Y, y_bias, mu,
                                   _row_reg(indptr, 0.0, False, np.float64), 0.0,
                                   np.zeros((0, k)), X, xb, 2)
    assert failed == np.flatnonzero((counts > 0) & (counts < k + 1))[0]


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_predict_pairs_matches_numpy_with_unknown_ids(kernels, dtype, rtol, rng):
    X, Y = rng.normal(size=(6, 4)).astype(dtype), rng.normal(size=(5, 4)).astype(dtype)
    xb, yb = rng.normal(size=6).astype(dtype), rng.normal(size=5).astype(dtype)
    uidx = np.array([0, 5, -1, 2, -1, 3], dtype=np.int64)
    iidx = np.array([4, -1, 1, 0, -1, 3], dtype=np.int64)
    out = np.empty(6, dtype)
    kernels.predict_pairs(X, xb, Y, yb, dtype(3.0), uidx, iidx, out, 2)
    np.testing.assert_allclose(out, reference.predict(X, xb, Y, yb, 3.0, uidx, iidx), rtol=rtol)
    assert out[4] == 3.0


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_row_squared_errors_match_numpy(kernels, dtype, rtol, rng):
    indptr, indices, ratings, Y, y_bias, mu = _half_step_case(dtype, k=7)
    X = rng.normal(size=(len(indptr) - 1, 7)).astype(dtype)
    x_bias = rng.normal(size=len(indptr) - 1).astype(dtype)
    out = np.full(len(indptr) - 1, -1.0)
    kernels.row_squared_errors(indptr, indices, ratings, X, x_bias, Y, y_bias, mu, out, 2)
    expected = reference.row_squared_errors(indptr, indices, ratings.astype(np.float64), X, x_bias,
                                            Y, y_bias, float(mu))
    np.testing.assert_allclose(out, expected, rtol=rtol)
    assert out[3] == 0 and out[17] == 0          # rows without ratings


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("want_positions", [True, False])
def test_coo_to_csr_is_a_stable_sort_by_row_then_column(kernels, dtype, want_positions, rng):
    n_rows, n_cols, nnz = 40, 30, 2000        # many repeated pairs, some rows empty
    rows = rng.integers(0, n_rows, nnz).astype(np.int32)
    rows[rows == 3] = 4
    cols = rng.integers(0, n_cols, nnz).astype(np.int32)
    data = rng.random(nnz).astype(dtype)
    indptr, expected_cols, expected_data, expected_pos = reference.coo_to_csr(rows, cols, data, n_rows)
    out_cols, out_data = np.empty(nnz, np.int32), np.empty(nnz, dtype)
    out_pos = np.empty(nnz if want_positions else 0, np.int64)
    kernels.coo_to_csr(rows, cols, data, indptr, out_cols, out_data, out_pos, 2)
    np.testing.assert_array_equal(out_cols, expected_cols)
    np.testing.assert_array_equal(out_data, expected_data)
    if want_positions:
        np.testing.assert_array_equal(out_pos, expected_pos)


def test_kernels_refuse_wrong_dtype_instead_of_copying():
    indptr, indices, ratings, Y, y_bias, mu = _half_step_case(np.float64)
    X = np.zeros((len(indptr) - 1, Y.shape[1]), np.float32)   # output in the wrong dtype
    xb = np.zeros(len(indptr) - 1)
    with pytest.raises(TypeError):
        _core.als_half_step(indptr, indices, ratings, Y, y_bias, mu,
                            _row_reg(indptr, 0.1, False, np.float64), 1.0, np.zeros((0, 5)), X,
                            xb, 1)


BUILDS = ("avx512", "avx2", "portable")                 # best first
# What each build needs, as Linux names the CPU's flags in /proc/cpuinfo (x86-64-v3's and
# -v4's vector extensions; Linux lists AVX and AVX-512 flags only when the OS saves their
# registers).
NEEDS = {"avx512": {"avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"},
         "avx2": {"avx2", "fma"}, "portable": set()}


def _cpu_flags():
    """The CPU's flags as Linux lists them, or None where there is no /proc (macOS,
    Windows)."""
    import pathlib
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return None
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()                            # no flags line: not x86


def _builds_this_machine_runs():
    """(installed, runnable): the builds in the package folder, best first, and those of
    them this CPU runs by the flags Linux lists, not by the selection code's view of them
    (which is the answer only where there is no /proc)."""
    import pathlib

    import fastmf
    folder = pathlib.Path(fastmf.__file__).parent
    installed = [name for name in BUILDS if any(folder.glob(f"_core_{name}.*"))]
    flags = _cpu_flags()
    if flags is None:
        runs = {"portable"}
        runs.update({"avx2"} if _core.cpu_has_avx2_fma() else ())
        runs.update({"avx512"} if _core.cpu_has_avx512() else ())
    else:
        runs = {name for name in BUILDS if NEEDS[name] <= flags}
    return installed, [name for name in installed if name in runs]


def test_the_cpu_queries_agree_with_the_flags_linux_lists():
    flags, features = _cpu_flags(), _core.cpu_features()
    assert not _core.cpu_has_avx512() or _core.cpu_has_avx2_fma()
    assert not features["os_zmm"] or features["os_ymm"]
    if flags is None:                       # nothing to compare with: consistency only
        assert _core.cpu_has_avx2_fma() <= (features["avx2"] and features["fma"])
        return
    assert _core.cpu_has_avx2_fma() == (NEEDS["avx2"] <= flags)
    assert _core.cpu_has_avx512() == (NEEDS["avx512"] <= flags)
    listed = [name for name in features if not name.startswith("os_")
              and (features["os_zmm"] or not name.startswith("avx512"))]
    assert {name: features[name] for name in listed} == {name: name in flags for name in listed}


def test_the_fastest_build_this_cpu_runs_unless_one_is_forced():
    installed, runnable = _builds_this_machine_runs()
    forced = os.environ.get("FASTMF_KERNELS", "").strip().lower()
    assert list(_core.builds) == installed
    assert _core.variant == (runnable[0] if forced in ("", "auto") else forced)
    # the kernel tests run in every build this machine runs
    assert [m.__name__ for m in kernel_builds()] == [f"fastmf._core_{name}"
                                                      for name in reversed(runnable)]


def _variant_with(setting):
    """(variant, stderr) of a fresh interpreter with FASTMF_KERNELS=setting; variant None
    when the import failed."""
    import subprocess
    import sys
    env = {**os.environ, "FASTMF_KERNELS": setting}
    done = subprocess.run([sys.executable, "-c", "from fastmf import _core; print(_core.variant)"],
                          capture_output=True, text=True, env=env, check=False)
    return (done.stdout.strip() if done.returncode == 0 else None), done.stderr


@pytest.mark.parametrize("build", BUILDS)
def test_fastmf_kernels_forces_a_build_or_says_why_it_cannot(build):
    """Each build, whether or not this machine runs it: forced where it can run, a
    RuntimeError naming the build and what to do where it cannot."""
    installed, runnable = _builds_this_machine_runs()
    variant, stderr = _variant_with(f" {build.upper()} ")      # case and blanks ignored
    if build in runnable:
        assert variant == build, stderr
    else:
        assert variant is None
        why = "not installed" if build not in installed else "this CPU cannot run"
        assert f"RuntimeError: FASTMF_KERNELS='{build}': " in stderr and why in stderr
        assert f"set it to one of: {', '.join(map(repr, runnable))}" in stderr


@pytest.mark.parametrize("setting, expected", [("auto", None), ("", None), ("avx", "error"),
                                               ("native", "error")])
def test_fastmf_kernels_auto_chooses_and_an_unknown_value_is_refused(setting, expected):
    runnable = _builds_this_machine_runs()[1]
    variant, stderr = _variant_with(setting)
    if expected is None:
        assert variant == runnable[0], stderr
    else:
        assert variant is None
        assert (f"RuntimeError: FASTMF_KERNELS='{setting}' names no kernel build; the builds "
                f"are 'avx512', 'avx2', 'portable'") in stderr


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_block_layout_matches_numpy_and_ignores_threads(kernels, dtype, rng):
    """A stable sort by block and a Fisher-Yates of every block from the same splitmix64
    draws: the same layout, entry for entry, whatever the thread count."""
    data = synthetic(300, 200, density=0.2, seed=3)
    side = 7                                   # 49 blocks of ~240 ratings, some empty
    user_block = rng.integers(0, side, 300).astype(np.int32)
    item_block = rng.integers(0, side - 1, 200).astype(np.int32)       # column 6 empty
    csr = data.by_user
    ratings = csr.data.astype(dtype)
    want = reference.sgd_block_layout(csr.indptr, csr.indices, ratings, user_block, item_block,
                                      side, 12345)
    for threads in (1, 2, 3):
        got = (np.empty(side * side + 1, np.int64), np.empty(data.nnz, np.int32),
               np.empty(data.nnz, np.int32), np.empty(data.nnz, dtype))
        kernels.sgd_block_layout(csr.indptr, csr.indices, ratings, user_block, item_block, side,
                                 12345, *got, threads)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    # every rating once, each in its block, and the blocks really shuffled
    block_ptr, uidx, iidx, values = got
    assert sorted(zip(uidx, iidx, values)) == sorted(zip(data.uidx, data.iidx, ratings))
    blocks = np.repeat(np.arange(side * side), np.diff(block_ptr))
    np.testing.assert_array_equal(blocks, user_block[uidx] * side + item_block[iidx])
    assert not all(np.all(np.diff(uidx[lo:hi]) >= 0)
                   for lo, hi in zip(block_ptr[:-1], block_ptr[1:]))


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_sgd_epoch_matches_a_numpy_replay_of_the_same_order(kernels, dtype, rtol, rng):
    from fastmf.models.sgd import block_layout
    data = synthetic(30, 25, density=0.4, seed=8)
    block_ptr, uidx, iidx, ratings = block_layout(data, 64, np.random.default_rng(0), True, dtype)
    order = rng.permutation(len(block_ptr) - 1).astype(np.int32)
    X, Y = (rng.normal(0, 0.1, (n, 6)).astype(dtype) for n in (30, 25))
    xb, yb = (rng.normal(0, 0.1, n).astype(dtype) for n in (30, 25))
    expected = reference.sgd_epoch(block_ptr, order, uidx, iidx, ratings.astype(np.float64), X, xb,
                                   Y, yb, 3.2, 0.02, 0.05, 0.01)
    sse = kernels.sgd_epoch(block_ptr, order, uidx, iidx, ratings, X, xb, Y, yb, dtype(3.2),
                            dtype(0.02), dtype(0.05), dtype(0.01), 1)
    for got, want in zip((X, xb, Y, yb, sse), expected):
        np.testing.assert_allclose(got, want, rtol=rtol * 10, atol=rtol)


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_gram_chunks_match_numpy_and_ignore_threads_and_storage(kernels, dtype, rtol, rng):
    Y = rng.normal(size=(9000, 7)).astype(dtype)             # chunks of 4000, 4000, 1000 rows
    outs = []
    for threads in (1, 2, 3):
        out = np.empty((3 * 7, 7), dtype)
        kernels.gram_chunks(Y, 4000, out, threads)
        outs.append(out.reshape(3, 7, 7))
    for c, rows in enumerate((Y[:4000], Y[4000:8000], Y[8000:])):
        exact = rows.astype(np.float64).T @ rows.astype(np.float64)
        np.testing.assert_allclose(outs[0][c], exact, rtol=rtol)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])
    # A chunk's rows copied out of Y (to another address and alignment) give the same bits.
    for shift in (1, 3):
        buffer = np.empty(1000 * 7 + shift, dtype)
        moved = buffer[shift:].reshape(1000, 7)
        moved[...] = Y[8000:]
        out = np.empty((7, 7), dtype)
        kernels.gram_chunks(moved, 4000, out, 1)
        np.testing.assert_array_equal(out, outs[0][2])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_squared_norms_match_numpy_and_ignore_threads_and_storage(kernels, dtype, rng):
    A = (rng.normal(size=(3000, 37)) * 10.0 ** rng.integers(-3, 4, (3000, 1))).astype(dtype)
    outs = []
    for threads in (1, 2):
        out = np.empty(3000)
        kernels.row_squared_norms(A, out, threads)
        outs.append(out)
    np.testing.assert_allclose(outs[0], reference.row_squared_norms(A), rtol=1e-14)
    np.testing.assert_array_equal(outs[0], outs[1])
    part = np.empty(10)
    kernels.row_squared_norms(np.ascontiguousarray(A[2990:]), part, 1)   # a row's bits alone
    np.testing.assert_array_equal(part, outs[0][2990:])


def test_exact_sum_digits_match_the_twin(kernels, rng):
    values = np.concatenate([rng.normal(size=2000) * 10.0 ** rng.integers(-300, 300, 2000),
                             [0.0, -0.0, 5e-324, -4e-320, 2.2250738585072014e-308,
                              1.7976931348623157e308, -1e308]])
    digits = np.zeros((3, 2048), dtype=np.int64)
    assert kernels.exact_sum_digits(values, digits)
    np.testing.assert_array_equal(digits, reference.exact_sum_digits(values))
    assert kernels.exact_sum_digits(values, digits)            # adds to what is there
    np.testing.assert_array_equal(digits, 2 * reference.exact_sum_digits(values))
    for bad in (np.inf, -np.inf, np.nan):
        digits = np.zeros((3, 2048), dtype=np.int64)
        assert not kernels.exact_sum_digits(np.array([1.0, bad, 2.0]), digits)
        np.testing.assert_array_equal(digits, reference.exact_sum_digits([1.0]))  # stops there


def _bpr_case(dtype, n_users=30, n_items=25, k=6, seed=8, biased=True, nearly_full_user=None):
    """Positives by user (sorted rows; user 4 has none), factors and item biases."""
    gen = np.random.default_rng(seed)
    mask = gen.random((n_users, n_items)) < 0.4
    mask[4] = False
    if nearly_full_user is not None:                 # every item but item 0
        mask[nearly_full_user] = np.arange(n_items) > 0
    users, items = np.nonzero(mask)                  # row by row, columns ascending
    indptr = np.r_[0, np.cumsum(mask.sum(axis=1))].astype(np.int64)
    X, Y = (gen.normal(0, 0.3, (n, k)).astype(dtype) for n in (n_users, n_items))
    b = gen.normal(0, 0.3, n_items if biased else 0).astype(dtype)
    return indptr, items.astype(np.int32), users.astype(np.int32), X, Y, b


def _popularity_cdf(indices, n_items, exponent):
    return np.cumsum(np.bincount(indices, minlength=n_items).astype(np.float64) ** exponent)


@pytest.mark.parametrize("tries", [32, 1])
@pytest.mark.parametrize("exponent", [None, 1.0, 0.5])
def test_bpr_draws_equal_the_numpy_sampler_and_never_pick_an_observed_negative(kernels, exponent,
                                                                               tries):
    indptr, indices, user_of, *_ = _bpr_case(np.float64)
    cdf = np.zeros(0) if exponent is None else _popularity_cdf(indices, 25, exponent)
    out = [np.empty(3000, np.int32) for _ in range(3)]
    kernels.bpr_draws(indptr, indices, user_of, cdf, 25, 2**63 + 12345, tries, 11, *out)
    expected = reference.bpr_draws(indptr, indices, user_of, cdf, 25, 2**63 + 12345, 3000, first=11,
                                   tries=tries)
    for got, want in zip(out, expected):
        np.testing.assert_array_equal(got, want)
    u, i, j = out
    rows = [set(indices[indptr[r]:indptr[r + 1]]) for r in range(len(indptr) - 1)]
    assert all(i[s] in rows[u[s]] for s in range(3000))
    assert all(j[s] not in rows[u[s]] for s in range(3000) if j[s] >= 0)
    # One try skips the samples whose first candidate was seen; the others keep the negative
    # they have with 32 tries (the draws of a sample do not depend on `tries`).
    with_32 = reference.bpr_draws(indptr, indices, user_of, cdf, 25, 2**63 + 12345, 3000,
                                  first=11)[2]
    assert (with_32 >= 0).all()
    assert (j[j >= 0] == with_32[j >= 0]).all()
    assert ((j < 0).sum() > 0) == (tries == 1)
    assert 4 not in set(u)                                     # the user without positives


def test_bpr_popularity_draws_are_exact_over_many_items_with_flat_and_steep_weights(kernels):
    # The guide table starts each search near the answer; it must still be the first item
    # whose cumulative weight exceeds the target, never one of weight 0.
    gen = np.random.default_rng(5)
    n_users, n_items = 40, 3000
    mask = gen.random((n_users, n_items)) < 0.01
    users, items = np.nonzero(mask)
    indptr = np.r_[0, np.cumsum(mask.sum(axis=1))].astype(np.int64)
    weights = gen.pareto(0.8, n_items) * (gen.random(n_items) < 0.7)    # 30% never drawn
    cdf = np.cumsum(weights)
    out = [np.empty(20_000, np.int32) for _ in range(3)]
    kernels.bpr_draws(indptr, items.astype(np.int32), users.astype(np.int32), cdf, n_items, 99, 32,
                      0, *out)
    expected = reference.bpr_draws(indptr, items.astype(np.int32), users.astype(np.int32), cdf,
                                   n_items, 99, 20_000)
    for got, want in zip(out, expected):
        np.testing.assert_array_equal(got, want)
    assert (weights[out[2][out[2] >= 0]] > 0).all()


@pytest.mark.parametrize("tries", [32, 1])
@pytest.mark.parametrize("biased", [True, False])
@pytest.mark.parametrize("exponent", [None, 0.75])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_bpr_epoch_on_one_thread_is_a_numpy_replay_of_its_draws(kernels, dtype, rtol, exponent,
                                                                biased, tries):
    indptr, indices, user_of, X, Y, b = _bpr_case(dtype, biased=biased)
    cdf = np.zeros(0) if exponent is None else _popularity_cdf(indices, 25, exponent)
    samples, seed = 2 * len(indices), 77
    draws = reference.bpr_draws(indptr, indices, user_of, cdf, 25, seed, samples, tries=tries)
    X_ref, Y_ref, b_ref, totals_ref = reference.bpr_steps(*draws, X, Y, b, 0.05, 0.01)
    totals = kernels.bpr_epoch(indptr, indices, user_of, cdf, X, Y, b, dtype(0.05), dtype(0.01),
                               samples, seed, tries, 1)
    for got, want in zip((X, Y, b, totals[0]), (X_ref, Y_ref, b_ref, totals_ref[0])):
        np.testing.assert_allclose(got, want, rtol=rtol * 10, atol=rtol)
    assert totals[1:] == totals_ref[1:]
    assert totals[2] == (draws[2] >= 0).sum()
    if tries == 32:
        assert totals[2] == samples                            # nothing skipped here
    else:
        assert totals[2] < samples                             # seen first candidates


def test_bpr_steps_on_the_drawn_triples_equal_the_epoch_bit_for_bit(kernels):
    indptr, indices, user_of, X, Y, b = _bpr_case(np.float32)
    X2, Y2, b2 = X.copy(), Y.copy(), b.copy()
    samples = len(indices)
    draws = [np.empty(samples, np.int32) for _ in range(3)]
    kernels.bpr_draws(indptr, indices, user_of, np.zeros(0), 25, 5, 32, 0, *draws)
    by_epoch = kernels.bpr_epoch(indptr, indices, user_of, np.zeros(0), X, Y, b, np.float32(0.1),
                                 np.float32(0.02), samples, 5, 32, 1)
    by_steps = kernels.bpr_steps(*draws, X2, Y2, b2, np.float32(0.1), np.float32(0.02))
    assert by_epoch == by_steps
    for a, c in ((X, X2), (Y, Y2), (b, b2)):
        np.testing.assert_array_equal(a, c)


def test_bpr_epoch_draws_do_not_depend_on_the_thread_count(kernels):
    # User 7 has seen every item but one: with popularity weights, some of its samples run
    # out of candidates and are skipped.
    indptr, indices, user_of, X, Y, b = _bpr_case(np.float64, nearly_full_user=7)
    cdf = _popularity_cdf(indices, 25, 1.0)
    used = []
    for threads in (1, 2, 3):
        totals = kernels.bpr_epoch(indptr, indices, user_of, cdf, X.copy(), Y.copy(), b.copy(),
                                   0.05, 0.01, 5000, 3, 32, threads)
        used.append(totals[2])
    draws = reference.bpr_draws(indptr, indices, user_of, cdf, 25, 3, 5000)
    assert used == [int((draws[2] >= 0).sum())] * 3
    assert used[0] < 5000                                      # some samples were skipped
    assert (draws[0][draws[2] < 0] == 7).all()


# α0 = 1 (Hu-Koren-Volinsky), α0 < 1 (every weight c - α0 > 0) and α0 = 4 (with the case's
# c = 1 + 0.7 r, r in 1..5: some weights negative, some positive).
ALPHA0S = [1.0, 0.25, 4.0]


def _no_prior(Y):
    """The empty prior (shrink toward 0) of the implicit kernels."""
    return np.zeros((0, Y.shape[1]), dtype=Y.dtype)


def _implicit_reg(indptr, n_other, dtype, alpha0, exponent=0.5):
    """(base = 1 - α0, λ_u per row in dtype, the same in float64) for the kernels, λ = 0.1."""
    reg = reference.implicit_row_reg(np.diff(indptr), n_other, 0.1, alpha0, exponent)
    return dtype(1.0 - alpha0), reg.astype(dtype), reg.astype(dtype).astype(np.float64)


@pytest.mark.parametrize("alpha0", ALPHA0S)
@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_cholesky_half_step_equals_the_dense_weight_formula(kernels, dtype, rtol, k, alpha0):
    observed, conf_dense, indptr, indices, values, conf, Y = implicit_case(k=k, dtype=dtype)
    base, reg, reg64 = _implicit_reg(indptr, len(Y), dtype, alpha0)
    X = np.full((observed.shape[0], Y.shape[1]), 9, dtype)
    G = (dtype(alpha0) * (Y.T @ Y)).astype(dtype)
    assert kernels.implicit_als_half_step(indptr, indices, values, dtype(ALPHA), base, Y, G,
                                          reg, _no_prior(Y), X, 2) == -1
    expected = reference.implicit_half_step(observed, conf_dense, Y.astype(np.float64), reg64,
                                            alpha0)
    np.testing.assert_allclose(X, expected, rtol=rtol, atol=rtol)
    assert not X[3].any()
    sparse_twin = reference.implicit_half_step_sparse(indptr, indices, conf.astype(np.float64),
                                                      Y.astype(np.float64), reg64, alpha0)
    np.testing.assert_allclose(sparse_twin, expected, rtol=rtol, atol=rtol)   # conf rounded to dtype


def test_the_case_with_alpha0_4_has_negative_and_positive_weights():
    observed, conf_dense, *_ = implicit_case()
    weights = 1.0 + conf_dense[observed] - 4.0
    assert (weights < 0).any() and (weights > 0).any()


@pytest.mark.parametrize("alpha0", ALPHA0S)
@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_cg_step_matches_its_numpy_twin(kernels, dtype, rtol, k, alpha0):
    observed, _, indptr, indices, values, conf, Y = implicit_case(k=k, seed=3, dtype=dtype)
    base, reg, reg64 = _implicit_reg(indptr, len(Y), dtype, alpha0)
    X0 = np.random.default_rng(0).normal(0, 0.1, (observed.shape[0], k)).astype(dtype)
    X = X0.copy()
    G = (dtype(alpha0) * (Y.T @ Y)).astype(dtype)
    kernels.implicit_als_cg_step(indptr, indices, values, dtype(ALPHA), base, Y, G, reg,
                                 _no_prior(Y), X, 3, 2)
    twin = reference.implicit_cg_step(indptr, indices, conf.astype(np.float64),
                                      Y.astype(np.float64), reg64, X0.astype(np.float64), 3,
                                      alpha0)
    np.testing.assert_allclose(X, twin, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("alpha0", ALPHA0S)
@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_cholesky_half_step_with_a_prior_equals_the_dense_weight_formula(kernels, dtype, rtol, k,
                                                                         alpha0):
    observed, conf_dense, indptr, indices, values, conf, Y = implicit_case(k=k, seed=5,
                                                                           dtype=dtype)
    base, reg, reg64 = _implicit_reg(indptr, len(Y), dtype, alpha0)
    prior = np.random.default_rng(6).normal(0, 0.5, (observed.shape[0], k)).astype(dtype)
    X = np.full((observed.shape[0], k), 9, dtype)
    G = (dtype(alpha0) * (Y.T @ Y)).astype(dtype)
    assert kernels.implicit_als_half_step(indptr, indices, values, dtype(ALPHA), base, Y, G,
                                          reg, prior, X, 2) == -1
    expected = reference.implicit_half_step(observed, conf_dense, Y.astype(np.float64), reg64,
                                            alpha0, prior=prior.astype(np.float64))
    np.testing.assert_allclose(X, expected, rtol=rtol, atol=rtol)
    assert X[3].any()                   # the user without interactions: toward the prior


@pytest.mark.parametrize("alpha0", ALPHA0S)
@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_cg_step_with_a_prior_matches_its_numpy_twin(kernels, dtype, rtol, k, alpha0):
    observed, _, indptr, indices, values, conf, Y = implicit_case(k=k, seed=7, dtype=dtype)
    base, reg, reg64 = _implicit_reg(indptr, len(Y), dtype, alpha0)
    gen = np.random.default_rng(8)
    X0 = gen.normal(0, 0.1, (observed.shape[0], k)).astype(dtype)
    prior = gen.normal(0, 0.5, (observed.shape[0], k)).astype(dtype)
    X = X0.copy()
    G = (dtype(alpha0) * (Y.T @ Y)).astype(dtype)
    kernels.implicit_als_cg_step(indptr, indices, values, dtype(ALPHA), base, Y, G, reg, prior,
                                 X, 3, 2)
    twin = reference.implicit_cg_step(indptr, indices, conf.astype(np.float64),
                                      Y.astype(np.float64), reg64, X0.astype(np.float64), 3,
                                      alpha0, prior=prior.astype(np.float64))
    np.testing.assert_allclose(X, twin, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("alpha0", [1.0, 4.0])
def test_cg_with_a_prior_converges_to_the_exact_solve(alpha0):
    observed, conf_dense, indptr, indices, values, conf, Y = implicit_case(k=12, seed=9)
    base, reg, _ = _implicit_reg(indptr, len(Y), np.float64, alpha0)
    prior = np.random.default_rng(10).normal(0, 0.5, (observed.shape[0], 12))
    exact = reference.implicit_half_step(observed, conf_dense, Y, reg, alpha0, prior=prior)
    X = np.zeros((observed.shape[0], 12))
    _core.implicit_als_cg_step(indptr, indices, values, ALPHA, base, Y, alpha0 * (Y.T @ Y),
                               reg, prior, X, 40, 2)
    np.testing.assert_allclose(X, exact, rtol=1e-8, atol=1e-10)


def _long_rows(gen):
    """Three rows of 9000, 5 and 4200 items at k = 64 in float64, where a row's items are
    gathered 4096 at a time (9000 takes 3 chunks; CG forms the system of a row longer than
    4096): indptr, indices, values, Y."""
    n_items, k, lengths = 9500, 64, [9000, 5, 4200]
    indices = np.concatenate([np.sort(gen.choice(n_items, n, replace=False)) for n in lengths])
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    values = gen.integers(1, 4, len(indices)).astype(np.float64)
    return indptr, indices.astype(np.int32), values, gen.normal(0, 0.1, (n_items, k))


@pytest.mark.parametrize("alpha0", [1.0, 2.2])        # 2.2: weights 0.5 v - 1.2, mostly < 0
def test_rows_longer_than_the_gather_buffer_are_solved_chunk_by_chunk(kernels, alpha0):
    gen = np.random.default_rng(4)
    indptr, indices, values, Y = _long_rows(gen)
    k = Y.shape[1]
    G, base, reg = alpha0 * (Y.T @ Y), 1.0 - alpha0, np.array([0.1, 0.2, 0.3])
    X = np.zeros((3, k))
    row_loss = np.empty(3)
    assert kernels.implicit_als_half_step(indptr, indices, values, 0.5, base, Y, G, reg,
                                          _no_prior(Y), X, 2, alpha0, row_loss) == -1
    exact = reference.implicit_half_step_sparse(indptr, indices, 0.5 * values, Y, reg, alpha0)
    np.testing.assert_allclose(X, exact, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(row_loss, reference.implicit_observed_loss(
        indptr, indices, 0.5 * values, X, Y, alpha0), rtol=1e-12)


@pytest.mark.parametrize("with_prior", [False, True])
@pytest.mark.parametrize("alpha0", [1.0, 2.2])
def test_cg_forms_the_system_of_rows_longer_than_the_gather_buffer(kernels, alpha0, with_prior):
    # The rows of 9000 and 4200 items multiply by their formed k x k system, the row of 5 by
    # its gathered items: all three are the twin's CG iterates.
    gen = np.random.default_rng(4)
    indptr, indices, values, Y = _long_rows(gen)
    k = Y.shape[1]
    G, base, reg = alpha0 * (Y.T @ Y), 1.0 - alpha0, np.array([0.1, 0.2, 0.3])
    X0 = gen.normal(0, 0.1, (3, k))
    prior = gen.normal(0, 0.5, (3, k)) if with_prior else None
    X, row_loss = X0.copy(), np.empty(3)
    kernels.implicit_als_cg_step(indptr, indices, values, 0.5, base, Y, G, reg,
                                 _no_prior(Y) if prior is None else prior, X, 3, 2, alpha0,
                                 row_loss)
    np.testing.assert_allclose(X, reference.implicit_cg_step(indptr, indices, 0.5 * values, Y,
                                                             reg, X0, 3, alpha0, prior=prior),
                               rtol=1e-9, atol=1e-12)
    # the formed rows' loss reads their rows again, the gathered row's its copies
    np.testing.assert_allclose(row_loss, reference.implicit_observed_loss(
        indptr, indices, 0.5 * values, X, Y, alpha0), rtol=1e-12)


def _solve_with_row_loss(kernels, solver, args, prior, X, alpha0):
    """Run an implicit row solve (args: indptr, indices, values, alpha, base, Y, G, reg) on X
    with its fused loss; returns the per-row loss it filled."""
    row_loss = np.full(len(X), np.nan)
    if solver == "cholesky":
        kernels.implicit_als_half_step(*args, prior, X, 2, alpha0, row_loss)
    elif solver == "cg":
        kernels.implicit_als_cg_step(*args, prior, X, 3, 2, alpha0, row_loss)
    else:
        kernels.implicit_als_block_step(*args, X, 5, 2, alpha0, row_loss)
    return row_loss


@pytest.mark.parametrize("solver", ["cholesky", "cg", "block"])
@pytest.mark.parametrize("alpha0", ALPHA0S)
@pytest.mark.parametrize("k", SIMD_SIZES)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_the_solves_give_each_rows_observed_loss_after_it(kernels, dtype, rtol, k, alpha0,
                                                           solver):
    # The observed pairs' part of each row's loss under the factors the solve leaves, from
    # the rows it read (the block solver: from its kept predictions), against the twin's.
    observed, conf_dense, indptr, indices, values, conf, Y = implicit_case(k=k, dtype=dtype)
    base, reg, _ = _implicit_reg(indptr, len(Y), dtype, alpha0)
    X = np.random.default_rng(2).normal(0, 0.5, (observed.shape[0], Y.shape[1])).astype(dtype)
    G = (dtype(alpha0) * (Y.T @ Y)).astype(dtype)
    out = _solve_with_row_loss(kernels, solver, (indptr, indices, values, dtype(ALPHA), base,
                                                 Y, G, reg), _no_prior(Y), X, dtype(alpha0))
    expected = reference.implicit_observed_loss(indptr, indices, conf, X, Y, alpha0)
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)
    assert out[3] == 0                                             # the empty row
    # With α0 Σ_u x_uᵀ(YᵀY)x_u and the penalty it is the dense loss over all pairs.
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    reg_x = reference.implicit_row_reg(observed.sum(axis=1), len(Y), 0.1, alpha0, 0.5)
    reg_y = reference.implicit_row_reg(observed.sum(axis=0), len(X), 0.1, alpha0, 0.5)
    total = (alpha0 * np.sum((X64 @ Y64.T) ** 2) + out.sum()
             + reg_x @ np.sum(X64**2, axis=1) + reg_y @ np.sum(Y64**2, axis=1))
    expected_total = reference.implicit_loss(observed, conf_dense, X64, Y64, 0.1, alpha0, 0.5)
    assert total == pytest.approx(expected_total, rel=max(rtol, 1e-12))


@pytest.mark.parametrize("alpha0", [1.0, 4.0])
def test_conjugate_gradient_converges_to_the_exact_solve(alpha0):
    observed, conf_dense, indptr, indices, values, conf, Y = implicit_case(k=12)
    base, reg, _ = _implicit_reg(indptr, len(Y), np.float64, alpha0)
    exact = reference.implicit_half_step(observed, conf_dense, Y, reg, alpha0)
    errors = []
    for steps in (1, 3, 6, 12):
        X = np.zeros((observed.shape[0], 12))
        _core.implicit_als_cg_step(indptr, indices, values, ALPHA, base, Y, alpha0 * (Y.T @ Y),
                                   reg, _no_prior(Y), X, steps, 2)
        errors.append(np.abs(X - exact).max())
    assert all(b < a for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 1e-8


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


def _csr(rows):
    """(indptr int64, indices int32) of a list of index lists."""
    indptr = np.r_[0, np.cumsum([len(row) for row in rows])].astype(np.int64)
    return indptr, np.concatenate(rows).astype(np.int32)


NO_PROBES = {dtype: (np.zeros(0, np.int64), np.zeros(0, dtype)) for dtype in (np.float32,
                                                                           np.float64)}


def _topk_auc_case(rng, dtype, n_users, n_items, k, integer):
    """Queries, items and each user's excluded and relevant items (disjoint, sorted): users
    with a few relevant items, a hundred or several hundred (the count's linear and binary
    search paths), some with many excluded items; user 1 has nothing relevant, user 2 every
    item not excluded (nothing else to count), user 3 only 5 candidates (top-n padding).
    ``integer``: factors, offsets and biases in -2..2, so every score is exact in float32
    and ties abound."""
    def draw(*shape):
        values = rng.integers(-2, 3, size=shape) if integer else rng.normal(size=shape)
        return values.astype(dtype)
    Q, Y, offsets, bias = draw(n_users, k), draw(n_items, k), draw(n_users), draw(n_items)
    exclude, relevant = [], []
    for q in range(n_users):
        order = rng.permutation(n_items)
        n_excluded = rng.integers(0, 60) if q % 5 else rng.integers(300, 600)
        n_relevant = (rng.integers(1, 12), rng.integers(12, 120), rng.integers(120, 400))[q % 3]
        exclude.append(np.sort(order[:n_excluded]))
        relevant.append(np.sort(order[n_excluded:n_excluded + n_relevant]))
    relevant[1] = np.zeros(0, np.int64)
    relevant[2] = np.setdiff1d(np.arange(n_items), exclude[2])
    exclude[3], relevant[3] = np.arange(5, n_items), np.array([1, 3])
    return Q, offsets, Y, bias, exclude, relevant


@pytest.mark.parametrize("integer", [False, True])
@pytest.mark.parametrize("k", [16, 37])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_topk_auc_kernel_matches_the_top_n_and_a_pairwise_count(kernels, dtype, rtol, k,
                                                                integer, rng):
    # 203 users: blocks of 26 with a shorter last one; 1100 items: 2 chunks and a partial one
    n_users, n_items, n = 203, 1100, 20
    Q, offsets, Y, bias, exclude, relevant = _topk_auc_case(rng, dtype, n_users, n_items, k,
                                                            integer)
    sizes = [len(row) for row in relevant]
    assert min(size for size in sizes if size) < 12 and max(sizes[:3] + sizes[4:]) > 120
    items, top = np.empty((n_users, n), np.int32), np.empty((n_users, n), dtype)
    wins = np.empty(n_users, np.int64)
    kernels.topk_auc(Q, offsets, Y, bias, *_csr(exclude), *_csr(relevant), *NO_PROBES[dtype],
                     0, n_items, items, top, wins, 2)
    full = Q.astype(np.float64) @ Y.T.astype(np.float64) + offsets[:, None] + bias[None, :]
    ref_items, ref_top, ref_wins = reference.topk_auc(full, exclude, relevant, n)
    np.testing.assert_allclose(top, ref_top, rtol=rtol, atol=rtol)
    if dtype == np.float32 and not integer:
        # rounding may swap nearly equal scores: the items found score what the best ones do
        found = np.take_along_axis(full, np.maximum(items, 0), axis=1)
        np.testing.assert_allclose(np.where(items < 0, -np.inf, found), ref_top, rtol=rtol)
        np.testing.assert_allclose(wins, ref_wins, rtol=rtol)
    else:
        np.testing.assert_array_equal(items, ref_items)
        np.testing.assert_array_equal(wins, ref_wins)
    assert (items[3] >= 0).sum() == 5 and set(items[3][:5]) == set(range(5))
    assert wins[1] == 0 and wins[2] == 0


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_topk_auc_kernel_on_one_query_and_on_exact_ties(kernels, dtype, rtol):
    # One query (scored by dot products, not a matrix product) whose 600 items score 0, 1 or
    # 2 in turn, item i scoring i % 3: the relevant items are every fifth one.
    n_items = 600
    Q = np.ones((1, 16), dtype)
    Y = np.zeros((n_items, 16), dtype)
    Y[:, 0] = np.arange(n_items) % 3
    offsets, bias = np.zeros(1, dtype), np.zeros(n_items, dtype)
    exclude, relevant = [np.arange(1, n_items, 7)], [np.setdiff1d(np.arange(0, n_items, 5),
                                                                  np.arange(1, n_items, 7))]
    items, top = np.empty((1, 4), np.int32), np.empty((1, 4), dtype)
    wins = np.empty(1, np.int64)
    kernels.topk_auc(Q, offsets, Y, bias, *_csr(exclude), *_csr(relevant), *NO_PROBES[dtype],
                     0, n_items, items, top, wins, 2)
    # by hand: each relevant item scoring v beats the others scoring below v, ties those at v
    scores = np.arange(n_items) % 3
    others = np.setdiff1d(np.arange(n_items), np.union1d(exclude[0], relevant[0]))
    per_score = np.bincount(scores[others], minlength=3)
    expected = sum(2 * per_score[:scores[r]].sum() + per_score[scores[r]] for r in relevant[0])
    assert wins[0] == expected
    assert items[0].tolist() == [2, 5, 11, 14]           # the first items scoring 2, less 8
    np.testing.assert_array_equal(top[0], [2, 2, 2, 2])


@pytest.mark.parametrize("integer", [False, True])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_topk_auc_over_the_parts_of_a_catalog_adds_up_to_the_whole(kernels, dtype, rtol,
                                                                   integer, rng):
    # The catalog of 1100 items cut in 3 parts (the first crossing a chunk): each query's
    # probes are the relevant_scores of all its relevant items, from the parts that hold
    # them; every part counts its items against them, and the counts less m² add up to the
    # count of the whole catalog in one pass.
    n_users, n_items, n, k = 60, 1100, 20, 37
    Q, offsets, Y, bias, exclude, relevant = _topk_auc_case(rng, dtype, n_users, n_items, k,
                                                            integer)
    full = Q.astype(np.float64) @ Y.T.astype(np.float64) + offsets[:, None] + bias[None, :]
    items, top = np.empty((n_users, n), np.int32), np.empty((n_users, n), dtype)
    whole = np.empty(n_users, np.int64)
    kernels.topk_auc(Q, offsets, Y, bias, *_csr(exclude), *_csr(relevant), *NO_PROBES[dtype],
                     0, n_items, items, top, whole, 2)
    bounds = [0, 700, 901, n_items]
    cut = lambda rows, lo, hi: [row[(row >= lo) & (row < hi)] - lo for row in rows]  # noqa: E731
    scores = [[] for _ in range(n_users)]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        mine = cut(relevant, lo, hi)
        out = np.empty(sum(len(row) for row in mine), dtype)
        indptr, indices = _csr(mine)
        kernels.relevant_scores(Q, offsets, Y[lo:hi], bias[lo:hi], indptr, indices, out, 2)
        rows = np.repeat(np.arange(n_users), np.diff(indptr))
        np.testing.assert_allclose(out, reference.predict(Q, offsets, Y[lo:hi], bias[lo:hi], 0.0,
                                                          rows, indices.astype(np.int64)),
                                   rtol=rtol, atol=rtol)
        for q, part in enumerate(np.split(out, np.cumsum([len(row) for row in mine])[:-1])):
            scores[q].append(part)
    probes = [np.sort(np.concatenate(parts)) for parts in scores]
    probe_csr = (np.r_[0, np.cumsum([len(p) for p in probes])].astype(np.int64),
                 np.concatenate(probes).astype(dtype))
    total = np.zeros(n_users, np.int64)
    for part, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        part_items, part_top = np.empty((n_users, n), np.int32), np.empty((n_users, n), dtype)
        wins = np.empty(n_users, np.int64)
        part_exclude, part_relevant = cut(exclude, lo, hi), cut(relevant, lo, hi)
        kernels.topk_auc(Q, offsets, Y[lo:hi], bias[lo:hi], *_csr(part_exclude),
                         *_csr(part_relevant), *probe_csr, lo, n_items, part_items, part_top,
                         wins, 2)
        total += wins
        if not integer and dtype == np.float32:
            continue                # rounding may swap nearly equal scores against the twin
        part_scores = full[:, lo:hi].copy()          # a relevant item scores its probe
        for q, row in enumerate(part_relevant):
            part_scores[q, row] = scores[q][part]
        ref_items, ref_top = reference.topk(part_scores, part_exclude, n)
        np.testing.assert_allclose(part_top, ref_top, rtol=rtol, atol=rtol)
        np.testing.assert_array_equal(part_items, ref_items)
        np.testing.assert_array_equal(wins, reference.probe_wins(part_scores, part_exclude,
                                                                 probes))
    m = np.array([len(row) for row in relevant])
    np.testing.assert_array_equal(total - m * m, whole)


@pytest.mark.parametrize("n_queries", [1, 40])
@pytest.mark.parametrize("k", [16, 37])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_part_of_the_catalog_scores_its_items_as_the_whole_catalog(kernels, dtype, k,
                                                                    n_queries, rng):
    # Ranked as items lo..hi of the catalog (part=), every item of a part gets the bits the
    # whole catalog's ranking gives it, whichever chunks the part's ends cut: every item's
    # score from a top-n as long as the part (40 queries: blocks of 16, scored by products).
    n_items = 2100
    Q = rng.standard_normal((n_queries, k)).astype(dtype)
    Y, bias = rng.standard_normal((n_items, k)).astype(dtype), rng.standard_normal(n_items)
    offsets, bias = rng.standard_normal(n_queries).astype(dtype), bias.astype(dtype)
    none = (np.zeros(n_queries + 1, np.int64), np.zeros(0, np.int32))

    def every_score(lo, hi):
        items = np.empty((n_queries, hi - lo), np.int32)
        scores = np.empty((n_queries, hi - lo), dtype)
        kernels.topk_filtered(Q, offsets, Y[lo:hi], bias[lo:hi], True, none[1], *none,
                              np.zeros(0, np.int32), lo, n_items, items, scores, 2)
        out = np.empty_like(scores)
        np.put_along_axis(out, items.astype(np.int64), scores, 1)
        return out
    whole = every_score(0, n_items)
    for lo, hi in [(1000, n_items), (1001, 2090), (997, 1300), (513, 1024)]:
        np.testing.assert_array_equal(every_score(lo, hi), whole[:, lo:hi])


def _block_case(k, dtype, unobserved_weight, seed=0, n_items=40):
    """An implicit case in the block kernel's arguments: base = 1 - α0 (weights w = base +
    α v, negative for some pairs when α0 > 1), G = α0 YᵀY, one λ_u per row, a random X."""
    observed, conf_dense, indptr, indices, values, conf, Y = implicit_case(
        n_items=n_items, k=k, seed=seed, dtype=dtype)
    reg = (0.1 + 0.05 * (np.arange(observed.shape[0]) % 3)).astype(dtype)
    X0 = np.random.default_rng(seed + 1).normal(0, 0.3, (observed.shape[0], k)).astype(dtype)
    G = (unobserved_weight * (Y.T @ Y)).astype(dtype)
    args = (indptr, indices, values, dtype(ALPHA), dtype(1 - unobserved_weight), Y, G, reg)
    return observed, conf_dense, args, X0


@pytest.mark.parametrize("unobserved_weight", [1.0, 3.0])
@pytest.mark.parametrize("block_size", [1, 5, 8])
@pytest.mark.parametrize("k", [16, 37])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_block_step_matches_its_numpy_twin(kernels, dtype, rtol, k, block_size,
                                           unobserved_weight):
    observed, _, args, X0 = _block_case(k, dtype, unobserved_weight, seed=k)
    X = X0.copy()
    assert kernels.implicit_als_block_step(*args, X, block_size, 2) == -1
    as64 = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == dtype else a
            for a in args]
    twin = reference.implicit_block_step(*as64, X0.astype(np.float64), block_size)
    np.testing.assert_allclose(X, twin, rtol=rtol, atol=rtol)
    assert not X[3].any()                                          # the empty row


@pytest.mark.parametrize("extra", [0, 7])
@pytest.mark.parametrize("k", [16, 37])
@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_one_block_of_all_coordinates_is_the_exact_solve(kernels, dtype, rtol, k, extra):
    for unobserved_weight in (1.0, 3.0):
        observed, conf_dense, args, X0 = _block_case(k, dtype, unobserved_weight)
        X = X0.copy()
        assert kernels.implicit_als_block_step(*args, X, k + extra, 2) == -1
        reg = args[-1].astype(np.float64)
        exact = reference.implicit_exact_rows(observed, conf_dense, args[5].astype(np.float64),
                                              reg, unobserved_weight)
        np.testing.assert_allclose(X, exact, rtol=rtol, atol=rtol)
        # The same system as the Cholesky kernel's, so the same rows up to rounding.
        chol = np.zeros_like(X0)
        assert kernels.implicit_als_half_step(*args, _no_prior(args[5]), chol, 2) == -1
        np.testing.assert_allclose(X, chol, rtol=rtol, atol=rtol)


def test_the_batched_block_twin_is_the_row_by_row_one():
    _, _, args, X0 = _block_case(37, np.float64, 3.0, seed=3)
    np.testing.assert_allclose(
        reference.implicit_block_step_batched(*args, X0, 5, rows_at_once=7),
        reference.implicit_block_step(*args, X0, 5), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("unobserved_weight", [1.0, 3.0])
@pytest.mark.parametrize("block_size", [1, 5, 16])
def test_block_sweeps_never_increase_the_row_loss_and_reach_the_exact_solve(
        kernels, block_size, unobserved_weight):
    # 200 items keep the systems well conditioned (block Gauss-Seidel converges linearly).
    observed, conf_dense, args, X = _block_case(37, np.float64, unobserved_weight, seed=5,
                                                n_items=200)
    Y, reg = args[5], args[-1]
    exact = reference.implicit_exact_rows(observed, conf_dense, Y, reg, unobserved_weight)
    losses = [reference.implicit_row_losses(observed, conf_dense, X, Y, reg, unobserved_weight)]
    for _ in range(100):
        kernels.implicit_als_block_step(*args, X, block_size, 2)
        losses.append(reference.implicit_row_losses(observed, conf_dense, X, Y, reg,
                                                    unobserved_weight))
    losses = np.array(losses)
    assert (np.diff(losses, axis=0) <= 1e-12 * losses[:-1]).all()
    assert (losses[1] < losses[0]).all()
    np.testing.assert_allclose(X, exact, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype, rtol", TOLERANCES)
def test_block_step_on_many_rows_with_a_shorter_last_block(kernels, dtype, rtol):
    # 300 rows shared out among the threads block after block; k = 40 in blocks of 16 ends
    # with a block of 8.
    _, _, indptr, indices, values, _, Y = implicit_case(n_users=300, n_items=70, k=40,
                                                        seed=11, dtype=dtype)
    reg = (0.1 + 0.05 * (np.arange(300) % 3)).astype(dtype)
    args = (indptr, indices, values, dtype(ALPHA), dtype(-1.0), Y,
            (2.0 * (Y.T @ Y)).astype(dtype), reg)
    X0 = np.random.default_rng(12).normal(0, 0.3, (300, 40)).astype(dtype)
    X = X0.copy()
    assert kernels.implicit_als_block_step(*args, X, 16, 2) == -1
    as64 = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == dtype else a
            for a in args]
    twin = reference.implicit_block_step(*as64, X0.astype(np.float64), 16)
    np.testing.assert_allclose(X, twin, rtol=rtol, atol=rtol)


def test_block_step_reports_the_first_row_whose_block_system_is_not_positive_definite(kernels):
    # With G = 0 and every weight w = v - 1 of rows 1 and 3 negative, their first block's
    # system λ I - Σ |w| y_B y_Bᵀ is indefinite: they fail at once and keep their factors;
    # rows 0 and 2 (w = 2) are solved as by the twin.
    gen = np.random.default_rng(7)
    k, n_items = 12, 30
    Y = gen.normal(0, 1.0, (n_items, k))
    indices = np.concatenate([np.sort(gen.choice(n_items, 10, replace=False))
                              for _ in range(4)]).astype(np.int32)
    indptr = np.arange(0, 41, 10, dtype=np.int64)
    values = np.repeat([3.0, 0.5, 3.0, 0.5], 10)
    args = (indptr, indices, values, 1.0, -1.0, Y, np.zeros((k, k)), np.full(4, 0.01))
    X0 = gen.normal(0, 0.1, (4, k))
    X = X0.copy()
    assert kernels.implicit_als_block_step(*args, X, 4, 2) == 1
    np.testing.assert_array_equal(X[[1, 3]], X0[[1, 3]])
    twin = reference.implicit_block_step(*args, X0, 4)
    np.testing.assert_allclose(X[[0, 2]], twin[[0, 2]], rtol=1e-9, atol=1e-12)


def test_block_step_on_rows_longer_than_the_gather_buffer(kernels):
    # The long rows' block systems are summed a chunk of their items at a time (341 at
    # b = 24 in float64), with negative weights (base -1).
    gen = np.random.default_rng(4)
    indptr, indices, values, Y = _long_rows(gen)
    k = Y.shape[1]
    args = (indptr, indices, values, 0.5, -1.0, Y, 2 * Y.T @ Y, np.array([0.1, 0.2, 0.3]))
    X0 = gen.normal(0, 0.1, (3, k))
    X = X0.copy()
    assert kernels.implicit_als_block_step(*args, X, 24, 2) == -1
    np.testing.assert_allclose(X, reference.implicit_block_step(*args, X0, 24), rtol=1e-9,
                               atol=1e-12)
