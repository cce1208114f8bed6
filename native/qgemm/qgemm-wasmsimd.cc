// WebAssembly SIMD128 qgemm: 4x8 int16-pair microkernel (i32x4.dot_i16x8_s), exact like AVX2's.
#include "qgemm/qgemm-int16-driver.h"
#include "requant/requant.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "qgemm/int16-ukernel-wasmsimd-inl.h"

namespace opq {
namespace {

constexpr size_t kMr = kInt16WasmMr, kNr = kInt16WasmNr;

}  // namespace

size_t QGemmWasmSimdWorkspace(size_t m, size_t n, size_t k) { return Int16GemmWorkspace<kMr, kNr>(m, n, k); }

void QGemmWasmSimd(const QGemmArgs& g) {
  RunInt16Gemm<kMr, kNr>(g, Int16Ukernel4x8WasmSimd, RequantRowWasmSimd, PackBInt16FullWasmSimd);
}

}  // namespace opq
#endif
