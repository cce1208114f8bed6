// Which kernel variants this build and CPU can run, and which one "auto" picks.
#pragma once

#include <cstdint>

namespace opq {

bool VariantAvailable(int32_t variant);
// The fastest available variant for qgemm-like kernels.
int32_t AutoVariant();

}  // namespace opq
