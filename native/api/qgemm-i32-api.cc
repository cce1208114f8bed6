// Validated C entry points of qgemm_i32 (native/include/onnxptq.h). Every size is checked here,
// once, before any kernel touches memory; the variants below trust their arguments.
#include <cstdint>
#include <cstring>

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
uint64_t Workspace64(size_t m, size_t n, size_t k, int32_t v, bool packed_b) {
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return opq::QGemmI32Avx2Workspace(m, n, k, packed_b);
    case OPQ_VARIANT_AVX512VNNI:
      return opq::QGemmI32Avx512VnniWorkspace(m, n, k, packed_b);
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return opq::QGemmI32WasmSimdWorkspace(m, n, k, packed_b);
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

// Packed B, past the header: the variant's PackB layout (qgemm-i32.h).
uint64_t PackedBBytes64(size_t n, size_t k, int32_t v) {
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return opq::QGemmI32Avx2PackedBBytes(n, k);
    case OPQ_VARIANT_AVX512VNNI:
      return opq::QGemmI32Avx512VnniPackedBBytes(n, k);
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return opq::QGemmI32WasmSimdPackedBBytes(n, k);
#endif
    default:
      return opq::QGemmI32RefPackedBBytes(n, k);
  }
}

void PackB(const opq::GemmOperands& o, int32_t v, uint8_t* dst) {
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      opq::QGemmI32Avx2PackB(o, dst);
      break;
    case OPQ_VARIANT_AVX512VNNI:
      opq::QGemmI32Avx512VnniPackB(o, dst);
      break;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      opq::QGemmI32WasmSimdPackB(o, dst);
      break;
#endif
    default:
      opq::QGemmI32RefPackB(o, dst);
      break;
  }
}

void Run(const opq::QGemmI32Args& args, int32_t v) {
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
}

// The packed B's header; the variant's layout follows at kPackedData bytes from the start.
constexpr uint32_t kPackedMagic = 0x42323349u;  // "I32B"
constexpr size_t kPackedData = 64;
struct PackedHeader {
  uint32_t magic;
  int32_t variant;
  uint64_t n, k;
  uint64_t total;  // bytes, header included
};

uint64_t PackedTotal64(size_t n, size_t k, int32_t v) { return kPackedData + PackedBBytes64(n, k, v); }

// A packed B's header, read and checked.
const char* CheckPacked(const void* packed, size_t packed_size, PackedHeader* h) {
  if (packed == nullptr) return "qgemm_i32: packed is null";
  if (reinterpret_cast<uintptr_t>(packed) % 16 != 0) return "qgemm_i32: packed must be 16-byte aligned";
  if (packed_size < kPackedData) return "qgemm_i32: packed is smaller than its header";
  std::memcpy(h, packed, sizeof *h);
  if (h->magic != kPackedMagic) return "qgemm_i32: packed does not hold a packed B (opq_qgemm_i32_pack_b)";
  if (h->n > kMaxDim || h->k > kMaxDim || !opq::VariantAvailable(h->variant) ||
      h->total != PackedTotal64(static_cast<size_t>(h->n), static_cast<size_t>(h->k), h->variant) ||
      h->total > packed_size)
    return "qgemm_i32: packed B's header is damaged or its buffer is truncated";
  return nullptr;
}

// The operands' buffers (sets each one's span in elements) and zero points, one check each.
const char* CheckA(size_t m, size_t k, const void* a, size_t a_size, size_t lda, size_t* a_need) {
  if (!opq::SpanOf(m, k, lda, a_need)) return "qgemm_i32: lda must be >= K";
  if (*a_need > a_size) return "qgemm_i32: buffer A is smaller than (M-1)*lda + K";
  if (*a_need > 0 && a == nullptr) return "qgemm_i32: A is null";
  return nullptr;
}

const char* CheckB(size_t n, size_t k, const void* b, size_t b_size, size_t ldb, size_t* b_need) {
  if (!opq::SpanOf(k, n, ldb, b_need)) return "qgemm_i32: ldb must be >= N";
  if (*b_need > b_size) return "qgemm_i32: buffer B is smaller than (K-1)*ldb + N";
  if (*b_need > 0 && b == nullptr) return "qgemm_i32: B is null";
  return nullptr;
}

