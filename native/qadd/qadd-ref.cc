#include "qadd/qadd.h"

namespace opq {

void QAddRowRef(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                const opq_qadd_params& p, float fixed, uint8_t* y) {
  for (size_t j = 0; j < n; ++j) {
    const int32_t va = Load8(a + (a_scalar ? 0 : j), is_signed);
    const int32_t vb = Load8(b + (b_scalar ? 0 : j), is_signed);
    y[j] = static_cast<uint8_t>(QAddOne(va, vb, p, fixed));
  }
}

}  // namespace opq
