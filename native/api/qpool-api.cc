// Validated entry points of the pooling kernels (native/include/opq_qpool.h).
#include "api/api-common.h"
#include "opq_qpool.h"
#include "qpool/qpool.h"

namespace {

// Validates the geometry and the buffers; fills g. NULL when valid.
const char* MakeGeom(size_t n, size_t c, size_t in_h, size_t in_w, size_t kernel_h, size_t kernel_w, size_t stride_h,
                     size_t stride_w, size_t pad_top, size_t pad_left, size_t pad_bottom, size_t pad_right,
                     size_t dilation_h, size_t dilation_w, int32_t ceil_mode, const void* x, size_t x_size, void* y,
                     size_t y_size, opq::PoolGeom* g) {
  const size_t dims[] = {n,        c,       in_h,     in_w,       kernel_h,  kernel_w,   stride_h,
                         stride_w, pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w};
  for (size_t d : dims)
    if (d > opq::kApiMaxDim) return "pool: every dimension, kernel, stride, pad and dilation must be at most 2^28";
  if (kernel_h == 0 || kernel_w == 0) return "pool: kernel_h and kernel_w must be >= 1";
  if (stride_h == 0 || stride_w == 0) return "pool: stride_h and stride_w must be >= 1";
  if (dilation_h == 0 || dilation_w == 0) return "pool: dilation_h and dilation_w must be >= 1";
  if (kernel_h * kernel_w > (size_t{1} << 23)) return "pool: kernel_h * kernel_w must be at most 2^23";
  if ((kernel_h - 1) * dilation_h + 1 > in_h + pad_top + pad_bottom)
    return "pool: the dilated kernel_h is larger than in_h + pad_top + pad_bottom";
  if ((kernel_w - 1) * dilation_w + 1 > in_w + pad_left + pad_right)
    return "pool: the dilated kernel_w is larger than in_w + pad_left + pad_right";
  g->planes = 0;
  g->in_h = in_h;
  g->in_w = in_w;
  g->out_h = opq::PoolOutputSize(in_h, kernel_h, stride_h, pad_top, pad_bottom, dilation_h, ceil_mode != 0);
  g->out_w = opq::PoolOutputSize(in_w, kernel_w, stride_w, pad_left, pad_right, dilation_w, ceil_mode != 0);
  g->kh = kernel_h;
  g->kw = kernel_w;
  g->sh = stride_h;
  g->sw = stride_w;
  g->pt = pad_top;
  g->pl = pad_left;
  g->pb = pad_bottom;
  g->pr = pad_right;
  g->dh = dilation_h;
  g->dw = dilation_w;
  const size_t in_dims[] = {n, c, in_h, in_w};
  const size_t out_dims[] = {n, c, g->out_h, g->out_w};
  size_t in_count = 0, out_count = 0, planes = 0;
  if (!opq::CheckedProduct(in_dims, 4, &in_count) || !opq::CheckedProduct(out_dims, 4, &out_count) ||
      !opq::CheckedProduct(in_dims, 2, &planes))
    return "pool: the input or output has more than 2^31 - 1 elements";
  g->planes = planes;
  if (x_size < in_count) return "pool: buffer X is smaller than n * c * in_h * in_w";
  if (y_size < out_count) return "pool: buffer Y is smaller than n * c * out_h * out_w";
  if (out_count > 0 && (x == nullptr || y == nullptr)) return "pool: X or Y is null";
  return nullptr;
}

}  // namespace

extern "C" {

size_t opq_pool_output_size(size_t in, size_t kernel, size_t stride, size_t pad_begin, size_t pad_end, size_t dilation,
                            int32_t ceil_mode) {
  if (in > opq::kApiMaxDim || kernel > opq::kApiMaxDim || stride > opq::kApiMaxDim || pad_begin > opq::kApiMaxDim ||
      pad_end > opq::kApiMaxDim || dilation > opq::kApiMaxDim)
    return 0;
  return opq::PoolOutputSize(in, kernel, stride, pad_begin, pad_end, dilation, ceil_mode != 0);
}

const char* opq_qmaxpool(size_t n, size_t c, size_t in_h, size_t in_w, size_t kernel_h, size_t kernel_w,
                         size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t pad_bottom,
                         size_t pad_right, size_t dilation_h, size_t dilation_w, int32_t ceil_mode, const void* x,
                         size_t x_size, int32_t is_signed, void* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "maxpool: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  opq::PoolGeom g;
  if (const char* err = MakeGeom(n, c, in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
                                 pad_bottom, pad_right, dilation_h, dilation_w, ceil_mode, x, x_size, y, y_size, &g))
    return err;
  g.count_include_pad = false;
  const uint8_t* in = static_cast<const uint8_t*>(x);
  uint8_t* out = static_cast<uint8_t*>(y);
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      opq::MaxPoolAvx2(g, in, is_signed != 0, out);
      break;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      opq::MaxPoolWasmSimd(g, in, is_signed != 0, out);
      break;
#endif
    default:
      opq::MaxPoolRef(g, in, is_signed != 0, out);
      break;
  }
  return nullptr;
}

