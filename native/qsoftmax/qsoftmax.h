// Integer Softmax (native/include/opq_qsoftmax.h): the scalar definition, and an AVX2 form of the
// per-row output table. A row costs one pass for the maximum, one for the sum and one for the
// outputs. An output depends only on m - x (256 values): a row longer than that computes those once
// and looks them up; with the SIMD table, a row not far shorter does too, through the LUT kernel.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qlut/qlut.h"

namespace opq {

struct QSoftmaxParams {
  const uint32_t* table;  // 256 entries
  uint64_t multiplier;
  int32_t shift;
  int32_t y_zero_point, y_min, y_max;
};

// floor(n / d) for n < 2^64 and d >= 1 constant over many n (a row's outputs): with r =
// floor((2^64 - 1) / d), r d <= 2^64 - 1 < (r + 1) d, so n r / 2^64 lies in (n / d - 1, n / d] and
// floor(n r / 2^64) is the quotient or one below it; one compare corrects it. Exact like the division
// it replaces, at a multiply instead of a 64-bit divide per output.
class Divider {
 public:
  explicit Divider(uint64_t d) : d_(d), r_(~uint64_t{0} / d) {}
  uint64_t Div(uint64_t n) const {
    uint64_t q = static_cast<uint64_t>((static_cast<unsigned __int128>(n) * r_) >> 64);
    if (n - q * d_ >= d_) ++q;
    return q;
  }

 private:
  uint64_t d_, r_;
};

// One output: round_half_up(t * multiplier / (sum * 2^shift)) = floor((2 t multiplier + sum 2^shift) /
// (sum 2^(shift + 1))), exactly; `div` divides by sum 2^(shift + 1). The quotient is 0 unless 2 t
// multiplier >= sum 2^shift, which bounds every operand of the division by 2^42.
inline int32_t QSoftmaxOne(uint32_t t, uint64_t sum, const QSoftmaxParams& p, const Divider& div) {
  const uint64_t two = 2 * uint64_t{t} * p.multiplier;
  uint64_t q = 0;
  if (sum <= (two >> p.shift)) q = div.Div(two + (sum << p.shift));
  int64_t v = static_cast<int64_t>(q) + p.y_zero_point;
  v = v < p.y_min ? p.y_min : v;
  v = v > p.y_max ? p.y_max : v;
  return static_cast<int32_t>(v);
}

// lut[d] = QSoftmaxOne(table[d], sum) for d < count <= 256 (a SIMD variant may also write entries up
// to the next multiple of 4; lut has 256).
using QSoftmaxLutFn = void (*)(const uint32_t* table, size_t count, uint64_t sum, const QSoftmaxParams& p,
                               uint8_t* lut);

// The rows. With `lut_fn` (and the variant's LUT kernel `lut`), a contiguous row whose value range is
// not far beyond its length gets its outputs as a table by input byte, then one LUT-kernel pass.
void QSoftmax(const uint8_t* x, bool x_signed, size_t outer, size_t axis_len, size_t inner, const QSoftmaxParams& p,
              QSoftmaxLutFn lut_fn, LutFn lut, uint8_t* y);

// The definition: every output through QSoftmaxOne (or its per-row table).
inline void QSoftmaxRef(const uint8_t* x, bool x_signed, size_t outer, size_t axis_len, size_t inner,
                        const QSoftmaxParams& p, uint8_t* y) {
  QSoftmax(x, x_signed, outer, axis_len, inner, p, nullptr, nullptr, y);
}

#if defined(__x86_64__) || defined(_M_X64)
// AVX2: four lanes of doubles, exact (every operand of a nonzero quotient is below 2^41).
void QSoftmaxLutAvx2(const uint32_t* table, size_t count, uint64_t sum, const QSoftmaxParams& p, uint8_t* lut);
#endif

}  // namespace opq
