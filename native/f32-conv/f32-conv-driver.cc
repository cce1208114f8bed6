// The float32 convolution driver over a microkernel table. Three paths:
// - General (and grouped) convolution: per group, the weights (Mg x K, K = Cg*KH*KW) are packed once
//   as the GEMM's A; im2col writes the B blocks (kc x nc pixels) straight into the microkernel's
//   nr-column panels, a fixed-size copy for every panel inside one output row (wide stride-1
//   layers, and 1x1 layers, where B is x itself). Y is NCHW directly.
// - Flat (narrow stride-1 and strided layers, see GeneralFlat): the same GEMM over zero-padded,
//   phase-split input planes, where every packed row is one contiguous copy; the few extra columns
//   per output row are computed into scratch and dropped.
// - One pixel (oh = ow = 1, not depthwise): a dot product per output channel (RunOnePixel).
// - Depthwise (one input channel per group, any multiplier): a padded, phase-split copy of the input
//   plane (f32::BuildPhasePlane) makes every tap a contiguous run; the microkernel sums the taps over
//   one output row (or a whole narrow channel at once). Unpadded stride-1 cases read x in place.
// Column blocks (depthwise: channels) are tasks on the thread pool, each computed the same way
// whatever thread runs it.
#include <algorithm>
#include <limits>

#include "f32-gemm/f32-blocking.h"
#include "f32-gemm/f32-kernels.h"
#include "threadpool/threadpool.h"

