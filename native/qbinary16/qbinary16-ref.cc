// The reference rows of the A16W8 Add and Mul: QAddOne and RequantizeOne element by element.
#include "qbinary16/qbinary16.h"

namespace opq {

void QAdd16RowRef(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n,
                  const opq_qadd_params& p, float fixed, void* y, int32_t yt) {
  for (size_t j = 0; j < n; ++j) {
    const int32_t va = Qc16Load(a, at, as ? 0 : j), vb = Qc16Load(b, bt, bs ? 0 : j);
    Qc16Store(y, yt, j, QAddOne(va, vb, p, fixed));
  }
}

void QMul16RowRef(const void* a, int32_t at, bool as, int32_t za, const void* b, int32_t bt, bool bs, int32_t zb,
                  size_t n, const opq_requant& rq, void* y, int32_t yt) {
  for (size_t j = 0; j < n; ++j) {
    const int32_t va = Qc16Load(a, at, as ? 0 : j), vb = Qc16Load(b, bt, bs ? 0 : j);
    Qc16Store(y, yt, j, RequantizeOne((va - za) * (vb - zb), rq, 0));  // exact (validated bound)
  }
}

}  // namespace opq
