// The float32 pooling reference: direct loops over each window (the JS kernel's definition).
#include <limits>

#include "f32-gemm/f32-kernels.h"

namespace opq {

void Pool2dF32Ref(const Pool2dF32Args& a) {
  const opq_pool2d_f32_params& p = *a.p;
  const size_t hw = static_cast<size_t>(p.h) * p.w, ohw = static_cast<size_t>(p.oh) * p.ow;
  for (size_t pl = 0; pl < size_t(p.planes); ++pl) {
    const float* x = a.x + pl * hw;
    float* y = a.y + pl * ohw;
    for (int32_t oh = 0; oh < p.oh; ++oh) {
      for (int32_t ow = 0; ow < p.ow; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        float sum = 0.0f;
        int64_t cnt = 0, pad_cnt = 0;
        for (int32_t kh = 0; kh < p.kh; ++kh) {
          const int64_t ih = int64_t(oh) * p.stride_h - p.pad_top + int64_t(kh) * p.dilation_h;
          const bool in_h = ih >= 0 && ih < p.h;
          const bool pad_h = ih >= -p.pad_top && ih < int64_t(p.h) + p.pad_bottom;
          for (int32_t kw = 0; kw < p.kw; ++kw) {
            const int64_t iw = int64_t(ow) * p.stride_w - p.pad_left + int64_t(kw) * p.dilation_w;
            if (pad_h && iw >= -p.pad_left && iw < int64_t(p.w) + p.pad_right) ++pad_cnt;
            if (!in_h || iw < 0 || iw >= p.w) continue;
            const float v = x[ih * p.w + iw];
            if (v > best) best = v;
            sum += v;
            ++cnt;
          }
        }
        float out;
        if (a.kind == OPQ_POOL_MAX) {
          out = best;
        } else {
          const int64_t div = a.kind == OPQ_POOL_AVG_INCLUDE_PAD ? pad_cnt : cnt;
          out = div > 0 ? sum / static_cast<float>(div) : 0.0f;
        }
        y[size_t(oh) * p.ow + ow] = out;
      }
    }
  }
}

}  // namespace opq
