// ASan+UBSan driver for every entry of the C ABI (cmake -DOPQ_SANITIZE=ON; see CMakeLists.txt). Calls the
// entry points with seeded random valid arguments (exact-size buffers, so any overread is an ASan
// error) and with boundary ones (empty and tiny buffers, huge dimensions, bad leading dimensions,
// NULL pointers), on every available variant and with and without a thread pool. A refusal is
// fine; a sanitizer report or a crash is the failure. Usage: opq_sanitize_driver [iterations] [seed]
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <vector>

#include "onnxptq.h"
#include "opq_conv.h"
#include "opq_convtranspose.h"
#include "opq_f32.h"
#include "opq_qbinary.h"
#include "opq_qlayout.h"
#include "opq_qpool.h"
#include "opq_qbinary16.h"
#include "opq_qconv16.h"
#include "opq_qconvtranspose16.h"
#include "opq_qreduce.h"
#include "opq_qlayernorm.h"
#include "opq_qsoftmax.h"
#include "opq_qunary.h"

namespace {

std::mt19937_64 rng;

size_t Dim(size_t hi) { return std::uniform_int_distribution<size_t>(0, hi)(rng); }
int32_t Int(int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); }
bool Coin() { return Dim(1) == 1; }

// One of: a plausible size, 0, 1, or something hostile.
size_t Boundary(size_t plausible) {
  switch (Dim(7)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return size_t{1} << 28;
    case 3:
      return (size_t{1} << 28) + 1;
    case 4:
      return std::numeric_limits<size_t>::max();
    case 5:
      return 65536;
    default:
      return plausible;
  }
}

// A size for a hostile call: usually the real one, sometimes a boundary value (never larger than the
// buffer when it is a buffer's length: that would be the driver's own overread).
size_t Len(size_t real, bool hostile) { return hostile && Coin() ? std::min(real, Boundary(real)) : real; }
size_t Extent(size_t real, bool hostile) { return hostile && Coin() ? Boundary(real) : real; }

struct Requant {
  std::vector<int32_t> mult, shift;
  std::vector<float> scale;
  opq_requant rq{};
  Requant(size_t count, bool y_signed) : mult(count), shift(count), scale(count) {
    rq.mode = Int(0, 2);
    for (size_t i = 0; i < count; ++i) {
      mult[i] = Int(1 << 30, std::numeric_limits<int32_t>::max());
      shift[i] = Int(-31, 31);
      scale[i] = std::uniform_real_distribution<float>(1e-6f, 4.0f)(rng);
    }
    rq.count = static_cast<int32_t>(count);
    rq.multiplier = mult.data();
    rq.shift = shift.data();
    rq.scale = scale.data();
    rq.output_min = y_signed ? -128 : 0;
    rq.output_max = y_signed ? 127 : 255;
    rq.output_zero_point = Int(rq.output_min, rq.output_max);
  }
};

template <typename T>
std::vector<T> Random(size_t n, int lo, int hi) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(Int(lo, hi));
  return v;
}

std::vector<int32_t> Variants() {
  std::vector<int32_t> out{OPQ_VARIANT_AUTO};
  for (int32_t v = 0; v < OPQ_VARIANT_COUNT; ++v)
    if (opq_variant_available(v)) out.push_back(v);
  return out;
}

size_t refusals = 0, calls = 0;
void Count(const char* err) {
  ++calls;
  if (err) ++refusals;
}

void QGemm(int32_t variant, bool hostile) {
  size_t m = Dim(40), n = Dim(70), k = Dim(300);
  const bool a_signed = Coin(), y_signed = Coin(), per_col = Coin();
  size_t lda = k + Dim(3), ldb = n + Dim(3), ldy = n + Dim(3);
  size_t a_size = m ? (m - 1) * lda + k : 0, b_size = k ? (k - 1) * ldb + n : 0, y_size = m ? (m - 1) * ldy + n : 0;
  auto a = Random<uint8_t>(a_size, 0, 255);
  auto b = Random<int8_t>(b_size, -128, 127);
  auto y = std::vector<uint8_t>(y_size);
  auto bzp = Random<int32_t>(per_col ? n : 1, -128, 127);
  auto bias = Random<int32_t>(Coin() ? n : 0, -100000, 100000);
  Requant r(per_col && n ? n : 1, y_signed);
  if (hostile) {
    m = Boundary(m), n = Boundary(n), k = Boundary(k), lda = Boundary(lda), ldb = Boundary(ldb), ldy = Boundary(ldy);
  }
  const size_t ws = opq_qgemm_workspace_size(m, n, k, variant);
  std::vector<uint8_t> workspace(ws <= (size_t{64} << 20) ? ws : 0);
  Count(opq_qgemm(m, n, k, a.data(), a.size(), lda, a_signed, a_signed ? Int(-128, 127) : Int(0, 255), b.data(),
                  b.size(), ldb, bzp.data(), bzp.size(), bias.empty() ? nullptr : bias.data(), bias.size(), &r.rq,
                  y.data(), y.size(), ldy, y_signed, workspace.data(), workspace.size(), variant));
  auto acc = Random<int32_t>(Dim(100), -1000000, 1000000);
  Requant rr(1, y_signed);
  std::vector<uint8_t> row(acc.size());
  Count(opq_requantize_row(acc.data(), hostile ? Boundary(acc.size()) : acc.size(), &rr.rq, row.data(), row.size(),
                           y_signed, variant));
}

// qgemm_i32: random sizes (1 in 12 past every variant's threading threshold) with exact-size buffers,
// both signs of A and B, zero points per tensor or per row/column; when hostile, boundary dimensions
// or leading dimensions, a zero point out of its type, short buffers and workspace, NULLs, or Y over A.
void QGemmI32(int32_t variant, opq_threadpool* pool, bool hostile) {
  const bool big = Dim(11) == 0;
  size_t m = big ? 128 + Dim(64) : Dim(40), n = big ? 64 + Dim(64) : Dim(70), k = big ? 1024 + Dim(512) : Dim(300);
  const bool a_signed = Coin(), b_signed = Coin();
  size_t lda = k + Dim(3), ldb = n + Dim(3), ldy = n + Dim(3);
  const size_t a_size = m ? (m - 1) * lda + k : 0, b_size = k ? (k - 1) * ldb + n : 0,
               y_size = m ? (m - 1) * ldy + n : 0;
  // A at the start of an int32 buffer as long as Y, so that Y can be placed over it.
  std::vector<int32_t> ay(std::max(y_size, (a_size + 3) / 4));
  uint8_t* a = reinterpret_cast<uint8_t*>(ay.data());
  for (size_t i = 0; i < a_size; ++i) a[i] = static_cast<uint8_t>(Int(0, 255));
  auto b = Random<uint8_t>(b_size, 0, 255);
  std::vector<int32_t> y(y_size);
  const int32_t alo = a_signed ? -128 : 0, blo = b_signed ? -128 : 0;
  auto azp = Random<int32_t>(Coin() && m ? m : 1, alo, alo + 255);
  auto bzp = Random<int32_t>(Coin() && n ? n : 1, blo, blo + 255);
  int32_t* yp = y.data();
  if (hostile) {
    switch (Dim(3)) {
      case 0:
        m = Boundary(m), n = Boundary(n), k = Boundary(k);
        break;
      case 1:
        lda = Boundary(lda), ldb = Boundary(ldb), ldy = Boundary(ldy);
        break;
      case 2:
        (Coin() ? azp : bzp)[0] = Coin() ? -129 : 256;
        break;
      default:
        yp = ay.data();
        break;
    }
  }
  const size_t ws = opq_qgemm_i32_workspace_size(m, n, k, variant);
  std::vector<uint64_t> workspace(ws <= (size_t{64} << 20) ? (ws + 7) / 8 : 0);
  const bool nulls = hostile && Dim(3) == 0;
  Count(opq_qgemm_i32(m, n, k, nulls && Coin() ? nullptr : a, Len(a_size, hostile), lda, a_signed,
                      nulls && Coin() ? nullptr : azp.data(), azp.size(), b.data(), Len(b.size(), hostile), ldb,
                      b_signed, bzp.data(), Len(bzp.size(), hostile), nulls && Coin() ? nullptr : yp,
                      Len(y.size(), hostile), ldy, workspace.data(), Len(workspace.size() * 8, hostile), variant,
                      pool));

  // The same product with B packed once; when hostile, a short or damaged packed buffer too.
  const size_t pbytes = opq_qgemm_i32_packed_b_size(n, k, variant);
  if (pbytes == 0 || pbytes > (size_t{64} << 20)) return;
  std::vector<uint64_t> pbuf((pbytes + 7) / 8 + 2);
  uint8_t* packed = reinterpret_cast<uint8_t*>(pbuf.data());
  packed += (16 - reinterpret_cast<uintptr_t>(packed) % 16) % 16;
  const char* err = opq_qgemm_i32_pack_b(n, k, b.data(), Len(b.size(), hostile), ldb, b_signed, bzp.data(),
                                         Len(bzp.size(), hostile), variant, packed, Len(pbytes, hostile));
  Count(err);
  if (err != nullptr) return;
  size_t psize = pbytes;
  if (hostile && Coin()) {
    if (Coin())
      psize = Boundary(psize) % (psize + 1);
    else
      packed[Dim(static_cast<size_t>(64))] ^= static_cast<uint8_t>(Int(1, 255));
  }
  const size_t pws = opq_qgemm_i32_packed_workspace_size(m, packed, psize);
  std::vector<uint64_t> pworkspace(pws <= (size_t{64} << 20) ? (pws + 7) / 8 : 0);
  Count(opq_qgemm_i32_packed(m, nulls && Coin() ? nullptr : a, Len(a_size, hostile), lda, a_signed,
                             nulls && Coin() ? nullptr : azp.data(), azp.size(), packed, psize,
                             nulls && Coin() ? nullptr : yp, Len(y.size(), hostile), ldy, pworkspace.data(),
                             Len(pworkspace.size() * 8, hostile), pool));
}

