// The float32 pooling driver: per plane, a padded and phase-split copy (-inf padding for max, 0 for
// average; f32::BuildPhasePlane) turns every window tap into a contiguous run that the microkernel
// reduces over one output row. Average divisors are separable (rows in range x columns in range),
// so they are counted once per output row and column.
#include <algorithm>
#include <limits>

#include "f32-gemm/f32-blocking.h"
#include "f32-gemm/f32-kernels.h"

namespace opq {

namespace {

bool InPlace(const opq_pool2d_f32_params& p) {
  const int64_t ph = int64_t(p.oh - 1) * p.stride_h + int64_t(p.kh - 1) * p.dilation_h + 1;
  const int64_t pw = int64_t(p.ow - 1) * p.stride_w + int64_t(p.kw - 1) * p.dilation_w + 1;
  return p.stride_w == 1 && p.pad_top == 0 && p.pad_left == 0 && ph <= p.h && pw <= p.w;
}

// Window positions of output o along one axis that fall in [lo, hi).
float CountIn(int64_t o, int64_t stride, int64_t pad_begin, int64_t k, int64_t dil, int64_t lo, int64_t hi) {
  int64_t n = 0;
  for (int64_t t = 0; t < k; ++t) {
    const int64_t i = o * stride - pad_begin + t * dil;
    if (i >= lo && i < hi) ++n;
  }
  return float(n ? n : 1);  // an empty window sums to 0 and must stay 0, not 0/0
}

}  // namespace

size_t Pool2dF32Workspace(const opq_pool2d_f32_params& p) {
  const size_t kNone = std::numeric_limits<size_t>::max();
  const uint64_t limit = std::min<uint64_t>(uint64_t{1} << 30, std::numeric_limits<size_t>::max() / 8);
  const uint64_t ph = uint64_t(p.oh - 1) * p.stride_h + uint64_t(p.kh - 1) * p.dilation_h + 1;
  const uint64_t pw = uint64_t(p.ow - 1) * p.stride_w + uint64_t(p.kw - 1) * p.dilation_w + 1;
  const uint64_t qw = (pw + p.stride_w - 1) / p.stride_w;
  uint64_t floats = 0;
  if (!InPlace(p)) {
    if (qw != 0 && ph > limit / qw) return kNone;
    floats = ph * qw;
    if (floats > limit / uint64_t(p.stride_w)) return kNone;
    floats *= uint64_t(p.stride_w);
  }
  const uint64_t ntaps = uint64_t(p.kh) * p.kw;
  floats += ntaps * 2 * (sizeof(void*) / sizeof(float) + 1) + uint64_t(p.ow) + 64;
  if (floats > limit) return kNone;
  return size_t(floats) * sizeof(float);
}

void Pool2dF32Run(const Pool2dF32Args& a, const F32Ukernels& uk) {
  const opq_pool2d_f32_params& p = *a.p;
  const size_t ntaps = size_t(p.kh) * p.kw, hw = size_t(p.h) * p.w, ohw = size_t(p.oh) * p.ow;
  const bool in_place = InPlace(p);
  const bool is_max = a.kind == OPQ_POOL_MAX;
  const f32::PhasePlane pp =
      f32::PlaneOf(p.oh, p.ow, p.kh, p.kw, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left);
  uintptr_t cur = reinterpret_cast<uintptr_t>(a.workspace);
  cur = (cur + 63) & ~uintptr_t{63};
  size_t* offs = reinterpret_cast<size_t*>(cur);
  cur += ntaps * sizeof(size_t);
  cur = (cur + 63) & ~uintptr_t{63};
  const float** taps = reinterpret_cast<const float**>(cur);
  cur += ntaps * sizeof(float*);
  float* col_count = f32::Carve(&cur, p.ow);
  float* plane = in_place ? nullptr : f32::Carve(&cur, pp.sw * pp.ph * pp.qw);
  const size_t rs = in_place ? size_t(p.w) : pp.qw;
  for (size_t kh = 0, t = 0; kh < size_t(p.kh); ++kh) {
    for (size_t kw = 0; kw < size_t(p.kw); ++kw, ++t) {
      const size_t col = kw * p.dilation_w;
      offs[t] =
          in_place ? kh * p.dilation_h * rs + col : ((col % pp.sw) * pp.ph + kh * p.dilation_h) * pp.qw + col / pp.sw;
    }
  }
  const bool incl = a.kind == OPQ_POOL_AVG_INCLUDE_PAD;
  if (!is_max) {
    for (int64_t ow = 0; ow < p.ow; ++ow)
      col_count[ow] = CountIn(ow, p.stride_w, p.pad_left, p.kw, p.dilation_w, incl ? -p.pad_left : 0,
                              incl ? int64_t(p.w) + p.pad_right : int64_t(p.w));
  }
  const float pad = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
  for (size_t pl = 0; pl < size_t(p.planes); ++pl) {
    const float* x = a.x + pl * hw;
    const float* src = x;
    if (!in_place) {
      f32::BuildPhasePlane(pp, x, p.h, p.w, pad, plane);
      src = plane;
    }
    float* y = a.y + pl * ohw;
    for (size_t oh = 0; oh < size_t(p.oh); ++oh) {
      const float* base = src + oh * p.stride_h * rs;
      for (size_t t = 0; t < ntaps; ++t) taps[t] = base + offs[t];
      if (is_max) {
        uk.max_row(p.ow, ntaps, taps, y + oh * p.ow);
      } else {
        const float rc = CountIn(int64_t(oh), p.stride_h, p.pad_top, p.kh, p.dilation_h, incl ? -p.pad_top : 0,
                                 incl ? int64_t(p.h) + p.pad_bottom : int64_t(p.h));
        uk.avg_row(p.ow, ntaps, taps, rc, col_count, y + oh * p.ow);
      }
    }
  }
}

}  // namespace opq
