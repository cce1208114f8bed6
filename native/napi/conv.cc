// N-API glue for integer convolution and the native thread pool.
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "napi/common.h"
#include "napi/plan.h"
#include "opq_conv.h"

namespace opq_napi {
namespace {

// One pool per JS environment (the main thread and each worker_threads worker load the addon into
// their own env), created on first use with one thread per core and replaced by setThreads. A call
// holds a reference for as long as it runs, so setThreads never destroys a pool under a running
// kernel (one process-wide pool did: a worker's setThreads joined the threads another worker's
// ParallelFor waited on, which hung forever); the old pool is destroyed by its last user.
struct PoolState {
  std::mutex mu;  // a pool reference may be taken off the JS thread (an async run)
  std::shared_ptr<opq_threadpool> pool;
  size_t threads = 0;  // 0: not decided yet
  // A session's own thread count (useThreads) overrides the default for its runs; pools of recent
  // counts are kept so that sessions with different counts can alternate without respawning threads.
  std::shared_ptr<opq_threadpool> override;
  std::vector<std::pair<size_t, std::shared_ptr<opq_threadpool>>> by_count;
};

std::shared_ptr<opq_threadpool> MakePool(size_t threads) {
  return std::shared_ptr<opq_threadpool>(opq_threadpool_create(threads), opq_threadpool_destroy);
}

PoolState* State(Napi::Env env) {
  PoolState* st = env.GetInstanceData<PoolState>();
  if (st == nullptr) {
    st = new PoolState();
    env.SetInstanceData(st);  // deleted with the env (a worker's exit)
  }
  return st;
}

size_t DefaultThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

// A geometry: Int32Array(16) in opq_conv2d_shape field order.
bool GetShape(Napi::Env env, Napi::Value v, opq_conv2d_shape* s) {
  View view;
  if (!GetTyped(env, v, "shape", napi_int32_array, "an Int32Array(16)", &view)) return false;
  if (view.length != 16) return Fail(env, "shape must be an Int32Array of 16 fields (opq_conv2d_shape)");
  const int32_t* f = static_cast<const int32_t*>(view.data);
  *s = opq_conv2d_shape{f[0], f[1], f[2],  f[3],  f[4],  f[5],  f[6],  f[7],
                        f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15]};
  return true;
}

// qconv2dPack({ shape, w: Int8Array, wZeroPoint: Int32Array, bias: Int32Array|null, variant }) -> Uint8Array
Napi::Value Pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Fail(env, "qconv2dPack: expected one argument object");
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  opq_conv2d_shape s;
  View w, wzp, bias;
  int64_t variant;
  if (!GetShape(env, o.Get("shape"), &s) || !GetTyped(env, o.Get("w"), "w", napi_int8_array, "an Int8Array", &w) ||
      !GetTyped(env, o.Get("wZeroPoint"), "wZeroPoint", napi_int32_array, "an Int32Array", &wzp) ||
      !GetInt(env, o, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  Napi::Value bias_v = o.Get("bias");
  if (!bias_v.IsNull() && !bias_v.IsUndefined() &&
      !GetTyped(env, bias_v, "bias", napi_int32_array, "an Int32Array", &bias))
    return env.Undefined();
  int32_t oh, ow;
  if (const char* err = opq_conv2d_output_size(&s, &oh, &ow)) {
    Fail(env, err);
    return env.Undefined();
  }
  const size_t size = opq_qconv2d_packed_size(&s, static_cast<int32_t>(variant));
  if (size == 0) {
    Fail(env, "qconv2d_pack: variant is not available on this CPU or build");
    return env.Undefined();
  }
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, size);  // V8 backing stores are 16-byte aligned
  const char* err = opq_qconv2d_pack(
      &s, static_cast<const int8_t*>(w.data), w.length, static_cast<const int32_t*>(wzp.data), wzp.length,
      static_cast<const int32_t*>(bias.data), bias.length, static_cast<int32_t>(variant), buf.Data(), size);
  if (err) {
    Fail(env, err);
    return env.Undefined();
  }
  return Napi::Uint8Array::New(env, size, buf, 0);
}

std::shared_ptr<opq_threadpool> Pool(Napi::Env env) {
  PoolState* st = State(env);
  std::lock_guard<std::mutex> lock(st->mu);
  if (st->override) return st->override;
  if (st->threads == 0) {
    st->threads = DefaultThreads();
    st->pool = MakePool(st->threads);
  }
  return st->pool;
}

// qconv2d({ shape, packed: Uint8Array, x, xZeroPoint, requant, y })
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Fail(env, "qconv2d: expected one argument object");
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  opq_conv2d_shape s;
  View packed, x, y;
  int32_t x_signed = 0, y_signed = 0;
  int64_t xzp;
  opq_requant rq;
  if (!GetShape(env, o.Get("shape"), &s) ||
      !GetTyped(env, o.Get("packed"), "packed", napi_uint8_array, "a Uint8Array", &packed) ||
      !Get8Bit(env, o.Get("x"), "x", &x, &x_signed) || !GetInt(env, o, "xZeroPoint", -128, 255, &xzp) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &y_signed) || !GetRequant(env, o.Get("requant"), &rq))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    // The pool of the moment (a replay follows setThreads), held for the call.
    const std::shared_ptr<opq_threadpool> held = ThreadPool(env);
    opq_threadpool* pool = held.get();
    return CallWithWorkspace(
        [&] { return opq_qconv2d_workspace_size(packed.data, packed.length, opq_threadpool_threads(pool)); },
        [&](void* ws, size_t ws_size) {
          return opq_qconv2d_run(&s, packed.data, packed.length, x.data, x.length, x_signed, static_cast<int32_t>(xzp),
                                 &rq, y.data, y.length, y_signed, ws, ws_size, pool);
        });
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// setThreads(n): n >= 1 threads for the kernels that split work (1: the calling thread only).
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Fail(env, "setThreads: expected a number of threads");
    return env.Undefined();
  }
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 256) || n != static_cast<double>(static_cast<int64_t>(n))) {
    Fail(env, "setThreads: threads must be an integer in [1, 256]");
    return env.Undefined();
  }
  PoolState* st = State(env);
  std::shared_ptr<opq_threadpool> old;  // released after the lock: a running kernel may still hold it
  {
    std::lock_guard<std::mutex> lock(st->mu);
    if (static_cast<size_t>(n) != st->threads) {
      old = std::move(st->pool);
      st->threads = static_cast<size_t>(n);
      st->pool = MakePool(st->threads);
    }
  }
  return env.Undefined();
}

