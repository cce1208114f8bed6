// The blocked driver shared by the SIMD qgemm variants that multiply in int16 pairs
// (x86 vpmaddwd, wasm i32x4.dot_i16x8_s), and its packing routines (also qgemm_i32's). Both
// operands are packed with their zero points already subtracted: each is an 8-bit value minus a
// zero point of its own type, in [-255, 255], so every pair sum
// a0*b0 + a1*b1 fits in int32 and the multiply-add instructions are exact for any data.
// (The u8 x s8 byte instructions saturate at int16 and would not be.)
//
// Internal linkage on purpose: each ISA file includes this header before switching its target,
// so this scalar code is never compiled for a wider ISA and merged by the linker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgemm/qgemm.h"

namespace opq {
namespace {

// A microkernel: C[MR][NR] (+)= sum over kc pairs of packed A and B. `accumulate` false overwrites C.
using Int16Ukernel = void (*)(size_t kc, const int32_t* a, const int16_t* b, int32_t* c, size_t ldc, bool accumulate);
using RowRequant = void (*)(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0,
                            uint8_t* y);

constexpr size_t kInt16KcPairs = 128;  // pairs of k per block: an A panel slice stays in L1

inline size_t RoundUp(size_t v, size_t m) { return (v + m - 1) / m * m; }

template <size_t MR, size_t NR>
size_t Int16GemmWorkspace(size_t m, size_t n, size_t k) {
  const size_t kp = (k + 1) / 2, mp = RoundUp(m, MR), np = RoundUp(n, NR);
  return RoundUp(mp * kp * 4, 64) + RoundUp(np * kp * 4, 64) + RoundUp(mp * np * 4, 64) + 64;
}

inline int32_t Load8(const uint8_t* p, size_t i, bool is_signed) {
  return is_signed ? static_cast<int32_t>(static_cast<int8_t>(p[i])) : static_cast<int32_t>(p[i]);
}

// A panels [p0, p1): panel p, pair q, row r -> one int32 holding two int16 (k = 2q low, 2q+1 high),
// each A minus its row's zero point.
template <size_t MR>
void PackAInt16(const GemmOperands& o, size_t kp, size_t p0, size_t p1, int32_t* out) {
  for (size_t p = p0; p < p1; ++p) {
    int32_t* dst = out + p * kp * MR;
    for (size_t r = 0; r < MR; ++r) {
      const size_t i = p * MR + r;
      if (i >= o.m) {
        for (size_t q = 0; q < kp; ++q) dst[q * MR + r] = 0;
        continue;
      }
      const uint8_t* row = o.a + i * o.lda;
      const int32_t za = o.a_zero_point[o.a_zp_per_row ? i : 0];
      for (size_t q = 0; q < kp; ++q) {
        const int32_t lo = Load8(row, 2 * q, o.a_signed) - za;
        const int32_t hi = 2 * q + 1 < o.k ? Load8(row, 2 * q + 1, o.a_signed) - za : 0;
        dst[q * MR + r] =
            static_cast<int32_t>(static_cast<uint16_t>(lo) | (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16));
      }
    }
  }
}

// An ISA's packing of one full B panel (NR columns from j0, all inside N), the same values as the
// scalar loop below writes; NULL when the variant has none.
using PackBFullFn = void (*)(const GemmOperands& o, size_t kp, size_t j0, int16_t* dst);

// B panels [p0, p1): panel p, pair q, column c -> two int16 (k = 2q, 2q+1), each B minus its
// column's zero point (0 past K or N).
template <size_t NR>
void PackBInt16(const GemmOperands& o, size_t kp, size_t p0, size_t p1, int16_t* out, PackBFullFn full = nullptr) {
  for (size_t p = p0; p < p1; ++p) {
    int16_t* dst = out + p * kp * NR * 2;
    if (full != nullptr && (p + 1) * NR <= o.n) {
      full(o, kp, p * NR, dst);
      continue;
    }
    for (size_t q = 0; q < kp; ++q) {
      for (size_t c = 0; c < NR; ++c) {
        const size_t j = p * NR + c;
        int32_t v0 = 0, v1 = 0;
        if (j < o.n) {
          const int32_t zb = o.b_zero_point[o.b_zp_per_col ? j : 0];
          v0 = Load8(o.b, 2 * q * o.ldb + j, o.b_signed) - zb;
          if (2 * q + 1 < o.k) v1 = Load8(o.b, (2 * q + 1) * o.ldb + j, o.b_signed) - zb;
        }
        dst[(q * NR + c) * 2] = static_cast<int16_t>(v0);
        dst[(q * NR + c) * 2 + 1] = static_cast<int16_t>(v1);
      }
    }
  }
}

template <size_t MR, size_t NR>
void RunInt16Gemm(const QGemmArgs& g, Int16Ukernel ukernel, RowRequant requant, PackBFullFn pack_b_full) {
  const size_t kp = (g.k + 1) / 2, mp = RoundUp(g.m, MR), np = RoundUp(g.n, NR);
  uintptr_t base = RoundUp(reinterpret_cast<uintptr_t>(g.workspace), 64);
  int32_t* apack = reinterpret_cast<int32_t*>(base);
  base += RoundUp(mp * kp * 4, 64);
  int16_t* bpack = reinterpret_cast<int16_t*>(base);
  base += RoundUp(np * kp * 4, 64);
  int32_t* c = reinterpret_cast<int32_t*>(base);
  if (kp == 0) {
    std::memset(c, 0, mp * np * 4);
  } else {
    const GemmOperands o = OperandsOf(g);
    PackAInt16<MR>(o, kp, 0, mp / MR, apack);
    PackBInt16<NR>(o, kp, 0, np / NR, bpack, pack_b_full);
  }
  for (size_t q0 = 0; q0 < kp; q0 += kInt16KcPairs) {
    const size_t kc = kp - q0 < kInt16KcPairs ? kp - q0 : kInt16KcPairs;
    for (size_t jp = 0; jp < np; jp += NR) {
      const int16_t* b = bpack + jp * kp * 2 + q0 * NR * 2;
      for (size_t ip = 0; ip < mp; ip += MR) {
        ukernel(kc, apack + ip * kp + q0 * MR, b, c + ip * np + jp, np, q0 != 0);
      }
    }
  }
  for (size_t i = 0; i < g.m; ++i) requant(c + i * np, g.bias, g.n, *g.rq, 0, g.y + i * g.ldy);
}

}  // namespace
}  // namespace opq
