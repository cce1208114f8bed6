#include "dispatch/dispatch.h"

#include "onnxptq.h"

namespace opq {
namespace {

bool CpuHasAvx2() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  // __builtin_cpu_supports also requires the OS to save the AVX state (XGETBV), not just CPUID.
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

bool CpuHasAvx512Vnni() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = CpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vnni");
  return has;
#else
  return false;
#endif
}

}  // namespace

bool CpuHasAvx512Vbmi() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = CpuHasAvx512Vnni() && __builtin_cpu_supports("avx512vbmi");
  return has;
#else
  return false;
#endif
}

bool VariantAvailable(int32_t variant) {
  switch (variant) {
    case OPQ_VARIANT_REF:
      return true;
    case OPQ_VARIANT_AVX2:
      return CpuHasAvx2();
    case OPQ_VARIANT_AVX512VNNI:
      return CpuHasAvx512Vnni();
    case OPQ_VARIANT_WASMSIMD:
#if defined(__wasm_simd128__)
      return true;
#else
      return false;
#endif
    default:
      return false;
  }
}

int32_t AutoVariant() {
  // ONNX_PTQ-independent: the widest exact variant the CPU runs.
  if (VariantAvailable(OPQ_VARIANT_AVX512VNNI)) return OPQ_VARIANT_AVX512VNNI;
  if (VariantAvailable(OPQ_VARIANT_AVX2)) return OPQ_VARIANT_AVX2;
  if (VariantAvailable(OPQ_VARIANT_WASMSIMD)) return OPQ_VARIANT_WASMSIMD;
  return OPQ_VARIANT_REF;
}

}  // namespace opq

extern "C" {

const char* opq_variant_name(int32_t variant) {
  switch (variant) {
    case OPQ_VARIANT_REF:
      return "ref";
    case OPQ_VARIANT_AVX2:
      return "avx2";
    case OPQ_VARIANT_WASMSIMD:
      return "wasmsimd";
    case OPQ_VARIANT_AVX512VNNI:
      return "avx512vnni";
    default:
      return nullptr;
  }
}

int32_t opq_variant_available(int32_t variant) { return opq::VariantAvailable(variant) ? 1 : 0; }

}  // extern "C"
