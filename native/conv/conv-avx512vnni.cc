// AVX-512 VNNI hooks of the convolution driver (weights with all zero points 0): vpdpbusd
// multiplies u8 input quads by s8 weight quads and adds into int32 without the int16 saturation
// of vpmaddubsw, so sum(x * w) is exact for any data; the driver then subtracts zx * sum(w) in
// wrapping int32 (conv.h). int8 input is made uint8 by flipping its sign bit (x + 128, zx + 128).
// Depthwise convolutions use the AVX2 hooks with vpdpwssd and the AVX-512 requantization.
#include <cstring>

#include "conv/conv.h"
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx512vnni-begin.h"
#include "conv/dw-row-avx2-inl.h"

namespace opq {
namespace {

constexpr size_t kMr = 8, kNr = 32;

// C[8][32] = sum over kc quads; the weights (A) are broadcast 4 bytes per row, the input (B) is
// two zmm of 16 pixels x 4 bytes per quad, quad q's at bq(q) (packed panels, or in place: direct path).
template <typename BQuad>
inline void Ukernel8x32At(size_t kc, const int32_t* a, BQuad bq, int32_t* c, size_t ldc) {
  __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512i c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  for (size_t q = 0; q < kc; ++q) {
    const uint8_t* b = bq(q);
    const __m512i b0 = _mm512_loadu_si512(b);
    const __m512i b1 = _mm512_loadu_si512(b + 64);
    // One macro call per unrolled row, laid out as the register tile (clang-format 14 reflows them unstably).
    // clang-format off
#define OPQ_ROW(r)                                       \
  {                                                      \
    const __m512i w = _mm512_set1_epi32(a[r]);           \
    c##r##0 = _mm512_dpbusd_epi32(c##r##0, b0, w);       \
    c##r##1 = _mm512_dpbusd_epi32(c##r##1, b1, w);       \
  }
    OPQ_ROW(0) OPQ_ROW(1) OPQ_ROW(2) OPQ_ROW(3) OPQ_ROW(4) OPQ_ROW(5) OPQ_ROW(6) OPQ_ROW(7)
#undef OPQ_ROW
    a += kMr;
  }
#define OPQ_STORE(r)                              \
  _mm512_storeu_si512(c + r * ldc, c##r##0);      \
  _mm512_storeu_si512(c + r * ldc + 16, c##r##1);
  OPQ_STORE(0) OPQ_STORE(1) OPQ_STORE(2) OPQ_STORE(3) OPQ_STORE(4) OPQ_STORE(5) OPQ_STORE(6) OPQ_STORE(7)
#undef OPQ_STORE
  // clang-format on
}

// The im2col paths: B in packed panels, one quad after another.
void Ukernel8x32(size_t kc, const void* av, const void* bv, int32_t* c, size_t ldc) {
  const uint8_t* b = static_cast<const uint8_t*>(bv);
  Ukernel8x32At(
      kc, static_cast<const int32_t*>(av), [b](size_t q) { return b + q * kNr * 4; }, c, ldc);
}

// 16 bytes at p, p+stride, ... for stride 1 or 2 (stride 2 reads 32 bytes; the driver leaves slack).
inline __m128i Load16(const uint8_t* p, size_t stride) {
  if (stride == 1) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m = _mm_set1_epi16(0x00FF);
  const __m128i lo = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), m);
  const __m128i hi = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), m);
  return _mm_packus_epi16(lo, hi);
}

// Pixels [a, a + n) of a half panel whose window origins are one stretch of an input row: pixel
// a + j reads xp[base + j * stride] (base may lie before xp; only the masked bytes are read).
struct Run {
  __mmask16 lanes;  // bits a .. a + n - 1
  __mmask32 bytes;  // stride 2: the even bytes 2a .. 2(a + n - 1) of a 32-byte load
  int64_t base;     // off[a] - a * stride
};

