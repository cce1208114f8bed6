// The float32 convolution reference: the definition as direct loops (zero padding, groups,
// dilations), float accumulation in (c, kh, kw) order. Slow on purpose: easy to check by eye.
#include <algorithm>

#include "f32-gemm/f32-kernels.h"

namespace opq {

void Conv2dF32Ref(const Conv2dF32Args& a) {
  const opq_conv2d_f32_params& p = *a.p;
  const size_t cg = p.c / p.group, mg = p.m / p.group;
  const size_t hw = static_cast<size_t>(p.h) * p.w, ohw = static_cast<size_t>(p.oh) * p.ow;
  for (size_t n = 0; n < size_t(p.n); ++n) {
    for (size_t m = 0; m < size_t(p.m); ++m) {
      const size_t g = m / mg;
      const float* wm = a.w + m * cg * p.kh * p.kw;
      float* ym = a.y + (n * p.m + m) * ohw;
      for (int32_t oh = 0; oh < p.oh; ++oh) {
        for (int32_t ow = 0; ow < p.ow; ++ow) {
          float acc = 0.0f;
          for (size_t c = 0; c < cg; ++c) {
            const float* xc = a.x + (n * p.c + g * cg + c) * hw;
            const float* wc = wm + c * p.kh * p.kw;
            for (int32_t kh = 0; kh < p.kh; ++kh) {
              const int64_t ih = int64_t(oh) * p.stride_h - p.pad_top + int64_t(kh) * p.dilation_h;
              if (ih < 0 || ih >= p.h) continue;
              for (int32_t kw = 0; kw < p.kw; ++kw) {
                const int64_t iw = int64_t(ow) * p.stride_w - p.pad_left + int64_t(kw) * p.dilation_w;
                if (iw < 0 || iw >= p.w) continue;
                acc += xc[ih * p.w + iw] * wc[kh * p.kw + kw];
              }
            }
          }
          float v = acc + (a.bias ? a.bias[m] : 0.0f);
          if (a.clamp) v = std::min(std::max(v, p.act_min), p.act_max);
          ym[size_t(oh) * p.ow + ow] = v;
        }
      }
    }
  }
}

}  // namespace opq
