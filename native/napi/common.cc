#include "napi/common.h"

#include "napi/plan.h"

#include <vector>

namespace opq_napi {

bool Fail(Napi::Env env, const std::string& msg) {
  Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return false;
}

bool GetView(Napi::Env env, Napi::Value v, const char* what, View* out) {
  if (!v.IsTypedArray()) return Fail(env, std::string(what) + " must be a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  out->type = ta.TypedArrayType();
  out->length = ta.ElementLength();
  out->data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (Recording()) KeepAlive(v);  // a recorded call points into it (napi/plan.h)
  return true;
}

bool GetTyped(Napi::Env env, Napi::Value v, const char* what, napi_typedarray_type want, const char* want_name,
              View* out) {
  if (!GetView(env, v, what, out)) return false;
  if (out->type != want) return Fail(env, std::string(what) + " must be " + want_name);
  return true;
}

bool Get8Bit(Napi::Env env, Napi::Value v, const char* what, View* out, int32_t* is_signed) {
  if (!GetView(env, v, what, out)) return false;
  if (out->type == napi_int8_array)
    *is_signed = 1;
  else if (out->type == napi_uint8_array)
    *is_signed = 0;
  else
    return Fail(env, std::string(what) + " must be a Uint8Array or Int8Array");
  return true;
}

bool GetInt(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return Fail(env, std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) ||
      d != static_cast<double>(static_cast<int64_t>(d)))
    return Fail(env,
                std::string(key) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = static_cast<int64_t>(d);
  return true;
}

bool GetRequant(Napi::Env env, Napi::Value v, opq_requant* rq, int64_t lo, int64_t hi) {
  if (!v.IsObject()) return Fail(env, "requant must be an object");
  Napi::Object o = v.As<Napi::Object>();
  int64_t mode, zp, mn, mx;
  View mult, shift, scale;
  if (!GetInt(env, o, "mode", 0, 2, &mode) || !GetInt(env, o, "zeroPoint", lo, hi, &zp) ||
      !GetInt(env, o, "min", lo, hi, &mn) || !GetInt(env, o, "max", lo, hi, &mx) ||
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

void* Workspace(size_t bytes) {
  thread_local std::vector<uint8_t> ws;
  if (bytes > kMaxWorkspaceBytes) return nullptr;
  if (ws.size() < bytes) {
    try {
      ws.resize(bytes);
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }
  // Never NULL for a valid request, even of 0 bytes (the C ABI refuses a NULL workspace).
  alignas(64) static uint8_t empty[64];
  return ws.empty() ? static_cast<void*>(empty) : static_cast<void*>(ws.data());
}

}  // namespace opq_napi
