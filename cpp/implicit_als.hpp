// Implicit-feedback ALS (Hu, Koren, Volinsky 2008), in the form of Rendle, Krichene, Zhang
// and Koren (RecSys 2022): preference 1 for observed pairs, 0 otherwise; confidence
// c_ui = 1 + alpha values_ui on observed pairs (values: the counts, or log(1 + r/ε) for the
// log confidence), weight α0 on the unobserved ones, and a regularization λ_u per row.
// With G = α0 YᵀY, row u of X solves
//   (G + λ_u I + Σ_{i∈u} w_ui y_i y_iᵀ) x_u = Σ_{i∈u} c_ui y_i,   w_ui = c_ui − α0,
// O(n_u k² + k³) per row. The kernels take base = 1 − α0, so w_ui = base + alpha values_ui;
// w may be negative (α0 > c_ui), the system stays positive definite (it is
// α0 Σ_{unobserved} y yᵀ + Σ_{observed} c y yᵀ + λ_u I).
#pragma once

#include "cholesky.hpp"
#include "common.hpp"
#include "gram.hpp"
#include "simd.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>
#include <utility>

namespace fastmf {

// A row's item vectors are gathered into a per-thread buffer of `width` columns (about
// 2 MB), a chunk at a time, so scratch memory stays small for any row length.
template <typename S>
Index gather_width(Index k) {
  return std::max<Index>(256, (Index(1) << 21) / (k * Index(sizeof(S))));
}

// Row u's part of the observed loss, in double: for each of its observed pairs with
// prediction s, c_ui (1 - s)² replaces the α0 s² that α0 Σ_u x_uᵀ(YᵀY)x_u counts for it,
//   Σ_{i∈u} [(1 + alpha values_ui)(1 - s)² - α0 s²].
// add(j, s, m) takes the predictions of its pairs j..j+m (LaneSums: W pairs side by side).
template <typename S>
class ObservedRowLoss {
 public:
  ObservedRowLoss(const CsrView<S>& C, Index u, S alpha, S alpha0)
      : values_(C.data.data() + C.begin(u)), alpha_(alpha), alpha0_(alpha0) {}
  void add(Index j, const S* s, Index m) {
    for (Index c = 0; c < m; ++c) {
      const double sc = s[c];
      sums_.lane[c] += (1.0 + double(alpha_ * values_[j + c])) * (1.0 - sc) * (1.0 - sc) -
                       double(alpha0_) * sc * sc;
    }
  }
  double total() const { return sums_.total(); }

 private:
  const S* values_;
  S alpha_, alpha0_;
  LaneSums<Simd<S>::width> sums_;
};

// The same with s = x·y_i for the rows row(j) of its pairs (dots_with).
template <typename S, typename Rows>
double observed_row_loss(const CsrView<S>& C, Index u, S alpha, S alpha0, Rows row, const S* x,
                         Index k) {
  ObservedRowLoss<S> loss(C, u, alpha, alpha0);
  dots_with<S>(row, C.count(u), k, x, [&](Index j, const S* s, Index m) { loss.add(j, s, m); });
  return loss.total();
}

// The same with its pairs' rows read from Y, asked for kPrefetchAhead pairs ahead (in the
// caches when the row was just solved from them, and no longer after a long row).
template <typename S>
double observed_row_loss(const CsrView<S>& C, Index u, S alpha, S alpha0, ConstRowRef<S> Y,
                         const S* x) {
  const std::int32_t* items = C.indices.data() + C.begin(u);
  const Index n = C.count(u);
  auto row = [&](Index j) {
    if (j + kPrefetchAhead < n) prefetch_row(Y, items[j + kPrefetchAhead]);
    return Y.row(items[j]).data();
  };
  return observed_row_loss<S>(C, u, alpha, alpha0, row, x, Y.cols());
}

// A row's system, per thread: A = G + λ_u I + Σ_{i∈u} w_ui y_i y_iᵀ (SpdSystem: the lower
// triangle, padded) and b = Σ_{i∈u} c_ui y_i + λ_u prior_u, c_ui = 1 + alpha values_ui. The
// n_u weighted outer products are Gram updates by the gathered rows sqrt(|w_ui|) y_i, a
// chunk of `width` at a time: rows with w >= 0 into Z, added; rows with w < 0 into Zn,
// subtracted (Zn is allocated only when base < 0, the only case where a weight can be
// negative). Z also holds the rows the CG products read (kp x width, column-major).
template <typename S>
struct ImplicitRowSystem {
  ImplicitRowSystem(Index k, Index width, ConstRowRef<S> G, bool negatives)
      : system(k),
        start(Matrix<S>::Zero(system.padded(), system.padded())),
        Z(Matrix<S>::Zero(system.padded(), width)),
        Zn(Matrix<S>::Zero(system.padded(), negatives ? width : 0)) {
    start.topLeftCorner(k, k) = G;
  }

