// Tail masks for the AVX2 float32 microkernels (shared header: include before the ISA switch).
#pragma once

#include <cstddef>
#include <cstdint>

namespace opq {
namespace f32 {

// kTailMask + 8 - r: the first r lanes set (loaded with _mm256_loadu_si256 inside ISA code).
alignas(32) inline constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

}  // namespace f32
}  // namespace opq
