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

// Resize, nearest, over the last two axes of an [nc, in_h, in_w] tensor: y[p][oy][ox] =
// x[p][y_index[oy]][x_index[ox]]. The ONNX coordinate transformation and nearest modes live in the
// index tables, computed once at lowering time (resizeNearestIndex in src/kernels/int8/qresize-ref.ts);
// every index must be inside the input. Rows that repeat the previous source row are copied, and
// x_index = ox / f (integer upsampling) takes a replication fast path.
OPQ_API const char* opq_qresize_nearest(size_t nc, size_t in_h, size_t in_w, size_t out_h, size_t out_w,
                                        const int32_t* y_index, size_t y_index_count, const int32_t* x_index,
                                        size_t x_index_count, const void* x, size_t x_size, void* y, size_t y_size,
                                        int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
