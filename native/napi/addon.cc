// N-API glue (node-addon-api) and nothing else: unwrap JS arguments, check their types and
// lengths, call the C ABI, turn a refusal into a JS Error. Sizes are re-checked by the C ABI.
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "onnxptq.h"

namespace {

struct View {
  void* data = nullptr;
  size_t length = 0;  // elements
  napi_typedarray_type type = napi_uint8_array;
};

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
  if (out->type == napi_int8_array) *is_signed = 1;
  else if (out->type == napi_uint8_array) *is_signed = 0;
  else return Fail(env, std::string(what) + " must be a Uint8Array or Int8Array");
  return true;
}

bool GetInt(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return Fail(env, std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != static_cast<double>(static_cast<int64_t>(d)))
    return Fail(env, std::string(key) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = static_cast<int64_t>(d);
  return true;
}

// requant: { mode, multiplier: Int32Array, shift: Int32Array, scale: Float32Array, zeroPoint, min, max }
bool GetRequant(Napi::Env env, Napi::Value v, opq_requant* rq) {
  if (!v.IsObject()) return Fail(env, "requant must be an object");
  Napi::Object o = v.As<Napi::Object>();
  int64_t mode, zp, mn, mx;
  View mult, shift, scale;
  if (!GetInt(env, o, "mode", 0, 2, &mode) || !GetInt(env, o, "zeroPoint", -128, 255, &zp) ||
      !GetInt(env, o, "min", -128, 255, &mn) || !GetInt(env, o, "max", -128, 255, &mx) ||
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

// Grows and reuses one buffer per thread: kernels never allocate, and per-call allocation of
// megabytes would dominate small GEMMs.
void* Workspace(size_t bytes) {
  thread_local std::vector<uint8_t> ws;
  if (ws.size() < bytes) ws.resize(bytes);
  return ws.data();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array variants = Napi::Array::New(env);
  uint32_t idx = 0;
  for (int32_t v = 0; v < OPQ_VARIANT_COUNT; ++v) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("id", v);
    e.Set("name", opq_variant_name(v));
    e.Set("available", opq_variant_available(v) != 0);
    variants.Set(idx++, e);
  }
  out.Set("variants", variants);
  out.Set("qgemm", opq_variant_name(opq_qgemm_auto_variant()));
  return out;
}

// qgemm({ m, n, k, a, lda, aZeroPoint, b, ldb, bZeroPoint: Int32Array, bias: Int32Array|null,
//         requant, y, ldy, variant })
Napi::Value QGemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Fail(env, "qgemm: expected one argument object");
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  int64_t m, n, k, lda, ldb, ldy, azp, variant;
  const int64_t kMax = int64_t{1} << 28;
  View a, b, bzp, bias, y;
  int32_t a_signed = 0, y_signed = 0;
  opq_requant rq;
  if (!GetInt(env, o, "m", 0, kMax, &m) || !GetInt(env, o, "n", 0, kMax, &n) || !GetInt(env, o, "k", 0, kMax, &k) ||
      !GetInt(env, o, "lda", 0, kMax, &lda) || !GetInt(env, o, "ldb", 0, kMax, &ldb) ||
      !GetInt(env, o, "ldy", 0, kMax, &ldy) || !GetInt(env, o, "aZeroPoint", -128, 255, &azp) ||
      !GetInt(env, o, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant) || !Get8Bit(env, o.Get("a"), "a", &a, &a_signed) ||
      !GetTyped(env, o.Get("b"), "b", napi_int8_array, "an Int8Array", &b) ||
      !GetTyped(env, o.Get("bZeroPoint"), "bZeroPoint", napi_int32_array, "an Int32Array", &bzp) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &y_signed) || !GetRequant(env, o.Get("requant"), &rq))
    return env.Undefined();
  Napi::Value bias_v = o.Get("bias");
  if (!bias_v.IsNull() && !bias_v.IsUndefined() &&
      !GetTyped(env, bias_v, "bias", napi_int32_array, "an Int32Array", &bias))
    return env.Undefined();
  const size_t ws_size = opq_qgemm_workspace_size(m, n, k, static_cast<int32_t>(variant));
  const char* err = opq_qgemm(m, n, k, a.data, a.length, lda, a_signed, static_cast<int32_t>(azp),
                              static_cast<const int8_t*>(b.data), b.length, ldb, static_cast<const int32_t*>(bzp.data),
                              bzp.length, static_cast<const int32_t*>(bias.data), bias.length, &rq, y.data, y.length,
                              ldy, y_signed, Workspace(ws_size), ws_size, static_cast<int32_t>(variant));
  if (err) Fail(env, err);
  return env.Undefined();
}

// requantizeRow(acc: Int32Array, requant, y: Uint8Array|Int8Array, variant)
Napi::Value RequantizeRow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View acc, y;
  int32_t y_signed = 0;
  opq_requant rq;
  if (info.Length() < 4 || !info[3].IsNumber()) {
    Fail(env, "requantizeRow: expected (acc, requant, y, variant)");
    return env.Undefined();
  }
  if (!GetTyped(env, info[0], "acc", napi_int32_array, "an Int32Array", &acc) || !GetRequant(env, info[1], &rq) ||
      !Get8Bit(env, info[2], "y", &y, &y_signed))
    return env.Undefined();
  const int32_t variant = info[3].As<Napi::Number>().Int32Value();
  const char* err = opq_requantize_row(static_cast<const int32_t*>(acc.data), acc.length, &rq, y.data, y.length,
                                       y_signed, variant);
  if (err) Fail(env, err);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("qgemm", Napi::Function::New(env, QGemm));
  exports.Set("requantizeRow", Napi::Function::New(env, RequantizeRow));
  return exports;
}

}  // namespace

NODE_API_MODULE(onnxptq, Init)
