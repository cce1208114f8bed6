#include "qmul/qmul.h"

namespace opq {

void QMulRowRef(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                bool is_signed, const opq_requant& rq, uint8_t* y) {
  for (size_t j = 0; j < n; ++j) {
    const uint8_t ra = a[a_scalar ? 0 : j], rb = b[b_scalar ? 0 : j];
    const int32_t va = is_signed ? static_cast<int8_t>(ra) : ra;
    const int32_t vb = is_signed ? static_cast<int8_t>(rb) : rb;
    y[j] = static_cast<uint8_t>(RequantizeOne((va - za) * (vb - zb), rq, 0));
  }
}

}  // namespace opq
