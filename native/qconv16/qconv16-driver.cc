// The A16W8 convolution driver shared by the SIMD variants (see qconv16.h): weight pairs and their
// sums, the zero-point-padded input pairs of one (batch, group), then output tiles of up to 4
// channels x 16 pixels of one row through the variant's hook, the zero-point correction, bias and
// the wide requantization. Rows and channel blocks split across the pool.
#include "qconv16/qconv16.h"

namespace opq {
namespace {

constexpr size_t kTileM = 4, kTileN = 16;

size_t Align64(size_t v) { return (v + 63) & ~size_t{63}; }

struct Layout {
  size_t w2, sumw, coff, x2, total;
};

// Elements of one padded row of X2: sw phases of ceil(wp / sw) columns.
uint64_t RowWidth(const ConvGeom& g) { return (uint64_t(g.wp) + g.sw - 1) / g.sw * g.sw; }

// Sizes in uint64 so that 32-bit size_t (wasm) cannot wrap; total 0 past kQc16MaxWorkspace.
Layout MakeLayout(const ConvGeom& g) {
  const uint64_t kq = (uint64_t(g.cin_g) + 1) / 2, taps = uint64_t(g.kh) * g.kw;
  const uint64_t w2 = uint64_t(g.cout) * kq * taps * 4;
  const uint64_t sumw = uint64_t(g.cout) * 8;
  const uint64_t coff = kq * taps * sizeof(size_t);  // the step offsets
  const uint64_t x2 = (kq * g.hp * RowWidth(g) + kTileN) * 4;
  const uint64_t total = w2 + sumw + coff + x2 + 4 * 64;
  Layout l{0, 0, 0, 0, 0};
  if (total > kQc16MaxWorkspace) return l;
  l.w2 = 0;
  l.sumw = Align64(l.w2 + size_t(w2));
  l.coff = Align64(l.sumw + size_t(sumw));
  l.x2 = Align64(l.coff + size_t(coff));
  l.total = Align64(l.x2 + size_t(x2));
  return l;
}

inline int32_t Pair(int32_t v0, int32_t v1) {
  return static_cast<int32_t>((static_cast<uint32_t>(v0) & 0xFFFFu) | (static_cast<uint32_t>(v1) << 16));
}

}  // namespace

size_t Qc16WorkspaceSize(const ConvGeom& g) { return MakeLayout(g).total; }

void Qc16RunFast(const ConvGeom& g, const Qc16Args& a, const Qc16Kernels& k, void* ws, ThreadPool* pool) {
  const Layout l = MakeLayout(g);
  uint8_t* base = static_cast<uint8_t*>(ws);
  int32_t* W2 = reinterpret_cast<int32_t*>(base + l.w2);
  int64_t* sumw = reinterpret_cast<int64_t*>(base + l.sumw);
  size_t* coff = reinterpret_cast<size_t*>(base + l.coff);
  int32_t* X2 = reinterpret_cast<int32_t*>(base + l.x2);
  const size_t wq = size_t(RowWidth(g)), phase_len = wq / g.sw;
  const size_t kq = (g.cin_g + 1) / 2, taps = g.kh * g.kw, plane = g.hp * wq;
  for (size_t q = 0, st = 0; q < kq; ++q)
    for (size_t ki = 0; ki < g.kh; ++ki)
      for (size_t kj = 0; kj < g.kw; ++kj, ++st)
        coff[st] = q * plane + ki * g.dh * wq + (kj * g.dw) % g.sw * phase_len + (kj * g.dw) / g.sw;
  // W2[oc][q][t] = (w[oc][2q][t] - zw, w[oc][2q + 1][t] - zw), the odd channel's partner 0.
  for (size_t oc = 0; oc < g.cout; ++oc) {
    const int32_t zw = a.wzp[a.wzp_count == 1 ? 0 : oc];
    const int8_t* wo = a.w + oc * g.kg;
    int64_t s = 0;
    for (size_t q = 0; q < kq; ++q) {
      const bool has1 = 2 * q + 1 < g.cin_g;
      for (size_t t = 0; t < taps; ++t) {
        const int32_t v0 = int32_t(wo[2 * q * taps + t]) - zw;
        const int32_t v1 = has1 ? int32_t(wo[(2 * q + 1) * taps + t]) - zw : 0;
        s += v0 + v1;
        W2[(oc * kq + q) * taps + t] = Pair(v0, v1);
      }
    }
    sumw[oc] = s;
  }
  // Re-based input: x' = x - off in [-32768, 32767], zero point zx' likewise.
  const int32_t off = a.x_type == OPQ_QC16_UINT16 ? 32768 : 0;
  const int32_t zxp = a.zx - off;
  const size_t threads = PoolThreads(pool);
  const uint64_t macs = uint64_t(g.cout_g) * g.oh * g.ow * g.kg;
  const bool parallel = threads > 1 && macs >= (uint64_t{1} << 20);
  const size_t oc_blocks = (g.cout_g + kTileM - 1) / kTileM;
  // Tasks: row chunks x channel-block splits (channel splits only when the rows are too few).
  size_t row_chunks = 1, oc_splits = 1;
  if (parallel) {
    row_chunks = g.oh < threads * 4 ? g.oh : threads * 4;
    if (row_chunks < threads * 2) {
      const size_t want = (threads * 4 + row_chunks - 1) / row_chunks;
      oc_splits = want < oc_blocks ? want : oc_blocks;
    }
  }
  Qc16Taps t;
  t.steps = kq * taps;
  t.xoff = coff;
  const opq_requant& rq = *a.rq;
  const bool per_channel = rq.count != 1;
  const size_t in_hw = g.h * g.w, out_hw = g.oh * g.ow;
  for (size_t n = 0; n < g.n; ++n)
    for (size_t gr = 0; gr < g.groups; ++gr) {
      const size_t cin0 = n * g.cin + gr * g.cin_g;
      // X2[q][r]: row r < hp of the padded input (padding = zx'), column c at (c % sw) * L + c / sw.
      auto build = [&](size_t q, size_t /*thread*/) {
        const bool has1 = 2 * q + 1 < g.cin_g;
        const size_t i0 = (cin0 + 2 * q) * in_hw, i1 = i0 + in_hw;
        const int32_t pad = Pair(zxp, has1 ? zxp : 0);
        int32_t* d = X2 + q * plane;
        for (size_t r = 0; r < g.hp; ++r, d += wq) {
          for (size_t c = 0; c < wq; ++c) d[c] = pad;
          const int64_t ih = int64_t(r) - int64_t(g.pt);
          if (ih < 0 || ih >= int64_t(g.h)) continue;
          const size_t c0 = g.pl < g.wp ? g.pl : g.wp;
          const size_t c1 = g.pl + g.w < g.wp ? g.pl + g.w : g.wp;
          const size_t ro = size_t(ih) * g.w - g.pl;  // unsigned wrap: ro + c is in range for c >= c0
          // Column c goes to (c % sw) * L + c / sw, tracked without a division per element.
          size_t ph = c0 % g.sw, idx = c0 / g.sw;
          for (size_t c = c0; c < c1; ++c) {
            const int32_t v0 = Qc16Load(a.x, a.x_type, i0 + ro + c) - off;
            const int32_t v1 = has1 ? Qc16Load(a.x, a.x_type, i1 + ro + c) - off : 0;
            d[ph * phase_len + idx] = Pair(v0, v1);
            if (++ph == g.sw) ph = 0, ++idx;
          }
        }
      };
      if (parallel && kq > 1)
        ParallelFor(pool, kq, build);
      else
        for (size_t q = 0; q < kq; ++q) build(q, 0);
      for (size_t i = 0; i < kTileN; ++i) X2[kq * plane + i] = 0;  // read past the last tap, never used
      auto run = [&](size_t task, size_t /*thread*/) {
        const size_t rc = task % row_chunks, os = task / row_chunks;
        const size_t r0 = rc * g.oh / row_chunks, r1 = (rc + 1) * g.oh / row_chunks;
        const size_t b0 = os * oc_blocks / oc_splits, b1 = (os + 1) * oc_blocks / oc_splits;
        alignas(64) int64_t out[kTileM * kTileN];
        const int32_t* w2[kTileM];
        for (size_t oh = r0; oh < r1; ++oh)
          for (size_t b = b0; b < b1; ++b) {
            const size_t j0 = b * kTileM;
            const size_t mr = g.cout_g - j0 < kTileM ? g.cout_g - j0 : kTileM;
            for (size_t o = 0; o < kTileM; ++o) w2[o] = W2 + (gr * g.cout_g + j0 + (o < mr ? o : mr - 1)) * kq * taps;
            for (size_t ow0 = 0; ow0 < g.ow; ow0 += kTileN) {
              const size_t np = g.ow - ow0 < kTileN ? g.ow - ow0 : kTileN;
              k.tile(X2 + oh * g.sh * wq + ow0, w2, mr, np, t, out);
              for (size_t o = 0; o < mr; ++o) {
                const size_t oc = gr * g.cout_g + j0 + o;
                const int64_t corr = (a.bias ? int64_t(a.bias[oc]) : 0) - int64_t(zxp) * sumw[oc];
                const size_t yo = (n * g.cout + oc) * out_hw + oh * g.ow + ow0;
                const size_t c = per_channel ? oc : 0;
                for (size_t p = 0; p < np; ++p)
                  Qc16Store(a.y, a.y_type, yo + p, RequantizeWide(out[o * kTileN + p] + corr, rq, c));
              }
            }
          }
      };
      const size_t tasks = row_chunks * oc_splits;
      if (tasks > 1)
        ParallelFor(pool, tasks, run);
      else
        run(0, 0);
    }
}

}  // namespace opq
