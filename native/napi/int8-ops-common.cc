#include "napi/int8-ops-common.h"

#include <cmath>
#include <string>

#include "opq_qconv16.h"  // OPQ_QC16_*

namespace opq_napi {

bool GetFloat(Napi::Env env, Napi::Object o, const char* key, float* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return Fail(env, std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) return Fail(env, std::string(key) + " must be finite");
  *out = static_cast<float>(d);
  return true;
}

bool GetDims(Napi::Env env, Napi::Object o, const char* key, size_t max, size_t* dims, size_t* count) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) return Fail(env, std::string(key) + " must be an array of dimensions");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max) return Fail(env, std::string(key) + " has more than " + std::to_string(max) + " entries");
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(d >= 0.0 && d <= 2147483647.0) || d != std::floor(d))
      return Fail(env, std::string(key) + " entries must be integers in [0, 2^31 - 1]");
    dims[i] = static_cast<size_t>(d);
  }
  *count = a.Length();
  return true;
}

bool GetArgs(const Napi::CallbackInfo& info, const char* fn, Napi::Object* out) {
  if (info.Length() < 1 || !info[0].IsObject())
    return Fail(info.Env(), std::string(fn) + ": expected one argument object");
  *out = info[0].As<Napi::Object>();
  return true;
}

bool GetVariant(Napi::Env env, Napi::Object o, int32_t* out) {
  int64_t v = 0;
  if (!GetInt(env, o, "variant", -1, OPQ_VARIANT_COUNT - 1, &v)) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

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

bool GetConvCallArgs(const Napi::CallbackInfo& info, const char* fn, size_t shape_fields, bool wide, ConvCallArgs* a) {
  Napi::Env env = info.Env();
  Napi::Object o;
  const int64_t lo = wide ? kWideLo : -128, hi = wide ? kWideHi : 255;
  const auto get_xy = [&](const char* what, View* v, int32_t* t) {
    return wide ? GetWide(env, o.Get(what), what, v, t) : Get8Bit(env, o.Get(what), what, v, t);
  };
  const std::string shape_kind = "an Int32Array(" + std::to_string(shape_fields) + ")";
  if (!GetArgs(info, fn, &o) ||
      !GetTyped(env, o.Get("shape"), "shape", napi_int32_array, shape_kind.c_str(), &a->shape) ||
      !get_xy("x", &a->x, &a->xt) || !get_xy("y", &a->y, &a->yt) ||
      !GetTyped(env, o.Get("w"), "w", napi_int8_array, "an Int8Array", &a->w) ||
      !GetTyped(env, o.Get("wZeroPoint"), "wZeroPoint", napi_int32_array, "an Int32Array", &a->wzp) ||
      !GetInt(env, o, "xZeroPoint", lo, hi, &a->zx) || !GetRequant(env, o.Get("requant"), &a->rq, lo, hi) ||
      !GetVariant(env, o, &a->variant))
    return false;
  Napi::Value bias_v = o.Get("bias");
  if (!bias_v.IsNull() && !bias_v.IsUndefined() &&
      !GetTyped(env, bias_v, "bias", napi_int32_array, "an Int32Array", &a->bias))
    return false;
  if (a->shape.length != shape_fields)
    return Fail(env, "shape must be an Int32Array of " + std::to_string(shape_fields) + " fields");
  return true;
}

}  // namespace opq_napi
