// Quantized 2-D pooling, NCHW, 8-bit in and out (is_signed: int8, else uint8).
//
// Window geometry (ONNX MaxPool/AveragePool): output size along an axis is
//   floor((in + pad_begin + pad_end - ((kernel - 1) * dilation + 1)) / stride) + 1, or with ceil_mode
//   the ceiling, minus one when the last window would start at or beyond in + pad_begin (windows that
//   start in the end padding are dropped, as onnxruntime and PyTorch do); opq_pool_output_size.
//   Output (oy, ox) covers input rows oy * stride_h - pad_top + ky * dilation_h, ky < kernel_h
//   (columns likewise); taps outside the input are padding.
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// Output size along one axis, or 0 when the arguments are invalid (kernel, stride or dilation 0,
// or the dilated kernel larger than the padded input).
OPQ_API size_t opq_pool_output_size(size_t in, size_t kernel, size_t stride, size_t pad_begin, size_t pad_end,
                                    size_t dilation, int32_t ceil_mode);

// MaxPool: the maximum of the valid taps (exact on quantized data: max commutes with monotonic
// quantization; input and output share scale and zero point). A window with no valid tap (pads at
// least as large as the dilated kernel) gives the type minimum (the quantized -infinity).
OPQ_API const char* opq_qmaxpool(size_t n, size_t c, size_t in_h, size_t in_w, size_t kernel_h, size_t kernel_w,
                                 size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t pad_bottom,
                                 size_t pad_right, size_t dilation_h, size_t dilation_w, int32_t ceil_mode,
                                 const void* x, size_t x_size, int32_t is_signed, void* y, size_t y_size,
                                 int32_t variant);

// AveragePool: acc = sum over the valid taps of (x - x_zero_point) in int32; count = the number of
// valid taps, or with count_include_pad the taps inside the padded input (in + pads; the extra
// columns ceil_mode adds are never counted); avg = RoundHalfAwayFromZero(acc / count) exactly
// (sign(acc) * floor((2|acc| + count) / (2 count))), 0 when count is 0; y = RequantizeOne(avg, rq)
// with a per-tensor rq (M = Sx / Sy; M = 1, which every mode applies exactly, when x and y share
// their quantization). kernel_h * kernel_w <= 2^23 keeps acc within int32.
OPQ_API const char* opq_qavgpool(size_t n, size_t c, size_t in_h, size_t in_w, size_t kernel_h, size_t kernel_w,
                                 size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t pad_bottom,
                                 size_t pad_right, size_t dilation_h, size_t dilation_w, int32_t ceil_mode,
                                 int32_t count_include_pad, const void* x, size_t x_size, int32_t is_signed,
                                 int32_t x_zero_point, const opq_requant* rq, void* y, size_t y_size, int32_t variant);

// GlobalMaxPool over each of `channels` planes of `spatial` elements: y[c] = max (type minimum when
// spatial == 0).
OPQ_API const char* opq_qglobal_maxpool(size_t channels, size_t spatial, const void* x, size_t x_size,
                                        int32_t is_signed, void* y, size_t y_size, int32_t variant);

// GlobalAveragePool: acc = sum (x - x_zero_point) over the plane in int64, avg = RoundHalfAwayFromZero(
// acc / spatial) (0 when spatial == 0), y[c] = RequantizeOne(avg, rq), rq per tensor.
OPQ_API const char* opq_qglobal_avgpool(size_t channels, size_t spatial, const void* x, size_t x_size,
                                        int32_t is_signed, int32_t x_zero_point, const opq_requant* rq, void* y,
                                        size_t y_size, int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
