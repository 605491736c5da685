"""The Python side of the C++ kernels: one module per family of ``cpp/``, each the only caller
of its ``_core`` functions. It hands them arrays that meet the contract written above each
kernel (exact dtype, C order, scalars in the model dtype), allocates what they write, and
holds the family's arithmetic around them (row regularization, the parts of the loss), so
that a fit on one machine and the tasks of ``fastmf.distributed`` compute the same bits.

==================  ========================================  ================================
module              cpp/                                      kernels
==================  ========================================  ================================
``common``          common.hpp                                max_threads, thread_cap
``sparse``          sparse.hpp                                coo_to_csr
``gram``            gram.hpp                                  gram_chunks
``als``             als.hpp (ALS, and SGD's loss)             als_half_step, predict_pairs,
                                                              row_squared_errors
``implicit_als``    implicit_als.hpp, implicit_block.hpp      implicit_als_half_step,
                                                              implicit_als_cg_step,
                                                              implicit_als_block_step
``sgd``             sgd.hpp                                   sgd_epoch
``bpr``             bpr.hpp (and BPR's Newton fold-in)        bpr_epoch
``topk``            topk.hpp                                  topk_filtered, topk_auc
``arrays``          (none: aligned arrays and exact sums)
==================  ========================================  ================================

``_core`` exports three kernels that only tests call: ``bpr_draws`` and ``bpr_steps`` (the
sampler and the steps of ``bpr_epoch`` on their own) and ``topk_scores`` (the top-n without
filters); tests/test_kernels.py checks each against its numpy twin. ``_config`` reads the
build's own functions (``cpu_features``, ``build_info``, ...).
"""
