// Validated C entry points of integer convolution. Every size is checked here before any kernel
// touches memory; the packed weights are checked against the geometry they are run with.
#include <cstring>

#include "conv/conv.h"
#include "dispatch/dispatch.h"
#include "opq_conv.h"

namespace {

int32_t Resolve(int32_t variant) { return variant == OPQ_VARIANT_AUTO ? opq::AutoVariant() : variant; }

bool SameShape(const opq_conv2d_shape& a, const opq_conv2d_shape& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

// Reads and checks the header of packed weights; NULL or the refusal.
const char* CheckPacked(const void* packed, size_t packed_size, opq::ConvPackedHeader* h, opq::ConvGeom* g) {
  if (packed == nullptr) return "qconv2d: packed is null";
  if (reinterpret_cast<uintptr_t>(packed) % 8 != 0) return "qconv2d: packed must be 8-byte aligned";
  if (packed_size < sizeof(opq::ConvPackedHeader)) return "qconv2d: packed is smaller than its header";
  std::memcpy(h, packed, sizeof(*h));
  if (h->magic != opq::kConvMagic) return "qconv2d: packed does not hold packed convolution weights";
  if (opq::MakeConvGeom(h->shape, g) != nullptr) return "qconv2d: packed holds an invalid geometry";
  if (h->path < opq::kPathRef || h->path > opq::kPathVnniDirect) return "qconv2d: packed has an unknown path";
  if (!opq::VariantAvailable(h->variant)) return "qconv2d: packed was made for a variant not available here";
  const opq::ConvKernels* k = opq::ConvKernelsFor(h->variant, h->path);
  if ((h->path != opq::kPathRef && k == nullptr) || size_t(h->mr) != opq::ConvTileRows(h->variant, h->path))
    return "qconv2d: packed does not match its variant";
  // The quad paths run only on the hooks that have them, the direct one only on its geometry: a
  // header naming them otherwise would run other kernels over quad-packed weights.
  const bool quads = h->path == opq::kPathVnni || h->path == opq::kPathVnniDirect;
  if (quads && (k->kstep != 4 || !k->u8_input)) return "qconv2d: packed does not match its variant";
  if (h->path == opq::kPathVnniDirect && (!k->ukernel_direct || !k->pad_c4 || !opq::ConvDirectGeometry(*g)))
    return "qconv2d: packed does not match its variant";
  const size_t need = opq::ConvPackedSize(*g, h->path, size_t(h->mr));
  if (h->total_size != need || packed_size < need) return "qconv2d: packed is smaller than its contents";
  return nullptr;
}

}  // namespace

extern "C" {

const char* opq_conv2d_output_size(const opq_conv2d_shape* s, int32_t* out_h, int32_t* out_w) {
  if (s == nullptr) return "conv2d: shape is null";
  opq::ConvGeom g;
  if (const char* err = opq::MakeConvGeom(*s, &g)) return err;
  if (out_h) *out_h = int32_t(g.oh);
  if (out_w) *out_w = int32_t(g.ow);
  return nullptr;
}

int32_t opq_qconv2d_auto_variant(void) { return opq::AutoVariant(); }

size_t opq_qconv2d_packed_size(const opq_conv2d_shape* s, int32_t variant) {
  opq::ConvGeom g;
  if (s == nullptr || opq::MakeConvGeom(*s, &g) != nullptr) return 0;
  const int32_t v = Resolve(variant);
  if (!opq::VariantAvailable(v)) return 0;
  return opq::ConvPackedSizeMax(g, v);
}

const char* opq_qconv2d_pack(const opq_conv2d_shape* s, const int8_t* w, size_t w_size, const int32_t* w_zero_point,
                             size_t w_zero_point_count, const int32_t* bias, size_t bias_count, int32_t variant,
                             void* packed, size_t packed_size) {
  if (s == nullptr) return "qconv2d_pack: shape is null";
  opq::ConvGeom g;
  if (const char* err = opq::MakeConvGeom(*s, &g)) return err;
  const int32_t v = Resolve(variant);
  if (!opq::VariantAvailable(v)) return "qconv2d_pack: variant is not available on this CPU or build";
  if (w_size < g.cout * g.kg)
    return "qconv2d_pack: buffer W is smaller than out_channels*(in_channels/groups)*kernel_h*kernel_w";
  if (w == nullptr) return "qconv2d_pack: W is null";
  if (w_zero_point == nullptr) return "qconv2d_pack: w_zero_point is null";
  if (w_zero_point_count != 1 && w_zero_point_count != g.cout)
    return "qconv2d_pack: w_zero_point must have 1 or out_channels entries";
  for (size_t i = 0; i < w_zero_point_count; ++i)
    if (w_zero_point[i] < -128 || w_zero_point[i] > 127) return "qconv2d_pack: w_zero_point out of int8 range";
  if (bias_count != 0 && bias_count != g.cout) return "qconv2d_pack: bias must have 0 or out_channels entries";
  if (bias_count != 0 && bias == nullptr) return "qconv2d_pack: bias is null";
  const int32_t path = opq::ConvChoosePath(g, v, w_zero_point, w_zero_point_count);
  const size_t mr = opq::ConvTileRows(v, path);
  if (packed == nullptr) return "qconv2d_pack: packed is null";
  if (reinterpret_cast<uintptr_t>(packed) % 8 != 0) return "qconv2d_pack: packed must be 8-byte aligned";
  if (packed_size < opq::ConvPackedSize(g, path, mr))
    return "qconv2d_pack: packed is smaller than opq_qconv2d_packed_size()";
  opq::ConvPack(g, *s, v, path, mr, w, w_zero_point, w_zero_point_count, bias_count ? bias : nullptr, packed);
  return nullptr;
}

size_t opq_qconv2d_workspace_size(const void* packed, size_t packed_size, size_t threads) {
  opq::ConvPackedHeader h;
  opq::ConvGeom g;
  if (CheckPacked(packed, packed_size, &h, &g) != nullptr) return 0;
  return opq::ConvWorkspaceSize(g, h, threads);
}

const char* opq_qconv2d_run(const opq_conv2d_shape* s, const void* packed, size_t packed_size, const void* x,
                            size_t x_size, int32_t x_signed, int32_t x_zero_point, const opq_requant* rq, void* y,
                            size_t y_size, int32_t y_signed, void* workspace, size_t workspace_size,
                            opq_threadpool* pool) {
  if (s == nullptr) return "qconv2d: shape is null";
  opq::ConvGeom g;
  if (const char* err = opq::MakeConvGeom(*s, &g)) return err;
  opq::ConvPackedHeader h;
  opq::ConvGeom pg;
  if (const char* err = CheckPacked(packed, packed_size, &h, &pg)) return err;
  opq_conv2d_shape packed_shape = h.shape;
  packed_shape.batch = s->batch;  // the batch is not part of the weights
  if (!SameShape(packed_shape, *s)) return "qconv2d: packed weights were made for a different geometry";
  if (x_size < g.n * g.cin * g.h * g.w) return "qconv2d: buffer X is smaller than batch*in_channels*in_height*in_width";
  if (g.n > 0 && x == nullptr) return "qconv2d: X is null";
  if (y_size < g.n * g.cout * g.oh * g.ow) return "qconv2d: buffer Y is smaller than batch*out_channels*out_h*out_w";
  if (g.n > 0 && y == nullptr) return "qconv2d: Y is null";
  const int32_t xmin = x_signed ? -128 : 0, xmax = x_signed ? 127 : 255;
  if (x_zero_point < xmin || x_zero_point > xmax) return "qconv2d: x_zero_point out of X's type range";
  if (const char* err = opq::ValidateRequant(rq, g.cout, y_signed)) return err;
  if (g.n == 0) return nullptr;
  const size_t threads = opq::PoolThreads(pool);
  if (workspace_size < opq::ConvWorkspaceSize(g, h, threads))
    return "qconv2d: workspace is smaller than opq_qconv2d_workspace_size()";
  if (workspace == nullptr) return "qconv2d: workspace is null";
  // The packed header is read again from the buffer (aligned, checked above) by the kernels.
  const opq::ConvPackedHeader* ph = static_cast<const opq::ConvPackedHeader*>(packed);
  const opq::ConvRunArgs args{&g,           ph, static_cast<const uint8_t*>(x), x_signed != 0,
                              x_zero_point, rq, static_cast<uint8_t*>(y),       workspace,
                              pool};
  const opq::ConvKernels* k = opq::ConvKernelsFor(h.variant, h.path);
  if (k == nullptr)
    opq::ConvRunRef(args);
  else
    opq::ConvRunDriver(args, *k);
  return nullptr;
}

}  // extern "C"
