#include "qpool/qpool.h"

namespace opq {

size_t PoolOutputSize(size_t in, size_t kernel, size_t stride, size_t pad_begin, size_t pad_end, size_t dilation,
                      bool ceil_mode) {
  if (kernel == 0 || stride == 0 || dilation == 0) return 0;
  const size_t eff = (kernel - 1) * dilation + 1;
  const size_t padded = in + pad_begin + pad_end;
  if (padded < eff) return 0;
  const size_t num = padded - eff;
  size_t out = ceil_mode ? (num + stride - 1) / stride + 1 : num / stride + 1;
  // With ceil_mode, a last window that starts in the end padding is dropped (onnxruntime, PyTorch).
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

void MaxPoolRowScalar(const PoolGeom& g, const uint8_t* plane, uint8_t flip, size_t oy, size_t ox0, size_t ox1,
                      uint8_t* yrow) {
  size_t ky0, ky1;
  ValidTaps(static_cast<int64_t>(oy * g.sh) - static_cast<int64_t>(g.pt), g.kh, g.dh, g.in_h, &ky0, &ky1);
  const int64_t iy0 = static_cast<int64_t>(oy * g.sh) - static_cast<int64_t>(g.pt);
  for (size_t ox = ox0; ox < ox1; ++ox) {
    const int64_t ix0 = static_cast<int64_t>(ox * g.sw) - static_cast<int64_t>(g.pl);
    size_t kx0 = 0, kx1 = g.kw;
    // Interior windows need no clipping (ValidTaps divides: it cost mnist-8's 14-wide rows, which
    // never reach the SIMD paths, 20 ns an output).
    if (ix0 < 0 || static_cast<size_t>(ix0) + (g.kw - 1) * g.dw >= g.in_w)
      ValidTaps(ix0, g.kw, g.dw, g.in_w, &kx0, &kx1);
    uint8_t m = 0;  // the flipped type minimum
    for (size_t ky = ky0; ky < ky1; ++ky) {
      const uint8_t* row = plane + static_cast<size_t>(iy0 + static_cast<int64_t>(ky * g.dh)) * g.in_w;
      for (size_t kx = kx0; kx < kx1; ++kx) {
        const uint8_t v = row[static_cast<size_t>(ix0 + static_cast<int64_t>(kx * g.dw))] ^ flip;
        m = v > m ? v : m;
      }
    }
    yrow[ox] = m ^ flip;
  }
}

void MaxPoolRef(const PoolGeom& g, const uint8_t* x, bool is_signed, uint8_t* y) {
  const uint8_t flip = is_signed ? 0x80 : 0;
  for (size_t p = 0; p < g.planes; ++p) {
    const uint8_t* plane = x + p * g.in_h * g.in_w;
    for (size_t oy = 0; oy < g.out_h; ++oy)
      MaxPoolRowScalar(g, plane, flip, oy, 0, g.out_w, y + (p * g.out_h + oy) * g.out_w);
  }
}

void AvgPoolRun(const PoolGeom& g, const uint8_t* x, bool is_signed, int32_t zx, const opq_requant& rq,
                RequantRowFn row, uint8_t* y) {
  // The rounded averages of up to 256 outputs of a row, then one requantization call for them.
  int32_t avg[256];
  for (size_t p = 0; p < g.planes; ++p) {
    const uint8_t* plane = x + p * g.in_h * g.in_w;
    for (size_t oy = 0; oy < g.out_h; ++oy) {
      const int64_t iy0 = static_cast<int64_t>(oy * g.sh) - static_cast<int64_t>(g.pt);
      size_t ky0, ky1;
      ValidTaps(iy0, g.kh, g.dh, g.in_h, &ky0, &ky1);
      size_t cy = ky1 - ky0;
      if (g.count_include_pad) {  // taps inside the padded input, never the extra ceil_mode columns
        size_t a, b;
        ValidTaps(iy0 + static_cast<int64_t>(g.pt), g.kh, g.dh, g.in_h + g.pt + g.pb, &a, &b);
        cy = b - a;
      }
      for (size_t ox0 = 0; ox0 < g.out_w; ox0 += 256) {
        const size_t m = g.out_w - ox0 < 256 ? g.out_w - ox0 : 256;
        for (size_t j = 0; j < m; ++j) {
          const int64_t ix0 = static_cast<int64_t>((ox0 + j) * g.sw) - static_cast<int64_t>(g.pl);
          size_t kx0, kx1;
          ValidTaps(ix0, g.kw, g.dw, g.in_w, &kx0, &kx1);
          size_t cx = kx1 - kx0;
          if (g.count_include_pad) {
            size_t a, b;
            ValidTaps(ix0 + static_cast<int64_t>(g.pl), g.kw, g.dw, g.in_w + g.pl + g.pr, &a, &b);
            cx = b - a;
          }
          int32_t acc = 0;
          for (size_t ky = ky0; ky < ky1; ++ky) {
            const uint8_t* r = plane + static_cast<size_t>(iy0 + static_cast<int64_t>(ky * g.dh)) * g.in_w;
            for (size_t kx = kx0; kx < kx1; ++kx) {
              const uint8_t v = r[static_cast<size_t>(ix0 + static_cast<int64_t>(kx * g.dw))];
              acc += (is_signed ? static_cast<int32_t>(static_cast<int8_t>(v)) : static_cast<int32_t>(v)) - zx;
            }
          }
          avg[j] = static_cast<int32_t>(RoundingAverage(acc, static_cast<int64_t>(cy * cx)));
        }
        row(avg, nullptr, m, rq, 0, y + (p * g.out_h + oy) * g.out_w + ox0);
      }
    }
  }
}

void AvgPoolRef(const PoolGeom& g, const uint8_t* x, bool is_signed, int32_t zx, const opq_requant& rq, uint8_t* y) {
  AvgPoolRun(g, x, is_signed, zx, rq, RequantRowRef, y);
}

void GlobalMaxPoolRef(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, uint8_t* y) {
  const uint8_t flip = is_signed ? 0x80 : 0;
  for (size_t c = 0; c < channels; ++c) {
    uint8_t m = 0;
    const uint8_t* p = x + c * spatial;
    for (size_t i = 0; i < spatial; ++i) {
      const uint8_t v = p[i] ^ flip;
      m = v > m ? v : m;
    }
    y[c] = m ^ flip;
  }
}

void GlobalAvgPoolRef(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, int32_t zx,
                      const opq_requant& rq, uint8_t* y) {
  for (size_t c = 0; c < channels; ++c) {
    int64_t acc = 0;
    const uint8_t* p = x + c * spatial;
    for (size_t i = 0; i < spatial; ++i)
      acc += is_signed ? static_cast<int64_t>(static_cast<int8_t>(p[i])) : static_cast<int64_t>(p[i]);
    acc -= static_cast<int64_t>(zx) * static_cast<int64_t>(spatial);
    y[c] = static_cast<uint8_t>(
        RequantizeOne(static_cast<int32_t>(RoundingAverage(acc, static_cast<int64_t>(spatial))), rq, 0));
  }
}

}  // namespace opq
