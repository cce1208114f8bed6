// Quantized data movement: Concat with requantization, Resize (nearest). 8-bit data.
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// Concat of num_inputs tensors along one axis. Input i is [outer, axis_dims[i], inner] and holds
// input_sizes[i] >= outer * axis_dims[i] * inner elements; y is [outer, sum axis_dims, inner].
// requantize[i] == 0 copies input i unchanged (its scale and zero point equal the output's);
// otherwise each value becomes RequantizeOne(x - input_zero_points[i], rq[i]) with rq[i] per tensor
// (M = Si / Sy, any mode). inputs and y share one 8-bit type (is_signed).
OPQ_API const char* opq_qconcat(size_t num_inputs, const void* const* inputs, const size_t* input_sizes,
                                const size_t* axis_dims, const int32_t* input_zero_points, const int32_t* requantize,
                                const opq_requant* rq, size_t outer, size_t inner, int32_t is_signed, void* y,
                                size_t y_size, int32_t variant);

// Transpose of 8-bit data (any element type of one byte): y has dims in_dims[perm[0]], ...,
// in_dims[perm[rank - 1]] and y[i_0, ..., i_{r-1}] = x[j] with j's axis perm[k] at i_k. rank <=
// OPQ_QLAYOUT_MAX_RANK, perm a permutation of 0..rank-1. Where the innermost output axis is the
// innermost input axis, rows are copied whole.
#define OPQ_QLAYOUT_MAX_RANK 8
OPQ_API const char* opq_transpose8(const void* x, size_t x_size, size_t rank, const size_t* in_dims, const size_t* perm,
                                   void* y, size_t y_size, int32_t variant);

// Resize, nearest, over the last two axes of an [nc, in_h, in_w] tensor: y[p][oy][ox] =
// x[p][y_index[oy]][x_index[ox]]. The ONNX coordinate transformation and nearest modes live in the
// index tables, computed once at lowering time (resizeNearestIndex in src/kernels/int8/qresize-ref.ts);
// every index must be inside the input. Rows that repeat the previous source row are copied, and
// x_index = ox / f (integer upsampling) takes a replication fast path.
OPQ_API const char* opq_qresize_nearest(size_t nc, size_t in_h, size_t in_w, size_t out_h, size_t out_w,
                                        const int32_t* y_index, size_t y_index_count, const int32_t* x_index,
                                        size_t x_index_count, const void* x, size_t x_size, void* y, size_t y_size,
                                        int32_t variant);

// Resize, linear, over the last two axes of an [nc, in_h, in_w] tensor, with 11-bit integer
// weights. y_taps (out_h entries) and x_taps (out_w entries) hold 3 int32 each: i0, i1, w with
// 0 <= i0, i1 < the input size and w in [0, 2048] (the fraction of the way from i0 to i1 times 2048,
// computed once per plan from the ONNX coordinate transformation; resizeLinearTaps in
// src/kernels/int8/qlayout-ref.ts). With a = x - x_zero_point:
//   h(r, ox)   = (2048 - wx) * a[r][x.i0] + wx * a[r][x.i1]                 (|h| <= 2^11 * 255)
//   acc(oy, ox) = (2048 - wy) * h(y.i0, ox) + wy * h(y.i1, ox)                (|acc| <= 2^22 * 255, exact int32)
//   y = RequantizeOne(acc, rq), rq per tensor with M = Sx / (Sy * 2^22) (any mode).
// A 1-D resize passes in_h = out_h = 1 with the y tap (0, 0, 0). Needs no workspace.
OPQ_API const char* opq_qresize_linear(size_t nc, size_t in_h, size_t in_w, size_t out_h, size_t out_w,
                                       const int32_t* y_taps, size_t y_taps_count, const int32_t* x_taps,
                                       size_t x_taps_count, const void* x, size_t x_size, int32_t is_signed,
                                       int32_t x_zero_point, const opq_requant* rq, void* y, size_t y_size,
                                       int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