// Weight zero points, per channel or per tensor: random, or all 0 half the time (symmetric weights,
// which the VNNI variant's quad convolution paths need).
std::vector<int32_t> WeightZeroPoints(size_t channels) {
  auto wzp = Random<int32_t>(Coin() ? channels : 1, -128, 127);
  if (Coin()) std::fill(wzp.begin(), wzp.end(), 0);
  return wzp;
}

void QConv(int32_t variant, opq_threadpool* pool, bool hostile) {
  const int32_t groups = Coin() ? 1 : Int(1, 4);
  opq_conv2d_shape s{Int(0, 2), groups * Int(1, 8), Int(1, 20), Int(1, 20), groups * Int(1, 8), Int(1, 5), Int(1, 5),
                     groups,    Int(1, 3),          Int(1, 3),  Int(1, 2),  Int(1, 2),          Int(0, 2), Int(0, 2),
                     Int(0, 2), Int(0, 2)};
  if (hostile) {
    int32_t* f = &s.batch;
    f[Dim(15)] = static_cast<int32_t>(Boundary(static_cast<size_t>(f[0])));
  }
  int32_t oh = 0, ow = 0;
  if (opq_conv2d_output_size(&s, &oh, &ow) != nullptr) {
    ++calls, ++refusals;
    return;
  }
  // Hostile geometries may pass the size check and still be far too big to back with memory: they
  // get tiny buffers, which the entry points must refuse.
  const auto cap = [](size_t n) { return n > (size_t{1} << 24) ? size_t{16} : n; };
  const size_t wn = cap(size_t(s.out_channels) * (s.in_channels / s.groups) * s.kernel_h * s.kernel_w);
  auto w = Random<int8_t>(wn, -128, 127);
  auto wzp = WeightZeroPoints(size_t(s.out_channels));
  auto bias = Random<int32_t>(Coin() ? size_t(s.out_channels) : 0, -100000, 100000);
  const size_t psize = cap(opq_qconv2d_packed_size(&s, variant));
  std::vector<uint64_t> packed((psize + 7) / 8);
  const char* err = opq_qconv2d_pack(&s, w.data(), w.size(), wzp.data(), wzp.size(),
                                     bias.empty() ? nullptr : bias.data(), bias.size(), variant, packed.data(), psize);
  Count(err);
  if (err) return;
  const bool x_signed = Coin(), y_signed = Coin();
  // Valid but huge convolutions get a tiny X too (refused): they would only make the run slow.
  const size_t macs = size_t(s.batch) * s.out_channels * oh * ow * (s.in_channels / s.groups) * s.kernel_h * s.kernel_w;
  const size_t xn = size_t(s.batch) * s.in_channels * s.in_height * s.in_width;
  auto x = Random<uint8_t>(macs > (size_t{1} << 22) ? std::min<size_t>(xn, 16) : cap(xn), 0, 255);
  std::vector<uint8_t> y(cap(size_t(s.batch) * s.out_channels * oh * ow));
  Requant r(Coin() ? size_t(s.out_channels) : 1, y_signed);
  const size_t ws = cap(opq_qconv2d_workspace_size(packed.data(), psize, opq_threadpool_threads(pool)));
  std::vector<uint64_t> workspace((ws + 7) / 8 + 1);
  Count(opq_qconv2d_run(&s, packed.data(), psize, x.data(), hostile ? Dim(x.size()) : x.size(), x_signed,
                        x_signed ? Int(-128, 127) : Int(0, 255), &r.rq, y.data(), y.size(), y_signed, workspace.data(),
                        ws, pool));
}

// Element types of the A16W8 entries: a valid OPQ_QC16_* id, or (hostile) sometimes an invalid one.
int32_t Type16(bool hostile) { return hostile && Coin() ? Int(-1, 5) : Int(0, 3); }
int32_t Lo16(int32_t t) { return t == OPQ_QC16_INT8 ? -128 : t == OPQ_QC16_INT16 ? -32768 : 0; }
int32_t Hi16(int32_t t) { return t == OPQ_QC16_INT8 ? 127 : t == OPQ_QC16_INT16 ? 32767 : t == 0 ? 255 : 65535; }
// A per-tensor or per-channel requant with its output range in Y's type range (valid types).
void RangeFor(Requant* r, int32_t y_type) {
  const int32_t ylo = Lo16(y_type), yhi = Hi16(y_type);
  r->rq.output_min = ylo;
  r->rq.output_max = yhi;
  r->rq.output_zero_point = Int(ylo, yhi);
}