// The half's 16 bytes of tap offset k: each run's bytes by a masked load (AVX-512 masked loads do
// not touch the masked-out bytes, so nothing outside the runs is read, not even the slack).
inline __m128i LoadRuns(const uint8_t* xp, const Run* runs, size_t nrun, int64_t k, size_t stride) {
  __m128i r = _mm_setzero_si128();
  for (size_t i = 0; i < nrun; ++i) {
    // Formed as an integer: base + k can point before xp when the run starts past pixel 0.
    const void* p = reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(xp) + uintptr_t(runs[i].base + k));
    if (stride == 1) {
      r = _mm_mask_loadu_epi8(r, runs[i].lanes, p);
    } else {  // stride 2: the even bytes, narrowed from 16-bit words (vpmovwb keeps each low byte)
      r = _mm256_mask_cvtepi16_epi8(r, runs[i].lanes, _mm256_maskz_loadu_epi8(runs[i].bytes, p));
    }
  }
  return r;
}

// Quad q of 16 pixels from their four rows of tap bytes (pixel-major: 4 bytes per pixel).
inline void StoreQuad(__m128i r0, __m128i r1, __m128i r2, __m128i r3, uint8_t* dst) {
  const __m128i a01 = _mm_unpacklo_epi8(r0, r1), b01 = _mm_unpackhi_epi8(r0, r1);
  const __m128i a23 = _mm_unpacklo_epi8(r2, r3), b23 = _mm_unpackhi_epi8(r2, r3);
  __m128i* d = reinterpret_cast<__m128i*>(dst);
  _mm_storeu_si128(d, _mm_unpacklo_epi16(a01, a23));      // pixels 0-3
  _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(a01, a23));  // 4-7
  _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(b01, b23));  // 8-11
  _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(b01, b23));  // 12-15
}

// Runs of at most this many per half take masked loads; more (output rows narrower than 4 pixels)
// go byte by byte.
constexpr size_t kMaxRuns = 4;

void Im2col(const void* xpv, const int32_t* koff, size_t kg, const int32_t* off, bool regular, size_t stride,
            void* dstv) {
  const uint8_t* xp = static_cast<const uint8_t*>(xpv);
  uint8_t* dst = static_cast<uint8_t*>(dstv);
  const size_t kq = (kg + 3) / 4;
  const __m128i zero = _mm_setzero_si128();
  for (size_t c0 = 0; c0 < kNr; c0 += 16) {
    bool reg = regular;
    if (!reg) {  // the panel as a whole is not, but this half may be
      reg = true;
      for (size_t c = c0 + 1; c < c0 + 16; ++c) reg = reg && size_t(off[c]) == size_t(off[c0]) + (c - c0) * stride;
    }
    // Every quad of the half from load(k), the 16 bytes of tap offset k (0 past kg).
    const auto quads = [&](auto load) {
      for (size_t q = 0; q < kq; ++q) {
        const size_t k0 = 4 * q;
        const __m128i r1 = k0 + 1 < kg ? load(koff[k0 + 1]) : zero;
        const __m128i r2 = k0 + 2 < kg ? load(koff[k0 + 2]) : zero;
        const __m128i r3 = k0 + 3 < kg ? load(koff[k0 + 3]) : zero;
        StoreQuad(load(koff[k0]), r1, r2, r3, dst + (q * kNr + c0) * 4);
      }
    };
    if (reg && stride <= 2) {
      const uint8_t* base = xp + off[c0];
      quads([&](int32_t k) { return Load16(base + k, stride); });
      continue;
    }
    // The half crosses output rows (outputs narrower than the panel, or a row's end): its pixels
    // split into runs along input rows. A pixel past the last one repeats its predecessor's offset
    // (the driver's filler, computed and dropped): it joins no run, and its bytes stay 0.
    Run runs[kMaxRuns];
    size_t nrun = 0;
    bool fits = stride <= 2;
    for (size_t c = c0; c < c0 + 16 && fits;) {
      if (c > c0 && off[c] == off[c - 1]) {
        ++c;
        continue;
      }
      size_t e = c + 1;
      while (e < c0 + 16 && int64_t(off[e]) == int64_t(off[e - 1]) + int64_t(stride)) ++e;
      if (nrun == kMaxRuns) {
        fits = false;
        break;
      }
      const size_t a = c - c0, n = e - c;
      const uint32_t lanes = ((uint32_t{1} << n) - 1) << a;
      uint32_t bytes = 0;
      for (size_t j = a; j < a + n; ++j) bytes |= uint32_t{1} << (2 * j);
      runs[nrun++] = {__mmask16(lanes), __mmask32(bytes), int64_t(off[c]) - int64_t(a * stride)};
      c = e;
    }
    if (!fits) {
      Im2colScalar<uint8_t, 4>(xp, koff, kg, off, kNr, c0, c0 + 16, 0, kq, dst);
      continue;
    }
    quads([&](int32_t k) { return LoadRuns(xp, runs, nrun, k, stride); });
  }
}

