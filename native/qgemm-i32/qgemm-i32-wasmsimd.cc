// WebAssembly SIMD128 qgemm_i32: qgemm's 4x8 int16-pair microkernel (i32x4.dot_i16x8_s) and
// packing, both zero points subtracted at packing; exact like AVX2's.
#include "qgemm-i32/qgemm-i32-driver.h"
#include "qgemm/qgemm-int16-driver.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "qgemm/int16-ukernel-wasmsimd-inl.h"

namespace opq {
namespace {

struct WasmInt16 {
  static constexpr size_t kMr = kInt16WasmMr, kNr = kInt16WasmNr, kStep = 2, kRowTerms = 0, kColTerms = 0;
  static constexpr double kMinParallelMacs = kI32MinParallelMacsInt16;

  static void PackA(const I32Ctx& c, size_t p) {
    PackAInt16<kMr>(*c.o, c.ks, p, p + 1, reinterpret_cast<int32_t*>(c.apack));
  }
  static void PackB(const I32Ctx& c, size_t p) {
    PackBInt16<kNr>(*c.o, c.ks, p, p + 1, reinterpret_cast<int16_t*>(c.bpack), PackBInt16FullWasmSimd);
  }

  static void Tile(const I32Ctx& c, size_t ip, size_t jp) {
    const int32_t* a = reinterpret_cast<const int32_t*>(c.apack) + ip * c.ks * kMr;
    const int16_t* b = reinterpret_cast<const int16_t*>(c.bpack) + jp * c.ks * kNr * 2;
    const size_t i0 = ip * kMr, j0 = jp * kNr;
    int32_t* y = c.y + i0 * c.ldy + j0;
    if (i0 + kMr <= c.o->m && j0 + kNr <= c.o->n) {
      Int16Ukernel4x8WasmSimd(c.ks, a, b, y, c.ldy, false);
      return;
    }
    alignas(16) int32_t tile[kMr * kNr];
    Int16Ukernel4x8WasmSimd(c.ks, a, b, tile, kNr, false);
    const size_t rows = c.o->m - i0 < kMr ? c.o->m - i0 : kMr, cols = c.o->n - j0 < kNr ? c.o->n - j0 : kNr;
    StoreTileI32<kNr>(tile, rows, cols, y, c.ldy);
  }
};

}  // namespace

uint64_t QGemmI32WasmSimdWorkspace(size_t m, size_t n, size_t k, bool packed_b) {
  return I32Workspace<WasmInt16>(m, n, k, packed_b);
}

void QGemmI32WasmSimd(const QGemmI32Args& g) { RunI32Gemm<WasmInt16>(g); }

uint64_t QGemmI32WasmSimdPackedBBytes(size_t n, size_t k) { return I32PackedBBytes<WasmInt16>(n, k); }

void QGemmI32WasmSimdPackB(const GemmOperands& o, uint8_t* dst) { I32PackB<WasmInt16>(o, dst); }

}  // namespace opq
#endif
