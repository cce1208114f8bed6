// AVX-512 VNNI qgemm: vpdpbusd multiplies u8 x s8 in groups of four and adds into int32 lanes
// without the int16 saturation of vpmaddubsw, so the raw products sum(A*B) are exact for any data.
// Zero points are applied afterwards, in wrapping int32 like every other variant:
//   sum((a - za)(b - zb)) = sum(a*b) - za*colsum(B) - zb*rowsum(A) + K*za*zb.
// int8 A is made uint8 by flipping its sign bit (a + 128) and za + 128.
#include <cstring>

#include "qgemm/qgemm.h"
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx512vnni-begin.h"

namespace opq {
namespace {

constexpr size_t kMr = 8, kNr = 32, kKcQuads = 128;

inline size_t Up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// A panels: panel p, quad q, row r -> 4 bytes (k = 4q..4q+3) as uint8; row sums in int32.
void PackA(const QGemmArgs& g, size_t kq, uint8_t* out, int32_t* rowsum) {
  const uint8_t flip = g.a_signed ? 0x80 : 0;
  const size_t panels = (g.m + kMr - 1) / kMr;
  for (size_t p = 0; p < panels; ++p) {
    uint8_t* dst = out + p * kq * kMr * 4;
    for (size_t r = 0; r < kMr; ++r) {
      const size_t i = p * kMr + r;
      uint32_t sum = 0;
      for (size_t q = 0; q < kq; ++q) {
        for (size_t t = 0; t < 4; ++t) {
          const size_t kk = 4 * q + t;
          uint8_t v = 0;
          if (i < g.m && kk < g.k) {
            v = static_cast<uint8_t>(g.a[i * g.lda + kk] ^ flip);
            sum += v;
          }
          dst[(q * kMr + r) * 4 + t] = v;
        }
      }
      rowsum[i] = static_cast<int32_t>(sum);
    }
  }
}

// B panels: panel p, quad q, column c -> 4 int8 (k = 4q..4q+3); column sums in int32.
void PackB(const QGemmArgs& g, size_t kq, int8_t* out, int32_t* colsum) {
  const size_t panels = (g.n + kNr - 1) / kNr;
  for (size_t p = 0; p < panels; ++p) {
    int8_t* dst = out + p * kq * kNr * 4;
    for (size_t c = 0; c < kNr; ++c) {
      const size_t j = p * kNr + c;
      uint32_t sum = 0;
      for (size_t q = 0; q < kq; ++q) {
        for (size_t t = 0; t < 4; ++t) {
          const size_t kk = 4 * q + t;
          int8_t v = 0;
          if (j < g.n && kk < g.k) {
            v = g.b[kk * g.ldb + j];
            sum += static_cast<uint32_t>(static_cast<int32_t>(v));
          }
          dst[(q * kNr + c) * 4 + t] = v;
        }
      }
      colsum[j] = static_cast<int32_t>(sum);
    }
  }
}

void Ukernel8x32(size_t kc, const uint8_t* a, const int8_t* b, int32_t* c, size_t ldc, bool accumulate) {
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
    a32 += kMr;
    b += kNr * 4;
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
    PackA(g, kq, apack, rowsum);
    PackB(g, kq, bpack, colsum);
  }
  for (size_t q0 = 0; q0 < kq; q0 += kKcQuads) {
    const size_t kc = kq - q0 < kKcQuads ? kq - q0 : kKcQuads;
    for (size_t jp = 0; jp < np; jp += kNr) {
      const int8_t* b = bpack + jp * kq * 4 + q0 * kNr * 4;
      for (size_t ip = 0; ip < mp; ip += kMr) {
        Ukernel8x32(kc, apack + ip * kq * 4 + q0 * kMr * 4, b, c + ip * np + jp, np, q0 != 0);
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
