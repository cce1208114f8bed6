// Concat with requantization: copies, or (x - z_i) through the row requantizer of the variant.
#include "qconcat/qconcat.h"

#include <cstring>

namespace opq {

void QConcatRun(const uint8_t* x, size_t n, bool is_signed, int32_t zx, const opq_requant* rq, RequantRowFn row,
                uint8_t* y) {
  if (rq == nullptr) {
    std::memcpy(y, x, n);
    return;
  }
  // Centre a chunk into a stack buffer and requantize it: no allocation.
  int32_t acc[256];
  for (size_t i = 0; i < n; i += 256) {
    const size_t m = n - i < 256 ? n - i : 256;
    if (is_signed) {
      for (size_t j = 0; j < m; ++j) acc[j] = static_cast<int8_t>(x[i + j]) - zx;
    } else {
      for (size_t j = 0; j < m; ++j) acc[j] = x[i + j] - zx;
    }
    row(acc, nullptr, m, *rq, 0, y + i);
  }
}

}  // namespace opq
