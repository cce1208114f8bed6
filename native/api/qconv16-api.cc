// Validated entry points of the A16W8 convolution (native/include/opq_qconv16.h).
#include "api/api-common.h"
#include "opq_qconv16.h"
#include "qconv16/qconv16.h"
#include "requant/requant.h"

namespace {

constexpr uint64_t kMaxCount = (uint64_t{1} << 31) - 1;

const opq::Qc16Kernels* KernelsFor(int32_t v) {
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return &opq::Qc16KernelsAvx2();
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return &opq::Qc16KernelsWasmSimd();
#endif
    default:
      return nullptr;  // the reference loop
  }
}

// Geometry plus the element counts of X, Y and W (each below 2^31).
const char* Geom(const opq_conv2d_shape* s, opq::ConvGeom* g) {
  if (const char* err = opq::MakeConvGeom(*s, g)) return err;
  const uint64_t xn = uint64_t(g->n) * g->cin * g->h * g->w;
  const uint64_t yn = uint64_t(g->n) * g->cout * g->oh * g->ow;
  if (xn > kMaxCount || yn > kMaxCount) return "qconv16: X or Y has more than 2^31 - 1 elements";
  return nullptr;
}

}  // namespace

namespace opq {

const char* Qc16ValidateRequantWide(const opq_requant* rq, size_t channels, int32_t y_type) {
  int32_t tmin, tmax;
  Qc16TypeRange(y_type, &tmin, &tmax);
  if (const char* err = ValidateRequantRange(rq, channels, tmin, tmax)) return err;
  // The 16x8 requantization reduces the multiplier to 15 bits and shifts right by 15 - shift.
  if (rq->mode == OPQ_REQUANT_FIXED_POINT)
    for (size_t i = 0; i < static_cast<size_t>(rq->count); ++i)
      if (rq->shift[i] >= 15)
        return "qconv16: fixed-point requant needs total_shift = 15 - shift >= 1 (multipliers >= 2^14 are not "
               "supported)";
  return nullptr;
}

const char* Qc16ValidateOperands(int32_t x_type, int32_t y_type, int32_t x_zero_point, const int32_t* w_zero_point,
                                 size_t w_zero_point_count, const int32_t* bias, size_t bias_count,
                                 const opq_requant* rq, size_t channels, uint64_t k) {
  if (!Qc16ValidType(x_type)) return "x_type must be 0 (uint8), 1 (int8), 2 (int16) or 3 (uint16)";
  if (!Qc16ValidType(y_type)) return "y_type must be 0 (uint8), 1 (int8), 2 (int16) or 3 (uint16)";
  int32_t xmin, xmax;
  Qc16TypeRange(x_type, &xmin, &xmax);
  if (x_zero_point < xmin || x_zero_point > xmax) return "x_zero_point out of X's type range";
  if (w_zero_point == nullptr || (w_zero_point_count != 1 && w_zero_point_count != channels))
    return "w_zero_point needs 1 or out_channels entries";
  int64_t wr = 0;
  for (size_t i = 0; i < w_zero_point_count; ++i) {
    const int32_t z = w_zero_point[i];
    if (z < -128 || z > 127) return "w_zero_point entries must be in [-128, 127]";
    const int64_t r = z + 128 > 127 - z ? z + 128 : 127 - z;
    wr = r > wr ? r : wr;
  }
  if (bias_count != 0 && (bias_count != channels || bias == nullptr)) return "bias needs 0 or out_channels entries";
  if (const char* err = Qc16ValidateRequantWide(rq, channels, y_type)) return err;
  // |acc| <= K * xr * wr + max|bias| < 2^47 (each factor is small enough for uint64).
  const int64_t xr = int64_t(x_zero_point) - xmin > int64_t(xmax) - x_zero_point ? int64_t(x_zero_point) - xmin
                                                                                 : int64_t(xmax) - x_zero_point;
  int64_t bmax = 0;
  for (size_t i = 0; i < bias_count; ++i) {
    const int64_t b = bias[i] < 0 ? -int64_t(bias[i]) : int64_t(bias[i]);
    bmax = b > bmax ? b : bmax;
  }
  if (k * uint64_t(xr) * uint64_t(wr) + uint64_t(bmax) >= (uint64_t{1} << 47))
    return "in_channels/groups * kernel_h * kernel_w * max|x - x_zero_point| * max|w - w_zero_point| + max|bias| "
           "must be below 2^47 (exact int64 accumulation)";
  return nullptr;
}

}  // namespace opq

extern "C" {

int32_t opq_qconv16_auto_variant(void) { return opq::ElementwiseIsa(opq::AutoVariant()); }

size_t opq_qconv16_workspace_size(const opq_conv2d_shape* s, int32_t variant) {
  if (s == nullptr) return 0;
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v) || KernelsFor(opq::ElementwiseIsa(v)) == nullptr) return 0;
  opq::ConvGeom g;
  if (Geom(s, &g) != nullptr) return 0;
  return opq::Qc16WorkspaceSize(g);
}

const char* opq_qconv16(const opq_conv2d_shape* s, const void* x, size_t x_size, int32_t x_type, int32_t x_zero_point,
                        const int8_t* w, size_t w_size, const int32_t* w_zero_point, size_t w_zero_point_count,
                        const int32_t* bias, size_t bias_count, const opq_requant* rq, void* y, size_t y_size,
                        int32_t y_type, void* workspace, size_t workspace_size, int32_t variant, opq_threadpool* pool) {
  if (s == nullptr) return "qconv16: shape is null";
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "qconv16: variant is not available on this CPU or build";
  opq::ConvGeom g;
  if (const char* err = Geom(s, &g)) return err;
  const size_t in_count = g.n * g.cin * g.h * g.w;
  const size_t out_count = g.n * g.cout * g.oh * g.ow;
  const size_t w_count = g.cout * g.kg;  // < 2^31 (MakeConvGeom)
  if (x_size < in_count) return "qconv16: buffer X is smaller than batch * in_channels * in_height * in_width";
  if (y_size < out_count) return "qconv16: buffer Y is smaller than batch * out_channels * out_h * out_w";
  if (w_size < w_count)
    return "qconv16: buffer W is smaller than out_channels * in_channels/groups * kernel_h * kernel_w";
  if ((in_count > 0 && x == nullptr) || (out_count > 0 && y == nullptr) || w == nullptr)
    return "qconv16: X, W or Y is null";
  if (const char* err = opq::Qc16ValidateOperands(x_type, y_type, x_zero_point, w_zero_point, w_zero_point_count, bias,
                                                  bias_count, rq, g.cout, g.kg))
    return err;
  const opq::Qc16Kernels* k = KernelsFor(opq::ElementwiseIsa(requested));
  const size_t need = k ? opq::Qc16WorkspaceSize(g) : 0;
  if (workspace_size < need || (need > 0 && workspace == nullptr))
    return "qconv16: workspace is smaller than opq_qconv16_workspace_size";
  if ((reinterpret_cast<uintptr_t>(workspace) & 15) != 0) return "qconv16: workspace must be 16-byte aligned";
  if (out_count == 0) return nullptr;
  const opq::Qc16Args a{x,  x_type, x_zero_point, w, w_zero_point, w_zero_point_count, bias_count ? bias : nullptr,
                        rq, y,      y_type};
  if (k == nullptr || need == 0)
    opq::Qc16RunRef(g, a);
  else
    opq::Qc16RunFast(g, a, *k, workspace, pool);
  return nullptr;
}

}  // extern "C"
