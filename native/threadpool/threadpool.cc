#include "threadpool/threadpool.h"

#if !defined(__EMSCRIPTEN__)
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

#if defined(__EMSCRIPTEN__)

struct opq_threadpool {};

namespace opq {
size_t PoolThreads(const ThreadPool*) { return 1; }
void ParallelFor(ThreadPool*, size_t tasks, TaskFn fn, void* ctx) {
  for (size_t t = 0; t < tasks; ++t) fn(ctx, t, 0);
}
}  // namespace opq

extern "C" {
opq_threadpool* opq_threadpool_create(size_t) { return nullptr; }
void opq_threadpool_destroy(opq_threadpool*) {}
size_t opq_threadpool_threads(const opq_threadpool*) { return 1; }
}

#else

// Workers sleep on a condition variable between jobs; a job is (fn, ctx, tasks) and tasks are
// handed out through an atomic counter, the caller taking its share as thread 0.
struct opq_threadpool {
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable wake, done;
  size_t generation = 0;
  size_t running = 0;  // workers still inside the current job
  bool stop = false;
  opq::TaskFn fn = nullptr;
  void* ctx = nullptr;
  size_t tasks = 0;
  std::atomic<size_t> next{0};
  std::mutex busy;  // held by the thread running a job: a second caller (another JS worker) runs alone

  void Drain(size_t thread) {
    for (;;) {
      const size_t t = next.fetch_add(1, std::memory_order_relaxed);
      if (t >= tasks) return;
      fn(ctx, t, thread);
    }
  }

  void Worker(size_t thread) {
    size_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        wake.wait(lock, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
      }
      Drain(thread);
      std::lock_guard<std::mutex> lock(mu);
      if (--running == 0) done.notify_one();
    }
  }
};

namespace opq {

size_t PoolThreads(const ThreadPool* pool) { return pool ? pool->workers.size() + 1 : 1; }

void ParallelFor(ThreadPool* pool, size_t tasks, TaskFn fn, void* ctx) {
  std::unique_lock<std::mutex> guard;
  if (pool != nullptr && tasks > 1) guard = std::unique_lock<std::mutex>(pool->busy, std::try_to_lock);
  if (!guard.owns_lock()) {  // no pool, one task, or the pool is busy with another caller's job
    for (size_t t = 0; t < tasks; ++t) fn(ctx, t, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->tasks = tasks;
    pool->next.store(0, std::memory_order_relaxed);
    pool->running = pool->workers.size();
    ++pool->generation;
  }
  pool->wake.notify_all();
  pool->Drain(0);
  std::unique_lock<std::mutex> lock(pool->mu);
  pool->done.wait(lock, [&] { return pool->running == 0; });
}

}  // namespace opq

extern "C" {

opq_threadpool* opq_threadpool_create(size_t threads) {
  if (threads <= 1) return nullptr;
  if (threads > 256) threads = 256;
  opq_threadpool* pool = new opq_threadpool();
  for (size_t i = 1; i < threads; ++i) pool->workers.emplace_back([pool, i] { pool->Worker(i); });
  return pool;
}

void opq_threadpool_destroy(opq_threadpool* pool) {
  if (pool == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->stop = true;
  }
  pool->wake.notify_all();
  for (auto& t : pool->workers) t.join();
  delete pool;
}

size_t opq_threadpool_threads(const opq_threadpool* pool) { return opq::PoolThreads(pool); }

}  // extern "C"

#endif
