// The plain C ABI of the onnx-ptq kernels: the only surface the N-API glue (native/napi/) and the
// WebAssembly build (wasm/) call. Pointers, sizes and flat parameters; no allocation, no exceptions.
// Every entry point validates what it is handed before touching memory and returns NULL on success
// or a static message naming the argument that was refused.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__EMSCRIPTEN__)
#define OPQ_API __attribute__((used, visibility("default")))
#else
#define OPQ_API
#endif

// Requantization modes (DESIGN.md, "Arithmetic contract").
enum {
  OPQ_REQUANT_FIXED_POINT = 0,  // gemmlowp/TFLite: SRDHM by m0, then a rounding shift
  OPQ_REQUANT_FLOAT = 1,        // ONNX Runtime: float32(acc) * float32 scale, round half to even
  OPQ_REQUANT_SHIFT = 2,        // power-of-two multiplier: a rounding shift only
};

// Requantization of int32 accumulators to an 8-bit output (per tensor when count == 1, else one
// entry per output channel). For fixed-point, M = multiplier * 2^(shift - 31); for shift mode,
// M = 2^shift (shift < 0 divides); for float, M = scale. The result is clamped to
// [output_min, output_max], which is how ReLU and ReLU6 fuse.
typedef struct opq_requant {
  int32_t mode;
  int32_t count;              // 1 (per tensor) or the number of output channels
  const int32_t* multiplier;  // fixed-point m0 in [0, 2^31), `count` entries (fixed-point mode)
  const int32_t* shift;       // exponents in [-31, 31], `count` entries (fixed-point and shift modes)
  const float* scale;         // `count` entries (float mode)
  int32_t output_zero_point;
  int32_t output_min;
  int32_t output_max;
} opq_requant;

// Kernel variants: -1 lets the dispatcher choose from CPU features.
enum {
  OPQ_VARIANT_AUTO = -1,
  OPQ_VARIANT_REF = 0,
  OPQ_VARIANT_AVX2 = 1,
  OPQ_VARIANT_WASMSIMD = 2,
  OPQ_VARIANT_AVX512VNNI = 3,
  OPQ_VARIANT_COUNT = 4,
};

// Name of a variant ("ref", "avx2", ...), or NULL for an unknown index.
OPQ_API const char* opq_variant_name(int32_t variant);
// 1 when `variant` can run on this CPU/build, else 0.
OPQ_API int32_t opq_variant_available(int32_t variant);
// The variant OPQ_VARIANT_AUTO resolves to for qgemm.
OPQ_API int32_t opq_qgemm_auto_variant(void);

// Bytes of workspace opq_qgemm needs for these sizes and this variant.
OPQ_API size_t opq_qgemm_workspace_size(size_t m, size_t n, size_t k, int32_t variant);

// Y[m][n] = requant(sum_k (A[m][k] - a_zero_point) * (B[k][n] - b_zero_point[n]) + bias[n]).
// A is uint8 (a_signed == 0) or int8, row-major with leading dimension lda; B is int8 K x N with ldb;
// b_zero_point has 1 or N entries; bias has 0 or N entries; Y is uint8 or int8 with ldy.
// Sizes are element counts of each buffer. Accumulation is in int32 with two's-complement wrap
// (exact whenever the true sum fits in int32).
OPQ_API const char* opq_qgemm(size_t m, size_t n, size_t k, const void* a, size_t a_size, size_t lda, int32_t a_signed,
                              int32_t a_zero_point, const int8_t* b, size_t b_size, size_t ldb,
                              const int32_t* b_zero_point, size_t b_zero_point_count, const int32_t* bias,
                              size_t bias_count, const opq_requant* rq, void* y, size_t y_size, size_t ldy,
                              int32_t y_signed, void* workspace, size_t workspace_size, int32_t variant);

// qgemm_i32 (MatMulInteger): Y[m][n] = sum_k (A[m][k] - a_zero_point[m or 0]) * (B[k][n] - b_zero_point[n or 0])
// in int32 with two's-complement wrap, written as int32 (no requantization). A is uint8 (a_signed == 0)
// or int8, M x K with leading dimension lda; B is uint8 (b_signed == 0) or int8, K x N with ldb; Y is
// int32 M x N with ldy. a_zero_point has 1 or M entries in A's type range, b_zero_point 1 or N in
// B's. Sizes are element counts of each buffer; Y must not overlap A or B. `pool` may be NULL (the
// opq_threadpool of opq_conv.h): rows and columns are split across it when the product is large
// enough to gain, and the result never depends on the number of threads.
struct opq_threadpool;
// The variant OPQ_VARIANT_AUTO resolves to for qgemm_i32.
OPQ_API int32_t opq_qgemm_i32_auto_variant(void);
// Bytes of workspace opq_qgemm_i32 needs (0 for the reference variant or invalid arguments;
// SIZE_MAX when it would not fit in size_t). Does not depend on the number of threads.
OPQ_API size_t opq_qgemm_i32_workspace_size(size_t m, size_t n, size_t k, int32_t variant);
OPQ_API const char* opq_qgemm_i32(size_t m, size_t n, size_t k, const void* a, size_t a_size, size_t lda,
                                  int32_t a_signed, const int32_t* a_zero_point, size_t a_zero_point_count,
                                  const void* b, size_t b_size, size_t ldb, int32_t b_signed,
                                  const int32_t* b_zero_point, size_t b_zero_point_count, int32_t* y, size_t y_size,
                                  size_t ldy, void* workspace, size_t workspace_size, int32_t variant,
                                  struct opq_threadpool* pool);
// qgemm_i32 with a constant B (MatMulInteger's weights) packed once: opq_qgemm_i32_pack_b packs B
// and its zero points (as above) for `variant` into `packed`, 16-byte aligned and at least
// opq_qgemm_i32_packed_b_size(n, k, variant) bytes (0: invalid sizes or variant). The packed bytes
// start with a header (N, K, variant) that opq_qgemm_i32_packed checks; it then computes Y exactly
// as opq_qgemm_i32 with that B, packing only A, with a workspace of
// opq_qgemm_i32_packed_workspace_size bytes (0 also for a packed B it does not accept). Y must not
// overlap A or the packed bytes.
OPQ_API size_t opq_qgemm_i32_packed_b_size(size_t n, size_t k, int32_t variant);
OPQ_API const char* opq_qgemm_i32_pack_b(size_t n, size_t k, const void* b, size_t b_size, size_t ldb, int32_t b_signed,
                                         const int32_t* b_zero_point, size_t b_zero_point_count, int32_t variant,
                                         void* packed, size_t packed_size);
OPQ_API size_t opq_qgemm_i32_packed_workspace_size(size_t m, const void* packed, size_t packed_size);
OPQ_API const char* opq_qgemm_i32_packed(size_t m, const void* a, size_t a_size, size_t lda, int32_t a_signed,
                                         const int32_t* a_zero_point, size_t a_zero_point_count, const void* packed,
                                         size_t packed_size, int32_t* y, size_t y_size, size_t ldy, void* workspace,
                                         size_t workspace_size, struct opq_threadpool* pool);

// Requantizes `count` int32 values of one row (channel c of the requant params is element c).
// Exposed so the fixed-point paths can be tested element by element against the JS reference.
OPQ_API const char* opq_requantize_row(const int32_t* acc, size_t count, const opq_requant* rq, void* y, size_t y_size,
                                       int32_t y_signed, int32_t variant);

#ifdef __cplusplus
}  // extern "C"
#endif
