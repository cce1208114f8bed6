// WebAssembly SIMD128 hooks of the convolution driver: a 4x8 int16-pair microkernel
// (i32x4.dot_i16x8_s, exact like vpmaddwd), im2col panels for stride 1 and 2 rows, depthwise rows.
#include "conv/conv.h"
#include "qgemm/qgemm.h"
#include "requant/requant.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "qgemm/int16-ukernel-wasmsimd-inl.h"

namespace opq {
namespace {

constexpr size_t kMr = kInt16WasmMr, kNr = kInt16WasmNr;

// The shared int16-pair microkernel, in the driver's signature (C overwritten, never accumulated).
void Ukernel4x8(size_t kc, const void* av, const void* bv, int32_t* c, size_t ldc) {
  Int16Ukernel4x8WasmSimd(kc, static_cast<const int32_t*>(av), static_cast<const int16_t*>(bv), c, ldc, false);
}

// 8 int16 at p, p+step, ... for step 1 or 2 (step 2 reads 16 elements; the driver leaves slack).
inline v128_t Load8(const int16_t* p, int32_t step) {
  if (step == 1) return wasm_v128_load(p);
  return wasm_i16x8_shuffle(wasm_v128_load(p), wasm_v128_load(p + 8), 0, 2, 4, 6, 8, 10, 12, 14);
}

// Pixels [a, a + n) of a panel whose window origins are one stretch of an input row: pixel a + j
// reads xp[base + j * stride]; `lanes` selects their int16 lanes.
struct Run {
  v128_t lanes;
  int64_t base;  // off[a] - a * stride, in elements (may lie before xp)
};

// A panel's 8 elements of tap offset k: a full load per run, its lanes kept. A run that starts past
// lane 0 loads from before its first pixel, and the last may load past the row: both stay inside
// wasm memory (the padded input sits inside the workspace, which has slack after it), and the lanes
// outside the run are dropped.
inline v128_t LoadRuns(const int16_t* xp, const Run* runs, size_t nrun, int64_t k, int32_t step) {
  v128_t r = wasm_i16x8_splat(0);
  for (size_t i = 0; i < nrun; ++i) {
    const int16_t* p = reinterpret_cast<const int16_t*>(reinterpret_cast<uintptr_t>(xp) +
                                                        uintptr_t((runs[i].base + k) * int64_t(sizeof(int16_t))));
    r = wasm_v128_bitselect(Load8(p, step), r, runs[i].lanes);
  }
  return r;
}

// Runs of at most this many per panel take whole loads; more (output rows narrower than 2 pixels)
// go element by element.
constexpr size_t kMaxRuns = 4;

void Im2col(const void* xpv, const int32_t* koff, size_t kg, const int32_t* off, bool regular, size_t stride,
            void* dstv) {
  const int16_t* xp = static_cast<const int16_t*>(xpv);
  int16_t* dst = static_cast<int16_t*>(dstv);
  const size_t kp = (kg + 1) / 2;
  if (stride > 2) {
    Im2colScalar<int16_t, 2>(xp, koff, kg, off, kNr, 0, kNr, 0, kp, dst);
    return;
  }
  const int32_t step = int32_t(stride);
  const size_t full = kg / 2;
  // The panel's whole pairs from load(k), the 8 elements of tap offset k, interleaved.
  const auto pairs = [&](auto load) {
    for (size_t q = 0; q < full; ++q) {
      const v128_t v0 = load(koff[2 * q]), v1 = load(koff[2 * q + 1]);
      int16_t* d = dst + q * kNr * 2;
      wasm_v128_store(d, wasm_i16x8_shuffle(v0, v1, 0, 8, 1, 9, 2, 10, 3, 11));
      wasm_v128_store(d + 8, wasm_i16x8_shuffle(v0, v1, 4, 12, 5, 13, 6, 14, 7, 15));
    }
  };
  if (regular) {
    const int16_t* base = xp + off[0];
    pairs([&](int32_t k) { return Load8(base + k, step); });
  } else {
    // The panel crosses output rows: its pixels split into runs along input rows. A pixel past the
    // last one repeats its predecessor's offset (the driver's filler, computed and dropped): it joins
    // no run, and its elements stay 0.
    Run runs[kMaxRuns];
    size_t nrun = 0;
    for (size_t c = 0; c < kNr;) {
      if (c > 0 && off[c] == off[c - 1]) {
        ++c;
        continue;
      }
      size_t e = c + 1;
      while (e < kNr && int64_t(off[e]) == int64_t(off[e - 1]) + int64_t(stride)) ++e;
      // A load from before address 0 would trap (never in practice: the workspace is on the heap).
      if (nrun == kMaxRuns ||
          int64_t(reinterpret_cast<uintptr_t>(xp)) + 2 * (int64_t(off[c]) - int64_t(c * stride)) < 0) {
        Im2colScalar<int16_t, 2>(xp, koff, kg, off, kNr, 0, kNr, 0, kp, dst);
        return;
      }
      alignas(16) int16_t m[8] = {};
      for (size_t j = c; j < e; ++j) m[j] = -1;
      runs[nrun++] = {wasm_v128_load(m), int64_t(off[c]) - int64_t(c * stride)};
      c = e;
    }
    pairs([&](int32_t k) { return LoadRuns(xp, runs, nrun, k, step); });
  }
  if (full < kp) Im2colScalar<int16_t, 2>(xp, koff, kg, off, kNr, 0, kNr, full, kp, dst);
}

// 4 int16 at p, p+stride, ... as int32 (stride 2 reads 8 elements).
inline v128_t Load4(const int16_t* p, size_t stride) {
  if (stride == 1) return wasm_i32x4_load16x4(p);
  const v128_t v = wasm_v128_load(p);
  return wasm_i32x4_shr(wasm_i32x4_shl(v, 16), 16);
}

void DwRow(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
           int32_t* acc) {
  if (stride > 2) {
    DwRowScalar(row, w, tapoff, taps, stride, 0, ow, acc);
    return;
  }
  size_t ox = 0;
  for (; ox + 16 <= ow; ox += 16) {
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    const int16_t* p = row + ox * stride;
    for (size_t t = 0; t < taps; ++t) {
      const v128_t wv = wasm_i32x4_splat(w[t]);
      const int16_t* s = p + tapoff[t];
      a0 = wasm_i32x4_add(a0, wasm_i32x4_mul(Load4(s, stride), wv));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_mul(Load4(s + 4 * stride, stride), wv));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_mul(Load4(s + 8 * stride, stride), wv));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_mul(Load4(s + 12 * stride, stride), wv));
    }
    wasm_v128_store(acc + ox, a0);
    wasm_v128_store(acc + ox + 4, a1);
    wasm_v128_store(acc + ox + 8, a2);
    wasm_v128_store(acc + ox + 12, a3);
  }
  // Blocks of 4; a last partial block is recomputed overlapping the previous one (same values).
  while (ox < ow && ow >= 4) {
    if (ox + 4 > ow) ox = ow - 4;
    v128_t a0 = wasm_i32x4_splat(0);
    const int16_t* p = row + ox * stride;
    for (size_t t = 0; t < taps; ++t)
      a0 = wasm_i32x4_add(a0, wasm_i32x4_mul(Load4(p + tapoff[t], stride), wasm_i32x4_splat(w[t])));
    wasm_v128_store(acc + ox, a0);
    ox += 4;
  }
  if (ox < ow) DwRowScalar(row, w, tapoff, taps, stride, ox, ow, acc);
}

