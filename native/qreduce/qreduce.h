// Quantized ReduceMean (native/include/opq_qreduce.h): the row kernels per ISA and the driver.
#pragma once

#include <cstddef>
#include <cstdint>

#include "requant/requant.h"

namespace opq {

constexpr size_t kReduceMaxRank = 8;
constexpr size_t kReduceChunk = 1024;  // int32 accumulators on the stack

// Sum of n <= 2^23 bytes (as int8 or uint8): fits int32.
using ReduceRowSumFn = int32_t (*)(const uint8_t* x, size_t n, bool is_signed);
// acc[j] += x[j] for j < n.
using ReduceRowAccFn = void (*)(int32_t* acc, const uint8_t* x, size_t n, bool is_signed);

int32_t ReduceRowSumRef(const uint8_t* x, size_t n, bool is_signed);
void ReduceRowAccRef(int32_t* acc, const uint8_t* x, size_t n, bool is_signed);
#if defined(__x86_64__) || defined(_M_X64)
int32_t ReduceRowSumAvx2(const uint8_t* x, size_t n, bool is_signed);
void ReduceRowAccAvx2(int32_t* acc, const uint8_t* x, size_t n, bool is_signed);
#endif
#if defined(__wasm_simd128__)
int32_t ReduceRowSumWasmSimd(const uint8_t* x, size_t n, bool is_signed);
void ReduceRowAccWasmSimd(int32_t* acc, const uint8_t* x, size_t n, bool is_signed);
#endif

struct ReduceOps {
  ReduceRowSumFn sum;
  ReduceRowAccFn acc;
  RequantRowFn requant;
};

// groups: the input dims with size-1 axes dropped and neighbours of the same kind merged
// (1 <= num_groups <= 8, sizes >= 1), reduced[g] their kind; count = product of the reduced sizes.
void ReduceMeanRun(const size_t* groups, const bool* reduced, size_t num_groups, size_t count, const uint8_t* x,
                   bool is_signed, int32_t zx, const opq_requant& rq, const ReduceOps& ops, uint8_t* y);

}  // namespace opq
