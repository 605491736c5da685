// Sparse helpers.
#pragma once

#include "common.hpp"

#include <vector>

namespace fastmf {

// The transpose of a CSR matrix by one counting pass (O(nnz), no sort): row r of the
// result lists, in increasing order, the rows of the input that have column r.
// The caller passes out_indptr already filled (the cumulative column counts).
// Caller guarantees: valid CSR, indices < out_indptr.size() - 1, out arrays of size nnz,
// out_indptr[-1] == nnz.
template <typename S>
void csr_transpose(ConstVecRef<std::int64_t> indptr, ConstVecRef<std::int32_t> indices,
                   ConstVecRef<S> data, ConstVecRef<std::int64_t> out_indptr,
                   VecRef<std::int32_t> out_indices, VecRef<S> out_data) {
  std::vector<std::int64_t> next(out_indptr.data(), out_indptr.data() + out_indptr.size() - 1);
  const Index rows = indptr.size() - 1;
  for (Index r = 0; r < rows; ++r) {
    for (std::int64_t e = indptr[r]; e < indptr[r + 1]; ++e) {
      const std::int64_t slot = next[indices[e]]++;
      out_indices[slot] = static_cast<std::int32_t>(r);
      out_data[slot] = data[e];
    }
  }
}

}  // namespace fastmf
