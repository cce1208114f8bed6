// The float32 kernels (float executor and calibration): convolution, GEMM, pooling, elementwise.
// Same conventions as onnxptq.h: every entry point validates what it is handed before touching
// memory and returns NULL or a static message naming the argument. Results agree with a scalar
// reference within float rounding only: the SIMD variants sum in a different order (and use FMA).
#pragma once

#include "onnxptq.h"

#ifdef __cplusplus
extern "C" {
#endif

// The native thread pool (opq_conv.h creates it); NULL runs on the calling thread. Convolution and
// GEMM split their column blocks (depthwise: channels) across it; every output is computed the same
// way for any thread count, so results do not depend on it.
struct opq_threadpool;

// The variant OPQ_VARIANT_AUTO resolves to for the float kernels.
OPQ_API int32_t opq_f32_auto_variant(void);

// 2-D convolution, NCHW in and out. Only int32 fields so that the wasm side writes it as an
// Int32Array (act_min/act_max are float32 in the same 4-byte slots).
typedef struct opq_conv2d_f32_params {
  int32_t n, c, h, w;  // input
  int32_t m, kh, kw;   // output channels, kernel size
  int32_t oh, ow;      // output size (the caller applied pads, ceil and auto_pad rules)
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;  // the bottom/right pads are implied by oh/ow
  int32_t dilation_h, dilation_w;
  int32_t group;
  float act_min, act_max;  // fused clamp (ReLU: 0, +inf); -inf, +inf for none
} opq_conv2d_f32_params;

// Bytes of workspace opq_conv2d_f32 needs with `threads` threads (0 for invalid parameters: the call
// then names the error).
OPQ_API size_t opq_conv2d_f32_workspace_size(const opq_conv2d_f32_params* p, size_t threads, int32_t variant);

// y[n][m][oh][ow] = clamp(bias[m] + sum x[n][g*C/G + c][ih][iw] * w[m][c][kh][kw]), zero padding.
// x has n*c*h*w floats, w has m*(c/group)*kh*kw, bias 0 or m, y n*m*oh*ow.
OPQ_API const char* opq_conv2d_f32(const opq_conv2d_f32_params* p, const float* x, size_t x_size, const float* w,
                                   size_t w_size, const float* bias, size_t bias_size, float* y, size_t y_size,
                                   void* workspace, size_t workspace_size, struct opq_threadpool* pool,
                                   int32_t variant);

OPQ_API size_t opq_gemm_f32_workspace_size(size_t m, size_t n, size_t k, size_t threads, int32_t variant);

// Y[m][n] = clamp(alpha * sum_k A'[m][k] * B'[k][n] + beta * C[m*c_stride_m + n*c_stride_n]) where
// A' is A (M x K, leading dimension lda) or its transpose (A stored K x M), likewise B' (K x N or
// N x K). C may be NULL (c_size 0); its strides express the ONNX unidirectional broadcast (0 along a
// broadcast axis). Y is M x N with leading dimension ldy and must not overlap the operands.
OPQ_API const char* opq_gemm_f32(size_t m, size_t n, size_t k, const float* a, size_t a_size, size_t lda,
                                 int32_t trans_a, const float* b, size_t b_size, size_t ldb, int32_t trans_b,
                                 float alpha, float beta, const float* c, size_t c_size, size_t c_stride_m,
                                 size_t c_stride_n, float act_min, float act_max, float* y, size_t y_size, size_t ldy,
                                 void* workspace, size_t workspace_size, struct opq_threadpool* pool, int32_t variant);

enum {
  OPQ_POOL_MAX = 0,
  OPQ_POOL_AVG = 1,              // divisor: window positions inside the input
  OPQ_POOL_AVG_INCLUDE_PAD = 2,  // divisor: positions inside the input and the explicit pads
};

typedef struct opq_pool2d_f32_params {
  int32_t planes;  // N*C
  int32_t h, w, oh, ow;
  int32_t kh, kw, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
} opq_pool2d_f32_params;

OPQ_API size_t opq_pool2d_f32_workspace_size(const opq_pool2d_f32_params* p, int32_t variant);

// Max or average pooling over each of `planes` H x W planes. A max window with no position inside
// the input yields -inf; an average with a zero divisor yields 0 (the JS kernel's behaviour).
OPQ_API const char* opq_pool2d_f32(const opq_pool2d_f32_params* p, int32_t kind, const float* x, size_t x_size,
                                   float* y, size_t y_size, void* workspace, size_t workspace_size, int32_t variant);

// y[i] = mean or max of x[i*size .. i*size + size) (GlobalAveragePool, GlobalMaxPool).
OPQ_API const char* opq_global_pool_f32(size_t planes, size_t size, int32_t kind, const float* x, size_t x_size,
                                        float* y, size_t y_size, int32_t variant);

enum {
  OPQ_UNARY_RELU = 0,
  OPQ_UNARY_CLIP = 1,  // clamp(x, p0, p1)
  OPQ_UNARY_SIGMOID = 2,
  OPQ_UNARY_HARDSIGMOID = 3,  // clamp(p0 * x + p1, 0, 1)
  OPQ_UNARY_HARDSWISH = 4,    // x * clamp(x / 6 + 1/2, 0, 1)
  OPQ_UNARY_TANH = 5,
  OPQ_UNARY_LEAKYRELU = 6,  // x < 0 ? p0 * x : x
  OPQ_UNARY_GELU = 7,       // 0.5 x (1 + erf(x / sqrt 2)), the exact form (ONNX Gelu, approximate 'none')
  OPQ_UNARY_COUNT = 8,
};

// y[i] = op(x[i]); y may be x (in place).
OPQ_API const char* opq_unary_f32(int32_t op, float p0, float p1, const float* x, size_t x_size, float* y,
                                  size_t y_size, int32_t variant);

enum { OPQ_BINARY_ADD = 0, OPQ_BINARY_SUB = 1, OPQ_BINARY_MUL = 2, OPQ_BINARY_DIV = 3, OPQ_BINARY_COUNT = 4 };

// y[i] = a[i] op b[(i / inner) % b_size] for i < y_size, with a_size == y_size and y_size a multiple
// of b_size * inner: same shape (inner 1, b_size y_size), a scalar (b_size 1), a suffix of y's shape
// (inner 1), or a per-channel vector (b_size C, inner H*W). y may be a.
OPQ_API const char* opq_binary_f32(int32_t op, const float* a, size_t a_size, const float* b, size_t b_size,
                                   size_t inner, float* y, size_t y_size, int32_t variant);

// Calibration statistics of x[0..x_size) in one pass. out (out_size 4) receives: out[0] the minimum
// and out[1] the maximum over the values that are not NaN (+inf and -inf when there is none; a zero
// extreme is reported as +0 whatever the sign of the zeros), out[2] the number of elements equal to
// 0 (+0 or -0), out[3] the index of the first NaN or infinity, or -1. Exact in every variant.
OPQ_API const char* opq_scan_f32(const float* x, size_t x_size, double* out, size_t out_size, int32_t variant);

// For every x[i] that is not NaN: counts[clamp(floor(double(x[i]) * inv) + zero, 0, counts_size - 1)] += 1
// (NaN is skipped; +inf lands in the last bin, -inf in the first). inv must be positive and finite, zero
// an integer of magnitude at most 2^31, counts_size in [1, 2^20]; counts must not overlap x. With inv a
// power of two double(x) * inv is exact, so every variant counts the same bins. Counts stay exact up to 2^53.
OPQ_API const char* opq_histogram_f32(const float* x, size_t x_size, double inv, double zero, double* counts,
                                      size_t counts_size, int32_t variant);

// Geometry of opq_sum_rows_f32: `planes` blocks of `i` rows of `inner` floats (x), and one window
// axis over those rows: `k` taps (dilation apart, the first `pad` rows before row 0) at `o` output
// positions `stride` rows apart. Only int32 fields, so that the wasm side writes it as an Int32Array.
typedef struct opq_sum_rows_f32_params {
  int32_t planes, i, inner;  // >= 0
  int32_t k;                 // >= 1
  int32_t o;                 // >= 0
  int32_t stride;            // >= 1
  int32_t pad;               // >= 0
  int32_t dilation;          // >= 1
} opq_sum_rows_f32_params;

// Window row sums (bias-correction probes): for each plane a < planes, tap t < k and j < inner,
//   dst[(a*k + t)*inner + j] = 0 + x[(a*i + r0)*inner + j] + x[(a*i + r1)*inner + j] + ...
// in double, over the rows r = q*stride - pad + t*dilation of the output positions q < o (ascending)
// that lie in [0, i); 0 when there is none. x_size must be planes*i*inner, dst_size planes*k*inner,
// and dst must not overlap x. Each dst element is one chain of additions in that order in every
// variant (SIMD runs across j, never across rows): exact same bits everywhere.
OPQ_API const char* opq_sum_rows_f32(const opq_sum_rows_f32_params* p, const float* x, size_t x_size, double* dst,
                                     size_t dst_size, int32_t variant);

// A bias-correction probe of Conv (src/ptq/bias-correction.ts): the per-output-channel sums, over
// every output position, of Conv(x, delta) without bias, computed from x. geo holds 22 int32:
// N C M group, then a 3-D view (1-D and 2-D as unit leading axes) of the input sizes I0 I1 I2,
// kernel K0 K1 K2, output sizes O0 O1 O2, strides, dilations and begin pads (each of the three axes).
// x has N*C*I0*I1*I2 floats, delta M*(C/group)*K0*K1*K2, sums M doubles. work holds
// C*K + N*C*K0*I1*S2 + S2 + I2 + 2*K1 + 3*K2 (+ N*C*K0*I1*I2 unless axis 0 is one row, one tap, no pad) doubles,
// K = K0*K1*K2; nothing may overlap. The sums are in double in one fixed order (the definition:
// convProbeSumsF32Ref, src/kernels/f32/conv-probe.ts), the same bits in every variant (the variant
// picks the row-sum microkernel, which keeps every chain).
OPQ_API const char* opq_conv_probe_sums_f32(const int32_t* geo, size_t geo_size, const float* x, size_t x_size,
                                            const float* delta, size_t delta_size, double* sums, size_t sums_size,
                                            double* work, size_t work_size, int32_t variant);

// Exact sums: adds x[i] exactly into accumulator i of acc, n accumulators of OPQ_EXACT_SUM_WORDS int64
// each (zeroed to start): chunks 0..65 hold the sum of the finite terms as sum_k chunk_k * 2^(32k - 1074)
// (each chunk signed; carried now and then, so the chunks of one value depend on when), word 66 the
// double sum of the non-finite terms (0 if none), word 67 the adds since the last carry. The value is
// that of adding every term in exact arithmetic, in any order. x and acc must not overlap.
#define OPQ_EXACT_SUM_WORDS 68
OPQ_API const char* opq_exact_sum_add_f64(const double* x, size_t n, int64_t* acc, size_t acc_size);

// Softmax (log 0) or LogSoftmax (log 1) of x, read as outer x len x inner: for each o < outer and
// i < inner, the row r_k = x[(o*len + k)*inner + i], k < len, gives
//   m = max_k r_k (NaN when the row has a NaN), e_k = exp(r_k - m), s = sum_k e_k,
//   y[(o*len + k)*inner + i] = e_k / s, or r_k - m - log(s).
// A row with +inf or NaN is all NaN (inf - inf); -inf entries give 0 (log: -inf). x_size and y_size
// must be outer*len*inner; y may be x (in place) but must not overlap it otherwise. The `ref`
// variant is the definition in double with the C library's exp and log; SIMD variants use a
// polynomial exp and float arithmetic: a few ulps from it (DESIGN: float results may differ in the
// last ulps; below exp(-87.3) relative to the row's maximum an output is 0).
OPQ_API const char* opq_softmax_f32(size_t outer, size_t len, size_t inner, int32_t log, const float* x, size_t x_size,
                                    float* y, size_t y_size, int32_t variant);

// ConvTranspose's col2im for `channels` output channels over a 3-D view (1-D and 2-D as unit leading
// axes). geo holds 18 int32: D H W (input), KD KH KW (kernel), OD OH OW (output), strides, dilations,
// begin pads (each of depth, height, width). For each channel c, y[c][o] = bias[c] (0 without bias),
// then, in the order kd, kh, kw, id, ih, iw, y[c][od][oh][ow] += cols[c*Kv + (kd*KH + kh)*KW + kw][(id*H +
// ih)*W + iw] for every tap landing inside the output (od = id*sd + kd*dd - pd, likewise h and w). cols
// has channels*KD*KH*KW*D*H*W floats, y channels*OD*OH*OW, bias 0 or channels; y must not overlap cols.
OPQ_API const char* opq_col2im_f32(const int32_t* geo, size_t geo_size, size_t channels, const float* cols,
                                   size_t cols_size, const float* bias, size_t bias_size, float* y, size_t y_size);

// LayerNormalization's arithmetic over `rows` rows of n values: per row, m = (sum_i x_i) / n and
// v = (sum_i (x_i - m)^2) / n with the sums in double in index order, k = 1 / sqrt(v + eps), and
// y_i = (x_i - m) * k * scale_i (+ bias_i), evaluated in double left to right and rounded once to
// float: the TypeScript definition's (layerNormF32Ref) operations, so the same bits on every
// backend and variant. scale (and bias, or NULL) hold affine_size == n values; n >= 1; x_size and
// y_size are rows*n; y must not overlap x.
OPQ_API const char* opq_layernorm_f32(size_t rows, size_t n, const float* x, size_t x_size, const float* scale,
                                      const float* bias, size_t affine_size, double eps, float* y, size_t y_size,
                                      int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