namespace opq {

using f32::Carve;
using f32::RoundUp;

namespace {

struct Seg {
  size_t j0, len;    // panel columns [j0, j0 + len) are output pixels of one output row
  int64_t ih0, iw0;  // input coordinates of the first pixel's window origin
};

bool IsDepthwise(const opq_conv2d_f32_params& p) { return p.c == p.group; }

// Depthwise reads x in place when no tap ever leaves the plane and the stride is 1.
bool DepthwiseInPlace(const opq_conv2d_f32_params& p) {
  const int64_t ph = int64_t(p.oh - 1) * p.stride_h + int64_t(p.kh - 1) * p.dilation_h + 1;
  const int64_t pw = int64_t(p.ow - 1) * p.stride_w + int64_t(p.kw - 1) * p.dilation_w + 1;
  return p.stride_w == 1 && p.pad_top == 0 && p.pad_left == 0 && ph <= p.h && pw <= p.w;
}

// Weights of one group as GEMM A panels (see PackA in f32-gemm-driver.cc).
void PackWeights(const float* w, size_t mg, size_t k, size_t kcb, size_t mr, size_t mp, float* out) {
  for (size_t k0 = 0; k0 < k; k0 += kcb) {
    const size_t kc = std::min(kcb, k - k0);
    for (size_t i0 = 0; i0 < mp; i0 += mr) {
      float* dst = out + k0 * mp + i0 * kc;
      for (size_t r = 0; r < mr; ++r) {
        const size_t i = i0 + r;
        if (i >= mg) {
          for (size_t kk = 0; kk < kc; ++kk) dst[kk * mr + r] = 0.0f;
        } else {
          const float* src = w + i * k + k0;
          for (size_t kk = 0; kk < kc; ++kk) dst[kk * mr + r] = src[kk];
        }
      }
    }
  }
}

// One run of `len` output pixels of one output row, tap (kh, kw) of channel plane xc, into d,
// which the caller zeroed (a fixed-size memset is a few vector stores; zeroing short runs here
// would become libc memset calls).
inline void CopyRun(const opq_conv2d_f32_params& p, const float* xc, const Seg& sg, size_t kh, size_t kw, float* d) {
  float* ds = d + sg.j0;
  const int64_t ih = sg.ih0 + int64_t(kh) * p.dilation_h;
  if (ih < 0 || ih >= p.h) return;
  const float* row = xc + size_t(ih) * p.w;
  const int64_t iw = sg.iw0 + int64_t(kw) * p.dilation_w;
  const int64_t len = int64_t(sg.len), s = p.stride_w;
  // Pixels t in [lo, hi) read inside the row (iw + t*s in [0, w)); the rest is zero padding.
  // Plain loops, not memcpy: runs are short (at most nr) and a libc call per run costs more.
  const int64_t lo = std::min(iw >= 0 ? int64_t{0} : (-iw + s - 1) / s, len);
  const int64_t hi = std::max(lo, std::min(int64_t(p.w) - iw > 0 ? (int64_t(p.w) - iw + s - 1) / s : int64_t{0}, len));
  // Index from row, never form row + iw: iw is negative at a left edge, and a pointer before the
  // array (or off a null, empty input) is undefined even when nothing is read through it.
  if (lo >= hi) return;
  const float* src = row + (iw + lo * s);
  if (s == 1) {
    for (int64_t t = lo; t < hi; ++t) ds[t] = src[t - lo];
  } else {
    for (int64_t t = lo; t < hi; ++t, src += s) ds[t] = *src;
  }
}

// The next row of im2col's B: tap (kh, kw) of channel c, in that order.
inline void NextTap(const opq_conv2d_f32_params& p, size_t* c, size_t* kh, size_t* kw) {
  if (++*kw < size_t(p.kw)) return;
  *kw = 0;
  if (++*kh < size_t(p.kh)) return;
  *kh = 0;
  ++*c;
}

// im2col of rows [k0, k0+kc) and output pixels [p0, p0+ncp) into NR-column panels (zero past P).
// Packing runs once per Mg multiply-adds of each value, so its common case (a full panel inside one
// output row, stride 1; or a 1x1 layer, where B is x itself) is a fixed-size copy the compiler turns
// into vector moves. Those panels are packed a row of B at a time across up to kGroup of them, so
// each tap reads its input row left to right; panel by panel, each copy read another channel's
// plane and waited on the cache (SR-10's 3x3 layers: packing 21% of the run, GEMM 49%). Other
// panels (row ends, padding runs, strides) go panel by panel.
template <size_t NR>
void PackIm2col(const opq_conv2d_f32_params& p, const float* x, size_t k0, size_t kc, size_t p0, size_t ncp,
                float* out) {
  const size_t P = size_t(p.oh) * p.ow, khw = size_t(p.kh) * p.kw, hw = size_t(p.h) * p.w;
  // 1x1, stride 1, no padding, same size: B is x itself, row k = channel k.
  const bool contiguous = p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
                          p.pad_left == 0 && p.oh == p.h && p.ow == p.w;
  const size_t c0 = k0 / khw, kh0 = (k0 % khw) / p.kw, kw0 = k0 % p.kw;
  // Whole panels in one output row: window origin (or, 1x1, first pixel) and destination.
  constexpr size_t kGroup = 64;
  struct Whole {
    int64_t ih0, iw0;
    size_t first;
    float* dst;
  };
  Whole whole[kGroup];
  size_t nwhole = 0;
  const auto flush = [&] {
    size_t c = c0, kh = kh0, kw = kw0;
    for (size_t kk = 0; kk < kc; ++kk) {
      const float* xc = x + c * hw;
      const int64_t dh = int64_t(kh) * p.dilation_h, dw = int64_t(kw) * p.dilation_w;
      for (size_t q = 0; q < nwhole; ++q) {
        float* d = whole[q].dst + kk * NR;
        if (contiguous) {
          std::memcpy(d, xc + whole[q].first, NR * sizeof(float));
          continue;
        }
        const int64_t ih = whole[q].ih0 + dh, iw = whole[q].iw0 + dw;
        if (ih < 0 || ih >= p.h) {
          std::memset(d, 0, NR * sizeof(float));
        } else if (iw >= 0 && iw + int64_t(NR) <= p.w) {
          std::memcpy(d, xc + size_t(ih) * p.w + size_t(iw), NR * sizeof(float));
        } else {
          std::memset(d, 0, NR * sizeof(float));
          CopyRun(p, xc, Seg{0, NR, whole[q].ih0, whole[q].iw0}, kh, kw, d);
        }
      }
      NextTap(p, &c, &kh, &kw);
    }
    nwhole = 0;
  };
  Seg segs[NR];
  for (size_t q0 = 0; q0 < ncp; q0 += NR) {
    float* dst = out + q0 * kc;
    const size_t first = p0 + q0;
    const size_t cols = first < P ? std::min(NR, P - first) : 0;
    size_t nseg = 0;
    if (!contiguous) {
      size_t oh = first / p.ow, ow = first % p.ow;
      for (size_t j = 0; j < cols;) {
        const size_t len = std::min(cols - j, size_t(p.ow) - ow);
        segs[nseg++] = {j, len, int64_t(oh) * p.stride_h - p.pad_top, int64_t(ow) * p.stride_w - p.pad_left};
        j += len;
        ow = 0;
        ++oh;
      }
    }
    if (cols == NR && (contiguous || (nseg == 1 && p.stride_w == 1))) {
      whole[nwhole++] = {contiguous ? 0 : segs[0].ih0, contiguous ? 0 : segs[0].iw0, first, dst};
      if (nwhole == kGroup) flush();
      continue;
    }
    size_t c = c0, kh = kh0, kw = kw0;
    for (size_t kk = 0; kk < kc; ++kk) {
      float* d = dst + kk * NR;
      const float* xc = x + c * hw;
      std::memset(d, 0, NR * sizeof(float));
      if (contiguous) {
        for (size_t j = 0; j < cols; ++j) d[j] = xc[first + j];
      }
      for (size_t s = 0; s < nseg; ++s) CopyRun(p, xc, segs[s], kh, kw, d);
      NextTap(p, &c, &kh, &kw);
    }
  }
  flush();
}

void PackIm2colAny(const opq_conv2d_f32_params& p, const float* x, size_t k0, size_t kc, size_t p0, size_t ncp,
                   size_t nr, float* out) {
  switch (nr) {
    case 8:
      PackIm2col<8>(p, x, k0, kc, p0, ncp, out);
      return;
    case 16:
      PackIm2col<16>(p, x, k0, kc, p0, ncp, out);
      return;
    default:
      PackIm2col<32>(p, x, k0, kc, p0, ncp, out);
      return;  // unused: every table has nr 8 or 16
  }
}

// Narrow stride-1 convolutions (ow < 64, not 1x1) run over "flat" pixels: with every input plane
// padded to row stride rs = ow + (kw-1)*dw, tap (kh, kw) of flat pixel j = oh*rs + ow is plane
// element kh*dh*rs + kw*dw + j, so each packed row is one contiguous copy, without the per-row runs
// that dominate packing when rows are shorter than a panel. The rs - ow extra columns per row are
// computed into a scratch output and dropped (mnist's 14-wide layer: 22% more multiply-adds, about
// half the time).
// Strided layers work the same way on planes split by row and column phase (f32::PhasePlane):
// tap (kh, kw) reads phase ((kh*dh) % sh, (kw*dw) % sw) at row oh + (kh*dh)/sh, column
// ow + (kw*dw)/sw, again one contiguous run, where the per-element strided gathers of im2col were slow.
// Not when a stride exceeds the dilated kernel: whole phases would be built and never read.
// With an indirect microkernel (B rows read in place from the planes, nothing packed) wide stride-1
// layers run flat too: their rs - ow extra columns are a few percent, im2col's packing was a third
// of the time (PP-OCRv4 det's 3x3 96->24 at 160x160: 18.1 -> 13.2 ms).
bool GeneralFlat(const opq_conv2d_f32_params& p, const F32Ukernels& uk) {
  const int64_t ekh = int64_t(p.kh - 1) * p.dilation_h + 1, ekw = int64_t(p.kw - 1) * p.dilation_w + 1;
  return (p.kh > 1 || p.kw > 1) && (uk.gemm_indirect || p.ow < 64 || p.stride_w > 1 || p.stride_h > 1) &&
         p.stride_h <= ekh && p.stride_w <= ekw;
}

template <size_t NR>
void PackFlat(const opq_conv2d_f32_params& p, const float* planes, size_t plane_size, const size_t* taps, size_t k0,
              size_t kc, size_t j0, size_t ncp, size_t pf, float* out) {
  const size_t khw = size_t(p.kh) * p.kw;
  for (size_t q0 = 0; q0 < ncp; q0 += NR) {
    float* dst = out + q0 * kc;
    const size_t first = j0 + q0;
    const size_t cols = first < pf ? std::min(NR, pf - first) : 0;
    size_t c = k0 / khw, t = k0 % khw;
    for (size_t kk = 0; kk < kc; ++kk) {
      float* d = dst + kk * NR;
      const float* src = planes + c * plane_size + taps[t] + first;
      if (cols == NR) {
        std::memcpy(d, src, NR * sizeof(float));
      } else {
        std::memset(d, 0, NR * sizeof(float));
        for (size_t j = 0; j < cols; ++j) d[j] = src[j];
      }
      if (++t == khw) {
        t = 0;
        ++c;
      }
    }
  }
}

void PackFlatAny(const opq_conv2d_f32_params& p, const float* planes, size_t plane_size, const size_t* taps, size_t k0,
                 size_t kc, size_t j0, size_t ncp, size_t pf, size_t nr, float* out) {
  switch (nr) {
    case 8:
      PackFlat<8>(p, planes, plane_size, taps, k0, kc, j0, ncp, pf, out);
      return;
    case 16:
      PackFlat<16>(p, planes, plane_size, taps, k0, kc, j0, ncp, pf, out);
      return;
    default:
      PackFlat<32>(p, planes, plane_size, taps, k0, kc, j0, ncp, pf, out);
      return;
  }
}

// Flat-mode geometry, in T = size_t for the run and uint64_t for sizing the workspace (one formula).
template <typename T>
struct FlatGeom {
  T sh, sw, qh, qw;  // strides; rows and row stride of one phase plane
  T pf;              // flat pixels: (oh-1)*qw + ow
};

template <typename T>
FlatGeom<T> FlatOf(const opq_conv2d_f32_params& p) {
  FlatGeom<T> f;
  f.sh = p.stride_h;
  f.sw = p.stride_w;
  const T ph = T(p.oh - 1) * f.sh + T(p.kh - 1) * p.dilation_h + 1;  // padded extent read
  const T pw = T(p.ow - 1) * f.sw + T(p.kw - 1) * p.dilation_w + 1;
  f.qh = (ph + f.sh - 1) / f.sh;
  f.qw = (pw + f.sw - 1) / f.sw;
  f.pf = T(p.oh - 1) * f.qw + T(p.ow);
  return f;
}

// Phase (rh, rw), row t, column u holds padded element (rh + t*sh, rw + u*sw), zero outside the input.
void BuildFlatPlanes(const FlatGeom<size_t>& f, const opq_conv2d_f32_params& p, const float* x, float* out) {
  for (size_t rh = 0; rh < f.sh; ++rh) {
    for (size_t t = 0; t < f.qh; ++t) {
      const int64_t ih = int64_t(rh + t * f.sh) - p.pad_top;
      const bool row_in = ih >= 0 && ih < p.h;
      const float* src = row_in ? x + size_t(ih) * p.w : nullptr;
      for (size_t rw = 0; rw < f.sw; ++rw) {
        float* dst = out + ((rh * f.sw + rw) * f.qh + t) * f.qw;
        if (!row_in) {
          std::memset(dst, 0, f.qw * sizeof(float));
          continue;
        }
        // Columns u with iw = rw + u*sw - pad_left inside [0, w) are [ulo, uhi): no test per element.
        const int64_t sw = int64_t(f.sw), qw = int64_t(f.qw), off = int64_t(p.pad_left) - int64_t(rw);
        const int64_t ulo = std::min(qw, off > 0 ? (off + sw - 1) / sw : int64_t{0});
        const int64_t uhi =
            std::max(ulo, std::min(qw, int64_t(p.w) + off > 0 ? (int64_t(p.w) + off + sw - 1) / sw : int64_t{0}));
        for (int64_t u = 0; u < ulo; ++u) dst[u] = 0.0f;
        if (uhi > ulo) {  // only then does the first column read lie inside the row
          const float* s0 = src + (ulo * sw - off);
          for (int64_t u = ulo; u < uhi; ++u, s0 += sw) dst[u] = *s0;
        }
        for (int64_t u = uhi; u < qw; ++u) dst[u] = 0.0f;
      }
    }
  }
}

// The k loop of one block of nc flat output columns with B read in place (uk.gemm_indirect): the
// order of RunColumnBlock (k slices, then panels, then row tiles), so the same sums as packing.
// Every tile is full: tmp has mp rows of ldc >= the block's columns rounded to nr, the planes have
// nr floats of slack, and init has mp entries (zero past the group's m).
void RunFlatBlockIndirect(const F32Ukernels& uk, size_t k, size_t kcb, size_t mp, const float* apack, const float* b,
                          const size_t* koff, size_t nc, float* c, size_t ldc, const float* init, bool clamp, float lo,
                          float hi) {
  for (size_t k0 = 0; k0 < k; k0 += kcb) {
    const size_t kc = std::min(kcb, k - k0);
    const uint32_t flags = (k0 ? kF32Accumulate : 0) | ((k0 + kc == k && clamp) ? kF32Clamp : 0);
    for (size_t q0 = 0; q0 < nc; q0 += uk.nr)
      for (size_t i0 = 0; i0 < mp; i0 += uk.mr)
        uk.gemm_indirect(kc, apack + k0 * mp + i0 * kc, b + q0, koff + k0, c + i0 * ldc + q0, ldc,
                         k0 == 0 && init ? init + i0 : nullptr, flags, lo, hi);
  }
}

void RunFlat(const Conv2dF32Args& a, const F32Ukernels& uk) {
  const opq_conv2d_f32_params& p = *a.p;
  const size_t cg = p.c / p.group, mg = p.m / p.group, K = cg * p.kh * p.kw;
  const size_t P = size_t(p.oh) * p.ow, hw = size_t(p.h) * p.w;
  const FlatGeom<size_t> fg = FlatOf<size_t>(p);
  // floats of one channel's sh*sw phase planes (bounded by Conv2dF32Workspace's checks)
  const size_t rs = fg.qw, pf = fg.pf, plane_size = fg.sh * fg.sw * fg.qh * fg.qw, khw = size_t(p.kh) * p.kw;
  const size_t mr = uk.mr, nr = uk.nr, mp = RoundUp(mg, mr), pfp = RoundUp(pf, nr);
  const size_t kcb = f32::KcOf(K), ncb = f32::NcOf(kcb, pf, nr);
  const bool indirect = uk.gemm_indirect != nullptr;
  uintptr_t cur = reinterpret_cast<uintptr_t>(a.workspace);
  float* apack = Carve(&cur, mp * K);
  float* planes = Carve(&cur, cg * plane_size + nr);
  float* tmp = Carve(&cur, mp * pfp);
  float* init = Carve(&cur, mp);
  size_t* taps = reinterpret_cast<size_t*>(Carve(&cur, khw * (sizeof(size_t) / sizeof(float))));
  size_t* koff = reinterpret_cast<size_t*>(Carve(&cur, K * (sizeof(size_t) / sizeof(float))));
  float* bbase = Carve(&cur, 0);
  for (size_t kh = 0, t = 0; kh < size_t(p.kh); ++kh) {
    for (size_t kw = 0; kw < size_t(p.kw); ++kw, ++t) {
      const size_t r = kh * p.dilation_h, c = kw * p.dilation_w;
      taps[t] = (((r % fg.sh) * fg.sw + c % fg.sw) * fg.qh + r / fg.sh) * fg.qw + c / fg.sw;
    }
  }
  for (size_t kk = 0; kk < K; ++kk) koff[kk] = (kk / khw) * plane_size + taps[kk % khw];
  std::memset(planes + cg * plane_size, 0, nr * sizeof(float));  // read only into dropped columns
  const size_t bstride = RoundUp(kcb * ncb, 16);
  const size_t blocks = f32::DivUp(pf, ncb);
  for (size_t g = 0; g < size_t(p.group); ++g) {
    PackWeights(a.w + g * mg * K, mg, K, kcb, mr, mp, apack);
    const float* bias = a.bias ? a.bias + g * mg : nullptr;
    if (bias) {
      std::memcpy(init, bias, mg * sizeof(float));
      std::memset(init + mg, 0, (mp - mg) * sizeof(float));
    }
    for (size_t n = 0; n < size_t(p.n); ++n) {
      const float* x = a.x + (n * p.c + g * cg) * hw;
      for (size_t c = 0; c < cg; ++c) BuildFlatPlanes(fg, p, x + c * hw, planes + c * plane_size);
      auto block = [&](size_t blk, size_t thread) {
        const size_t j0 = blk * ncb, nc = std::min(ncb, pf - j0), ncp = RoundUp(nc, nr);
        if (indirect) {
          RunFlatBlockIndirect(uk, K, kcb, mp, apack, planes + j0, koff, nc, tmp + j0, pfp, bias ? init : nullptr,
                               a.clamp, p.act_min, p.act_max);
          return;
        }
        float* bpack = bbase + thread * bstride;
        f32::RunColumnBlock(
            uk, mg, K, kcb, mp, apack, bpack, nc,
            [&](size_t k0, size_t kc, float* dst) {
              PackFlatAny(p, planes, plane_size, taps, k0, kc, j0, ncp, pf, nr, dst);
            },
            tmp + j0, pfp, bias, false, a.clamp, p.act_min, p.act_max);
      };
      f32::ParallelForMacs(a.pool, uint64_t(mg) * K * pf, blocks, block);
      float* y = a.y + (n * p.m + g * mg) * P;
      for (size_t m = 0; m < mg; ++m)
        for (size_t oh = 0; oh < size_t(p.oh); ++oh)
          std::memcpy(y + m * P + oh * p.ow, tmp + m * pfp + oh * rs, p.ow * sizeof(float));
    }
  }
}

void RunGeneral(const Conv2dF32Args& a, const F32Ukernels& uk) {
  const opq_conv2d_f32_params& p = *a.p;
  const size_t cg = p.c / p.group, mg = p.m / p.group, K = cg * p.kh * p.kw;
  const size_t P = size_t(p.oh) * p.ow, hw = size_t(p.h) * p.w;
  const size_t mr = uk.mr, nr = uk.nr, mp = RoundUp(mg, mr);
  const size_t kcb = f32::KcOf(K), ncb = f32::NcOf(kcb, P, nr);
  uintptr_t cur = reinterpret_cast<uintptr_t>(a.workspace);
  float* apack = Carve(&cur, mp * K);
  float* bbase = Carve(&cur, 0);
  const size_t bstride = RoundUp(kcb * ncb, 16);
  const size_t blocks = f32::DivUp(P, ncb);
  for (size_t g = 0; g < size_t(p.group); ++g) {
    PackWeights(a.w + g * mg * K, mg, K, kcb, mr, mp, apack);
    const float* bias = a.bias ? a.bias + g * mg : nullptr;
    for (size_t n = 0; n < size_t(p.n); ++n) {
      const float* x = a.x + (n * p.c + g * cg) * hw;
      float* y = a.y + (n * p.m + g * mg) * P;
      // One task per block of output pixels, packing its im2col into its thread's workspace slice.
      auto block = [&](size_t blk, size_t thread) {
        float* bpack = bbase + thread * bstride;
        const size_t p0 = blk * ncb, nc = std::min(ncb, P - p0), ncp = RoundUp(nc, nr);
        f32::RunColumnBlock(
            uk, mg, K, kcb, mp, apack, bpack, nc,
            [&](size_t k0, size_t kc, float* dst) { PackIm2colAny(p, x, k0, kc, p0, ncp, nr, dst); }, y + p0, P, bias,
            false, a.clamp, p.act_min, p.act_max);
      };
      f32::ParallelForMacs(a.pool, uint64_t(mg) * K * P, blocks, block);
    }
  }
}

// Floats of scratch per depthwise thread: tap offsets, tap pointers, the padded plane.
// Narrow stride-1 depthwise outputs run a whole channel as one microkernel call over the flat
// padded plane (row stride rs, the rs - ow columns between rows computed and dropped): per-row
// calls of a dozen outputs would cost more in call and tail overhead than the extra columns.
bool DwFlat(const opq_conv2d_f32_params& p) { return p.stride_h == 1 && p.stride_w == 1 && p.ow < 64; }

// Floats of the flat output buffer: (oh - 1) * rs + ow, 0 when not flat.
uint64_t DwFlatFloats(const opq_conv2d_f32_params& p, uint64_t rs) {
  return DwFlat(p) ? uint64_t(p.oh - 1) * rs + uint64_t(p.ow) : 0;
}

size_t DwScratchFloats(const opq_conv2d_f32_params& p, const f32::PhasePlane& pp, bool in_place) {
  const size_t ntaps = size_t(p.kh) * p.kw;
  const size_t words = ntaps * 2 * (sizeof(void*) / sizeof(float) + 1) + 32;
  const size_t rs = in_place ? size_t(p.w) : pp.qw;
  return RoundUp(words + (in_place ? 0 : pp.sw * pp.ph * pp.qw) + 16 + size_t(DwFlatFloats(p, rs)), 16);
}

void RunDepthwise(const Conv2dF32Args& a, const F32Ukernels& uk) {
  const opq_conv2d_f32_params& p = *a.p;
  const size_t mg = p.m / p.group, ntaps = size_t(p.kh) * p.kw, hw = size_t(p.h) * p.w;
  const size_t ohw = size_t(p.oh) * p.ow;
  const bool in_place = DepthwiseInPlace(p);
  const f32::PhasePlane pp =
      f32::PlaneOf(p.oh, p.ow, p.kh, p.kw, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left);
  const size_t rs = in_place ? size_t(p.w) : pp.qw;  // row stride of what the taps read
  const size_t per_thread = DwScratchFloats(p, pp, in_place);
  uintptr_t start = (reinterpret_cast<uintptr_t>(a.workspace) + 63) & ~uintptr_t{63};
  const size_t threads = a.pool ? PoolThreads(a.pool) : 1;
  for (size_t t = 0; t < threads; ++t) {
    size_t* offs = reinterpret_cast<size_t*>(start + t * per_thread * sizeof(float));
    for (size_t kh = 0, i = 0; kh < size_t(p.kh); ++kh) {
      for (size_t kw = 0; kw < size_t(p.kw); ++kw, ++i) {
        const size_t col = kw * p.dilation_w;
        offs[i] =
            in_place ? kh * p.dilation_h * rs + col : ((col % pp.sw) * pp.ph + kh * p.dilation_h) * pp.qw + col / pp.sw;
      }
    }
  }
  const uint32_t flags = a.clamp ? kF32Clamp : 0;
  // One task per input channel (and image): build its plane, then its mg output channels.
  auto channel = [&](size_t task, size_t thread) {
    uintptr_t cur = start + thread * per_thread * sizeof(float);
    size_t* offs = reinterpret_cast<size_t*>(cur);
    cur += ntaps * sizeof(size_t);
    cur = (cur + 15) & ~uintptr_t{15};
    const float** taps = reinterpret_cast<const float**>(cur);
    cur += ntaps * sizeof(float*);
    float* plane = in_place ? nullptr : Carve(&cur, pp.sw * pp.ph * pp.qw);
    float* flat = Carve(&cur, 0);
    const size_t n = task / p.c, ci = task % p.c;
    const float* xc = a.x + (n * p.c + ci) * hw;
    const float* src = xc;
    if (!in_place) {
      f32::BuildPhasePlane(pp, xc, p.h, p.w, 0.0f, plane);
      src = plane;
    }
    for (size_t mm = 0; mm < mg; ++mm) {
      const size_t m = ci * mg + mm;
      const float* w = a.w + m * ntaps;
      const float bias = a.bias ? a.bias[m] : 0.0f;
      float* y = a.y + (n * p.m + m) * ohw;
      if (DwFlat(p)) {
        for (size_t t = 0; t < ntaps; ++t) taps[t] = src + offs[t];
        uk.dw_row((p.oh - 1) * rs + p.ow, ntaps, taps, w, bias, flags, p.act_min, p.act_max, flat);
        for (size_t oh = 0; oh < size_t(p.oh); ++oh) std::memcpy(y + oh * p.ow, flat + oh * rs, p.ow * sizeof(float));
        continue;
      }
      for (size_t oh = 0; oh < size_t(p.oh); ++oh) {
        const float* row = src + oh * p.stride_h * rs;
        for (size_t t = 0; t < ntaps; ++t) taps[t] = row + offs[t];
        uk.dw_row(p.ow, ntaps, taps, w, bias, flags, p.act_min, p.act_max, y + oh * p.ow);
      }
    }
  };
  const size_t tasks = size_t(p.n) * p.c;
  f32::ParallelForMacs(a.pool, uint64_t(p.n) * p.m * ntaps * ohw, tasks, channel);
}

// One output pixel per image (the 1x1 convolutions of squeeze-excitation blocks, on 1x1 planes):
// the pixel's im2col column (K values, zero where padded) dotted with each output channel's weights
// in place. Packing the weights and a GEMM panel of nr pixels for one pixel cost 10-20x more.
bool OnePixel(const opq_conv2d_f32_params& p) { return !IsDepthwise(p) && p.oh == 1 && p.ow == 1; }

// Eight partial sums, then a fixed tree: the compiler vectorizes the lanes without reassociating.
float Dot(const float* w, const float* b, size_t k) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= k; i += 8)
    for (size_t l = 0; l < 8; ++l) acc[l] += w[i + l] * b[i + l];
  float tail = 0.0f;
  for (; i < k; ++i) tail += w[i] * b[i];
  return (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))) + tail;
}