const char* CheckY(size_t m, size_t n, const int32_t* y, size_t y_size, size_t ldy, size_t* y_need) {
  if (!opq::SpanOf(m, n, ldy, y_need)) return "qgemm_i32: ldy must be >= N";
  if (*y_need > y_size) return "qgemm_i32: buffer Y is smaller than (M-1)*ldy + N";
  if (*y_need > 0 && y == nullptr) return "qgemm_i32: Y is null";
  return nullptr;
}

const char* CheckAZeroPoints(const int32_t* zp, size_t count, size_t m, int32_t a_signed) {
  return CheckZeroPoints(zp, count, m, a_signed, "qgemm_i32: a_zero_point is null",
                         "qgemm_i32: a_zero_point must have 1 or M entries",
                         "qgemm_i32: a_zero_point out of A's type range");
}

const char* CheckBZeroPoints(const int32_t* zp, size_t count, size_t n, int32_t b_signed) {
  return CheckZeroPoints(zp, count, n, b_signed, "qgemm_i32: b_zero_point is null",
                         "qgemm_i32: b_zero_point must have 1 or N entries",
                         "qgemm_i32: b_zero_point out of B's type range");
}

const char* CheckWorkspace(size_t m, size_t n, size_t k, int32_t v, bool packed_b, const void* workspace,
                           size_t workspace_size) {
  const uint64_t ws = Workspace64(m, n, k, v, packed_b);
  if (uint64_t(workspace_size) < ws) return "qgemm_i32: workspace is smaller than opq_qgemm_i32_workspace_size()";
  if (ws > 0 && workspace == nullptr) return "qgemm_i32: workspace is null";
  return nullptr;
}

}  // namespace

extern "C" {

int32_t opq_qgemm_i32_auto_variant(void) { return opq::AutoVariant(); }

size_t opq_qgemm_i32_workspace_size(size_t m, size_t n, size_t k, int32_t variant) {
  if (m > kMaxDim || n > kMaxDim || k > kMaxDim) return 0;
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v)) return 0;
  const uint64_t ws = Workspace64(m, n, k, v, false);
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
  if (const char* err = CheckA(m, k, a, a_size, lda, &a_need)) return err;
  if (const char* err = CheckB(n, k, b, b_size, ldb, &b_need)) return err;
  if (const char* err = CheckY(m, n, y, y_size, ldy, &y_need)) return err;
  // y_need <= y_size elements of a real int32 buffer: y_need * 4 does not overflow.
  if (Overlap(y, y_need * sizeof(int32_t), a, a_need) || Overlap(y, y_need * sizeof(int32_t), b, b_need))
    return "qgemm_i32: Y overlaps A or B";
  if (const char* err = CheckAZeroPoints(a_zero_point, a_zero_point_count, m, a_signed)) return err;
  if (const char* err = CheckBZeroPoints(b_zero_point, b_zero_point_count, n, b_signed)) return err;
  if (m == 0 || n == 0) return nullptr;
  if (const char* err = CheckWorkspace(m, n, k, v, false, workspace, workspace_size)) return err;
  const opq::QGemmI32Args args{
      {m, n, k, static_cast<const uint8_t*>(a), lda, a_signed != 0, a_zero_point, a_zero_point_count != 1,
       static_cast<const uint8_t*>(b), ldb, b_signed != 0, b_zero_point, b_zero_point_count != 1},
      y,
      ldy,
      workspace,
      pool};
  Run(args, v);
  return nullptr;
}

size_t opq_qgemm_i32_packed_b_size(size_t n, size_t k, int32_t variant) {
  if (n > kMaxDim || k > kMaxDim) return 0;
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v)) return 0;
  const uint64_t total = PackedTotal64(n, k, v);
  return total > uint64_t(~size_t{0}) ? 0 : static_cast<size_t>(total);
}

