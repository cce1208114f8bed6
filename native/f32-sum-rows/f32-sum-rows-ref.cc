// Scalar definition of the opq_sum_rows_f32 microkernel: the `ref` variant. Rows outer, elements
// inner: each dst[j] is one chain 0 + row 0 + row 1 + ... in double (a compiler vectorizing the inner
// loop runs it across j, which keeps every chain as it is).
#include "f32-gemm/f32-kernels.h"

namespace opq {

void F32SumRowsRef(size_t n, size_t rows, const float* x, size_t x_stride, double* dst) {
  for (size_t j = 0; j < n; ++j) dst[j] = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_stride;
    for (size_t j = 0; j < n; ++j) dst[j] += static_cast<double>(xr[j]);
  }
}

}  // namespace opq
