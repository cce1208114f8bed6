// Quantized Mul, avx2: products of the centred inputs into a stack buffer (exact int32), then this
// variant's row requantizer, so Mul agrees with RequantizeOne by construction.
#include "qmul/qmul.h"

#if defined(__x86_64__) || defined(_M_X64)
#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

// acc[j] = (a[j] - za) * (b[j] - zb), a or b held constant when broadcast; plain loops that the
// compiler vectorizes for this file's ISA.
template <typename T>
void Products(const T* a, bool as, int32_t za, const T* b, bool bs, int32_t zb, size_t m, int32_t* acc) {
  if (as && bs) {
    const int32_t v = (a[0] - za) * (b[0] - zb);
    for (size_t j = 0; j < m; ++j) acc[j] = v;
  } else if (as) {
    const int32_t ca = a[0] - za;
    for (size_t j = 0; j < m; ++j) acc[j] = ca * (b[j] - zb);
  } else if (bs) {
    const int32_t cb = b[0] - zb;
    for (size_t j = 0; j < m; ++j) acc[j] = (a[j] - za) * cb;
  } else {
    for (size_t j = 0; j < m; ++j) acc[j] = (a[j] - za) * (b[j] - zb);
  }
}

}  // namespace

void QMulRowAvx2(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                bool is_signed, const opq_requant& rq, uint8_t* y) {
  int32_t acc[256];
  for (size_t i = 0; i < n; i += 256) {
    const size_t m = n - i < 256 ? n - i : 256;
    const uint8_t* pa = a_scalar ? a : a + i;
    const uint8_t* pb = b_scalar ? b : b + i;
    if (is_signed) {
      Products(reinterpret_cast<const int8_t*>(pa), a_scalar, za, reinterpret_cast<const int8_t*>(pb), b_scalar, zb, m,
               acc);
    } else {
      Products(pa, a_scalar, za, pb, b_scalar, zb, m, acc);
    }
    RequantRowAvx2(acc, nullptr, m, rq, 0, y + i);
  }
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
