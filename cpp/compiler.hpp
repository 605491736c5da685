// Everything in fastmf's C++ that is not standard C++17, each beside the plain version
// that any C++17 compiler (MSVC included) builds: GCC/Clang vector types for the SIMD
// kernels (simd.hpp), the AVX-512 masked loads and stores of a vector's first lanes, hints
// for inlining, aliasing and loop unrolling, cache prefetches, and the CPU query that picks
// a kernel build (CPUID and XGETBV through GCC/Clang's <cpuid.h> and inline assembly, or
// MSVC's __cpuid and _xgetbv). No other file uses a compiler extension.
//
// The extensions are used with GCC and Clang (both define __GNUC__). Define
// FASTMF_NO_COMPILER_EXTENSIONS to build the plain versions with them too, e.g.
//   CXXFLAGS=-DFASTMF_NO_COMPILER_EXTENSIONS pip install .
// (.ci/plain-cxx builds so and runs the kernel tests). The CPU query is not kernel code and
// keeps its GCC/Clang form under the switch, so every kernel build still loads.
#pragma once

#include <cstddef>
#include <type_traits>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#elif defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

#if defined(__GNUC__) && !defined(FASTMF_NO_COMPILER_EXTENSIONS)
#define FASTMF_GNU_EXTENSIONS 1
#else
#define FASTMF_GNU_EXTENSIONS 0
#endif

// Masked loads and stores where the vector type is a GCC/Clang vector (compatible with the
// intrinsics' __m512, __m256 and their double forms) and the build targets AVX-512 with
// its 256-bit forms (AVX512VL).
#if FASTMF_GNU_EXTENSIONS && defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#define FASTMF_AVX512_MASKS 1
#else
#define FASTMF_AVX512_MASKS 0
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

// The first n lanes of a vector V of S (0 <= n <= its lanes): load_first reads p[0..n) and
// zeros the other lanes, store_first writes v's first n lanes to p[0..n); neither touches
// memory past p + n, so a row's last, partial vector needs no padding after it. AVX-512
// does each with one masked instruction (64- or 32-byte vectors); elsewhere it is a loop
// over the lanes.
template <typename V, typename S>
FASTMF_ALWAYS_INLINE V load_first(const S* p, std::ptrdiff_t n) {
#if FASTMF_AVX512_MASKS
  if constexpr (sizeof(V) == 64 && std::is_same_v<S, float>) {
    return V(_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p));
  } else if constexpr (sizeof(V) == 64 && std::is_same_v<S, double>) {
    return V(_mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p));
  } else if constexpr (sizeof(V) == 32 && std::is_same_v<S, float>) {
    return V(_mm256_maskz_loadu_ps(__mmask8((1u << n) - 1), p));
  } else if constexpr (sizeof(V) == 32 && std::is_same_v<S, double>) {
    return V(_mm256_maskz_loadu_pd(__mmask8((1u << n) - 1), p));
  }
#endif
  V v{};
  for (std::ptrdiff_t i = 0; i < n; ++i) v[i] = p[i];
  return v;
}

template <typename V, typename S>
FASTMF_ALWAYS_INLINE void store_first(S* p, V v, std::ptrdiff_t n) {
#if FASTMF_AVX512_MASKS
  if constexpr (sizeof(V) == 64 && std::is_same_v<S, float>) {
    _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), __m512(v));
    return;
  } else if constexpr (sizeof(V) == 64 && std::is_same_v<S, double>) {
    _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), __m512d(v));
    return;
  } else if constexpr (sizeof(V) == 32 && std::is_same_v<S, float>) {
    _mm256_mask_storeu_ps(p, __mmask8((1u << n) - 1), __m256(v));
    return;
  } else if constexpr (sizeof(V) == 32 && std::is_same_v<S, double>) {
    _mm256_mask_storeu_pd(p, __mmask8((1u << n) - 1), __m256d(v));
    return;
  }
#endif
  for (std::ptrdiff_t i = 0; i < n; ++i) p[i] = v[i];
}

