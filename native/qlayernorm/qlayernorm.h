// Integer LayerNorm (native/include/opq_qlayernorm.h): the scalar definition, exact in 64- and
// 128-bit integers, and an AVX2 form of the output pass (its 64-bit products are exact in doubles).
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

// One row's output pass, from d_i = cl (x_i - zx) - s1 (|d_i| < 2^21):
//   plain (p.gamma null): y_i = clamp(((d_i mult + 2^(shift-1)) >> shift) + zy);
//   affine: z_i = clamp((d_i gamma_i mult + 2^(shift-1)) >> shift, +-2^40),
//           y_i = clamp(((z_i + beta_i + 128) >> 8) + zy);
// for shift in [1, 52]. Writes y_i for i below the returned count; the scalar loop does the rest.
struct QLayerNormRow {
  const uint8_t* x;
  bool x_signed;
  int32_t zx, cl, s1;
  int64_t mult;  // m (plain) or m >> 15 (affine)
  int32_t shift;
};
using QLayerNormOutFn = size_t (*)(const QLayerNormRow& r, const QLayerNormParams& p, uint8_t* y);

// The rows, with `out` (or none: all scalar) for the output passes it takes.
void QLayerNorm(const uint8_t* x, bool x_signed, int32_t x_zero_point, size_t rows, const QLayerNormParams& p,
                QLayerNormOutFn out, uint8_t* y);

// The definition: every pass scalar.
inline void QLayerNormRef(const uint8_t* x, bool x_signed, int32_t x_zero_point, size_t rows, const QLayerNormParams& p,
                          uint8_t* y) {
  QLayerNorm(x, x_signed, x_zero_point, rows, p, nullptr, y);
}

#if defined(__x86_64__) || defined(_M_X64)
// AVX2: four lanes of doubles, where every value of the pass is an integer below 2^53 and so exact.
size_t QLayerNormOutAvx2(const QLayerNormRow& r, const QLayerNormParams& p, uint8_t* y);
#endif

}  // namespace opq
