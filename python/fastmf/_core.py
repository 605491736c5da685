"""The C++ kernels (see cpp/*.hpp for each one's contract, _core.pyi for the signatures).

Two builds of the same source ship with fastmf: ``_core_portable`` (baseline flags) and,
on x86-64, ``_core_avx2`` (AVX2 + FMA). The second is used when the CPU supports it; set
the environment variable ``FASTMF_KERNELS=portable`` before import to force the first.
``variant`` says which one is in use. The names below are the chosen build's functions.
"""
import os

from . import _core_portable


def _select():
    if os.environ.get("FASTMF_KERNELS", "auto") != "portable" and _core_portable.cpu_has_avx2_fma():
        try:
            from . import _core_avx2
            return "avx2", _core_avx2
        except ImportError:          # built without it (FASTMF_NATIVE, non-x86 compilers)
            pass
    return "portable", _core_portable


variant, _kernels = _select()

# Explicit ALS (cpp/als.hpp) and SGD (cpp/sgd.hpp)
als_half_step = _kernels.als_half_step
predict_pairs = _kernels.predict_pairs
row_squared_errors = _kernels.row_squared_errors
sgd_epoch = _kernels.sgd_epoch
# Implicit ALS (cpp/implicit_als.hpp) and Gram matrices (cpp/gram.hpp)
implicit_als_half_step = _kernels.implicit_als_half_step
implicit_als_cg_step = _kernels.implicit_als_cg_step
implicit_observed_loss = _kernels.implicit_observed_loss
gram_chunks = _kernels.gram_chunks
# Implicit ALS by blocks of coordinates, iALS++ (cpp/implicit_block.hpp)
implicit_als_block_step = _kernels.implicit_als_block_step
# BPR (cpp/bpr.hpp)
bpr_epoch = _kernels.bpr_epoch
bpr_steps = _kernels.bpr_steps
bpr_draws = _kernels.bpr_draws
# Serving and evaluation (cpp/topk.hpp) and data (cpp/sparse.hpp)
topk_scores = _kernels.topk_scores
topk_filtered = _kernels.topk_filtered
topk_auc = _kernels.topk_auc
coo_to_csr = _kernels.coo_to_csr
# Threads (cpp/common.hpp) and the CPU (cpp/compiler.hpp)
max_threads = _kernels.max_threads
thread_cap = _kernels.thread_cap
cpu_has_avx2_fma = _kernels.cpu_has_avx2_fma

__all__ = [
    "variant",
    "als_half_step", "predict_pairs", "row_squared_errors", "sgd_epoch",
    "implicit_als_half_step", "implicit_als_cg_step", "implicit_observed_loss", "gram_chunks",
    "implicit_als_block_step",
    "bpr_epoch", "bpr_steps", "bpr_draws",
    "topk_scores", "topk_filtered", "topk_auc", "coo_to_csr",
    "max_threads", "thread_cap", "cpu_has_avx2_fma",
]
