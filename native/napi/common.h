// Shared helpers of the N-API glue: typed-array views, checked integers, requant params.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "onnxptq.h"
#include "opq_conv.h"

namespace opq_napi {

struct View {
  void* data = nullptr;
  size_t length = 0;  // elements
  napi_typedarray_type type = napi_uint8_array;
};

// Each Get* returns false after throwing a JS Error that names the argument.
bool Fail(Napi::Env env, const std::string& msg);
bool GetView(Napi::Env env, Napi::Value v, const char* what, View* out);
bool GetTyped(Napi::Env env, Napi::Value v, const char* what, napi_typedarray_type want, const char* want_name, View* out);
// A Uint8Array (is_signed = 0) or Int8Array (is_signed = 1).
bool Get8Bit(Napi::Env env, Napi::Value v, const char* what, View* out, int32_t* is_signed);
// An integer-valued number property of o within [lo, hi].
bool GetInt(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int64_t* out);
// requant: { mode, multiplier: Int32Array, shift: Int32Array, scale: Float32Array, zeroPoint, min, max }
bool GetRequant(Napi::Env env, Napi::Value v, opq_requant* rq);
// A per-thread scratch buffer that only grows: kernels never allocate.
void* Workspace(size_t bytes);

// Each kernel family registers its functions on the exports object.
void RegisterQGemm(Napi::Env env, Napi::Object exports);
void RegisterF32(Napi::Env env, Napi::Object exports);
// Integer elementwise, pooling and layout kernels (napi/qbinary.cc, qunary.cc, qpool.cc, qlayout.cc).
void RegisterQBinary(Napi::Env env, Napi::Object exports);
void RegisterQUnary(Napi::Env env, Napi::Object exports);
void RegisterQPool(Napi::Env env, Napi::Object exports);
void RegisterQLayout(Napi::Env env, Napi::Object exports);
void RegisterConv(Napi::Env env, Napi::Object exports);
// The addon's thread pool (napi/conv.cc; size set from JS by setThreads), for any threaded kernel.
::opq_threadpool* ThreadPool();

}  // namespace opq_napi
