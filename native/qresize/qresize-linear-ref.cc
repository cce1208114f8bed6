#include "qresize/qresize-linear.h"

namespace opq {

void ResizeHRowRef(const uint8_t* row, const ResizeTap* taps, const int16_t* wpairs, size_t n, bool is_signed,
                   int32_t zx, int32_t* h) {
  (void)wpairs;
  for (size_t j = 0; j < n; ++j) {
    const int32_t a = (is_signed ? static_cast<int32_t>(static_cast<int8_t>(row[taps[j].i0])) : row[taps[j].i0]) - zx;
    const int32_t b = (is_signed ? static_cast<int32_t>(static_cast<int8_t>(row[taps[j].i1])) : row[taps[j].i1]) - zx;
    h[j] = (kResizeOne - taps[j].weight) * a + taps[j].weight * b;
  }
}

void ResizeVRowRef(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq, int32_t* acc,
                   uint8_t* y) {
  for (size_t j = 0; j < n; ++j) {
    acc[j] = (kResizeOne - wy) * h0[j] + wy * h1[j];
    y[j] = static_cast<uint8_t>(RequantizeOne(acc[j], rq, 0));
  }
}

void ResizeLinearRun(size_t nc, size_t in_h, size_t in_w, size_t out_h, size_t out_w, const ResizeTap* y_taps,
                     const ResizeTap* x_taps, const uint8_t* x, bool is_signed, int32_t zx, const opq_requant& rq,
                     ResizeHRowFn hrow, ResizeVRowFn vrow, uint8_t* y) {
  int32_t buf[2][kResizeChunk];
  int32_t acc[kResizeChunk];
  int16_t wpairs[2 * kResizeChunk];
  for (size_t p = 0; p < nc; ++p) {
    const uint8_t* plane = x + p * in_h * in_w;
    uint8_t* out = y + p * out_h * out_w;
    for (size_t c0 = 0; c0 < out_w; c0 += kResizeChunk) {
      const size_t n = out_w - c0 < kResizeChunk ? out_w - c0 : kResizeChunk;
      for (size_t j = 0; j < n; ++j) {
        wpairs[2 * j] = static_cast<int16_t>(kResizeOne - x_taps[c0 + j].weight);
        wpairs[2 * j + 1] = static_cast<int16_t>(x_taps[c0 + j].weight);
      }
      int32_t have[2] = {-1, -1};  // input row held by buf[0], buf[1]
      for (size_t oy = 0; oy < out_h; ++oy) {
        const ResizeTap& t = y_taps[oy];
        const int32_t want[2] = {t.i0, t.weight == 0 ? t.i0 : t.i1};
        int32_t* rows[2];
        for (int k = 0; k < 2; ++k) {
          if (have[0] == want[k]) {
            rows[k] = buf[0];
          } else if (have[1] == want[k]) {
            rows[k] = buf[1];
          } else {
            // Refill the slot the other row does not need.
            const int slot = (k == 1 && rows[0] == buf[0])
                                 ? 1
                                 : (k == 1 ? 0 : (have[1] == want[1] ? 0 : (have[0] == want[1] ? 1 : 0)));
            hrow(plane + static_cast<size_t>(want[k]) * in_w, x_taps + c0, wpairs, n, is_signed, zx, buf[slot]);
            have[slot] = want[k];
            rows[k] = buf[slot];
          }
        }
        vrow(rows[0], rows[1], t.weight, n, rq, acc, out + oy * out_w + c0);
      }
    }
  }
}

}  // namespace opq
