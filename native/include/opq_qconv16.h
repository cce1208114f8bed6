// A16W8 integer 2-D convolution ("qconv16"): 8- or 16-bit activations, int8 weights, exact int64
// accumulation, requantized to an 8- or 16-bit output. NCHW in and out; 1-D is 2-D with height 1.
//
// Geometry: opq_conv2d_shape (opq_conv.h), validated exactly as opq_conv2d_output_size does, with
// out = (in + pad_begin + pad_end - ((kernel - 1) * dilation + 1)) / stride + 1. Weights are int8,
// OIHW (out_channels x in_channels/groups x kernel_h x kernel_w), read as they are (no pack step).
//
// Element types (x_type, y_type): OPQ_QC16_UINT8, OPQ_QC16_INT8, OPQ_QC16_INT16, OPQ_QC16_UINT16.
//
//   acc[n][oc][oh][ow] = bias[oc] + sum over (ic of the group, kh, kw, inside the input) of
//                        (x - x_zero_point) * (w - w_zero_point[oc or 0])
// exactly, in int64 (padding contributes nothing). x_zero_point lies in X's type range,
// w_zero_point entries in [-128, 127], bias has 0 or out_channels int32 entries.
//
// Bound (checked before any memory is touched): with K = in_channels/groups * kernel_h * kernel_w,
// xr = max(|xmin - x_zero_point|, |xmax - x_zero_point|) over X's type range and
// wr = max over the w_zero_point entries of max(|-128 - zp|, |127 - zp|), the call is refused
// unless K * xr * wr + max|bias| < 2^47; so |acc| < 2^47 always.
//
// Requantization of acc to Y per output channel c (opq_requant, 1 or out_channels channels, its
// clamp [output_min, output_max] inside Y's type range), lo = output_min - zp, hi = output_max - zp,
// zp = output_zero_point; y = clamp(v, lo, hi) + zp where v is:
// - fixed-point (TFLite's 16x8 MultiplyByQuantizedMultiplier(int64 acc, int32 m0, int shift)):
//   reduced = m0 < 0x7FFF0000 ? (m0 + 2^15) >> 16 : 0x7FFF; total_shift = 15 - shift;
//   v = (acc * reduced + 2^(total_shift - 1)) >> total_shift (arithmetic shift: floor), 0 when
//   total_shift >= 63. Params with total_shift < 1 (shift >= 15, M >= 2^14) are refused.
// - float: f = float32(float32(acc) * scale[c]) (int64 -> float32 correctly rounded, one float32
//   multiply), clamped to [lo, hi] and rounded half to even (no separate v).
// - shift: s = shift[c]; s >= 0: v = acc * 2^s (when acc != 0 and s >= 16, lo or hi by the sign
//   of acc); s < 0: v = RoundingDivideByPOT(acc, -s) on int64 (round half away from zero).
#pragma once

#include "onnxptq.h"
#include "opq_conv.h"  // opq_conv2d_shape, opq_threadpool

#ifdef __cplusplus
extern "C" {
#endif

// Element types of X and Y.
enum {
  OPQ_QC16_UINT8 = 0,
  OPQ_QC16_INT8 = 1,
  OPQ_QC16_INT16 = 2,
  OPQ_QC16_UINT16 = 3,
};

// The variant OPQ_VARIANT_AUTO resolves to for qconv16.
OPQ_API int32_t opq_qconv16_auto_variant(void);

// Bytes of workspace opq_qconv16 needs for this geometry and variant: 0 for the reference variant,
// an invalid geometry or variant, or a layer whose SIMD workspace would pass 256 MiB (it then runs
// the reference loop). Does not depend on the number of threads.
OPQ_API size_t opq_qconv16_workspace_size(const opq_conv2d_shape* s, int32_t variant);

// Y = requant(acc) as above. Sizes are element counts (bytes for the workspace, 16-byte aligned).
// Every argument is checked before any memory is touched; NULL on success, else a static message
// naming the argument. `pool` may be NULL; output rows and channel blocks are split across it when
// the layer is large enough, and the results never depend on the number of threads.
OPQ_API const char* opq_qconv16(const opq_conv2d_shape* s, const void* x, size_t x_size, int32_t x_type,
                                int32_t x_zero_point, const int8_t* w, size_t w_size, const int32_t* w_zero_point,
                                size_t w_zero_point_count, const int32_t* bias, size_t bias_count,
                                const opq_requant* rq, void* y, size_t y_size, int32_t y_type, void* workspace,
                                size_t workspace_size, int32_t variant, opq_threadpool* pool);

#ifdef __cplusplus
}  // extern "C"
#endif
