// Quantized ReduceMean over any set of axes, 8-bit in and out (is_signed: int8, else uint8).
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// x has `rank` <= 8 dims; reduce[i] != 0 marks axis i as reduced. y holds the kept axes in their
// order (keepdims only changes the shape, not the data). With count = the product of the reduced
// dims (1 when none; at most 2^23, so the sum stays within int32):
//   acc = sum over the reduced axes of (x - x_zero_point)   (exact int32)
//   y   = RequantizeOne(acc, rq), rq per tensor with M = Sx / (Sy * count) (any mode): one rounding.
// Strided and transpose-free: the innermost run is either summed (reduced) or accumulated into a
// stack row of int32 (kept); the kernel never allocates.
OPQ_API const char* opq_qreduce_mean(size_t rank, const size_t* dims, const int32_t* reduce, const void* x,
                                     size_t x_size, int32_t is_signed, int32_t x_zero_point, const opq_requant* rq,
                                     void* y, size_t y_size, int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