// Lanes of two vectors a and b of N lanes each, picked at compile time: lane o of the
// result is lane I_o of the 2N lanes a[0..N), b[0..N). One shuffle instruction (or two) with
// GCC 12+ and Clang (__builtin_shufflevector), GCC's __builtin_shuffle before that; a loop
// over the lanes in the plain build.
template <int... I, typename V>
FASTMF_ALWAYS_INLINE V shuffle_lanes(V a, V b) {
#if FASTMF_GNU_EXTENSIONS && (defined(__clang__) || __GNUC__ >= 12)
  return __builtin_shufflevector(a, b, I...);
#elif FASTMF_GNU_EXTENSIONS
  using Lane = std::remove_reference_t<decltype(a[0])>;
  using Mask = std::conditional_t<sizeof(Lane) == 8, long long, int>;
  typedef Mask MaskVector __attribute__((vector_size(sizeof(V))));
  return __builtin_shuffle(a, b, MaskVector{I...});
#else
  constexpr int lanes = int(sizeof...(I)), index[] = {I...};
  V out{};
  for (int o = 0; o < lanes; ++o) out[o] = index[o] < lanes ? a[index[o]] : b[index[o] - lanes];
  return out;
#endif
}

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

// What the CPU offers the kernel builds, from CPUID, and which register states the
// operating system saves on a context switch (XCR0, read by XGETBV): an instruction set
// is usable only where both hold. All false where the CPU cannot be asked (not x86).
struct CpuFeatures {
  bool avx = false, fma = false, avx2 = false;
  bool avx512f = false, avx512cd = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool os_ymm = false;  // XCR0 bits 1-2: SSE and AVX (YMM) state
  bool os_zmm = false;  // XCR0 bits 5-7: AVX-512 opmask, ZMM0-15 upper halves, ZMM16-31
};

inline CpuFeatures cpu_features() {
  CpuFeatures f;
#if (defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))) || \
    (defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86)))
  unsigned regs[4];  // eax, ebx, ecx, edx
  auto cpuid = [&regs](unsigned leaf, unsigned subleaf) {
#if defined(_MSC_VER)
    int out[4];
    __cpuidex(out, int(leaf), int(subleaf));
    for (int i = 0; i < 4; ++i) regs[i] = unsigned(out[i]);
#else
    __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
  };
  auto bit = [](unsigned reg, int b) { return ((reg >> b) & 1u) != 0; };
  cpuid(0, 0);
  const unsigned max_leaf = regs[0];
  if (max_leaf < 1) return f;
  cpuid(1, 0);
  f.fma = bit(regs[2], 12);
  f.avx = bit(regs[2], 28);
  if (bit(regs[2], 27)) {  // OSXSAVE: the OS enabled XGETBV and the XCR0 it reads
#if defined(_MSC_VER)
    const unsigned long long xcr0 = _xgetbv(0);
#else
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    const unsigned long long xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
#endif
    f.os_ymm = (xcr0 & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;
#if defined(__APPLE__)
    // macOS enables the AVX-512 state for a thread at its first AVX-512 instruction, so
    // XCR0 lacks those bits until then; the kernel says whether it will (sysctl).
    int avx512f = 0;
    std::size_t size = sizeof avx512f;
    if (f.os_ymm && sysctlbyname("hw.optional.avx512f", &avx512f, &size, nullptr, 0) == 0) {
      f.os_zmm = f.os_zmm || avx512f != 0;
    }
#endif
  }
  if (max_leaf >= 7) {
    cpuid(7, 0);
    f.avx2 = bit(regs[1], 5);
    f.avx512f = bit(regs[1], 16);
    f.avx512dq = bit(regs[1], 17);
    f.avx512cd = bit(regs[1], 28);
    f.avx512bw = bit(regs[1], 30);
    f.avx512vl = bit(regs[1], 31);
  }
#endif
  return f;
}

// Whether this CPU runs the AVX2+FMA build (x86-64-v3's vector instructions).
inline bool cpu_has_avx2_fma() {
  const CpuFeatures f = cpu_features();
  return f.avx && f.avx2 && f.fma && f.os_ymm;
}

// Whether this CPU runs the AVX-512 build: x86-64-v4's AVX512F, CD, BW, DQ and VL (the set
// GCC's -mavx512* flags of that build and MSVC's /arch:AVX512 enable) beside AVX2+FMA, and
// an OS that saves the opmask and ZMM registers.
inline bool cpu_has_avx512() {
  const CpuFeatures f = cpu_features();
  return cpu_has_avx2_fma() && f.avx512f && f.avx512cd && f.avx512bw && f.avx512dq &&
         f.avx512vl && f.os_zmm;
}

}  // namespace fastmf