void QConvTranspose(int32_t variant, opq_threadpool* pool, bool hostile) {
  const int32_t groups = Coin() ? 1 : Int(1, 4);
  const int32_t sh = Int(1, 3), sw = Int(1, 3), dh = Int(1, 2), dw = Int(1, 2);
  opq_convtranspose2d_shape s{Int(0, 2),
                              groups * Int(1, 9),
                              Int(1, 12),
                              Int(1, 21),
                              groups * Int(1, 9),
                              Int(1, 5),
                              Int(1, 5),
                              groups,
                              sh,
                              sw,
                              dh,
                              dw,
                              Int(0, 4),
                              Int(0, 4),
                              Int(0, 4),
                              Int(0, 4),
                              Int(0, std::max(sh, dh) - 1),
                              Int(0, std::max(sw, dw) - 1)};
  if (hostile) {
    int32_t* f = &s.batch;
    f[Dim(17)] = Coin() ? static_cast<int32_t>(Boundary(static_cast<size_t>(f[1]))) : -Int(1, 3);
  }
  int32_t oh = 0, ow = 0;
  if (opq_convtranspose2d_output_size(&s, &oh, &ow) != nullptr) {
    ++calls, ++refusals;
    return;
  }
  const auto cap = [](size_t n) { return n > (size_t{1} << 24) ? size_t{16} : n; };
  const size_t wn = cap(size_t(s.in_channels) * (s.out_channels / s.groups) * s.kernel_h * s.kernel_w);
  auto w = Random<int8_t>(wn, -128, 127);
  auto wzp = WeightZeroPoints(size_t(s.out_channels));
  auto bias = Random<int32_t>(Coin() ? size_t(s.out_channels) : 0, -100000, 100000);
  const bool x_signed = Coin(), y_signed = Coin();
  const size_t xn = size_t(s.batch) * s.in_channels * s.in_height * s.in_width;
  const size_t yn = size_t(s.batch) * s.out_channels * oh * ow;
  auto x = Random<uint8_t>(cap(xn), 0, 255);
  std::vector<uint8_t> y(cap(yn));
  Requant r(Coin() ? size_t(s.out_channels) : 1, y_signed);
  const size_t ws = cap(opq_qconvtranspose2d_workspace_size(&s, variant));
  std::vector<uint64_t> workspace((ws + 7) / 8 + 1);
  Count(opq_qconvtranspose2d(&s, x.data(), hostile ? Dim(x.size()) : x.size(), x_signed,
                             x_signed ? Int(-128, 127) : Int(0, 255), w.data(), w.size(), wzp.data(), wzp.size(),
                             bias.empty() ? nullptr : bias.data(), bias.size(), &r.rq, y.data(), y.size(), y_signed,
                             workspace.data(), ws, variant, pool));
  // The A16W8 form on the same geometry: element types at random, buffers of 2-byte storage.
  const int32_t xt = Type16(hostile), yt = Type16(hostile);
  const size_t xc = cap(xn), yc = cap(yn);
  std::vector<uint16_t> x16(xc + 1), y16(yc + 1);
  for (auto& v : x16) v = static_cast<uint16_t>(Int(0, 65535));
  Requant r16(Coin() ? size_t(s.out_channels) : 1, false);
  for (auto& sh : r16.shift) sh = hostile ? Int(-31, 31) : Int(-31, 14);
  RangeFor(&r16, yt);
  const size_t ws16 = cap(opq_qconvtranspose16_workspace_size(&s, variant));
  std::vector<uint64_t> workspace16((ws16 + 7) / 8 + 1);
  const int32_t zx = hostile && Coin() ? Int(-40000, 70000) : Int(Lo16(xt), Hi16(xt));
  Count(opq_qconvtranspose16(&s, x16.data(), hostile ? Dim(xc) : xc, xt, zx, w.data(), w.size(), wzp.data(), wzp.size(),
                             bias.empty() ? nullptr : bias.data(), bias.size(), &r16.rq, y16.data(), yc, yt,
                             workspace16.data(), ws16, variant, pool));
}

void QConv16(int32_t variant, opq_threadpool* pool, bool hostile) {
  const int32_t groups = Coin() ? 1 : Int(1, 4);
  opq_conv2d_shape s{Int(0, 2), groups * Int(1, 9), Int(1, 14), Int(1, 40), groups * Int(1, 9), Int(1, 5), Int(1, 5),
                     groups,    Int(1, 3),          Int(1, 3),  Int(1, 2),  Int(1, 2),          Int(0, 3), Int(0, 3),
                     Int(0, 3), Int(0, 3)};
  if (hostile) {
    int32_t* f = &s.batch;
    f[Dim(15)] = Coin() ? static_cast<int32_t>(Boundary(static_cast<size_t>(f[1]))) : -Int(1, 3);
  }
  int32_t oh = 0, ow = 0;
  if (opq_conv2d_output_size(&s, &oh, &ow) != nullptr) {
    ++calls, ++refusals;
    return;
  }
  const auto cap = [](size_t n) { return n > (size_t{1} << 22) ? size_t{16} : n; };
  const int32_t x_type = hostile && Coin() ? Int(-1, 5) : Int(0, 3),
                y_type = hostile && Coin() ? Int(-1, 5) : Int(0, 3);
  const auto elem = [](int32_t t) { return t == OPQ_QC16_INT16 || t == OPQ_QC16_UINT16 ? size_t{2} : size_t{1}; };
  const auto lo = [](int32_t t) { return t == OPQ_QC16_INT8 ? -128 : t == OPQ_QC16_INT16 ? -32768 : 0; };
  const auto hi = [](int32_t t) {
    return t == OPQ_QC16_INT8 ? 127 : t == OPQ_QC16_INT16 ? 32767 : t == 0 ? 255 : 65535;
  };
  const size_t wn = cap(size_t(s.out_channels) * (s.in_channels / s.groups) * s.kernel_h * s.kernel_w);
  auto w = Random<int8_t>(wn, -128, 127);
  auto wzp = WeightZeroPoints(size_t(s.out_channels));
  auto bias = Random<int32_t>(Coin() ? size_t(s.out_channels) : 0, std::numeric_limits<int32_t>::min(),
                              std::numeric_limits<int32_t>::max());
  const size_t macs = size_t(s.batch) * s.out_channels * oh * ow * (s.in_channels / s.groups) * s.kernel_h * s.kernel_w;
  const size_t xn = size_t(s.batch) * s.in_channels * s.in_height * s.in_width;
  const size_t xc = macs > (size_t{1} << 22) ? std::min<size_t>(xn, 16) : cap(xn);
  const size_t yc = cap(size_t(s.batch) * s.out_channels * oh * ow);
  // Exact-size buffers of the element type (uint16_t storage keeps 16-bit elements aligned).
  std::vector<uint16_t> x16(xc * elem(x_type) / 2 + 1), y16(yc * elem(y_type) / 2 + 1);
  for (auto& v : x16) v = static_cast<uint16_t>(Int(0, 65535));
  const size_t count = Coin() ? size_t(s.out_channels) : 1;
  Requant r(count, false);
  for (auto& sh : r.shift) sh = hostile ? Int(-31, 31) : Int(-31, 14);
  const int32_t ylo = lo(y_type), yhi = hi(y_type);
  r.rq.output_min = ylo;
  r.rq.output_max = yhi;
  r.rq.output_zero_point = Int(ylo, yhi);
  const size_t ws = cap(opq_qconv16_workspace_size(&s, variant));
  std::vector<uint64_t> workspace((ws + 7) / 8 + 1);
  const int32_t zx = hostile && Coin() ? Int(-40000, 70000) : Int(lo(x_type), hi(x_type));
  Count(opq_qconv16(&s, x16.data(), hostile ? Dim(xc) : xc, x_type, zx, w.data(), w.size(), wzp.data(), wzp.size(),
                    bias.empty() ? nullptr : bias.data(), bias.size(), &r.rq, y16.data(), yc, y_type, workspace.data(),
                    ws, variant, pool));
}

void GemmF32(int32_t variant, opq_threadpool* pool, bool hostile) {
  size_t m = Dim(40), n = Dim(70), k = Dim(200);
  const bool ta = Coin(), tb = Coin();
  size_t lda = (ta ? m : k) + Dim(2), ldb = (tb ? k : n) + Dim(2), ldy = n + Dim(2);
  std::vector<float> a((ta ? k : m) * lda + 1), b((tb ? n : k) * ldb + 1), y(m * ldy + 1), c(n + 1);
  for (auto& v : a) v = float(Int(-100, 100)) / 7;
  for (auto& v : b) v = float(Int(-100, 100)) / 7;
  if (hostile) m = Boundary(m), n = Boundary(n), k = Boundary(k), lda = Boundary(lda);
  const size_t ws = opq_gemm_f32_workspace_size(m, n, k, opq_threadpool_threads(pool), variant);
  std::vector<uint64_t> workspace(ws <= (size_t{64} << 20) ? (ws + 7) / 8 + 1 : 0);
  Count(opq_gemm_f32(m, n, k, a.data(), a.size(), lda, ta, b.data(), b.size(), ldb, tb, 1.0f, Coin() ? 1.0f : 0.0f,
                     c.data(), c.size() - 1, 0, 1, -1e30f, 1e30f, y.data(), y.size(), ldy, workspace.data(),
                     workspace.size() * 8, pool, variant));
}

