// Validated entry points of Add and Mul (native/include/opq_qbinary.h).
#include "api/api-common.h"
#include "broadcast/broadcast.h"
#include "qlut/qlut.h"
#include "opq_qbinary.h"
#include "qadd/qadd.h"
#include "qmul/qmul.h"
#include "requant/requant.h"

namespace opq {

const char* ValidateRequantPerTensor(const opq_requant* rq, int32_t y_signed) {
  if (rq == nullptr) return "requant: params are null";
  if (rq->count != 1) return "requant: count must be 1 (per tensor) for this kernel";
  return ValidateRequant(rq, 1, y_signed);
}

namespace {

const char* CheckBinaryBuffers(const BroadcastPlan& plan, const void* a, size_t a_size, const void* b, size_t b_size,
                               const void* y, size_t y_size) {
  if (a_size < plan.a_count) return "buffer A is smaller than the product of a_shape";
  if (b_size < plan.b_count) return "buffer B is smaller than the product of b_shape";
  if (y_size < plan.total) return "buffer Y is smaller than the broadcast output shape";
  if (plan.total > 0 && (a == nullptr || b == nullptr || y == nullptr)) return "A, B or Y is null";
  return nullptr;
}

}  // namespace
}  // namespace opq

extern "C" {

const char* opq_qadd(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                     const void* b, size_t b_size, int32_t is_signed, const opq_qadd_params* p, void* y, size_t y_size,
                     int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "qadd: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  opq::BroadcastPlan plan;
  if (const char* err = opq::MakeBroadcastPlan("qadd", rank, a_shape, b_shape, &plan)) return err;
  if (const char* err = opq::CheckBinaryBuffers(plan, a, a_size, b, b_size, y, y_size)) return err;
  if (p == nullptr) return "qadd: params are null";
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  if (p->mode != OPQ_REQUANT_FIXED_POINT && p->mode != OPQ_REQUANT_FLOAT && p->mode != OPQ_REQUANT_SHIFT)
    return "qadd: params.mode must be 0 (fixed-point), 1 (float) or 2 (shift)";
  if (p->a_zero_point < tmin || p->a_zero_point > tmax) return "qadd: params.a_zero_point out of the type's range";
  if (p->b_zero_point < tmin || p->b_zero_point > tmax) return "qadd: params.b_zero_point out of the type's range";
  if (p->output_zero_point < tmin || p->output_zero_point > tmax)
    return "qadd: params.output_zero_point out of the type's range";
  if (p->output_min < tmin || p->output_max > tmax || p->output_min > p->output_max)
    return "qadd: params.output_min/output_max must satisfy type_min <= output_min <= output_max <= type_max";
  if (p->mode == OPQ_REQUANT_FLOAT) {
    if (!(p->a_scale >= 0.0f && p->a_scale <= 3.0e38f)) return "qadd: params.a_scale must be finite and >= 0";
    if (!(p->b_scale >= 0.0f && p->b_scale <= 3.0e38f)) return "qadd: params.b_scale must be finite and >= 0";
  } else {
    if (p->left_shift < 0 || p->left_shift > 22) return "qadd: params.left_shift must be in [0, 22]";
    if (p->a_shift < -31 || p->a_shift > 31) return "qadd: params.a_shift must be in [-31, 31]";
    if (p->b_shift < -31 || p->b_shift > 31) return "qadd: params.b_shift must be in [-31, 31]";
    if (p->output_shift < -31 || p->output_shift > 31) return "qadd: params.output_shift must be in [-31, 31]";
    if (p->mode == OPQ_REQUANT_FIXED_POINT && (p->a_multiplier < 0 || p->b_multiplier < 0 || p->output_multiplier < 0))
      return "qadd: params.a_multiplier, b_multiplier and output_multiplier must be >= 0";
  }
  opq::QAddRowFn row = opq::QAddRowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) row = requested == OPQ_VARIANT_AVX512VNNI ? opq::QAddRowAvx512 : opq::QAddRowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) row = opq::QAddRowWasmSimd;
#endif
  const float fixed = opq::QAddFloatFixed(*p);
  const bool s = is_signed != 0;
  const opq_qadd_params& params = *p;
  opq::ForEachBroadcastRow(plan, static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b),
                           static_cast<uint8_t*>(y),
                           [&](const uint8_t* ra, bool as, const uint8_t* rb, bool bs, size_t n, uint8_t* ry) {
                             row(ra, as, rb, bs, n, s, params, fixed, ry);
                           });
  return nullptr;
}

const char* opq_qmul(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                     int32_t a_zero_point, const void* b, size_t b_size, int32_t b_zero_point, int32_t is_signed,
                     const opq_requant* rq, void* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "qmul: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  opq::BroadcastPlan plan;
  if (const char* err = opq::MakeBroadcastPlan("qmul", rank, a_shape, b_shape, &plan)) return err;
  if (const char* err = opq::CheckBinaryBuffers(plan, a, a_size, b, b_size, y, y_size)) return err;
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  if (a_zero_point < tmin || a_zero_point > tmax) return "qmul: a_zero_point out of the type's range";
  if (b_zero_point < tmin || b_zero_point > tmax) return "qmul: b_zero_point out of the type's range";
  if (const char* err = opq::ValidateRequantPerTensor(rq, is_signed)) return err;
  opq::QMulRowFn row = opq::QMulRowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) row = requested == OPQ_VARIANT_AVX512VNNI ? opq::QMulRowAvx512 : opq::QMulRowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) row = opq::QMulRowWasmSimd;
#endif
  const bool s = is_signed != 0;
  const opq_requant& r = *rq;
  opq::ForEachBroadcastRow(plan, static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b),
                           static_cast<uint8_t*>(y),
                           [&](const uint8_t* ra, bool as, const uint8_t* rb, bool bs, size_t n, uint8_t* ry) {
                             row(ra, as, a_zero_point, rb, bs, b_zero_point, n, s, r, ry);
                           });
  return nullptr;
}

const char* opq_lut2(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                     const void* b, size_t b_size, const uint8_t* table, size_t table_size, void* y, size_t y_size,
                     int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "lut2: variant is not available on this CPU or build";
  opq::BroadcastPlan plan;
  if (const char* err = opq::MakeBroadcastPlan("lut2", rank, a_shape, b_shape, &plan)) return err;
  if (const char* err = opq::CheckBinaryBuffers(plan, a, a_size, b, b_size, y, y_size)) return err;
  if (table_size != 65536) return "lut2: table must have exactly 65536 entries";
  if (table == nullptr) return "lut2: table is null";
  const uintptr_t t0 = reinterpret_cast<uintptr_t>(table), y0 = reinterpret_cast<uintptr_t>(y);
  if (plan.total > 0 && y0 < t0 + table_size && t0 < y0 + plan.total) return "lut2: Y overlaps the table";
  opq::Lut2(plan, static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b), table, static_cast<uint8_t*>(y),
            opq::LutFor(requested));
  return nullptr;
}

}  // extern "C"