  // Form row u's system (prior: its prior row, or null for 0).
  void build(const CsrView<S>& C, Index u, ConstRowRef<S> Y, S alpha, S base, S lambda,
             const S* prior) {
    const Index k = Y.cols(), n = C.count(u), width = Z.cols();
    system.A = start;
    system.A.diagonal().head(k).array() += lambda;
    system.b.setZero();
    if (prior != nullptr) {
      for (Index f = 0; f < k; ++f) system.b[f] = lambda * prior[f];
    }
    Index m = 0, mn = 0;  // columns gathered into Z and Zn
    for (Index j = 0; j < n; ++j) {
      const std::int64_t e = C.begin(u) + j;
      if (j + kPrefetchAhead < n) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
      const S conf = alpha * C.data[e], weight = base + conf;
      const S* y = Y.row(C.indices[e]).data();
      if (weight >= S(0)) {
        gather_row(y, k, std::sqrt(weight), S(1) + conf, Z.col(m++).data(), system.b.data());
        if (m == width) system.add_gram(Z, std::exchange(m, 0));
      } else {
        gather_row(y, k, std::sqrt(-weight), S(1) + conf, Zn.col(mn++).data(), system.b.data());
        if (mn == width) system.template add_gram<-1>(Zn, std::exchange(mn, 0));
      }
    }
    if (m > 0) system.add_gram(Z, m);
    if (mn > 0) system.template add_gram<-1>(Zn, mn);
  }

  SpdSystem<S> system;
  Matrix<S> start, Z, Zn;
};

// Exact half-step by Cholesky of each row's system (ImplicitRowSystem).
// With a prior (prior.rows() == X.rows(); an empty prior means 0), x_u is shrunk toward
// prior_u instead of 0: λ_u prior_u joins the right-hand side, and a row without
// interactions gets (G + λ_u I)⁻¹ λ_u prior_u. Without a prior such a row gets 0.
// Caller guarantees: valid CSR with C.rows() == X.rows(), indices < Y.rows(),
// alpha > 0, values >= 0 and finite, base + alpha values finite, G == α0 YᵀY (k x k) with
// α0 = 1 - base > 0, reg.size() == X.rows() with every reg > 0, X.cols() == Y.cols(),
// prior empty or of X's shape, finite.
// With row_loss of X.rows() entries (empty: none), row_loss[u] gets row u's part of the
// observed loss (observed_row_loss, α0 = alpha0) under the factors it leaves: after the
// second half-step of an iteration these add up to the loss's observed part, with no pass
// over the pairs of its own.
// Returns -1 or the first row whose factorization failed (that row left unchanged).
template <typename S>
std::int64_t implicit_als_half_step(ConstVecRef<std::int64_t> indptr,
                                    ConstVecRef<std::int32_t> indices, ConstVecRef<S> values,
                                    S alpha, S base, ConstRowRef<S> Y, ConstRowRef<S> G,
                                    ConstVecRef<S> reg, ConstRowRef<S> prior, RowRef<S> X,
                                    int num_threads, S alpha0, VecRef<double> row_loss) {
  const CsrView<S> C{indptr, indices, values};
  const Index k = Y.cols(), width = gather_width<S>(k);
  const bool has_prior = prior.rows() > 0;
  FirstFailure failed;
  ParallelGuard guard;
  auto solve = [&](Index u, ImplicitRowSystem<S>& w) {
    if (C.count(u) == 0 && !has_prior) {
      X.row(u).setZero();
      return;
    }
    w.build(C, u, Y, alpha, base, reg[u], has_prior ? prior.row(u).data() : nullptr);
    if (!w.system.solve()) {
      failed.record(u);
      return;
    }
    X.row(u) = w.system.b.head(k).transpose();
  };
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<ImplicitRowSystem<S>> scratch;
    guard.run([&] { scratch.emplace(k, width, G, base < S(0)); });
#pragma omp for schedule(dynamic, 16)
    for (Index u = 0; u < C.rows(); ++u) {
      guard.run([&] {
        solve(u, *scratch);
        if (row_loss.size() > 0) {
          row_loss[u] = observed_row_loss<S>(C, u, alpha, alpha0, Y, X.row(u).data());
        }
      });
    }
  }
  guard.rethrow();
  return failed.row();
}

