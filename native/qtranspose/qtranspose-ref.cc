#include <cstring>

#include "opq_qlayout.h"
#include "qtranspose/qtranspose.h"

namespace opq {

void Transpose8Ref(const uint8_t* x, size_t rank, const size_t* in_dims, const size_t* perm, uint8_t* y) {
  // Input strides, then the output's dims and the input stride each output axis walks.
  size_t in_stride[OPQ_QLAYOUT_MAX_RANK], od[OPQ_QLAYOUT_MAX_RANK], os[OPQ_QLAYOUT_MAX_RANK];
  size_t s = 1, total = 1;
  for (size_t k = rank; k-- > 0;) {
    in_stride[k] = s;
    s *= in_dims[k];
  }
  for (size_t k = 0; k < rank; ++k) {
    od[k] = in_dims[perm[k]];
    os[k] = in_stride[perm[k]];
    total *= od[k];
  }
  if (total == 0) return;
  const size_t n = od[rank - 1], step = os[rank - 1];
  size_t idx[OPQ_QLAYOUT_MAX_RANK] = {};
  const uint8_t* src = x;
  for (size_t done = 0; done < total; done += n) {
    if (step == 1) {
      std::memcpy(y + done, src, n);
    } else {
      for (size_t j = 0; j < n; ++j) y[done + j] = src[j * step];
    }
    for (size_t d = rank - 1; d-- > 0;) {  // odometer over the outer output axes
      src += os[d];
      if (++idx[d] < od[d]) break;
      src -= os[d] * od[d];
      idx[d] = 0;
    }
  }
}

}  // namespace opq