void ConvPoolF32(int32_t variant, opq_threadpool* pool, bool hostile) {
  const int32_t g = Coin() ? 1 : Int(1, 3);
  opq_conv2d_f32_params p{Int(0, 2), g * Int(1, 6), Int(1, 16), Int(1, 16), g * Int(1, 6), Int(1, 4), Int(1, 4), 0,
                          0,         Int(1, 3),     Int(1, 3),  Int(0, 2),  Int(0, 2),     Int(1, 2), Int(1, 2), g,
                          -1e30f,    1e30f};
  const int32_t eh = (p.kh - 1) * p.dilation_h + 1, ew = (p.kw - 1) * p.dilation_w + 1;
  p.oh = std::max(0, (p.h + 2 * p.pad_top - eh) / p.stride_h + 1);
  p.ow = std::max(0, (p.w + 2 * p.pad_left - ew) / p.stride_w + 1);
  if (hostile) {
    int32_t* f = &p.n;
    f[Dim(15)] = static_cast<int32_t>(Boundary(static_cast<size_t>(f[1])));
  }
  const size_t nx = size_t(std::max(0, p.n)) * std::max(0, p.c) * std::max(0, p.h) * std::max(0, p.w);
  const size_t nw =
      size_t(std::max(0, p.m)) * (p.group > 0 ? std::max(0, p.c) / p.group : 0) * std::max(0, p.kh) * std::max(0, p.kw);
  const size_t ny = size_t(std::max(0, p.n)) * std::max(0, p.m) * std::max(0, p.oh) * std::max(0, p.ow);
  // Valid but huge convolutions would only make the run slow under ASan: skipped.
  const size_t macs = ny * (p.group > 0 ? std::max(0, p.c) / p.group : 0) * std::max(0, p.kh) * std::max(0, p.kw);
  if (nx > (1u << 24) || nw > (1u << 24) || ny > (1u << 24) || macs > (size_t{1} << 22)) {
    ++calls, ++refusals;
    return;
  }
  std::vector<float> x(nx, 0.5f), w(nw, 0.25f), y(ny);
  const size_t ws = opq_conv2d_f32_workspace_size(&p, opq_threadpool_threads(pool), variant);
  std::vector<uint64_t> workspace(ws <= (size_t{64} << 20) ? (ws + 7) / 8 + 1 : 0);
  Count(opq_conv2d_f32(&p, x.data(), x.size(), w.data(), w.size(), nullptr, 0, y.data(), y.size(), workspace.data(),
                       workspace.size() * 8, pool, variant));
  opq_pool2d_f32_params q{Int(0, 6), Int(1, 16), Int(1, 16), 0,         0,         Int(1, 4), Int(1, 4), Int(1, 3),
                          Int(1, 3), Int(1, 2),  Int(1, 2),  Int(0, 1), Int(0, 1), Int(0, 1), Int(0, 1)};
  q.oh = std::max(0, (q.h + q.pad_top + q.pad_bottom - ((q.kh - 1) * q.dilation_h + 1)) / q.stride_h + 1);
  q.ow = std::max(0, (q.w + q.pad_left + q.pad_right - ((q.kw - 1) * q.dilation_w + 1)) / q.stride_w + 1);
  if (hostile) {
    int32_t* f = &q.planes;
    f[Dim(14)] = static_cast<int32_t>(Boundary(static_cast<size_t>(f[1])));
  }
  const size_t px = size_t(std::max(0, q.planes)) * std::max(0, q.h) * std::max(0, q.w);
  const size_t py = size_t(std::max(0, q.planes)) * std::max(0, q.oh) * std::max(0, q.ow);
  if (px > (1u << 24) || py > (1u << 24) ||
      py * size_t(std::max(0, q.kh)) * size_t(std::max(0, q.kw)) > (size_t{1} << 22))
    return;
  std::vector<float> px_(px, 1.0f), py_(py);
  const size_t pws = opq_pool2d_f32_workspace_size(&q, variant);
  std::vector<uint64_t> pw(pws <= (size_t{64} << 20) ? (pws + 7) / 8 + 1 : 0);
  Count(
      opq_pool2d_f32(&q, Int(0, 2), px_.data(), px_.size(), py_.data(), py_.size(), pw.data(), pw.size() * 8, variant));
}

// The calibration statistics: exact-size float buffers with NaN, infinities, +-0 and huge values at
// random places; counts of 1 to 4096 bins (boundary sizes, bad inv and zero when hostile).
void StatsF32(int32_t variant, bool hostile) {
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min()};
  std::vector<float> x(Dim(300));
  for (auto& v : x) v = Coin() && Coin() ? specials[Dim(7)] : float(Int(-100000, 100000)) / 37;
  std::vector<double> out(4), counts(1 + Dim(4095));
  const double inv = std::ldexp(1.0, Int(-40, 40)), zero = double(Int(-10, int32_t(counts.size()) + 10));
  if (!hostile) {
    Count(opq_scan_f32(x.data(), x.size(), out.data(), out.size(), variant));
    Count(opq_histogram_f32(x.data(), x.size(), inv, zero, counts.data(), counts.size(), variant));
    // About half zeros, as after ReLU (the SIMD variants count them apart).
    for (auto& v : x) v = Coin() ? (Coin() ? 0.0f : -0.0f) : v;
    Count(opq_histogram_f32(x.data(), x.size(), inv, zero, counts.data(), counts.size(), variant));
    return;
  }
  const double bad[] = {0.0, -1.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
                        0.5, 1e300};
  Count(opq_scan_f32(Coin() ? x.data() : nullptr, std::min(x.size(), Boundary(x.size())), out.data(),
                     Coin() ? out.size() : Dim(8), variant));
  // counts larger than its buffer would be the driver's own overwrite: only smaller or 0.
  Count(opq_histogram_f32(x.data(), std::min(x.size(), Boundary(x.size())), Coin() ? bad[Dim(5)] : inv,
                          Coin() ? bad[Dim(5)] : zero, Coin() ? counts.data() : nullptr,
                          std::min(counts.size(), Boundary(counts.size())), variant));
  // counts overlapping x: refused.
  std::vector<double> shared(64);
  Count(opq_histogram_f32(reinterpret_cast<const float*>(shared.data()), 32, 1.0, 0.0, shared.data(), 64, variant));
}

// Exact sums: random terms (subnormals, the largest doubles, NaN and infinities) into accumulators whose
// add counters start just below the carry, so the carry runs too; when hostile a size that does not
// match, NULL and an x that overlaps acc.
void ExactSumF64(bool hostile) {
  const double specials[] = {4.9406564584124654e-324,
                             -std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             0.0};
  const size_t n = Dim(70);
  std::vector<double> x(n);
  for (auto& v : x) v = Coin() ? specials[Dim(5)] : std::ldexp(double(Int(-100000, 100000)), Int(-1100, 1000));
  std::vector<int64_t> acc(n * OPQ_EXACT_SUM_WORDS);
  for (size_t i = 0; i < n; ++i)
    acc[i * OPQ_EXACT_SUM_WORDS + OPQ_EXACT_SUM_WORDS - 1] = (int64_t{1} << 29) - Int(1, 3);
  for (int round = 0; round < 4; ++round) Count(opq_exact_sum_add_f64(x.data(), n, acc.data(), acc.size()));
  if (!hostile) return;
  Count(opq_exact_sum_add_f64(Coin() ? x.data() : nullptr, n, Coin() ? acc.data() : nullptr,
                              std::min(acc.size(), Boundary(acc.size()))));
  Count(opq_exact_sum_add_f64(reinterpret_cast<const double*>(acc.data()), 1, acc.data(), OPQ_EXACT_SUM_WORDS));
}

// Window row sums: random geometries with exact-size buffers (taps inside, partly and wholly outside
// the input, O = 0), the int32 extremes of pad, stride, dilation and O (no overflow in the tap ranges),
// and when hostile a field out of range, sizes that do not match, NULL and overlapping buffers.
void SumRowsF32(int32_t variant, bool hostile) {
  const int32_t big = std::numeric_limits<int32_t>::max();
  opq_sum_rows_f32_params p{Int(0, 3), Int(0, 12), Int(0, 70), Int(1, 4), Int(0, 14), Int(1, 3), Int(0, 4), Int(1, 3)};
  if (Dim(5) == 0) {
    const size_t which = Dim(2);
    (which == 0 ? p.stride : which == 1 ? p.pad : p.dilation) = big;
    if (Coin()) p.o = big;
  }
  const size_t nx = size_t(p.planes) * p.i * p.inner, nd = size_t(p.planes) * p.k * p.inner;
  std::vector<float> x(nx);
  for (auto& v : x) v = float(Int(-100000, 100000)) * std::ldexp(1.0f, Int(-140, 100));
  std::vector<double> dst(nd);
  if (!hostile) {
    Count(opq_sum_rows_f32(&p, x.data(), x.size(), dst.data(), dst.size(), variant));
    return;
  }
  if (Coin()) {
    int32_t* const fields[] = {&p.planes, &p.i, &p.inner, &p.k, &p.o, &p.stride, &p.pad, &p.dilation};
    *fields[Dim(7)] = Coin() ? Int(std::numeric_limits<int32_t>::min(), 0) : big;
  }
  // Sizes never larger than the buffers (that would be the driver's own overread).
  Count(opq_sum_rows_f32(Coin() ? &p : nullptr, Coin() ? x.data() : nullptr, Len(x.size(), true),
                         Coin() ? dst.data() : nullptr, Len(dst.size(), true), variant));
  // dst inside x's memory: refused.
  std::vector<double> shared(64);
  const opq_sum_rows_f32_params q{1, 8, 8, 1, 8, 1, 0, 1};
  Count(opq_sum_rows_f32(&q, reinterpret_cast<const float*>(shared.data()), 64, shared.data() + 4, 8, variant));
}

