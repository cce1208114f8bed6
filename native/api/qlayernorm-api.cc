// Validated entry point of the integer LayerNorm.
#include <cmath>

#include "api/api-common.h"
#include "opq_qlayernorm.h"
#include "qlayernorm/qlayernorm.h"

extern "C" {

const char* opq_qlayernorm(const void* x, size_t x_size, int32_t x_signed, int32_t x_zero_point, size_t rows,
                           size_t length, double eps, int32_t gm, int32_t gs, const int32_t* gamma, const int32_t* beta,
                           size_t affine_size, int32_t y_zero_point, int32_t y_min, int32_t y_max, void* y,
                           size_t y_size, int32_t y_signed, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "layernorm: variant is not available on this CPU or build";
  if (length < 1 || length > OPQ_LAYERNORM_MAX_LENGTH) return "layernorm: length must be in [1, 4096]";
  const size_t dims[2] = {rows, length};
  size_t count = 0;
  if (rows > opq::kApiMaxElements || !opq::CheckedProduct(dims, 2, &count))
    return "layernorm: rows * length must be at most 2^31 - 1";
  const int32_t xmin = x_signed ? -128 : 0, xmax = x_signed ? 127 : 255;
  if (x_zero_point < xmin || x_zero_point > xmax) return "layernorm: x_zero_point out of the input type's range";
  if (!(eps >= 0 && eps <= 1125899906842624.0 && std::floor(eps) == eps))
    return "layernorm: eps must be an integer in [0, 2^50]";
  if (gm < (int32_t{1} << 30)) return "layernorm: gm must be in [2^30, 2^31)";
  if (gs < -1100 || gs > 1100) return "layernorm: gs must be in [-1100, 1100]";
  if ((gamma == nullptr) != (beta == nullptr)) return "layernorm: gamma and beta come together or not at all";
  if (gamma) {
    if (affine_size != length) return "layernorm: gamma and beta must have length entries";
    for (size_t i = 0; i < length; ++i) {
      if (gamma[i] < -32767 || gamma[i] > 32767) return "layernorm: gamma entries must be in [-32767, 32767]";
      if (beta[i] < -(1 << 20) || beta[i] > (1 << 20)) return "layernorm: beta entries must be in [-2^20, 2^20]";
    }
  }
  const int32_t tmin = y_signed ? -128 : 0, tmax = y_signed ? 127 : 255;
  if (y_zero_point < tmin || y_zero_point > tmax) return "layernorm: y_zero_point out of the output type's range";
  if (y_min < tmin || y_max > tmax || y_min > y_max)
    return "layernorm: y_min and y_max must satisfy type_min <= y_min <= y_max <= type_max";
  if (x_size < count) return "layernorm: buffer X is smaller than rows * length";
  if (y_size < count) return "layernorm: buffer Y is smaller than rows * length";
  if (count > 0 && (x == nullptr || y == nullptr)) return "layernorm: X or Y is null";
  const opq::QLayerNormParams p{length, int64_t(eps), gm, gs, gamma, beta, y_zero_point, y_min, y_max};
  opq::QLayerNormOutFn out = nullptr;  // the reference: every pass scalar
#if defined(__x86_64__) || defined(_M_X64)
  if (opq::ElementwiseIsa(requested) == OPQ_VARIANT_AVX2) out = opq::QLayerNormOutAvx2;
#endif
  opq::QLayerNorm(static_cast<const uint8_t*>(x), x_signed != 0, x_zero_point, rows, p, out, static_cast<uint8_t*>(y));
  return nullptr;
}

}  // extern "C"
