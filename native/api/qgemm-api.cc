// Validated C entry points for qgemm and row requantization. Every size is checked here, once,
// before any kernel touches memory; kernels below this line trust their arguments.
#include "api/api-common.h"
#include "dispatch/dispatch.h"
#include "onnxptq.h"
#include "qgemm/qgemm.h"
#include "requant/requant.h"

namespace {

using opq::SpanOf;

int32_t Resolve(int32_t variant) { return variant == OPQ_VARIANT_AUTO ? opq::AutoVariant() : variant; }

// Dimensions above 2^28 are refused: no real layer has them, and it keeps every product of two
// sizes far from overflow on 32-bit wasm.
constexpr size_t kMaxDim = size_t{1} << 28;

}  // namespace

extern "C" {

int32_t opq_qgemm_auto_variant(void) { return opq::AutoVariant(); }

size_t opq_qgemm_workspace_size(size_t m, size_t n, size_t k, int32_t variant) {
  if (m > kMaxDim || n > kMaxDim || k > kMaxDim) return 0;
  switch (Resolve(variant)) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return opq::QGemmAvx2Workspace(m, n, k);
    case OPQ_VARIANT_AVX512VNNI:
      return opq::QGemmAvx512VnniWorkspace(m, n, k);
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return opq::QGemmWasmSimdWorkspace(m, n, k);
#endif
    default:
      return opq::QGemmRefWorkspace(m, n, k);
  }
}

const char* opq_qgemm(size_t m, size_t n, size_t k, const void* a, size_t a_size, size_t lda, int32_t a_signed,
                      int32_t a_zero_point, const int8_t* b, size_t b_size, size_t ldb, const int32_t* b_zero_point,
                      size_t b_zero_point_count, const int32_t* bias, size_t bias_count, const opq_requant* rq, void* y,
                      size_t y_size, size_t ldy, int32_t y_signed, void* workspace, size_t workspace_size,
                      int32_t variant) {
  if (m > kMaxDim || n > kMaxDim || k > kMaxDim) return "qgemm: M, N and K must be at most 2^28";
  const int32_t v = Resolve(variant);
  if (!opq::VariantAvailable(v)) return "qgemm: variant is not available on this CPU or build";
  size_t need = 0;
  if (!SpanOf(m, k, lda, &need)) return "qgemm: lda must be >= K";
  if (need > a_size) return "qgemm: buffer A is smaller than (M-1)*lda + K";
  if (need > 0 && a == nullptr) return "qgemm: A is null";
  if (!SpanOf(k, n, ldb, &need)) return "qgemm: ldb must be >= N";
  if (need > b_size) return "qgemm: buffer B is smaller than (K-1)*ldb + N";
  if (need > 0 && b == nullptr) return "qgemm: B is null";
  if (!SpanOf(m, n, ldy, &need)) return "qgemm: ldy must be >= N";
  if (need > y_size) return "qgemm: buffer Y is smaller than (M-1)*ldy + N";
  if (need > 0 && y == nullptr) return "qgemm: Y is null";
  const int32_t amin = a_signed ? -128 : 0, amax = a_signed ? 127 : 255;
  if (a_zero_point < amin || a_zero_point > amax) return "qgemm: a_zero_point out of A's type range";
  if (b_zero_point == nullptr) return "qgemm: b_zero_point is null";
  if (b_zero_point_count != 1 && b_zero_point_count != n) return "qgemm: b_zero_point must have 1 or N entries";
  for (size_t j = 0; j < b_zero_point_count; ++j)
    if (b_zero_point[j] < -128 || b_zero_point[j] > 127) return "qgemm: b_zero_point out of int8 range";
  if (bias_count != 0 && bias_count != n) return "qgemm: bias must have 0 or N entries";
  if (bias_count != 0 && bias == nullptr) return "qgemm: bias is null";
  if (const char* err = opq::ValidateRequant(rq, n, y_signed)) return err;
  if (m == 0 || n == 0) return nullptr;
  const size_t ws = opq_qgemm_workspace_size(m, n, k, v);
  if (workspace_size < ws) return "qgemm: workspace is smaller than opq_qgemm_workspace_size()";
  if (workspace == nullptr) return "qgemm: workspace is null";

  const opq::QGemmArgs args{m,
                            n,
                            k,
                            static_cast<const uint8_t*>(a),
                            lda,
                            a_signed != 0,
                            a_zero_point,
                            b,
                            ldb,
                            b_zero_point,
                            b_zero_point_count != 1,
                            bias_count ? bias : nullptr,
                            rq,
                            static_cast<uint8_t*>(y),
                            ldy,
                            workspace};
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      opq::QGemmAvx2(args);
      break;
    case OPQ_VARIANT_AVX512VNNI:
      opq::QGemmAvx512Vnni(args);
      break;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      opq::QGemmWasmSimd(args);
      break;
#endif
    default:
      opq::QGemmRef(args);
      break;
  }
  return nullptr;
}

const char* opq_requantize_row(const int32_t* acc, size_t count, const opq_requant* rq, void* y, size_t y_size,
                               int32_t y_signed, int32_t variant) {
  const int32_t v = Resolve(variant);
  if (!opq::VariantAvailable(v)) return "requantize_row: variant is not available on this CPU or build";
  if (count > kMaxDim) return "requantize_row: count must be at most 2^28";
  if (count > 0 && (acc == nullptr || y == nullptr)) return "requantize_row: acc or y is null";
  if (y_size < count) return "requantize_row: buffer Y is smaller than count";
  if (const char* err = opq::ValidateRequant(rq, count, y_signed)) return err;
  opq::RequantRowFor(v)(acc, nullptr, count, *rq, 0, static_cast<uint8_t*>(y));
  return nullptr;
}

}  // extern "C"