void RunOnePixel(const Conv2dF32Args& a) {
  const opq_conv2d_f32_params& p = *a.p;
  const size_t cg = p.c / p.group, mg = p.m / p.group, khw = size_t(p.kh) * p.kw, K = cg * khw;
  const size_t hw = size_t(p.h) * p.w;
  float* col = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(a.workspace) + 63) & ~uintptr_t{63});
  for (size_t n = 0; n < size_t(p.n); ++n)
    for (size_t g = 0; g < size_t(p.group); ++g) {
      const float* x = a.x + (n * p.c + g * cg) * hw;
      for (size_t c = 0; c < cg; ++c)
        for (size_t kh = 0; kh < size_t(p.kh); ++kh) {
          const int64_t ih = int64_t(kh) * p.dilation_h - p.pad_top;
          for (size_t kw = 0; kw < size_t(p.kw); ++kw) {
            const int64_t iw = int64_t(kw) * p.dilation_w - p.pad_left;
            const bool in = ih >= 0 && ih < p.h && iw >= 0 && iw < p.w;
            col[c * khw + kh * p.kw + kw] = in ? x[c * hw + size_t(ih) * p.w + size_t(iw)] : 0.0f;
          }
        }
      for (size_t mm = 0; mm < mg; ++mm) {
        const size_t m = g * mg + mm;
        float v = Dot(a.w + m * K, col, K) + (a.bias ? a.bias[m] : 0.0f);
        if (a.clamp) v = std::min(std::max(v, p.act_min), p.act_max);
        a.y[n * p.m + m] = v;
      }
    }
}

