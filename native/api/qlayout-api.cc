// Validated entry points of Concat and Resize (native/include/opq_qlayout.h).
#include <cstring>

#include "api/api-common.h"
#include "opq_qlayout.h"
#include "qtranspose/qtranspose.h"
#include "qconcat/qconcat.h"
#include "qresize/qresize.h"
#include "requant/requant.h"

extern "C" {

const char* opq_qconcat(size_t num_inputs, const void* const* inputs, const size_t* input_sizes,
                        const size_t* axis_dims, const int32_t* input_zero_points, const int32_t* requantize,
                        const opq_requant* rq, size_t outer, size_t inner, int32_t is_signed, void* y, size_t y_size,
                        int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "concat: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  if (num_inputs == 0 || num_inputs > 65536) return "concat: num_inputs must be in [1, 65536]";
  if (inputs == nullptr || input_sizes == nullptr || axis_dims == nullptr || input_zero_points == nullptr ||
      requantize == nullptr)
    return "concat: inputs, input_sizes, axis_dims, input_zero_points or requantize is null";
  if (outer > opq::kApiMaxElements || inner > opq::kApiMaxElements)
    return "concat: outer and inner must be at most 2^31 - 1";
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  size_t axis_total = 0;
  for (size_t i = 0; i < num_inputs; ++i) {
    if (axis_dims[i] > opq::kApiMaxElements || axis_total + axis_dims[i] > opq::kApiMaxElements)
      return "concat: the sum of axis_dims must be at most 2^31 - 1";
    axis_total += axis_dims[i];
    const size_t d[] = {outer, axis_dims[i], inner};
    size_t count = 0;
    if (!opq::CheckedProduct(d, 3, &count)) return "concat: an input has more than 2^31 - 1 elements";
    if (input_sizes[i] < count) return "concat: an input buffer is smaller than outer * axis_dims[i] * inner";
    if (count > 0 && inputs[i] == nullptr) return "concat: an input is null";
    if (requantize[i] != 0) {
      if (rq == nullptr) return "concat: rq is null while requantize[i] is set";
      if (input_zero_points[i] < tmin || input_zero_points[i] > tmax)
        return "concat: input_zero_points[i] out of the type's range";
      if (const char* err = opq::ValidateRequantPerTensor(&rq[i], is_signed)) return err;
    }
  }
  const size_t od[] = {outer, axis_total, inner};
  size_t out_count = 0;
  if (!opq::CheckedProduct(od, 3, &out_count)) return "concat: the output has more than 2^31 - 1 elements";
  if (y_size < out_count) return "concat: buffer Y is smaller than outer * sum(axis_dims) * inner";
  if (out_count > 0 && y == nullptr) return "concat: Y is null";
  const opq::RequantRowFn row = opq::RequantRowFor(v);
  uint8_t* out = static_cast<uint8_t*>(y);
  const size_t out_row = axis_total * inner;
  for (size_t o = 0; o < outer; ++o) {
    size_t at = o * out_row;
    for (size_t i = 0; i < num_inputs; ++i) {
      const size_t n = axis_dims[i] * inner;
      if (n == 0) continue;
      const uint8_t* src = static_cast<const uint8_t*>(inputs[i]) + o * n;
      opq::QConcatRun(src, n, is_signed != 0, input_zero_points[i], requantize[i] ? &rq[i] : nullptr, row, out + at);
      at += n;
    }
  }
  return nullptr;
}

const char* opq_qresize_nearest(size_t nc, size_t in_h, size_t in_w, size_t out_h, size_t out_w, const int32_t* y_index,
                                size_t y_index_count, const int32_t* x_index, size_t x_index_count, const void* x,
                                size_t x_size, void* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "resize: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  const size_t in_dims[] = {nc, in_h, in_w};
  const size_t out_dims[] = {nc, out_h, out_w};
  size_t in_count = 0, out_count = 0;
  if (nc > opq::kApiMaxElements || in_h > opq::kApiMaxElements || in_w > opq::kApiMaxElements ||
      out_h > opq::kApiMaxElements || out_w > opq::kApiMaxElements || !opq::CheckedProduct(in_dims, 3, &in_count) ||
      !opq::CheckedProduct(out_dims, 3, &out_count))
    return "resize: the input or output has more than 2^31 - 1 elements";
  if (y_index_count != out_h) return "resize: y_index must have out_h entries";
  if (x_index_count != out_w) return "resize: x_index must have out_w entries";
  if ((out_h > 0 && y_index == nullptr) || (out_w > 0 && x_index == nullptr))
    return "resize: y_index or x_index is null";
  if (x_size < in_count) return "resize: buffer X is smaller than nc * in_h * in_w";
  if (y_size < out_count) return "resize: buffer Y is smaller than nc * out_h * out_w";
  if (out_count == 0) return nullptr;
  if (x == nullptr || y == nullptr) return "resize: X or Y is null";
  for (size_t i = 0; i < out_h; ++i)
    if (y_index[i] < 0 || static_cast<size_t>(y_index[i]) >= in_h) return "resize: y_index entry outside [0, in_h)";
  size_t factor = out_w / (in_w ? in_w : 1);
  for (size_t i = 0; i < out_w; ++i) {
    if (x_index[i] < 0 || static_cast<size_t>(x_index[i]) >= in_w) return "resize: x_index entry outside [0, in_w)";
    if (factor != 0 && static_cast<size_t>(x_index[i]) != i / factor) factor = 0;
  }
  if (factor * in_w != out_w) factor = 0;
  opq::ResizeRowFn row = opq::ResizeRowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) row = opq::ResizeRowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) row = opq::ResizeRowWasmSimd;
#endif
  const uint8_t* in = static_cast<const uint8_t*>(x);
  uint8_t* out = static_cast<uint8_t*>(y);
  for (size_t p = 0; p < nc; ++p) {
    for (size_t oy = 0; oy < out_h; ++oy) {
      uint8_t* dst = out + (p * out_h + oy) * out_w;
      if (oy > 0 && y_index[oy] == y_index[oy - 1]) {
        std::memcpy(dst, dst - out_w, out_w);  // same source row as the previous output row
      } else {
        row(in + (p * in_h + static_cast<size_t>(y_index[oy])) * in_w, x_index, out_w, factor, dst);
      }
    }
  }
  return nullptr;
}

const char* opq_transpose8(const void* x, size_t x_size, size_t rank, const size_t* in_dims, const size_t* perm,
                           void* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "transpose: variant is not available on this CPU or build";
  if (rank < 1 || rank > OPQ_QLAYOUT_MAX_RANK) return "transpose: rank must be in [1, 8]";
  if (in_dims == nullptr || perm == nullptr) return "transpose: in_dims or perm is null";
  bool seen[OPQ_QLAYOUT_MAX_RANK] = {};
  for (size_t k = 0; k < rank; ++k) {
    if (perm[k] >= rank || seen[perm[k]]) return "transpose: perm must be a permutation of 0..rank-1";
    seen[perm[k]] = true;
  }
  size_t count = 0;
  if (!opq::CheckedProduct(in_dims, rank, &count)) return "transpose: the product of in_dims must be at most 2^31 - 1";
  if (x_size < count) return "transpose: buffer X is smaller than the product of in_dims";
  if (y_size < count) return "transpose: buffer Y is smaller than the product of in_dims";
  if (count > 0 && (x == nullptr || y == nullptr)) return "transpose: X or Y is null";
  if (count > 0) opq::Transpose8Ref(static_cast<const uint8_t*>(x), rank, in_dims, perm, static_cast<uint8_t*>(y));
  return nullptr;
}

}  // extern "C"
