// Integer LayerNorm of 8-bit rows (native/qlayernorm/qlayernorm.h has the definition; the TypeScript
// reference is src/kernels/int8/qlayernorm-ref.ts, and both give the same bits).
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// The longest row the kernel takes: with it every intermediate stays below 2^53 (see the reference).
#define OPQ_LAYERNORM_MAX_LENGTH 4096

// x and y are [rows, length]. Per row, q_i = x_i - x_zero_point, S1 = sum q_i, T = length^2 sum q_i^2
// - length S1^2 + eps, d_i = length q_i - S1; Mr, sr with Mr = floor(gm 2^(sr - gs) / sqrt(T)) in
// [2^30, 2^31). Without gamma: y_i = round_half_up(d_i Mr / 2^sr) + y_zero_point. With gamma and beta
// (both or neither; length entries each, |gamma_i| <= 32767, |beta_i| <= 2^20): M16 = floor(Mr / 2^15),
// z_i = round_half_up(d_i gamma_i M16 / 2^(sr - 23)) clamped to +-2^40 (times 2^(23 - sr) when sr <= 23),
// y_i = floor((z_i + beta_i + 128) / 256) + y_zero_point. A row with T = 0 gives y_zero_point (+ the
// beta term). Outputs are clamped to [y_min, y_max]. eps is an integer in [0, 2^50] (passed as a
// double, exact); gm in [2^30, 2^31); length in [1, OPQ_LAYERNORM_MAX_LENGTH].
OPQ_API const char* opq_qlayernorm(const void* x, size_t x_size, int32_t x_signed, int32_t x_zero_point, size_t rows,
                                   size_t length, double eps, int32_t gm, int32_t gs, const int32_t* gamma,
                                   const int32_t* beta, size_t affine_size, int32_t y_zero_point, int32_t y_min,
                                   int32_t y_max, void* y, size_t y_size, int32_t y_signed, int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
