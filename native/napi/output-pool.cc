// Run outputs from a pool of recycled blocks. A run's outputs are arrays the caller owns, and the
// first write to fresh memory costs a page fault per 4 KiB, slow on virtual machines: on this one
// ~12-20 us each, 5-14 ms for super-resolution-10's 1.8 MB output, a quarter of the whole run.
// onnxruntime-node hands out outputs from its arena; here a block goes back to the pool when the
// ArrayBuffer over it is garbage-collected, and the next output of that size reuses it, already
// mapped. Since the GC decides when that is, a background thread also keeps a small reserve of each
// size in use mapped ahead of time (as jemalloc's background threads do), so that a run whose earlier
// outputs are not collected yet does not fault either. Blocks are not zeroed: like arena memory,
// every element of an output is written by the step that produces it. The pool is process-wide
// (worker threads included), bounded, and locked.
#include <napi.h>

#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace opq_napi {
namespace {

// Smaller outputs: malloc serves them from its heap, already mapped. Larger: rare, left to malloc.
constexpr size_t kMinBytes = size_t{64} << 10;
constexpr size_t kMaxBytes = size_t{256} << 20;
// Free bytes kept for reuse; a block returned beyond it is freed. 20 super-resolution outputs in
// flight are 36 MB.
constexpr size_t kKeepBytes = size_t{64} << 20;
// Bytes handed out and not yet returned, at most. Node runs the finalizer of an external buffer
// after the GC, from the event loop, so a synchronous loop of runs returns nothing until it yields:
// past this bound outputs are ordinary arrays (which the GC frees at once), and such a loop holds at
// most this much extra.
constexpr size_t kMaxOutstandingBytes = size_t{64} << 20;
// Free blocks of a size in use that the background thread keeps mapped.
constexpr size_t kReserve = 2;
constexpr size_t kPage = 4096;

struct Pool {
  std::mutex mu;
  std::condition_variable wake;                                // the background thread's
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // by byte size
  std::vector<size_t> refill;                                  // sizes whose reserve ran low
  bool filler_started = false;
  size_t free_bytes = 0;
  size_t outstanding_bytes = 0;
  double hits = 0, misses = 0, refused = 0, prefaulted = 0;
};

Pool& ThePool() {
  static Pool* pool = new Pool();  // never destroyed: finalizers may run during process teardown
  return *pool;
}

void* NewBlock(size_t bytes) { return std::aligned_alloc(64, (bytes + 63) / 64 * 64); }

// The background thread: maps blocks for the sizes in `refill` until each has kReserve free (or
// the pool is full), one page write at a time, off the runs' path.
void FillLoop() {
  Pool& p = ThePool();
  std::unique_lock<std::mutex> lock(p.mu);
  for (;;) {
    p.wake.wait(lock, [&] { return !p.refill.empty(); });
    const size_t bytes = p.refill.back();
    p.refill.pop_back();
    while (p.free_blocks[bytes].size() < kReserve && p.free_bytes + bytes <= kKeepBytes) {
      lock.unlock();
      auto* b = static_cast<volatile unsigned char*>(NewBlock(bytes));
      if (b != nullptr)
        for (size_t i = 0; i < bytes; i += kPage) b[i] = 0;
      lock.lock();
      if (b == nullptr) break;
      if (p.free_bytes + bytes > kKeepBytes) {
        std::free(const_cast<unsigned char*>(b));
        break;
      }
      p.free_blocks[bytes].push_back(const_cast<unsigned char*>(b));
      p.free_bytes += bytes;
      p.prefaulted++;
    }
  }
}

// With p.mu held: asks the background thread to top up the reserve of `bytes` (starting it once).
void RequestRefill(Pool& p, size_t bytes) {
  if (p.free_blocks[bytes].size() >= kReserve) return;
  for (size_t r : p.refill)
    if (r == bytes) return;
  if (!p.filler_started) {
    try {
      std::thread(FillLoop).detach();
      p.filler_started = true;
    } catch (const std::system_error&) {
      return;  // no thread: the pool still recycles collected blocks
    }
  }
  p.refill.push_back(bytes);
  p.wake.notify_one();
}

void* Take(size_t bytes) {
  Pool& p = ThePool();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.outstanding_bytes + bytes > kMaxOutstandingBytes) {
      p.refused++;
      return nullptr;
    }
    p.outstanding_bytes += bytes;
    std::vector<void*>& list = p.free_blocks[bytes];
    void* b = nullptr;
    if (!list.empty()) {
      b = list.back();
      list.pop_back();
      p.free_bytes -= bytes;
      p.hits++;
    } else {
      p.misses++;
    }
    RequestRefill(p, bytes);
    if (b != nullptr) return b;
  }
  void* b = NewBlock(bytes);
  if (b == nullptr) {
    std::lock_guard<std::mutex> lock(p.mu);
    p.outstanding_bytes -= bytes;
  }
  return b;
}

void Give(void* b, size_t bytes) {
  Pool& p = ThePool();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.outstanding_bytes -= bytes;
    if (p.free_bytes + bytes <= kKeepBytes) {
      p.free_blocks[bytes].push_back(b);
      p.free_bytes += bytes;
      return;
    }
  }
  std::free(b);
}

void Finalize(napi_env env, void* data, void* hint) {
  const size_t bytes = reinterpret_cast<size_t>(hint);
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, -static_cast<int64_t>(bytes), &adjusted);
  Give(data, bytes);
}

// allocOutput(byteLength): an ArrayBuffer over a pooled block, or undefined when the size is outside
// the pooled range or the runtime refuses external buffers (the caller then allocates as usual).
Napi::Value AllocOutput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
  const double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(kMinBytes) && d <= static_cast<double>(kMaxBytes)) || d != std::floor(d))
    return env.Undefined();
  const size_t bytes = static_cast<size_t>(d);
  void* block = Take(bytes);
  if (block == nullptr) return env.Undefined();
  napi_value ab;
  if (napi_create_external_arraybuffer(env, block, bytes, Finalize, reinterpret_cast<void*>(bytes), &ab) != napi_ok) {
    Give(block, bytes);
    return env.Undefined();
  }
  // The block is memory V8 does not see: counted, so that dropped outputs are collected (and their
  // blocks reused) as promptly as ordinary arrays of the same size.
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(bytes), &adjusted);
  return Napi::Value(env, ab);
}

// outputPoolStats(): { freeBytes, outstandingBytes, hits, misses, refused, prefaulted } for tests.
Napi::Value OutputPoolStats(const Napi::CallbackInfo& info) {
  Pool& p = ThePool();
  Napi::Object o = Napi::Object::New(info.Env());
  std::lock_guard<std::mutex> lock(p.mu);
  o.Set("freeBytes", static_cast<double>(p.free_bytes));
  o.Set("outstandingBytes", static_cast<double>(p.outstanding_bytes));
  o.Set("hits", p.hits);
  o.Set("misses", p.misses);
  o.Set("refused", p.refused);
  o.Set("prefaulted", p.prefaulted);
  return o;
}

}  // namespace

void RegisterOutputPool(Napi::Env env, Napi::Object exports) {
  exports.Set("allocOutput", Napi::Function::New(env, Guarded<AllocOutput>));
  exports.Set("outputPoolStats", Napi::Function::New(env, Guarded<OutputPoolStats>));
}

}  // namespace opq_napi