// Softmax / LogSoftmax: random [outer, len, inner] with exact-size buffers (NaN, infinities, huge and
// tiny values in the rows), in place or not; when hostile, sizes that do not match, a zero dimension
// beside huge ones, products that overflow, a bad log flag, NULL and partially overlapping buffers.
void SoftmaxF32(int32_t variant, bool hostile) {
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min()};
  size_t outer = Dim(4), len = Coin() ? Dim(20) : Dim(200), inner = Coin() ? 1 : Dim(19);
  const size_t n = outer * len * inner;
  std::vector<float> x(n), y(n);
  for (auto& v : x) v = Coin() && Coin() && Coin() ? specials[Dim(7)] : float(Int(-100000, 100000)) / 997;
  const int32_t log = Int(0, 1);
  const bool in_place = Coin();
  if (!hostile) {
    Count(opq_softmax_f32(outer, len, inner, log, x.data(), x.size(), in_place ? x.data() : y.data(), n, variant));
    return;
  }
  const size_t huge = size_t{1} << (sizeof(size_t) * 8 - 2);
  switch (Dim(3)) {
    case 0:  // a zero dimension beside huge ones: nothing to do, and no loop over empty rows
      Count(opq_softmax_f32(huge, 0, huge, log, x.data(), 0, y.data(), 0, variant));
      break;
    case 1:  // products past 2^64 (and past 2^32 in wasm)
      Count(opq_softmax_f32(huge, huge, Boundary(inner), log, x.data(), n, y.data(), n, variant));
      break;
    case 2:  // a bad log flag, a size that does not match or NULL (never more than the buffers hold)
      Count(opq_softmax_f32(outer, len, inner, Coin() ? log : Int(-3, 3), Coin() ? x.data() : nullptr, Len(n, true),
                            Coin() ? y.data() : nullptr, Len(n, true), variant));
      break;
    default: {  // y inside x's memory, shifted: refused
      std::vector<float> shared(2 * n + 2);
      Count(opq_softmax_f32(outer, len, inner, log, shared.data(), n, shared.data() + 1 + Dim(n), n, variant));
    }
  }
}

// Float LayerNorm: random rows of random values (specials among them), with or without bias; when
// hostile, products past 2^64, sizes that do not match, NULL buffers and y overlapping x.
void LayerNormF32(int32_t variant, bool hostile) {
  const size_t rows = Dim(5), n = 1 + (Coin() ? Dim(20) : Dim(800)), total = rows * n;
  std::vector<float> x(total), y(total), scale(n), bias(n);
  for (auto& v : x) v = Coin() && Coin() ? std::numeric_limits<float>::infinity() : float(Int(-100000, 100000)) / 997;
  for (auto& v : scale) v = float(Int(-1000, 1000)) / 97;
  for (auto& v : bias) v = float(Int(-1000, 1000)) / 89;
  const float* b = Coin() ? bias.data() : nullptr;
  const double eps = Coin() ? 1e-5 : 0.0;
  if (!hostile) {
    Count(opq_layernorm_f32(rows, n, x.data(), total, scale.data(), b, n, eps, y.data(), total, variant));
    return;
  }
  const size_t huge = size_t{1} << (sizeof(size_t) * 8 - 2);
  switch (Dim(2)) {
    case 0:
      Count(opq_layernorm_f32(huge, huge, x.data(), total, scale.data(), b, n, eps, y.data(), total, variant));
      break;
    case 1:
      Count(opq_layernorm_f32(rows, Coin() ? n : 0, Coin() ? x.data() : nullptr, Len(total, true),
                              Coin() ? scale.data() : nullptr, b, Len(n, true), eps, Coin() ? y.data() : nullptr,
                              Len(total, true), variant));
      break;
    default:
      Count(opq_layernorm_f32(rows, n, x.data(), total, scale.data(), b, n, eps, x.data(), total, variant));
  }
}

// ConvTranspose's col2im: random 3-D geometries (strides, dilations, pads, output sizes that drop or
// leave out taps), exact-size buffers; when hostile, a field at a boundary value, short buffers,
// NULLs, or y over cols.
void Col2ImF32(bool hostile) {
  int32_t geo[18];
  for (int a = 0; a < 3; ++a) {
    geo[a] = Int(1, 6);                                  // input size
    geo[3 + a] = Int(1, 3);                              // kernel
    geo[9 + a] = Int(1, 3);                              // stride
    geo[12 + a] = Int(1, 2);                             // dilation
    geo[15 + a] = Int(0, 2);                             // begin pad
    geo[6 + a] = Int(0, (geo[a] - 1) * geo[9 + a] + 6);  // output size
  }
  if (hostile) geo[Dim(17)] = Coin() ? -1 : (Coin() ? 0 : 0x7fffffff);
  const size_t channels = Dim(3);
  uint64_t cols_n = channels, y_n = channels;
  for (int i = 0; i < 6; ++i) cols_n *= geo[i] > 0 && geo[i] < 64 ? uint64_t(geo[i]) : 1;
  for (int i = 6; i < 9; ++i) y_n *= geo[i] > 0 && geo[i] < 64 ? uint64_t(geo[i]) : 1;
  std::vector<float> cols(cols_n + y_n + 1), bias(channels);
  for (auto& v : cols) v = float(Int(-1000, 1000)) / 97;
  float* y = cols.data() + cols_n + (hostile && Coin() ? 0 : 1);
  if (hostile && Coin()) y = cols.data();  // y over cols
  const bool nulls = hostile && Coin();
  Count(opq_col2im_f32(geo, 18, channels, nulls && Coin() ? nullptr : cols.data(), Len(cols_n, hostile),
                       Coin() ? bias.data() : nullptr, Coin() ? channels : 0, nulls && Coin() ? nullptr : y,
                       Len(y_n, hostile)));
}

// Bias-correction Conv probes: random 3-D geometries (pads past the kernel, taps that read nothing,
// groups), exact-size buffers and workspace; when hostile, a field at a boundary value, short
// buffers or workspace, NULLs, or sums over x.
void ConvProbeF32(int32_t variant, bool hostile) {
  int32_t geo[22];
  const int32_t group = Int(1, 3);
  geo[0] = Int(0, 2);          // N
  geo[1] = group * Int(1, 3);  // C
  geo[2] = group * Int(0, 3);  // M
  geo[3] = group;
  for (int a = 0; a < 3; ++a) {
    geo[4 + a] = Int(1, 9);   // input size
    geo[7 + a] = Int(1, 4);   // kernel
    geo[13 + a] = Int(1, 3);  // stride
    geo[16 + a] = Int(1, 2);  // dilation
    geo[19 + a] = Int(0, 4);  // begin pad
    geo[10 + a] = Int(0, 8);  // output size (any: taps past the input read nothing)
  }
  if (hostile) geo[Dim(21)] = Coin() ? -1 : (Coin() ? 0 : 0x7fffffff);
  auto at = [&](int i) { return geo[i] > 0 && geo[i] < 64 ? uint64_t(geo[i]) : 1; };
  const uint64_t nx = at(0) * at(1) * at(4) * at(5) * at(6);
  const uint64_t nd = at(2) * (at(1) / at(3) + 1) * at(7) * at(8) * at(9);
  // Exactly the workspace the kernel needs (axis 0's sums only when it is not a copy).
  const bool trivial = geo[4] == 1 && geo[7] == 1 && geo[10] == 1 && geo[19] == 0;
  const uint64_t nw = at(1) * at(7) * at(8) * at(9) + (trivial ? 0 : at(0) * at(1) * at(7) * at(5) * at(6)) +
                      at(0) * at(1) * at(7) * at(5) * at(15) + at(15) + at(6) + 2 * at(8) + 3 * at(9);
  std::vector<float> x(nx + 1), delta(nd);
  std::vector<double> sums(at(2) + 1), work(nw);
  for (auto& v : x) v = float(Int(-1000, 1000)) / 97;
  for (auto& v : delta) v = float(Int(-1000, 1000)) / 89;
  const bool nulls = hostile && Coin();
  double* out = hostile && Coin() ? reinterpret_cast<double*>(x.data()) : sums.data();  // sums over x
  const size_t n_x =
      hostile ? Len(nx, true) : size_t(geo[0]) * size_t(geo[1]) * size_t(geo[4]) * size_t(geo[5]) * size_t(geo[6]);
  const size_t n_d = hostile
                         ? Len(nd, true)
                         : size_t(geo[2]) * size_t(geo[1] / geo[3]) * size_t(geo[7]) * size_t(geo[8]) * size_t(geo[9]);
  Count(opq_conv_probe_sums_f32(geo, 22, nulls && Coin() ? nullptr : x.data(), std::min<size_t>(n_x, nx), delta.data(),
                                std::min<size_t>(n_d, nd), nulls && Coin() ? nullptr : out, size_t(geo[2]), work.data(),
                                Len(nw, hostile), variant));
}

