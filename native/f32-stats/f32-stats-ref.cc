// Scalar definitions of the calibration statistics (opq_scan_f32, opq_histogram_f32): the `ref`
// variant, and the tails of the SIMD ones. Every variant gives the same bits: min, max and counts
// are exact operations.
#include <cstring>
#include <limits>

#include "f32-gemm/f32-kernels.h"

namespace opq {

void F32ScanRange(const float* x, size_t begin, size_t end, F32ScanState* s) {
  float lo = s->lo, hi = s->hi;
  uint64_t zeros = s->zeros;
  size_t bad = s->bad;
  for (size_t i = begin; i < end; ++i) {
    const float v = x[i];
    // The JS observers' comparisons: NaN never wins either.
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    zeros += v == 0.0f;
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    if ((bits & 0x7f800000u) == 0x7f800000u && bad == std::numeric_limits<size_t>::max()) bad = i;
  }
  s->lo = lo;
  s->hi = hi;
  s->zeros = zeros;
  s->bad = bad;
}

void F32ScanFinish(const F32ScanState& s, double* out) {
  // + 0.0: -0 becomes +0, so which of the zeros came first does not show.
  out[0] = static_cast<double>(s.lo) + 0.0;
  out[1] = static_cast<double>(s.hi) + 0.0;
  out[2] = static_cast<double>(s.zeros);
  out[3] = s.bad == std::numeric_limits<size_t>::max() ? -1.0 : static_cast<double>(s.bad);
}

void F32ScanRef(size_t n, const float* x, double* out) {
  F32ScanState s{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0,
                 std::numeric_limits<size_t>::max()};
  F32ScanRange(x, 0, n, &s);
  F32ScanFinish(s, out);
}

void F32HistogramRef(size_t n, const float* x, double inv, double zero, double* counts, size_t bins) {
  for (size_t i = 0; i < n; ++i) {
    const int64_t b = F32HistogramBin(x[i], inv, zero, bins);
    if (b >= 0) counts[b] += 1.0;
  }
}

}  // namespace opq
