// qgemm_i32: Y[m][n] = sum_k (A[m][k] - Za[m or 0]) * (B[k][n] - Zb[n or 0]) in int32 with
// two's-complement wrap, written as int32 (MatMulInteger). Internal interface shared by the
// variants; the validated entry point is opq_qgemm_i32 (native/api/qgemm-i32-api.cc).
//
// The SIMD variants reuse qgemm's machinery (native/qgemm/): its packing and microkernels, whose
// int32 accumulator tiles are here the result itself instead of requantization's input.
// - AVX2 and WASM SIMD128: the int16-pair microkernels with both zero points subtracted at
//   packing (qgemm-int16-driver.h: every operand in [-255, 255], every pair sum exact).
// - AVX-512 VNNI: the vpdpbusd microkernel on shifted u8 x s8 operands, corrected with row and
//   column sums (vnni-ukernel-avx512-inl.h).
// Integer arithmetic modulo 2^32 is associative, so every variant, tiling and thread count gives
// the reference's bits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qgemm/qgemm.h"
#include "threadpool/threadpool.h"

namespace opq {

struct QGemmI32Args {
  GemmOperands op;  // A, B and their zero points (B's unused when packed_b is set)
  int32_t* y;
  size_t ldy;
  void* workspace;   // at least the variant's workspace function's bytes (none for the reference)
  ThreadPool* pool;  // may be NULL
  // B as the same variant's PackB wrote it (its data, past the API's header), or NULL to pack B
  // in this call. A constant B (MatMulInteger's weights) is packed once and run many times.
  const uint8_t* packed_b = nullptr;
};

// The scalar reference: a direct triple loop, one thread, no workspace. Every other variant must
// match it bit for bit. Its packed B is int16 (B - b_zero_point), K x N row-major.
void QGemmI32Ref(const QGemmI32Args& args);
uint64_t QGemmI32RefPackedBBytes(size_t n, size_t k);
void QGemmI32RefPackB(const GemmOperands& o, uint8_t* dst);

// Workspace bytes of the SIMD variants, computed in 64 bits (m, n, k <= 2^28); packed_b: B comes
// packed (no section for it).
// Packed B: its bytes (K and N alone decide them), and the packing of o's B (o.m and A unused)
// into dst, 64-byte aligned.
#if defined(__x86_64__) || defined(_M_X64)
uint64_t QGemmI32Avx2Workspace(size_t m, size_t n, size_t k, bool packed_b);
void QGemmI32Avx2(const QGemmI32Args& args);
uint64_t QGemmI32Avx2PackedBBytes(size_t n, size_t k);
void QGemmI32Avx2PackB(const GemmOperands& o, uint8_t* dst);
uint64_t QGemmI32Avx512VnniWorkspace(size_t m, size_t n, size_t k, bool packed_b);
void QGemmI32Avx512Vnni(const QGemmI32Args& args);
uint64_t QGemmI32Avx512VnniPackedBBytes(size_t n, size_t k);
void QGemmI32Avx512VnniPackB(const GemmOperands& o, uint8_t* dst);
#endif

#if defined(__wasm_simd128__)
uint64_t QGemmI32WasmSimdWorkspace(size_t m, size_t n, size_t k, bool packed_b);
void QGemmI32WasmSimd(const QGemmI32Args& args);
uint64_t QGemmI32WasmSimdPackedBBytes(size_t n, size_t k);
void QGemmI32WasmSimdPackB(const GemmOperands& o, uint8_t* dst);
#endif

}  // namespace opq
