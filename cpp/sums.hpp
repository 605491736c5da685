// Sums behind the training losses (fastmf._kernels.arrays): each row's squared norm in
// double, and the digits of an exact sum of doubles, which Python turns into a Fraction.
#pragma once

#include "common.hpp"

#include <cstdint>
#include <cstring>

namespace fastmf {

// out[r] = Σ_f A(r, f)² in double: four partial sums, of the columns f ≡ 0, 1, 2, 3 mod 4
// in order, then (s0 + s1) + (s2 + s3), in every build, so a row's value is the same
// whichever matrix, block of rows or machine holds it.
// Caller guarantees: out.size() == A.rows().
template <typename S>
void row_squared_norms(ConstRowRef<S> A, VecRef<double> out, int num_threads) {
  const Index k = A.cols();
#pragma omp parallel for schedule(static) num_threads(resolve_threads(num_threads))
  for (Index r = 0; r < A.rows(); ++r) {
    const S* a = A.row(r).data();
    double s[4] = {0, 0, 0, 0};
    Index f = 0;
    for (; f + 4 <= k; f += 4) {
      for (int l = 0; l < 4; ++l) s[l] += double(a[f + l]) * double(a[f + l]);
    }
    for (int l = 0; f < k; ++f, ++l) s[l] += double(a[f]) * double(a[f]);
    out[r] = (s[0] + s[1]) + (s[2] + s[3]);
  }
}

// The exact sum of x as digit sums: a finite double is ±m·2^(e - 1075) with m < 2^53 and e
// its biased exponent (1 for subnormals); m's three 18-bit digits are added, signed, into
// digits(d, e), so Σ x = Σ_{d,e} digits(d, e)·2^(18 d + e - 1075), exact while fewer than
// 2^45 values are added (each digit sum stays below 2^63). digits is 3 x 2048, added to.
// Returns false, having added nothing past it, at the first value that is not finite.
inline bool exact_sum_digits(ConstVecRef<double> x,
                             Eigen::Ref<Eigen::Matrix<std::int64_t, 3, 2048, Eigen::RowMajor>>
                                 digits) {
  constexpr std::uint64_t kDigit = (1u << 18) - 1, kFraction = (std::uint64_t(1) << 52) - 1;
  for (Index n = 0; n < x.size(); ++n) {
    std::uint64_t bits;
    std::memcpy(&bits, x.data() + n, sizeof bits);
    std::uint64_t e = (bits >> 52) & 0x7FF, m = bits & kFraction;
    if (e == 0x7FF) return false;
    if (e > 0) {
      m |= kFraction + 1;
    } else {
      e = 1;
    }
    const std::int64_t sign = (bits >> 63) ? -1 : 1;
    for (int d = 0; d < 3; ++d) {
      digits(d, Index(e)) += sign * std::int64_t((m >> (18 * d)) & kDigit);
    }
  }
  return true;
}

}  // namespace fastmf