// GEMM-mode panels of int16 pairs, as the AVX2 form: 8 bytes (4 pairs) of each of four rows widened
// and centred, transposed 4x4 so that pair q of the four rows is contiguous; pairs past the last
// full 8 bytes (and widths not a multiple of 4) take the scalar form, which defines the layout.
void PackRows(const uint8_t* x, size_t ldx, size_t rows, size_t kg, bool x_signed, int32_t zx, size_t width,
              void* dstv) {
  int32_t* dst = static_cast<int32_t*>(dstv);  // one 32-bit word per int16 pair
  const size_t blocks = width % 4 == 0 ? kg / 8 : 0, kp = (kg + 1) / 2;
  const v128_t vzx = wasm_i16x8_splat(int16_t(zx));
  for (size_t c0 = 0; c0 < width && blocks > 0; c0 += 4) {
    for (size_t b = 0; b < blocks; ++b) {
      v128_t r[4];
      for (size_t i = 0; i < 4; ++i) {
        const size_t c = c0 + i;
        if (c >= rows) {
          r[i] = wasm_i32x4_splat(0);
          continue;
        }
        const uint8_t* p = x + c * ldx + b * 8;
        r[i] = wasm_i16x8_sub(x_signed ? wasm_i16x8_load8x8(p) : wasm_u16x8_load8x8(p), vzx);
      }
      const v128_t t0 = wasm_i32x4_shuffle(r[0], r[1], 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r[0], r[1], 2, 6, 3, 7);
      const v128_t t2 = wasm_i32x4_shuffle(r[2], r[3], 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r[2], r[3], 2, 6, 3, 7);
      int32_t* d = dst + b * 4 * width + c0;
      wasm_v128_store(d, wasm_i64x2_shuffle(t0, t2, 0, 2));
      wasm_v128_store(d + width, wasm_i64x2_shuffle(t0, t2, 1, 3));
      wasm_v128_store(d + 2 * width, wasm_i64x2_shuffle(t1, t3, 0, 2));
      wasm_v128_store(d + 3 * width, wasm_i64x2_shuffle(t1, t3, 1, 3));
    }
  }
  if (blocks * 4 < kp) PackRowsScalar<2>(x, ldx, rows, kg, x_signed, zx, width, blocks * 4, kp, dstv);
}

