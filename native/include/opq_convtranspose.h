// Integer 2-D ConvTranspose (ONNX ConvTranspose on 8-bit data: the integer meaning of a QDQ
// ConvTranspose), NCHW in and out. 1-D is 2-D with height 1.
//
// Weights are in_channels x (out_channels/groups) x kernel_h x kernel_w (the ONNX layout). Input
// pixel (ih, iw) of channel ci in group g adds (x - x_zero_point) * (w[ci][j][ki][kj] - w_zero_point[oc])
// to output (oc = g*out_channels/groups + j, oh = ih*stride_h + ki*dilation_h - pad_top,
// ow = iw*stride_w + kj*dilation_w - pad_left) when it falls inside the output, whose size is
//   out = (in - 1) * stride + (kernel - 1) * dilation + 1 + output_padding - pad_begin - pad_end.
// Explicit pads and output_padding only: auto_pad and output_shape resolve to them first (the
// lowering does, as the ONNX spec and onnxruntime define). The int32 accumulator (bias[oc] +
// the sum) is requantized per output channel: y = RequantizeOne(acc, rq) (opq_requant).
//
// Implementation: per group an int32 GEMM (columns = W^T (out_channels/groups * kh * kw x
// in_channels/groups) times X (in_channels/groups x pixels), int16 pair products, exact) over a
// chunk of input rows, then "col2im add": each column row is added into the int32 accumulator at
// its (stride, dilation, pad) positions. The accumulator is a sliding window of output rows, which
// are requantized (bias first, per output channel) as soon as no later input row can reach them.
#pragma once

#include "onnxptq.h"
#include "opq_conv.h"  // opq_threadpool

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opq_convtranspose2d_shape {
  int32_t batch, in_channels, in_height, in_width;
  int32_t out_channels, kernel_h, kernel_w, groups;
  int32_t stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  int32_t output_padding_h, output_padding_w;
} opq_convtranspose2d_shape;

// Validates the geometry and writes the output size; NULL on success, else a message naming the
// field: every field >= 0 and <= 2^28; channels, sizes, kernel, strides, dilations, groups >= 1;
// channels divisible by groups; output_padding smaller than the stride or the dilation (ONNX);
// pads leaving at least one output row and column; in_channels/groups * kernel_h * kernel_w <= 33025
// (so that the int32 accumulation of 8-bit products, each at most 255 * 255, is exact); every
// tensor at most 2^31 - 1 elements.
OPQ_API const char* opq_convtranspose2d_output_size(const opq_convtranspose2d_shape* s, int32_t* out_h, int32_t* out_w);

// Bytes of workspace opq_qconvtranspose2d needs (0 for an invalid geometry or variant).
OPQ_API size_t opq_qconvtranspose2d_workspace_size(const opq_convtranspose2d_shape* s, int32_t variant);

// Y = requant(bias + sum (X - x_zero_point) * (W - w_zero_point)) as above. X uint8 (x_signed 0) or
// int8, Y uint8 or int8 (y_signed); w_zero_point has 1 or out_channels entries in [-128, 127];
// bias 0 or out_channels entries; rq 1 or out_channels channels. Sizes are element counts (bytes
// for the workspace, 16-byte aligned). Every argument is checked before any memory is touched.
// `pool` may be NULL; output-channel blocks are split across it when the layer is large enough, and
// the results never depend on the number of threads. The workspace does not depend on it either.
OPQ_API const char* opq_qconvtranspose2d(const opq_convtranspose2d_shape* s, const void* x, size_t x_size,
                                         int32_t x_signed, int32_t x_zero_point, const int8_t* w, size_t w_size,
                                         const int32_t* w_zero_point, size_t w_zero_point_count, const int32_t* bias,
                                         size_t bias_count, const opq_requant* rq, void* y, size_t y_size,
                                         int32_t y_signed, void* workspace, size_t workspace_size, int32_t variant,
                                         opq_threadpool* pool);

#ifdef __cplusplus
}  // extern "C"
#endif
