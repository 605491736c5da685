// The only file that sees Python: a table of kernel bindings (module fastmf._core).
// Arrays are bound .noconvert(): a wrong dtype or layout is a TypeError, never a copy.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include "als.hpp"
#include "bpr.hpp"
#include "bpr_features.hpp"
#include "compiler.hpp"
#include "gram.hpp"
#include "implicit_als.hpp"
#include "implicit_block.hpp"
#include "sgd.hpp"
#include "simd.hpp"
#include "sparse.hpp"
#include "sums.hpp"
#include "topk.hpp"

#include <string>

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

// One side of BPR with features from its arrays (bpr_features.hpp); E and bias are the
// arrays' own memory (bound .noconvert(), C-contiguous), bias empty for none.
template <typename S>
fastmf::EmbeddingSide<S> embedding_side(fastmf::ConstVecRef<std::int64_t> indptr,
                                        fastmf::ConstVecRef<std::int32_t> indices,
                                        fastmf::ConstVecRef<S> weights, fastmf::RowRef<S> E,
                                        fastmf::VecRef<S> bias, std::int32_t n_own, S reg,
                                        S feature_reg) {
  return {indptr, indices, weights, E.data(), bias.size() ? bias.data() : nullptr,
          E.rows(), E.cols(), n_own, reg, feature_reg};
}

template <typename S>
fastmf::BprTotals bpr_feature_epoch(
    fastmf::ConstVecRef<std::int64_t> indptr, fastmf::ConstVecRef<std::int32_t> indices,
    fastmf::ConstVecRef<std::int32_t> user_of, fastmf::ConstVecRef<double> cdf,
    fastmf::ConstVecRef<std::int64_t> u_indptr, fastmf::ConstVecRef<std::int32_t> u_indices,
    fastmf::ConstVecRef<S> u_weights, fastmf::RowRef<S> U, std::int32_t u_own,
    fastmf::ConstVecRef<std::int64_t> i_indptr, fastmf::ConstVecRef<std::int32_t> i_indices,
    fastmf::ConstVecRef<S> i_weights, fastmf::RowRef<S> V, fastmf::VecRef<S> v_bias,
    std::int32_t i_own, S lr, S reg, S feature_reg, std::int64_t samples, std::uint64_t seed,
    int tries, int num_threads) {
  fastmf::Vector<S> none(0);
  const auto users = embedding_side<S>(u_indptr, u_indices, u_weights, U, none, u_own, reg,
                                       feature_reg);
  const auto items = embedding_side<S>(i_indptr, i_indices, i_weights, V, v_bias, i_own, reg,
                                       feature_reg);
  return fastmf::bpr_feature_epoch(indptr, indices, user_of, cdf, users, items, lr, samples,
                                   seed, tries, num_threads);
}

template <typename S>
fastmf::BprTotals bpr_feature_steps(
    fastmf::ConstVecRef<std::int32_t> u, fastmf::ConstVecRef<std::int32_t> i,
    fastmf::ConstVecRef<std::int32_t> j, fastmf::ConstVecRef<std::int64_t> u_indptr,
    fastmf::ConstVecRef<std::int32_t> u_indices, fastmf::ConstVecRef<S> u_weights,
    fastmf::RowRef<S> U, std::int32_t u_own, fastmf::ConstVecRef<std::int64_t> i_indptr,
    fastmf::ConstVecRef<std::int32_t> i_indices, fastmf::ConstVecRef<S> i_weights,
    fastmf::RowRef<S> V, fastmf::VecRef<S> v_bias, std::int32_t i_own, S lr, S reg,
    S feature_reg) {
  fastmf::Vector<S> none(0);
  const auto users = embedding_side<S>(u_indptr, u_indices, u_weights, U, none, u_own, reg,
                                       feature_reg);
  const auto items = embedding_side<S>(i_indptr, i_indices, i_weights, V, v_bias, i_own, reg,
                                       feature_reg);
  return fastmf::bpr_feature_steps(u, i, j, users, items, lr);
}