// kPathVnniDirect, the last row tile of a layer whose output channels are not a multiple of 8:
// its first R rows only (the rest of the tile would be padding).
template <size_t R>
void UkernelRowsx32Direct(size_t kc, const int32_t* a, const uint8_t* b, const size_t* boff, int32_t* c, size_t ldc) {
  __m512i acc[R][2];
  for (size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  for (size_t q = 0; q < kc; ++q) {
    const uint8_t* bq = b + boff[q];
    const __m512i b0 = _mm512_loadu_si512(bq);
    const __m512i b1 = _mm512_loadu_si512(bq + 64);
    for (size_t r = 0; r < R; ++r) {
      const __m512i w = _mm512_set1_epi32(a[r]);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, w);
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, w);
    }
    a += kMr;
  }
  for (size_t r = 0; r < R; ++r) {
    _mm512_storeu_si512(c + r * ldc, acc[r][0]);
    _mm512_storeu_si512(c + r * ldc + 16, acc[r][1]);
  }
}

// kPathVnniDirect: Ukernel8x32 with quad q of B read in place, 32 pixels x 4 bytes at b + boff[q];
// rows < 8 (a layer's last tile) take the narrower kernels, and only those rows of c are written.
void Ukernel8x32Direct(size_t kc, size_t rows, const void* av, const uint8_t* b, const size_t* boff, int32_t* c,
                       size_t ldc) {
  const int32_t* a = static_cast<const int32_t*>(av);
  if (rows <= 1) return UkernelRowsx32Direct<1>(kc, a, b, boff, c, ldc);
  if (rows <= 2) return UkernelRowsx32Direct<2>(kc, a, b, boff, c, ldc);
  if (rows <= 4) return UkernelRowsx32Direct<4>(kc, a, b, boff, c, ldc);
  Ukernel8x32At(
      kc, a, [b, boff](size_t q) { return b + boff[q]; }, c, ldc);
}

// kPathVnniDirect's padded input, one channel quad (see ConvKernels::pad_c4): 16 pixels of the four
// channel rows interleaved at a time inside the image, byte by byte at its edges and in the padding.
void PadC4(const uint8_t* x, size_t cin, size_t h, size_t w, size_t hp, size_t wp, size_t pt, size_t pl, uint8_t flip,
           uint8_t pad, size_t cq, uint8_t* dst) {
  const __m128i vflip = _mm_set1_epi8(char(flip));
  // Columns [j0, j1) of a padded row hold image columns j - pl.
  const size_t j0 = pl < wp ? pl : wp, j1 = pl + w < wp ? pl + w : wp;
  for (size_t r = 0; r < hp; ++r) {
    const bool inside = r >= pt && r - pt < h;
    const uint8_t* src[4];
    uint8_t fill[4];
    for (size_t e = 0; e < 4; ++e) {
      const size_t ci = 4 * cq + e;
      src[e] = ci < cin && inside ? x + (ci * h + (r - pt)) * w : nullptr;
      fill[e] = ci < cin ? pad : uint8_t(0);
    }
    uint8_t* d = dst + r * wp * 4;
    auto scalar = [&](size_t j) {
      for (size_t e = 0; e < 4; ++e)
        d[j * 4 + e] = src[e] && j >= j0 && j < j1 ? uint8_t(src[e][j - pl] ^ flip) : fill[e];
    };
    size_t j = 0;
    for (; j < j0; ++j) scalar(j);
    for (; j + 16 <= j1; j += 16) {
      __m128i v[4];
      for (size_t e = 0; e < 4; ++e)
        v[e] = src[e] ? _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src[e] + (j - pl))), vflip)
                      : _mm_set1_epi8(char(fill[e]));
      StoreQuad(v[0], v[1], v[2], v[3], d + j * 4);
    }
    for (; j < wp; ++j) scalar(j);
  }
}

