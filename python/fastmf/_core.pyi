"""The C++ kernels of the build in use (cpp/bindings.cpp; each kernel's contract is written
above it in cpp/*.hpp). Array arguments are bound without conversion: each must be
C-contiguous with exactly the dtype shown. ``_F`` is float32 or float64, the same in every
argument of one call (the model dtype); the float arguments are converted to it."""
from typing import Dict, Tuple, TypeVar, Union

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", bound=Union[np.float32, np.float64])
_I32 = NDArray[np.int32]
_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]

variant: str
"""The build in use: "avx512", "avx2" or "portable" (FASTMF_KERNELS forces one)."""
reason: str
"""Why that build: the best installed one this CPU runs, or FASTMF_KERNELS."""
builds: Tuple[str, ...]
"""The builds installed, best first."""
ENVIRONMENT_VARIABLE: str

def installed_builds() -> Tuple[str, ...]:
    """The builds installed, best first."""

def cpu_runs(name: str) -> bool:
    """Whether this CPU can run the build `name`."""

def als_half_step(indptr: _I64, indices: _I32, ratings: NDArray[_F], Y: NDArray[_F],
                  y_bias: NDArray[_F], mu: float, row_reg: NDArray[_F], bias_reg: float,
                  prior: NDArray[_F], X: NDArray[_F], x_bias: NDArray[_F],
                  num_threads: int, row_sse: _F64 = ...) -> int:
    """Solve every row of X and x_bias with Y fixed (row_sse, unless empty: each row's squared
    residuals after it); -1 or the first row that failed."""

def predict_pairs(X: NDArray[_F], x_bias: NDArray[_F], Y: NDArray[_F], y_bias: NDArray[_F],
                  mu: float, uidx: _I64, iidx: _I64, out: NDArray[_F],
                  num_threads: int) -> None:
    """out[j] = mu + x_bias[u] + y_bias[i] + X[u]·Y[i] for (u, i) = (uidx[j], iidx[j])."""

def row_squared_errors(indptr: _I64, indices: _I32, ratings: NDArray[_F], X: NDArray[_F],
                       x_bias: NDArray[_F], Y: NDArray[_F], y_bias: NDArray[_F], mu: float,
                       out: _F64, num_threads: int) -> None:
    """out[u] = the sum of squared residuals of row u of the ratings CSR."""

def coo_to_csr(rows: _I32, cols: _I32, data: NDArray[_F], indptr: _I64, out_indices: _I32,
               out_data: NDArray[_F], out_pos: _I64, num_threads: int) -> None:
    """Scatter COO entries into a CSR with the given indptr, each row sorted by column."""

def sgd_epoch(block_ptr: _I64, block_order: _I32, uidx: _I32, iidx: _I32,
              ratings: NDArray[_F], X: NDArray[_F], x_bias: NDArray[_F], Y: NDArray[_F],
              y_bias: NDArray[_F], mu: float, lr: float, reg: float, bias_reg: float,
              num_threads: int) -> float:
    """One SGD epoch over the ratings block by block; returns the sum of squared errors."""

def sgd_block_layout(indptr: _I64, indices: _I32, ratings: NDArray[_F], user_block: _I32,
                     item_block: _I32, side: int, seed: int, block_ptr: _I64, out_uidx: _I32,
                     out_iidx: _I32, out_ratings: NDArray[_F], num_threads: int) -> None:
    """The ratings grouped by SGD block (a stable counting scatter), each block shuffled."""

def implicit_als_half_step(indptr: _I64, indices: _I32, values: NDArray[_F], alpha: float,
                           base: float, Y: NDArray[_F], G: NDArray[_F], reg: NDArray[_F],
                           prior: NDArray[_F], X: NDArray[_F], num_threads: int,
                           alpha0: float = ..., row_loss: _F64 = ...) -> int:
    """Solve every row of X by Cholesky (shrunk toward prior; empty: 0; row_loss, unless
    empty: each row's observed loss after it); -1 or the first row that failed."""

def implicit_als_cg_step(indptr: _I64, indices: _I32, values: NDArray[_F], alpha: float,
                         base: float, Y: NDArray[_F], G: NDArray[_F], reg: NDArray[_F],
                         prior: NDArray[_F], X: NDArray[_F], steps: int, num_threads: int,
                         alpha0: float = ..., row_loss: _F64 = ...) -> None:
    """Improve every row of X by `steps` conjugate-gradient iterations (shrunk toward prior;
    empty: 0; row_loss as for implicit_als_half_step)."""

def implicit_als_block_step(indptr: _I64, indices: _I32, values: NDArray[_F], alpha: float,
                            base: float, Y: NDArray[_F], G: NDArray[_F], reg: NDArray[_F],
                            X: NDArray[_F], block_size: int, num_threads: int,
                            alpha0: float = ..., row_loss: _F64 = ...) -> int:
    """One block-coordinate sweep per row of X (iALS++; row_loss as for
    implicit_als_half_step); -1 or the first row that failed."""

def topk_scores(Q: NDArray[_F], q_offset: NDArray[_F], Y: NDArray[_F], y_bias: NDArray[_F],
                exclude_indptr: _I64, exclude_indices: _I32, out_items: _I32,
                out_scores: NDArray[_F], num_threads: int) -> None:
    """The best out_items.shape[1] items of each query row, best first, excluded ones left out."""

