// Quantized Mul, AVX-512: the shared row body (qmul-row-inl.h) compiled for AVX-512 with its requantizer.
#include "qmul/qmul.h"

#if defined(__x86_64__) || defined(_M_X64)
#include "isa/x86-avx512vnni-begin.h"
#include "qmul/qmul-row-inl.h"

namespace opq {

void QMulRowAvx512(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                   bool is_signed, const opq_requant& rq, uint8_t* y) {
  QMulRowSimd<RequantRowAvx512>(a, a_scalar, za, b, b_scalar, zb, n, is_signed, rq, y);
}

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