const char* opq_qgemm_i32_pack_b(size_t n, size_t k, const void* b, size_t b_size, size_t ldb, int32_t b_signed,
                                 const int32_t* b_zero_point, size_t b_zero_point_count, int32_t variant, void* packed,
                                 size_t packed_size) {
  if (n > kMaxDim || k > kMaxDim) return "qgemm_i32: N and K must be at most 2^28";
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v)) return "qgemm_i32: variant is not available on this CPU or build";
  size_t b_need = 0;
  if (const char* err = CheckB(n, k, b, b_size, ldb, &b_need)) return err;
  if (const char* err = CheckBZeroPoints(b_zero_point, b_zero_point_count, n, b_signed)) return err;
  const uint64_t total = PackedTotal64(n, k, v);
  if (uint64_t(packed_size) < total) return "qgemm_i32: packed is smaller than opq_qgemm_i32_packed_b_size()";
  if (packed == nullptr) return "qgemm_i32: packed is null";
  if (reinterpret_cast<uintptr_t>(packed) % 16 != 0) return "qgemm_i32: packed must be 16-byte aligned";
  if (Overlap(packed, static_cast<size_t>(total), b, b_need)) return "qgemm_i32: packed overlaps B";
  uint8_t* base = static_cast<uint8_t*>(packed);
  std::memset(base, 0, static_cast<size_t>(total));
  const PackedHeader h{kPackedMagic, v, n, k, total};
  std::memcpy(base, &h, sizeof h);
  const opq::GemmOperands o{0,
                            n,
                            k,
                            nullptr,
                            0,
                            false,
                            nullptr,
                            false,
                            static_cast<const uint8_t*>(b),
                            ldb,
                            b_signed != 0,
                            b_zero_point,
                            b_zero_point_count != 1};
  PackB(o, v, base + kPackedData);
  return nullptr;
}

size_t opq_qgemm_i32_packed_workspace_size(size_t m, const void* packed, size_t packed_size) {
  PackedHeader h;
  if (CheckPacked(packed, packed_size, &h) != nullptr || m > kMaxDim) return 0;
  const uint64_t ws = Workspace64(m, static_cast<size_t>(h.n), static_cast<size_t>(h.k), h.variant, true);
  return ws > uint64_t(~size_t{0}) ? ~size_t{0} : static_cast<size_t>(ws);
}

const char* opq_qgemm_i32_packed(size_t m, const void* a, size_t a_size, size_t lda, int32_t a_signed,
                                 const int32_t* a_zero_point, size_t a_zero_point_count, const void* packed,
                                 size_t packed_size, int32_t* y, size_t y_size, size_t ldy, void* workspace,
                                 size_t workspace_size, opq_threadpool* pool) {
  PackedHeader h;
  if (const char* err = CheckPacked(packed, packed_size, &h)) return err;
  if (m > kMaxDim) return "qgemm_i32: M, N and K must be at most 2^28";
  const size_t n = static_cast<size_t>(h.n), k = static_cast<size_t>(h.k);
  size_t a_need = 0, y_need = 0;
  if (const char* err = CheckA(m, k, a, a_size, lda, &a_need)) return err;
  if (const char* err = CheckY(m, n, y, y_size, ldy, &y_need)) return err;
  if (Overlap(y, y_need * sizeof(int32_t), a, a_need) ||
      Overlap(y, y_need * sizeof(int32_t), packed, static_cast<size_t>(h.total)))
    return "qgemm_i32: Y overlaps A or the packed B";
  if (const char* err = CheckAZeroPoints(a_zero_point, a_zero_point_count, m, a_signed)) return err;
  if (m == 0 || n == 0) return nullptr;
  if (const char* err = CheckWorkspace(m, n, k, h.variant, true, workspace, workspace_size)) return err;
  opq::QGemmI32Args args{{m, n, k, static_cast<const uint8_t*>(a), lda, a_signed != 0, a_zero_point,
                          a_zero_point_count != 1, nullptr, 0, false, nullptr, false},
                         y,
                         ldy,
                         workspace,
                         pool};
  args.packed_b = static_cast<const uint8_t*>(packed) + kPackedData;
  Run(args, h.variant);
  return nullptr;
}

}  // extern "C"
