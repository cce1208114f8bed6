// N-API glue for the A16W8 convolution (opq_qconv16).
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qconv16.h"

namespace opq_napi {

// A Uint8Array, Int8Array, Int16Array or Uint16Array and its OPQ_QC16_* element type.
bool GetWide(Napi::Env env, Napi::Value v, const char* what, View* out, int32_t* type) {
  if (!GetView(env, v, what, out)) return false;
  switch (out->type) {
    case napi_uint8_array:
      *type = OPQ_QC16_UINT8;
      return true;
    case napi_int8_array:
      *type = OPQ_QC16_INT8;
      return true;
    case napi_int16_array:
      *type = OPQ_QC16_INT16;
      return true;
    case napi_uint16_array:
      *type = OPQ_QC16_UINT16;
      return true;
    default:
      return Fail(env, std::string(what) + " must be a Uint8Array, Int8Array, Int16Array or Uint16Array");
  }
}

// GetRequant (napi/common.cc) with zero point and clamp bounds over the 16-bit ranges.
bool GetRequantWide(Napi::Env env, Napi::Value v, opq_requant* rq) {
  if (!v.IsObject()) return Fail(env, "requant must be an object");
  Napi::Object o = v.As<Napi::Object>();
  int64_t mode, zp, mn, mx;
  View mult, shift, scale;
  if (!GetInt(env, o, "mode", 0, 2, &mode) || !GetInt(env, o, "zeroPoint", -32768, 65535, &zp) ||
      !GetInt(env, o, "min", -32768, 65535, &mn) || !GetInt(env, o, "max", -32768, 65535, &mx) ||
      !GetTyped(env, o.Get("multiplier"), "requant.multiplier", napi_int32_array, "an Int32Array", &mult) ||
      !GetTyped(env, o.Get("shift"), "requant.shift", napi_int32_array, "an Int32Array", &shift) ||
      !GetTyped(env, o.Get("scale"), "requant.scale", napi_float32_array, "a Float32Array", &scale))
    return false;
  if (mult.length != shift.length || scale.length != shift.length || shift.length == 0 || shift.length > (1u << 28))
    return Fail(env, "requant.multiplier, requant.shift and requant.scale must have the same non-zero length");
  rq->mode = static_cast<int32_t>(mode);
  rq->count = static_cast<int32_t>(shift.length);
  rq->multiplier = static_cast<const int32_t*>(mult.data);
  rq->shift = static_cast<const int32_t*>(shift.data);
  rq->scale = static_cast<const float*>(scale.data);
  rq->output_zero_point = static_cast<int32_t>(zp);
  rq->output_min = static_cast<int32_t>(mn);
  rq->output_max = static_cast<int32_t>(mx);
  return true;
}

namespace {

// qconv16({ shape: Int32Array(16), x, xZeroPoint, w: Int8Array, wZeroPoint: Int32Array,
//   bias: Int32Array|null, requant, y, variant })
Napi::Value QConv16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View shape, x, y, w, wzp, bias;
  int32_t xt = 0, yt = 0, variant;
  int64_t zx;
  opq_requant rq;
  if (!GetArgs(info, "qconv16", &o) ||
      !GetTyped(env, o.Get("shape"), "shape", napi_int32_array, "an Int32Array(16)", &shape) ||
      !GetWide(env, o.Get("x"), "x", &x, &xt) || !GetWide(env, o.Get("y"), "y", &y, &yt) ||
      !GetTyped(env, o.Get("w"), "w", napi_int8_array, "an Int8Array", &w) ||
      !GetTyped(env, o.Get("wZeroPoint"), "wZeroPoint", napi_int32_array, "an Int32Array", &wzp) ||
      !GetInt(env, o, "xZeroPoint", -32768, 65535, &zx) || !GetRequantWide(env, o.Get("requant"), &rq) ||
      !GetVariant(env, o, &variant))
    return env.Undefined();
  Napi::Value bias_v = o.Get("bias");
  if (!bias_v.IsNull() && !bias_v.IsUndefined() &&
      !GetTyped(env, bias_v, "bias", napi_int32_array, "an Int32Array", &bias))
    return env.Undefined();
  if (shape.length != 16) {
    Fail(env, "shape must be an Int32Array of 16 fields (opq_conv2d_shape)");
    return env.Undefined();
  }
  const int32_t* f = static_cast<const int32_t*>(shape.data);
  const opq_conv2d_shape s{f[0], f[1], f[2],  f[3],  f[4],  f[5],  f[6],  f[7],
                           f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15]};
  const char* err = RunRecorded([=] {
    const std::shared_ptr<opq_threadpool> held = ThreadPool(env);  // kept alive for the call
    opq_threadpool* pool = held.get();
    return CallWithWorkspace([&] { return opq_qconv16_workspace_size(&s, variant); },
                             [&](void* ws, size_t ws_size) {
                               return opq_qconv16(&s, x.data, x.length, xt, static_cast<int32_t>(zx),
                                                  static_cast<const int8_t*>(w.data), w.length,
                                                  static_cast<const int32_t*>(wzp.data), wzp.length,
                                                  static_cast<const int32_t*>(bias.data), bias.length, &rq, y.data,
                                                  y.length, yt, ws, ws_size, variant, pool);
                             });
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQConv16(Napi::Env env, Napi::Object exports) {
  exports.Set("qconv16", Napi::Function::New(env, Guarded<QConv16>));
}

}  // namespace opq_napi
