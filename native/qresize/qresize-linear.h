// Linear (bilinear) resize on 8-bit data with 11-bit integer weights (opq_qresize_linear,
// native/include/opq_qlayout.h): the scalar definition and the per-ISA row kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "requant/requant.h"

namespace opq {

constexpr int32_t kResizeOne = 2048;  // 1.0 in the 11-bit weights
constexpr size_t kResizeChunk = 256;  // output columns per stack buffer

// One tap pair along an axis: the output reads (1 - w) * x[i0] + w * x[i1], w = weight / 2048.
struct ResizeTap {
  int32_t i0, i1, weight;
};

// h[j] = (2048 - w) * (row[i0] - zx) + w * (row[i1] - zx) for the n columns of taps (exact int32);
// wpairs holds (2048 - w, w) per column as int16, made once per column chunk by the driver.
using ResizeHRowFn = void (*)(const uint8_t* row, const ResizeTap* taps, const int16_t* wpairs, size_t n,
                              bool is_signed, int32_t zx, int32_t* h);
// acc[j] = (2048 - wy) * h0[j] + wy * h1[j] (exact int32), then y[j] = RequantizeOne(acc[j], rq).
using ResizeVRowFn = void (*)(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq,
                              int32_t* acc, uint8_t* y);

void ResizeHRowRef(const uint8_t* row, const ResizeTap* taps, const int16_t* wpairs, size_t n, bool is_signed,
                   int32_t zx, int32_t* h);
void ResizeVRowRef(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq, int32_t* acc,
                   uint8_t* y);
#if defined(__x86_64__) || defined(_M_X64)
void ResizeHRowAvx2(const uint8_t* row, const ResizeTap* taps, const int16_t* wpairs, size_t n, bool is_signed,
                    int32_t zx, int32_t* h);
void ResizeVRowAvx2(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq, int32_t* acc,
                    uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void ResizeHRowWasmSimd(const uint8_t* row, const ResizeTap* taps, const int16_t* wpairs, size_t n, bool is_signed,
                        int32_t zx, int32_t* h);
void ResizeVRowWasmSimd(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq, int32_t* acc,
                        uint8_t* y);
#endif

// The whole resize with the given row kernels; taps already validated. No allocation: column
// chunks of kResizeChunk live on the stack, and the two horizontal rows of a chunk are reused
// while consecutive output rows read the same input rows.
void ResizeLinearRun(size_t nc, size_t in_h, size_t in_w, size_t out_h, size_t out_w, const ResizeTap* y_taps,
                     const ResizeTap* x_taps, const uint8_t* x, bool is_signed, int32_t zx, const opq_requant& rq,
                     ResizeHRowFn hrow, ResizeVRowFn vrow, uint8_t* y);

}  // namespace opq
