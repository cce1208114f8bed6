// AVX-512 VNNI qgemm: the 8x32 vpdpbusd microkernel and packing of vnni-ukernel-avx512-inl.h, exact
// for any data. Zero points are applied afterwards, in wrapping int32 like every other variant:
//   sum((a - za)(b - zb)) = sum(a*b) - za*colsum(B) - zb*rowsum(A) + K*za*zb.
// int8 A is made uint8 by flipping its sign bit (a + 128) and za + 128.
#include <cstring>

#include "qgemm/qgemm.h"
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx512vnni-begin.h"

#include "qgemm/vnni-ukernel-avx512-inl.h"

namespace opq {
namespace {

constexpr size_t kMr = kVnniMr, kNr = kVnniNr, kKcQuads = 128;

inline size_t Up(size_t v, size_t m) { return (v + m - 1) / m * m; }

}  // namespace

size_t QGemmAvx512VnniWorkspace(size_t m, size_t n, size_t k) {
  const size_t kq = (k + 3) / 4, mp = Up(m, kMr), np = Up(n, kNr);
  return Up(mp * kq * 4, 64) + Up(np * kq * 4, 64) + Up(mp * np * 4, 64) + Up(mp * 4, 64) + 2 * Up(np * 4, 64) + 64;
}

void QGemmAvx512Vnni(const QGemmArgs& g) {
  const size_t kq = (g.k + 3) / 4, mp = Up(g.m, kMr), np = Up(g.n, kNr);
  uintptr_t base = Up(reinterpret_cast<uintptr_t>(g.workspace), 64);
  auto take = [&base](size_t bytes) {
    void* p = reinterpret_cast<void*>(base);
    base += Up(bytes, 64);
    return p;
  };
  uint8_t* apack = static_cast<uint8_t*>(take(mp * kq * 4));
  int8_t* bpack = static_cast<int8_t*>(take(np * kq * 4));
  int32_t* c = static_cast<int32_t*>(take(mp * np * 4));
  int32_t* rowsum = static_cast<int32_t*>(take(mp * 4));
  int32_t* colsum = static_cast<int32_t*>(take(np * 4));
  int32_t* colterm = static_cast<int32_t*>(take(np * 4));
  if (kq == 0) {
    std::memset(c, 0, mp * np * 4);
    std::memset(rowsum, 0, mp * 4);
    std::memset(colsum, 0, np * 4);
  } else {
    const GemmOperands o = OperandsOf(g);
    PackAQuads(o, kq, 0, mp / kMr, apack, rowsum);
    PackBQuads(o, kq, 0, np / kNr, bpack, colsum);
  }
  for (size_t q0 = 0; q0 < kq; q0 += kKcQuads) {
    const size_t kc = kq - q0 < kKcQuads ? kq - q0 : kKcQuads;
    for (size_t jp = 0; jp < np; jp += kNr) {
      const int8_t* b = bpack + jp * kq * 4 + q0 * kNr * 4;
      for (size_t ip = 0; ip < mp; ip += kMr) {
        UkernelVnni8x32(kc, apack + ip * kq * 4 + q0 * kMr * 4, b, c + ip * np + jp, np, q0 != 0);
      }
    }
  }
  // Zero-point corrections, all in wrapping uint32: per column -za*colsum + K*za*zb + bias,
  // per row -zb*rowsum.
  const uint32_t za = static_cast<uint32_t>(g.a_zero_point + (g.a_signed ? 128 : 0));
  const uint32_t kk = static_cast<uint32_t>(g.k);
  for (size_t j = 0; j < g.n; ++j) {
    const uint32_t zb = static_cast<uint32_t>(g.b_zero_point[g.b_zp_per_channel ? j : 0]);
    uint32_t t = kk * za * zb - za * static_cast<uint32_t>(colsum[j]);
    if (g.bias) t += static_cast<uint32_t>(g.bias[j]);
    colterm[j] = static_cast<int32_t>(t);
  }
  const __m512i vzb_scalar = _mm512_set1_epi32(g.b_zero_point[0]);
  for (size_t i = 0; i < g.m; ++i) {
    int32_t* row = c + i * np;
    const __m512i rs = _mm512_set1_epi32(rowsum[i]);
    size_t j = 0;
    for (; j + 16 <= g.n; j += 16) {
      const __m512i zb = g.b_zp_per_channel ? _mm512_loadu_si512(g.b_zero_point + j) : vzb_scalar;
      __m512i v = _mm512_add_epi32(_mm512_loadu_si512(row + j), _mm512_loadu_si512(colterm + j));
      v = _mm512_sub_epi32(v, _mm512_mullo_epi32(zb, rs));
      _mm512_storeu_si512(row + j, v);
    }
    for (; j < g.n; ++j) {
      const uint32_t zb = static_cast<uint32_t>(g.b_zero_point[g.b_zp_per_channel ? j : 0]);
      row[j] = static_cast<int32_t>(static_cast<uint32_t>(row[j]) + static_cast<uint32_t>(colterm[j]) -
                                    zb * static_cast<uint32_t>(rowsum[i]));
    }
    RequantRowAvx2(row, nullptr, g.n, *g.rq, 0, g.y + i * g.ldy);
  }
}

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
