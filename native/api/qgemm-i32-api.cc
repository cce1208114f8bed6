// Validated C entry points of qgemm_i32 (native/include/onnxptq.h). Every size is checked here,
// once, before any kernel touches memory; the variants below trust their arguments.
#include <cstdint>

#include "api/api-common.h"
#include "dispatch/dispatch.h"
#include "onnxptq.h"
#include "opq_conv.h"
#include "qgemm-i32/qgemm-i32.h"

namespace {

// As opq_qgemm: no real layer has a dimension above 2^28, and it keeps every product of two sizes
// far from overflow on 32-bit wasm.
constexpr size_t kMaxDim = size_t{1} << 28;

// The workspace of a variant in 64 bits (0 for the reference).
uint64_t Workspace64(size_t m, size_t n, size_t k, int32_t v) {
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return opq::QGemmI32Avx2Workspace(m, n, k);
    case OPQ_VARIANT_AVX512VNNI:
      return opq::QGemmI32Avx512VnniWorkspace(m, n, k);
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return opq::QGemmI32WasmSimdWorkspace(m, n, k);
#endif
    default:
      return 0;
  }
}

bool Overlap(const void* p, size_t p_bytes, const void* q, size_t q_bytes) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(q);
  return p_bytes != 0 && q_bytes != 0 && a < b + q_bytes && b < a + p_bytes;
}

// Zero points: 1 or `count` entries, each in the 8-bit type's range.
const char* CheckZeroPoints(const int32_t* zp, size_t zp_count, size_t count, int32_t is_signed, const char* null_msg,
                            const char* count_msg, const char* range_msg) {
  if (zp_count != 1 && zp_count != count) return count_msg;
  if (zp_count != 0 && zp == nullptr) return null_msg;
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  for (size_t i = 0; i < zp_count; ++i)
    if (zp[i] < lo || zp[i] > hi) return range_msg;
  return nullptr;
}

}  // namespace

extern "C" {

int32_t opq_qgemm_i32_auto_variant(void) { return opq::AutoVariant(); }

size_t opq_qgemm_i32_workspace_size(size_t m, size_t n, size_t k, int32_t variant) {
  if (m > kMaxDim || n > kMaxDim || k > kMaxDim) return 0;
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v)) return 0;
  const uint64_t ws = Workspace64(m, n, k, v);
  return ws > uint64_t(~size_t{0}) ? ~size_t{0} : static_cast<size_t>(ws);
}

const char* opq_qgemm_i32(size_t m, size_t n, size_t k, const void* a, size_t a_size, size_t lda, int32_t a_signed,
                          const int32_t* a_zero_point, size_t a_zero_point_count, const void* b, size_t b_size,
                          size_t ldb, int32_t b_signed, const int32_t* b_zero_point, size_t b_zero_point_count,
                          int32_t* y, size_t y_size, size_t ldy, void* workspace, size_t workspace_size,
                          int32_t variant, opq_threadpool* pool) {
  if (m > kMaxDim || n > kMaxDim || k > kMaxDim) return "qgemm_i32: M, N and K must be at most 2^28";
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v)) return "qgemm_i32: variant is not available on this CPU or build";
  size_t a_need = 0, b_need = 0, y_need = 0;
  if (!opq::SpanOf(m, k, lda, &a_need)) return "qgemm_i32: lda must be >= K";
  if (a_need > a_size) return "qgemm_i32: buffer A is smaller than (M-1)*lda + K";
  if (a_need > 0 && a == nullptr) return "qgemm_i32: A is null";
  if (!opq::SpanOf(k, n, ldb, &b_need)) return "qgemm_i32: ldb must be >= N";
  if (b_need > b_size) return "qgemm_i32: buffer B is smaller than (K-1)*ldb + N";
  if (b_need > 0 && b == nullptr) return "qgemm_i32: B is null";
  if (!opq::SpanOf(m, n, ldy, &y_need)) return "qgemm_i32: ldy must be >= N";
  if (y_need > y_size) return "qgemm_i32: buffer Y is smaller than (M-1)*ldy + N";
  if (y_need > 0 && y == nullptr) return "qgemm_i32: Y is null";
  // y_need <= y_size elements of a real int32 buffer: y_need * 4 does not overflow.
  if (Overlap(y, y_need * sizeof(int32_t), a, a_need) || Overlap(y, y_need * sizeof(int32_t), b, b_need))
    return "qgemm_i32: Y overlaps A or B";
  if (const char* err = CheckZeroPoints(
          a_zero_point, a_zero_point_count, m, a_signed, "qgemm_i32: a_zero_point is null",
          "qgemm_i32: a_zero_point must have 1 or M entries", "qgemm_i32: a_zero_point out of A's type range"))
    return err;
  if (const char* err = CheckZeroPoints(
          b_zero_point, b_zero_point_count, n, b_signed, "qgemm_i32: b_zero_point is null",
          "qgemm_i32: b_zero_point must have 1 or N entries", "qgemm_i32: b_zero_point out of B's type range"))
    return err;
  if (m == 0 || n == 0) return nullptr;
  const uint64_t ws = Workspace64(m, n, k, v);
  if (uint64_t(workspace_size) < ws) return "qgemm_i32: workspace is smaller than opq_qgemm_i32_workspace_size()";
  if (ws > 0 && workspace == nullptr) return "qgemm_i32: workspace is null";

  const opq::QGemmI32Args args{
      {m, n, k, static_cast<const uint8_t*>(a), lda, a_signed != 0, a_zero_point, a_zero_point_count != 1,
       static_cast<const uint8_t*>(b), ldb, b_signed != 0, b_zero_point, b_zero_point_count != 1},
      y,
      ldy,
      workspace,
      pool};
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      opq::QGemmI32Avx2(args);
      break;
    case OPQ_VARIANT_AVX512VNNI:
      opq::QGemmI32Avx512Vnni(args);
      break;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      opq::QGemmI32WasmSimd(args);
      break;
#endif
    default:
      opq::QGemmI32Ref(args);
      break;
  }
  return nullptr;
}

}  // extern "C"
