// Validated entry point of the linear resize (native/include/opq_qlayout.h).
#include "api/api-common.h"
#include "opq_qlayout.h"
#include "qresize/qresize-linear.h"

namespace {

// NULL when every tap of `count` (3 int32 each) is inside [0, size) with a weight in [0, 2048].
const char* CheckTaps(const int32_t* taps, size_t count, size_t size) {
  for (size_t i = 0; i < count; ++i) {
    const int32_t i0 = taps[3 * i], i1 = taps[3 * i + 1], w = taps[3 * i + 2];
    if (i0 < 0 || i1 < 0 || static_cast<size_t>(i0) >= size || static_cast<size_t>(i1) >= size)
      return "resize_linear: a tap index is outside the input";
    if (w < 0 || w > opq::kResizeOne) return "resize_linear: a tap weight is outside [0, 2048]";
  }
  return nullptr;
}

}  // namespace

extern "C" {

const char* opq_qresize_linear(size_t nc, size_t in_h, size_t in_w, size_t out_h, size_t out_w, const int32_t* y_taps,
                               size_t y_taps_count, const int32_t* x_taps, size_t x_taps_count, const void* x,
                               size_t x_size, int32_t is_signed, int32_t x_zero_point, const opq_requant* rq, void* y,
                               size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "resize_linear: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  const size_t in_dims[] = {nc, in_h, in_w};
  const size_t out_dims[] = {nc, out_h, out_w};
  size_t in_count = 0, out_count = 0;
  if (nc > opq::kApiMaxElements || in_h > opq::kApiMaxElements || in_w > opq::kApiMaxElements ||
      out_h > opq::kApiMaxElements || out_w > opq::kApiMaxElements || !opq::CheckedProduct(in_dims, 3, &in_count) ||
      !opq::CheckedProduct(out_dims, 3, &out_count))
    return "resize_linear: the input or output has more than 2^31 - 1 elements";
  if (in_h > opq::kApiMaxDim || in_w > opq::kApiMaxDim || out_h > opq::kApiMaxDim || out_w > opq::kApiMaxDim)
    return "resize_linear: in_h, in_w, out_h and out_w must be at most 2^28";
  if (y_taps_count != 3 * out_h) return "resize_linear: y_taps must have 3 * out_h entries";
  if (x_taps_count != 3 * out_w) return "resize_linear: x_taps must have 3 * out_w entries";
  if ((out_h > 0 && y_taps == nullptr) || (out_w > 0 && x_taps == nullptr))
    return "resize_linear: y_taps or x_taps is null";
  if (x_size < in_count) return "resize_linear: buffer X is smaller than nc * in_h * in_w";
  if (y_size < out_count) return "resize_linear: buffer Y is smaller than nc * out_h * out_w";
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  if (x_zero_point < tmin || x_zero_point > tmax) return "resize_linear: x_zero_point out of the type's range";
  if (const char* err = opq::ValidateRequantPerTensor(rq, is_signed)) return err;
  if (out_count == 0) return nullptr;
  if (x == nullptr || y == nullptr) return "resize_linear: X or Y is null";
  if (const char* err = CheckTaps(y_taps, out_h, in_h)) return err;
  if (const char* err = CheckTaps(x_taps, out_w, in_w)) return err;
  opq::ResizeHRowFn hrow = opq::ResizeHRowRef;
  opq::ResizeVRowFn vrow = opq::ResizeVRowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) {
    hrow = opq::ResizeHRowAvx2;
    vrow = opq::ResizeVRowAvx2;
  }
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) {
    hrow = opq::ResizeHRowWasmSimd;
    vrow = opq::ResizeVRowWasmSimd;
  }
#endif
  (void)v;
  opq::ResizeLinearRun(nc, in_h, in_w, out_h, out_w, reinterpret_cast<const opq::ResizeTap*>(y_taps),
                       reinterpret_cast<const opq::ResizeTap*>(x_taps), static_cast<const uint8_t*>(x), is_signed != 0,
                       x_zero_point, *rq, hrow, vrow, static_cast<uint8_t*>(y));
  return nullptr;
}

}  // extern "C"
