// Shared types and helpers for the fastmf kernels: row-major matrices that map numpy
// arrays without a copy, a read-only CSR view, thread-count resolution, the "first failing
// row" record that kernels return instead of throwing, and the guard that carries an
// exception out of a parallel region.
#pragma once

#include "compiler.hpp"

#include <Eigen/Dense>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>

namespace fastmf {

using Index = Eigen::Index;

template <typename S>
using RowMatrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <typename S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;

template <typename S>
using RowRef = Eigen::Ref<RowMatrix<S>>;
template <typename S>
using ConstRowRef = Eigen::Ref<const RowMatrix<S>>;
template <typename S>
using VecRef = Eigen::Ref<Vector<S>>;
template <typename S>
using ConstVecRef = Eigen::Ref<const Vector<S>>;

// A compressed sparse row matrix owned by numpy: indptr (int64), indices (int32), data.
template <typename S>
struct CsrView {
  ConstVecRef<std::int64_t> indptr;
  ConstVecRef<std::int32_t> indices;
  ConstVecRef<S> data;

  Index rows() const { return indptr.size() - 1; }
  std::int64_t begin(Index r) const { return indptr[r]; }
  std::int64_t end(Index r) const { return indptr[r + 1]; }
  std::int64_t count(Index r) const { return indptr[r + 1] - indptr[r]; }
};

// The most threads a kernel starts: 4 per core, at least 64. More never helps, and OpenMP
// ends the process when it cannot start the threads it is asked for; Python refuses a
// larger num_threads, and a larger OMP_NUM_THREADS is capped here.
inline int thread_cap() { return std::max(64, 4 * omp_get_num_procs()); }

// 0 (or less) means every thread OpenMP offers (which honours OMP_NUM_THREADS), capped.
inline int resolve_threads(int num_threads) {
  return std::min(num_threads > 0 ? num_threads : omp_get_max_threads(), thread_cap());
}

// Records the smallest row index that failed inside a parallel loop; exceptions must not
// leave an OpenMP region, so kernels return this and Python raises.
class FirstFailure {
 public:
  void record(std::int64_t row) {
    std::int64_t current = first_.load();
    while ((current < 0 || row < current) && !first_.compare_exchange_weak(current, row)) {
    }
  }
  std::int64_t row() const { return first_.load(); }

 private:
  std::atomic<std::int64_t> first_{-1};
};

// An exception must not leave an OpenMP region: the runtime would end the process. Work in
// a region runs through guard.run(work), which keeps the first exception thrown (a
// std::bad_alloc of scratch memory, say) and skips all later work once one is kept; after
// the region, guard.rethrow() throws it on the calling thread, where pybind11 turns it
// into a Python exception (MemoryError for std::bad_alloc). Every thread must still meet
// each worksharing loop, so a region allocates its scratch through run() too and its loop
// bodies, which use the scratch, also go through run():
//   ParallelGuard guard;
//   #pragma omp parallel
//   { std::optional<Scratch> w; guard.run([&] { w.emplace(k); });
//     #pragma omp for
//     for (...) guard.run([&] { body(*w); }); }
//   guard.rethrow();
class ParallelGuard {
 public:
  template <typename Work>
  void run(Work&& work) noexcept {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      work();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      failed_.store(true);
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::exception_ptr error_;
};

// Rows gathered by index (the other side's factors in an ALS step) are scattered over a
// matrix larger than the caches; asking for a row a few gathers ahead (prefetch,
// compiler.hpp) hides the latency.
constexpr Index kPrefetchAhead = 8;

// Every cache line of the n values from p: a span that does not start on a line boundary
// (numpy aligns arrays to 16 bytes) spans one line more than its length in lines.
template <typename S>
FASTMF_ALWAYS_INLINE void prefetch_span(const S* p, Index n,
                                        PrefetchTarget target = kPrefetchToL1) {
  constexpr std::uintptr_t kLine = 64;
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  const auto end = begin + n * sizeof(S);
  for (std::uintptr_t line = begin & ~(kLine - 1); line < end; line += kLine) {
    prefetch(reinterpret_cast<const void*>(line), target);
  }
}

template <typename Mat>
FASTMF_ALWAYS_INLINE void prefetch_row(const Mat& M, Index row,
                                       PrefetchTarget target = kPrefetchToL1) {
  prefetch_span(M.row(row).data(), M.cols(), target);
}

}  // namespace fastmf
