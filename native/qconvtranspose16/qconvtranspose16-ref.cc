// The reference A16W8 ConvTranspose: every output gathers the input taps that reach it (the
// definition of opq_qconvtranspose16.h read backwards: oh = ih*sh + ki*dh - pt <=> ih = (oh + pt -
// ki*dh) / sh when that divides), int64 accumulation, RequantizeWide. The spec every variant
// matches bit for bit. Also the size function of the packed driver.
#include "qconvtranspose16/qconvtranspose16.h"

namespace opq {

size_t Ct16WorkspaceSize(const CtGeom& g) {
  const uint64_t blocks = (uint64_t(g.cout_g) + kCt16Block - 1) / kCt16Block;
  const uint64_t bytes = uint64_t(g.cin) * g.kh * g.kw * blocks * kCt16Block * 4 + 64;
  return bytes > kCt16MaxWorkspace ? 0 : static_cast<size_t>(bytes);
}

void Ct16RunRef(const CtGeom& g, const Ct16Args& a) {
  const opq_requant& rq = *a.rq;
  const bool per_channel = rq.count != 1;
  for (size_t n = 0; n < g.n; ++n)
    for (size_t oc = 0; oc < g.cout; ++oc) {
      const size_t gr = oc / g.cout_g, j = oc % g.cout_g;
      const int64_t zw = a.wzp[a.wzp_count == 1 ? 0 : oc];
      const int64_t b = a.bias ? a.bias[oc] : 0;
      for (size_t oh = 0; oh < g.oh; ++oh)
        for (size_t ow = 0; ow < g.ow; ++ow) {
          int64_t acc = b;
          for (size_t c = 0; c < g.cin_g; ++c) {
            const size_t ci = gr * g.cin_g + c;
            const size_t xo = (n * g.cin + ci) * g.h * g.w;
            const int8_t* wo = a.w + (ci * g.cout_g + j) * g.kh * g.kw;
            for (size_t ki = 0; ki < g.kh; ++ki) {
              const int64_t th = int64_t(oh + g.pt) - int64_t(ki * g.dh);
              if (th < 0 || th % int64_t(g.sh) != 0 || th / int64_t(g.sh) >= int64_t(g.h)) continue;
              const size_t ih = size_t(th / int64_t(g.sh));
              for (size_t kj = 0; kj < g.kw; ++kj) {
                const int64_t tw = int64_t(ow + g.pl) - int64_t(kj * g.dw);
                if (tw < 0 || tw % int64_t(g.sw) != 0 || tw / int64_t(g.sw) >= int64_t(g.w)) continue;
                const size_t iw = size_t(tw / int64_t(g.sw));
                const int64_t xv = Qc16Load(a.x, a.x_type, xo + ih * g.w + iw) - int64_t(a.zx);
                acc += xv * (int64_t(wo[ki * g.kw + kj]) - zw);
              }
            }
          }
          Qc16Store(a.y, a.y_type, ((n * g.cout + oc) * g.oh + oh) * g.ow + ow,
                    RequantizeWide(acc, rq, per_channel ? oc : 0));
        }
    }
}

}  // namespace opq
