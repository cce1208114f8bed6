// WASM SIMD128 calibration statistics. f32x4.pmin(acc, v) is `v < acc ? v : acc` and pmax(acc, v)
// is `acc < v ? v : acc`: the reference's comparisons lane by lane, NaN never winning. The histogram
// computes bin indices four at a time in f64x2 (the reference's products and floors) and increments
// the counts in scalar, except for zeros: counted in vector lanes and added to their bin once.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();
constexpr size_t kChunk = size_t{1} << 24;  // zero counts per int32 lane stay below 2^31

bool NonFinite(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  return (bits & 0x7f800000u) == 0x7f800000u;
}

}  // namespace

void F32ScanWasmSimd(size_t n, const float* x, double* out) {
  const float inf = std::numeric_limits<float>::infinity();
  F32ScanState s{inf, -inf, 0, kNone};
  const v128_t zero = wasm_f32x4_splat(0.0f), expo = wasm_i32x4_splat(0x7f800000);
  v128_t lo0 = wasm_f32x4_splat(inf), lo1 = lo0, hi0 = wasm_f32x4_splat(-inf), hi1 = hi0;
  size_t i = 0;
  while (n - i >= 8) {
    const size_t stop = i + (std::min(n - i, kChunk) & ~size_t{7});
    v128_t z0 = wasm_i32x4_splat(0), z1 = z0;
    for (; i < stop; i += 8) {
      const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 4);
      lo0 = wasm_f32x4_pmin(lo0, a);
      lo1 = wasm_f32x4_pmin(lo1, b);
      hi0 = wasm_f32x4_pmax(hi0, a);
      hi1 = wasm_f32x4_pmax(hi1, b);
      z0 = wasm_i32x4_sub(z0, wasm_f32x4_eq(a, zero));
      z1 = wasm_i32x4_sub(z1, wasm_f32x4_eq(b, zero));
      if (s.bad == kNone) {
        const v128_t e =
            wasm_v128_or(wasm_i32x4_eq(wasm_v128_and(a, expo), expo), wasm_i32x4_eq(wasm_v128_and(b, expo), expo));
        if (wasm_v128_any_true(e)) {
          for (size_t j = i; j < i + 8; ++j)
            if (NonFinite(x[j])) {
              s.bad = j;
              break;
            }
        }
      }
    }
    const v128_t z = wasm_i32x4_add(z0, z1);
    s.zeros += static_cast<uint32_t>(wasm_i32x4_extract_lane(z, 0) + wasm_i32x4_extract_lane(z, 1) +
                                     wasm_i32x4_extract_lane(z, 2) + wasm_i32x4_extract_lane(z, 3));
  }
  const v128_t lo = wasm_f32x4_pmin(lo0, lo1), hi = wasm_f32x4_pmax(hi0, hi1);
  float l[4], h[4];
  wasm_v128_store(l, lo);
  wasm_v128_store(h, hi);
  for (int k = 0; k < 4; ++k) {
    if (l[k] < s.lo) s.lo = l[k];
    if (h[k] > s.hi) s.hi = h[k];
  }
  F32ScanRange(x, i, n, &s);
  F32ScanFinish(s, out);
}

void F32HistogramWasmSimd(size_t n, const float* x, double inv, double zero, double* counts, size_t bins) {
  const v128_t vinv = wasm_f64x2_splat(inv), vzero = wasm_f64x2_splat(zero);
  const v128_t v0 = wasm_f64x2_splat(0.0), vlast = wasm_f64x2_splat(double(bins - 1));
  // An integer t in [0, 2^20] plus 2^52 is exact, with t in the low bits of the mantissa: the index
  // without a float-to-int conversion (which LLVM expands into scalar saturating code here).
  const v128_t magic = wasm_f64x2_splat(4503599627370496.0);
  // Zeros (+0 and -0) all land in bin `zbin`: counted in i32x4 lanes and added once at the end (see
  // F32HistogramAvx2: the same bits while that bin holds an integer within 2^53; otherwise they are
  // compared with NaN, never set apart). A zero lane increments its slot in a sink (never read)
  // instead of its bin: the address is picked with a wasm `select`, no branch per lane. Two sets of
  // slots taken in turn, so that a block's sink increments do not wait for the previous one's.
  const size_t zbin = static_cast<size_t>(F32HistogramBin(0.0f, inv, zero, bins));
  const double c0 = counts[zbin];
  const bool apart = c0 == std::floor(c0) && std::fabs(c0) <= 9007199254740992.0 - double(n);
  const v128_t vz = wasm_f32x4_splat(apart ? 0.0f : std::numeric_limits<float>::quiet_NaN());
  double sink[8] = {};
  uint64_t zeros = 0;
  size_t i = 0;
  while (n - i >= 4) {
    const size_t stop = i + (std::min(n - i, kChunk) & ~size_t{3});
    v128_t z = wasm_i32x4_splat(0);
    for (; i < stop; i += 4) {
      const v128_t v = wasm_v128_load(x + i);
      if (wasm_v128_any_true(wasm_f32x4_ne(v, v))) {
        // A NaN among the four: the scalar definition skips it (and bins these zeros).
        F32HistogramRef(4, x + i, inv, zero, counts, bins);
        continue;
      }
      const v128_t zm = wasm_f32x4_eq(v, vz);
      z = wasm_i32x4_sub(z, zm);  // all ones is -1: subtracting counts
      const uint32_t m = wasm_i32x4_bitmask(zm);
      if (m == 0xf) continue;  // four zeros (runs are common after ReLU)
      // floor(x * inv) + zero clamped to [0, bins - 1] (integers or +-inf before the clamp, so the
      // clamp equals the reference's tests); pmax/pmin never see NaN here.
      v128_t a = wasm_f64x2_promote_low_f32x4(v), b = wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(v, v, 1, 0));
      a = wasm_f64x2_add(wasm_f64x2_floor(wasm_f64x2_mul(a, vinv)), vzero);
      b = wasm_f64x2_add(wasm_f64x2_floor(wasm_f64x2_mul(b, vinv)), vzero);
      a = wasm_f64x2_add(wasm_f64x2_pmin(wasm_f64x2_pmax(a, v0), vlast), magic);
      b = wasm_f64x2_add(wasm_f64x2_pmin(wasm_f64x2_pmax(b, v0), vlast), magic);
      double* s = sink + (i & 4);
      double* q0 = m & 1 ? s : counts + static_cast<uint32_t>(wasm_i32x4_extract_lane(a, 0));
      double* q1 = m & 2 ? s + 1 : counts + static_cast<uint32_t>(wasm_i32x4_extract_lane(a, 2));
      double* q2 = m & 4 ? s + 2 : counts + static_cast<uint32_t>(wasm_i32x4_extract_lane(b, 0));
      double* q3 = m & 8 ? s + 3 : counts + static_cast<uint32_t>(wasm_i32x4_extract_lane(b, 2));
      *q0 += 1.0;
      *q1 += 1.0;
      *q2 += 1.0;
      *q3 += 1.0;
    }
    zeros += static_cast<uint32_t>(wasm_i32x4_extract_lane(z, 0) + wasm_i32x4_extract_lane(z, 1) +
                                   wasm_i32x4_extract_lane(z, 2) + wasm_i32x4_extract_lane(z, 3));
  }
  F32HistogramRef(n - i, x + i, inv, zero, counts, bins);
  if (zeros != 0) counts[zbin] += static_cast<double>(zeros);  // (+ 0 would turn a -0 count into +0)
}

}  // namespace opq
#endif
