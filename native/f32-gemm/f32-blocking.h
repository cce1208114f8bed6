// Cache blocking and edge tiles shared by the float32 GEMM and convolution drivers (scalar code,
// compiled for the baseline ISA; the microkernels behind F32Ukernels are the per-ISA part).
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>

#include "f32-gemm/f32-kernels.h"
#include "threadpool/threadpool.h"

namespace opq {
namespace f32 {

inline size_t RoundUp(size_t v, size_t m) { return (v + m - 1) / m * m; }
inline size_t DivUp(size_t v, size_t m) { return (v + m - 1) / m; }

// k is cut into equal blocks of at most kMaxKc (a kc x nr B micro-panel stays in L1), and columns
// into blocks of about kBBlockFloats / kc (a packed B block stays in L2).
constexpr size_t kMaxKc = 256;
constexpr size_t kBBlockFloats = 96 * 1024;

inline size_t KcOf(size_t k) {
  if (k == 0) return 1;
  const size_t blocks = DivUp(k, kMaxKc);
  return DivUp(k, blocks);
}

inline size_t NcOf(size_t kc, size_t n, size_t nr) {
  size_t nc = kBBlockFloats / (kc ? kc : 1) / nr * nr;
  if (nc < nr) nc = nr;
  const size_t np = RoundUp(n ? n : 1, nr);
  return nc < np ? nc : np;
}

// Below this many multiply-adds a kernel runs on the calling thread: waking the pool costs more
// than it saves (measured on small MobileNet layers: 2 threads slower than 1).
constexpr uint64_t kMinParallelMacs = uint64_t{1} << 21;

// ParallelFor over `tasks`, or all of them on the calling thread when the job has fewer than
// kMinParallelMacs multiply-adds.
template <typename F>
void ParallelForMacs(ThreadPool* pool, uint64_t macs, size_t tasks, F& f) {
  ParallelFor(macs < kMinParallelMacs ? nullptr : pool, tasks, f);
}

// Aligns a workspace cursor to 64 bytes.
inline float* Carve(uintptr_t* cursor, size_t floats) {
  uintptr_t at = (*cursor + 63) & ~uintptr_t{63};
  *cursor = at + floats * sizeof(float);
  return reinterpret_cast<float*>(at);
}

// Runs the microkernel on the tile at c (rows x cols of ldc, rows <= mr, cols <= nr); partial
// tiles go through a local mr x nr buffer so the microkernel always sees a full tile.
inline void RunTile(const F32Ukernels& uk, size_t kc, const float* a, const float* b, float* c, size_t ldc, size_t rows,
                    size_t cols, const float* init, uint32_t flags, float lo, float hi) {
  if (rows == uk.mr && cols == uk.nr) {
    uk.gemm(kc, a, b, c, ldc, init, flags, lo, hi);
    return;
  }
  alignas(64) float tile[16 * 32];  // mr <= 16, nr <= 32
  alignas(64) float binit[16];
  const float* tinit = nullptr;
  if (init) {
    for (size_t r = 0; r < uk.mr; ++r) binit[r] = r < rows ? init[r] : 0.0f;
    tinit = binit;
  }
  if (flags & kF32Accumulate) {
    for (size_t r = 0; r < rows; ++r) std::memcpy(tile + r * uk.nr, c + r * ldc, cols * sizeof(float));
  }
  uk.gemm(kc, a, b, tile, uk.nr, tinit, flags, lo, hi);
  for (size_t r = 0; r < rows; ++r) std::memcpy(c + r * ldc, tile + r * uk.nr, cols * sizeof(float));
}

// The k loop of one block of nc output columns, shared by the GEMM and conv drivers: for each k
// slice, pack(k0, kc, bpack) fills the B panel, then the microkernel runs over every row tile of
// the m rows of packed A (mp rows padded). y is the block's first column (leading dimension ldy);
// bias (per row) is added on the first slice; accumulate_first starts from y's contents (Gemm's C).
template <typename Pack>
inline void RunColumnBlock(const F32Ukernels& uk, size_t m, size_t k, size_t kcb, size_t mp, const float* apack,
                           float* bpack, size_t nc, Pack&& pack, float* y, size_t ldy, const float* bias,
                           bool accumulate_first, bool clamp, float lo, float hi) {
  for (size_t k0 = 0; k0 < k; k0 += kcb) {
    const size_t kc = std::min(kcb, k - k0);
    pack(k0, kc, bpack);
    const bool first = k0 == 0;
    const uint32_t flags =
        ((!first || accumulate_first) ? kF32Accumulate : 0) | ((k0 + kc == k && clamp) ? kF32Clamp : 0);
    for (size_t q0 = 0; q0 < nc; q0 += uk.nr) {
      const float* bp = bpack + q0 * kc;
      const size_t cols = std::min(uk.nr, nc - q0);
      for (size_t i0 = 0; i0 < m; i0 += uk.mr) {
        RunTile(uk, kc, apack + k0 * mp + i0 * kc, bp, y + i0 * ldy + q0, ldy, std::min(uk.mr, m - i0), cols,
                first && bias ? bias + i0 : nullptr, flags, lo, hi);
      }
    }
  }
}

}  // namespace f32
}  // namespace opq

