// N-API glue for the pooling kernels.
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qpool.h"

namespace opq_napi {
namespace {

// n, c, h, w, kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, ceilMode
bool GetGeom(Napi::Env env, Napi::Object o, int64_t* g) {
  static const char* keys[] = {"n",         "c",        "h",         "w",         "kernelH",
                               "kernelW",   "strideH",  "strideW",   "padTop",    "padLeft",
                               "padBottom", "padRight", "dilationH", "dilationW", "ceilMode"};
  for (int i = 0; i < 15; ++i)
    if (!GetInt(env, o, keys[i], 0, INT32_MAX, &g[i])) return false;
  return true;
}

Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y;
  int32_t xs = 0, ys = 0, variant;
  int64_t g[15];
  if (!GetArgs(info, "maxPool", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetGeom(env, o, g) || !GetVariant(env, o, &variant))
    return env.Undefined();
  if (xs != ys) {
    Fail(env, "maxpool: x and y must have the same 8-bit type");
    return env.Undefined();
  }
  const char* err = RunRecorded([=] {
    return opq_qmaxpool(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13],
                        static_cast<int32_t>(g[14]), x.data, x.length, xs, y.data, y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y;
  int32_t xs = 0, ys = 0, variant;
  int64_t g[15], cip, zx;
  opq_requant rq;
  if (!GetArgs(info, "avgPool", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetGeom(env, o, g) ||
      !GetInt(env, o, "countIncludePad", 0, 1, &cip) || !GetInt(env, o, "xZeroPoint", -128, 255, &zx) ||
      !GetRequant(env, o.Get("requant"), &rq) || !GetVariant(env, o, &variant))
    return env.Undefined();
  if (xs != ys) {
    Fail(env, "avgpool: x and y must have the same 8-bit type");
    return env.Undefined();
  }
  const char* err = RunRecorded([=] {
    return opq_qavgpool(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13],
                        static_cast<int32_t>(g[14]), static_cast<int32_t>(cip), x.data, x.length, xs,
                        static_cast<int32_t>(zx), &rq, y.data, y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

Napi::Value GlobalPool(const Napi::CallbackInfo& info, bool avg) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y;
  int32_t xs = 0, ys = 0, variant;
  int64_t channels, spatial, zx = 0;
  opq_requant rq;
  if (!GetArgs(info, avg ? "globalAvgPool" : "globalMaxPool", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetInt(env, o, "channels", 0, INT32_MAX, &channels) ||
      !GetInt(env, o, "spatial", 0, INT32_MAX, &spatial) || !GetVariant(env, o, &variant))
    return env.Undefined();
  if (avg && (!GetInt(env, o, "xZeroPoint", -128, 255, &zx) || !GetRequant(env, o.Get("requant"), &rq)))
    return env.Undefined();
  if (xs != ys) {
    Fail(env, "global pool: x and y must have the same 8-bit type");
    return env.Undefined();
  }
  const char* err = RunRecorded([=] {
    return avg ? opq_qglobal_avgpool(channels, spatial, x.data, x.length, xs, static_cast<int32_t>(zx), &rq, y.data,
                                     y.length, variant)
               : opq_qglobal_maxpool(channels, spatial, x.data, x.length, xs, y.data, y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

Napi::Value GlobalMaxPool(const Napi::CallbackInfo& info) { return GlobalPool(info, false); }
Napi::Value GlobalAvgPool(const Napi::CallbackInfo& info) { return GlobalPool(info, true); }

}  // namespace

void RegisterQPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, Guarded<MaxPool>));
  exports.Set("avgPool", Napi::Function::New(env, Guarded<AvgPool>));
  exports.Set("globalMaxPool", Napi::Function::New(env, Guarded<GlobalMaxPool>));
  exports.Set("globalAvgPool", Napi::Function::New(env, Guarded<GlobalAvgPool>));
}

}  // namespace opq_napi
