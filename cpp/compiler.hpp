// Everything in fastmf's C++ that is not standard C++17, each beside the plain version
// that any C++17 compiler (MSVC included) builds: GCC/Clang vector types for the SIMD
// kernels (simd.hpp), hints for inlining, aliasing and loop unrolling, cache prefetches,
// and the CPU query that picks the AVX2 build (GCC/Clang builtins, MSVC's __cpuid). No
// other file uses a compiler extension.
//
// The extensions are used with GCC and Clang (both define __GNUC__). Define
// FASTMF_NO_COMPILER_EXTENSIONS to build the plain versions with them too, e.g.
//   CXXFLAGS=-DFASTMF_NO_COMPILER_EXTENSIONS pip install .
// (.ci/plain-cxx builds so and runs the kernel tests). The CPU query is not kernel code and
// keeps its GCC/Clang form under the switch, so both kernel builds still load.
#pragma once

#include <cstddef>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#endif

#if defined(__GNUC__) && !defined(FASTMF_NO_COMPILER_EXTENSIONS)
#define FASTMF_GNU_EXTENSIONS 1
#else
#define FASTMF_GNU_EXTENSIONS 0
#endif

#if FASTMF_GNU_EXTENSIONS
#define FASTMF_ALWAYS_INLINE inline __attribute__((always_inline))
#define FASTMF_NOINLINE __attribute__((noinline))
#define FASTMF_RESTRICT __restrict
#define FASTMF_PRAGMA(text) _Pragma(#text)
#define FASTMF_UNROLL(n) FASTMF_PRAGMA(GCC unroll n)
#else
#define FASTMF_ALWAYS_INLINE inline
#define FASTMF_NOINLINE
#define FASTMF_RESTRICT
#define FASTMF_UNROLL(n)
#endif

namespace fastmf {

// VectorOf<S, Bytes>: Bytes / sizeof(S) lanes of S with lane-wise +, -, *, unary minus,
// a scalar on either side of *, compound assignment, v[lane] to read or write a lane and
// V{} for zeros. Loads and stores go through std::memcpy (simd.hpp).
#if FASTMF_GNU_EXTENSIONS

template <typename S, int Bytes>
struct VectorType {
  typedef S type __attribute__((vector_size(Bytes)));
};

#else

template <typename S, int N>
struct Lanes {
  S lane[N];

  S& operator[](std::ptrdiff_t i) { return lane[i]; }
  S operator[](std::ptrdiff_t i) const { return lane[i]; }

  Lanes& operator+=(const Lanes& o) {
    for (int i = 0; i < N; ++i) lane[i] += o.lane[i];
    return *this;
  }
  Lanes& operator-=(const Lanes& o) {
    for (int i = 0; i < N; ++i) lane[i] -= o.lane[i];
    return *this;
  }
  Lanes& operator*=(const Lanes& o) {
    for (int i = 0; i < N; ++i) lane[i] *= o.lane[i];
    return *this;
  }
  Lanes& operator*=(S s) {
    for (int i = 0; i < N; ++i) lane[i] *= s;
    return *this;
  }
  friend Lanes operator+(Lanes a, const Lanes& b) { return a += b; }
  friend Lanes operator-(Lanes a, const Lanes& b) { return a -= b; }
  friend Lanes operator*(Lanes a, const Lanes& b) { return a *= b; }
  friend Lanes operator*(S s, Lanes a) { return a *= s; }
  friend Lanes operator*(Lanes a, S s) { return a *= s; }
  friend Lanes operator-(Lanes a) {
    for (int i = 0; i < N; ++i) a.lane[i] = -a.lane[i];
    return a;
  }
};

template <typename S, int Bytes>
struct VectorType {
  using type = Lanes<S, int(Bytes / sizeof(S))>;
};

#endif

template <typename S, int Bytes>
using VectorOf = typename VectorType<S, Bytes>::type;

// Prefetch targets: every cache level, or L2 and below (for data wanted a while later,
// which should not push the working set out of L1).
enum PrefetchTarget { kPrefetchToL1, kPrefetchToL2 };

// A prefetch has no effect the compiler can see: a function that only prefetches looks
// pure to GCC, and a call to it that is not inlined is deleted as dead code. Functions
// that prefetch are therefore FASTMF_ALWAYS_INLINE. The plain version does nothing.
FASTMF_ALWAYS_INLINE void prefetch(const void* address, PrefetchTarget target = kPrefetchToL1) {
#if FASTMF_GNU_EXTENSIONS
  if (target == kPrefetchToL1) {
    __builtin_prefetch(address, 0, 3);
  } else {
    __builtin_prefetch(address, 0, 1);
  }
#else
  (void)address;
  (void)target;
#endif
}

// Whether this CPU runs the AVX2+FMA build; false where it cannot be asked.
inline bool cpu_has_avx2_fma() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
  // What __builtin_cpu_supports checks: the CPU has FMA, AVX and AVX2 (CPUID leaves 1 and
  // 7), and the operating system saves the 256-bit registers (OSXSAVE, then XCR0 bits 1-2).
  int regs[4];
  __cpuid(regs, 0);
  if (regs[0] < 7) return false;
  __cpuid(regs, 1);
  const int fma = 1 << 12, osxsave = 1 << 27, avx = 1 << 28;
  if ((regs[2] & (fma | osxsave | avx)) != (fma | osxsave | avx)) return false;
  if ((_xgetbv(0) & 0x6) != 0x6) return false;
  __cpuidex(regs, 7, 0);
  return (regs[1] & (1 << 5)) != 0;
#else
  return false;
#endif
}

}  // namespace fastmf
