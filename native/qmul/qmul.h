// Quantized Mul (opq_qmul, native/include/opq_qbinary.h): product of the centred inputs in int32,
// requantized per tensor by RequantizeOne.
#pragma once

#include <cstddef>
#include <cstdint>

#include "requant/requant.h"

namespace opq {

using QMulRowFn = void (*)(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb,
                           size_t n, bool is_signed, const opq_requant& rq, uint8_t* y);

void QMulRowRef(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                bool is_signed, const opq_requant& rq, uint8_t* y);
#if defined(__x86_64__) || defined(_M_X64)
void QMulRowAvx2(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                 bool is_signed, const opq_requant& rq, uint8_t* y);
void QMulRowAvx512(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                   bool is_signed, const opq_requant& rq, uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void QMulRowWasmSimd(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                     bool is_signed, const opq_requant& rq, uint8_t* y);
#endif

}  // namespace opq
