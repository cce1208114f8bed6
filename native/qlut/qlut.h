// 256-entry table lookup over bytes (opq_lut, native/include/opq_qunary.h), and the 65,536-entry
// pair lookup of binary ops (opq_lut2, opq_qbinary.h).
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

struct BroadcastPlan;

// opq_lut2 on validated arguments (qlut2.cc): y = table[a * 256 + b] over the plan's runs, with
// `lut` for the runs along which one operand is a single value.
void Lut2(const BroadcastPlan& plan, const uint8_t* a, const uint8_t* b, const uint8_t* table, uint8_t* y, LutFn lut);

}  // namespace opq