// The product of a CG step with the gathered rows, by hand: on the m columns z_j (k entries,
// column j at Z + j ld) of the gathered block Z,
//   out += Σ_j t_j z_j,   t_j = weight_j (z_j·v)  or, with Residual, c1_j - weight_j (z_j·v),
// a vector's width W of columns at a time: their W dot products side by side
// (side_by_side_dots), then the same W columns (now in L1) times their t_j added to out.
// One pass over Z, where Eigen's Zᵀv then Z t make two and spend more on each call and each
// horizontal sum than on the 2·k·m multiply-adds at CG's sizes.
template <typename S, bool Residual>
void weighted_product(const S* Z, Index ld, Index m, Index k, const S* v, const S* weight,
                      const S* c1, S* out) {
  using Vs = Simd<S>;
  using V = typename Vs::type;
  constexpr Index W = Vs::width;
  const Index full = k / W * W, tail = k - full;
  auto t_of = [&](auto q, auto w, auto c) { return Residual ? c - w * q : w * q; };
  S t[W];
  Index j = 0;
  for (; j + W <= m; j += W) {
    const S* z = Z + j * ld;
    const auto column = [&](Index c) { return z + c * ld; };
    Vs::store(t, t_of(side_by_side_dots<S>(column, k, v), Vs::load(weight + j),
                      Vs::load(c1 + j)));
    for (Index f = 0; f < full; f += W) {  // two chains of multiply-adds: even, odd columns
      V even = Vs::load(out + f), odd{};
      FASTMF_UNROLL(16)
      for (Index c = 0; c < W; c += 2) {
        even += t[c] * Vs::load(z + c * ld + f);
        odd += t[c + 1] * Vs::load(z + (c + 1) * ld + f);
      }
      Vs::store(out + f, even + odd);
    }
    if (tail > 0) {
      V sum = Vs::load_first(out + full, tail);
      FASTMF_UNROLL(16)
      for (Index c = 0; c < W; ++c) sum += t[c] * Vs::load_first(z + c * ld + full, tail);
      Vs::store_first(out + full, sum, tail);
    }
  }
  for (; j < m; ++j) {  // the last columns, one at a time
    const S* z = Z + j * ld;
    V d{};
    for (Index f = 0; f < full; f += W) d += Vs::load(z + f) * Vs::load(v + f);
    if (tail > 0) d += Vs::load_first(z + full, tail) * Vs::load_first(v + full, tail);
    const S tj = t_of(Vs::sum(d), weight[j], c1[j]);
    for (Index f = 0; f < full; f += W) {
      Vs::store(out + f, Vs::load(out + f) + tj * Vs::load(z + f));
    }
    if (tail > 0) {
      Vs::store_first(out + full, Vs::load_first(out + full, tail) +
                                      tj * Vs::load_first(z + full, tail), tail);
    }
  }
}

