// AVX2 calibration statistics. The scan keeps min, max and zero counts in vectors (MINPS/MAXPS
// return their second operand, the accumulator, when the element is NaN: NaN is ignored as in
// the reference) and an unordered-compare flag for NaN; an infinity shows in the extremes. Only
// when either is set does a scalar pass look for the first NaN or infinity (6 vector ops per 16
// elements fewer than testing every block). The histogram computes 8 bin indices at a time in double (exact: the
// same products and floors as the reference) and increments the counts in scalar, except for zeros:
// counted in vector lanes and added to their bin once.
#include <algorithm>
#include <cmath>
#include <limits>

#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

// Zero counts live in int32 lanes (one per 16 elements per lane, two vectors): flushed every 2^24
// elements, far below 2^31 per lane.
constexpr size_t kChunk = size_t{1} << 24;

bool NonFinite(float v) {
  uint32_t bits;
  __builtin_memcpy(&bits, &v, 4);
  return (bits & 0x7f800000u) == 0x7f800000u;
}

}  // namespace

void F32ScanAvx2(size_t n, const float* x, double* out) {
  const float inf = std::numeric_limits<float>::infinity();
  F32ScanState s{inf, -inf, 0, kNone};
  const __m256 zero = _mm256_setzero_ps();
  __m256 lo0 = _mm256_set1_ps(inf), lo1 = lo0, hi0 = _mm256_set1_ps(-inf), hi1 = hi0, nan = zero;
  size_t i = 0;
  while (n - i >= 16) {
    const size_t stop = i + (std::min(n - i, kChunk) & ~size_t{15});
    __m256i z0 = _mm256_setzero_si256(), z1 = z0;
    for (; i < stop; i += 16) {
      const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
      lo0 = _mm256_min_ps(a, lo0);
      lo1 = _mm256_min_ps(b, lo1);
      hi0 = _mm256_max_ps(a, hi0);
      hi1 = _mm256_max_ps(b, hi1);
      // Equal to 0 (+0 and -0 both) is all ones, i.e. -1: subtracting counts it.
      z0 = _mm256_sub_epi32(z0, _mm256_castps_si256(_mm256_cmp_ps(a, zero, _CMP_EQ_OQ)));
      z1 = _mm256_sub_epi32(z1, _mm256_castps_si256(_mm256_cmp_ps(b, zero, _CMP_EQ_OQ)));
      // A NaN in a or b; infinities show in the extremes. Where the first one is, is found below.
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
    }
    const __m256i z = _mm256_add_epi32(z0, z1);
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(z), _mm256_extracti128_si256(z, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    s.zeros += static_cast<uint32_t>(_mm_cvtsi128_si32(h));
  }
  alignas(32) float lo[8], hi[8];
  _mm256_store_ps(lo, _mm256_min_ps(lo0, lo1));
  _mm256_store_ps(hi, _mm256_max_ps(hi0, hi1));
  for (int l = 0; l < 8; ++l) {
    if (lo[l] < s.lo) s.lo = lo[l];
    if (hi[l] > s.hi) s.hi = hi[l];
  }
  const size_t vec_end = i;
  const bool vec_bad = !_mm256_testz_ps(nan, nan) || s.lo == -inf || s.hi == inf;
  F32ScanRange(x, i, n, &s);
  // A NaN or infinity in the vector part (rare: the run then fails or skips it) comes before any in
  // the tail: one pass finds the first.
  if (vec_bad)
    for (size_t j = 0; j < vec_end; ++j)
      if (NonFinite(x[j])) {
        s.bad = j;
        break;
      }
  F32ScanFinish(s, out);
}

void F32HistogramAvx2(size_t n, const float* x, double inv, double zero, double* counts, size_t bins) {
  const __m256d vinv = _mm256_set1_pd(inv), vzero = _mm256_set1_pd(zero), vlast = _mm256_set1_pd(double(bins - 1));
  const __m256d v0 = _mm256_setzero_pd();
  // Elements equal to 0 (+0 and -0) all land in one bin, `zbin`. Post-ReLU data is about half zeros,
  // and incrementing that one bin element by element is a chain of dependent loads and stores: they
  // are counted in vector lanes instead and added once at the end. That gives the bits of one
  // increment each while the bin holds an integer that stays within 2^53 (every partial count is
  // exact); otherwise (a caller's fractional or huge count) the zeros are compared with NaN, i.e.
  // never set apart, and binned like the rest.
  const size_t zbin = static_cast<size_t>(F32HistogramBin(0.0f, inv, zero, bins));
  const double c0 = counts[zbin];
  const bool apart = c0 == std::floor(c0) && std::fabs(c0) <= 9007199254740992.0 - double(n);
  const __m256d vz = _mm256_set1_pd(apart ? 0.0 : std::numeric_limits<double>::quiet_NaN());
  // A bin t (an integer in [0, 2^20]) plus 2^52 is exact, with t in the low mantissa bits: shifted
  // left by 3 (the top bits wrap away) and added to `base`, it is the address of counts[t].
  const uint64_t magic_bits = uint64_t{0x4330000000000000};
  const __m256d magic = _mm256_set1_pd(4503599627370496.0);
  const __m256i base =
      _mm256_set1_epi64x(static_cast<long long>(reinterpret_cast<uintptr_t>(counts) - (magic_bits << 3)));
  // The zero lanes increment a sink (never read) instead of a branch per lane: each lane's address,
  // its bin's or its sink slot, is chosen with a vector blend. Two sets of slots taken in turn (the
  // XOR flips bit 6 of the address), so that a block's sink increments do not wait for the previous one's.
  alignas(128) double sink[16] = {};
  const uintptr_t sink_at = reinterpret_cast<uintptr_t>(sink);
  __m256i sa = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(sink_at)), _mm256_setr_epi64x(0, 8, 16, 24));
  __m256i sb = _mm256_add_epi64(sa, _mm256_set1_epi64x(32));
  const __m256i flip = _mm256_set1_epi64x(64);
  __m256i z = _mm256_setzero_si256();  // zeros counted per 64-bit lane
  alignas(32) uintptr_t to[8];
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0) {
      // A NaN in the block: the scalar definition skips it (and bins this block's zeros).
      for (size_t j = i; j < i + 8; ++j) {
        const int64_t b = F32HistogramBin(x[j], inv, zero, bins);
        if (b >= 0) counts[b] += 1.0;
      }
      continue;
    }
    __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), b = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    const __m256d za = _mm256_cmp_pd(a, vz, _CMP_EQ_OQ), zb = _mm256_cmp_pd(b, vz, _CMP_EQ_OQ);
    // All ones is -1: subtracting counts.
    z = _mm256_sub_epi64(_mm256_sub_epi64(z, _mm256_castpd_si256(za)), _mm256_castpd_si256(zb));
    if (_mm256_movemask_pd(_mm256_and_pd(za, zb)) == 0xf) continue;  // 8 zeros (runs are common after ReLU)
    // floor(x * inv) + zero, then clamped to [0, bins - 1]: integers (or +-inf before the clamp),
    // so the clamp equals the reference's `>= bins` and `< 0` tests.
    a = _mm256_add_pd(_mm256_floor_pd(_mm256_mul_pd(a, vinv)), vzero);
    b = _mm256_add_pd(_mm256_floor_pd(_mm256_mul_pd(b, vinv)), vzero);
    a = _mm256_add_pd(_mm256_min_pd(_mm256_max_pd(a, v0), vlast), magic);
    b = _mm256_add_pd(_mm256_min_pd(_mm256_max_pd(b, v0), vlast), magic);
    const __m256i ta = _mm256_add_epi64(_mm256_slli_epi64(_mm256_castpd_si256(a), 3), base);
    const __m256i tb = _mm256_add_epi64(_mm256_slli_epi64(_mm256_castpd_si256(b), 3), base);
    sa = _mm256_xor_si256(sa, flip);
    sb = _mm256_xor_si256(sb, flip);
    _mm256_store_si256(reinterpret_cast<__m256i*>(to),
                       _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(ta), _mm256_castsi256_pd(sa), za)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(to + 4),
                       _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(tb), _mm256_castsi256_pd(sb), zb)));
    for (int k = 0; k < 8; ++k) *reinterpret_cast<double*>(to[k]) += 1.0;
  }
  alignas(32) uint64_t zl[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(zl), z);
  const uint64_t zeros = zl[0] + zl[1] + zl[2] + zl[3];
  F32HistogramRef(n - i, x + i, inv, zero, counts, bins);
  if (zeros != 0) counts[zbin] += static_cast<double>(zeros);  // (+ 0 would turn a -0 count into +0)
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
