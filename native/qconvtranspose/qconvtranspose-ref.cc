// Scalar hooks of the ConvTranspose driver: the reference every variant matches bit for bit.
#include "qconvtranspose/qconvtranspose.h"

namespace opq {
namespace {

void GemmRef(size_t m, size_t np, size_t kq, const int32_t* a, const int32_t* x, size_t ldx, int32_t* c, size_t ldc) {
  GemmTailScalar(0, m, 0, np, kq, a, x, ldx, c, ldc);
}

const CtKernels kRef = {GemmRef, ScatterAddScalar, RequantRowRef};

}  // namespace

const CtKernels& CtKernelsRef() { return kRef; }

}  // namespace opq
