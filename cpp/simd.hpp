// The SIMD vectors of the hand-vectorized kernels (gram.hpp, cholesky.hpp, als.hpp,
// implicit_block.hpp, bpr.hpp): the widest the build targets, or at most 32 bytes where
// that measured faster, as a compiler vector type or its plain fallback (compiler.hpp).
#pragma once

#include "common.hpp"
#include "compiler.hpp"

#include <cstring>

namespace fastmf {

// 64-byte ZMM registers in the AVX-512 build (16 floats or 8 doubles), 32-byte AVX
// registers in the AVX2 build, 16-byte SSE registers in the portable one (wider ones would
// be split into slow pieces there). Loads and stores need no alignment.
#if defined(__AVX512F__)
constexpr int kSimdBytes = 64;
#elif defined(__AVX__)
constexpr int kSimdBytes = 32;
#else
constexpr int kSimdBytes = 16;
#endif

// The vector registers the build can hold values in: AVX-512 has 32, AVX and SSE 16.
constexpr int kSimdRegisters = kSimdBytes == 64 ? 32 : 16;

// At most 32 bytes: the vectors of a kernel that does a little vector work between
// stretches of scalar code, e.g. one BPR sample's three rows between its random draws and
// its exp and log1p. On the AVX-512 CPU measured (bench/kernel_builds.py), a 512-bit
// instruction that follows scalar code costs up to ~100 ns more than a 256-bit one (the
// longer the scalar stretch, the more), which such a kernel pays on every row; dense
// kernels (Gram tiles, products) do not.
constexpr int kNarrowSimdBytes = kSimdBytes < 32 ? kSimdBytes : 32;

// The sum of v's lanes, by halves (lo + hi) down to 16 bytes, then those lanes in order.
template <typename S, int Bytes>
S lane_sum(VectorOf<S, Bytes> v) {
  if constexpr (Bytes > 16) {
    VectorOf<S, Bytes / 2> lo, hi;
    std::memcpy(&lo, &v, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return lane_sum<S, Bytes / 2>(lo + hi);
  } else {
    S total = v[0];
    for (int lane = 1; lane < int(Bytes / sizeof(S)); ++lane) total += v[lane];
    return total;
  }
}

// Vectors of Bytes bytes of S; Simd<S> (the build's widest) or NarrowSimd<S>.
template <typename S, int Bytes>
struct SimdOf {
  static constexpr Index width = Bytes / sizeof(S);
  using type = VectorOf<S, Bytes>;
  static type load(const S* p) {
    type v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(S* p, type v) { std::memcpy(p, &v, sizeof v); }
  // The first n < width lanes only (masked in the AVX-512 build): for the last, partial
  // vector of a row that has no padding after it.
  static type load_first(const S* p, Index n) { return fastmf::load_first<type>(p, n); }
  static void store_first(S* p, type v, Index n) { fastmf::store_first(p, v, n); }
  static S sum(type v) { return lane_sum<S, Bytes>(v); }
};

template <typename S>
using Simd = SimdOf<S, kSimdBytes>;
template <typename S>
using NarrowSimd = SimdOf<S, kNarrowSimdBytes>;

// k rounded up to a whole number of vectors: the order of a padded system (cholesky.hpp).
template <typename S>
Index padded_order(Index k) {
  constexpr Index w = Simd<S>::width;
  return (k + w - 1) / w * w;
}

}  // namespace fastmf
