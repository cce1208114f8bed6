// The blocked float32 GEMM driver (BLIS loop order): A is packed once into mr-row panels (alpha
// folded in), B block by block (kc x nc) into nr-column panels; the microkernel runs over each
// mr x nr tile, a B micro-panel staying in L1 while the A panels stream from L2.
#include <algorithm>
#include <limits>

#include "f32-gemm/f32-blocking.h"
#include "f32-gemm/f32-kernels.h"
#include "threadpool/threadpool.h"

namespace opq {

using f32::Carve;
using f32::RoundUp;

namespace {

// Packs rows [0, m) x k of op(A) (times alpha) as: k block k0 of width kc, panel i: (k0 * mp) + i*mr*kc,
// element (kk, r) at kk*mr + r. Rows past m are zero.
void PackA(const GemmF32Args& g, size_t kcb, size_t mr, size_t mp, float* out) {
  for (size_t k0 = 0; k0 < g.k; k0 += kcb) {
    const size_t kc = std::min(kcb, g.k - k0);
    for (size_t i0 = 0; i0 < mp; i0 += mr) {
      float* dst = out + k0 * mp + i0 * kc;
      for (size_t r = 0; r < mr; ++r) {
        const size_t i = i0 + r;
        if (i >= g.m) {
          for (size_t kk = 0; kk < kc; ++kk) dst[kk * mr + r] = 0.0f;
        } else if (g.trans_a) {
          const float* src = g.a + k0 * g.lda + i;
          for (size_t kk = 0; kk < kc; ++kk) dst[kk * mr + r] = g.alpha * src[kk * g.lda];
        } else {
          const float* src = g.a + i * g.lda + k0;
          for (size_t kk = 0; kk < kc; ++kk) dst[kk * mr + r] = g.alpha * src[kk];
        }
      }
    }
  }
}

// Packs op(B) rows [k0, k0+kc) x columns [j0, j0+nc) into nr-column panels: panel q at q*kc*nr,
// element (kk, j) at kk*nr + j. Columns past n are zero.
void PackB(const GemmF32Args& g, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr, float* out) {
  for (size_t q0 = 0; q0 < nc; q0 += nr) {
    float* dst = out + q0 * kc;
    const size_t cols = std::min(nr, g.n - (j0 + q0));
    if (!g.trans_b) {
      const float* src = g.b + k0 * g.ldb + j0 + q0;
      for (size_t kk = 0; kk < kc; ++kk) {
        float* d = dst + kk * nr;
        const float* s = src + kk * g.ldb;
        if (cols == nr) {
          std::memcpy(d, s, nr * sizeof(float));
        } else {
          for (size_t j = 0; j < nr; ++j) d[j] = j < cols ? s[j] : 0.0f;
        }
      }
    } else {
      for (size_t j = 0; j < nr; ++j) {
        if (j >= cols) {
          for (size_t kk = 0; kk < kc; ++kk) dst[kk * nr + j] = 0.0f;
          continue;
        }
        const float* s = g.b + (j0 + q0 + j) * g.ldb + k0;
        for (size_t kk = 0; kk < kc; ++kk) dst[kk * nr + j] = s[kk];
      }
    }
  }
}

}  // namespace

size_t GemmF32Workspace(size_t m, size_t n, size_t k, const F32Ukernels& uk, size_t threads) {
  const size_t kc = f32::KcOf(k), nc = f32::NcOf(kc, n, uk.nr);
  const size_t mp = RoundUp(m, uk.mr);
  const size_t max = std::numeric_limits<size_t>::max() / 8;
  if (k != 0 && mp > max / k) return std::numeric_limits<size_t>::max();
  if (threads == 0) threads = 1;
  if (kc * nc > max / threads - mp * k) return std::numeric_limits<size_t>::max();
  return (mp * k + threads * RoundUp(kc * nc, 16)) * sizeof(float) + 3 * 64;
}

void GemmF32Run(const GemmF32Args& g, const F32Ukernels& uk) {
  const size_t mr = uk.mr, nr = uk.nr;
  const bool with_c = g.c != nullptr && g.beta != 0.0f;
  // Y starts as beta * C (broadcast) so the microkernel only ever accumulates into it.
  if (with_c || g.k == 0) {
    for (size_t i = 0; i < g.m; ++i) {
      float* y = g.y + i * g.ldy;
      for (size_t j = 0; j < g.n; ++j) {
        float v = with_c ? g.beta * g.c[i * g.c_stride_m + j * g.c_stride_n] : 0.0f;
        if (g.k == 0 && g.clamp) v = std::min(std::max(v, g.lo), g.hi);
        y[j] = v;
      }
    }
  }
  if (g.k == 0 || g.m == 0 || g.n == 0) return;
  const size_t kcb = f32::KcOf(g.k), ncb = f32::NcOf(kcb, g.n, nr), mp = RoundUp(g.m, mr);
  uintptr_t cur = reinterpret_cast<uintptr_t>(g.workspace);
  float* apack = Carve(&cur, mp * g.k);
  float* bbase = Carve(&cur, 0);
  const size_t bstride = RoundUp(kcb * ncb, 16);
  PackA(g, kcb, mr, mp, apack);
  // One task per column block, each packing its own B into its thread's slice of the workspace.
  auto block = [&](size_t blk, size_t thread) {
    float* bpack = bbase + thread * bstride;
    const size_t j0 = blk * ncb, nc = std::min(ncb, g.n - j0), ncp = RoundUp(nc, nr);
    f32::RunColumnBlock(
        uk, g.m, g.k, kcb, mp, apack, bpack, nc,
        [&](size_t k0, size_t kc, float* dst) { PackB(g, k0, kc, j0, ncp, nr, dst); }, g.y + j0, g.ldy, nullptr, with_c,
        g.clamp, g.lo, g.hi);
  };
  const size_t blocks = f32::DivUp(g.n, ncb);
  f32::ParallelForMacs(g.pool, uint64_t(g.m) * g.n * g.k, blocks, block);
}

}  // namespace opq
