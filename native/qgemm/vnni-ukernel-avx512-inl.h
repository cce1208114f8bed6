// The AVX-512 VNNI 8x32 GEMM microkernel (vpdpbusd: u8 x s8 in groups of four, added into int32
// lanes without the int16 saturation of vpmaddubsw, so exact for any data) and its packing, shared
// by qgemm and qgemm_i32. Operands are packed shifted to A' in u8 and B' in s8: int8 A is flipped
// (a ^ 0x80 = a + 128) and uint8 B too (b ^ 0x80 = b - 128 as int8); the callers correct with the
// row sums of A' and column sums of B' that the packing returns:
//   sum((a - za)(b - zb)) = sum(a'b') - za'*colsum(B') - zb'*rowsum(A') + K*za'*zb'
// with za' = za + 128 for int8 A, zb' = zb - 128 for uint8 B, in wrapping int32.
// Include AFTER isa/x86-avx512vnni-begin.h, from ISA files only: internal linkage.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgemm/qgemm.h"

namespace opq {
namespace {

constexpr size_t kVnniMr = 8, kVnniNr = 32;

// A panels [p0, p1): panel p, quad q, row r -> 4 bytes of A' (k = 4q..4q+3, 0 past K); rowsum[i]
// is the sum of row i of A' (0 for the padding rows of the last panel).
inline void PackAQuads(const GemmOperands& o, size_t kq, size_t p0, size_t p1, uint8_t* out, int32_t* rowsum) {
  const uint32_t flip = o.a_signed ? 0x80808080u : 0;
  const size_t full = o.k / 4;
  for (size_t p = p0; p < p1; ++p) {
    uint8_t* dst = out + p * kq * kVnniMr * 4;
    for (size_t r = 0; r < kVnniMr; ++r) {
      const size_t i = p * kVnniMr + r;
      if (i >= o.m) {
        for (size_t q = 0; q < kq; ++q) std::memset(dst + (q * kVnniMr + r) * 4, 0, 4);
        rowsum[i] = 0;
        continue;
      }
      const uint8_t* row = o.a + i * o.lda;
      uint32_t sum = 0;
      for (size_t q = 0; q < full; ++q) {
        uint32_t w;
        std::memcpy(&w, row + 4 * q, 4);
        w ^= flip;
        std::memcpy(dst + (q * kVnniMr + r) * 4, &w, 4);
        sum += (w & 0xFF) + ((w >> 8) & 0xFF) + ((w >> 16) & 0xFF) + (w >> 24);
      }
      if (full < kq) {
        uint8_t t[4] = {0, 0, 0, 0};
        for (size_t kk = 4 * full; kk < o.k; ++kk) {
          t[kk - 4 * full] = static_cast<uint8_t>(row[kk] ^ flip);
          sum += t[kk - 4 * full];
        }
        std::memcpy(dst + (full * kVnniMr + r) * 4, t, 4);
      }
      rowsum[i] = static_cast<int32_t>(sum);
    }
  }
}

// One full panel (32 columns from j0) of B': four rows of 32 bytes per quad, interleaved into the
// 4-byte groups of each column; the column sums by vpdpbusd with ones (the same wrapping sums).
inline void PackBQuadsFull(const GemmOperands& o, size_t kq, size_t j0, uint8_t flip, int8_t* dst, int32_t* colsum) {
  const __m256i vflip = _mm256_set1_epi8(static_cast<char>(flip)), ones = _mm256_set1_epi8(1);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  const uint8_t* base = o.b + j0;
  for (size_t q = 0; q < kq; ++q) {
    __m256i r[4];
    for (size_t t = 0; t < 4; ++t) {
      const size_t kk = 4 * q + t;
      r[t] = kk < o.k ? _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + kk * o.ldb)), vflip)
                      : _mm256_setzero_si256();
    }
    // Per 128-bit lane: bytes of rows 0/1 and 2/3 paired, then the pairs paired into quads.
    const __m256i lo01 = _mm256_unpacklo_epi8(r[0], r[1]), hi01 = _mm256_unpackhi_epi8(r[0], r[1]);
    const __m256i lo23 = _mm256_unpacklo_epi8(r[2], r[3]), hi23 = _mm256_unpackhi_epi8(r[2], r[3]);
    const __m256i x0 = _mm256_unpacklo_epi16(lo01, lo23);  // columns 0-3 | 16-19
    const __m256i x1 = _mm256_unpackhi_epi16(lo01, lo23);  // 4-7 | 20-23
    const __m256i x2 = _mm256_unpacklo_epi16(hi01, hi23);  // 8-11 | 24-27
    const __m256i x3 = _mm256_unpackhi_epi16(hi01, hi23);  // 12-15 | 28-31
    const __m256i c0 = _mm256_permute2x128_si256(x0, x1, 0x20), c1 = _mm256_permute2x128_si256(x2, x3, 0x20);
    const __m256i c2 = _mm256_permute2x128_si256(x0, x1, 0x31), c3 = _mm256_permute2x128_si256(x2, x3, 0x31);
    __m256i* d = reinterpret_cast<__m256i*>(dst + q * kVnniNr * 4);
    _mm256_storeu_si256(d, c0);
    _mm256_storeu_si256(d + 1, c1);
    _mm256_storeu_si256(d + 2, c2);
    _mm256_storeu_si256(d + 3, c3);
    s0 = _mm256_dpbusd_epi32(s0, ones, c0);
    s1 = _mm256_dpbusd_epi32(s1, ones, c1);
    s2 = _mm256_dpbusd_epi32(s2, ones, c2);
    s3 = _mm256_dpbusd_epi32(s3, ones, c3);
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(colsum), s0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(colsum + 8), s1);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(colsum + 16), s2);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(colsum + 24), s3);
}

