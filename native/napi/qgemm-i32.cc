// N-API glue for qgemm_i32 (the int32-output integer GEMM of MatMulInteger).
#include "napi/common.h"
#include "napi/plan.h"

namespace opq_napi {
namespace {

// qgemmI32({ m, n, k, a: Uint8Array|Int8Array, lda, aZeroPoint: Int32Array, b: Uint8Array|Int8Array, ldb,
//            bZeroPoint: Int32Array, y: Int32Array, ldy, variant })
Napi::Value QGemmI32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Fail(env, "qgemmI32: expected one argument object");
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  int64_t m, n, k, lda, ldb, ldy, variant;
  const int64_t kMax = int64_t{1} << 28;
  View a, b, azp, bzp, y;
  int32_t a_signed = 0, b_signed = 0;
  if (!GetInt(env, o, "m", 0, kMax, &m) || !GetInt(env, o, "n", 0, kMax, &n) || !GetInt(env, o, "k", 0, kMax, &k) ||
      !GetInt(env, o, "lda", 0, kMax, &lda) || !GetInt(env, o, "ldb", 0, kMax, &ldb) ||
      !GetInt(env, o, "ldy", 0, kMax, &ldy) || !GetInt(env, o, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant) ||
      !Get8Bit(env, o.Get("a"), "a", &a, &a_signed) ||
      !GetTyped(env, o.Get("aZeroPoint"), "aZeroPoint", napi_int32_array, "an Int32Array", &azp) ||
      !Get8Bit(env, o.Get("b"), "b", &b, &b_signed) ||
      !GetTyped(env, o.Get("bZeroPoint"), "bZeroPoint", napi_int32_array, "an Int32Array", &bzp) ||
      !GetTyped(env, o.Get("y"), "y", napi_int32_array, "an Int32Array", &y))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    // The pool of the moment (a replay follows setThreads), held for the call.
    const std::shared_ptr<opq_threadpool> held = ThreadPool(env);
    opq_threadpool* pool = held.get();
    const int32_t v = static_cast<int32_t>(variant);
    return CallWithWorkspace([&] { return opq_qgemm_i32_workspace_size(m, n, k, v); },
                             [&](void* ws, size_t ws_size) {
                               return opq_qgemm_i32(m, n, k, a.data, a.length, lda, a_signed,
                                                    static_cast<const int32_t*>(azp.data), azp.length, b.data, b.length,
                                                    ldb, b_signed, static_cast<const int32_t*>(bzp.data), bzp.length,
                                                    static_cast<int32_t*>(y.data), y.length, ldy, ws, ws_size, v, pool);
                             });
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// qgemmI32PackB({ n, k, b: Uint8Array|Int8Array, ldb, bZeroPoint: Int32Array, variant }) -> Uint8Array
Napi::Value QGemmI32PackB(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Fail(env, "qgemmI32PackB: expected one argument object");
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  int64_t n, k, ldb, variant;
  const int64_t kMax = int64_t{1} << 28;
  View b, bzp;
  int32_t b_signed = 0;
  if (!GetInt(env, o, "n", 0, kMax, &n) || !GetInt(env, o, "k", 0, kMax, &k) || !GetInt(env, o, "ldb", 0, kMax, &ldb) ||
      !GetInt(env, o, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant) ||
      !Get8Bit(env, o.Get("b"), "b", &b, &b_signed) ||
      !GetTyped(env, o.Get("bZeroPoint"), "bZeroPoint", napi_int32_array, "an Int32Array", &bzp))
    return env.Undefined();
  const int32_t v = static_cast<int32_t>(variant);
  const size_t size = opq_qgemm_i32_packed_b_size(n, k, v);
  if (size == 0) {
    Fail(env, "qgemm_i32: variant is not available on this CPU or build");
    return env.Undefined();
  }
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, size);  // V8 backing stores are 16-byte aligned
  if (const char* err = opq_qgemm_i32_pack_b(n, k, b.data, b.length, ldb, b_signed,
                                             static_cast<const int32_t*>(bzp.data), bzp.length, v, buf.Data(), size)) {
    Fail(env, err);
    return env.Undefined();
  }
  return Napi::Uint8Array::New(env, size, buf, 0);
}

// qgemmI32Packed({ m, a: Uint8Array|Int8Array, lda, aZeroPoint: Int32Array, packed: Uint8Array, y: Int32Array, ldy })
Napi::Value QGemmI32Packed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Fail(env, "qgemmI32Packed: expected one argument object");
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  int64_t m, lda, ldy;
  const int64_t kMax = int64_t{1} << 28;
  View a, azp, packed, y;
  int32_t a_signed = 0;
  if (!GetInt(env, o, "m", 0, kMax, &m) || !GetInt(env, o, "lda", 0, kMax, &lda) ||
      !GetInt(env, o, "ldy", 0, kMax, &ldy) || !Get8Bit(env, o.Get("a"), "a", &a, &a_signed) ||
      !GetTyped(env, o.Get("aZeroPoint"), "aZeroPoint", napi_int32_array, "an Int32Array", &azp) ||
      !GetTyped(env, o.Get("packed"), "packed", napi_uint8_array, "a Uint8Array", &packed) ||
      !GetTyped(env, o.Get("y"), "y", napi_int32_array, "an Int32Array", &y))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    const std::shared_ptr<opq_threadpool> held = ThreadPool(env);
    opq_threadpool* pool = held.get();
    return CallWithWorkspace([&] { return opq_qgemm_i32_packed_workspace_size(m, packed.data, packed.length); },
                             [&](void* ws, size_t ws_size) {
                               return opq_qgemm_i32_packed(m, a.data, a.length, lda, a_signed,
                                                           static_cast<const int32_t*>(azp.data), azp.length,
                                                           packed.data, packed.length, static_cast<int32_t*>(y.data),
                                                           y.length, ldy, ws, ws_size, pool);
                             });
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQGemmI32(Napi::Env env, Napi::Object exports) {
  exports.Set("qgemmI32", Napi::Function::New(env, Guarded<QGemmI32>));
  exports.Set("qgemmI32PackB", Napi::Function::New(env, Guarded<QGemmI32PackB>));
  exports.Set("qgemmI32Packed", Napi::Function::New(env, Guarded<QGemmI32Packed>));
}

}  // namespace opq_napi
