// A16W8 integer 2-D ConvTranspose ("qconvtranspose16"): 8- or 16-bit activations (x_type, y_type:
// the OPQ_QC16_* ids of opq_qconv16.h), int8 weights in the ONNX layout, exact int64 accumulation,
// the wide requantization of opq_qconv16 (opq_qconv16.h: fixed-point 16x8, float, shift). NCHW in
// and out; 1-D is 2-D with height 1.
//
// Geometry: opq_convtranspose2d_shape, validated exactly as opq_convtranspose2d_output_size does
// (opq_convtranspose.h). Input pixel (ih, iw) of channel ci in group g adds
// (x - x_zero_point) * (w[ci][j][ki][kj] - w_zero_point[oc or 0]) to output (oc = g*out_channels/groups + j,
// oh = ih*stride_h + ki*dilation_h - pad_top, ow = iw*stride_w + kj*dilation_w - pad_left) when it
// falls inside the output; acc = bias[oc] + that sum, exactly in int64; y = RequantizeWide(acc).
// x_zero_point lies in X's type range, w_zero_point entries in [-128, 127], bias has 0 or
// out_channels int32 entries, rq 1 or out_channels channels (clamp and zero point in Y's range;
// fixed-point params with 15 - shift < 1 refused, as opq_qconv16).
//
// Bound (checked before any memory is touched): with K = in_channels/groups * kernel_h * kernel_w,
// xr = max |x - x_zero_point| over X's type range and wr = max |w - w_zero_point| over int8, the
// call is refused unless K * xr * wr + max|bias| < 2^47 (the geometry's K <= 33025 already keeps it).
#pragma once

#include "onnxptq.h"
#include "opq_convtranspose.h"  // opq_convtranspose2d_shape, opq_threadpool
#include "opq_qconv16.h"        // OPQ_QC16_* element types

#ifdef __cplusplus
extern "C" {
#endif

// The variant OPQ_VARIANT_AUTO resolves to for qconvtranspose16.
OPQ_API int32_t opq_qconvtranspose16_auto_variant(void);

// Bytes of workspace opq_qconvtranspose16 needs: 0 for the reference variant, an invalid geometry or
// variant, or weights whose packed copy would pass 256 MiB (the call then runs the reference loop).
// Does not depend on the number of threads.
OPQ_API size_t opq_qconvtranspose16_workspace_size(const opq_convtranspose2d_shape* s, int32_t variant);

// Y = RequantizeWide(bias + sum (X - x_zero_point) * (W - w_zero_point)) as above. Sizes are element
// counts (bytes for the workspace, 16-byte aligned). NULL on success, else a static message naming
// the argument. `pool` may be NULL; output rows split across it, results never depend on it.
OPQ_API const char* opq_qconvtranspose16(const opq_convtranspose2d_shape* s, const void* x, size_t x_size,
                                         int32_t x_type, int32_t x_zero_point, const int8_t* w, size_t w_size,
                                         const int32_t* w_zero_point, size_t w_zero_point_count, const int32_t* bias,
                                         size_t bias_count, const opq_requant* rq, void* y, size_t y_size,
                                         int32_t y_type, void* workspace, size_t workspace_size, int32_t variant,
                                         opq_threadpool* pool);

#ifdef __cplusplus
}  // extern "C"
#endif
