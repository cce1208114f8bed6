// Which kernel variants this build and CPU can run, and which one "auto" picks.
#pragma once

#include <cstdint>

namespace opq {

bool VariantAvailable(int32_t variant);
// The fastest available variant for qgemm-like kernels.
int32_t AutoVariant();
// AVX-512 VBMI (byte permutes) on top of the AVX512VNNI variant's features: kernels of that
// variant with a VBMI form use it only where this holds.
bool CpuHasAvx512Vbmi();

}  // namespace opq
