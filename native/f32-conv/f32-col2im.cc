// ConvTranspose's col2im (opq_col2im_f32): the TypeScript definition's loops and order of additions
// (src/kernels/f32/col2im.ts), so every backend gives its bits. One scalar definition for every
// variant: it moves data and adds, and the row-ordered tile path already writes sequentially.
#include <algorithm>

#include "f32-gemm/f32-kernels.h"

namespace opq {

namespace {

// Each output pixel gets exactly one tap (stride = kernel, no pads or dilation, output = stride x
// input): y = cols + bias, written one output row at a time.
bool Tiles(const Col2ImF32Geom& g) {
  return g.sd == g.kd && g.sh == g.kh && g.sw == g.kw && g.dd == 1 && g.dh == 1 && g.dw == 1 && g.pd == 0 &&
         g.ph == 0 && g.pw == 0 && g.od == g.d * g.sd && g.oh == g.h * g.sh && g.ow == g.w * g.sw;
}

}  // namespace

void Col2ImF32(const Col2ImF32Geom& g, size_t channels, const float* cols, const float* bias, float* y) {
  const int64_t I = g.d * g.h * g.w, O = g.od * g.oh * g.ow, kv = g.kd * g.kh * g.kw;
  const bool tiles = Tiles(g);
  for (size_t c = 0; c < channels; ++c) {
    const float b = bias != nullptr ? bias[c] : 0.0f;
    float* yc = y + int64_t(c) * O;
    const float* cc = cols + int64_t(c) * kv * I;
    if (tiles) {
      for (int64_t id = 0; id < g.d; ++id)
        for (int64_t kd = 0; kd < g.kd; ++kd)
          for (int64_t ih = 0; ih < g.h; ++ih)
            for (int64_t kh = 0; kh < g.kh; ++kh) {
              float* row = yc + ((id * g.sd + kd) * g.oh + ih * g.sh + kh) * g.ow;
              const float* src = cc + ((kd * g.kh + kh) * g.kw) * I + (id * g.h + ih) * g.w;
              for (int64_t iw = 0; iw < g.w; ++iw)
                for (int64_t kw = 0; kw < g.kw; ++kw) row[iw * g.kw + kw] = src[kw * I + iw] + b;
            }
      continue;
    }
    std::fill(yc, yc + O, b);
    const float* src_tap = cc;
    for (int64_t kd = 0; kd < g.kd; ++kd)
      for (int64_t kh = 0; kh < g.kh; ++kh)
        for (int64_t kw = 0; kw < g.kw; ++kw, src_tap += I) {
          const int64_t ow0 = kw * g.dw - g.pw;
          // iw in [lo, hi) keeps 0 <= iw*sw + ow0 < OW.
          const int64_t lo = ow0 >= 0 ? 0 : (-ow0 + g.sw - 1) / g.sw;
          const int64_t room = g.ow - ow0;
          const int64_t hi = std::min<int64_t>(g.w, room <= 0 ? 0 : (room + g.sw - 1) / g.sw);
          if (lo >= hi) continue;
          for (int64_t id = 0; id < g.d; ++id) {
            const int64_t od = id * g.sd + kd * g.dd - g.pd;
            if (od < 0 || od >= g.od) continue;
            for (int64_t ih = 0; ih < g.h; ++ih) {
              const int64_t oh = ih * g.sh + kh * g.dh - g.ph;
              if (oh < 0 || oh >= g.oh) continue;
              const float* src = src_tap + (id * g.h + ih) * g.w;
              float* dst = yc + (od * g.oh + oh) * g.ow + ow0 + lo * g.sw;
              for (int64_t iw = lo; iw < hi; ++iw, dst += g.sw) *dst += src[iw];
            }
          }
        }
  }
}

}  // namespace opq