// a*b with overflow check against `limit`.
bool MulTo(uint64_t a, uint64_t b, uint64_t limit, uint64_t* out) {
  if (a != 0 && b > limit / a) return false;
  *out = a * b;
  return *out <= limit;
}

}  // namespace

size_t Conv2dF32Workspace(const opq_conv2d_f32_params& p, const F32Ukernels& uk, size_t threads) {
  const size_t kNone = std::numeric_limits<size_t>::max();
  // At most 2^30 floats of scratch (and half the address space on wasm32): more is a malformed layer.
  const uint64_t limit = std::min<uint64_t>(uint64_t{1} << 30, std::numeric_limits<size_t>::max() / 8);
  if (threads == 0) threads = 1;
  uint64_t floats = 0;
  if (IsDepthwise(p)) {
    const uint64_t ph = uint64_t(p.oh - 1) * p.stride_h + uint64_t(p.kh - 1) * p.dilation_h + 1;
    const uint64_t pw = uint64_t(p.ow - 1) * p.stride_w + uint64_t(p.kw - 1) * p.dilation_w + 1;
    const uint64_t qw = (pw + p.stride_w - 1) / p.stride_w;
    uint64_t plane = 0, t = 0;
    if (!DepthwiseInPlace(p)) {
      if (!MulTo(ph, qw, limit, &t) || !MulTo(t, uint64_t(p.stride_w), limit, &plane)) return kNone;
    }
    const uint64_t ntaps = uint64_t(p.kh) * p.kw;
    const uint64_t rs = DepthwiseInPlace(p) ? uint64_t(p.w) : qw;
    uint64_t flat = 0;
    if (DwFlat(p) && !MulTo(uint64_t(p.oh), rs, limit, &flat)) return kNone;
    const uint64_t per = RoundUp(ntaps * 2 * (sizeof(void*) / sizeof(float) + 1) + 32 + plane + 16 + flat, 16);
    if (!MulTo(per, threads, limit, &floats)) return kNone;
    floats += 16;
  } else if (OnePixel(p)) {
    floats = uint64_t(p.c / p.group) * p.kh * p.kw + 16;  // the im2col column, 64-byte aligned
  } else {
    const uint64_t K = uint64_t(p.c / p.group) * p.kh * p.kw;
    const bool flat = GeneralFlat(p, uk);
    // Flat mode: P counts the flat pixels, plus the padded planes (and nr of slack), the scratch
    // output (mp rows of the flat pixels rounded to nr), the padded bias and the tap offsets.
    uint64_t P = uint64_t(p.oh) * p.ow, extra = 0;
    if (flat) {
      const FlatGeom<uint64_t> f = FlatOf<uint64_t>(p);
      uint64_t planes = 0, t = 0, u = 0, out = 0;
      P = f.pf;
      const uint64_t words = sizeof(size_t) / sizeof(float);
      if (!MulTo(f.qh * f.sh, f.qw * f.sw, limit, &t) || !MulTo(t, uint64_t(p.c / p.group), limit, &planes) ||
          !MulTo(RoundUp(p.m / p.group, uk.mr), RoundUp(P, uk.nr), limit, &out) ||
          !MulTo(uint64_t(p.kh), uint64_t(p.kw), limit, &u))
        return kNone;
      extra = planes + uk.nr + out + RoundUp(p.m / p.group, uk.mr) + (u + K) * words + 6 * 16;
    }
    const uint64_t kc = f32::KcOf(K), nc = f32::NcOf(kc, P, uk.nr);
    const uint64_t mp = RoundUp(p.m / p.group, uk.mr);
    uint64_t a = 0, b = 0;
    if (!MulTo(mp, K, limit, &a) || !MulTo(RoundUp(kc * nc, 16), threads, limit, &b)) return kNone;
    floats = a + b + 64 + extra;
  }
  if (floats > limit) return kNone;
  return size_t(floats) * sizeof(float);
}

void Conv2dF32Run(const Conv2dF32Args& a, const F32Ukernels& uk) {
  const opq_conv2d_f32_params& p = *a.p;
  const size_t cg = p.c / p.group;
  if (cg * p.kh * p.kw == 0) {
    // No input channels: the output is the (clamped) bias.
    const size_t ohw = size_t(p.oh) * p.ow;
    for (size_t n = 0; n < size_t(p.n); ++n)
      for (size_t m = 0; m < size_t(p.m); ++m) {
        float v = a.bias ? a.bias[m] : 0.0f;
        if (a.clamp) v = std::min(std::max(v, p.act_min), p.act_max);
        std::fill(a.y + (n * p.m + m) * ohw, a.y + (n * p.m + m + 1) * ohw, v);
      }
    return;
  }
  if (IsDepthwise(p))
    RunDepthwise(a, uk);
  else if (OnePixel(p))
    RunOnePixel(a);
  else if (GeneralFlat(p, uk))
    RunFlat(a, uk);
  else
    RunGeneral(a, uk);
}

}  // namespace opq
