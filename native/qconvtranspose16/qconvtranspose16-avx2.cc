// AVX2 build of the packed A16W8 ConvTranspose driver (qconvtranspose16-driver-inl.h).
#include "qconvtranspose16/qconvtranspose16.h"

#if defined(__x86_64__) || defined(_M_X64)
#include "isa/x86-avx2-begin.h"
#include "qconvtranspose16/qconvtranspose16-driver-inl.h"

namespace opq {

void Ct16RunAvx2(const CtGeom& g, const Ct16Args& a, void* ws, ThreadPool* pool) { Ct16RunPacked(g, a, ws, pool); }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