// B panels [p0, p1): panel p, quad q, column c -> 4 bytes of B' (k = 4q..4q+3, 0 past K or N);
// colsum[j] is the sum of column j of B' (0 for the padding columns of the last panel).
inline void PackBQuads(const GemmOperands& o, size_t kq, size_t p0, size_t p1, int8_t* out, int32_t* colsum) {
  const uint8_t flip = o.b_signed ? 0 : 0x80;
  for (size_t p = p0; p < p1; ++p) {
    int8_t* dst = out + p * kq * kVnniNr * 4;
    const size_t j0 = p * kVnniNr;
    if (j0 + kVnniNr <= o.n) {
      PackBQuadsFull(o, kq, j0, flip, dst, colsum + j0);
      continue;
    }
    uint32_t sum[kVnniNr] = {};
    for (size_t q = 0; q < kq; ++q) {
      for (size_t t = 0; t < 4; ++t) {
        const size_t kk = 4 * q + t;
        for (size_t c = 0; c < kVnniNr; ++c) {
          int8_t v = 0;
          if (kk < o.k && j0 + c < o.n) {
            v = static_cast<int8_t>(o.b[kk * o.ldb + j0 + c] ^ flip);
            sum[c] += static_cast<uint32_t>(static_cast<int32_t>(v));
          }
          dst[(q * kVnniNr + c) * 4 + t] = v;
        }
      }
    }
    for (size_t c = 0; c < kVnniNr; ++c) colsum[j0 + c] = static_cast<int32_t>(sum[c]);
  }
}

// C[8][32] (+)= the kc quads of a packed A panel times a packed B panel. `accumulate` false overwrites C.
inline void UkernelVnni8x32(size_t kc, const uint8_t* a, const int8_t* b, int32_t* c, size_t ldc, bool accumulate) {
  // One macro call per unrolled row, laid out as the register tile (clang-format 14 reflows them unstably).
  // clang-format off
#define OPQ_LOAD_ROW(r)                                                                    \
  __m512i c##r##0 = accumulate ? _mm512_loadu_si512(c + r * ldc) : _mm512_setzero_si512(); \
  __m512i c##r##1 = accumulate ? _mm512_loadu_si512(c + r * ldc + 16) : _mm512_setzero_si512();
  OPQ_LOAD_ROW(0) OPQ_LOAD_ROW(1) OPQ_LOAD_ROW(2) OPQ_LOAD_ROW(3)
  OPQ_LOAD_ROW(4) OPQ_LOAD_ROW(5) OPQ_LOAD_ROW(6) OPQ_LOAD_ROW(7)
#undef OPQ_LOAD_ROW
  const int32_t* a32 = reinterpret_cast<const int32_t*>(a);
  for (size_t q = 0; q < kc; ++q) {
    const __m512i b0 = _mm512_loadu_si512(b);
    const __m512i b1 = _mm512_loadu_si512(b + 64);
#define OPQ_ROW(r)                                          \
  {                                                         \
    const __m512i av = _mm512_set1_epi32(a32[r]);           \
    c##r##0 = _mm512_dpbusd_epi32(c##r##0, av, b0);         \
    c##r##1 = _mm512_dpbusd_epi32(c##r##1, av, b1);         \
  }
    OPQ_ROW(0) OPQ_ROW(1) OPQ_ROW(2) OPQ_ROW(3) OPQ_ROW(4) OPQ_ROW(5) OPQ_ROW(6) OPQ_ROW(7)
#undef OPQ_ROW
    a32 += kVnniMr;
    b += kVnniNr * 4;
  }
#define OPQ_STORE_ROW(r)                        \
  _mm512_storeu_si512(c + r * ldc, c##r##0);    \
  _mm512_storeu_si512(c + r * ldc + 16, c##r##1);
  OPQ_STORE_ROW(0) OPQ_STORE_ROW(1) OPQ_STORE_ROW(2) OPQ_STORE_ROW(3)
  OPQ_STORE_ROW(4) OPQ_STORE_ROW(5) OPQ_STORE_ROW(6) OPQ_STORE_ROW(7)
#undef OPQ_STORE_ROW
  // clang-format on
}

}  // namespace
}  // namespace opq
