#include "qlut/qlut.h"

namespace opq {

void LutRef(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y) {
  for (size_t i = 0; i < n; ++i) y[i] = table[x[i]];
}

}  // namespace opq
