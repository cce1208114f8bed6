// AVX2 hooks of the convolution driver: a 6x16 int16-pair GEMM microkernel (vpmaddwd, exact for
// any 8-bit data and zero points, see conv.h), im2col panels for stride 1 and 2 rows, and the
// depthwise row kernel.
#include "conv/conv.h"
#include "qgemm/qgemm.h"  // before the ISA switch: the microkernel header uses its types
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qgemm/int16-ukernel-avx2-inl.h"

namespace opq {
namespace {

constexpr size_t kMr = kInt16Avx2Mr, kNr = kInt16Avx2Nr;

// The shared int16-pair microkernel, in the driver's signature (C overwritten, never accumulated).
void Ukernel6x16(size_t kc, const void* av, const void* bv, int32_t* c, size_t ldc) {
  Int16Ukernel6x16Avx2(kc, static_cast<const int32_t*>(av), static_cast<const int16_t*>(bv), c, ldc, false);
}

// 16 int16 at p, p+step, ..., for step 1 or 2 (step 2 reads 32 elements; the driver leaves slack).
inline __m256i Load16(const int16_t* p, int32_t step) {
  if (step == 1) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16));
  // Even elements sign-extended to int32, then packed back (no saturation: they are int16).
  const __m256i el = _mm256_srai_epi32(_mm256_slli_epi32(lo, 16), 16);
  const __m256i eh = _mm256_srai_epi32(_mm256_slli_epi32(hi, 16), 16);
  return _mm256_permute4x64_epi64(_mm256_packs_epi32(el, eh), 0xD8);
}

void Im2col(const void* xpv, const int32_t* koff, size_t kg, const int32_t* off, bool regular, size_t stride,
            void* dstv) {
  const int16_t* xp = static_cast<const int16_t*>(xpv);
  int16_t* dst = static_cast<int16_t*>(dstv);
  const size_t kp = (kg + 1) / 2;
  if (!regular || stride > 2) {
    Im2colScalar<int16_t, 2>(xp, koff, kg, off, kNr, 0, kNr, 0, kp, dst);
    return;
  }
  const int32_t step = int32_t(stride);
  const int16_t* base = xp + off[0];
  const size_t full = kg / 2;  // pairs with both k present
  for (size_t q = 0; q < full; ++q) {
    const __m256i v0 = Load16(base + koff[2 * q], step);
    const __m256i v1 = Load16(base + koff[2 * q + 1], step);
    const __m256i lo = _mm256_unpacklo_epi16(v0, v1);  // pixels 0-3 | 8-11
    const __m256i hi = _mm256_unpackhi_epi16(v0, v1);  // pixels 4-7 | 12-15
    __m256i* d = reinterpret_cast<__m256i*>(dst + q * kNr * 2);
    _mm256_storeu_si256(d, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(d + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
  if (full < kp) Im2colScalar<int16_t, 2>(xp, koff, kg, off, kNr, 0, kNr, full, kp, dst);
}

// Two taps per vpmaddwd: int16 pairs of x times (w[t], w[t+1]) pairs. Exact: |x| <= 383 and |w| <= 255
// (8-bit data minus zero points), so each pair sum fits int32; sums wrap as the reference's do.
// A row's pairs are built once per call (DwPairs), not per block of outputs.
constexpr size_t kMaxDwPairs = 64;  // taps up to 128 (11x11); larger kernels take the scalar row

struct DwPair {
  int32_t off0, off1;  // tap offsets of the two int16 x (off1 unused in word mode)
  int32_t w;           // (w0, w1) as two int16 in one word
};

inline int32_t PairWord(int32_t w0, int32_t w1) { return int32_t((uint32_t(w0) & 0xffffu) | (uint32_t(w1) << 16)); }

// Word mode (stride 2): taps t, t+1 with tapoff[t+1] = tapoff[t] + 1 (horizontal neighbours) form one
// pair whose x are the int32 word at row[tapoff[t] + 2*ox]; a tap without such a neighbour pairs with
// a zero weight (its word's second half is read and multiplied by 0). Otherwise consecutive taps pair.
inline size_t DwPairs(const int32_t* w, const int32_t* tapoff, size_t taps, bool words, DwPair* out) {
  size_t q = 0;
  for (size_t t = 0; t < taps; ++q) {
    const bool both = t + 1 < taps && (!words || tapoff[t + 1] == tapoff[t] + 1);
    out[q] = {tapoff[t], both ? tapoff[t + 1] : tapoff[t], PairWord(w[t], both ? w[t + 1] : 0)};
    t += both ? 2 : 1;
  }
  return q;
}

// Stride 1, 32 outputs from p: two taps' rows unpacked into pairs (outputs 0-3 | 8-11 and 4-7 |
// 12-15 per 16; the store undoes it). A missing second tap has weight 0 and reads its first's row.
inline void DwBlock32S1(const int16_t* p, const DwPair* pr, size_t pairs, int32_t* out) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
  for (size_t q = 0; q < pairs; ++q) {
    const __m256i wp = _mm256_set1_epi32(pr[q].w);
    const int16_t *a = p + pr[q].off0, *b = p + pr[q].off1;
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 16));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_unpacklo_epi16(a0, b0), wp));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_unpackhi_epi16(a0, b0), wp));
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_unpacklo_epi16(a1, b1), wp));
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_unpackhi_epi16(a1, b1), wp));
  }
  __m256i* o = reinterpret_cast<__m256i*>(out);
  _mm256_storeu_si256(o, _mm256_permute2x128_si256(c0, c1, 0x20));
  _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(c0, c1, 0x31));
  _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(c2, c3, 0x20));
  _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(c2, c3, 0x31));
}

