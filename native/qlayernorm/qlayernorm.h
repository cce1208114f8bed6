// Integer LayerNorm (native/include/opq_qlayernorm.h): the scalar definition, exact in 64- and
// 128-bit integers. One kernel for every variant: a row is two passes over 8-bit data plus one
// integer square root, already a fraction of the float LayerNorm's time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace opq {

struct QLayerNormParams {
  size_t length;
  int64_t eps;
  int64_t gm;
  int32_t gs;
  const int32_t* gamma;  // null: the plain normalization
  const int32_t* beta;
  int32_t y_zero_point, y_min, y_max;
};

// Mr and sr for a row's T >= 1 (the unique sr with Mr in [2^30, 2^31)).
void QLayerNormRowMultiplier(int64_t t, int64_t gm, int32_t gs, int64_t* m, int32_t* s);

void QLayerNormRef(const uint8_t* x, bool x_signed, int32_t x_zero_point, size_t rows, const QLayerNormParams& p,
                   uint8_t* y);

}  // namespace opq
