// Quantized binary elementwise kernels with numpy broadcasting: Add and Mul of two 8-bit tensors.
// a, b and y share one 8-bit type (is_signed: int8, else uint8). Shapes have `rank` <= OPQ_MAX_RANK
// dimensions each (right-align shorter shapes with leading 1s before calling); every dimension of
// a and b is equal or 1, and y has the broadcast shape. Entry points return NULL or a static
// message naming the refused argument.
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OPQ_MAX_RANK 8

// Add of two quantized tensors, each rescaled to the output scale (DESIGN.md "joining nodes").
// Real values: ra = Sa (a - za), rb = Sb (b - zb), y = clamp(round(rc / Sc) + zc, output_min, output_max)
// computed per `mode`:
//
// OPQ_REQUANT_FIXED_POINT (TFLite's integer Add, gemmlowp primitives of fixedpoint.h):
//   xa = MultiplyByQuantizedMultiplier((a - za) << left_shift, a_multiplier, a_shift)
//   xb = MultiplyByQuantizedMultiplier((b - zb) << left_shift, b_multiplier, b_shift)
//   v  = MultiplyByQuantizedMultiplier(xa + xb, output_multiplier, output_shift)      (int32 wrap on +)
//   y  = clamp(v, output_min - zc, output_max - zc) + zc
//   The parameters TFLite uses (makeQAddParams in src/quant/qadd.ts): left_shift = 20,
//   t = 2 max(Sa, Sb), input multipliers Sa/t and Sb/t (<= 1/2), output multiplier t / (2^20 Sc).
// OPQ_REQUANT_SHIFT (power-of-two multipliers): as fixed point with every multiply replaced by
//   Shift(x, s) = s >= 0 ? SaturatingShiftLeft(x, s) : RoundingDivideByPOT(x, -s) using the *_shift
//   fields alone (the multipliers are ignored).
// OPQ_REQUANT_FLOAT (ONNX Runtime's com.microsoft QLinearAdd, MLAS's x86 SSE2/AVX2 kernel, all float32,
//   never fused into FMA): with fixed = float(zc) - (a_scale * float(za) + b_scale * float(zb)),
//   v = (fixed + float(a) * a_scale) + float(b) * b_scale, y = clamp(roundHalfEven(v), output_min, output_max);
//   a_scale = float32(Sa / Sc), b_scale = float32(Sb / Sc). (MLAS's portable fallback instead
//   dequantizes both inputs, adds, divides by Sc and rounds; MLAS folds a scalar B into `fixed`
//   first, which can differ from this in the last float bit.)
typedef struct opq_qadd_params {
  int32_t mode;  // OPQ_REQUANT_*
  int32_t a_zero_point;
  int32_t b_zero_point;
  int32_t left_shift;    // fixed-point and shift modes, in [0, 22]
  int32_t a_multiplier;  // fixed point: m0 in [0, 2^31); M = m0 * 2^(shift - 31)
  int32_t a_shift;       // in [-31, 31]
  int32_t b_multiplier;
  int32_t b_shift;
  int32_t output_multiplier;
  int32_t output_shift;
  float a_scale;  // float mode
  float b_scale;
  int32_t output_zero_point;
  int32_t output_min;
  int32_t output_max;
} opq_qadd_params;

OPQ_API const char* opq_qadd(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                             const void* b, size_t b_size, int32_t is_signed, const opq_qadd_params* params, void* y,
                             size_t y_size, int32_t variant);

// Mul: acc = (a - a_zero_point) * (b - b_zero_point) in int32 (exact), y = RequantizeOne(acc, rq) with
// a per-tensor rq (count 1), M = Sa Sb / Sy in any of the three modes.
OPQ_API const char* opq_qmul(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                             int32_t a_zero_point, const void* b, size_t b_size, int32_t b_zero_point,
                             int32_t is_signed, const opq_requant* rq, void* y, size_t y_size, int32_t variant);

// A binary op of two 8-bit tensors as the table of its 65,536 results: y[i] = table[a[i] * 256 + b[i]]
// on raw bytes, with opq_qadd's broadcasting. The integer lowering builds the table once per node
// with the op's own kernel (opq_qadd / opq_qmul over every pair of bytes), so a lookup gives that
// kernel's bits. A run along which a is one broadcast value reads table row a with the LUT kernel; b
// one value, table column b gathered once per value. table_size must be 65536.
OPQ_API const char* opq_lut2(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                             const void* b, size_t b_size, const uint8_t* table, size_t table_size, void* y,
                             size_t y_size, int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
