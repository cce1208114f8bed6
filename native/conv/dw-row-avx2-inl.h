// The depthwise row kernel of the AVX2 int16 path (ConvKernels::dw_row), shared by the AVX2 variant
// (vpmaddwd then vpaddd) and the AVX-512 VNNI variant (vpdpwssd, the two in one instruction: the
// same exact pair sums added with the same wrapping). `Acc::Add(c, x, w)` is c + the pair sums of x
// and w. Include AFTER an x86 ISA begin header, from ISA files only: internal linkage.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "conv/conv.h"

namespace opq {
namespace {

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
template <typename Acc>
inline void DwBlock32S1(const int16_t* p, const DwPair* pr, size_t pairs, int32_t* out) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
  for (size_t q = 0; q < pairs; ++q) {
    const __m256i wp = _mm256_set1_epi32(pr[q].w);
    const int16_t *a = p + pr[q].off0, *b = p + pr[q].off1;
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 16));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
    c0 = Acc::Add(c0, _mm256_unpacklo_epi16(a0, b0), wp);
    c1 = Acc::Add(c1, _mm256_unpackhi_epi16(a0, b0), wp);
    c2 = Acc::Add(c2, _mm256_unpacklo_epi16(a1, b1), wp);
    c3 = Acc::Add(c3, _mm256_unpackhi_epi16(a1, b1), wp);
  }
  __m256i* o = reinterpret_cast<__m256i*>(out);
  _mm256_storeu_si256(o, _mm256_permute2x128_si256(c0, c1, 0x20));
  _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(c0, c1, 0x31));
  _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(c2, c3, 0x20));
  _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(c2, c3, 0x31));
}

// Stride 1, 16 outputs from p (rows of fewer than 32 outputs).
template <typename Acc>
inline void DwBlock16S1(const int16_t* p, const DwPair* pr, size_t pairs, int32_t* out) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0;
  for (size_t q = 0; q < pairs; ++q) {
    const __m256i wp = _mm256_set1_epi32(pr[q].w);
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + pr[q].off0));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + pr[q].off1));
    c0 = Acc::Add(c0, _mm256_unpacklo_epi16(a, b), wp);
    c1 = Acc::Add(c1, _mm256_unpackhi_epi16(a, b), wp);
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(c0, c1, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_permute2x128_si256(c0, c1, 0x31));
}

// Stride 2, 16 outputs from p (word-mode pairs): output ox reads the word at 2*ox, so 16 words are
// two plain loads and no shuffle (reads 32 int16 from p + off, as a stride-2 row always may).
template <typename Acc>
inline void DwBlock16S2(const int16_t* p, const DwPair* pr, size_t pairs, int32_t* out) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0;
  for (size_t q = 0; q < pairs; ++q) {
    const __m256i wp = _mm256_set1_epi32(pr[q].w);
    const int16_t* a = p + pr[q].off0;
    c0 = Acc::Add(c0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)), wp);
    c1 = Acc::Add(c1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 16)), wp);
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), c0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), c1);
}

// acc[ox] = sum_t w[t] * row[tapoff[t] + ox*stride]. Blocks of 32 or 16; a last partial block is
// recomputed overlapping the previous one (same values).
template <typename Acc>
void DwRowT(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
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
      DwBlock16S2<Acc>(row + 2 * ox, pr, pairs, acc + ox);
    }
    return;
  }
  if (ow < 32) {
    DwBlock16S1<Acc>(row, pr, pairs, acc);
    if (ow > 16) DwBlock16S1<Acc>(row + ow - 16, pr, pairs, acc + ow - 16);
    return;
  }
  for (size_t ox = 0; ox < ow; ox += 32) {
    if (ox + 32 > ow) ox = ow - 32;
    DwBlock32S1<Acc>(row + ox, pr, pairs, acc + ox);
  }
}

}  // namespace
}  // namespace opq
