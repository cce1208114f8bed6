// Unary 8-bit kernels: 256-entry table lookup, QuantizeLinear and DequantizeLinear (ONNX semantics).
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// y[i] = table[(uint8_t)x[i]] for i < n: any unary function of an 8-bit input (the table is built at
// lowering time, src/quant/lut.ts). For int8 data the table is indexed by the two's-complement byte,
// so entry 128 is the value for -128 and entry 255 the value for -1. x and y may be the same buffer.
OPQ_API const char* opq_lut(const void* x, size_t x_size, size_t n, const uint8_t* table, size_t table_size, void* y,
                            size_t y_size, int32_t variant);

// Layout of the per-axis and blocked forms: x is [outer, axis_len, inner] (row-major, outer and inner
// the products of the dimensions before and after the axis). Parameters (scale and zero point, both
// with param_count entries) are
//   per tensor: param_count == 1 and block_size == 0;
//   per axis:   param_count == axis_len and block_size == 0 (entry a for index a along the axis);
//   blocked:    block_size > 0 and param_count == outer * ceil(axis_len / block_size) * inner
//               (entry (o * ceil(axis_len / block_size) + a / block_size) * inner + i, ONNX opset 21).

// QuantizeLinear: y = clamp(roundHalfEven(x / scale) + zero_point, type_min, type_max), the
// division in float32 (as ONNX specifies; not a multiply by the reciprocal), ties to even,
// saturating; NaN gives type_min (what ONNX Runtime's x86 kernel returns). scale must be finite and
// > 0; zero points within the output type. y is uint8 (y_signed == 0) or int8.
OPQ_API const char* opq_quantize_linear(const float* x, size_t x_size, size_t outer, size_t axis_len, size_t inner,
                                        const float* scale, const int32_t* zero_point, size_t param_count,
                                        size_t block_size, void* y, size_t y_size, int32_t y_signed, int32_t variant);

// DequantizeLinear: y = float32(x - zero_point) * scale, the subtraction exact (in int64 for int32
// inputs), one float32 rounding of the difference (none for 8-bit inputs) and one of the product.
// x_type: 0 uint8, 1 int8, 2 int32 (OPQ_DQ_*); zero points must lie in x's type.
enum { OPQ_DQ_UINT8 = 0, OPQ_DQ_INT8 = 1, OPQ_DQ_INT32 = 2 };
OPQ_API const char* opq_dequantize_linear(const void* x, size_t x_size, int32_t x_type, size_t outer, size_t axis_len,
                                          size_t inner, const float* scale, const int32_t* zero_point,
                                          size_t param_count, size_t block_size, float* y, size_t y_size,
                                          int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
