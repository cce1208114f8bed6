// Integer Softmax (native/include/opq_qsoftmax.h): the scalar definition. One kernel for every
// variant: a row costs one pass for the maximum, one for the sum and one for the outputs, and its
// divisions only run for the outputs that are not 0 (most of a long row); SIMD would not pay.
#pragma once

#include <cstddef>
#include <cstdint>

namespace opq {

struct QSoftmaxParams {
  const uint32_t* table;  // 256 entries
  uint64_t multiplier;
  int32_t shift;
  int32_t y_zero_point, y_min, y_max;
};

// One output: round_half_up(t * multiplier / (sum * 2^shift)), exactly. The quotient is 0 unless
// 2 t multiplier >= sum 2^shift, which bounds every operand of the division by 2^40.
inline int32_t QSoftmaxOne(uint32_t t, uint64_t sum, const QSoftmaxParams& p) {
  const uint64_t two = 2 * uint64_t{t} * p.multiplier;
  uint64_t q = 0;
  if (sum <= (two >> p.shift)) {
    const uint64_t d = sum << p.shift;
    q = (two + d) / (2 * d);
  }
  int64_t v = static_cast<int64_t>(q) + p.y_zero_point;
  v = v < p.y_min ? p.y_min : v;
  v = v > p.y_max ? p.y_max : v;
  return static_cast<int32_t>(v);
}

void QSoftmaxRef(const uint8_t* x, bool x_signed, size_t outer, size_t axis_len, size_t inner, const QSoftmaxParams& p,
                 uint8_t* y);

}  // namespace opq
