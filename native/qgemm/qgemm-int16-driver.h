// The blocked driver shared by the SIMD qgemm variants that multiply in int16 pairs
// (x86 vpmaddwd, wasm i32x4.dot_i16x8_s). Both operands are packed with their zero points already
// subtracted: (A - Za) is in [-383, 383] and (B - Zb) in [-255, 255], so every pair sum
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

inline int32_t LoadA(const QGemmArgs& g, const uint8_t* row, size_t p) {
  return (g.a_signed ? static_cast<int32_t>(static_cast<int8_t>(row[p])) : static_cast<int32_t>(row[p])) -
         g.a_zero_point;
}

// A panels: panel p, pair q, row r -> one int32 holding two int16 (k = 2q low, 2q+1 high).
template <size_t MR>
void PackAInt16(const QGemmArgs& g, size_t kp, int32_t* out) {
  const size_t panels = (g.m + MR - 1) / MR;
  for (size_t p = 0; p < panels; ++p) {
    int32_t* dst = out + p * kp * MR;
    for (size_t r = 0; r < MR; ++r) {
      const size_t i = p * MR + r;
      if (i >= g.m) {
        for (size_t q = 0; q < kp; ++q) dst[q * MR + r] = 0;
        continue;
      }
      const uint8_t* row = g.a + i * g.lda;
      for (size_t q = 0; q < kp; ++q) {
        const int32_t lo = LoadA(g, row, 2 * q);
        const int32_t hi = 2 * q + 1 < g.k ? LoadA(g, row, 2 * q + 1) : 0;
        dst[q * MR + r] =
            static_cast<int32_t>(static_cast<uint16_t>(lo) | (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16));
      }
    }
  }
}

// B panels: panel p, pair q, column c -> two int16 (k = 2q, 2q+1).
template <size_t NR>
void PackBInt16(const QGemmArgs& g, size_t kp, int16_t* out) {
  const size_t panels = (g.n + NR - 1) / NR;
  for (size_t p = 0; p < panels; ++p) {
    int16_t* dst = out + p * kp * NR * 2;
    for (size_t q = 0; q < kp; ++q) {
      for (size_t c = 0; c < NR; ++c) {
        const size_t j = p * NR + c;
        int32_t v0 = 0, v1 = 0;
        if (j < g.n) {
          const int32_t zb = g.b_zero_point[g.b_zp_per_channel ? j : 0];
          v0 = g.b[2 * q * g.ldb + j] - zb;
          if (2 * q + 1 < g.k) v1 = g.b[(2 * q + 1) * g.ldb + j] - zb;
        }
        dst[(q * NR + c) * 2] = static_cast<int16_t>(v0);
        dst[(q * NR + c) * 2 + 1] = static_cast<int16_t>(v1);
      }
    }
  }
}

template <size_t MR, size_t NR>
void RunInt16Gemm(const QGemmArgs& g, Int16Ukernel ukernel, RowRequant requant) {
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
    PackAInt16<MR>(g, kp, apack);
    PackBInt16<NR>(g, kp, bpack);
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
