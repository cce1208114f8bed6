// The packed A16W8 ConvTranspose driver (see qconvtranspose16.h), compiled once per SIMD variant:
// plain loops over an 8-channel int64 tile that the including file's ISA vectorizes. Include AFTER
// the ISA begin header; internal linkage.
#pragma once

#include "qconvtranspose16/qconvtranspose16.h"

namespace opq {
namespace {

// One output row oh of channel block ob of group gr in batch n, columns in tiles of kCt16Cols.
template <typename T>
void Ct16Row(const CtGeom& g, const Ct16Args& a, const int32_t* wt, size_t nob, size_t n, size_t gr, size_t ob,
             size_t oh) {
  constexpr size_t B = kCt16Block;
  alignas(64) int64_t acc[kCt16Cols * B];
  int64_t bias[B];
  const size_t j0 = ob * B, mr = g.cout_g - j0 < B ? g.cout_g - j0 : B;
  for (size_t o = 0; o < B; ++o) bias[o] = o < mr && a.bias ? a.bias[gr * g.cout_g + j0 + o] : 0;
  const T* xg = static_cast<const T*>(a.x) + (n * g.cin + gr * g.cin_g) * g.h * g.w;
  const int32_t zx = a.zx;
  const opq_requant& rq = *a.rq;
  const bool per_channel = rq.count != 1;
  const int64_t sw = int64_t(g.sw);
  for (size_t ow0 = 0; ow0 < g.ow; ow0 += kCt16Cols) {
    const size_t nb = g.ow - ow0 < kCt16Cols ? g.ow - ow0 : kCt16Cols;
    for (size_t p = 0; p < nb; ++p)
      for (size_t o = 0; o < B; ++o) acc[p * B + o] = bias[o];
    for (size_t ki = 0; ki < g.kh; ++ki) {
      const int64_t th = int64_t(oh + g.pt) - int64_t(ki * g.dh);
      if (th < 0 || th % int64_t(g.sh) != 0 || th / int64_t(g.sh) >= int64_t(g.h)) continue;
      const size_t ih = size_t(th / int64_t(g.sh));
      for (size_t kj = 0; kj < g.kw; ++kj) {
        // ow = iw*sw + off for the columns of this tile: iw in [iw0, iw1).
        const int64_t off = int64_t(kj * g.dw) - int64_t(g.pl);
        int64_t iw0 = Ct16CeilDiv(int64_t(ow0) - off, sw), iw1 = Ct16CeilDiv(int64_t(ow0 + nb) - off, sw);
        iw0 = iw0 < 0 ? 0 : iw0;
        iw1 = iw1 > int64_t(g.w) ? int64_t(g.w) : iw1;
        if (iw0 >= iw1) continue;
        const size_t p0 = size_t(iw0 * sw + off) - ow0;
        for (size_t c = 0; c < g.cin_g; ++c) {
          const T* xr = xg + (c * g.h + ih) * g.w;
          const int32_t* wv = wt + ((((gr * g.cin_g + c) * g.kh + ki) * g.kw + kj) * nob + ob) * B;
          for (size_t i = 0, e = size_t(iw1 - iw0); i < e; ++i) {
            const int32_t xv = int32_t(xr[size_t(iw0) + i]) - zx;
            int64_t* ac = acc + (p0 + i * g.sw) * B;
            for (size_t o = 0; o < B; ++o) ac[o] += int64_t(xv * wv[o]);  // |xv * wv| < 2^24: exact
          }
        }
      }
    }
    for (size_t o = 0; o < mr; ++o) {
      const size_t oc = gr * g.cout_g + j0 + o;
      const size_t yo = ((n * g.cout + oc) * g.oh + oh) * g.ow + ow0;
      const size_t ch = per_channel ? oc : 0;
      for (size_t p = 0; p < nb; ++p) Qc16Store(a.y, a.y_type, yo + p, RequantizeWide(acc[p * B + o], rq, ch));
    }
  }
}

template <typename T>
void Ct16RunTyped(const CtGeom& g, const Ct16Args& a, const int32_t* wt, size_t nob, ThreadPool* pool) {
  const size_t threads = PoolThreads(pool);
  const uint64_t macs = uint64_t(g.n) * g.cout * g.h * g.w * g.cin_g * g.kh * g.kw;
  const size_t outer = g.n * g.groups * nob;
  const bool parallel = threads > 1 && macs >= (uint64_t{1} << 20);
  size_t chunks = 1;
  if (parallel) {
    const size_t want = (threads * 4 + outer - 1) / outer;
    chunks = want < g.oh ? want : g.oh;
  }
  auto run = [&](size_t task, size_t /*thread*/) {
    const size_t rc = task % chunks, rest = task / chunks;
    const size_t ob = rest % nob, gr = (rest / nob) % g.groups, n = rest / nob / g.groups;
    const size_t r0 = rc * g.oh / chunks, r1 = (rc + 1) * g.oh / chunks;
    for (size_t oh = r0; oh < r1; ++oh) Ct16Row<T>(g, a, wt, nob, n, gr, ob, oh);
  };
  const size_t tasks = outer * chunks;
  if (parallel && tasks > 1)
    ParallelFor(pool, tasks, run);
  else
    for (size_t t = 0; t < tasks; ++t) run(t, 0);
}

void Ct16RunPacked(const CtGeom& g, const Ct16Args& a, void* ws, ThreadPool* pool) {
  constexpr size_t B = kCt16Block;
  const size_t nob = (g.cout_g + B - 1) / B, taps = g.kh * g.kw;
  int32_t* wt = static_cast<int32_t*>(ws);
  // Wt[gr][c][t][ob][o] = w[gr*cin_g + c][ob*B + o][t] - zw(oc), 0 past the group's channels.
  for (size_t ci = 0; ci < g.cin; ++ci) {
    const size_t gr = ci / g.cin_g;
    for (size_t t = 0; t < taps; ++t)
      for (size_t j = 0; j < nob * B; ++j) {
        int32_t v = 0;
        if (j < g.cout_g) {
          const size_t oc = gr * g.cout_g + j;
          v = int32_t(a.w[(ci * g.cout_g + j) * taps + t]) - a.wzp[a.wzp_count == 1 ? 0 : oc];
        }
        wt[(ci * taps + t) * nob * B + j] = v;
      }
  }
  switch (a.x_type) {
    case OPQ_QC16_UINT8:
      Ct16RunTyped<uint8_t>(g, a, wt, nob, pool);
      break;
    case OPQ_QC16_INT8:
      Ct16RunTyped<int8_t>(g, a, wt, nob, pool);
      break;
    case OPQ_QC16_INT16:
      Ct16RunTyped<int16_t>(g, a, wt, nob, pool);
      break;
    default:
      Ct16RunTyped<uint16_t>(g, a, wt, nob, pool);
      break;
  }
}

}  // namespace
}  // namespace opq
