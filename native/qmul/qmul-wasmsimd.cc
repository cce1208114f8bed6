// Quantized Mul, WASM SIMD128: the shared row body (qmul-row-inl.h) with this variant's requantizer.
#include "qmul/qmul.h"

#if defined(__wasm_simd128__)
#include "qmul/qmul-row-inl.h"

namespace opq {

void QMulRowWasmSimd(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                     bool is_signed, const opq_requant& rq, uint8_t* y) {
  QMulRowSimd<RequantRowWasmSimd>(a, a_scalar, za, b, b_scalar, zb, n, is_signed, rq, y);
}

}  // namespace opq
#endif
