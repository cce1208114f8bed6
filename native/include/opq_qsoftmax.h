// Integer Softmax of 8-bit data along one axis (native/qsoftmax/qsoftmax.h has the definition).
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// The exp table's unit: table entries are round(OPQ_SOFTMAX_ONE * exp(-x_scale * d)), d = 0..255.
#define OPQ_SOFTMAX_ONE 16384

// x and y are [outer, axis_len, inner] (row-major); each of the outer * inner rows along the axis is
// normalized on its own. For a row with maximum m, d_j = m - x_j (0..255), t_j = table[d_j] and
// s = sum t_j; y_j = clamp(round_half_up(t_j * multiplier / (s * 2^shift)) + y_zero_point, y_min,
// y_max), computed exactly in 64-bit integers, where multiplier / 2^shift is 1 / y_scale. table: 256
// entries in [0, OPQ_SOFTMAX_ONE], table[0] >= 1; multiplier in [1, 2^24); shift in [0, 62];
// axis_len <= 2^24. x is uint8 (x_signed == 0) or int8, y likewise (y_signed).
OPQ_API const char* opq_qsoftmax(const void* x, size_t x_size, int32_t x_signed, size_t outer, size_t axis_len,
                                 size_t inner, const uint32_t* table, size_t table_size, int32_t multiplier,
                                 int32_t shift, int32_t y_zero_point, int32_t y_min, int32_t y_max, void* y,
                                 size_t y_size, int32_t y_signed, int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
