"""The C++ kernels (see cpp/*.hpp for each one's contract, _core.pyi for the signatures).

The same source is compiled into several builds (cpp/CMakeLists.txt): ``_core_portable``
(baseline flags) and, on x86-64, ``_core_avx2`` (AVX2 + FMA) and ``_core_avx512``
(AVX-512 F/CD/BW/DQ/VL, 64-byte vectors). At import the best build that is installed and
that the CPU runs is chosen (the CPU query is the portable build's ``cpu_has_avx512`` and
``cpu_has_avx2_fma``: CPUID, and XGETBV for the register states the operating system
saves). The environment variable ``FASTMF_KERNELS`` (``avx512``, ``avx2`` or ``portable``;
``auto`` or unset: choose) forces one. A value that names no build, or a build that is not
installed or that this CPU cannot run, raises a RuntimeError at import: the variable is
set to measure or to report on one build, and a fallback would quietly run another (and a
build the CPU lacks would end the process at its first instruction). ``variant`` says
which build is in use, ``reason`` why, ``builds`` which are installed;
``fastmf.show_config()`` prints it all. The names below are the chosen build's functions.
"""
import importlib
import importlib.util
import os

from . import _core_portable

# Best first: what each build needs of the CPU.
_NEEDS = {
    "avx512": ("AVX-512 F/CD/BW/DQ/VL with the ZMM state enabled by the OS", "cpu_has_avx512"),
    "avx2": ("AVX2 and FMA with the YMM state enabled by the OS", "cpu_has_avx2_fma"),
    "portable": ("nothing beyond the baseline", None),
}
ENVIRONMENT_VARIABLE = "FASTMF_KERNELS"


def installed_builds():
    """The kernel builds installed beside this module, best first."""
    return tuple(name for name in _NEEDS
                 if importlib.util.find_spec(f"{__package__}._core_{name}") is not None)


def cpu_runs(name):
    """Whether this CPU can run the build `name` (whether or not it is installed)."""
    query = _NEEDS[name][1]
    return query is None or bool(getattr(_core_portable, query)())


def _select():
    """(variant, module, reason) for FASTMF_KERNELS and this CPU."""
    builds = installed_builds()
    asked = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if asked in ("", "auto"):
        name = next(name for name in builds if cpu_runs(name))
        how = "the best installed build this CPU runs"
        if name != builds[0]:
            how += f" (it lacks {_NEEDS[builds[0]][0]} for {builds[0]})"
        setting = f"{ENVIRONMENT_VARIABLE}={asked}" if asked else f"{ENVIRONMENT_VARIABLE} unset"
        return name, importlib.import_module(f"{__package__}._core_{name}"), f"{how}; {setting}"
    fix = (f"unset {ENVIRONMENT_VARIABLE} (or set it to 'auto') to use the best build this "
           f"CPU runs, or set it to one of: "
           + ", ".join(repr(name) for name in builds if cpu_runs(name)))
    if asked not in _NEEDS:
        raise RuntimeError(f"{ENVIRONMENT_VARIABLE}={asked!r} names no kernel build; the "
                           f"builds are {', '.join(map(repr, _NEEDS))}: {fix}")
    if asked not in builds:
        raise RuntimeError(f"{ENVIRONMENT_VARIABLE}={asked!r}: that kernel build is not "
                           f"installed here (installed: {', '.join(builds)}); {fix}")
    if not cpu_runs(asked):
        raise RuntimeError(f"{ENVIRONMENT_VARIABLE}={asked!r}: this CPU cannot run that "
                           f"build, which needs {_NEEDS[asked][0]}; {fix}")
    return (asked, importlib.import_module(f"{__package__}._core_{asked}"),
            f"forced by {ENVIRONMENT_VARIABLE}={asked}")


variant, _kernels, reason = _select()
builds = installed_builds()

# Explicit ALS (cpp/als.hpp) and SGD (cpp/sgd.hpp)
als_half_step = _kernels.als_half_step
predict_pairs = _kernels.predict_pairs
row_squared_errors = _kernels.row_squared_errors
sgd_epoch = _kernels.sgd_epoch
sgd_block_layout = _kernels.sgd_block_layout
# Implicit ALS (cpp/implicit_als.hpp) and Gram matrices (cpp/gram.hpp)
implicit_als_half_step = _kernels.implicit_als_half_step
implicit_als_cg_step = _kernels.implicit_als_cg_step
gram_chunks = _kernels.gram_chunks
# The sums of the training losses (cpp/sums.hpp)
row_squared_norms = _kernels.row_squared_norms
exact_sum_digits = _kernels.exact_sum_digits
# Implicit ALS by blocks of coordinates, iALS++ (cpp/implicit_block.hpp)
implicit_als_block_step = _kernels.implicit_als_block_step
# BPR (cpp/bpr.hpp)
bpr_epoch = _kernels.bpr_epoch
bpr_steps = _kernels.bpr_steps
bpr_draws = _kernels.bpr_draws
# BPR with side features (cpp/bpr_features.hpp)
bpr_feature_epoch = _kernels.bpr_feature_epoch
bpr_feature_steps = _kernels.bpr_feature_steps
# Serving and evaluation (cpp/topk.hpp) and data (cpp/sparse.hpp)
topk_scores = _kernels.topk_scores
topk_filtered = _kernels.topk_filtered
topk_auc = _kernels.topk_auc
relevant_scores = _kernels.relevant_scores
coo_to_csr = _kernels.coo_to_csr
# Threads (cpp/common.hpp), the CPU (cpp/compiler.hpp) and the build (cpp/bindings.cpp)
max_threads = _kernels.max_threads
thread_cap = _kernels.thread_cap
cpu_has_avx2_fma = _kernels.cpu_has_avx2_fma
cpu_has_avx512 = _kernels.cpu_has_avx512
cpu_features = _kernels.cpu_features
build_info = _kernels.build_info

__all__ = [
    "variant", "reason", "builds", "installed_builds", "cpu_runs", "ENVIRONMENT_VARIABLE",
    "als_half_step", "predict_pairs", "row_squared_errors", "sgd_epoch", "sgd_block_layout",
    "implicit_als_half_step", "implicit_als_cg_step", "gram_chunks",
    "implicit_als_block_step", "row_squared_norms", "exact_sum_digits",
    "bpr_epoch", "bpr_steps", "bpr_draws", "bpr_feature_epoch", "bpr_feature_steps",
    "topk_scores", "topk_filtered", "topk_auc", "relevant_scores", "coo_to_csr",
    "max_threads", "thread_cap", "cpu_has_avx2_fma", "cpu_has_avx512", "cpu_features",
    "build_info",
]
