// Concat with requantization (opq_qconcat, native/include/opq_qlayout.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "requant/requant.h"

namespace opq {

// y[j] = x[j] when rq is null, else RequantizeOne(x[j] - zx, *rq) through `row` (a per-tensor
// RequantRow variant, so every variant of Concat is exactly that variant's requantizer).
void QConcatRun(const uint8_t* x, size_t n, bool is_signed, int32_t zx, const opq_requant* rq, RequantRowFn row,
                uint8_t* y);

}  // namespace opq
