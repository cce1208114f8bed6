// WebAssembly SIMD128 hook of the A16W8 convolution driver: a 4-channel x 8-pixel tile of one
// output row as int16-pair dot products (i32x4.dot_i16x8_s, each pair sum at most 2 * 32768 * 255
// in magnitude, exact), int32 lanes flushed into int64 every 128 pair steps.
#include "qconv16/qconv16.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {
namespace {

// d[0..7] (int64) += the 8 int32 lanes of (lo, hi).
inline void Flush(v128_t lo, v128_t hi, int64_t* d) {
  v128_t* p = reinterpret_cast<v128_t*>(d);
  p[0] = wasm_i64x2_add(p[0], wasm_i64x2_extend_low_i32x4(lo));
  p[1] = wasm_i64x2_add(p[1], wasm_i64x2_extend_high_i32x4(lo));
  p[2] = wasm_i64x2_add(p[2], wasm_i64x2_extend_low_i32x4(hi));
  p[3] = wasm_i64x2_add(p[3], wasm_i64x2_extend_high_i32x4(hi));
}

// 4 channels x 8 pixels starting at x2.
void Tile8(const int32_t* x2, const int32_t* const* w2, const Qc16Taps& t, int64_t* acc /* [4][8] */) {
  const int32_t *w0 = w2[0], *w1 = w2[1], *w2p = w2[2], *w3 = w2[3];
  for (size_t s0 = 0; s0 < t.steps; s0 += kQc16FlushSteps) {
    const size_t s1 = t.steps - s0 < kQc16FlushSteps ? t.steps : s0 + kQc16FlushSteps;
    v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (size_t s = s0; s < s1; ++s) {
      const int32_t* xp = x2 + t.xoff[s];
      const v128_t b0 = wasm_v128_load(xp), b1 = wasm_v128_load(xp + 4);
      v128_t w = wasm_i32x4_splat(w0[s]);
      c00 = wasm_i32x4_add(c00, wasm_i32x4_dot_i16x8(w, b0));
      c01 = wasm_i32x4_add(c01, wasm_i32x4_dot_i16x8(w, b1));
      w = wasm_i32x4_splat(w1[s]);
      c10 = wasm_i32x4_add(c10, wasm_i32x4_dot_i16x8(w, b0));
      c11 = wasm_i32x4_add(c11, wasm_i32x4_dot_i16x8(w, b1));
      w = wasm_i32x4_splat(w2p[s]);
      c20 = wasm_i32x4_add(c20, wasm_i32x4_dot_i16x8(w, b0));
      c21 = wasm_i32x4_add(c21, wasm_i32x4_dot_i16x8(w, b1));
      w = wasm_i32x4_splat(w3[s]);
      c30 = wasm_i32x4_add(c30, wasm_i32x4_dot_i16x8(w, b0));
      c31 = wasm_i32x4_add(c31, wasm_i32x4_dot_i16x8(w, b1));
    }
    // At most 128 pair sums per lane: exact in int32; widen into the int64 sums.
    Flush(c00, c01, acc);
    Flush(c10, c11, acc + 8);
    Flush(c20, c21, acc + 16);
    Flush(c30, c31, acc + 24);
  }
}

void TileWasmSimd(const int32_t* x2, const int32_t* const* w2, size_t mr, size_t np, const Qc16Taps& t, int64_t* out) {
  for (size_t p0 = 0; p0 < np; p0 += 8) {
    alignas(16) int64_t acc[4 * 8] = {};
    Tile8(x2 + p0, w2, t, acc);
    const size_t n = np - p0 < 8 ? np - p0 : 8;
    for (size_t o = 0; o < mr; ++o)
      for (size_t p = 0; p < n; ++p) out[o * 16 + p0 + p] = acc[o * 8 + p];
  }
}

const Qc16Kernels kWasmSimd = {TileWasmSimd};

}  // namespace

const Qc16Kernels& Qc16KernelsWasmSimd() { return kWasmSimd; }

}  // namespace opq
#endif