// useThreads(n): the kernels of this JS thread use n threads until useThreads(0) restores the
// setThreads default (a session's `threads` option, set around each of its runs).
Napi::Value UseThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double n = info.Length() >= 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1.0;
  if (!(n >= 0 && n <= 256) || n != static_cast<double>(static_cast<int64_t>(n))) {
    Fail(env, "useThreads: threads must be an integer in [0, 256] (0: the default)");
    return env.Undefined();
  }
  PoolState* st = State(env);
  const size_t want = static_cast<size_t>(n);
  std::lock_guard<std::mutex> lock(st->mu);
  if (want == 0) {
    st->override.reset();
    return env.Undefined();
  }
  for (auto& e : st->by_count)
    if (e.first == want) {
      st->override = e.second;
      return env.Undefined();
    }
  if (st->by_count.size() >= 4) st->by_count.erase(st->by_count.begin());  // a running kernel keeps its own reference
  st->by_count.emplace_back(want, MakePool(want));
  st->override = st->by_count.back().second;
  return env.Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(opq_threadpool_threads(ThreadPool(info.Env()).get())));
}

}  // namespace

std::shared_ptr<opq_threadpool> ThreadPool(Napi::Env env) { return Pool(env); }

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("qconv2dPack", Napi::Function::New(env, Guarded<Pack>));
  exports.Set("qconv2d", Napi::Function::New(env, Guarded<Run>));
  exports.Set("setThreads", Napi::Function::New(env, Guarded<SetThreads>));
  exports.Set("getThreads", Napi::Function::New(env, Guarded<GetThreads>));
  exports.Set("useThreads", Napi::Function::New(env, Guarded<UseThreads>));
  exports.Set("qconv2dAutoVariant", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                return Napi::String::New(info.Env(), opq_variant_name(opq_qconv2d_auto_variant()));
              }));
}

}  // namespace opq_napi