// Pointwise panels, as the AVX2 form: per pair of channels, 8 bytes of each widened, centred and
// interleaved into (k, k+1) pairs (whole panels: the driver packs a narrower last one).
void PackCols(const uint8_t* x, size_t ldx, size_t kg, bool x_signed, int32_t zx, void* dstv) {
  int16_t* dst = static_cast<int16_t*>(dstv);
  const size_t kp = (kg + 1) / 2;
  const v128_t vzx = wasm_i16x8_splat(int16_t(zx));
  const auto row = [&](size_t kk) {
    const uint8_t* p = x + kk * ldx;
    return wasm_i16x8_sub(x_signed ? wasm_i16x8_load8x8(p) : wasm_u16x8_load8x8(p), vzx);
  };
  for (size_t q = 0; q < kp; ++q) {
    const v128_t w0 = row(2 * q), w1 = 2 * q + 1 < kg ? row(2 * q + 1) : wasm_i16x8_splat(0);
    int16_t* d = dst + q * kNr * 2;
    wasm_v128_store(d, wasm_i16x8_shuffle(w0, w1, 0, 8, 1, 9, 2, 10, 3, 11));
    wasm_v128_store(d + 8, wasm_i16x8_shuffle(w0, w1, 4, 12, 5, 13, 6, 14, 7, 15));
  }
}

const ConvKernels kKernels = {kMr,
                              kNr,
                              2,
                              false,
                              Ukernel4x8,
                              Im2col,
                              PackRows,
                              PackCols,
                              DwRow,
                              RequantRowWasmSimd,
                              RequantChannelRowWasmSimd,
                              nullptr,
                              nullptr};

}  // namespace

const ConvKernels* ConvKernelsWasmSimd() { return &kKernels; }

}  // namespace opq
#endif
