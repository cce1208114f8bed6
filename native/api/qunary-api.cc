// Validated entry points of the table lookup, QuantizeLinear and DequantizeLinear.
#include "api/api-common.h"
#include "opq_qunary.h"
#include "qlut/qlut.h"
#include "quantize/quantize.h"

namespace {

// Checks the [outer, axis_len, inner] layout and its parameters; sets *count to the element count.
const char* CheckQdqLayout(const char* op, size_t outer, size_t axis_len, size_t inner, const float* scale,
                           const int32_t* zero_point, size_t param_count, size_t block_size, int32_t zmin, int32_t zmax,
                           size_t* count) {
  (void)op;
  const size_t dims[3] = {outer, axis_len, inner};
  if (outer > opq::kApiMaxElements || axis_len > opq::kApiMaxElements || inner > opq::kApiMaxElements ||
      !opq::CheckedProduct(dims, 3, count))
    return "outer * axis_len * inner must be at most 2^31 - 1";
  if (param_count == 0) return "param_count must be >= 1";
  if (scale == nullptr || zero_point == nullptr) return "scale or zero_point is null";
  if (block_size == 0) {
    if (param_count != 1 && param_count != axis_len)
      return "param_count must be 1 (per tensor) or axis_len (per axis) when block_size is 0";
  } else {
    if (block_size > opq::kApiMaxElements) return "block_size must be at most 2^31 - 1";
    const size_t blocks = axis_len == 0 ? 0 : (axis_len + block_size - 1) / block_size;
    const size_t bd[3] = {outer, blocks, inner};
    size_t need = 0;
    if (!opq::CheckedProduct(bd, 3, &need) || need != param_count)
      return "param_count must be outer * ceil(axis_len / block_size) * inner for blocked quantization";
  }
  for (size_t i = 0; i < param_count; ++i) {
    if (!(scale[i] > 0.0f && scale[i] <= 3.4028234e38f)) return "scale must be finite and > 0";
    if (zero_point[i] < zmin || zero_point[i] > zmax) return "zero_point out of the quantized type's range";
  }
  return nullptr;
}

// Calls row(offset, n, param index) for every contiguous run sharing one scale and zero point.
template <typename Row>
void ForEachQdqRun(size_t outer, size_t axis_len, size_t inner, size_t param_count, size_t block_size, Row&& row) {
  const size_t total = outer * axis_len * inner;
  if (total == 0) return;
  if (param_count == 1) {
    row(size_t{0}, total, size_t{0});
    return;
  }
  const size_t blocks = block_size ? (axis_len + block_size - 1) / block_size : 0;
  for (size_t o = 0; o < outer; ++o) {
    for (size_t a = 0; a < axis_len; ++a) {
      const size_t off = (o * axis_len + a) * inner;
      if (block_size == 0) {
        row(off, inner, a);
      } else {
        // Blocked: one parameter per element along inner.
        const size_t base = (o * blocks + a / block_size) * inner;
        for (size_t i = 0; i < inner; ++i) row(off + i, size_t{1}, base + i);
      }
    }
  }
}

}  // namespace

namespace opq {

LutFn LutFor(int32_t requested) {
#if defined(__x86_64__) || defined(_M_X64)
  if (requested == OPQ_VARIANT_AVX512VNNI && CpuHasAvx512Vbmi()) return LutAvx512Vbmi;
  if (ElementwiseIsa(requested) == OPQ_VARIANT_AVX2) return LutAvx2;
#endif
#if defined(__wasm_simd128__)
  if (ElementwiseIsa(requested) == OPQ_VARIANT_WASMSIMD) return LutWasmSimd;
#endif
  return LutRef;
}

}  // namespace opq