const char* opq_qavgpool(size_t n, size_t c, size_t in_h, size_t in_w, size_t kernel_h, size_t kernel_w,
                         size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left, size_t pad_bottom,
                         size_t pad_right, size_t dilation_h, size_t dilation_w, int32_t ceil_mode,
                         int32_t count_include_pad, const void* x, size_t x_size, int32_t is_signed,
                         int32_t x_zero_point, const opq_requant* rq, void* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "avgpool: variant is not available on this CPU or build";
  opq::PoolGeom g;
  if (const char* err = MakeGeom(n, c, in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
                                 pad_bottom, pad_right, dilation_h, dilation_w, ceil_mode, x, x_size, y, y_size, &g))
    return err;
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  if (x_zero_point < tmin || x_zero_point > tmax) return "avgpool: x_zero_point out of the type's range";
  if (const char* err = opq::ValidateRequantPerTensor(rq, is_signed)) return err;
  g.count_include_pad = count_include_pad != 0;
  // The sums are scalar for every variant (general average pooling is rare in CNNs; the global form
  // has SIMD variants); the requantization is the variant's row kernel.
  opq::AvgPoolRun(g, static_cast<const uint8_t*>(x), is_signed != 0, x_zero_point, *rq,
                  opq::RequantRowFor(opq::ElementwiseIsa(requested)), static_cast<uint8_t*>(y));
  return nullptr;
}

const char* opq_qglobal_maxpool(size_t channels, size_t spatial, const void* x, size_t x_size, int32_t is_signed,
                                void* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "global_maxpool: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  const size_t dims[] = {channels, spatial};
  size_t count = 0;
  if (!opq::CheckedProduct(dims, 2, &count) || channels > opq::kApiMaxElements)
    return "global_maxpool: channels * spatial must be at most 2^31 - 1";
  if (x_size < count) return "global_maxpool: buffer X is smaller than channels * spatial";
  if (y_size < channels) return "global_maxpool: buffer Y is smaller than channels";
  if (channels > 0 && (y == nullptr || (count > 0 && x == nullptr))) return "global_maxpool: X or Y is null";
  const uint8_t* in = static_cast<const uint8_t*>(x);
  uint8_t* out = static_cast<uint8_t*>(y);
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      opq::GlobalMaxPoolAvx2(channels, spatial, in, is_signed != 0, out);
      break;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      opq::GlobalMaxPoolWasmSimd(channels, spatial, in, is_signed != 0, out);
      break;
#endif
    default:
      opq::GlobalMaxPoolRef(channels, spatial, in, is_signed != 0, out);
      break;
  }
  return nullptr;
}

const char* opq_qglobal_avgpool(size_t channels, size_t spatial, const void* x, size_t x_size, int32_t is_signed,
                                int32_t x_zero_point, const opq_requant* rq, void* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "global_avgpool: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  const size_t dims[] = {channels, spatial};
  size_t count = 0;
  if (!opq::CheckedProduct(dims, 2, &count) || channels > opq::kApiMaxElements)
    return "global_avgpool: channels * spatial must be at most 2^31 - 1";
  if (x_size < count) return "global_avgpool: buffer X is smaller than channels * spatial";
  if (y_size < channels) return "global_avgpool: buffer Y is smaller than channels";
  if (channels > 0 && (y == nullptr || (count > 0 && x == nullptr))) return "global_avgpool: X or Y is null";
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  if (x_zero_point < tmin || x_zero_point > tmax) return "global_avgpool: x_zero_point out of the type's range";
  if (const char* err = opq::ValidateRequantPerTensor(rq, is_signed)) return err;
  const uint8_t* in = static_cast<const uint8_t*>(x);
  uint8_t* out = static_cast<uint8_t*>(y);
  switch (v) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      opq::GlobalAvgPoolAvx2(channels, spatial, in, is_signed != 0, x_zero_point, *rq, out);
      break;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      opq::GlobalAvgPoolWasmSimd(channels, spatial, in, is_signed != 0, x_zero_point, *rq, out);
      break;
#endif
    default:
      opq::GlobalAvgPoolRef(channels, spatial, in, is_signed != 0, x_zero_point, *rq, out);
      break;
  }
  return nullptr;
}

}  // extern "C"
