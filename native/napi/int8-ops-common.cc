#include "napi/int8-ops-common.h"

#include <cmath>
#include <string>

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

}  // namespace opq_napi
