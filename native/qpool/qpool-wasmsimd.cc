// WebAssembly SIMD128 pooling: MaxPool over 16 interior outputs at a time for stride 1 and 2 (even
// bytes of two loads by shuffle; the last vector of a row may load a byte past it: MaxPoolVectorFits),
// then a row's last few (MaxPoolTailFits), the rest scalar; global max and average as byte reductions.
#include "qpool/qpool.h"

#include <cstring>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {
namespace {

inline v128_t Load16(const uint8_t* p, size_t sw, v128_t flip) {
  if (sw == 1) return wasm_v128_xor(wasm_v128_load(p), flip);
  const v128_t a = wasm_v128_load(p), b = wasm_v128_load(p + 16);
  return wasm_v128_xor(wasm_i8x16_shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), flip);
}

}  // namespace

void MaxPoolWasmSimd(const PoolGeom& g, const uint8_t* x, bool is_signed, uint8_t* y) {
  if (g.sw > 2) {
    MaxPoolRef(g, x, is_signed, y);
    return;
  }
  const uint8_t flip = is_signed ? 0x80 : 0;
  const v128_t vflip = wasm_i8x16_splat(static_cast<int8_t>(flip));
  const uint8_t* const end = x + g.planes * g.in_h * g.in_w;
  for (size_t p = 0; p < g.planes; ++p) {
    const uint8_t* plane = x + p * g.in_h * g.in_w;
    for (size_t oy = 0; oy < g.out_h; ++oy) {
      uint8_t* yrow = y + (p * g.out_h + oy) * g.out_w;
      const int64_t iy0 = static_cast<int64_t>(oy * g.sh) - static_cast<int64_t>(g.pt);
      size_t ky0, ky1;
      ValidTaps(iy0, g.kh, g.dh, g.in_h, &ky0, &ky1);
      const uint8_t* last_row = LastTapRow(g, plane, iy0, ky0, ky1);
      size_t ox = 0;
      while (ox < g.out_w && !MaxPoolVectorFits(g, ox, 1, last_row, end)) ++ox;
      MaxPoolRowScalar(g, plane, flip, oy, 0, ox, yrow);
      // The 16 outputs from ox, sign-flipped back.
      const auto max16 = [&](size_t o) {
        v128_t m = wasm_i8x16_splat(0);
        for (size_t ky = ky0; ky < ky1; ++ky) {
          const uint8_t* row =
              plane + static_cast<size_t>(iy0 + static_cast<int64_t>(ky * g.dh)) * g.in_w + o * g.sw - g.pl;
          for (size_t kx = 0; kx < g.kw; ++kx) m = wasm_u8x16_max(m, Load16(row + kx * g.dw, g.sw, vflip));
        }
        return wasm_v128_xor(m, vflip);
      };
      for (; ox + 16 <= g.out_w && MaxPoolVectorFits(g, ox, 16, last_row, end); ox += 16)
        wasm_v128_store(yrow + ox, max16(ox));
      if (MaxPoolTailFits(g, ox, last_row, end)) {
        uint8_t tail[16];
        wasm_v128_store(tail, max16(ox));
        std::memcpy(yrow + ox, tail, g.out_w - ox);
        ox = g.out_w;
      }
      MaxPoolRowScalar(g, plane, flip, oy, ox, g.out_w, yrow);
    }
  }
}

void GlobalMaxPoolWasmSimd(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, uint8_t* y) {
  const uint8_t flip = is_signed ? 0x80 : 0;
  const v128_t vflip = wasm_i8x16_splat(static_cast<int8_t>(flip));
  for (size_t c = 0; c < channels; ++c) {
    const uint8_t* p = x + c * spatial;
    v128_t m = wasm_i8x16_splat(0);
    size_t i = 0;
    for (; i + 16 <= spatial; i += 16) m = wasm_u8x16_max(m, wasm_v128_xor(wasm_v128_load(p + i), vflip));
    uint8_t lanes[16];
    wasm_v128_store(lanes, m);
    uint8_t r = 0;
    for (int k = 0; k < 16; ++k) r = lanes[k] > r ? lanes[k] : r;
    for (; i < spatial; ++i) {
      const uint8_t v = p[i] ^ flip;
      r = v > r ? v : r;
    }
    y[c] = r ^ flip;
  }
}

void GlobalAvgPoolWasmSimd(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, int32_t zx,
                           const opq_requant& rq, uint8_t* y) {
  for (size_t c = 0; c < channels; ++c) {
    const uint8_t* p = x + c * spatial;
    int64_t acc = 0;
    size_t i = 0;
    // Pairwise widening adds into int32 lanes; flushed to int64 every 2^16 blocks (no overflow).
    while (i + 16 <= spatial) {
      v128_t s = wasm_i32x4_splat(0);
      const size_t end = spatial - i > (size_t{16} << 16) ? i + (size_t{16} << 16) : spatial;
      for (; i + 16 <= end; i += 16) {
        const v128_t v = wasm_v128_load(p + i);
        const v128_t w = is_signed ? wasm_i16x8_extadd_pairwise_i8x16(v) : wasm_u16x8_extadd_pairwise_u8x16(v);
        s = wasm_i32x4_add(s, wasm_i32x4_extadd_pairwise_i16x8(w));
      }
      acc += static_cast<int64_t>(wasm_i32x4_extract_lane(s, 0)) + wasm_i32x4_extract_lane(s, 1) +
             wasm_i32x4_extract_lane(s, 2) + wasm_i32x4_extract_lane(s, 3);
    }
    for (; i < spatial; ++i)
      acc += is_signed ? static_cast<int64_t>(static_cast<int8_t>(p[i])) : static_cast<int64_t>(p[i]);
    acc -= static_cast<int64_t>(zx) * static_cast<int64_t>(spatial);
    y[c] = static_cast<uint8_t>(
        RequantizeOne(static_cast<int32_t>(RoundingAverage(acc, static_cast<int64_t>(spatial))), rq, 0));
  }
}

}  // namespace opq
#endif
