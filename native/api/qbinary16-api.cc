// Validated entry points of the A16W8 Add and Mul (native/include/opq_qbinary16.h).
#include "api/api-common.h"
#include "broadcast/broadcast.h"
#include "opq_qbinary16.h"
#include "qbinary16/qbinary16.h"

namespace {

const char* CheckTypes(int32_t at, int32_t bt, int32_t yt) {
  if (!opq::Qc16ValidType(at) || !opq::Qc16ValidType(bt) || !opq::Qc16ValidType(yt))
    return "qbinary16: a_type, b_type and y_type must be 0 (uint8), 1 (int8), 2 (int16) or 3 (uint16)";
  return nullptr;
}

const char* CheckBuffers(const opq::BroadcastPlan& plan, const void* a, size_t a_size, const void* b, size_t b_size,
                         const void* y, size_t y_size) {
  if (a_size < plan.a_count) return "buffer A is smaller than the product of a_shape";
  if (b_size < plan.b_count) return "buffer B is smaller than the product of b_shape";
  if (y_size < plan.total) return "buffer Y is smaller than the broadcast output shape";
  if (plan.total > 0 && (a == nullptr || b == nullptr || y == nullptr)) return "A, B or Y is null";
  return nullptr;
}

// max |x - z| over the type's range (z inside it).
int64_t Reach(int32_t type, int32_t z) {
  int32_t lo, hi;
  opq::Qc16TypeRange(type, &lo, &hi);
  return int64_t(z) - lo > int64_t(hi) - z ? int64_t(z) - lo : int64_t(hi) - z;
}

bool InRange(int32_t type, int32_t v) {
  int32_t lo, hi;
  opq::Qc16TypeRange(type, &lo, &hi);
  return v >= lo && v <= hi;
}

// Runs row(a, b, n, y) (pointers at each run's start) over the broadcast output.
template <typename Row>
void ForEachRun(const opq::BroadcastPlan& plan, const void* a, int32_t at, const void* b, int32_t bt, void* y,
                int32_t yt, Row&& row) {
  const size_t ea = opq::Qb16ElemSize(at), eb = opq::Qb16ElemSize(bt), ey = opq::Qb16ElemSize(yt);
  const uint8_t* pa = static_cast<const uint8_t*>(a);
  const uint8_t* pb = static_cast<const uint8_t*>(b);
  uint8_t* py = static_cast<uint8_t*>(y);
  opq::ForEachBroadcastRun(plan, [&](size_t ia, bool as, size_t ib, bool bs, size_t n, size_t iy) {
    row(pa + ia * ea, as, pb + ib * eb, bs, n, py + iy * ey);
  });
}

}  // namespace

