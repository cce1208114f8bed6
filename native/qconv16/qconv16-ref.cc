// The reference A16W8 convolution: the direct loop of the definition (opq_qconv16.h), int64
// accumulation, every tap bounds-checked. The spec every variant matches bit for bit.
#include "qconv16/qconv16.h"

namespace opq {

void Qc16RunRef(const ConvGeom& g, const Qc16Args& a) {
  const opq_requant& rq = *a.rq;
  const bool per_channel = rq.count != 1;
  for (size_t n = 0; n < g.n; ++n)
    for (size_t oc = 0; oc < g.cout; ++oc) {
      const size_t gr = oc / g.cout_g;
      const int64_t zw = a.wzp[a.wzp_count == 1 ? 0 : oc];
      const int64_t b = a.bias ? a.bias[oc] : 0;
      const int8_t* wo = a.w + oc * g.kg;
      for (size_t oh = 0; oh < g.oh; ++oh)
        for (size_t ow = 0; ow < g.ow; ++ow) {
          int64_t acc = b;
          for (size_t c = 0; c < g.cin_g; ++c) {
            const size_t xo = (n * g.cin + gr * g.cin_g + c) * g.h * g.w;
            for (size_t ki = 0; ki < g.kh; ++ki) {
              const int64_t ih = int64_t(oh * g.sh + ki * g.dh) - int64_t(g.pt);
              if (ih < 0 || ih >= int64_t(g.h)) continue;
              for (size_t kj = 0; kj < g.kw; ++kj) {
                const int64_t iw = int64_t(ow * g.sw + kj * g.dw) - int64_t(g.pl);
                if (iw < 0 || iw >= int64_t(g.w)) continue;
                const int64_t xv = Qc16Load(a.x, a.x_type, xo + size_t(ih) * g.w + size_t(iw)) - int64_t(a.zx);
                acc += xv * (int64_t(wo[(c * g.kh + ki) * g.kw + kj]) - zw);
              }
            }
          }
          Qc16Store(a.y, a.y_type, ((n * g.cout + oc) * g.oh + oh) * g.ow + ow,
                    RequantizeWide(acc, rq, per_channel ? oc : 0));
        }
    }
}

}  // namespace opq
