// Shared helpers of the N-API glue: typed-array views, checked integers, requant params.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
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
bool GetTyped(Napi::Env env, Napi::Value v, const char* what, napi_typedarray_type want, const char* want_name,
              View* out);
// A Uint8Array (is_signed = 0) or Int8Array (is_signed = 1).
bool Get8Bit(Napi::Env env, Napi::Value v, const char* what, View* out, int32_t* is_signed);
// An integer-valued number property of o within [lo, hi].
bool GetInt(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int64_t* out);
// requant: { mode, multiplier: Int32Array, shift: Int32Array, scale: Float32Array, zeroPoint, min, max },
// zeroPoint, min and max in [lo, hi] (default the 8-bit ranges; kWide for 16-bit outputs).
bool GetRequant(Napi::Env env, Napi::Value v, opq_requant* rq, int64_t lo = -128, int64_t hi = 255);
// The union of the 16-bit types' ranges (int16 and uint16).
constexpr int64_t kWideLo = -32768, kWideHi = 65535;
// The most scratch memory one kernel call may take: 1 GiB. Every argument is validated before a
// workspace is sized (CallWithWorkspace), so this only bounds what valid arguments can ask for.
constexpr size_t kMaxWorkspaceBytes = size_t{1} << 30;

// A per-thread scratch buffer that only grows: kernels never allocate. NULL when `bytes` is over
// kMaxWorkspaceBytes or cannot be allocated.
void* Workspace(size_t bytes);

// Calls run(workspace, workspace_size) -> const char* error. The C ABI checks every argument before
// it looks at the workspace, so a first call with an empty workspace validates them all (and a
// kernel that needs none completes); only after that is `bytes()` computed and allocated.
template <typename Bytes, typename Run>
const char* CallWithWorkspace(Bytes bytes, Run run) {
  alignas(64) static uint8_t empty[64];
  const char* err = run(static_cast<void*>(empty), size_t{0});
  if (err == nullptr || std::strstr(err, "workspace is smaller") == nullptr) return err;
  const size_t n = bytes();
  if (n > kMaxWorkspaceBytes) return "the kernel needs more than 1 GiB of workspace (kMaxWorkspaceBytes)";
  void* ws = Workspace(n);
  if (ws == nullptr) return "out of memory allocating the kernel workspace";
  return run(ws, n);
}

// Wraps an N-API callback so that no C++ exception crosses into JS: each becomes a JS Error.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    return F(info);
  } catch (const std::bad_alloc&) {
    Fail(env, "out of memory in the native addon");
  } catch (const std::exception& e) {
    Fail(env, std::string("native addon: ") + e.what());
  } catch (...) {
    Fail(env, "native addon: unknown C++ exception");
  }
  return env.Undefined();
}

// Each kernel family registers its functions on the exports object.
void RegisterQGemm(Napi::Env env, Napi::Object exports);
void RegisterQGemmI32(Napi::Env env, Napi::Object exports);  // napi/qgemm-i32.cc
void RegisterF32(Napi::Env env, Napi::Object exports);
// Integer elementwise, pooling and layout kernels (napi/qbinary.cc, qunary.cc, qpool.cc, qlayout.cc).
void RegisterQBinary(Napi::Env env, Napi::Object exports);
void RegisterQUnary(Napi::Env env, Napi::Object exports);
void RegisterQPool(Napi::Env env, Napi::Object exports);
void RegisterQLayout(Napi::Env env, Napi::Object exports);
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterQConvTranspose(Napi::Env env, Napi::Object exports);
void RegisterQConv16(Napi::Env env, Napi::Object exports);
void RegisterQBinary16(Napi::Env env, Napi::Object exports);         // napi/qbinary16.cc
void RegisterQConvTranspose16(Napi::Env env, Napi::Object exports);  // napi/qconvtranspose16.cc
void RegisterQReduce(Napi::Env env, Napi::Object exports);           // napi/qreduce.cc
void RegisterOutputPool(Napi::Env env, Napi::Object exports);        // napi/output-pool.cc
// This env's thread pool (napi/conv.cc; size set from JS by setThreads), for any threaded kernel.
// Hold the reference for the whole call: setThreads may replace the pool meanwhile. NULL pointer
// for one thread.
std::shared_ptr<::opq_threadpool> ThreadPool(Napi::Env env);

}  // namespace opq_napi
