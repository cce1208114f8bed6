// Native plans (napi/plan.cc): kernel calls recorded once, with every argument bound, and replayed
// by one N-API call per segment. While a plan records on this thread, each kernel entry point runs
// its call through RunRecorded, which executes it and keeps it; GetView keeps every typed array a
// recorded call points into alive for as long as the plan lives.
#pragma once

#include <napi.h>

#include <functional>
#include <utility>

namespace opq_napi {

using BoundCall = std::function<const char*()>;

// Whether a plan is recording on this thread.
bool Recording();
// While recording: `v` (a typed array a call is about to point into) lives as long as the plan.
void KeepAlive(Napi::Value v);
// While recording: appends a call that succeeded.
void Record(BoundCall call);
// A kernel entry that does not record its call ran while recording: the plan cannot replay the run.
void Unrecordable();
// Whether the recording plan takes float kernel calls (planNew(true): the float session's plans).
// An integer session's plan does not: a float kernel there is a fallback inside a step, whose
// inputs JS may have computed, so it breaks the recording as before.
bool RecordsFloat();

// Runs `f` (a by-value lambda returning the C ABI's error or NULL) and, while recording, keeps it.
template <typename F>
const char* RunRecorded(F f) {
  const char* err = f();
  if (err == nullptr && Recording()) Record(BoundCall(std::move(f)));
  return err;
}

// RunRecorded for a float kernel: recorded only into a plan that takes float calls (RecordsFloat).
template <typename F>
const char* RunRecordedF32(F f) {
  if (Recording() && !RecordsFloat()) Unrecordable();
  return RunRecorded(std::move(f));
}

void RegisterPlan(Napi::Env env, Napi::Object exports);

}  // namespace opq_napi
