// Quantized pooling (native/include/opq_qpool.h): geometry, the scalar definitions and variants.
#pragma once

#include <cstddef>
#include <cstdint>

#include "requant/requant.h"

namespace opq {

struct PoolGeom {
  size_t planes;  // n * c
  size_t in_h, in_w, out_h, out_w;
  size_t kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  bool count_include_pad;
};

size_t PoolOutputSize(size_t in, size_t kernel, size_t stride, size_t pad_begin, size_t pad_end, size_t dilation,
                      bool ceil_mode);

// sign(acc) * floor((2|acc| + count) / (2 count)): acc / count rounded half away from zero; 0 for count 0.
inline int64_t RoundingAverage(int64_t acc, int64_t count) {
  if (count <= 0) return 0;
  const int64_t mag = acc < 0 ? -acc : acc;
  const int64_t q = (2 * mag + count) / (2 * count);
  return acc < 0 ? -q : q;
}

// Taps [k0, k1) of one window along an axis whose taps fall inside [0, in): start = o * s - pad.
inline void ValidTaps(int64_t start, size_t k, size_t d, size_t in, size_t* k0, size_t* k1) {
  size_t lo = 0;
  if (start < 0) lo = static_cast<size_t>((-start + static_cast<int64_t>(d) - 1) / static_cast<int64_t>(d));
  size_t hi = 0;                                          // first tap at or past the end
  const int64_t last = static_cast<int64_t>(in) - start;  // taps t with t*d < last are inside
  if (last > 0) hi = static_cast<size_t>((last + static_cast<int64_t>(d) - 1) / static_cast<int64_t>(d));
  if (hi > k) hi = k;
  if (lo > hi) lo = hi;
  *k0 = lo;
  *k1 = hi;
}

// SIMD max pools: whether outputs [ox, ox + w) have every tap inside the row, and every byte their loads touch
// inside x (which ends at `end`; `last_row` is the last input row they read). A stride-2 load also
// reads the byte after the last one it keeps: past the row's end, that is the next row's first
// byte, which is only out of bounds after the last row of the last plane. Allowing it runs a row's
// last vector in SIMD too (a 2x2 stride-2 pool of 96-byte rows: 32 + 16 outputs, no scalar tail).
inline bool MaxPoolVectorFits(const PoolGeom& g, size_t ox, size_t w, const uint8_t* last_row, const uint8_t* end) {
  if (ox * g.sw < g.pl) return false;
  const size_t ix = ox * g.sw - g.pl;
  const size_t used = ix + (g.kw - 1) * g.dw + (w - 1) * g.sw + 1;
  return used <= g.in_w && last_row + used + (g.sw - 1) <= end;
}

// A row's last w < 16 outputs [ox, out_w) as one 16-lane vector whose extra lanes are dropped
// (output rows narrower than a vector: mnist-8's 14-wide pools): the w outputs' taps inside the row,
// and all 16 lanes' loads inside x (the extra lanes read on into the next row).
inline bool MaxPoolTailFits(const PoolGeom& g, size_t ox, const uint8_t* last_row, const uint8_t* end) {
  const size_t w = g.out_w - ox;
  if (ox >= g.out_w || w >= 16 || !MaxPoolVectorFits(g, ox, w, last_row, end)) return false;
  const size_t ix = ox * g.sw - g.pl;
  return static_cast<size_t>(end - last_row) >= ix + (g.kw - 1) * g.dw + 15 * g.sw + 1 + (g.sw - 1);
}

// The last input row that output row oy's taps [ky0, ky1) read (the plane itself when none: the SIMD
// loops then load nothing, and their maxima stay the type minimum).
inline const uint8_t* LastTapRow(const PoolGeom& g, const uint8_t* plane, int64_t iy0, size_t ky0, size_t ky1) {
  return ky1 > ky0 ? plane + static_cast<size_t>(iy0 + static_cast<int64_t>((ky1 - 1) * g.dh)) * g.in_w : plane;
}

void MaxPoolRef(const PoolGeom& g, const uint8_t* x, bool is_signed, uint8_t* y);
void AvgPoolRef(const PoolGeom& g, const uint8_t* x, bool is_signed, int32_t zx, const opq_requant& rq, uint8_t* y);
// The definition above with the averages of each row requantized by `row` (a variant's SIMD row kernel
// gives the same bytes as RequantRowRef).
void AvgPoolRun(const PoolGeom& g, const uint8_t* x, bool is_signed, int32_t zx, const opq_requant& rq,
                RequantRowFn row, uint8_t* y);
void GlobalMaxPoolRef(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, uint8_t* y);
void GlobalAvgPoolRef(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, int32_t zx,
                      const opq_requant& rq, uint8_t* y);
#if defined(__x86_64__) || defined(_M_X64)
void MaxPoolAvx2(const PoolGeom& g, const uint8_t* x, bool is_signed, uint8_t* y);
void GlobalMaxPoolAvx2(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, uint8_t* y);
void GlobalAvgPoolAvx2(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, int32_t zx,
                       const opq_requant& rq, uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void MaxPoolWasmSimd(const PoolGeom& g, const uint8_t* x, bool is_signed, uint8_t* y);
void GlobalMaxPoolWasmSimd(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, uint8_t* y);
void GlobalAvgPoolWasmSimd(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, int32_t zx,
                           const opq_requant& rq, uint8_t* y);
#endif

// Shared by the variants: one plane's output row oy of MaxPool for columns [ox0, ox1), scalar.
// Signed data is compared after flipping the sign bit (order-preserving map to unsigned).
void MaxPoolRowScalar(const PoolGeom& g, const uint8_t* plane, uint8_t flip, size_t oy, size_t ox0, size_t ox1,
                      uint8_t* yrow);

}  // namespace opq
