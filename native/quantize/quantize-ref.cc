#include "quantize/quantize.h"

#include "opq_qunary.h"

namespace opq {

void QuantizeRowRef(const float* x, size_t n, float s, int32_t z, bool y_signed, uint8_t* y) {
  const int32_t tmin = y_signed ? -128 : 0, tmax = y_signed ? 127 : 255;
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<uint8_t>(QuantizeOne(x[i], s, z, tmin, tmax));
}

void DequantizeRowRef(const void* x, int32_t x_type, size_t n, float s, int32_t z, float* y) {
  if (x_type == OPQ_DQ_INT32) {
    const int32_t* p = static_cast<const int32_t*>(x);
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<int64_t>(p[i]) - z) * s;
  } else if (x_type == OPQ_DQ_INT8) {
    const int8_t* p = static_cast<const int8_t*>(x);
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(p[i] - z) * s;
  } else {
    const uint8_t* p = static_cast<const uint8_t*>(x);
    for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(p[i] - z) * s;
  }
}

}  // namespace opq
