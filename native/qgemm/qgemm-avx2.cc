// AVX2 qgemm: 6x16 int16-pair microkernel (vpmaddwd), exact for all 8-bit inputs and zero points.
#include "qgemm/qgemm-int16-driver.h"
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qgemm/int16-ukernel-avx2-inl.h"

namespace opq {
namespace {

constexpr size_t kMr = kInt16Avx2Mr, kNr = kInt16Avx2Nr;

}  // namespace

size_t QGemmAvx2Workspace(size_t m, size_t n, size_t k) { return Int16GemmWorkspace<kMr, kNr>(m, n, k); }

void QGemmAvx2(const QGemmArgs& g) {
  RunInt16Gemm<kMr, kNr>(g, Int16Ukernel6x16Avx2, RequantRowAvx2, PackBInt16FullAvx2);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
