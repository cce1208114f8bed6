// N-API glue for the A16W8 convolution (opq_qconv16).
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qconv16.h"

namespace opq_napi {

namespace {

// qconv16({ shape: Int32Array(16), x, xZeroPoint, w: Int8Array, wZeroPoint: Int32Array,
//   bias: Int32Array|null, requant, y, variant })
Napi::Value QConv16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvCallArgs a;
  if (!GetConvCallArgs(info, "qconv16", 16, true, &a)) return env.Undefined();
  const int32_t* f = static_cast<const int32_t*>(a.shape.data);
  const opq_conv2d_shape s{f[0], f[1], f[2],  f[3],  f[4],  f[5],  f[6],  f[7],
                           f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15]};
  const char* err = RunRecorded([=] {
    const std::shared_ptr<opq_threadpool> held = ThreadPool(env);  // kept alive for the call
    opq_threadpool* pool = held.get();
    return CallWithWorkspace([&] { return opq_qconv16_workspace_size(&s, a.variant); },
                             [&](void* ws, size_t ws_size) {
                               return opq_qconv16(&s, a.x.data, a.x.length, a.xt, static_cast<int32_t>(a.zx),
                                                  static_cast<const int8_t*>(a.w.data), a.w.length,
                                                  static_cast<const int32_t*>(a.wzp.data), a.wzp.length,
                                                  static_cast<const int32_t*>(a.bias.data), a.bias.length, &a.rq,
                                                  a.y.data, a.y.length, a.yt, ws, ws_size, a.variant, pool);
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
