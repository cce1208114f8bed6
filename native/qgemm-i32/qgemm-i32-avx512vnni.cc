// AVX-512 VNNI qgemm_i32: qgemm's 8x32 vpdpbusd microkernel and packing on A' (u8) and B' (s8)
// (vnni-ukernel-avx512-inl.h), then per tile, in wrapping int32,
//   y[i][j] = acc[i][j] - za'[i] * colterm[j] - zb'[j] * rowsum[i],  colterm[j] = colsum[j] - K * zb'[j]
// (za' = za + 128 for int8 A, zb' = zb - 128 for uint8 B), which is the expansion of
// sum((a' - za')(b' - zb')) = sum((a - za)(b - zb)) with the zero points per row and per column.
#include "qgemm-i32/qgemm-i32-driver.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstring>

#include "isa/x86-avx512vnni-begin.h"

#include "qgemm/vnni-ukernel-avx512-inl.h"

namespace opq {
namespace {

struct Vnni {
  // Row terms: za'[i], rowsum[i]. Column terms: zb'[j], colterm[j].
  static constexpr size_t kMr = kVnniMr, kNr = kVnniNr, kStep = 4, kRowTerms = 2, kColTerms = 2;
  // About 4x the int16 variants' rate: the same ~50 us of single-thread work before threads gain
  // (measured on Zen 5: 2 threads lose below ~2^24 multiply-adds, gain from ~2^25).
  static constexpr double kMinParallelMacs = double(uint64_t{1} << 24);

  static void PackA(const I32Ctx& c, size_t p) {
    const GemmOperands& o = *c.o;
    PackAQuads(o, c.ks, p, p + 1, c.apack, c.rowt + c.mp);
    for (size_t i = p * kMr; i < (p + 1) * kMr; ++i)
      c.rowt[i] = i < o.m ? o.a_zero_point[o.a_zp_per_row ? i : 0] + (o.a_signed ? 128 : 0) : 0;
  }

  static void PackB(const I32Ctx& c, size_t p) {
    const GemmOperands& o = *c.o;
    int32_t* colsum = c.colt + c.np;
    PackBQuads(o, c.ks, p, p + 1, reinterpret_cast<int8_t*>(c.bpack), colsum);
    const uint32_t k = static_cast<uint32_t>(o.k);
    for (size_t j = p * kNr; j < (p + 1) * kNr; ++j) {
      const int32_t zb = j < o.n ? o.b_zero_point[o.b_zp_per_col ? j : 0] - (o.b_signed ? 0 : 128) : 0;
      c.colt[j] = zb;
      // colsum becomes colterm in place.
      colsum[j] = static_cast<int32_t>(static_cast<uint32_t>(colsum[j]) - k * static_cast<uint32_t>(zb));
    }
  }

  static void Tile(const I32Ctx& c, size_t ip, size_t jp) {
    alignas(64) int32_t tile[kMr * kNr];
    UkernelVnni8x32(c.ks, c.apack + ip * c.ks * kMr * 4, reinterpret_cast<const int8_t*>(c.bpack) + jp * c.ks * kNr * 4,
                    tile, kNr, false);
    const size_t i0 = ip * kMr, j0 = jp * kNr;
    const size_t rows = c.o->m - i0 < kMr ? c.o->m - i0 : kMr, cols = c.o->n - j0 < kNr ? c.o->n - j0 : kNr;
    const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? __mmask16(0xFFFF) : cols > 16 ? __mmask16((1u << (cols - 16)) - 1) : __mmask16(0);
    const __m512i zb0 = _mm512_loadu_si512(c.colt + j0), zb1 = _mm512_loadu_si512(c.colt + j0 + 16);
    const __m512i ct0 = _mm512_loadu_si512(c.colt + c.np + j0), ct1 = _mm512_loadu_si512(c.colt + c.np + j0 + 16);
    for (size_t r = 0; r < rows; ++r) {
      const size_t i = i0 + r;
      const __m512i za = _mm512_set1_epi32(c.rowt[i]), rs = _mm512_set1_epi32(c.rowt[c.mp + i]);
      __m512i v0 = _mm512_sub_epi32(_mm512_load_si512(tile + r * kNr), _mm512_mullo_epi32(za, ct0));
      __m512i v1 = _mm512_sub_epi32(_mm512_load_si512(tile + r * kNr + 16), _mm512_mullo_epi32(za, ct1));
      v0 = _mm512_sub_epi32(v0, _mm512_mullo_epi32(zb0, rs));
      v1 = _mm512_sub_epi32(v1, _mm512_mullo_epi32(zb1, rs));
      int32_t* y = c.y + i * c.ldy + j0;
      _mm512_mask_storeu_epi32(y, m0, v0);
      if (m1) _mm512_mask_storeu_epi32(y + 16, m1, v1);
    }
  }
};

}  // namespace

uint64_t QGemmI32Avx512VnniWorkspace(size_t m, size_t n, size_t k, bool packed_b) {
  return I32Workspace<Vnni>(m, n, k, packed_b);
}

void QGemmI32Avx512Vnni(const QGemmI32Args& g) { RunI32Gemm<Vnni>(g); }

uint64_t QGemmI32Avx512VnniPackedBBytes(size_t n, size_t k) { return I32PackedBBytes<Vnni>(n, k); }

void QGemmI32Avx512VnniPackB(const GemmOperands& o, uint8_t* dst) { I32PackB<Vnni>(o, dst); }

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