extern "C" {

const char* opq_lut(const void* x, size_t x_size, size_t n, const uint8_t* table, size_t table_size, void* y,
                    size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "lut: variant is not available on this CPU or build";
  if (n > opq::kApiMaxElements) return "lut: n must be at most 2^31 - 1";
  if (x_size < n) return "lut: buffer X is smaller than n";
  if (y_size < n) return "lut: buffer Y is smaller than n";
  if (table_size != 256) return "lut: table must have exactly 256 entries";
  if (table == nullptr) return "lut: table is null";
  if (n > 0 && (x == nullptr || y == nullptr)) return "lut: X or Y is null";
  opq::LutFor(requested)(static_cast<const uint8_t*>(x), n, table, static_cast<uint8_t*>(y));
  return nullptr;
}

const char* opq_quantize_linear(const float* x, size_t x_size, size_t outer, size_t axis_len, size_t inner,
                                const float* scale, const int32_t* zero_point, size_t param_count, size_t block_size,
                                void* y, size_t y_size, int32_t y_signed, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "quantize_linear: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  size_t count = 0;
  const int32_t tmin = y_signed ? -128 : 0, tmax = y_signed ? 127 : 255;
  if (const char* err = CheckQdqLayout("quantize_linear", outer, axis_len, inner, scale, zero_point, param_count,
                                       block_size, tmin, tmax, &count))
    return err;
  if (x_size < count) return "quantize_linear: buffer X is smaller than outer * axis_len * inner";
  if (y_size < count) return "quantize_linear: buffer Y is smaller than outer * axis_len * inner";
  if (count > 0 && (x == nullptr || y == nullptr)) return "quantize_linear: X or Y is null";
  opq::QuantizeRowFn row = opq::QuantizeRowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) row = opq::QuantizeRowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) row = opq::QuantizeRowWasmSimd;
#endif
  uint8_t* out = static_cast<uint8_t*>(y);
  const bool s = y_signed != 0;
  ForEachQdqRun(outer, axis_len, inner, param_count, block_size,
                [&](size_t off, size_t n, size_t p) { row(x + off, n, scale[p], zero_point[p], s, out + off); });
  return nullptr;
}

const char* opq_dequantize_linear(const void* x, size_t x_size, int32_t x_type, size_t outer, size_t axis_len,
                                  size_t inner, const float* scale, const int32_t* zero_point, size_t param_count,
                                  size_t block_size, float* y, size_t y_size, int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "dequantize_linear: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  if (x_type != OPQ_DQ_UINT8 && x_type != OPQ_DQ_INT8 && x_type != OPQ_DQ_INT32)
    return "dequantize_linear: x_type must be 0 (uint8), 1 (int8) or 2 (int32)";
  const int32_t zmin = x_type == OPQ_DQ_UINT8 ? 0 : x_type == OPQ_DQ_INT8 ? -128 : INT32_MIN;
  const int32_t zmax = x_type == OPQ_DQ_UINT8 ? 255 : x_type == OPQ_DQ_INT8 ? 127 : INT32_MAX;
  size_t count = 0;
  if (const char* err = CheckQdqLayout("dequantize_linear", outer, axis_len, inner, scale, zero_point, param_count,
                                       block_size, zmin, zmax, &count))
    return err;
  if (x_size < count) return "dequantize_linear: buffer X is smaller than outer * axis_len * inner";
  if (y_size < count) return "dequantize_linear: buffer Y is smaller than outer * axis_len * inner";
  if (count > 0 && (x == nullptr || y == nullptr)) return "dequantize_linear: X or Y is null";
  opq::DequantizeRowFn row = opq::DequantizeRowRef;
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) row = opq::DequantizeRowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) row = opq::DequantizeRowWasmSimd;
#endif
  const size_t esize = x_type == OPQ_DQ_INT32 ? 4 : 1;
  const uint8_t* in = static_cast<const uint8_t*>(x);
  ForEachQdqRun(outer, axis_len, inner, param_count, block_size, [&](size_t off, size_t n, size_t p) {
    row(in + off * esize, x_type, n, scale[p], zero_point[p], y + off);
  });
  return nullptr;
}

}  // extern "C"
