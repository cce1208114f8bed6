// The ConvTranspose driver shared by every variant: geometry, workspace layout, weight packing,
// the per-group GEMM over chunks of input rows, col2im add, bias and per-channel requantization.
#include <cstring>

#include "qconvtranspose/qconvtranspose.h"

namespace opq {
namespace {

constexpr size_t kMaxDim = size_t{1} << 28;
constexpr uint64_t kMaxElements = (uint64_t{1} << 31) - 1;
// Target bytes of one chunk's packed input and columns (cache-sized).
constexpr size_t kChunkBytes = size_t{1} << 18;
// 33025 * 255 * 255 < 2^31: the accumulation of every output is exact in int32.
constexpr uint64_t kMaxReduction = 33025;

size_t Align64(size_t v) { return (v + 63) & ~size_t{63}; }

struct Layout {
  size_t a, x, c, acc, total;
};

Layout MakeLayout(const CtGeom& g) {
  Layout l;
  const size_t np = g.rows * g.w;
  l.a = 0;
  l.x = Align64(l.a + g.groups * g.m * g.kq * 4);
  l.c = Align64(l.x + g.kq * np * 4);
  l.acc = Align64(l.c + g.m * np * 4);
  l.total = Align64(l.acc + g.cout_g * g.win * g.ow * 4);
  return l;
}

// Channel blocks per chunk: one (this thread) unless the chunk's GEMM is large enough to gain.
size_t TasksFor(const CtGeom& g, size_t np, ThreadPool* pool) {
  const size_t threads = PoolThreads(pool);
  if (threads <= 1 || g.cout_g < 2 || uint64_t(g.m) * np * g.kq < (uint64_t{1} << 18)) return 1;
  const size_t t = threads * 2;
  return t < g.cout_g ? t : g.cout_g;
}

}  // namespace

const char* MakeCtGeom(const opq_convtranspose2d_shape& s, CtGeom* g) {
  const int32_t f[] = {s.batch,    s.in_channels, s.in_height,  s.in_width,  s.out_channels,     s.kernel_h,
                       s.kernel_w, s.groups,      s.stride_h,   s.stride_w,  s.dilation_h,       s.dilation_w,
                       s.pad_top,  s.pad_left,    s.pad_bottom, s.pad_right, s.output_padding_h, s.output_padding_w};
  for (int32_t v : f) {
    if (v < 0) return "convtranspose: every shape field must be >= 0 (negative pads or output_padding are invalid)";
    if (static_cast<size_t>(v) > kMaxDim) return "convtranspose: every shape field must be at most 2^28";
  }
  if (s.in_channels == 0 || s.out_channels == 0 || s.in_height == 0 || s.in_width == 0)
    return "convtranspose: in_channels, out_channels, in_height and in_width must be >= 1";
  if (s.kernel_h == 0 || s.kernel_w == 0) return "convtranspose: kernel_h and kernel_w must be >= 1";
  if (s.stride_h == 0 || s.stride_w == 0) return "convtranspose: stride_h and stride_w must be >= 1";
  if (s.dilation_h == 0 || s.dilation_w == 0) return "convtranspose: dilation_h and dilation_w must be >= 1";
  if (s.groups == 0) return "convtranspose: groups must be >= 1";
  if (s.in_channels % s.groups != 0 || s.out_channels % s.groups != 0)
    return "convtranspose: in_channels and out_channels must be divisible by groups";
  if (s.output_padding_h >= s.stride_h && s.output_padding_h >= s.dilation_h)
    return "convtranspose: output_padding_h must be smaller than stride_h or dilation_h";
  if (s.output_padding_w >= s.stride_w && s.output_padding_w >= s.dilation_w)
    return "convtranspose: output_padding_w must be smaller than stride_w or dilation_w";
  CtGeom r;
  r.n = s.batch;
  r.cin = s.in_channels;
  r.h = s.in_height;
  r.w = s.in_width;
  r.cout = s.out_channels;
  r.kh = s.kernel_h;
  r.kw = s.kernel_w;
  r.groups = s.groups;
  r.sh = s.stride_h;
  r.sw = s.stride_w;
  r.dh = s.dilation_h;
  r.dw = s.dilation_w;
  r.pt = s.pad_top;
  r.pl = s.pad_left;
  r.pb = s.pad_bottom;
  r.pr = s.pad_right;
  r.oph = s.output_padding_h;
  r.opw = s.output_padding_w;
  // Sizes in uint64: each term is at most 2^28 * 2^28.
  const uint64_t full_h = uint64_t(r.h - 1) * r.sh + uint64_t(r.kh - 1) * r.dh + 1 + r.oph;
  const uint64_t full_w = uint64_t(r.w - 1) * r.sw + uint64_t(r.kw - 1) * r.dw + 1 + r.opw;
  if (full_h <= uint64_t(r.pt) + r.pb) return "convtranspose: pad_top + pad_bottom leave no output row";
  if (full_w <= uint64_t(r.pl) + r.pr) return "convtranspose: pad_left + pad_right leave no output column";
  const uint64_t oh = full_h - r.pt - r.pb, ow = full_w - r.pl - r.pr;
  if (oh > kMaxDim || ow > kMaxDim || full_h > kMaxElements || full_w > kMaxElements)
    return "convtranspose: the output size must be at most 2^28";
  r.oh = static_cast<size_t>(oh);
  r.ow = static_cast<size_t>(ow);
  r.cin_g = r.cin / r.groups;
  r.cout_g = r.cout / r.groups;
  if (uint64_t(r.cin_g) * r.kh * r.kw > kMaxReduction)
    return "convtranspose: in_channels/groups * kernel_h * kernel_w must be at most 33025 (exact int32 accumulation)";
  const uint64_t in_count = uint64_t(r.n) * r.cin * r.h * r.w;
  const uint64_t out_plane = oh * ow;
  const uint64_t w_count = uint64_t(r.cin) * r.cout_g * r.kh * r.kw;
  if (uint64_t(r.cin) * r.h > kMaxElements || uint64_t(r.cin) * r.h * r.w > kMaxElements || in_count > kMaxElements)
    return "convtranspose: the input has more than 2^31 - 1 elements";
  if (out_plane > kMaxElements || out_plane * r.cout > kMaxElements || out_plane * r.cout * r.n > kMaxElements)
    return "convtranspose: the output has more than 2^31 - 1 elements";
  if (w_count > kMaxElements) return "convtranspose: the weights have more than 2^31 - 1 elements";
  r.kq = (r.cin_g + 1) / 2;
  r.m = r.cout_g * r.kh * r.kw;
  const uint64_t per_row = (uint64_t(r.kq) + r.m) * r.w * 4;
  const uint64_t rows = kChunkBytes / per_row;
  r.rows = rows < 1 ? 1 : rows > r.h ? r.h : static_cast<size_t>(rows);
  // The accumulator holds a window of output rows: those a chunk of input rows can still reach,
  // plus the rows it completes (see CtRun). Bounded by the output height.
  const uint64_t win = (uint64_t(r.rows) + 1) * r.sh + uint64_t(r.kh) * r.dh + r.oph + 1;
  r.win = win < oh ? static_cast<size_t>(win) : r.oh;
  // Workspace sections must fit too (2^31 - 1 bytes).
  const uint64_t ws = uint64_t(r.groups) * r.m * r.kq * 4 + uint64_t(r.kq + r.m) * r.rows * r.w * 4 +
                      uint64_t(r.cout_g) * r.win * ow * 4 + 4 * 64;
  if (ws > kMaxElements) return "convtranspose: the workspace would pass 2^31 - 1 bytes";
  *g = r;
  return nullptr;
}

size_t CtWorkspaceSize(const CtGeom& g) { return MakeLayout(g).total; }

void CtRun(const CtGeom& g, const CtKernels& k, const uint8_t* x, bool x_signed, int32_t zx, const int8_t* w,
           const int32_t* wzp, size_t wzp_count, const int32_t* bias, const opq_requant& rq, uint8_t* y, void* ws,
           ThreadPool* pool) {
  const Layout l = MakeLayout(g);
  uint8_t* base = static_cast<uint8_t*>(ws);
  int32_t* A = reinterpret_cast<int32_t*>(base + l.a);
  int32_t* X = reinterpret_cast<int32_t*>(base + l.x);
  int32_t* C = reinterpret_cast<int32_t*>(base + l.c);
  int32_t* acc = reinterpret_cast<int32_t*>(base + l.acc);
  const size_t taps = g.kh * g.kw, hw = g.h * g.w;
  // A[g][i][q] = (w[ci0][i] - zw, w[ci0 + 1][i] - zw) as an int16 pair, ci0 = g*cin_g + 2q: W^T per
  // group, the weight zero point of the row's output channel subtracted (w is [cin][cout_g*kh*kw]).
  for (size_t gr = 0; gr < g.groups; ++gr)
    for (size_t i = 0; i < g.m; ++i) {
      const size_t oc = gr * g.cout_g + i / taps;
      const int32_t zw = wzp[wzp_count == 1 ? 0 : oc];
      for (size_t q = 0; q < g.kq; ++q) {
        const size_t c0 = 2 * q, c1 = 2 * q + 1;
        const int32_t v0 = int32_t(w[(gr * g.cin_g + c0) * g.m + i]) - zw;
        const int32_t v1 = c1 < g.cin_g ? int32_t(w[(gr * g.cin_g + c1) * g.m + i]) - zw : 0;
        A[(gr * g.m + i) * g.kq + q] =
            static_cast<int32_t>((static_cast<uint32_t>(v0) & 0xFFFFu) | (static_cast<uint32_t>(v1) << 16));
      }
    }
  const size_t win = g.win, ow = g.ow;
  for (size_t n = 0; n < g.n; ++n)
    for (size_t gr = 0; gr < g.groups; ++gr) {
      const int32_t* bias_g = bias ? bias + gr * g.cout_g : nullptr;
      // acc row (j, oh) is at acc + (j*win + oh - base)*ow for output rows [base, inited): rows below
      // base are requantized, rows from inited on not yet touched (initialized to the bias on demand).
      size_t base = 0, inited = 0;
      const uint8_t* xg = x + (n * g.cin + gr * g.cin_g) * hw;
      for (size_t h0 = 0; h0 < g.h; h0 += g.rows) {
        const size_t r = g.rows < g.h - h0 ? g.rows : g.h - h0;
        const size_t np = r * g.w;
        // X[q][p]: the int16 pair (x[2q][p] - zx, x[2q + 1][p] - zx) of the chunk's pixels.
        for (size_t q = 0; q < g.kq; ++q) {
          const uint8_t* x0 = xg + (2 * q) * hw + h0 * g.w;
          const bool has1 = 2 * q + 1 < g.cin_g;
          const uint8_t* x1 = x0 + hw;
          int32_t* d = X + q * np;
          for (size_t p = 0; p < np; ++p) {
            const int32_t v0 = (x_signed ? int32_t(int8_t(x0[p])) : int32_t(x0[p])) - zx;
            const int32_t v1 = has1 ? (x_signed ? int32_t(int8_t(x1[p])) : int32_t(x1[p])) - zx : 0;
            d[p] = static_cast<int32_t>((static_cast<uint32_t>(v0) & 0xFFFFu) | (static_cast<uint32_t>(v1) << 16));
          }
        }
        // Rows this chunk completes: no later input row (ih >= h0 + r) reaches an output row below
        // (h0 + r)*sh - pt. Rows it may touch: up to (h0 + r - 1)*sh + (kh - 1)*dh - pt.
        const int64_t fin_s = h0 + r == g.h ? int64_t(g.oh) : int64_t((h0 + r) * g.sh) - int64_t(g.pt);
        const size_t fin = fin_s <= 0 ? 0 : fin_s >= int64_t(g.oh) ? g.oh : size_t(fin_s);
        const int64_t top = int64_t((h0 + r - 1) * g.sh + (g.kh - 1) * g.dh) - int64_t(g.pt);
        size_t need = top < 0 ? 0 : top + 1 >= int64_t(g.oh) ? g.oh : size_t(top + 1);
        if (need < fin) need = fin;
        if (need < inited) need = inited;
        // Output channels [j0, j1) of the group: their GEMM rows, col2im add, requantization and
        // window shift touch nothing another channel block does, so blocks run on any thread.
        const size_t tasks = TasksFor(g, np, pool);
        auto block = [&](size_t task, size_t /*thread*/) {
          const size_t j0 = task * g.cout_g / tasks, j1 = (task + 1) * g.cout_g / tasks;
          if (j0 >= j1) return;
          for (size_t j = j0; j < j1 && need > inited; ++j) {
            const int32_t b = bias_g ? bias_g[j] : 0;
            int32_t* row = acc + (j * win + (inited - base)) * ow;
            for (size_t p = 0, e = (need - inited) * ow; p < e; ++p) row[p] = b;
          }
          const size_t i0 = j0 * taps, i1 = j1 * taps;
          k.gemm(i1 - i0, np, g.kq, A + (gr * g.m + i0) * g.kq, X, np, C + i0 * np, np);
          // col2im add: column row i = (j, ki, kj) of input row ih lands on output row
          // oh = ih*sh + ki*dh - pt, columns ow = iw*sw + kj*dw - pl.
          for (size_t i = i0; i < i1; ++i) {
            const size_t j = i / taps, t = i % taps, ki = t / g.kw, kj = t % g.kw;
            const int64_t off = int64_t(kj * g.dw) - int64_t(g.pl);
            size_t iw0 = 0;
            if (off < 0) iw0 = static_cast<size_t>((-off + int64_t(g.sw) - 1) / int64_t(g.sw));
            size_t iw1 = 0;
            const int64_t room = int64_t(g.ow) - off;  // iw*sw < room
            if (room > 0) iw1 = static_cast<size_t>((room + int64_t(g.sw) - 1) / int64_t(g.sw));
            if (iw1 > g.w) iw1 = g.w;
            if (iw0 >= iw1) continue;
            const size_t cnt = iw1 - iw0;
            const size_t ow0 = static_cast<size_t>(int64_t(iw0 * g.sw) + off);
            for (size_t rr = 0; rr < r; ++rr) {
              const int64_t oh = int64_t((h0 + rr) * g.sh + ki * g.dh) - int64_t(g.pt);
              if (oh < 0 || oh >= int64_t(g.oh)) continue;
              k.scatter_add(C + i * np + rr * g.w + iw0, cnt, g.sw, acc + (j * win + (size_t(oh) - base)) * ow + ow0);
            }
          }
          if (fin > base)
            for (size_t j = j0; j < j1; ++j) {
              const size_t oc = gr * g.cout_g + j;
              const opq_requant rc = RequantChannel(rq, oc);
              int32_t* w0 = acc + j * win * ow;
              k.requant(w0, nullptr, (fin - base) * ow, rc, 0, y + ((n * g.cout + oc) * g.oh + base) * ow);
              if (need > fin) std::memmove(w0, w0 + (fin - base) * ow, (need - fin) * ow * sizeof(int32_t));
            }
        };
        if (tasks <= 1)
          block(0, 0);
        else
          ParallelFor(pool, tasks, block);
        inited = need;
        if (fin > base) base = fin;
      }
    }
}

}  // namespace opq
