// Sparse helpers.
#pragma once

#include "common.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace fastmf {

// COO -> CSR: a stable counting scatter of the entries by row, then every row sorted by
// column with ties left in input order (so repeated pairs sit together, first to last).
// The caller passes indptr already filled (the cumulative row counts). out_pos, unless
// empty, receives the input position of each output entry. O(nnz + Σ n_r log n_r).
// Caller guarantees: rows < indptr.size() - 1, cols >= 0, out arrays of size nnz (or
// out_pos empty), indptr[-1] == nnz.
template <typename S>
void coo_to_csr(ConstVecRef<std::int32_t> rows, ConstVecRef<std::int32_t> cols,
                ConstVecRef<S> data, ConstVecRef<std::int64_t> indptr,
                VecRef<std::int32_t> out_indices, VecRef<S> out_data,
                VecRef<std::int64_t> out_pos, int num_threads) {
  const Index n_rows = indptr.size() - 1, nnz = rows.size();
  const bool want_pos = out_pos.size() > 0;
  {
    std::vector<std::int64_t> next(indptr.data(), indptr.data() + n_rows);
    for (Index e = 0; e < nnz; ++e) {
      const std::int64_t slot = next[rows[e]]++;
      out_indices[slot] = cols[e];
      out_data[slot] = data[e];
      if (want_pos) out_pos[slot] = e;
    }
  }
  struct Scratch {  // per thread
    std::vector<std::pair<std::int32_t, std::int64_t>> keyed;  // (column, slot)
    std::vector<S> row_data;
    std::vector<std::int64_t> row_pos;
  };
  auto sort_row = [&](Index r, Scratch& w) {
    const std::int64_t lo = indptr[r], n = indptr[r + 1] - lo;
    std::int32_t* columns = out_indices.data() + lo;
    if (std::is_sorted(columns, columns + n)) return;
    w.keyed.resize(n);
    for (std::int64_t j = 0; j < n; ++j) w.keyed[j] = {columns[j], lo + j};
    std::sort(w.keyed.begin(), w.keyed.end());   // slots ascend in input order: a stable sort
    w.row_data.resize(n);
    w.row_pos.resize(want_pos ? n : 0);
    for (std::int64_t j = 0; j < n; ++j) {
      w.row_data[j] = out_data[w.keyed[j].second];
      if (want_pos) w.row_pos[j] = out_pos[w.keyed[j].second];
    }
    for (std::int64_t j = 0; j < n; ++j) {
      columns[j] = w.keyed[j].first;
      out_data[lo + j] = w.row_data[j];
      if (want_pos) out_pos[lo + j] = w.row_pos[j];
    }
  };
  ParallelGuard guard;
#pragma omp parallel num_threads(resolve_threads(num_threads))
  {
    Scratch scratch;   // empty vectors: nothing allocated until a row needs it
#pragma omp for schedule(dynamic, 256)
    for (Index r = 0; r < n_rows; ++r) {
      guard.run([&] { sort_row(r, scratch); });
    }
  }
  guard.rethrow();
}

}  // namespace fastmf
