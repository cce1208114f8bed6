// Validated entry point of the integer Softmax.
#include "api/api-common.h"
#include "opq_qsoftmax.h"
#include "qlut/qlut.h"
#include "qsoftmax/qsoftmax.h"

extern "C" {

const char* opq_qsoftmax(const void* x, size_t x_size, int32_t x_signed, size_t outer, size_t axis_len, size_t inner,
                         const uint32_t* table, size_t table_size, int32_t multiplier, int32_t shift,
                         int32_t y_zero_point, int32_t y_min, int32_t y_max, void* y, size_t y_size, int32_t y_signed,
                         int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "softmax: variant is not available on this CPU or build";
  const size_t dims[3] = {outer, axis_len, inner};
  size_t count = 0;
  if (outer > opq::kApiMaxElements || axis_len > opq::kApiMaxElements || inner > opq::kApiMaxElements ||
      !opq::CheckedProduct(dims, 3, &count))
    return "softmax: outer * axis_len * inner must be at most 2^31 - 1";
  if (axis_len > (size_t{1} << 24)) return "softmax: axis_len must be at most 2^24";
  if (table == nullptr || table_size != 256) return "softmax: table must have 256 entries";
  for (size_t d = 0; d < 256; ++d)
    if (table[d] > OPQ_SOFTMAX_ONE) return "softmax: table entries must be at most OPQ_SOFTMAX_ONE";
  if (table[0] < 1) return "softmax: table[0] must be >= 1";
  if (multiplier < 1 || multiplier >= (int32_t{1} << 24)) return "softmax: multiplier must be in [1, 2^24)";
  if (shift < 0 || shift > 62) return "softmax: shift must be in [0, 62]";
  const int32_t tmin = y_signed ? -128 : 0, tmax = y_signed ? 127 : 255;
  if (y_zero_point < tmin || y_zero_point > tmax) return "softmax: y_zero_point out of the output type's range";
  if (y_min < tmin || y_max > tmax || y_min > y_max)
    return "softmax: y_min and y_max must satisfy type_min <= y_min <= y_max <= type_max";
  if (x_size < count) return "softmax: buffer X is smaller than outer * axis_len * inner";
  if (y_size < count) return "softmax: buffer Y is smaller than outer * axis_len * inner";
  if (count > 0 && (x == nullptr || y == nullptr)) return "softmax: X or Y is null";
  const opq::QSoftmaxParams p{table, uint64_t(multiplier), shift, y_zero_point, y_min, y_max};
  opq::QSoftmaxLutFn lut_fn = nullptr;  // the reference: every output through QSoftmaxOne
#if defined(__x86_64__) || defined(_M_X64)
  if (opq::ElementwiseIsa(requested) == OPQ_VARIANT_AVX2) lut_fn = opq::QSoftmaxLutAvx2;
#endif
  opq::QSoftmax(static_cast<const uint8_t*>(x), x_signed != 0, outer, axis_len, inner, p, lut_fn,
                opq::LutFor(requested), static_cast<uint8_t*>(y));
  return nullptr;
}

}  // extern "C"
