// A16W8 Add and Mul (native/include/opq_qbinary16.h): the row kernels. A row is one innermost run
// of the broadcast output; a and b either advance with it or stay put (a broadcast scalar).
// Pointers are at the run's first element. Everything here trusts its arguments (validated in
// native/api/qbinary16-api.cc). The scalar definitions are those of the 8-bit family (QAddOne,
// RequantizeOne): one definition.
#pragma once

#include <cstddef>
#include <cstdint>

#include "opq_qbinary16.h"
#include "qadd/qadd.h"
#include "qconv16/qconv16.h"  // Qc16Load, Qc16Store
#include "requant/requant.h"

namespace opq {

inline size_t Qb16ElemSize(int32_t type) { return type == OPQ_QC16_INT16 || type == OPQ_QC16_UINT16 ? 2 : 1; }

using QAdd16RowFn = void (*)(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n,
                             const opq_qadd_params& p, float fixed, void* y, int32_t yt);
using QMul16RowFn = void (*)(const void* a, int32_t at, bool as, int32_t za, const void* b, int32_t bt, bool bs,
                             int32_t zb, size_t n, const opq_requant& rq, void* y, int32_t yt);

void QAdd16RowRef(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n,
                  const opq_qadd_params& p, float fixed, void* y, int32_t yt);
void QMul16RowRef(const void* a, int32_t at, bool as, int32_t za, const void* b, int32_t bt, bool bs, int32_t zb,
                  size_t n, const opq_requant& rq, void* y, int32_t yt);
#if defined(__x86_64__) || defined(_M_X64)
void QAdd16RowAvx2(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n,
                   const opq_qadd_params& p, float fixed, void* y, int32_t yt);
void QMul16RowAvx2(const void* a, int32_t at, bool as, int32_t za, const void* b, int32_t bt, bool bs, int32_t zb,
                   size_t n, const opq_requant& rq, void* y, int32_t yt);
#endif
#if defined(__wasm_simd128__)
void QAdd16RowWasmSimd(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n,
                       const opq_qadd_params& p, float fixed, void* y, int32_t yt);
void QMul16RowWasmSimd(const void* a, int32_t at, bool as, int32_t za, const void* b, int32_t bt, bool bs, int32_t zb,
                       size_t n, const opq_requant& rq, void* y, int32_t yt);
#endif

}  // namespace opq
