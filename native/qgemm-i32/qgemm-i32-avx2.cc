// AVX2 qgemm_i32: qgemm's 6x16 int16-pair microkernel (vpmaddwd) and packing, both zero points
// subtracted at packing; a full tile is written straight into Y, an edge tile through the stack.
#include "qgemm-i32/qgemm-i32-driver.h"
#include "qgemm/qgemm-int16-driver.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qgemm/int16-ukernel-avx2-inl.h"

namespace opq {
namespace {

struct Avx2Int16 {
  static constexpr size_t kMr = kInt16Avx2Mr, kNr = kInt16Avx2Nr, kStep = 2, kRowTerms = 0, kColTerms = 0;
  static constexpr double kMinParallelMacs = kI32MinParallelMacsInt16;

  static void PackA(const I32Ctx& c, size_t p) {
    PackAInt16<kMr>(*c.o, c.ks, p, p + 1, reinterpret_cast<int32_t*>(c.apack));
  }
  static void PackB(const I32Ctx& c, size_t p) {
    PackBInt16<kNr>(*c.o, c.ks, p, p + 1, reinterpret_cast<int16_t*>(c.bpack), PackBInt16FullAvx2);
  }

  static void Tile(const I32Ctx& c, size_t ip, size_t jp) {
    const int32_t* a = reinterpret_cast<const int32_t*>(c.apack) + ip * c.ks * kMr;
    const int16_t* b = reinterpret_cast<const int16_t*>(c.bpack) + jp * c.ks * kNr * 2;
    const size_t i0 = ip * kMr, j0 = jp * kNr;
    int32_t* y = c.y + i0 * c.ldy + j0;
    if (i0 + kMr <= c.o->m && j0 + kNr <= c.o->n) {
      Int16Ukernel6x16Avx2(c.ks, a, b, y, c.ldy, false);
      return;
    }
    alignas(32) int32_t tile[kMr * kNr];
    Int16Ukernel6x16Avx2(c.ks, a, b, tile, kNr, false);
    const size_t rows = c.o->m - i0 < kMr ? c.o->m - i0 : kMr, cols = c.o->n - j0 < kNr ? c.o->n - j0 : kNr;
    StoreTileI32<kNr>(tile, rows, cols, y, c.ldy);
  }
};

}  // namespace

uint64_t QGemmI32Avx2Workspace(size_t m, size_t n, size_t k, bool packed_b) {
  return I32Workspace<Avx2Int16>(m, n, k, packed_b);
}

void QGemmI32Avx2(const QGemmI32Args& g) { RunI32Gemm<Avx2Int16>(g); }

uint64_t QGemmI32Avx2PackedBBytes(size_t n, size_t k) { return I32PackedBBytes<Avx2Int16>(n, k); }

void QGemmI32Avx2PackB(const GemmOperands& o, uint8_t* dst) { I32PackB<Avx2Int16>(o, dst); }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
