// The SIMD vectors of the hand-vectorized kernels (gram.hpp, cholesky.hpp, als.hpp): the
// widest the build targets, as a compiler vector type or its plain fallback (compiler.hpp).
#pragma once

#include "common.hpp"
#include "compiler.hpp"

#include <cstring>

namespace fastmf {

// 32-byte AVX registers in the AVX2 build, 16-byte SSE registers in the portable one
// (wider ones would be split into slow pieces there). Loads and stores need no alignment.
#if defined(__AVX__)
constexpr int kSimdBytes = 32;
#else
constexpr int kSimdBytes = 16;
#endif

template <typename S>
struct Simd {
  static constexpr Index width = kSimdBytes / sizeof(S);
  using type = VectorOf<S, kSimdBytes>;
  static type load(const S* p) {
    type v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(S* p, type v) { std::memcpy(p, &v, sizeof v); }
};

// k rounded up to a whole number of vectors: the order of a padded system (cholesky.hpp).
template <typename S>
Index padded_order(Index k) {
  constexpr Index w = Simd<S>::width;
  return (k + w - 1) / w * w;
}

}  // namespace fastmf
