// Nearest resize by index tables (opq_qresize_nearest, native/include/opq_qlayout.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace opq {

// One output row: y[ox] = src[x_index[ox]]; `factor` > 0 when x_index[ox] == ox / factor for all ox.
using ResizeRowFn = void (*)(const uint8_t* src, const int32_t* x_index, size_t out_w, size_t factor, uint8_t* y);

void ResizeRowRef(const uint8_t* src, const int32_t* x_index, size_t out_w, size_t factor, uint8_t* y);
#if defined(__x86_64__) || defined(_M_X64)
void ResizeRowAvx2(const uint8_t* src, const int32_t* x_index, size_t out_w, size_t factor, uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void ResizeRowWasmSimd(const uint8_t* src, const int32_t* x_index, size_t out_w, size_t factor, uint8_t* y);
#endif

}  // namespace opq