extern "C" {

int32_t opq_qbinary16_auto_variant(void) { return opq::ElementwiseIsa(opq::AutoVariant()); }

const char* opq_qadd16(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                       int32_t a_type, const void* b, size_t b_size, int32_t b_type, const opq_qadd_params* p, void* y,
                       size_t y_size, int32_t y_type, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "qadd16: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  opq::BroadcastPlan plan;
  if (const char* err = opq::MakeBroadcastPlan("qadd16", rank, a_shape, b_shape, &plan)) return err;
  if (const char* err = CheckTypes(a_type, b_type, y_type)) return err;
  if (const char* err = CheckBuffers(plan, a, a_size, b, b_size, y, y_size)) return err;
  if (p == nullptr) return "qadd16: params are null";
  if (p->mode != OPQ_REQUANT_FIXED_POINT && p->mode != OPQ_REQUANT_FLOAT && p->mode != OPQ_REQUANT_SHIFT)
    return "qadd16: params.mode must be 0 (fixed-point), 1 (float) or 2 (shift)";
  if (!InRange(a_type, p->a_zero_point)) return "qadd16: params.a_zero_point out of A's type range";
  if (!InRange(b_type, p->b_zero_point)) return "qadd16: params.b_zero_point out of B's type range";
  if (!InRange(y_type, p->output_zero_point)) return "qadd16: params.output_zero_point out of Y's type range";
  if (!InRange(y_type, p->output_min) || !InRange(y_type, p->output_max) || p->output_min > p->output_max)
    return "qadd16: params.output_min/output_max must satisfy type_min <= output_min <= output_max <= type_max";
  if (p->mode == OPQ_REQUANT_FLOAT) {
    if (!(p->a_scale >= 0.0f && p->a_scale <= 3.0e38f)) return "qadd16: params.a_scale must be finite and >= 0";
    if (!(p->b_scale >= 0.0f && p->b_scale <= 3.0e38f)) return "qadd16: params.b_scale must be finite and >= 0";
  } else {
    if (p->left_shift < 0 || p->left_shift > 22) return "qadd16: params.left_shift must be in [0, 22]";
    if (p->a_shift < -31 || p->a_shift > 31) return "qadd16: params.a_shift must be in [-31, 31]";
    if (p->b_shift < -31 || p->b_shift > 31) return "qadd16: params.b_shift must be in [-31, 31]";
    if (p->output_shift < -31 || p->output_shift > 31) return "qadd16: params.output_shift must be in [-31, 31]";
    if (p->mode == OPQ_REQUANT_FIXED_POINT && (p->a_multiplier < 0 || p->b_multiplier < 0 || p->output_multiplier < 0))
      return "qadd16: params.a_multiplier, b_multiplier and output_multiplier must be >= 0";
    // (x - z) << left_shift must stay inside int32 over each input's range.
    if ((Reach(a_type, p->a_zero_point) << p->left_shift) >= (int64_t{1} << 31) ||
        (Reach(b_type, p->b_zero_point) << p->left_shift) >= (int64_t{1} << 31))
      return "qadd16: max|x - x_zero_point| * 2^left_shift must be below 2^31 for A and B (int32 arithmetic)";
  }
  opq::QAdd16RowFn row = opq::QAdd16RowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) row = opq::QAdd16RowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) row = opq::QAdd16RowWasmSimd;
#endif
  (void)v;
  const float fixed = opq::QAddFloatFixed(*p);
  const opq_qadd_params& params = *p;
  ForEachRun(plan, a, a_type, b, b_type, y, y_type,
             [&](const void* ra, bool as, const void* rb, bool bs, size_t n, void* ry) {
               row(ra, a_type, as, rb, b_type, bs, n, params, fixed, ry, y_type);
             });
  return nullptr;
}

const char* opq_qmul16(size_t rank, const size_t* a_shape, const size_t* b_shape, const void* a, size_t a_size,
                       int32_t a_type, int32_t a_zero_point, const void* b, size_t b_size, int32_t b_type,
                       int32_t b_zero_point, const opq_requant* rq, void* y, size_t y_size, int32_t y_type,
                       int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "qmul16: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  opq::BroadcastPlan plan;
  if (const char* err = opq::MakeBroadcastPlan("qmul16", rank, a_shape, b_shape, &plan)) return err;
  if (const char* err = CheckTypes(a_type, b_type, y_type)) return err;
  if (const char* err = CheckBuffers(plan, a, a_size, b, b_size, y, y_size)) return err;
  if (!InRange(a_type, a_zero_point)) return "qmul16: a_zero_point out of A's type range";
  if (!InRange(b_type, b_zero_point)) return "qmul16: b_zero_point out of B's type range";
  if (Reach(a_type, a_zero_point) * Reach(b_type, b_zero_point) >= (int64_t{1} << 31))
    return "qmul16: max|a - a_zero_point| * max|b - b_zero_point| must be below 2^31 (exact int32 product)";
  if (rq == nullptr) return "requant: params are null";
  if (rq->count != 1) return "requant: count must be 1 (per tensor) for this kernel";
  int32_t ymin, ymax;
  opq::Qc16TypeRange(y_type, &ymin, &ymax);
  if (const char* err = opq::ValidateRequantRange(rq, 1, ymin, ymax)) return err;
  opq::QMul16RowFn row = opq::QMul16RowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) row = opq::QMul16RowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) row = opq::QMul16RowWasmSimd;
#endif
  (void)v;
  const opq_requant& r = *rq;
  ForEachRun(plan, a, a_type, b, b_type, y, y_type,
             [&](const void* ra, bool as, const void* rb, bool bs, size_t n, void* ry) {
               row(ra, a_type, as, a_zero_point, rb, b_type, bs, b_zero_point, n, r, ry, y_type);
             });
  return nullptr;
}

}  // extern "C"
