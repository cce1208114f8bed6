// WebAssembly SIMD128 build of the packed A16W8 ConvTranspose driver (qconvtranspose16-driver-inl.h).
#include "qconvtranspose16/qconvtranspose16.h"

#if defined(__wasm_simd128__)
#include "qconvtranspose16/qconvtranspose16-driver-inl.h"

namespace opq {

void Ct16RunWasmSimd(const CtGeom& g, const Ct16Args& a, void* ws, ThreadPool* pool) { Ct16RunPacked(g, a, ws, pool); }

}  // namespace opq
#endif
