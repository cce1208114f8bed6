// N-API glue for qgemm and row requantization.
#include "napi/common.h"
#include "napi/plan.h"

namespace opq_napi {
namespace {

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
      !GetInt(env, o, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant) ||
      !Get8Bit(env, o.Get("a"), "a", &a, &a_signed) ||
      !GetTyped(env, o.Get("b"), "b", napi_int8_array, "an Int8Array", &b) ||
      !GetTyped(env, o.Get("bZeroPoint"), "bZeroPoint", napi_int32_array, "an Int32Array", &bzp) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &y_signed) || !GetRequant(env, o.Get("requant"), &rq))
    return env.Undefined();
  Napi::Value bias_v = o.Get("bias");
  if (!bias_v.IsNull() && !bias_v.IsUndefined() &&
      !GetTyped(env, bias_v, "bias", napi_int32_array, "an Int32Array", &bias))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    return CallWithWorkspace([&] { return opq_qgemm_workspace_size(m, n, k, static_cast<int32_t>(variant)); },
                             [&](void* ws, size_t ws_size) {
                               return opq_qgemm(m, n, k, a.data, a.length, lda, a_signed, static_cast<int32_t>(azp),
                                                static_cast<const int8_t*>(b.data), b.length, ldb,
                                                static_cast<const int32_t*>(bzp.data), bzp.length,
                                                static_cast<const int32_t*>(bias.data), bias.length, &rq, y.data,
                                                y.length, ldy, y_signed, ws, ws_size, static_cast<int32_t>(variant));
                             });
  });
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
  const char* err = RunRecorded([=] {
    return opq_requantize_row(static_cast<const int32_t*>(acc.data), acc.length, &rq, y.data, y.length, y_signed,
                              variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("qgemm", Napi::Function::New(env, Guarded<QGemm>));
  exports.Set("requantizeRow", Napi::Function::New(env, Guarded<RequantizeRow>));
}

}  // namespace opq_napi