// Stride 1, 16 outputs from p (rows of fewer than 32 outputs).
inline void DwBlock16S1(const int16_t* p, const DwPair* pr, size_t pairs, int32_t* out) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0;
  for (size_t q = 0; q < pairs; ++q) {
    const __m256i wp = _mm256_set1_epi32(pr[q].w);
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + pr[q].off0));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + pr[q].off1));
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(c0, c1, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_permute2x128_si256(c0, c1, 0x31));
}

// Stride 2, 16 outputs from p (word-mode pairs): output ox reads the word at 2*ox, so 16 words are
// two plain loads and no shuffle (reads 32 int16 from p + off, as a stride-2 row always may).
inline void DwBlock16S2(const int16_t* p, const DwPair* pr, size_t pairs, int32_t* out) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0;
  for (size_t q = 0; q < pairs; ++q) {
    const __m256i wp = _mm256_set1_epi32(pr[q].w);
    const int16_t* a = p + pr[q].off0;
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)), wp));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 16)), wp));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), c0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), c1);
}

// acc[ox] = sum_t w[t] * row[tapoff[t] + ox*stride]. Blocks of 32 or 16; a last partial block is
// recomputed overlapping the previous one (same values).
void DwRow(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
           int32_t* acc) {
  if (stride > 2 || ow < 16 || taps > 2 * kMaxDwPairs) {
    DwRowScalar(row, w, tapoff, taps, stride, 0, ow, acc);
    return;
  }
  DwPair pr[kMaxDwPairs];
  const size_t pairs = DwPairs(w, tapoff, taps, stride == 2, pr);
  if (stride == 2) {
    for (size_t ox = 0; ox < ow; ox += 16) {
      if (ox + 16 > ow) ox = ow - 16;
      DwBlock16S2(row + 2 * ox, pr, pairs, acc + ox);
    }
    return;
  }
  if (ow < 32) {
    DwBlock16S1(row, pr, pairs, acc);
    if (ow > 16) DwBlock16S1(row + ow - 16, pr, pairs, acc + ow - 16);
    return;
  }
  for (size_t ox = 0; ox < ow; ox += 32) {
    if (ox + 32 > ow) ox = ow - 32;
    DwBlock32S1(row + ox, pr, pairs, acc + ox);
  }
}

// In-register transpose of an 8x8 block of 32-bit words: r[i] holds row i; afterwards r[j] holds column j.
inline void Transpose8x8(__m256i r[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// GEMM-mode panels of int16 pairs: each row's 8-bit data widened and centred 16 bytes (8 pairs) at
// a time, eight rows transposed so that pair q of every row is contiguous, stored at (q*width + c)
// (masked where a row group is narrower than 8). Pairs past the last full 16 bytes take the
// scalar form, which defines the layout.
void PackRows(const uint8_t* x, size_t ldx, size_t rows, size_t kg, bool x_signed, int32_t zx, size_t width,
              void* dstv) {
  int32_t* dst = static_cast<int32_t*>(dstv);  // one 32-bit word per int16 pair
  const size_t blocks = kg / 16, kp = (kg + 1) / 2;
  const __m256i vzx = _mm256_set1_epi16(int16_t(zx));
  for (size_t c0 = 0; c0 < width; c0 += 8) {
    const size_t n = width - c0 < 8 ? width - c0 : 8;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (size_t b = 0; b < blocks; ++b) {
      __m256i r[8];
      for (size_t i = 0; i < 8; ++i) {
        const size_t c = c0 + i;
        if (i >= n || c >= rows) {
          r[i] = _mm256_setzero_si256();
          continue;
        }
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + c * ldx + b * 16));
        r[i] = _mm256_sub_epi16(x_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v), vzx);
      }
      Transpose8x8(r);
      for (size_t q = 0; q < 8; ++q) {
        int32_t* d = dst + (b * 8 + q) * width + c0;
        if (n == 8)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), r[q]);
        else
          _mm256_maskstore_epi32(d, mask, r[q]);
      }
    }
  }
  if (blocks * 8 < kp) PackRowsScalar<2>(x, ldx, rows, kg, x_signed, zx, width, blocks * 8, kp, dstv);
}

// Pointwise panels: per pair of channels, 16 bytes of each widened, centred and interleaved into
// (k, k+1) pairs, as the qgemm B panels are (whole panels: the driver packs a narrower last one).
void PackCols(const uint8_t* x, size_t ldx, size_t kg, bool x_signed, int32_t zx, void* dstv) {
  int16_t* dst = static_cast<int16_t*>(dstv);
  const size_t kp = (kg + 1) / 2;
  const __m256i vzx = _mm256_set1_epi16(int16_t(zx));
  const auto row = [&](size_t kk) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + kk * ldx));
    return _mm256_sub_epi16(x_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v), vzx);
  };
  for (size_t q = 0; q < kp; ++q) {
    const __m256i w0 = row(2 * q), w1 = 2 * q + 1 < kg ? row(2 * q + 1) : _mm256_setzero_si256();
    const __m256i lo = _mm256_unpacklo_epi16(w0, w1);  // pixels 0-3 | 8-11
    const __m256i hi = _mm256_unpackhi_epi16(w0, w1);  // 4-7 | 12-15
    __m256i* d = reinterpret_cast<__m256i*>(dst + q * kNr * 2);
    _mm256_storeu_si256(d, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(d + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}

const ConvKernels kKernels = {kMr,      kNr,      2,     false,          Ukernel6x16,           Im2col,
                              PackRows, PackCols, DwRow, RequantRowAvx2, RequantChannelRowAvx2, nullptr,
                              nullptr};

}  // namespace

const ConvKernels* ConvKernelsAvx2() { return &kKernels; }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
