// qgemm: Y = requant((A - Za) x (B - Zb) + bias). Internal interface shared by the variants;
// the validated entry point is opq_qgemm (native/api/qgemm-api.cc).
#pragma once

#include <cstddef>
#include <cstdint>

#include "onnxptq.h"

namespace opq {

struct QGemmArgs {
  size_t m, n, k;
  const uint8_t* a;  // uint8 or int8 storage
  size_t lda;
  bool a_signed;
  int32_t a_zero_point;
  const int8_t* b;
  size_t ldb;
  const int32_t* b_zero_point;  // 1 or n entries
  bool b_zp_per_channel;
  const int32_t* bias;  // null or n entries
  const opq_requant* rq;
  uint8_t* y;  // uint8 or int8 storage
  size_t ldy;
  void* workspace;  // variant-specific, at least the size its workspace function returns
};

// A and B as the packing routines read them (qgemm and qgemm_i32 share them): 8-bit storage, signed
// or not, with zero points per tensor or per row of A / per column of B. qgemm is the case of one A
// zero point and an int8 B.
struct GemmOperands {
  size_t m, n, k;
  const uint8_t* a;
  size_t lda;
  bool a_signed;
  const int32_t* a_zero_point;  // 1 or m entries
  bool a_zp_per_row;
  const uint8_t* b;
  size_t ldb;
  bool b_signed;
  const int32_t* b_zero_point;  // 1 or n entries
  bool b_zp_per_col;
};

inline GemmOperands OperandsOf(const QGemmArgs& g) {
  return {g.m,
          g.n,
          g.k,
          g.a,
          g.lda,
          g.a_signed,
          &g.a_zero_point,
          false,
          reinterpret_cast<const uint8_t*>(g.b),
          g.ldb,
          true,
          g.b_zero_point,
          g.b_zp_per_channel};
}

// The scalar reference: a direct triple loop over unpacked A and B. Kept for testing and as the
// fallback on CPUs without a SIMD variant; every other variant must match it bit for bit.
void QGemmRef(const QGemmArgs& args);
size_t QGemmRefWorkspace(size_t m, size_t n, size_t k);

#if defined(__x86_64__) || defined(_M_X64)
void QGemmAvx2(const QGemmArgs& args);
size_t QGemmAvx2Workspace(size_t m, size_t n, size_t k);
void QGemmAvx512Vnni(const QGemmArgs& args);
size_t QGemmAvx512VnniWorkspace(size_t m, size_t n, size_t k);
#endif

#if defined(__wasm_simd128__)
void QGemmWasmSimd(const QGemmArgs& args);
size_t QGemmWasmSimdWorkspace(size_t m, size_t n, size_t k);
#endif

}  // namespace opq
