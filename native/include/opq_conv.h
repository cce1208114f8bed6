// Integer 2-D convolution (QLinearConv / ConvInteger semantics) and the native thread pool.
// Weights are packed once (opq_qconv2d_pack) into an opaque buffer, then run many times
// (opq_qconv2d_run), like XNNPACK's create/setup/run. NCHW in and out.
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// A convolution's geometry. Weights are out_channels x (in_channels/groups) x kernel_h x kernel_w;
// X is batch x in_channels x in_height x in_width; Y is batch x out_channels x out_h x out_w with
// out = (in + pad_begin + pad_end - ((kernel - 1) * dilation + 1)) / stride + 1.
typedef struct opq_conv2d_shape {
  int32_t batch, in_channels, in_height, in_width;
  int32_t out_channels, kernel_h, kernel_w, groups;
  int32_t stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
} opq_conv2d_shape;

// A pool of worker threads that split large kernels. NULL everywhere means "this thread only".
// Results never depend on the number of threads.
typedef struct opq_threadpool opq_threadpool;

// A pool running `threads` threads in total (the caller's included); NULL when threads <= 1 or
// threads are unavailable (the wasm build).
OPQ_API opq_threadpool* opq_threadpool_create(size_t threads);
OPQ_API void opq_threadpool_destroy(opq_threadpool* pool);
// Threads of a pool (1 for NULL).
OPQ_API size_t opq_threadpool_threads(const opq_threadpool* pool);

// Validates the geometry and writes the output size; NULL on success.
OPQ_API const char* opq_conv2d_output_size(const opq_conv2d_shape* s, int32_t* out_h, int32_t* out_w);

// The variant OPQ_VARIANT_AUTO resolves to for convolution.
OPQ_API int32_t opq_qconv2d_auto_variant(void);

// Bytes the packed weights of this geometry take for this variant (0 for an invalid geometry).
OPQ_API size_t opq_qconv2d_packed_size(const opq_conv2d_shape* s, int32_t variant);

// Packs W (int8, w_zero_point: 1 or out_channels entries in [-128, 127]) and bias (0 or
// out_channels int32) for `variant` into `packed` (8-byte aligned, opq_qconv2d_packed_size bytes).
OPQ_API const char* opq_qconv2d_pack(const opq_conv2d_shape* s, const int8_t* w, size_t w_size,
                                     const int32_t* w_zero_point, size_t w_zero_point_count, const int32_t* bias,
                                     size_t bias_count, int32_t variant, void* packed, size_t packed_size);

// Bytes of workspace opq_qconv2d_run needs with these packed weights and `threads` threads.
OPQ_API size_t opq_qconv2d_workspace_size(const void* packed, size_t packed_size, size_t threads);

// Y = requant(sum (X - x_zero_point) * (W - w_zero_point) + bias), int32 accumulation with
// two's-complement wrap. X uint8 (x_signed 0) or int8, Y uint8 or int8; sizes are element counts.
// rq has 1 or out_channels entries. `pool` may be NULL; workspace (16-byte aligned) must hold
// opq_qconv2d_workspace_size(packed, packed_size, opq_threadpool_threads(pool)) bytes.
OPQ_API const char* opq_qconv2d_run(const opq_conv2d_shape* s, const void* packed, size_t packed_size, const void* x,
                                    size_t x_size, int32_t x_signed, int32_t x_zero_point, const opq_requant* rq,
                                    void* y, size_t y_size, int32_t y_signed, void* workspace, size_t workspace_size,
                                    opq_threadpool* pool);

#ifdef __cplusplus
}  // extern "C"
#endif
