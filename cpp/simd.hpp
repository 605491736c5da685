// The SIMD vectors of the hand-vectorized kernels (gram.hpp, cholesky.hpp, als.hpp,
// implicit_block.hpp, bpr.hpp): the widest the build targets, or at most 32 bytes where
// that measured faster, as a compiler vector type or its plain fallback (compiler.hpp).
#pragma once

#include "common.hpp"
#include "compiler.hpp"

#include <cstring>
#include <utility>

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

// Lane o of transpose_sum(d) is the sum of the lanes of d[o], for the N = Bytes / sizeof(S)
// vectors d[0..N) (overwritten): N horizontal sums in log2(N) rounds of shuffles and adds,
// where N separate lane_sum calls take N times as many. Each round sums the halves of
// every segment of two vectors into one: round s (s = N/2, ..., 1) leaves s vectors that
// hold N/s sums of segments of s lanes, in order.
template <int N, int s, bool upper>
constexpr int half_segment_lane(int o) {
  const int per_vector = N / (2 * s), segment = o / s;  // segments of 2s lanes in a or b
  return (segment < per_vector ? 0 : N) + segment % per_vector * 2 * s + (upper ? s : 0) +
         o % s;
}

template <typename V, int N, int s, std::size_t... O>
FASTMF_ALWAYS_INLINE V halve_segments(V a, V b, std::index_sequence<O...>) {
  return shuffle_lanes<half_segment_lane<N, s, false>(int(O))...>(a, b) +
         shuffle_lanes<half_segment_lane<N, s, true>(int(O))...>(a, b);
}

template <typename V, int N, int s = N / 2>
FASTMF_ALWAYS_INLINE V transpose_sum(V* d) {
  for (int i = 0; i < s; ++i) {
    d[i] = halve_segments<V, N, s>(d[2 * i], d[2 * i + 1], std::make_index_sequence<N>{});
  }
  if constexpr (s == 1) {
    return d[0];
  } else {
    return transpose_sum<V, N, s / 2>(d);
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
  // d[0..width) -> the vector of their lane sums (transpose_sum above).
  static type sums(type* d) { return transpose_sum<type, int(width)>(d); }
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
