// Transpose of 8-bit data (native/include/opq_qlayout.h): one definition for every variant. It moves
// bytes only (memory bound); contiguous runs are copied with memcpy.
#pragma once

#include <cstddef>
#include <cstdint>

namespace opq {

// dims/perm already validated; rank >= 1.
void Transpose8Ref(const uint8_t* x, size_t rank, const size_t* in_dims, const size_t* perm, uint8_t* y);

}  // namespace opq
