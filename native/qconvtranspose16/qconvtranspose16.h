// A16W8 ConvTranspose (native/include/opq_qconvtranspose16.h): the reference loop, the packed
// driver shared by the SIMD variants and its workspace. Everything here trusts its arguments
// (validated in native/api/qconvtranspose16-api.cc). Geometry: CtGeom (MakeCtGeom) of the 8-bit
// family; scalar definitions: Qc16Load/Qc16Store/RequantizeWide of qconv16 (one definition each).
#pragma once

#include <cstddef>
#include <cstdint>

#include "opq_qconvtranspose16.h"
#include "qconv16/qconv16.h"                // Qc16Load, Qc16Store, RequantizeWide
#include "qconvtranspose/qconvtranspose.h"  // CtGeom, MakeCtGeom
#include "threadpool/threadpool.h"

namespace opq {

struct Ct16Args {
  const void* x;
  int32_t x_type;
  int32_t zx;
  const int8_t* w;
  const int32_t* wzp;
  size_t wzp_count;
  const int32_t* bias;  // NULL or cout entries
  const opq_requant* rq;
  void* y;
  int32_t y_type;
};

// The reference: each output gathers its taps directly from the definition (qconvtranspose16-ref.cc).
void Ct16RunRef(const CtGeom& g, const Ct16Args& a);

// The packed driver: output channels in blocks of kCt16Block, weights packed as
// Wt[group][c][ki][kj][block][kCt16Block] = w - w_zero_point (int32, 0 past the group's channels);
// an int64 tile of kCt16Cols output columns x kCt16Block channels on the stack per output row.
// Each x tap is |x - zx| <= 65535 times |w - zw| <= 255 < 2^24: exact in int32, summed in int64.
constexpr size_t kCt16Block = 8, kCt16Cols = 64;
constexpr uint64_t kCt16MaxWorkspace = uint64_t{1} << 28;
// Workspace bytes of the packed driver, 0 when it would pass kCt16MaxWorkspace (reference then).
size_t Ct16WorkspaceSize(const CtGeom& g);

using Ct16RunFn = void (*)(const CtGeom& g, const Ct16Args& a, void* ws, ThreadPool* pool);
#if defined(__x86_64__) || defined(_M_X64)
void Ct16RunAvx2(const CtGeom& g, const Ct16Args& a, void* ws, ThreadPool* pool);
#endif
#if defined(__wasm_simd128__)
void Ct16RunWasmSimd(const CtGeom& g, const Ct16Args& a, void* ws, ThreadPool* pool);
#endif

// ceil(a / b) for b > 0 and any a.
inline int64_t Ct16CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

}  // namespace opq
