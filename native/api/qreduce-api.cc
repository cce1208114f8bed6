// Validated entry point of ReduceMean (native/include/opq_qreduce.h).
#include "api/api-common.h"
#include "opq_qreduce.h"
#include "qreduce/qreduce.h"

extern "C" {

const char* opq_qreduce_mean(size_t rank, const size_t* dims, const int32_t* reduce, const void* x, size_t x_size,
                             int32_t is_signed, int32_t x_zero_point, const opq_requant* rq, void* y, size_t y_size,
                             int32_t variant) {
  const int32_t requested = opq::ResolveVariant(variant);
  if (!opq::VariantAvailable(requested)) return "reduce_mean: variant is not available on this CPU or build";
  const int32_t v = opq::ElementwiseIsa(requested);
  if (rank > opq::kReduceMaxRank) return "reduce_mean: rank must be at most 8";
  if (rank > 0 && (dims == nullptr || reduce == nullptr)) return "reduce_mean: dims or reduce is null";
  size_t in_count = 0;
  if (!opq::CheckedProduct(dims, rank, &in_count)) return "reduce_mean: the input has more than 2^31 - 1 elements";
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  if (x_zero_point < tmin || x_zero_point > tmax) return "reduce_mean: x_zero_point out of the type's range";
  if (const char* err = opq::ValidateRequantPerTensor(rq, is_signed)) return err;
  if (in_count == 0) {
    for (size_t i = 0; i < rank; ++i)
      if (reduce[i] != 0 && dims[i] == 0) return "reduce_mean: a reduced axis is empty (the mean of nothing)";
    return nullptr;  // no output element
  }
  // Every dim >= 1 here and their product <= 2^31 - 1, so none of these products overflows.
  size_t count = 1, out_count = 1;
  size_t groups[opq::kReduceMaxRank];
  bool kinds[opq::kReduceMaxRank];
  size_t ng = 0;
  for (size_t i = 0; i < rank; ++i) {
    const bool r = reduce[i] != 0;
    if (r)
      count *= dims[i];
    else
      out_count *= dims[i];
    if (dims[i] == 1) continue;
    if (ng > 0 && kinds[ng - 1] == r) {
      groups[ng - 1] *= dims[i];
    } else {
      groups[ng] = dims[i];
      kinds[ng++] = r;
    }
  }
  if (count > (size_t{1} << 23)) return "reduce_mean: the reduced axes hold more than 2^23 elements";
  if (x_size < in_count) return "reduce_mean: buffer X is smaller than the product of dims";
  if (y_size < out_count) return "reduce_mean: buffer Y is smaller than the product of the kept dims";
  if (x == nullptr || y == nullptr) return "reduce_mean: X or Y is null";
  if (ng == 0) {  // every axis has size 1: one element
    groups[0] = 1;
    kinds[0] = false;
    ng = 1;
  }
  opq::ReduceOps ops{opq::ReduceRowSumRef, opq::ReduceRowAccRef, opq::RequantRowRef};
#if defined(__x86_64__) || defined(_M_X64)
  if (v == OPQ_VARIANT_AVX2) ops = {opq::ReduceRowSumAvx2, opq::ReduceRowAccAvx2, opq::RequantRowAvx2};
#endif
#if defined(__wasm_simd128__)
  if (v == OPQ_VARIANT_WASMSIMD) ops = {opq::ReduceRowSumWasmSimd, opq::ReduceRowAccWasmSimd, opq::RequantRowWasmSimd};
#endif
  (void)v;
  opq::ReduceMeanRun(groups, kinds, ng, count, static_cast<const uint8_t*>(x), is_signed != 0, x_zero_point, *rq, ops,
                     static_cast<uint8_t*>(y));
  return nullptr;
}

}  // extern "C"