// GEMM mode: quad q of 16 rows at a time is one gather of 32-bit words (rows ldx bytes apart).
void PackRows(const uint8_t* x, size_t ldx, size_t rows, size_t kg, bool x_signed, int32_t zx, size_t width,
              void* dstv) {
  (void)width;  // always kNr: the quad kernels have no kPathGemmRows
  const size_t kq = (kg + 3) / 4, full = kg / 4;
  if (rows < kNr) {
    // A small batch (mnist-8's final MatMul: one row): each row's whole quads as 32-bit words, the
    // columns past `rows` zeroed per quad (PackRowsScalar's layout, without a branch per byte).
    uint8_t* dst = static_cast<uint8_t*>(dstv);
    const uint32_t flip = x_signed ? 0x80808080u : 0;
    for (size_t q = 0; q < kq; ++q) {
      uint8_t* d = dst + q * kNr * 4;
      if (q < full) {
        for (size_t c = 0; c < rows; ++c) {
          uint32_t v;
          std::memcpy(&v, x + c * ldx + 4 * q, 4);
          v ^= flip;
          std::memcpy(d + c * 4, &v, 4);
        }
      } else {
        PackRowsScalar<4>(x, ldx, rows, kg, x_signed, zx, kNr, q, q + 1, dstv);
      }
      std::memset(d + rows * 4, 0, (kNr - rows) * 4);
    }
    return;
  }
  uint8_t* dst = static_cast<uint8_t*>(dstv);
  const __m512i flip = _mm512_set1_epi8(x_signed ? char(0x80) : char(0));
  const __m512i lanes = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(int32_t(ldx)));
  for (size_t c0 = 0; c0 < kNr; c0 += 16) {
    const uint8_t* base = x + c0 * ldx;
    for (size_t q = 0; q < full; ++q) {
      // The masked form with an explicit zero source: the unmasked intrinsic starts from an undefined
      // register, which GCC 12 reports as maybe-uninitialized. All 16 lanes are gathered either way.
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), __mmask16(0xFFFF), lanes, base + 4 * q, 1);
      _mm512_storeu_si512(dst + (q * kNr + c0) * 4, _mm512_xor_si512(v, flip));
    }
  }
  if (full < kq) PackRowsScalar<4>(x, ldx, rows, kg, x_signed, zx, kNr, full, kq, dstv);
}

// The depthwise row with vpdpwssd on 256-bit vectors: vpmaddwd's pair sums and the add in one
// instruction (dw-row-avx2-inl.h; the same bits).
struct Dpwssd {
  static __m256i Add(__m256i c, __m256i x, __m256i w) { return _mm256_dpwssd_epi32(c, x, w); }
};

void DwRowVnni(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
               int32_t* acc) {
  DwRowT<Dpwssd>(row, w, tapoff, taps, stride, ow, acc);
}

const ConvKernels kKernels = {kMr,
                              kNr,
                              4,
                              true,
                              Ukernel8x32,
                              Im2col,
                              PackRows,
                              nullptr,
                              nullptr,
                              RequantRowAvx512,
                              RequantChannelRowAvx512,
                              Ukernel8x32Direct,
                              PadC4};

}  // namespace

const ConvKernels* ConvKernelsAvx512Vnni() { return &kKernels; }

// The AVX2 paths (depthwise, int16 pairs when a weight zero point is not 0) with the AVX-512 requant
// (and the depthwise row with vpdpwssd).
const ConvKernels* ConvKernelsAvx2Avx512Requant() {
  static const ConvKernels k = [] {
    ConvKernels r = *ConvKernelsAvx2();
    r.dw_row = DwRowVnni;
    r.requant = RequantRowAvx512;
    r.requant_channel = RequantChannelRowAvx512;
    return r;
  }();
  return &k;
}

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