template <typename S>
void bind_dtype(py::module_& m) {
  m.def("als_half_step", &fastmf::als_half_step<S>, "indptr"_a.noconvert(),
        "indices"_a.noconvert(), "ratings"_a.noconvert(), "Y"_a.noconvert(),
        "y_bias"_a.noconvert(), "mu"_a, "row_reg"_a.noconvert(), "bias_reg"_a,
        "prior"_a.noconvert(), "X"_a.noconvert(), "x_bias"_a.noconvert(), "num_threads"_a,
        "row_sse"_a.noconvert() = Eigen::VectorXd(), py::call_guard<py::gil_scoped_release>());
  m.def("predict_pairs", &fastmf::predict_pairs<S>, "X"_a.noconvert(), "x_bias"_a.noconvert(),
        "Y"_a.noconvert(), "y_bias"_a.noconvert(), "mu"_a, "uidx"_a.noconvert(),
        "iidx"_a.noconvert(), "out"_a.noconvert(), "num_threads"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("row_squared_errors", &fastmf::row_squared_errors<S>, "indptr"_a.noconvert(),
        "indices"_a.noconvert(), "ratings"_a.noconvert(), "X"_a.noconvert(),
        "x_bias"_a.noconvert(), "Y"_a.noconvert(), "y_bias"_a.noconvert(), "mu"_a,
        "out"_a.noconvert(), "num_threads"_a, py::call_guard<py::gil_scoped_release>());
  m.def("coo_to_csr", &fastmf::coo_to_csr<S>, "rows"_a.noconvert(), "cols"_a.noconvert(),
        "data"_a.noconvert(), "indptr"_a.noconvert(), "out_indices"_a.noconvert(),
        "out_data"_a.noconvert(), "out_pos"_a.noconvert(), "num_threads"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("sgd_epoch", &fastmf::sgd_epoch<S>, "block_ptr"_a.noconvert(),
        "block_order"_a.noconvert(), "uidx"_a.noconvert(), "iidx"_a.noconvert(),
        "ratings"_a.noconvert(), "X"_a.noconvert(), "x_bias"_a.noconvert(), "Y"_a.noconvert(),
        "y_bias"_a.noconvert(), "mu"_a, "lr"_a, "reg"_a, "bias_reg"_a, "num_threads"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("sgd_block_layout", &fastmf::sgd_block_layout<S>, "indptr"_a.noconvert(),
        "indices"_a.noconvert(), "ratings"_a.noconvert(), "user_block"_a.noconvert(),
        "item_block"_a.noconvert(), "side"_a, "seed"_a, "block_ptr"_a.noconvert(),
        "out_uidx"_a.noconvert(), "out_iidx"_a.noconvert(), "out_ratings"_a.noconvert(),
        "num_threads"_a, py::call_guard<py::gil_scoped_release>());
  m.def("implicit_als_half_step", &fastmf::implicit_als_half_step<S>, "indptr"_a.noconvert(),
        "indices"_a.noconvert(), "values"_a.noconvert(), "alpha"_a, "base"_a, "Y"_a.noconvert(),
        "G"_a.noconvert(), "reg"_a.noconvert(), "prior"_a.noconvert(), "X"_a.noconvert(),
        "num_threads"_a, "alpha0"_a = S(1), "row_loss"_a.noconvert() = Eigen::VectorXd(),
        py::call_guard<py::gil_scoped_release>());
  m.def("implicit_als_cg_step", &fastmf::implicit_als_cg_step<S>, "indptr"_a.noconvert(),
        "indices"_a.noconvert(), "values"_a.noconvert(), "alpha"_a, "base"_a, "Y"_a.noconvert(),
        "G"_a.noconvert(), "reg"_a.noconvert(), "prior"_a.noconvert(), "X"_a.noconvert(),
        "steps"_a, "num_threads"_a, "alpha0"_a = S(1),
        "row_loss"_a.noconvert() = Eigen::VectorXd(), py::call_guard<py::gil_scoped_release>());
  m.def("implicit_als_block_step", &fastmf::implicit_als_block_step<S>, "indptr"_a.noconvert(),
        "indices"_a.noconvert(), "values"_a.noconvert(), "alpha"_a, "base"_a, "Y"_a.noconvert(),
        "G"_a.noconvert(), "reg"_a.noconvert(), "X"_a.noconvert(), "block_size"_a,
        "num_threads"_a, "alpha0"_a = S(1), "row_loss"_a.noconvert() = Eigen::VectorXd(),
        py::call_guard<py::gil_scoped_release>());
  m.def("topk_scores", &fastmf::topk_scores<S>, "Q"_a.noconvert(), "q_offset"_a.noconvert(),
        "Y"_a.noconvert(), "y_bias"_a.noconvert(), "exclude_indptr"_a.noconvert(),
        "exclude_indices"_a.noconvert(), "out_items"_a.noconvert(), "out_scores"_a.noconvert(),
        "num_threads"_a, py::call_guard<py::gil_scoped_release>());
  m.def("topk_filtered", &fastmf::topk_filtered<S>, "Q"_a.noconvert(), "q_offset"_a.noconvert(),
        "Y"_a.noconvert(), "y_bias"_a.noconvert(), "all_items"_a, "candidates"_a.noconvert(),
        "exclude_indptr"_a.noconvert(), "exclude_indices"_a.noconvert(),
        "exclude_shared"_a.noconvert(), "first_item"_a, "catalog_items"_a,
        "out_items"_a.noconvert(), "out_scores"_a.noconvert(), "num_threads"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("topk_auc", &fastmf::topk_auc<S>, "Q"_a.noconvert(), "q_offset"_a.noconvert(),
        "Y"_a.noconvert(), "y_bias"_a.noconvert(), "exclude_indptr"_a.noconvert(),
        "exclude_indices"_a.noconvert(), "relevant_indptr"_a.noconvert(),
        "relevant_indices"_a.noconvert(), "probe_indptr"_a.noconvert(),
        "probe_scores"_a.noconvert(), "first_item"_a, "catalog_items"_a,
        "out_items"_a.noconvert(), "out_scores"_a.noconvert(),
        "out_wins"_a.noconvert(), "num_threads"_a, py::call_guard<py::gil_scoped_release>());
  m.def("relevant_scores", &fastmf::relevant_scores<S>, "Q"_a.noconvert(),
        "q_offset"_a.noconvert(), "Y"_a.noconvert(), "y_bias"_a.noconvert(),
        "relevant_indptr"_a.noconvert(), "relevant_indices"_a.noconvert(), "out"_a.noconvert(),
        "num_threads"_a, py::call_guard<py::gil_scoped_release>());
  m.def("bpr_epoch", &fastmf::bpr_epoch<S>, "indptr"_a.noconvert(), "indices"_a.noconvert(),
        "user_of"_a.noconvert(), "cdf"_a.noconvert(), "X"_a.noconvert(), "Y"_a.noconvert(),
        "y_bias"_a.noconvert(), "lr"_a, "reg"_a, "samples"_a, "seed"_a, "tries"_a, "num_threads"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("bpr_steps", &fastmf::bpr_steps<S>, "u"_a.noconvert(), "i"_a.noconvert(),
        "j"_a.noconvert(), "X"_a.noconvert(), "Y"_a.noconvert(), "y_bias"_a.noconvert(), "lr"_a,
        "reg"_a, py::call_guard<py::gil_scoped_release>());
  m.def("bpr_feature_epoch", &bpr_feature_epoch<S>, "indptr"_a.noconvert(),
        "indices"_a.noconvert(), "user_of"_a.noconvert(), "cdf"_a.noconvert(),
        "u_indptr"_a.noconvert(), "u_indices"_a.noconvert(), "u_weights"_a.noconvert(),
        "U"_a.noconvert(), "u_own"_a, "i_indptr"_a.noconvert(), "i_indices"_a.noconvert(),
        "i_weights"_a.noconvert(), "V"_a.noconvert(), "v_bias"_a.noconvert(), "i_own"_a,
        "lr"_a, "reg"_a, "feature_reg"_a, "samples"_a, "seed"_a, "tries"_a, "num_threads"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("bpr_feature_steps", &bpr_feature_steps<S>, "u"_a.noconvert(), "i"_a.noconvert(),
        "j"_a.noconvert(), "u_indptr"_a.noconvert(), "u_indices"_a.noconvert(),
        "u_weights"_a.noconvert(), "U"_a.noconvert(), "u_own"_a, "i_indptr"_a.noconvert(),
        "i_indices"_a.noconvert(), "i_weights"_a.noconvert(), "V"_a.noconvert(),
        "v_bias"_a.noconvert(), "i_own"_a, "lr"_a, "reg"_a, "feature_reg"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("gram_chunks", &fastmf::gram_chunks<S>, "Y"_a.noconvert(), "chunk"_a,
        "out"_a.noconvert(), "num_threads"_a, py::call_guard<py::gil_scoped_release>());
  m.def("row_squared_norms", &fastmf::row_squared_norms<S>, "A"_a.noconvert(),
        "out"_a.noconvert(), "num_threads"_a, py::call_guard<py::gil_scoped_release>());
}

// What this build was compiled for and by (fastmf.show_config).
py::dict build_info() {
  py::dict info;
#if defined(__clang__)
  info["compiler"] = std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  info["compiler"] = std::string("GCC ") + __VERSION__;
#elif defined(_MSC_VER)
  info["compiler"] = "MSVC " + std::to_string(_MSC_FULL_VER);
#else
  info["compiler"] = "unknown";
#endif
#if defined(__AVX512F__)
  info["instructions"] = "AVX-512";
#elif defined(__AVX2__)
  info["instructions"] = "AVX2";
#elif defined(__AVX__)
  info["instructions"] = "AVX";
#elif defined(__aarch64__) || defined(_M_ARM64)
  info["instructions"] = "NEON";
#elif defined(__x86_64__) || defined(_M_X64)
  info["instructions"] = "SSE2";
#else
  info["instructions"] = "baseline";
#endif
#if defined(FASTMF_NATIVE_BUILD)
  info["native"] = true;
#else
  info["native"] = false;
#endif
  info["simd_bytes"] = fastmf::kSimdBytes;
  info["compiler_extensions"] = bool(FASTMF_GNU_EXTENSIONS);
  info["eigen"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                  "." + std::to_string(EIGEN_MINOR_VERSION);
  info["eigen_simd"] = Eigen::SimdInstructionSetsInUse();
  info["openmp"] = _OPENMP;
  return info;
}

py::dict cpu_features() {
  const fastmf::CpuFeatures f = fastmf::cpu_features();
  py::dict out;
  out["avx"] = f.avx;
  out["fma"] = f.fma;
  out["avx2"] = f.avx2;
  out["avx512f"] = f.avx512f;
  out["avx512cd"] = f.avx512cd;
  out["avx512bw"] = f.avx512bw;
  out["avx512dq"] = f.avx512dq;
  out["avx512vl"] = f.avx512vl;
  out["os_ymm"] = f.os_ymm;
  out["os_zmm"] = f.os_zmm;
  return out;
}

}  // namespace

// FASTMF_MODULE is the extension's name (_core_portable, _core_avx2 or _core_avx512); the
// extra macro level expands it before pybind11 pastes it into PyInit_<name>.
#define FASTMF_DEFINE_MODULE(name, variable) PYBIND11_MODULE(name, variable)

FASTMF_DEFINE_MODULE(FASTMF_MODULE, m) {
  m.doc() = "fastmf's C++ kernels (Eigen, OpenMP); see cpp/*.hpp for each kernel's contract";
  bind_dtype<double>(m);
  bind_dtype<float>(m);
  m.def("bpr_draws", &fastmf::bpr_draws, "indptr"_a.noconvert(), "indices"_a.noconvert(),
        "user_of"_a.noconvert(), "cdf"_a.noconvert(), "n_items"_a, "seed"_a, "tries"_a, "first"_a,
        "out_u"_a.noconvert(), "out_i"_a.noconvert(), "out_j"_a.noconvert(),
        py::call_guard<py::gil_scoped_release>());
  m.def("exact_sum_digits", &fastmf::exact_sum_digits, "x"_a.noconvert(),
        "digits"_a.noconvert(), py::call_guard<py::gil_scoped_release>());
  m.def("max_threads", [] { return fastmf::resolve_threads(0); },
        "Threads a kernel uses when num_threads is 0");
  m.def("thread_cap", &fastmf::thread_cap, "The most threads a kernel starts");
  m.def("cpu_has_avx2_fma", &fastmf::cpu_has_avx2_fma,
        "Whether this CPU runs the AVX2+FMA kernels");
  m.def("cpu_has_avx512", &fastmf::cpu_has_avx512,
        "Whether this CPU runs the AVX-512 kernels (AVX512F/CD/BW/DQ/VL, ZMM state saved)");
  m.def("cpu_features", &cpu_features,
        "The CPU's vector extensions and the register states the OS saves (CPUID, XGETBV)");
  m.def("build_info", &build_info, "The compiler, instructions and libraries of this build");
}
