// Numpy broadcasting for the binary elementwise kernels: collapse the shapes once, then walk the
// output in its innermost contiguous runs, where each operand either advances by one element or
// stays put (a broadcast scalar). Row kernels only ever see those two cases.
#pragma once

#include <cstddef>
#include <cstdint>

#include "opq_qbinary.h"

namespace opq {

struct BroadcastPlan {
  size_t rank = 0;  // >= 1 after collapsing
  size_t shape[OPQ_MAX_RANK] = {};
  size_t sa[OPQ_MAX_RANK] = {};  // element strides of a and b (0 where broadcast)
  size_t sb[OPQ_MAX_RANK] = {};
  size_t total = 0;    // output elements
  size_t a_count = 0;  // elements of a and b
  size_t b_count = 0;
};

// Validates the shapes (rank, broadcastability, sizes) and builds the plan; NULL when valid.
const char* MakeBroadcastPlan(const char* op, size_t rank, const size_t* a_shape, const size_t* b_shape,
                              BroadcastPlan* plan);

// row(a, a_scalar, b, b_scalar, n, y) for every innermost run of the output, in order.
template <typename Row>
void ForEachBroadcastRow(const BroadcastPlan& p, const uint8_t* a, const uint8_t* b, uint8_t* y, Row&& row) {
  if (p.total == 0) return;
  const size_t r = p.rank, n = p.shape[r - 1];
  const bool a_scalar = p.sa[r - 1] == 0, b_scalar = p.sb[r - 1] == 0;
  size_t idx[OPQ_MAX_RANK] = {};
  const size_t rows = p.total / n;
  for (size_t i = 0; i < rows; ++i) {
    row(a, a_scalar, b, b_scalar, n, y + i * n);
    for (size_t d = r - 1; d-- > 0;) {  // odometer over the outer dimensions
      a += p.sa[d];
      b += p.sb[d];
      if (++idx[d] < p.shape[d]) break;
      a -= p.sa[d] * p.shape[d];
      b -= p.sb[d] * p.shape[d];
      idx[d] = 0;
    }
  }
}

// run(ia, a_scalar, ib, b_scalar, n, iy) for every innermost run of the output, in order, with the
// element offsets of the run's first a, b and y elements (for operands of different element sizes).
template <typename Run>
void ForEachBroadcastRun(const BroadcastPlan& p, Run&& run) {
  if (p.total == 0) return;
  const size_t r = p.rank, n = p.shape[r - 1];
  const bool a_scalar = p.sa[r - 1] == 0, b_scalar = p.sb[r - 1] == 0;
  size_t idx[OPQ_MAX_RANK] = {};
  size_t ia = 0, ib = 0;
  const size_t rows = p.total / n;
  for (size_t i = 0; i < rows; ++i) {
    run(ia, a_scalar, ib, b_scalar, n, i * n);
    for (size_t d = r - 1; d-- > 0;) {  // odometer over the outer dimensions
      ia += p.sa[d];
      ib += p.sb[d];
      if (++idx[d] < p.shape[d]) break;
      ia -= p.sa[d] * p.shape[d];
      ib -= p.sb[d] * p.shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace opq