def topk_filtered(Q: NDArray[_F], q_offset: NDArray[_F], Y: NDArray[_F], y_bias: NDArray[_F],
                  all_items: bool, candidates: _I32, exclude_indptr: _I64, exclude_indices: _I32,
                  exclude_shared: _I32, first_item: int, catalog_items: int, out_items: _I32,
                  out_scores: NDArray[_F], num_threads: int) -> None:
    """The best out_items.shape[1] of the candidates (every item when all_items) per query
    row, best first; each row's excluded items and exclude_shared left out; -1 / -inf pad.
    Y: items first_item.. of a catalog of catalog_items, scored as the whole would be."""

def topk_auc(Q: NDArray[_F], q_offset: NDArray[_F], Y: NDArray[_F], y_bias: NDArray[_F],
             exclude_indptr: _I64, exclude_indices: _I32, relevant_indptr: _I64,
             relevant_indices: _I32, probe_indptr: _I64, probe_scores: NDArray[_F],
             first_item: int, catalog_items: int, out_items: _I32, out_scores: NDArray[_F],
             out_wins: _I64,
             num_threads: int) -> None:
    """topk_scores over every item, and out_wins[q] = twice the Mann-Whitney U of row q's
    relevant items against its other items (neither excluded nor relevant): AUC is
    out_wins / (2 n_relevant n_other). Rows sorted ascending, no item both excluded and
    relevant. With probes (a CSR of sorted relevant_scores; empty: none), Y is one part of
    the catalog: its items are counted against the probes, the probes' m² against
    themselves left in out_wins."""

def relevant_scores(Q: NDArray[_F], q_offset: NDArray[_F], Y: NDArray[_F],
                    y_bias: NDArray[_F], relevant_indptr: _I64, relevant_indices: _I32,
                    out: NDArray[_F], num_threads: int) -> None:
    """out[e]: the score topk_auc gives the relevant item of entry e (one dot product)."""

def bpr_epoch(indptr: _I64, indices: _I32, user_of: _I32, cdf: _F64, X: NDArray[_F],
              Y: NDArray[_F], y_bias: NDArray[_F], lr: float, reg: float, samples: int,
              seed: int, tries: int, num_threads: int) -> Tuple[float, int, int]:
    """One Hogwild BPR epoch; returns (objective, ordered steps, steps taken)."""

def bpr_steps(u: _I32, i: _I32, j: _I32, X: NDArray[_F], Y: NDArray[_F], y_bias: NDArray[_F],
              lr: float, reg: float) -> Tuple[float, int, int]:
    """The BPR steps on the given triples, in order; returns the totals as bpr_epoch does."""

def bpr_feature_epoch(indptr: _I64, indices: _I32, user_of: _I32, cdf: _F64, u_indptr: _I64,
                      u_indices: _I32, u_weights: NDArray[_F], U: NDArray[_F], u_own: int,
                      i_indptr: _I64, i_indices: _I32, i_weights: NDArray[_F], V: NDArray[_F],
                      v_bias: NDArray[_F], i_own: int, lr: float, reg: float,
                      feature_reg: float, samples: int, seed: int, tries: int,
                      num_threads: int) -> Tuple[float, int, int]:
    """bpr_epoch with rows that sum weighted embeddings (LightFM's formulation)."""

def bpr_feature_steps(u: _I32, i: _I32, j: _I32, u_indptr: _I64, u_indices: _I32,
                      u_weights: NDArray[_F], U: NDArray[_F], u_own: int, i_indptr: _I64,
                      i_indices: _I32, i_weights: NDArray[_F], V: NDArray[_F],
                      v_bias: NDArray[_F], i_own: int, lr: float, reg: float,
                      feature_reg: float) -> Tuple[float, int, int]:
    """The steps of bpr_feature_epoch on the given triples, in order."""

def bpr_draws(indptr: _I64, indices: _I32, user_of: _I32, cdf: _F64, n_items: int, seed: int,
              tries: int, first: int, out_u: _I32, out_i: _I32, out_j: _I32) -> None:
    """The (user, positive, negative) triples bpr_epoch draws for samples first, first + 1, ..."""

def gram_chunks(Y: NDArray[_F], chunk: int, out: NDArray[_F], num_threads: int) -> None:
    """Rows [c k, (c + 1) k) of out = Y_cᵀ Y_c for the c-th chunk of `chunk` rows of Y."""

def row_squared_norms(A: NDArray[_F], out: _F64, num_threads: int) -> None:
    """out[r] = Σ_f A[r, f]² in float64: four partial sums (f mod 4), then
    (s0 + s1) + (s2 + s3)."""

def exact_sum_digits(x: _F64, digits: NDArray[np.int64]) -> bool:
    """Add the signed 18-bit digits of x's mantissas into digits[d, biased exponent]
    (3 x 2048 int64); False at the first value that is not finite."""

def max_threads() -> int:
    """Threads a kernel uses when num_threads is 0."""

def thread_cap() -> int:
    """The most threads a kernel starts."""

def cpu_has_avx2_fma() -> bool:
    """Whether this CPU runs the AVX2+FMA kernels."""

def cpu_has_avx512() -> bool:
    """Whether this CPU runs the AVX-512 kernels (AVX512F/CD/BW/DQ/VL, ZMM state saved)."""

def cpu_features() -> Dict[str, bool]:
    """The CPU's vector extensions (avx, fma, avx2, avx512f/cd/bw/dq/vl) and the register
    states the operating system saves (os_ymm, os_zmm)."""

def build_info() -> Dict[str, Union[str, int, bool]]:
    """This build's compiler, instructions, SIMD vector bytes, Eigen and OpenMP versions."""
