// N-API glue for the A16W8 ConvTranspose (opq_qconvtranspose16).
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qconvtranspose16.h"

namespace opq_napi {
namespace {

// qconvTranspose16({ shape: Int32Array(18), x, xZeroPoint, w: Int8Array, wZeroPoint: Int32Array,
//   bias: Int32Array|null, requant, y, variant })
Napi::Value QConvTranspose16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View shape, x, y, w, wzp, bias;
  int32_t xt = 0, yt = 0, variant;
  int64_t zx;
  opq_requant rq;
  if (!GetArgs(info, "qconvTranspose16", &o) ||
      !GetTyped(env, o.Get("shape"), "shape", napi_int32_array, "an Int32Array(18)", &shape) ||
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
  if (shape.length != 18) {
    Fail(env, "shape must be an Int32Array of 18 fields (opq_convtranspose2d_shape)");
    return env.Undefined();
  }
  const int32_t* f = static_cast<const int32_t*>(shape.data);
  const opq_convtranspose2d_shape s{f[0], f[1],  f[2],  f[3],  f[4],  f[5],  f[6],  f[7],  f[8],
                                    f[9], f[10], f[11], f[12], f[13], f[14], f[15], f[16], f[17]};
  const char* err = RunRecorded([=] {
    const std::shared_ptr<opq_threadpool> held = ThreadPool(env);  // kept alive for the call
    opq_threadpool* pool = held.get();
    return CallWithWorkspace([&] { return opq_qconvtranspose16_workspace_size(&s, variant); },
                             [&](void* ws, size_t ws_size) {
                               return opq_qconvtranspose16(&s, x.data, x.length, xt, static_cast<int32_t>(zx),
                                                           static_cast<const int8_t*>(w.data), w.length,
                                                           static_cast<const int32_t*>(wzp.data), wzp.length,
                                                           static_cast<const int32_t*>(bias.data), bias.length, &rq,
                                                           y.data, y.length, yt, ws, ws_size, variant, pool);
                             });
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQConvTranspose16(Napi::Env env, Napi::Object exports) {
  exports.Set("qconvTranspose16", Napi::Function::New(env, Guarded<QConvTranspose16>));
}

}  // namespace opq_napi