namespace opq {
namespace f32 {

// A zero- (or pad_value-) padded copy of one H x W plane covering the rows and columns a sliding
// window reads, split by column phase so that every tap of a strided window reads a contiguous
// run: padded column r + t*sw goes to phase r, column t. Phase r, row i starts at
// out + (r*ph + i)*qw. Tap (kh, kw) of output (oh, ow) is then
// phase (kw*dw) % sw, row oh*sh + kh*dh, column ow + (kw*dw) / sw.
struct PhasePlane {
  size_t ph, pw, qw, sw;
  int64_t pad_top, pad_left;
};

inline PhasePlane PlaneOf(size_t oh, size_t ow, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw,
                          int64_t pad_top, int64_t pad_left) {
  PhasePlane pp;
  pp.ph = (oh - 1) * sh + (kh - 1) * dh + 1;
  pp.pw = (ow - 1) * sw + (kw - 1) * dw + 1;
  pp.sw = sw;
  pp.qw = (pp.pw + sw - 1) / sw;
  pp.pad_top = pad_top;
  pp.pad_left = pad_left;
  return pp;
}

inline void BuildPhasePlane(const PhasePlane& pp, const float* x, size_t h, size_t w, float pad, float* out) {
  for (size_t i = 0; i < pp.ph; ++i) {
    const int64_t ih = int64_t(i) - pp.pad_top;
    const bool row_in = ih >= 0 && ih < int64_t(h);
    const float* src = row_in ? x + size_t(ih) * w : nullptr;
    for (size_t r = 0; r < pp.sw; ++r) {
      float* dst = out + (r * pp.ph + i) * pp.qw;
      if (!row_in) {
        for (size_t t = 0; t < pp.qw; ++t) dst[t] = pad;
        continue;
      }
      if (pp.sw == 1) {
        // [0, lo) and [hi, qw) are padding, the middle a copy.
        const int64_t lo = std::min<int64_t>(std::max<int64_t>(pp.pad_left, 0), int64_t(pp.qw));
        const int64_t hi = std::max<int64_t>(lo, std::min<int64_t>(int64_t(w) + pp.pad_left, int64_t(pp.qw)));
        for (int64_t t = 0; t < lo; ++t) dst[t] = pad;
        if (hi > lo) std::memcpy(dst + lo, src + (lo - pp.pad_left), size_t(hi - lo) * sizeof(float));
        for (int64_t t = hi; t < int64_t(pp.qw); ++t) dst[t] = pad;
        continue;
      }
      for (size_t t = 0; t < pp.qw; ++t) {
        const int64_t iw = int64_t(r + t * pp.sw) - pp.pad_left;
        dst[t] = iw >= 0 && iw < int64_t(w) ? src[iw] : pad;
      }
    }
  }
}

}  // namespace f32
}  // namespace opq