// Approximate half-step: `steps` conjugate-gradient iterations on the same system, warm
// started from the current X (Takács et al. 2011). A row of at most `width` items is
// gathered once into Z, and each product with the system matrix,
//   A p = (G + λ_u I) p + Z (w ∘ Zᵀ p),   w = base + alpha values,
// is one pass over Z (weighted_product) and a product with G: nothing of size k x k is
// formed for it. A longer row's Z would not stay in the caches, and each product would read
// its rows from memory again: such a row forms A (ImplicitRowSystem, one pass over its rows
// at the speed of the Gram tiles) and multiplies by it; the iterates are the same but for
// rounding.
// Rows without interactions get 0, or with a prior start from 0 toward (G + λ_u I)⁻¹ λ_u
// prior_u. Same contract as implicit_als_half_step (prior and row_loss included; a
// gathered row's loss reads its copies in Z), plus steps >= 1.
template <typename S>
void implicit_als_cg_step(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                          ConstVecRef<S> values, S alpha, S base, ConstRowRef<S> Y,
                          ConstRowRef<S> G, ConstVecRef<S> reg, ConstRowRef<S> prior,
                          RowRef<S> X, int steps, int num_threads, S alpha0,
                          VecRef<double> row_loss) {
  const CsrView<S> C{indptr, indices, values};
  const Index k = Y.cols(), width = gather_width<S>(k);
  const bool has_prior = prior.rows() > 0;
  ParallelGuard guard;
  struct Scratch {  // per thread
    Scratch(Index k, Index width, ConstRowRef<S> G, bool negatives)
        : rows(k, width, G, negatives), weight(width), c1(width), x(k), r(k), p(k), Ap(k) {}
    ImplicitRowSystem<S> rows;
    Vector<S> weight, c1;  // base + conf and 1 + conf of the gathered rows
    Vector<S> x, r, p, Ap;
  };
  auto gather = [&](Scratch& w, Index u) {
    Matrix<S>& Z = w.rows.Z;
    for (Index j = 0; j < C.count(u); ++j) {
      const std::int64_t e = C.begin(u) + j;
      if (j + kPrefetchAhead < C.count(u)) prefetch_row(Y, C.indices[e + kPrefetchAhead]);
      std::copy_n(Y.row(C.indices[e]).data(), k, Z.col(j).data());
      const S conf = alpha * C.data[e];
      w.weight[j] = base + conf;
      w.c1[j] = S(1) + conf;
    }
  };
  // out = Σ_{i∈u} t_i y_i with t_i = w_ui (y_i·v), or (1 + conf_ui) - w_ui (y_i·v) for the
  // residual (weighted_product); the G and λ_u terms are added by the caller.
  auto product = [&](Scratch& w, Index u, const Vector<S>& v, Vector<S>& out, auto residual) {
    out.setZero();
    const Matrix<S>& Z = w.rows.Z;
    weighted_product<S, decltype(residual)::value>(Z.data(), Z.rows(), C.count(u), k, v.data(),
                                                   w.weight.data(), w.c1.data(), out.data());
  };
  auto solve = [&](Index u, Scratch& w) {
    const Index n = C.count(u);
    if (n == 0 && !has_prior) {
      X.row(u).setZero();
      if (row_loss.size() > 0) row_loss[u] = 0;
      return;
    }
    Vector<S>&x = w.x, &r = w.r, &p = w.p, &Ap = w.Ap;
    const S lambda = reg[u];
    const bool formed = n > width;
    const auto A = w.rows.system.A.topLeftCorner(k, k).template selfadjointView<Eigen::Lower>();
    x = X.row(u).transpose();
    if (formed) {  // r = b - A x
      w.rows.build(C, u, Y, alpha, base, lambda, has_prior ? prior.row(u).data() : nullptr);
      r = w.rows.system.b.head(k);
      r.noalias() -= A * x;
    } else {  // r = b - A x with b = Σ c y_i + λ_u prior_u, c = 1 + conf
      gather(w, u);
      product(w, u, x, r, std::true_type{});
      Ap.setZero();
      weighted_row_sum<S, true>(G.data(), G.outerStride(), k, k, x.data(), Ap.data());  // G x
      r -= Ap + lambda * x;
      if (has_prior) r += lambda * prior.row(u).transpose();
    }
    p = r;
    S rs_old = r.squaredNorm();
    for (int step = 0; step < steps && rs_old > S(0); ++step) {
      if (formed) {
        Ap.noalias() = A * p;
      } else {
        product(w, u, p, Ap, std::false_type{});
        weighted_row_sum<S, true>(G.data(), G.outerStride(), k, k, p.data(), Ap.data());
        Ap += lambda * p;
      }
      const S step_size = rs_old / p.dot(Ap);
      x += step_size * p;
      r -= step_size * Ap;
      const S rs_new = r.squaredNorm();
      p = r + (rs_new / rs_old) * p;
      rs_old = rs_new;
    }
    X.row(u) = x.transpose();
    if (row_loss.size() == 0) return;
    if (formed) {
      row_loss[u] = observed_row_loss<S>(C, u, alpha, alpha0, Y, x.data());
    } else {
      const Matrix<S>& Z = w.rows.Z;
      row_loss[u] = observed_row_loss<S>(
          C, u, alpha, alpha0, [&](Index j) { return Z.col(j).data(); }, x.data(), k);
    }
  };
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    std::optional<Scratch> scratch;
    guard.run([&] { scratch.emplace(k, width, G, base < S(0)); });
#pragma omp for schedule(dynamic, 32)
    for (Index u = 0; u < C.rows(); ++u) {
      guard.run([&] { solve(u, *scratch); });
    }
  }
  guard.rethrow();
}

}  // namespace fastmf