// The elementwise, pooling and layout entries: qadd, qmul, lut, quantize/dequantize_linear, the
// pools, concat and nearest resize, with exact-size buffers (random shapes) or boundary arguments.
void Elementwise(int32_t variant, bool hostile) {
  const bool sgn = Coin();
  const int lo = sgn ? -128 : 0, hi = sgn ? 127 : 255;
  // Broadcast binary ops on rank <= 4 shapes.
  const size_t rank = 1 + Dim(3);
  size_t as[OPQ_MAX_RANK] = {1, 1, 1, 1, 1, 1, 1, 1}, bs[OPQ_MAX_RANK] = {1, 1, 1, 1, 1, 1, 1, 1}, ys[OPQ_MAX_RANK];
  size_t an = 1, bn = 1, yn = 1;
  // One call in 16: a leading axis of ~256 and a last axis of ~1024 (lut2's LUT-kernel runs are
  // long); the middle axes are then 1.
  const bool big = rank >= 2 && Dim(15) == 0;
  for (size_t i = 0; i < rank; ++i) {
    const size_t d = !big ? 1 + Dim(6) : i == 0 ? 256 + Dim(8) : i == rank - 1 ? 1024 + Dim(64) : 1;
    as[i] = big && i == 0 ? d : Coin() ? d : 1;
    bs[i] = big && i == 0 ? d : Coin() ? d : 1;
    ys[i] = std::max(as[i], bs[i]);
    an *= as[i], bn *= bs[i], yn *= ys[i];
  }
  for (size_t i = 0; i < rank; ++i) {
    as[i] = Extent(as[i], hostile);
    bs[i] = Extent(bs[i], hostile);
  }
  auto a = Random<int8_t>(an, -128, 127), b = Random<int8_t>(bn, -128, 127);
  std::vector<int8_t> y(yn);
  opq_qadd_params ap{};
  ap.mode = Int(0, 2);
  ap.a_zero_point = Int(lo, hi), ap.b_zero_point = Int(lo, hi), ap.left_shift = Int(0, 22);
  ap.a_multiplier = Int(0, std::numeric_limits<int32_t>::max()), ap.a_shift = Int(-31, 31);
  ap.b_multiplier = Int(0, std::numeric_limits<int32_t>::max()), ap.b_shift = Int(-31, 31);
  ap.output_multiplier = Int(0, std::numeric_limits<int32_t>::max()), ap.output_shift = Int(-31, 31);
  ap.a_scale = 0.5f, ap.b_scale = 0.25f;
  ap.output_min = lo, ap.output_max = hi, ap.output_zero_point = Int(lo, hi);
  const size_t r = hostile && Coin() ? Boundary(rank) : rank;
  Count(opq_qadd(std::min<size_t>(r, OPQ_MAX_RANK), as, bs, a.data(), Len(a.size(), hostile), b.data(), b.size(), sgn,
                 &ap, y.data(), Len(y.size(), hostile), variant));
  Requant rq1(1, sgn);
  Count(opq_qmul(std::min<size_t>(r, OPQ_MAX_RANK), as, bs, a.data(), a.size(), Int(lo, hi), b.data(),
                 Len(b.size(), hostile), Int(lo, hi), sgn, &rq1.rq, y.data(), Len(y.size(), hostile), variant));
  static const std::vector<uint8_t> pair_table = Random<uint8_t>(65536, 0, 255);
  Count(opq_lut2(std::min<size_t>(r, OPQ_MAX_RANK), as, bs, a.data(), Len(a.size(), hostile), b.data(), b.size(),
                 pair_table.data(), Len(pair_table.size(), hostile), y.data(), Len(y.size(), hostile), variant));
  // The A16W8 forms on the same shapes: element types at random, buffers of 2-byte storage.
  {
    const int32_t at = Type16(hostile), bt = Type16(hostile), yt = Type16(hostile);
    std::vector<uint16_t> a16(an + 1), b16(bn + 1), y16(yn + 1);
    for (auto& v : a16) v = static_cast<uint16_t>(Int(0, 65535));
    for (auto& v : b16) v = static_cast<uint16_t>(Int(0, 65535));
    opq_qadd_params p16 = ap;
    p16.a_zero_point = Int(Lo16(at), Hi16(at)), p16.b_zero_point = Int(Lo16(bt), Hi16(bt));
    p16.output_min = Lo16(yt), p16.output_max = Hi16(yt), p16.output_zero_point = Int(Lo16(yt), Hi16(yt));
    p16.left_shift = Coin() ? 15 : Int(0, 22);
    Count(opq_qadd16(std::min<size_t>(r, OPQ_MAX_RANK), as, bs, a16.data(), Len(an, hostile), at, b16.data(), bn, bt,
                     &p16, y16.data(), Len(yn, hostile), yt, variant));
    Requant rq16(1, false);
    RangeFor(&rq16, yt);
    const int32_t za = Coin() ? 0 : Int(Lo16(at), Hi16(at)), zb = Coin() ? 0 : Int(Lo16(bt), Hi16(bt));
    Count(opq_qmul16(std::min<size_t>(r, OPQ_MAX_RANK), as, bs, a16.data(), an, at, za, b16.data(), Len(bn, hostile),
                     bt, zb, &rq16.rq, y16.data(), Len(yn, hostile), yt, variant));
  }
  // Table lookup, in place half the time.
  auto table = Random<uint8_t>(256, 0, 255);
  auto x = Random<uint8_t>(1 + Dim(300), 0, 255);
  std::vector<uint8_t> ly(x.size());
  Count(opq_lut(x.data(), x.size(), Extent(x.size(), hostile), table.data(), Len(table.size(), hostile),
                Coin() ? x.data() : ly.data(), Len(x.size(), hostile), variant));
  // Quantize / dequantize: per tensor, per axis or blocked.
  const size_t outer = 1 + Dim(3), axis = 1 + Dim(9), inner = 1 + Dim(5), n = outer * axis * inner;
  const size_t block = Coin() ? 0 : 1 + Dim(axis);
  const size_t params = block ? outer * ((axis + block - 1) / block) * inner : (Coin() ? 1 : axis);
  std::vector<float> fx(n), scale(params), fy(n);
  for (auto& v : fx) v = std::uniform_real_distribution<float>(-10, 10)(rng);
  for (auto& v : scale) v = std::uniform_real_distribution<float>(1e-3f, 1.0f)(rng);
  auto zp = Random<int32_t>(params, lo, hi);
  std::vector<int8_t> qy(n);
  Count(opq_quantize_linear(fx.data(), Len(n, hostile), Extent(outer, hostile), axis, inner, scale.data(), zp.data(),
                            params, block, qy.data(), qy.size(), sgn, variant));
  Count(opq_dequantize_linear(qy.data(), qy.size(), sgn ? OPQ_DQ_INT8 : OPQ_DQ_UINT8, outer, Extent(axis, hostile),
                              inner, scale.data(), zp.data(), params, block, fy.data(), Len(fy.size(), hostile),
                              variant));
  // Pools.
  // Rows up to 93 wide at times: the SIMD max pool takes 16 and 32 outputs at a time, and its last
  // stride-2 vector reads a byte past its row (never past the input: the case this must catch).
  const size_t pn = 1 + Dim(1), pc = 1 + Dim(4), ph = 1 + Dim(12), pw = 1 + Dim(Coin() ? 12 : 92), kh = 1 + Dim(3),
               kw = 1 + Dim(3);
  const size_t sh = 1 + Dim(2), sw = 1 + Dim(2), pt = Dim(kh - 1), pl = Dim(kw - 1), pb = Dim(kh - 1), pr = Dim(kw - 1);
  const int32_t ceil = Coin();
  const size_t oh = opq_pool_output_size(ph, kh, sh, pt, pb, 1, ceil),
               ow = opq_pool_output_size(pw, kw, sw, pl, pr, 1, ceil);
  auto px = Random<int8_t>(pn * pc * ph * pw, -128, 127);
  std::vector<int8_t> py(std::max<size_t>(1, pn * pc * oh * ow));
  Count(opq_qmaxpool(pn, pc, Extent(ph, hostile), pw, kh, Extent(kw, hostile), sh, sw, pt, pl, pb, pr, 1, 1, ceil,
                     px.data(), px.size(), sgn, py.data(), Len(py.size(), hostile), variant));
  Count(opq_qavgpool(pn, Extent(pc, hostile), ph, pw, kh, kw, Extent(sh, hostile), sw, pt, pl, pb, pr, 1, 1, ceil,
                     Coin(), px.data(), Len(px.size(), hostile), sgn, Int(lo, hi), &rq1.rq, py.data(), py.size(),
                     variant));
  std::vector<int8_t> gy(pn * pc);
  Count(opq_qglobal_maxpool(pn * pc, Extent(ph * pw, hostile), px.data(), px.size(), sgn, gy.data(),
                            Len(gy.size(), hostile), variant));
  Count(opq_qglobal_avgpool(Extent(pn * pc, hostile), ph * pw, px.data(), Len(px.size(), hostile), sgn, Int(lo, hi),
                            &rq1.rq, gy.data(), gy.size(), variant));
  // Concat of up to 3 inputs, each copied or requantized.
  const size_t k = 1 + Dim(2), couter = 1 + Dim(3), cinner = 1 + Dim(4);
  std::vector<std::vector<int8_t>> ins(k);
  std::vector<const void*> ptrs(k);
  std::vector<size_t> sizes(k), dims(k);
  std::vector<int32_t> zps(k), req(k);
  std::vector<Requant> rqs;
  std::vector<opq_requant> rqv;
  size_t total = 0;
  for (size_t i = 0; i < k; ++i) {
    dims[i] = 1 + Dim(4);
    ins[i] = Random<int8_t>(couter * dims[i] * cinner, -128, 127);
    ptrs[i] = ins[i].data(), sizes[i] = Len(ins[i].size(), hostile), zps[i] = Int(lo, hi), req[i] = Coin();
    rqs.emplace_back(1, sgn);
    total += dims[i];
  }
  for (auto& q : rqs) rqv.push_back(q.rq);
  std::vector<int8_t> cy(couter * total * cinner);
  Count(opq_qconcat(k, ptrs.data(), sizes.data(), dims.data(), zps.data(), req.data(), rqv.data(),
                    Extent(couter, hostile), cinner, sgn, cy.data(), Len(cy.size(), hostile), variant));
  // Nearest resize through index tables (valid indices, or out of range when hostile).
  const size_t rnc = 1 + Dim(3), rh = 1 + Dim(8), rw = 1 + Dim(8), roh = 1 + Dim(16), row = 1 + Dim(16);
  std::vector<int32_t> yi(roh), xi(row);
  for (auto& v : yi) v = hostile && Coin() ? Int(-2, int32_t(rh) + 2) : Int(0, int32_t(rh) - 1);
  for (auto& v : xi) v = Int(0, int32_t(rw) - 1);
  auto rx = Random<int8_t>(rnc * rh * rw, -128, 127);
  std::vector<int8_t> ry(rnc * roh * row);
  Count(opq_qresize_nearest(rnc, rh, rw, roh, row, yi.data(), Len(yi.size(), hostile), xi.data(), xi.size(), rx.data(),
                            rx.size(), ry.data(), Len(ry.size(), hostile), variant));
  // Linear resize through tap tables (i0, i1, w; out of range indices or weights when hostile).
  const auto taps = [&](size_t n, size_t in) {
    std::vector<int32_t> t(3 * n);
    for (size_t i = 0; i < n; ++i) {
      t[3 * i] = hostile && Coin() ? Int(-2, int32_t(in) + 2) : Int(0, int32_t(in) - 1);
      t[3 * i + 1] = Int(0, int32_t(in) - 1);
      t[3 * i + 2] = hostile && Coin() ? Int(-5, 2100) : Int(0, 2048);
    }
    return t;
  };
  auto yt = taps(roh, rh), xt = taps(row, rw);
  Count(opq_qresize_linear(Extent(rnc, hostile), rh, rw, roh, row, yt.data(), Len(yt.size(), hostile), xt.data(),
                           xt.size(), rx.data(), Len(rx.size(), hostile), sgn, Int(lo, hi), &rq1.rq, ry.data(),
                           Len(ry.size(), hostile), variant));
  // ReduceMean over a random axes set of a rank <= 8 tensor.
  const size_t rrank = Dim(8);
  size_t rdims[8];
  int32_t rflags[8];
  size_t rn = 1, routn = 1;
  for (size_t i = 0; i < rrank; ++i) {
    rdims[i] = 1 + Dim(5);
    rflags[i] = Coin();
    rn *= rdims[i];
    if (!rflags[i]) routn *= rdims[i];
  }
  if (hostile && rrank > 0) rdims[Dim(rrank - 1)] = Boundary(rdims[0]);
  auto mx = Random<int8_t>(rn, -128, 127);
  std::vector<int8_t> my(routn);
  Count(opq_qreduce_mean(hostile && Coin() ? Boundary(rrank) : rrank, rdims, rflags, mx.data(), Len(mx.size(), hostile),
                         sgn, Int(lo, hi), &rq1.rq, my.data(), Len(my.size(), hostile), variant));
  // Transpose: a random permutation of up to 5 axes (a repeated axis when hostile).
  const size_t trank = 1 + Dim(4);
  size_t tdims[8], tperm[8], tn = 1;
  for (size_t i = 0; i < trank; ++i) {
    tdims[i] = 1 + Dim(6);
    tn *= tdims[i];
    tperm[i] = i;
  }
  std::shuffle(tperm, tperm + trank, rng);
  if (hostile && trank > 1 && Coin()) tperm[0] = tperm[1];
  if (hostile && Coin()) tdims[Dim(trank - 1)] = Boundary(tdims[0]);
  auto tx = Random<uint8_t>(tn, 0, 255);
  std::vector<uint8_t> ty(tn);
  Count(opq_transpose8(tx.data(), Len(tn, hostile), hostile && Coin() ? Boundary(trank) : trank, tdims, tperm,
                       ty.data(), Len(tn, hostile), variant));
  // Softmax along one axis: random table (entries up to past OPQ_SOFTMAX_ONE when hostile) and scales.
  const size_t so = 1 + Dim(3), sl = 1 + Dim(40), si = 1 + Dim(3), sn = so * sl * si;
  auto sx = Random<int8_t>(sn, -128, 127);
  std::vector<int8_t> sy(sn);
  auto stable = Random<uint32_t>(256, 0, hostile ? OPQ_SOFTMAX_ONE + 2 : OPQ_SOFTMAX_ONE);
  stable[0] = hostile && Coin() ? 0 : OPQ_SOFTMAX_ONE;
  Count(opq_qsoftmax(sx.data(), Len(sn, hostile), sgn, Extent(so, hostile), hostile && Coin() ? Boundary(sl) : sl, si,
                     stable.data(), Len(stable.size(), hostile), Int(1, (1 << 24) - 1), Int(0, hostile ? 70 : 62),
                     Int(lo, hi), lo, hi, sy.data(), Len(sn, hostile), sgn, variant));
  // LayerNorm over rows: eps, gm and gs over their whole ranges (the row shift below 0 and past 62),
  // with Scale/B or without; lengths past the limit, out-of-range Scale/B and fractional eps when hostile.
  const size_t lr = 1 + Dim(3), ll = 1 + Dim(hostile && Coin() ? 5000 : 300), ln = lr * ll;
  auto lx = Random<int8_t>(ln, -128, 127);
  std::vector<int8_t> lnY(ln);
  auto lg = Random<int32_t>(ll, hostile ? -40000 : -32767, hostile ? 40000 : 32767);
  auto lb = Random<int32_t>(ll, hostile ? -(1 << 21) : -(1 << 20), hostile ? 1 << 21 : 1 << 20);
  const bool laff = Coin();
  const double leps = hostile && Coin() ? Int(-3, 3) * 0.75 : double(Int(0, 1 << 30)) * (Coin() ? 1 : 1 << 20);
  Count(opq_qlayernorm(
      lx.data(), Len(ln, hostile), sgn, Int(lo, hi), Extent(lr, hostile), ll, leps,
      hostile ? Int(0, std::numeric_limits<int32_t>::max()) : Int(1 << 30, std::numeric_limits<int32_t>::max()),
      hostile ? Int(-2000, 2000) : Int(-60, 120), laff ? lg.data() : nullptr,
      laff || (hostile && Coin()) ? lb.data() : nullptr, Len(ll, hostile), Int(lo, hi), lo, hi, lnY.data(),
      Len(ln, hostile), sgn, variant));
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 300;
  rng.seed(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1);
  const bool verbose = std::getenv("OPQ_DRIVER_VERBOSE") != nullptr;  // where a slow or failing call is
  opq_threadpool* pool = opq_threadpool_create(3);
  for (const int32_t v : Variants()) {
    for (long i = 0; i < iterations; ++i) {
      const bool hostile = i % 3 == 2;
      opq_threadpool* p = Coin() ? pool : nullptr;
      if (verbose) std::fprintf(stderr, "variant %d iteration %ld\n", v, i);
      QGemm(v, hostile);
      LayerNormF32(v, hostile);
      if (verbose) std::fprintf(stderr, "  qgemm_i32\n");
      QGemmI32(v, p, hostile);
      if (verbose) std::fprintf(stderr, "  qconv\n");
      QConv(v, p, hostile);
      if (verbose) std::fprintf(stderr, "  qconvtranspose\n");
      QConvTranspose(v, p, hostile);
      if (verbose) std::fprintf(stderr, "  qconv16\n");
      QConv16(v, p, hostile);
      if (verbose) std::fprintf(stderr, "  gemm_f32\n");
      GemmF32(v, p, hostile);
      if (verbose) std::fprintf(stderr, "  conv/pool f32\n");
      ConvPoolF32(v, p, hostile);
      if (verbose) std::fprintf(stderr, "  scan/histogram f32\n");
      StatsF32(v, hostile);
      if (verbose) std::fprintf(stderr, "  sum_rows f32\n");
      SumRowsF32(v, hostile);
      if (verbose) std::fprintf(stderr, "  softmax f32\n");
      SoftmaxF32(v, hostile);
      if (verbose) std::fprintf(stderr, "  col2im f32\n");
      Col2ImF32(hostile);
      if (verbose) std::fprintf(stderr, "  conv probe f32\n");
      ConvProbeF32(v, hostile);
      if (v == Variants().front()) ExactSumF64(hostile);  // one kernel: no variants
      if (verbose) std::fprintf(stderr, "  elementwise, pools, layout\n");
      Elementwise(v, hostile);
    }
  }
  // Calls with NULL everywhere: refused, never dereferenced.
  Count(opq_qgemm(1, 1, 1, nullptr, 1, 1, 0, 0, nullptr, 1, 1, nullptr, 1, nullptr, 0, nullptr, nullptr, 1, 1, 0,
                  nullptr, 0, -1));
  Count(opq_qgemm_i32(1, 1, 1, nullptr, 1, 1, 0, nullptr, 1, nullptr, 1, 1, 0, nullptr, 1, nullptr, 1, 1, nullptr, 0,
                      -1, nullptr));
  Count(opq_qconv2d_run(nullptr, nullptr, 0, nullptr, 0, 0, 0, nullptr, nullptr, 0, 0, nullptr, 0, nullptr));
  Count(opq_qconvtranspose2d(nullptr, nullptr, 0, 0, 0, nullptr, 0, nullptr, 0, nullptr, 0, nullptr, nullptr, 0, 0,
                             nullptr, 0, -1, nullptr));
  Count(opq_qconv16(nullptr, nullptr, 0, 0, 0, nullptr, 0, nullptr, 0, nullptr, 0, nullptr, nullptr, 0, 0, nullptr, 0,
                    -1, nullptr));
  Count(opq_qconvtranspose16(nullptr, nullptr, 0, 0, 0, nullptr, 0, nullptr, 0, nullptr, 0, nullptr, nullptr, 0, 0,
                             nullptr, 0, -1, nullptr));
  Count(opq_qadd16(1, nullptr, nullptr, nullptr, 1, 0, nullptr, 1, 0, nullptr, nullptr, 1, 0, -1));
  Count(opq_qmul16(1, nullptr, nullptr, nullptr, 1, 0, 0, nullptr, 1, 0, 0, nullptr, nullptr, 1, 0, -1));
  Count(opq_conv2d_f32(nullptr, nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0, nullptr, -1));
  Count(opq_scan_f32(nullptr, 1, nullptr, 4, -1));
  Count(opq_exact_sum_add_f64(nullptr, 1, nullptr, OPQ_EXACT_SUM_WORDS));
  Count(opq_histogram_f32(nullptr, 1, 1.0, 0.0, nullptr, 16, -1));
  Count(opq_sum_rows_f32(nullptr, nullptr, 0, nullptr, 0, -1));
  const opq_sum_rows_f32_params one{1, 1, 1, 1, 1, 1, 0, 1};
  Count(opq_sum_rows_f32(&one, nullptr, 1, nullptr, 1, -1));
  Count(opq_softmax_f32(1, 1, 1, 0, nullptr, 1, nullptr, 1, -1));
  Count(opq_layernorm_f32(1, 1, nullptr, 1, nullptr, nullptr, 1, 0, nullptr, 1, -1));
  Count(opq_qadd(1, nullptr, nullptr, nullptr, 1, nullptr, 1, 0, nullptr, nullptr, 1, -1));
  Count(opq_lut2(1, nullptr, nullptr, nullptr, 1, nullptr, 1, nullptr, 65536, nullptr, 1, -1));
  Count(opq_lut(nullptr, 1, 1, nullptr, 256, nullptr, 1, -1));
  Count(opq_qconcat(1, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 1, 1, 0, nullptr, 1, -1));
  Count(opq_qresize_nearest(1, 1, 1, 1, 1, nullptr, 1, nullptr, 1, nullptr, 1, nullptr, 1, -1));
  Count(opq_qresize_linear(1, 1, 1, 1, 1, nullptr, 3, nullptr, 3, nullptr, 1, 0, 0, nullptr, nullptr, 1, -1));
  Count(opq_qreduce_mean(1, nullptr, nullptr, nullptr, 1, 0, 0, nullptr, nullptr, 1, -1));
  Count(opq_qsoftmax(nullptr, 1, 0, 1, 1, 1, nullptr, 256, 1, 0, 0, 0, 255, nullptr, 1, 0, -1));
  Count(opq_qlayernorm(nullptr, 1, 0, 0, 1, 1, 0, 1 << 30, 0, nullptr, nullptr, 0, 0, 0, 255, nullptr, 1, 0, -1));
  Count(opq_transpose8(nullptr, 1, 1, nullptr, nullptr, nullptr, 1, -1));
  opq_threadpool_destroy(pool);
  std::printf("opq_sanitize_driver: %zu calls, %zu refused, no sanitizer report\n", calls, refusals);
  return 0;
}
