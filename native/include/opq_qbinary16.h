// A16W8 quantized Add and Mul with numpy broadcasting ("qbinary16"): each of a, b and y is uint8,
// int8, int16 or uint16 on its own (a_type, b_type, y_type: the OPQ_QC16_* ids of opq_qconv16.h).
// Shapes, broadcasting and parameters are those of opq_qadd / opq_qmul (opq_qbinary.h), with every
// zero point and the output clamp taken in its own tensor's type range. Entry points return NULL or
// a static message naming the refused argument; every argument is checked before memory is touched.
#pragma once

#include "onnxptq.h"
#include "opq_qbinary.h"  // opq_qadd_params, OPQ_MAX_RANK
#include "opq_qconv16.h"  // OPQ_QC16_* element types

#ifdef __cplusplus
extern "C" {
#endif

// The variant OPQ_VARIANT_AUTO resolves to for opq_qadd16 and opq_qmul16.
OPQ_API int32_t opq_qbinary16_auto_variant(void);

// Add: y = QAddOne(a, b) exactly as opq_qadd defines it (fixed-point, shift or float mode).
// Fixed-point and shift modes compute (x - x_zero_point) << left_shift in int32: the call is refused
// unless max over X's type range of |x - x_zero_point| * 2^left_shift < 2^31 for X = A and B
// (A16W8 uses left_shift 15 with 16-bit inputs of zero point 0).
OPQ_API const char* opq_qadd16(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                               int32_t a_type, const void* b, size_t b_size, int32_t b_type,
                               const opq_qadd_params* params, void* y, size_t y_size, int32_t y_type, int32_t variant);

// Mul: acc = (a - a_zero_point) * (b - b_zero_point) in int32, y = RequantizeOne(acc, rq) (per
// tensor, rq->count 1). Refused unless max|a - a_zero_point| * max|b - b_zero_point| < 2^31 over
// the type ranges (so the product is exact).
OPQ_API const char* opq_qmul16(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                               int32_t a_type, int32_t a_zero_point, const void* b, size_t b_size, int32_t b_type,
                               int32_t b_zero_point, const opq_requant* rq, void* y, size_t y_size, int32_t y_type,
                               int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
