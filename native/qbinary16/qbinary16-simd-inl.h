// Staging shared by the SIMD rows of the A16W8 Add and Mul: inputs of any element type widened to
// int32 blocks, outputs (already inside Y's type range) narrowed back. Plain loops the compiler
// vectorizes for the including file's ISA: include AFTER the ISA begin header; internal linkage.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qbinary16/qbinary16.h"

namespace opq {
namespace {

constexpr size_t kQb16Block = 256;

template <typename T>
void Qb16WidenT(const T* p, size_t m, int32_t* out) {
  for (size_t j = 0; j < m; ++j) out[j] = p[j];
}

// out[j] = x[j] for j < m (x of element type t), zero up to the next multiple of 8.
void Qb16Widen(const void* p, int32_t t, size_t m, int32_t* out) {
  switch (t) {
    case OPQ_QC16_UINT8:
      Qb16WidenT(static_cast<const uint8_t*>(p), m, out);
      break;
    case OPQ_QC16_INT8:
      Qb16WidenT(static_cast<const int8_t*>(p), m, out);
      break;
    case OPQ_QC16_INT16:
      Qb16WidenT(static_cast<const int16_t*>(p), m, out);
      break;
    default:
      Qb16WidenT(static_cast<const uint16_t*>(p), m, out);
      break;
  }
  for (size_t j = m; j < ((m + 7) & ~size_t{7}); ++j) out[j] = 0;
}

template <typename T>
void Qb16NarrowT(const int32_t* v, size_t m, T* y) {
  for (size_t j = 0; j < m; ++j) y[j] = static_cast<T>(v[j]);
}

void Qb16Narrow(const int32_t* v, size_t m, void* y, int32_t t) {
  switch (t) {
    case OPQ_QC16_UINT8:
      Qb16NarrowT(v, m, static_cast<uint8_t*>(y));
      break;
    case OPQ_QC16_INT8:
      Qb16NarrowT(v, m, static_cast<int8_t*>(y));
      break;
    case OPQ_QC16_INT16:
      Qb16NarrowT(v, m, static_cast<int16_t*>(y));
      break;
    default:
      Qb16NarrowT(v, m, static_cast<uint16_t*>(y));
      break;
  }
}

// Runs core(va, vb, m8, vy) over blocks of the row: va and vb the widened inputs (a broadcast input
// filled once), m8 the block length rounded up to 8 lanes, then narrows vy into y.
template <typename Core>
void Qb16Blocks(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n, void* y, int32_t yt,
                Core&& core) {
  alignas(64) int32_t va[kQb16Block], vb[kQb16Block], vy[kQb16Block];
  if (as)
    for (size_t j = 0; j < kQb16Block; ++j) va[j] = Qc16Load(a, at, 0);
  if (bs)
    for (size_t j = 0; j < kQb16Block; ++j) vb[j] = Qc16Load(b, bt, 0);
  const size_t ea = Qb16ElemSize(at), eb = Qb16ElemSize(bt), ey = Qb16ElemSize(yt);
  for (size_t i = 0; i < n; i += kQb16Block) {
    const size_t m = n - i < kQb16Block ? n - i : kQb16Block;
    if (!as) Qb16Widen(static_cast<const uint8_t*>(a) + i * ea, at, m, va);
    if (!bs) Qb16Widen(static_cast<const uint8_t*>(b) + i * eb, bt, m, vb);
    core(va, vb, (m + 7) & ~size_t{7}, vy);
    Qb16Narrow(vy, m, static_cast<uint8_t*>(y) + i * ey, yt);
  }
}

}  // namespace
}  // namespace opq
