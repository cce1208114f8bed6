// The scalar reference of integer convolution: the direct definition, seven nested loops over
// the raw weights. Every other variant (and src/kernels/int8/conv-ref.ts) must match it bit for bit.
#include "conv/conv.h"

namespace opq {

void ConvRunRef(const ConvRunArgs& a) {
  const ConvGeom& g = *a.g;
  const uint8_t* pk = reinterpret_cast<const uint8_t*>(a.h);
  const int32_t* bias = reinterpret_cast<const int32_t*>(pk + a.h->bias_offset);
  const int32_t* wzp = reinterpret_cast<const int32_t*>(pk + a.h->zp_offset);
  const int8_t* w = reinterpret_cast<const int8_t*>(pk + a.h->w_offset);
  const int32_t zx = a.x_zero_point;
  for (size_t n = 0; n < g.n; ++n)
    for (size_t co = 0; co < g.cout; ++co) {
      const size_t gi = co / g.cout_g;
      const opq_requant rc = RequantChannel(*a.rq, co);
      for (size_t oy = 0; oy < g.oh; ++oy)
        for (size_t ox = 0; ox < g.ow; ++ox) {
          uint32_t acc = uint32_t(bias[co]);  // unsigned: int32 wrap without undefined behaviour
          for (size_t ci = 0; ci < g.cin_g; ++ci)
            for (size_t ky = 0; ky < g.kh; ++ky) {
              // Input row oy*sh + ky*dh - pt; outside the image it is padding, (zx - zx) = 0.
              const size_t iy = oy * g.sh + ky * g.dh;
              if (iy < g.pt || iy - g.pt >= g.h) continue;
              for (size_t kx = 0; kx < g.kw; ++kx) {
                const size_t ix = ox * g.sw + kx * g.dw;
                if (ix < g.pl || ix - g.pl >= g.w) continue;
                const size_t xi = ((n * g.cin + gi * g.cin_g + ci) * g.h + (iy - g.pt)) * g.w + (ix - g.pl);
                const int32_t xv = a.x_signed ? int32_t(int8_t(a.x[xi])) : int32_t(a.x[xi]);
                const int32_t wv = w[((co * g.cin_g + ci) * g.kh + ky) * g.kw + kx];
                acc += uint32_t((xv - zx) * (wv - wzp[co]));
              }
            }
          a.y[((n * g.cout + co) * g.oh + oy) * g.ow + ox] = uint8_t(RequantizeOne(int32_t(acc), rc, 0));
        }
    }
}

}  // namespace opq
