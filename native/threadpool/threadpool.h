// A small fixed pool of worker threads for the native build (the wasm build runs everything on
// the calling thread). Kernels split work into tasks whose results do not depend on which thread
// runs them, so outputs are identical for any thread count.
#pragma once

#include <cstddef>

#include "opq_conv.h"

namespace opq {

using ThreadPool = opq_threadpool;

// fn(ctx, task, thread) for every task in [0, tasks), thread in [0, PoolThreads(pool)); returns
// when all are done. The caller is thread 0. A call made while the pool runs another caller's job
// runs all its tasks on the calling thread (as thread 0) instead.
using TaskFn = void (*)(void* ctx, size_t task, size_t thread);
void ParallelFor(ThreadPool* pool, size_t tasks, TaskFn fn, void* ctx);
size_t PoolThreads(const ThreadPool* pool);

template <typename F>
void ParallelFor(ThreadPool* pool, size_t tasks, F& f) {
  ParallelFor(
      pool, tasks, [](void* ctx, size_t task, size_t thread) { (*static_cast<F*>(ctx))(task, thread); }, &f);
}

}  // namespace opq
