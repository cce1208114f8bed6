#include "qresize/qresize.h"

namespace opq {

void ResizeRowRef(const uint8_t* src, const int32_t* x_index, size_t out_w, size_t factor, uint8_t* y) {
  (void)factor;
  for (size_t ox = 0; ox < out_w; ++ox) y[ox] = src[x_index[ox]];
}

}  // namespace opq
