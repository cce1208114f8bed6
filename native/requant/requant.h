// Requantization of int32 accumulators (DESIGN.md "Arithmetic contract"): the scalar definition
// every variant must reproduce bit for bit, and the row kernels per ISA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fixedpoint/fixedpoint.h"
#include "onnxptq.h"

namespace opq {

// One accumulator of channel c to the clamped output value (still in int32).
inline int32_t RequantizeOne(int32_t acc, const opq_requant& rq, size_t c) {
  const int32_t zp = rq.output_zero_point;
  // Clamp before adding the zero point so the sum cannot overflow: clamp(v, lo - zp, hi - zp) + zp.
  const int32_t lo = rq.output_min - zp;
  const int32_t hi = rq.output_max - zp;
  int32_t v;
  switch (rq.mode) {
    case OPQ_REQUANT_FLOAT: {
      float f = static_cast<float>(acc) * rq.scale[c];
      // Integer bounds commute with rounding, so clamping the float first keeps the cast in range.
      f = f < static_cast<float>(lo) ? static_cast<float>(lo) : f;
      f = f > static_cast<float>(hi) ? static_cast<float>(hi) : f;
      return static_cast<int32_t>(RoundHalfEven(f)) + zp;
    }
    case OPQ_REQUANT_SHIFT: {
      const int32_t s = rq.shift[c];
      v = s >= 0 ? SaturatingShiftLeft(acc, s) : RoundingDivideByPOT(acc, -s);
      break;
    }
    default:
      v = MultiplyByQuantizedMultiplier(acc, rq.multiplier[c], rq.shift[c]);
      break;
  }
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return v + zp;
}

// Validates requant parameters for `channels` output channels; NULL when valid.
const char* ValidateRequant(const opq_requant* rq, size_t channels, int32_t y_signed);
// The same checks with the output type's range [tmin, tmax] given (16-bit outputs).
const char* ValidateRequantRange(const opq_requant* rq, size_t channels, int32_t tmin, int32_t tmax);

// y[j] = requant(acc[j] + bias[j]) for j < n, channel of element j = c0 + j (or 0 per tensor).
// bias may be null. y is uint8 or int8 (as uint8_t storage) and must not overlap acc or bias: the SIMD
// rows finish with an overlapping block that rewrites y from acc.
using RequantRowFn = void (*)(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0,
                              uint8_t* y);

void RequantRowRef(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y);

// The row kernel of a resolved elementwise variant (RequantRowRef where the variant has none).
RequantRowFn RequantRowFor(int32_t variant);

// Per-tensor view of channel c of rq (a convolution's NCHW output row has one channel).
inline opq_requant RequantChannel(const opq_requant& rq, size_t c) {
  if (rq.count == 1) return rq;
  opq_requant r = rq;
  r.count = 1;
  if (r.multiplier) r.multiplier += c;
  if (r.shift) r.shift += c;
  if (r.scale) r.scale += c;
  return r;
}

// y[j] = requant(acc[j] + add) with channel c's parameters for every j < n (a convolution's output row:
// add is its bias and zero-point terms, wrapping as int32). acc is scratch: it may be overwritten.
// y must not overlap acc.
using RequantChannelRowFn = void (*)(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y);

namespace {
// A channel row through a row kernel: the addend added in place first (variants without their own).
template <RequantRowFn Row>
void RequantChannelRowVia(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y) {
  if (add != 0)
    for (size_t i = 0; i < n; ++i) acc[i] = int32_t(uint32_t(acc[i]) + uint32_t(add));
  Row(acc, nullptr, n, RequantChannel(rq, c), 0, y);
}

// A SIMD variant's per-tensor blocks (fixed-point or shift mode): writes the whole blocks of a row
// (acc + bias + add, wrapping), returns how many elements that is.
using PerTensorBlocksFn = size_t (*)(const int32_t* acc, const int32_t* bias, int32_t add, size_t n,
                                     const opq_requant& rq, uint8_t* y);

// A per-tensor row of n >= kBlock: the blocks, then the last partial block again as the row's last
// kBlock elements instead of a scalar tail (a pure function of acc rewrites the overlap with the same
// bytes).
template <PerTensorBlocksFn Blocks, size_t kBlock>
void PerTensorRowOverlapped(const int32_t* acc, const int32_t* bias, int32_t add, size_t n, const opq_requant& rq,
                            uint8_t* y) {
  const size_t j = Blocks(acc, bias, add, n, rq, y);
  if (j < n) Blocks(acc + n - kBlock, bias ? bias + n - kBlock : nullptr, add, kBlock, rq, y + n - kBlock);
}

// A SIMD variant's RequantChannelRowFn: its blocks with the addend inside the pass (no pass of its own
// over acc); float mode and rows shorter than a block through its row kernel.
template <PerTensorBlocksFn Blocks, size_t kBlock, RequantRowFn Row>
void RequantChannelRowSimd(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y) {
  const opq_requant rc = RequantChannel(rq, c);
  if (rc.mode != OPQ_REQUANT_FLOAT && n >= kBlock) {
    PerTensorRowOverlapped<Blocks, kBlock>(acc, nullptr, add, n, rc, y);
    return;
  }
  RequantChannelRowVia<Row>(acc, add, n, rq, c, y);
}
}  // namespace
#if defined(__x86_64__) || defined(_M_X64)
void RequantRowAvx2(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y);
void RequantRowAvx512(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y);
void RequantChannelRowAvx2(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y);
void RequantChannelRowAvx512(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void RequantRowWasmSimd(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0,
                        uint8_t* y);
void RequantChannelRowWasmSimd(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y);
#endif

}  // namespace opq
