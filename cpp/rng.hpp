// Random numbers for the sampling kernels: a counter-based splitmix64 stream.
//
// splitmix64 (Steele, Lea and Flood 2014) outputs mix(seed + n·γ) for n = 1, 2, ...: the
// n-th value needs no earlier one. A kernel can therefore give every sample its own
// counters, and any thread (or a numpy twin, tests/reference.py) computes the same draws
// for it, in any order, with nothing but the seed.
#pragma once

#include <cstdint>

namespace fastmf {

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// splitmix64's output function: a bijection of 64-bit words that mixes every bit.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The n-th value (from 0) of the splitmix64 stream started at `seed`.
inline std::uint64_t stream_value(std::uint64_t seed, std::uint64_t n) {
  return mix64(seed + (n + 1) * kGolden);
}

// floor(x · n / 2^64): a uniform integer in [0, n) from a uniform 64-bit x (Lemire's
// multiply-high, without the 128-bit type), exact for n < 2^32.
inline std::uint64_t below(std::uint64_t x, std::uint64_t n) {
  const std::uint64_t high = (x >> 32) * n, low = ((x & 0xffffffffULL) * n) >> 32;
  return (high + low) >> 32;
}

// A uniform double in [0, 1) from the top 53 bits of x.
inline double unit_interval(std::uint64_t x) {
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

}  // namespace fastmf
