// N-API glue for the table lookup, QuantizeLinear, DequantizeLinear, Softmax and LayerNorm.
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qlayernorm.h"
#include "opq_qsoftmax.h"
#include "opq_qunary.h"

namespace opq_napi {
namespace {

Napi::Value Lut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, t, y;
  int32_t xs = 0, ys = 0, variant;
  if (!GetArgs(info, "lut", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !GetTyped(env, o.Get("table"), "table", napi_uint8_array, "a Uint8Array", &t) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetVariant(env, o, &variant))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    return opq_lut(x.data, x.length, x.length, static_cast<const uint8_t*>(t.data), t.length, y.data, y.length,
                   variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// outer, axisLen, inner, scale, zeroPoint, blockSize
bool GetQdq(Napi::Env env, Napi::Object o, int64_t* dims, View* scale, View* zp) {
  const int64_t kMax = INT32_MAX;
  return GetInt(env, o, "outer", 0, kMax, &dims[0]) && GetInt(env, o, "axisLen", 0, kMax, &dims[1]) &&
         GetInt(env, o, "inner", 0, kMax, &dims[2]) && GetInt(env, o, "blockSize", 0, kMax, &dims[3]) &&
         GetTyped(env, o.Get("scale"), "scale", napi_float32_array, "a Float32Array", scale) &&
         GetTyped(env, o.Get("zeroPoint"), "zeroPoint", napi_int32_array, "an Int32Array", zp);
}

Napi::Value QuantizeLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y, scale, zp;
  int64_t d[4];
  int32_t ys = 0, variant;
  if (!GetArgs(info, "quantizeLinear", &o) ||
      !GetTyped(env, o.Get("x"), "x", napi_float32_array, "a Float32Array", &x) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetQdq(env, o, d, &scale, &zp) || !GetVariant(env, o, &variant))
    return env.Undefined();
  if (scale.length != zp.length) {
    Fail(env, "quantize_linear: scale and zeroPoint must have the same length");
    return env.Undefined();
  }
  const char* err = RunRecorded([=] {
    return opq_quantize_linear(static_cast<const float*>(x.data), x.length, d[0], d[1], d[2],
                               static_cast<const float*>(scale.data), static_cast<const int32_t*>(zp.data),
                               scale.length, d[3], y.data, y.length, ys, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

Napi::Value DequantizeLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y, scale, zp;
  int64_t d[4];
  int32_t variant;
  if (!GetArgs(info, "dequantizeLinear", &o) || !GetView(env, o.Get("x"), "x", &x) ||
      !GetTyped(env, o.Get("y"), "y", napi_float32_array, "a Float32Array", &y) || !GetQdq(env, o, d, &scale, &zp) ||
      !GetVariant(env, o, &variant))
    return env.Undefined();
  int32_t type;
  if (x.type == napi_uint8_array)
    type = OPQ_DQ_UINT8;
  else if (x.type == napi_int8_array)
    type = OPQ_DQ_INT8;
  else if (x.type == napi_int32_array)
    type = OPQ_DQ_INT32;
  else {
    Fail(env, "x must be a Uint8Array, Int8Array or Int32Array");
    return env.Undefined();
  }
  if (scale.length != zp.length) {
    Fail(env, "dequantize_linear: scale and zeroPoint must have the same length");
    return env.Undefined();
  }
  const char* err = RunRecorded([=] {
    return opq_dequantize_linear(x.data, x.length, type, d[0], d[1], d[2], static_cast<const float*>(scale.data),
                                 static_cast<const int32_t*>(zp.data), scale.length, d[3], static_cast<float*>(y.data),
                                 y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// softmax({ x, outer, axisLen, inner, table: Uint32Array(256), multiplier, shift, zeroPoint, min, max, y, variant })
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, t, y;
  int32_t xs = 0, ys = 0, variant;
  int64_t outer, axis, inner, mult, shift, zp, mn, mx;
  const int64_t kMax = INT32_MAX;
  if (!GetArgs(info, "softmax", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) ||
      !GetTyped(env, o.Get("table"), "table", napi_uint32_array, "a Uint32Array", &t) ||
      !GetInt(env, o, "outer", 0, kMax, &outer) || !GetInt(env, o, "axisLen", 0, kMax, &axis) ||
      !GetInt(env, o, "inner", 0, kMax, &inner) || !GetInt(env, o, "multiplier", 0, kMax, &mult) ||
      !GetInt(env, o, "shift", -64, 64, &shift) || !GetInt(env, o, "zeroPoint", -128, 255, &zp) ||
      !GetInt(env, o, "min", -128, 255, &mn) || !GetInt(env, o, "max", -128, 255, &mx) || !GetVariant(env, o, &variant))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    return opq_qsoftmax(x.data, x.length, xs, outer, axis, inner, static_cast<const uint32_t*>(t.data), t.length,
                        static_cast<int32_t>(mult), static_cast<int32_t>(shift), static_cast<int32_t>(zp),
                        static_cast<int32_t>(mn), static_cast<int32_t>(mx), y.data, y.length, ys, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// layerNorm({ x, xZeroPoint, rows, length, eps, gm, gs, gamma?: Int32Array, beta?: Int32Array,
//             zeroPoint, min, max, y, variant })
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y, gamma, beta;
  int32_t xs = 0, ys = 0, variant;
  int64_t xzp, rows, length, eps, gm, gs, zp, mn, mx;
  const int64_t kMax = INT32_MAX;
  if (!GetArgs(info, "layerNorm", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetInt(env, o, "xZeroPoint", -128, 255, &xzp) ||
      !GetInt(env, o, "rows", 0, kMax, &rows) || !GetInt(env, o, "length", 0, kMax, &length) ||
      !GetInt(env, o, "eps", 0, int64_t{1} << 50, &eps) || !GetInt(env, o, "gm", 0, kMax, &gm) ||
      !GetInt(env, o, "gs", -1100, 1100, &gs) || !GetInt(env, o, "zeroPoint", -128, 255, &zp) ||
      !GetInt(env, o, "min", -128, 255, &mn) || !GetInt(env, o, "max", -128, 255, &mx) || !GetVariant(env, o, &variant))
    return env.Undefined();
  const bool affine = !o.Get("gamma").IsUndefined() || !o.Get("beta").IsUndefined();
  if (affine && (!GetTyped(env, o.Get("gamma"), "gamma", napi_int32_array, "an Int32Array", &gamma) ||
                 !GetTyped(env, o.Get("beta"), "beta", napi_int32_array, "an Int32Array", &beta)))
    return env.Undefined();
  if (affine && gamma.length != beta.length) {
    Fail(env, "layernorm: gamma and beta must have the same length");
    return env.Undefined();
  }
  const int32_t* g = affine ? static_cast<const int32_t*>(gamma.data) : nullptr;
  const int32_t* b = affine ? static_cast<const int32_t*>(beta.data) : nullptr;
  // An empty Int32Array has no data pointer; the kernel needs one to tell "affine" from "plain".
  static const int32_t kNone[1] = {0};
  if (affine && gamma.length == 0) g = b = kNone;
  const char* err = RunRecorded([=] {
    return opq_qlayernorm(x.data, x.length, xs, static_cast<int32_t>(xzp), rows, length, double(eps),
                          static_cast<int32_t>(gm), static_cast<int32_t>(gs), g, b, gamma.length,
                          static_cast<int32_t>(zp), static_cast<int32_t>(mn), static_cast<int32_t>(mx), y.data,
                          y.length, ys, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQUnary(Napi::Env env, Napi::Object exports) {
  exports.Set("lut", Napi::Function::New(env, Guarded<Lut>));
  exports.Set("quantizeLinear", Napi::Function::New(env, Guarded<QuantizeLinear>));
  exports.Set("dequantizeLinear", Napi::Function::New(env, Guarded<DequantizeLinear>));
  exports.Set("softmax", Napi::Function::New(env, Guarded<Softmax>));
  exports.Set("layerNorm", Napi::Function::New(env, Guarded<LayerNorm>));
}

}  // namespace opq_napi
