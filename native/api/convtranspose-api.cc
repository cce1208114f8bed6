// Validated entry points of integer ConvTranspose (native/include/opq_convtranspose.h).
#include "api/api-common.h"
#include "opq_convtranspose.h"
#include "qconvtranspose/qconvtranspose.h"

namespace {

const opq::CtKernels* KernelsFor(int32_t v) {
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return &opq::CtKernelsAvx2();
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return &opq::CtKernelsWasmSimd();
#endif
    default:
      return &opq::CtKernelsRef();
  }
}

}  // namespace

extern "C" {

const char* opq_convtranspose2d_output_size(const opq_convtranspose2d_shape* s, int32_t* out_h, int32_t* out_w) {
  if (s == nullptr || out_h == nullptr || out_w == nullptr) return "convtranspose: shape or output pointers are null";
  opq::CtGeom g;
  if (const char* err = opq::MakeCtGeom(*s, &g)) return err;
  *out_h = static_cast<int32_t>(g.oh);
  *out_w = static_cast<int32_t>(g.ow);
  return nullptr;
}

size_t opq_qconvtranspose2d_workspace_size(const opq_convtranspose2d_shape* s, int32_t variant) {
  if (s == nullptr) return 0;
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v)) return 0;
  opq::CtGeom g;
  if (opq::MakeCtGeom(*s, &g) != nullptr) return 0;
  return opq::CtWorkspaceSize(g);
}

const char* opq_qconvtranspose2d(const opq_convtranspose2d_shape* s, const void* x, size_t x_size, int32_t x_signed,
                                 int32_t x_zero_point, const int8_t* w, size_t w_size, const int32_t* w_zero_point,
                                 size_t w_zero_point_count, const int32_t* bias, size_t bias_count,
                                 const opq_requant* rq, void* y, size_t y_size, int32_t y_signed, void* workspace,
                                 size_t workspace_size, int32_t variant, opq_threadpool* pool) {
  if (s == nullptr) return "convtranspose: shape is null";
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "convtranspose: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  opq::CtGeom g;
  if (const char* err = opq::MakeCtGeom(*s, &g)) return err;
  const size_t in_count = g.n * g.cin * g.h * g.w;
  const size_t out_count = g.n * g.cout * g.oh * g.ow;
  const size_t w_count = g.cin * g.cout_g * g.kh * g.kw;
  if (x_size < in_count) return "convtranspose: buffer X is smaller than batch * in_channels * in_height * in_width";
  if (y_size < out_count) return "convtranspose: buffer Y is smaller than batch * out_channels * out_h * out_w";
  if (w_size < w_count)
    return "convtranspose: buffer W is smaller than in_channels * out_channels/groups * kernel_h * kernel_w";
  if ((in_count > 0 && x == nullptr) || (out_count > 0 && y == nullptr) || w == nullptr)
    return "convtranspose: X, W or Y is null";
  const int32_t tmin = x_signed ? -128 : 0, tmax = x_signed ? 127 : 255;
  if (x_zero_point < tmin || x_zero_point > tmax) return "convtranspose: x_zero_point out of the input type's range";
  if (w_zero_point == nullptr || (w_zero_point_count != 1 && w_zero_point_count != g.cout))
    return "convtranspose: w_zero_point needs 1 or out_channels entries";
  for (size_t i = 0; i < w_zero_point_count; ++i)
    if (w_zero_point[i] < -128 || w_zero_point[i] > 127)
      return "convtranspose: w_zero_point entries must be in [-128, 127]";
  if (bias_count != 0 && (bias_count != g.cout || bias == nullptr))
    return "convtranspose: bias needs 0 or out_channels entries";
  if (const char* err = opq::ValidateRequant(rq, g.cout, y_signed)) return err;
  const size_t need = opq::CtWorkspaceSize(g);
  if (workspace_size < need || (need > 0 && workspace == nullptr))
    return "convtranspose: workspace is smaller than opq_qconvtranspose2d_workspace_size";
  if ((reinterpret_cast<uintptr_t>(workspace) & 15) != 0) return "convtranspose: workspace must be 16-byte aligned";
  if (out_count == 0) return nullptr;
  opq::CtRun(g, *KernelsFor(v), static_cast<const uint8_t*>(x), x_signed != 0, x_zero_point, w, w_zero_point,
             w_zero_point_count, bias_count ? bias : nullptr, *rq, static_cast<uint8_t*>(y), workspace, pool);
  return nullptr;
}

}  // extern "C"
