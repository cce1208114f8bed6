// Geometry, weight packing and the shared driver of the SIMD convolution paths. Baseline code:
// the hot loops are the variant's hooks (ConvKernels), compiled for their ISA in conv-<isa>.cc.
#include <cstring>

#include "conv/conv.h"
#include "dispatch/dispatch.h"

namespace opq {
namespace {

constexpr uint64_t kMaxDim = uint64_t{1} << 28;
constexpr uint64_t kMaxElems = uint64_t{1} << 31;  // int32 offsets inside any tensor
constexpr size_t kAlign = 64;
// The im2col block of one task (pairs x pixels x 4 bytes) is kept near this size: it is
// re-read once per row tile of the weights, so it should stay in L2.
constexpr size_t kBlockBudget = 160 * 1024;

inline size_t Up(size_t v, size_t a) { return (v + a - 1) / a * a; }
inline size_t CeilDiv(size_t a, size_t b) { return (a + b - 1) / b; }

size_t HeaderBytes() { return Up(sizeof(ConvPackedHeader), kAlign); }

}  // namespace

const ConvKernels* ConvKernelsFor(int32_t variant, int32_t path) {
  if (path == kPathRef) return nullptr;
  switch (variant) {
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      return ConvKernelsAvx2();
    case OPQ_VARIANT_AVX512VNNI:
      return path == kPathVnni || path == kPathVnniDirect ? ConvKernelsAvx512Vnni() : ConvKernelsAvx2Avx512Requant();
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return ConvKernelsWasmSimd();
#endif
    default:
      return nullptr;
  }
}

const char* MakeConvGeom(const opq_conv2d_shape& s, ConvGeom* g) {
  struct F {
    int32_t v;
    int32_t min;
    const char* msg;
  };
  const F fields[] = {
      {s.batch, 0, "conv2d: batch must be in [0, 2^28]"},
      {s.in_channels, 1, "conv2d: in_channels must be in [1, 2^28]"},
      {s.in_height, 1, "conv2d: in_height must be in [1, 2^28]"},
      {s.in_width, 1, "conv2d: in_width must be in [1, 2^28]"},
      {s.out_channels, 1, "conv2d: out_channels must be in [1, 2^28]"},
      {s.kernel_h, 1, "conv2d: kernel_h must be in [1, 2^28]"},
      {s.kernel_w, 1, "conv2d: kernel_w must be in [1, 2^28]"},
      {s.groups, 1, "conv2d: groups must be in [1, 2^28]"},
      {s.stride_h, 1, "conv2d: stride_h must be in [1, 2^28]"},
      {s.stride_w, 1, "conv2d: stride_w must be in [1, 2^28]"},
      {s.dilation_h, 1, "conv2d: dilation_h must be in [1, 2^28]"},
      {s.dilation_w, 1, "conv2d: dilation_w must be in [1, 2^28]"},
      {s.pad_top, 0, "conv2d: pad_top must be in [0, 2^28]"},
      {s.pad_left, 0, "conv2d: pad_left must be in [0, 2^28]"},
      {s.pad_bottom, 0, "conv2d: pad_bottom must be in [0, 2^28]"},
      {s.pad_right, 0, "conv2d: pad_right must be in [0, 2^28]"},
  };
  for (const F& f : fields)
    if (f.v < f.min || static_cast<uint64_t>(f.v) > kMaxDim) return f.msg;
  if (s.in_channels % s.groups != 0) return "conv2d: in_channels must be a multiple of groups";
  if (s.out_channels % s.groups != 0) return "conv2d: out_channels must be a multiple of groups";
  const uint64_t ekh = uint64_t(s.kernel_h - 1) * uint64_t(s.dilation_h) + 1;
  const uint64_t ekw = uint64_t(s.kernel_w - 1) * uint64_t(s.dilation_w) + 1;
  const uint64_t ph = uint64_t(s.in_height) + uint64_t(s.pad_top) + uint64_t(s.pad_bottom);
  const uint64_t pw = uint64_t(s.in_width) + uint64_t(s.pad_left) + uint64_t(s.pad_right);
  if (ekh > ph) return "conv2d: kernel_h (dilated) is larger than the padded input height";
  if (ekw > pw) return "conv2d: kernel_w (dilated) is larger than the padded input width";
  const uint64_t oh = (ph - ekh) / uint64_t(s.stride_h) + 1, ow = (pw - ekw) / uint64_t(s.stride_w) + 1;
  const uint64_t hp = (oh - 1) * uint64_t(s.stride_h) + ekh, wp = (ow - 1) * uint64_t(s.stride_w) + ekw;
  const uint64_t kg = uint64_t(s.in_channels / s.groups) * uint64_t(s.kernel_h) * uint64_t(s.kernel_w);
  const uint64_t n = uint64_t(s.batch);
  if (uint64_t(s.in_channels) * uint64_t(s.in_height) * uint64_t(s.in_width) >= kMaxElems ||
      uint64_t(s.in_channels) * hp * wp >= kMaxElems || uint64_t(s.out_channels) * oh * ow >= kMaxElems ||
      uint64_t(s.out_channels) * kg >= kMaxElems || kg * oh * ow >= kMaxElems)
    return "conv2d: a tensor of this geometry exceeds 2^31 elements";
  if (n * uint64_t(s.in_channels) * uint64_t(s.in_height) * uint64_t(s.in_width) >= (uint64_t{1} << 40) ||
      n * uint64_t(s.out_channels) * oh * ow >= (uint64_t{1} << 40))
    return "conv2d: batch makes X or Y exceed 2^40 elements";
  g->n = size_t(s.batch);
  g->cin = size_t(s.in_channels);
  g->h = size_t(s.in_height);
  g->w = size_t(s.in_width);
  g->cout = size_t(s.out_channels);
  g->kh = size_t(s.kernel_h);
  g->kw = size_t(s.kernel_w);
  g->groups = size_t(s.groups);
  g->sh = size_t(s.stride_h);
  g->sw = size_t(s.stride_w);
  g->dh = size_t(s.dilation_h);
  g->dw = size_t(s.dilation_w);
  g->pt = size_t(s.pad_top);
  g->pl = size_t(s.pad_left);
  g->pb = size_t(s.pad_bottom);
  g->pr = size_t(s.pad_right);
  g->oh = size_t(oh);
  g->ow = size_t(ow);
  g->cin_g = g->cin / g->groups;
  g->cout_g = g->cout / g->groups;
  g->kg = size_t(kg);
  g->hp = size_t(hp);
  g->wp = size_t(wp);
  return nullptr;
}

size_t ConvTileRows(int32_t variant, int32_t path) {
  const ConvKernels* k = ConvKernelsFor(variant, path);
  return k ? (path == kPathGemmRows ? k->nr : k->mr) : 1;
}

namespace {

// A plain GEMM's geometry: kPathGemmRows (and the batch-as-pixels GEMM mode) apply.
bool GemmGeometry(const ConvGeom& g) {
  return g.h == 1 && g.w == 1 && g.kh == 1 && g.kw == 1 && g.groups == 1 && g.pt == 0 && g.pl == 0 && g.pb == 0 &&
         g.pr == 0;
}

}  // namespace

namespace {

// kPathVnniDirect's quads (k-steps): 4 channels at one tap.
size_t DirectQuads(const ConvGeom& g) { return CeilDiv(g.cin, 4) * g.kh * g.kw; }

}  // namespace

bool ConvDirectGeometry(const ConvGeom& g) {
  const size_t direct = DirectQuads(g) * 4, packed = CeilDiv(g.kg, 4) * 4;
  return g.groups == 1 && g.sh == 1 && g.sw == 1 && !GemmGeometry(g) && 8 * direct <= 9 * packed;
}

int32_t ConvChoosePath(const ConvGeom& g, int32_t variant, const int32_t* wzp, size_t wzp_count) {
  if (ConvKernelsFor(variant, kPathGemm16) == nullptr) return kPathRef;
  if (g.cin_g == 1 && g.cout_g == 1) return kPathDepthwise;
  if (variant == OPQ_VARIANT_AVX512VNNI && wzp != nullptr) {
    // u8 x s8 quads need the raw int8 weights: only when every weight zero point is 0.
    bool zero = true;
    for (size_t i = 0; i < wzp_count; ++i) zero = zero && wzp[i] == 0;
    if (zero) {
      const ConvKernels* direct = ConvKernelsFor(variant, kPathVnniDirect);
      return ConvDirectGeometry(g) && direct && direct->ukernel_direct ? kPathVnniDirect : kPathVnni;
    }
  }
  const ConvKernels* k = ConvKernelsFor(variant, kPathGemm16);
  if (GemmGeometry(g) && k->kstep == 2 && !k->u8_input) return kPathGemmRows;
  return kPathGemm16;
}

size_t ConvPackedSizeMax(const ConvGeom& g, int32_t variant) {
  const int32_t path = ConvChoosePath(g, variant, nullptr, 0);
  size_t size = ConvPackedSize(g, path, ConvTileRows(variant, path));
  if ((path == kPathGemm16 || path == kPathGemmRows) &&
      ConvKernelsFor(variant, kPathVnni) != ConvKernelsFor(variant, kPathGemm16)) {
    const int32_t vnni = ConvDirectGeometry(g) ? kPathVnniDirect : kPathVnni;
    const size_t v = ConvPackedSize(g, vnni, ConvTileRows(variant, vnni));
    if (v > size) size = v;
  }
  return size;
}

size_t ConvPackedSize(const ConvGeom& g, int32_t path, size_t mr) {
  size_t bytes = HeaderBytes() + 2 * Up(g.cout * 4, kAlign);
  switch (path) {
    case kPathGemm16:
      bytes += g.groups * CeilDiv(g.cout_g, mr) * mr * ((g.kg + 1) / 2) * 4;
      break;
    case kPathVnni:
      bytes += g.groups * CeilDiv(g.cout_g, mr) * mr * ((g.kg + 3) / 4) * 4;
      break;
    case kPathVnniDirect:  // quads of 4 channels at one tap
      bytes += CeilDiv(g.cout, mr) * mr * DirectQuads(g) * 4;
      break;
    case kPathGemmRows:  // mr is the column panel width here
      bytes += CeilDiv(g.cout, mr) * mr * ((g.kg + 1) / 2) * 4;
      break;
    case kPathDepthwise:
      bytes += g.cout * g.kh * g.kw * 4;
      break;
    default:
      bytes += g.cout * g.kg;
      break;
  }
  return Up(bytes, kAlign);
}

void ConvPack(const ConvGeom& g, const opq_conv2d_shape& s, int32_t variant, int32_t path, size_t mr, const int8_t* w,
              const int32_t* wzp, size_t wzp_count, const int32_t* bias, void* packed) {
  uint8_t* base = static_cast<uint8_t*>(packed);
  ConvPackedHeader h{};
  h.magic = kConvMagic;
  h.variant = variant;
  h.path = path;
  h.mr = static_cast<int32_t>(mr);
  h.shape = s;
  h.total_size = ConvPackedSize(g, path, mr);
  h.bias_offset = HeaderBytes();
  h.zp_offset = h.bias_offset + Up(g.cout * 4, kAlign);
  h.w_offset = h.zp_offset + Up(g.cout * 4, kAlign);
  std::memset(base, 0, h.total_size);
  std::memcpy(base, &h, sizeof(h));
  int32_t* pbias = reinterpret_cast<int32_t*>(base + h.bias_offset);
  int32_t* pzp = reinterpret_cast<int32_t*>(base + h.zp_offset);
  for (size_t c = 0; c < g.cout; ++c) {
    pbias[c] = bias ? bias[c] : 0;
    pzp[c] = wzp[wzp_count == 1 ? 0 : c];
  }
  auto wv = [&](size_t co, size_t k) { return int32_t(w[co * g.kg + k]) - pzp[co]; };
  switch (path) {
    case kPathVnni: {
      // Group gi, row tile t, quad q, row r -> 4 int8 weights (k = 4q..4q+3, 0 past kg); the
      // zero-point section holds sum_k w per channel instead (the zero points are all 0).
      const size_t kq = (g.kg + 3) / 4, tiles = CeilDiv(g.cout_g, mr);
      int8_t* out = reinterpret_cast<int8_t*>(base + h.w_offset);
      for (size_t gi = 0; gi < g.groups; ++gi)
        for (size_t t = 0; t < tiles; ++t)
          for (size_t q = 0; q < kq; ++q)
            for (size_t r = 0; r < mr; ++r)
              for (size_t e = 0; e < 4; ++e) {
                const size_t row = t * mr + r, kk = 4 * q + e;
                out[(((gi * tiles + t) * kq + q) * mr + r) * 4 + e] =
                    row < g.cout_g && kk < g.kg ? w[(gi * g.cout_g + row) * g.kg + kk] : int8_t(0);
              }
      for (size_t c = 0; c < g.cout; ++c) {
        uint32_t sum = 0;
        for (size_t kk = 0; kk < g.kg; ++kk) sum += uint32_t(int32_t(w[c * g.kg + kk]));
        pzp[c] = int32_t(sum);
      }
      break;
    }
    case kPathVnniDirect: {
      // Row tile t, quad (cq, ky, kx), row r -> the 4 int8 weights of channels 4cq..4cq+3 at tap
      // (ky, kx) (0 past cin); the zero-point section holds sum_k w, as for kPathVnni.
      const size_t cqn = CeilDiv(g.cin, 4), khw = g.kh * g.kw, kq = DirectQuads(g), tiles = CeilDiv(g.cout, mr);
      int8_t* out = reinterpret_cast<int8_t*>(base + h.w_offset);
      for (size_t t = 0; t < tiles; ++t)
        for (size_t cq = 0; cq < cqn; ++cq)
          for (size_t tap = 0; tap < khw; ++tap)
            for (size_t r = 0; r < mr; ++r)
              for (size_t e = 0; e < 4; ++e) {
                const size_t row = t * mr + r, ci = 4 * cq + e;
                out[((t * kq + cq * khw + tap) * mr + r) * 4 + e] =
                    row < g.cout && ci < g.cin ? w[row * g.kg + ci * khw + tap] : int8_t(0);
              }
      for (size_t c = 0; c < g.cout; ++c) {
        uint32_t sum = 0;
        for (size_t kk = 0; kk < g.kg; ++kk) sum += uint32_t(int32_t(w[c * g.kg + kk]));
        pzp[c] = int32_t(sum);
      }
      break;
    }
    case kPathGemm16: {
      // Group gi, row tile t, pair q, row r -> int32 holding (w[2q] - zw) low, (w[2q+1] - zw) high.
      const size_t kp = (g.kg + 1) / 2, tiles = CeilDiv(g.cout_g, mr);
      int32_t* out = reinterpret_cast<int32_t*>(base + h.w_offset);
      for (size_t gi = 0; gi < g.groups; ++gi)
        for (size_t t = 0; t < tiles; ++t)
          for (size_t q = 0; q < kp; ++q)
            for (size_t r = 0; r < mr; ++r) {
              const size_t row = t * mr + r;
              int32_t lo = 0, hi = 0;
              if (row < g.cout_g) {
                const size_t co = gi * g.cout_g + row;
                lo = wv(co, 2 * q);
                if (2 * q + 1 < g.kg) hi = wv(co, 2 * q + 1);
              }
              out[((gi * tiles + t) * kp + q) * mr + r] =
                  static_cast<int32_t>(uint32_t(uint16_t(int16_t(lo))) | (uint32_t(uint16_t(int16_t(hi))) << 16));
            }
      break;
    }
    case kPathDepthwise: {
      int32_t* out = reinterpret_cast<int32_t*>(base + h.w_offset);
      for (size_t c = 0; c < g.cout; ++c)
        for (size_t k = 0; k < g.kg; ++k) out[c * g.kg + k] = wv(c, k);
      break;
    }
    case kPathGemmRows: {
      // Column panel p (channels p*nr ..), pair q, column c -> int16 (w[2q] - zw), (w[2q+1] - zw): the
      // im2col panel layout, with the channels as the columns (0 past cout or kg).
      const size_t kp = (g.kg + 1) / 2, nr = mr, panels = CeilDiv(g.cout, nr);
      int16_t* out = reinterpret_cast<int16_t*>(base + h.w_offset);
      for (size_t pn = 0; pn < panels; ++pn)
        for (size_t q = 0; q < kp; ++q)
          for (size_t c = 0; c < nr; ++c) {
            const size_t co = pn * nr + c;
            int16_t* d = out + ((pn * kp + q) * nr + c) * 2;
            d[0] = co < g.cout ? int16_t(wv(co, 2 * q)) : int16_t(0);
            d[1] = co < g.cout && 2 * q + 1 < g.kg ? int16_t(wv(co, 2 * q + 1)) : int16_t(0);
          }
      break;
    }
    default:
      std::memcpy(base + h.w_offset, w, g.cout * g.kg);
      break;
  }
}

namespace {

// The padded input of one image (int16 x - zx, or u8), with slack for SIMD over-reads.
size_t PaddedInputBytes(const ConvGeom& g, const ConvKernels& k) {
  return Up(g.cin * g.hp * g.wp * (k.u8_input ? 1 : 2) + 128, kAlign);
}

// kPathVnniDirect: 4-channel planes of hp x wp pixels x 4 bytes; a panel's loads run up to 31 pixels
// past the last plane's end (columns computed and dropped), into this many zeroed bytes of slack.
constexpr size_t kDirectSlack = 256;
size_t DirectInputBytes(const ConvGeom& g) { return Up(CeilDiv(g.cin, 4) * g.hp * g.wp * 4 + kDirectSlack, kAlign); }

// kPathVnniDirect's flat outputs: oy * wp + ox for every output row but the last, which ends at ow.
size_t DirectPixels(const ConvGeom& g) { return (g.oh - 1) * g.wp + g.ow; }

// Shared by the threads: the padded input, then every group's im2col row offsets (koff), computed once
// per call (per pixel block they cost as much as the im2col itself on a 96-channel 3x3 layer). The
// direct path: its padded input, then each quad's byte offset in it.
size_t SharedBytes(const ConvGeom& g, const ConvPackedHeader& h, const ConvKernels& k) {
  if (h.path == kPathVnniDirect) return DirectInputBytes(g) + Up(DirectQuads(g) * sizeof(size_t), kAlign);
  return PaddedInputBytes(g, k) + Up(g.groups * g.kg * 4, kAlign);
}

// A plain GEMM: 1x1 kernel on 1x1 images, no padding; the batch becomes the pixels (columns).
bool GemmMode(const ConvGeom& g, const ConvPackedHeader& h) {
  return h.path != kPathDepthwise && g.h == 1 && g.w == 1 && g.kh == 1 && g.kw == 1 && g.groups == 1 && g.pt == 0 &&
         g.pl == 0 && g.pb == 0 && g.pr == 0;
}

size_t Pixels(const ConvGeom& g, const ConvPackedHeader& h) { return GemmMode(g, h) ? g.n : g.oh * g.ow; }

// In GEMM mode the block does not depend on the batch, so neither does the workspace size. The
// direct path's block is the B data its panels read in place (each quad's 4 bytes a pixel).
size_t PixelBlockFor(const ConvGeom& g, const ConvPackedHeader& h, size_t ks, size_t nr) {
  size_t panels = kBlockBudget / (ks * nr * 4);
  if (panels < 1) panels = 1;
  const size_t need = CeilDiv(h.path == kPathVnniDirect ? DirectPixels(g) : g.oh * g.ow, nr);
  if (!GemmMode(g, h) && panels > need) panels = need;
  return panels * nr;
}

// kPathGemmRows: rows of the batch and output channels per task block.
size_t GemmRowsBlock(const ConvKernels& k) { return k.mr * 16; }
size_t GemmColsBlock(const ConvKernels& k) { return k.nr * 16; }

size_t PerThreadBytes(const ConvGeom& g, const ConvPackedHeader& h, const ConvKernels& k) {
  if (h.path == kPathDepthwise) return Up(g.oh * g.wp * 4, kAlign) + Up(g.kg * 4, kAlign);
  if (h.path == kPathGemmRows)  // packed rows, then their int32 block
    return Up(GemmRowsBlock(k) * ((g.kg + 1) / 2) * 4, kAlign) + Up(GemmRowsBlock(k) * GemmColsBlock(k) * 4, kAlign);
  if (h.path == kPathVnniDirect) {  // the int32 block of a row tile
    const size_t nb = PixelBlockFor(g, h, DirectQuads(g), k.nr);
    return Up(size_t(h.mr) * nb * 4, kAlign);
  }
  const size_t ks = CeilDiv(g.kg, k.kstep), nb = PixelBlockFor(g, h, ks, k.nr);
  return Up(ks * nb * 4, kAlign) + Up(size_t(h.mr) * nb * 4, kAlign) + Up(k.nr * 4, kAlign) +
         Up(size_t(h.mr) * nb, kAlign);
}

}  // namespace

namespace {

// Row copies of the padded input, written so the compiler vectorizes them (no aliasing, no branch).
void CopyRowU8(const uint8_t* __restrict s, size_t n, uint8_t flip, uint8_t* __restrict d) {
  for (size_t j = 0; j < n; ++j) d[j] = uint8_t(s[j] ^ flip);
}

void CopyRowI16(const uint8_t* __restrict s, size_t n, bool is_signed, int32_t zx, int16_t* __restrict d) {
  if (is_signed) {
    const int8_t* ss = reinterpret_cast<const int8_t*>(s);
    for (size_t j = 0; j < n; ++j) d[j] = int16_t(int16_t(ss[j]) - int16_t(zx));
  } else {
    for (size_t j = 0; j < n; ++j) d[j] = int16_t(int16_t(s[j]) - int16_t(zx));
  }
}

}  // namespace

size_t ConvWorkspaceSize(const ConvGeom& g, const ConvPackedHeader& h, size_t threads) {
  if (threads < 1) threads = 1;
  const ConvKernels* k = ConvKernelsFor(h.variant, h.path);
  if (k == nullptr) return 64;
  return SharedBytes(g, h, *k) + threads * PerThreadBytes(g, h, *k) + kAlign;
}

void DwRowScalar(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ox0,
                 size_t ow, int32_t* acc) {
  for (size_t ox = ox0; ox < ow; ++ox) {
    uint32_t s = 0;  // wrapping int32 sum
    for (size_t t = 0; t < taps; ++t) s += uint32_t(w[t] * int32_t(row[tapoff[t] + ox * stride]));
    acc[ox] = int32_t(s);
  }
}

// Below this many multiply-adds per image a convolution runs on the calling thread: waking the
// pool costs more than it saves (PaddleOCR cls, whose convolutions are 0.05-2 M MACs, ran 1.6-2x
// slower on 2 threads than on 1). Higher than the float threshold: int8 MACs are ~4x cheaper.
constexpr uint64_t kMinParallelMacs = uint64_t{1} << 22;

namespace {

// kPathVnniDirect (see conv.h): per image, the 4-channel padded planes (tasks: channel quads), then
// tasks of (pixel block, row chunk) as the im2col paths have, over flat output columns. Each row of
// an int32 block is requantized per output row it covers, the columns past ow dropped.
void RunDirect(const ConvRunArgs& a, const ConvKernels& k, uint8_t* ws, uint8_t* tws, size_t per_thread,
               const int32_t* bias, const int32_t* wsum, uint8_t flip, int32_t zx_u8) {
  const ConvGeom& g = *a.g;
  const ConvPackedHeader& h = *a.h;
  const size_t cqn = CeilDiv(g.cin, 4), kq = DirectQuads(g), plane = g.hp * g.wp * 4;
  const size_t mr = size_t(h.mr), nr = k.nr, threads = PoolThreads(a.pool);
  const size_t flat = DirectPixels(g), pixels = g.oh * g.ow;
  const size_t nb = PixelBlockFor(g, h, kq, nr), blocks = CeilDiv(flat, nb), tiles = CeilDiv(g.cout, mr);
  uint8_t* xc4 = ws;
  size_t* boff = reinterpret_cast<size_t*>(ws + DirectInputBytes(g));
  for (size_t cq = 0; cq < cqn; ++cq)
    for (size_t ky = 0; ky < g.kh; ++ky)
      for (size_t kx = 0; kx < g.kw; ++kx)
        boff[(cq * g.kh + ky) * g.kw + kx] = cq * plane + (ky * g.dh * g.wp + kx * g.dw) * 4;
  std::memset(xc4 + cqn * plane, 0, kDirectSlack);  // read only into dropped columns
  // Split rows too when pixel blocks alone leave threads idle.
  size_t chunks = 1;
  while (threads > 1 && blocks * chunks < 4 * threads && chunks < tiles) ++chunks;
  const size_t tiles_per_chunk = CeilDiv(tiles, chunks);
  const uint8_t* wts = reinterpret_cast<const uint8_t*>(a.h) + h.w_offset;
  for (size_t n = 0; n < g.n; ++n) {
    const uint8_t* x = a.x + n * g.cin * g.h * g.w;
    uint8_t* y = a.y + n * g.cout * pixels;
    auto pad = [&](size_t cq, size_t) {
      k.pad_c4(x, g.cin, g.h, g.w, g.hp, g.wp, g.pt, g.pl, flip, uint8_t(zx_u8), cq, xc4 + cq * plane);
    };
    ParallelFor(a.pool, cqn, pad);
    auto task = [&](size_t id, size_t thread) {
      const size_t chunk = id % chunks, blk = id / chunks;
      const size_t t0 = chunk * tiles_per_chunk, t1 = t0 + tiles_per_chunk < tiles ? t0 + tiles_per_chunk : tiles;
      if (t0 >= t1) return;
      int32_t* cbuf = reinterpret_cast<int32_t*>(tws + thread * per_thread);
      const size_t p0 = blk * nb, cols = flat - p0 < nb ? flat - p0 : nb, panels = CeilDiv(cols, nr), ldc = panels * nr;
      for (size_t ti = t0; ti < t1; ++ti) {
        const uint8_t* ap = wts + ti * kq * mr * 4;
        const size_t rows = g.cout - ti * mr < mr ? g.cout - ti * mr : mr;
        for (size_t j = 0; j < panels; ++j)
          k.ukernel_direct(kq, rows, ap, xc4 + (p0 + j * nr) * 4, boff, cbuf + j * nr, ldc);
        for (size_t r = 0; r < rows; ++r) {
          const size_t co = ti * mr + r;
          const int32_t b = int32_t(uint32_t(bias[co]) - uint32_t(zx_u8) * uint32_t(wsum[co]));
          // Rows as wide as the padded input (1x1 layers without padding): flat is the output index.
          if (g.wp == g.ow) {
            k.requant_channel(cbuf + r * ldc, b, cols, *a.rq, co, y + co * pixels + p0);
            continue;
          }
          // Flat columns [f, end) of output row oy: f - oy * wp < ow.
          for (size_t f = p0; f < p0 + cols;) {
            const size_t oy = f / g.wp, ox = f - oy * g.wp;
            if (ox >= g.ow) {
              f = (oy + 1) * g.wp;
              continue;
            }
            const size_t end = oy * g.wp + g.ow < p0 + cols ? oy * g.wp + g.ow : p0 + cols;
            k.requant_channel(cbuf + r * ldc + (f - p0), b, end - f, *a.rq, co, y + co * pixels + oy * g.ow + ox);
            f = end;
          }
        }
      }
    };
    ParallelFor(a.pool, blocks * chunks, task);
  }
}

}  // namespace

void ConvRunDriver(const ConvRunArgs& a_in, const ConvKernels& k) {
  const ConvGeom& g = *a_in.g;
  const ConvPackedHeader& h = *a_in.h;
  ConvRunArgs a = a_in;
  if (uint64_t(g.oh) * g.ow * g.cout * g.kg < kMinParallelMacs) a.pool = nullptr;
  const uint8_t* pk = reinterpret_cast<const uint8_t*>(a.h);
  const int32_t* bias = reinterpret_cast<const int32_t*>(pk + h.bias_offset);
  const int32_t* wsum = reinterpret_cast<const int32_t*>(pk + h.zp_offset);  // the vnni paths only
  const size_t threads = PoolThreads(a.pool);
  const size_t pixels = g.oh * g.ow, plane = g.hp * g.wp, esize = k.u8_input ? 1 : 2;
  uint8_t* ws = reinterpret_cast<uint8_t*>(Up(reinterpret_cast<uintptr_t>(a.workspace), kAlign));
  uint8_t* xpad = ws;
  uint8_t* tws = ws + SharedBytes(g, h, k);
  const size_t per_thread = PerThreadBytes(g, h, k);
  // u8 input: x (or x ^ 0x80 for int8, with the zero point moved by 128) and padding = the zero point.
  const uint8_t flip = a.x_signed ? 0x80 : 0;
  const int32_t zx = a.x_zero_point, zx_u8 = a.x_zero_point + (a.x_signed ? 128 : 0);
  if (h.path == kPathVnniDirect) {  // its own padded input (4-channel planes) and slack
    RunDirect(a, k, ws, tws, per_thread, bias, wsum, flip, zx_u8);
    return;
  }
  std::memset(xpad + g.cin * plane * esize, 0, 128);  // the over-read slack holds defined values

  if (h.path == kPathGemmRows) {
    // Y (batch x cout) = X (batch x cin) times the weights: blocks of batch rows packed per task (row
    // panels of mr), the weights' column panels of nr from the packed buffer, and each row of an
    // int32 block requantized along its channels straight into Y. Tasks: row blocks, and channel
    // chunks when the row blocks alone leave threads idle. The whole batch counts toward the
    // parallel threshold (the per-image count above is one row's).
    opq_threadpool* pool = uint64_t(g.n) * g.cout * g.kg < kMinParallelMacs ? nullptr : a_in.pool;
    const size_t mr = k.mr, nr = k.nr, kp = (g.kg + 1) / 2;
    const size_t mb = GemmRowsBlock(k), nb = GemmColsBlock(k);
    const size_t row_blocks = CeilDiv(g.n, mb), col_blocks = CeilDiv(g.cout, nb), nthreads = PoolThreads(pool);
    size_t chunks = 1;
    while (nthreads > 1 && row_blocks * chunks < 4 * nthreads && chunks < col_blocks) ++chunks;
    const size_t blocks_per_chunk = CeilDiv(col_blocks, chunks);
    const uint8_t* wts = pk + h.w_offset;
    auto task = [&](size_t id, size_t thread) {
      const size_t rb = id / chunks, chunk = id % chunks;
      const size_t b0 = chunk * blocks_per_chunk,
                   b1 = b0 + blocks_per_chunk < col_blocks ? b0 + blocks_per_chunk : col_blocks;
      if (b0 >= b1) return;
      uint8_t* apack = tws + thread * per_thread;
      int32_t* cbuf = reinterpret_cast<int32_t*>(apack + Up(mb * kp * 4, kAlign));
      const size_t m0 = rb * mb, rows = g.n - m0 < mb ? g.n - m0 : mb, apanels = CeilDiv(rows, mr);
      for (size_t ip = 0; ip < apanels; ++ip) {
        const size_t r0 = m0 + ip * mr;
        k.pack_rows(a.x + r0 * g.cin, g.cin, g.n - r0 < mr ? g.n - r0 : mr, g.kg, a.x_signed, zx, mr,
                    apack + ip * kp * mr * 4);
      }
      for (size_t cb = b0; cb < b1; ++cb) {
        const size_t c0 = cb * nb, cols = g.cout - c0 < nb ? g.cout - c0 : nb, bpanels = CeilDiv(cols, nr);
        for (size_t jp = 0; jp < bpanels; ++jp) {
          const uint8_t* bp = wts + (c0 / nr + jp) * kp * nr * 4;
          for (size_t ip = 0; ip < apanels; ++ip)
            k.ukernel(kp, apack + ip * kp * mr * 4, bp, cbuf + ip * mr * nb + jp * nr, nb);
        }
        for (size_t r = 0; r < rows; ++r)
          k.requant(cbuf + r * nb, bias + c0, cols, *a.rq, c0, a.y + (m0 + r) * g.cout + c0);
      }
    };
    ParallelFor(pool, row_blocks * chunks, task);
    return;
  }

  const bool gemm = GemmMode(g, h);
  // Pointwise: panels come straight from x (pack_cols), so no padded copy and no row offsets.
  const bool pointwise = k.pack_cols != nullptr && h.path == kPathGemm16 && !gemm && g.kh == 1 && g.kw == 1 &&
                         g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.pb == 0 && g.pr == 0;
  // Row offsets of im2col: tap kk of group gi reads the padded plane at koff_all[gi * kg + kk].
  int32_t* koff_all = reinterpret_cast<int32_t*>(ws + PaddedInputBytes(g, k));
  if (!gemm && !pointwise && h.path != kPathDepthwise) {
    const size_t khw = g.kh * g.kw;
    for (size_t gi = 0; gi < g.groups; ++gi)
      for (size_t kk = 0; kk < g.kg; ++kk) {
        const size_t ci = kk / khw, r = kk % khw, ky = r / g.kw, kx = r % g.kw;
        koff_all[gi * g.kg + kk] = int32_t(((gi * g.cin_g + ci) * g.hp + ky * g.dh) * g.wp + kx * g.dw);
      }
  }
  // In GEMM mode one pass covers the whole batch: its images are the pixels.
  for (size_t n = 0; n < (gemm ? 1 : g.n); ++n) {
    const uint8_t* x = a.x + n * g.cin * g.h * g.w;
    uint8_t* y = a.y + n * g.cout * pixels;
    auto pad = [&](size_t c, size_t) {
      const uint8_t* src = x + c * g.h * g.w;
      // Rows and columns of the image that the padded plane holds.
      const size_t r0 = g.pt < g.hp ? g.pt : g.hp, r1 = g.pt + g.h < g.hp ? g.pt + g.h : g.hp;
      const size_t x0 = g.pl < g.wp ? g.pl : g.wp, x1 = g.pl + g.w < g.wp ? g.pl + g.w : g.wp;
      if (k.u8_input) {
        uint8_t* d = xpad + c * plane;
        std::memset(d, zx_u8, plane);  // padding = the zero point
        if (x1 > x0)
          for (size_t r = r0; r < r1; ++r)
            CopyRowU8(src + (r - g.pt) * g.w + (x0 - g.pl), x1 - x0, flip, d + r * g.wp + x0);
      } else {
        int16_t* d = reinterpret_cast<int16_t*>(xpad) + c * plane;
        std::memset(d, 0, plane * 2);  // x - zx: padding reads as 0 = (zx - zx)
        if (x1 > x0)
          for (size_t r = r0; r < r1; ++r)
            CopyRowI16(src + (r - g.pt) * g.w + (x0 - g.pl), x1 - x0, a.x_signed, zx, d + r * g.wp + x0);
      }
    };
    if (!gemm && !pointwise) ParallelFor(a.pool, g.cin, pad);

    if (h.path == kPathDepthwise) {
      const int32_t* wts = reinterpret_cast<const int32_t*>(pk + h.w_offset);
      auto task = [&](size_t c, size_t thread) {
        uint8_t* t = tws + thread * per_thread;
        int32_t* acc = reinterpret_cast<int32_t*>(t);
        int32_t* tapoff = reinterpret_cast<int32_t*>(t + Up(g.oh * g.wp * 4, kAlign));
        for (size_t ky = 0; ky < g.kh; ++ky)
          for (size_t kx = 0; kx < g.kw; ++kx) tapoff[ky * g.kw + kx] = int32_t(ky * g.dh * g.wp + kx * g.dw);
        const int16_t* xc = reinterpret_cast<const int16_t*>(xpad) + c * plane;
        if (g.sh == 1 && g.sw == 1) {
          // Stride 1: the output rows, each padded to wp, are one 1-D convolution over the flattened
          // plane (acc[oy*wp + ox]); one long vectorized call, then the wp - ow extra columns dropped.
          k.dw_row(xc, wts + c * g.kg, tapoff, g.kg, 1, (g.oh - 1) * g.wp + g.ow, acc);
          for (size_t oy = 1; oy < g.oh; ++oy) std::memmove(acc + oy * g.ow, acc + oy * g.wp, g.ow * 4);
        } else {
          for (size_t oy = 0; oy < g.oh; ++oy)
            k.dw_row(xc + oy * g.sh * g.wp, wts + c * g.kg, tapoff, g.kg, g.sw, g.ow, acc + oy * g.ow);
        }
        k.requant_channel(acc, bias[c], pixels, *a.rq, c, y + c * pixels);
      };
      ParallelFor(a.pool, g.cout, task);
      continue;
    }

    // Gemm paths: tasks are (group, pixel block, row chunk).
    const size_t mr = size_t(h.mr), nr = k.nr, ks = CeilDiv(g.kg, k.kstep), cols_total = Pixels(g, h);
    const size_t nb = PixelBlockFor(g, h, ks, nr), blocks = CeilDiv(cols_total, nb), tiles = CeilDiv(g.cout_g, mr);
    size_t chunks = 1;  // split rows too when pixel blocks alone leave threads idle
    while (threads > 1 && g.groups * blocks * chunks < 4 * threads && chunks < tiles) ++chunks;
    const size_t tiles_per_chunk = CeilDiv(tiles, chunks);
    const uint8_t* wts = pk + h.w_offset;
    auto task = [&](size_t id, size_t thread) {
      const size_t chunk = id % chunks, blk = (id / chunks) % blocks, gi = id / chunks / blocks;
      const size_t t0 = chunk * tiles_per_chunk, t1 = t0 + tiles_per_chunk < tiles ? t0 + tiles_per_chunk : tiles;
      if (t0 >= t1) return;
      uint8_t* t = tws + thread * per_thread;
      uint8_t* bbuf = t;
      int32_t* cbuf = reinterpret_cast<int32_t*>(t + Up(ks * nb * 4, kAlign));
      int32_t* off = reinterpret_cast<int32_t*>(t + Up(ks * nb * 4, kAlign) + Up(mr * nb * 4, kAlign));
      uint8_t* ybuf = t + Up(ks * nb * 4, kAlign) + Up(mr * nb * 4, kAlign) + Up(nr * 4, kAlign);
      if (gemm) {
        // X rows are the columns; Y (batch x cout) gets each row tile transposed.
        const size_t p0 = blk * nb, cols = cols_total - p0 < nb ? cols_total - p0 : nb, panels = CeilDiv(cols, nr);
        for (size_t j = 0; j < panels; ++j) {
          const size_t pj = p0 + j * nr;
          k.pack_rows(x + pj * g.cin, g.cin, cols_total - pj < nr ? cols_total - pj : nr, g.kg, a.x_signed, zx, nr,
                      bbuf + j * ks * nr * 4);
        }
        const size_t ldc = panels * nr;
        for (size_t ti = t0; ti < t1; ++ti) {
          const uint8_t* ap = wts + ti * ks * mr * 4;
          for (size_t j = 0; j < panels; ++j) k.ukernel(ks, ap, bbuf + j * ks * nr * 4, cbuf + j * nr, ldc);
          const size_t rows = g.cout - ti * mr < mr ? g.cout - ti * mr : mr;
          for (size_t r = 0; r < rows; ++r) {
            const size_t co = ti * mr + r;
            int32_t* row = cbuf + r * ldc;
            uint32_t b = uint32_t(bias[co]);
            if (k.u8_input) b -= uint32_t(zx_u8) * uint32_t(wsum[co]);
            k.requant_channel(row, int32_t(b), cols, *a.rq, co, ybuf + r * nb);
          }
          for (size_t i = 0; i < cols; ++i) {
            uint8_t* dst = y + (p0 + i) * g.cout + ti * mr;
            for (size_t r = 0; r < rows; ++r) dst[r] = ybuf[r * nb + i];
          }
        }
        return;
      }
      const size_t p0 = blk * nb, cols = pixels - p0 < nb ? pixels - p0 : nb, panels = CeilDiv(cols, nr);
      if (pointwise) {
        const uint8_t* xg = x + gi * g.cin_g * pixels;  // pixels = h * w: no padding, stride 1
        for (size_t j = 0; j < panels; ++j) {
          const size_t pj = p0 + j * nr;
          int16_t* panel = reinterpret_cast<int16_t*>(bbuf + j * ks * nr * 4);
          // The SIMD hooks pack whole panels; the row's last, narrower one is packed here.
          if (pixels - pj < nr)
            PackColsScalar(xg + pj, pixels, pixels - pj, g.kg, a.x_signed, zx, nr, 0, (g.kg + 1) / 2, panel);
          else
            k.pack_cols(xg + pj, pixels, g.kg, a.x_signed, zx, panel);
        }
      } else {
        const int32_t* koff = koff_all + gi * g.kg;
        for (size_t j = 0; j < panels; ++j) {
          const size_t pj = p0 + j * nr;
          size_t oy = pj / g.ow, ox = pj % g.ow;
          bool regular = true;
          for (size_t c = 0; c < nr; ++c) {
            if (pj + c < pixels) {
              off[c] = int32_t(oy * g.sh * g.wp + ox * g.sw);
              if (++ox == g.ow) {
                ox = 0;
                ++oy;
              }
            } else {
              off[c] = off[c - 1];  // a column past the end: any valid offset, the result is dropped
            }
            regular = regular && size_t(off[c]) == size_t(off[0]) + c * g.sw;
          }
          k.im2col(xpad, koff, g.kg, off, regular, g.sw, bbuf + j * ks * nr * 4);
        }
      }
      const size_t ldc = panels * nr;
      for (size_t ti = t0; ti < t1; ++ti) {
        const uint8_t* ap = wts + (gi * tiles + ti) * ks * mr * 4;
        for (size_t j = 0; j < panels; ++j) k.ukernel(ks, ap, bbuf + j * ks * nr * 4, cbuf + j * nr, ldc);
        for (size_t r = 0; r < mr && ti * mr + r < g.cout_g; ++r) {
          const size_t co = gi * g.cout_g + ti * mr + r;
          int32_t* row = cbuf + r * ldc;
          // bias, and for u8 quads -zx * sum(w): sum((x - zx) w) = sum(x w) - zx sum(w), wrapping.
          uint32_t b = uint32_t(bias[co]);
          if (k.u8_input) b -= uint32_t(zx_u8) * uint32_t(wsum[co]);
          k.requant_channel(row, int32_t(b), cols, *a.rq, co, y + co * pixels + p0);
        }
      }
    };
    ParallelFor(a.pool, g.groups * blocks * chunks, task);
  }
}

}  // namespace opq
