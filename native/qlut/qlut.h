// 256-entry table lookup over bytes (opq_lut, native/include/opq_qunary.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace opq {

using LutFn = void (*)(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y);

void LutRef(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y);
#if defined(__x86_64__) || defined(_M_X64)
void LutAvx2(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y);
// Needs CpuHasAvx512Vbmi() (dispatch.h); the AVX512VNNI variant uses it where the CPU has VBMI.
void LutAvx512Vbmi(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void LutWasmSimd(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y);
#endif

// The LUT kernel of a resolved, available variant (native/api/qunary-api.cc).
LutFn LutFor(int32_t variant);

}  // namespace opq
