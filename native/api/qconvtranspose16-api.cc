// Validated entry points of the A16W8 ConvTranspose (native/include/opq_qconvtranspose16.h).
#include "api/api-common.h"
#include "opq_qconvtranspose16.h"
#include "qconvtranspose16/qconvtranspose16.h"

namespace {

opq::Ct16RunFn RunFor(int32_t v) {
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return opq::Ct16RunAvx2;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return opq::Ct16RunWasmSimd;
#endif
    default:
      return nullptr;  // the reference loop
  }
}

}  // namespace

extern "C" {

int32_t opq_qconvtranspose16_auto_variant(void) { return opq::ElementwiseIsa(opq::AutoVariant()); }

size_t opq_qconvtranspose16_workspace_size(const opq_convtranspose2d_shape* s, int32_t variant) {
  if (s == nullptr) return 0;
  const int32_t v = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(v) || RunFor(opq::ElementwiseIsa(v)) == nullptr) return 0;
  opq::CtGeom g;
  if (opq::MakeCtGeom(*s, &g) != nullptr) return 0;
  return opq::Ct16WorkspaceSize(g);
}

const char* opq_qconvtranspose16(const opq_convtranspose2d_shape* s, const void* x, size_t x_size, int32_t x_type,
                                 int32_t x_zero_point, const int8_t* w, size_t w_size, const int32_t* w_zero_point,
                                 size_t w_zero_point_count, const int32_t* bias, size_t bias_count,
                                 const opq_requant* rq, void* y, size_t y_size, int32_t y_type, void* workspace,
                                 size_t workspace_size, int32_t variant, opq_threadpool* pool) {
  if (s == nullptr) return "qconvtranspose16: shape is null";
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "qconvtranspose16: variant is not available on this CPU or build";
  opq::CtGeom g;
  if (const char* err = opq::MakeCtGeom(*s, &g)) return err;
  const size_t in_count = g.n * g.cin * g.h * g.w;
  const size_t out_count = g.n * g.cout * g.oh * g.ow;
  const size_t w_count = g.cin * g.cout_g * g.kh * g.kw;
  if (x_size < in_count) return "qconvtranspose16: buffer X is smaller than batch * in_channels * in_height * in_width";
  if (y_size < out_count) return "qconvtranspose16: buffer Y is smaller than batch * out_channels * out_h * out_w";
  if (w_size < w_count)
    return "qconvtranspose16: buffer W is smaller than in_channels * out_channels/groups * kernel_h * kernel_w";
  if ((in_count > 0 && x == nullptr) || (out_count > 0 && y == nullptr) || w == nullptr)
    return "qconvtranspose16: X, W or Y is null";
  if (const char* err = opq::Qc16ValidateOperands(x_type, y_type, x_zero_point, w_zero_point, w_zero_point_count, bias,
                                                  bias_count, rq, g.cout, uint64_t(g.cin_g) * g.kh * g.kw))
    return err;
  const opq::Ct16RunFn run = RunFor(opq::ElementwiseIsa(requested));
  const size_t need = run ? opq::Ct16WorkspaceSize(g) : 0;
  if (workspace_size < need || (need > 0 && workspace == nullptr))
    return "qconvtranspose16: workspace is smaller than opq_qconvtranspose16_workspace_size";
  if ((reinterpret_cast<uintptr_t>(workspace) & 15) != 0) return "qconvtranspose16: workspace must be 16-byte aligned";
  if (out_count == 0) return nullptr;
  const opq::Ct16Args a{x,  x_type, x_zero_point, w, w_zero_point, w_zero_point_count, bias_count ? bias : nullptr,
                        rq, y,      y_type};
  if (run == nullptr || need == 0)
    opq::Ct16RunRef(g, a);
  else
    run(g, a, workspace, pool);
  return nullptr;
}

}  // extern "C"
