// Native plans: see plan.h. JS drives the recording (planBegin/planEnd around the steps whose only
// effect is kernel calls) and later replays each segment with planRun, so that a whole run of such
// steps costs one N-API call instead of one per kernel with its argument objects (issue 11).
#include "napi/plan.h"

#include <string>
#include <vector>

#include "napi/common.h"

namespace opq_napi {
namespace {

struct NativePlan {
  std::vector<std::vector<BoundCall>> segments;
  std::vector<Napi::Reference<Napi::Value>> keep;  // typed arrays the calls point into
  bool open = false;
  bool broken = false;
  bool float_calls = false;  // planNew(true)
};

thread_local NativePlan* g_recording = nullptr;

NativePlan* Get(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    Fail(info.Env(), "native plan: expected a plan handle");
    return nullptr;
  }
  return info[0].As<Napi::External<NativePlan>>().Data();
}

bool GetIndex(const Napi::CallbackInfo& info, size_t limit, size_t* out) {
  if (info.Length() < 2 || !info[1].IsNumber()) return Fail(info.Env(), "native plan: expected an index");
  const double d = info[1].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= static_cast<double>(limit)) || d != static_cast<double>(static_cast<size_t>(d)))
    return Fail(info.Env(), "native plan: index out of range");
  *out = static_cast<size_t>(d);
  return true;
}

// planNew(floatCalls = false) -> handle
Napi::Value PlanNew(const Napi::CallbackInfo& info) {
  auto* plan = new NativePlan();
  plan->float_calls = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  return Napi::External<NativePlan>::New(info.Env(), plan, [](Napi::Env, NativePlan* p) {
    if (g_recording == p) g_recording = nullptr;
    delete p;
  });
}

// planBegin(handle): records the following kernel calls into a new segment.
Napi::Value PlanBegin(const Napi::CallbackInfo& info) {
  NativePlan* p = Get(info);
  if (p == nullptr) return info.Env().Undefined();
  if (g_recording != nullptr) {
    Fail(info.Env(), "native plan: another plan is recording on this thread");
    return info.Env().Undefined();
  }
  p->segments.emplace_back();
  p->open = true;
  g_recording = p;
  return info.Env().Undefined();
}

// planCount(handle) -> calls in the open segment
Napi::Value PlanCount(const Napi::CallbackInfo& info) {
  NativePlan* p = Get(info);
  if (p == nullptr) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), p->open ? static_cast<double>(p->segments.back().size()) : 0.0);
}

// planDrop(handle, n): forgets the open segment's calls after the first n.
Napi::Value PlanDrop(const Napi::CallbackInfo& info) {
  NativePlan* p = Get(info);
  size_t n;
  if (p == nullptr || !p->open || !GetIndex(info, p->segments.back().size(), &n)) {
    if (p != nullptr && !p->open) Fail(info.Env(), "native plan: no open segment");
    return info.Env().Undefined();
  }
  p->segments.back().resize(n);
  return info.Env().Undefined();
}

// planEnd(handle) -> the segment's index, or -1 when it holds no call (it is discarded).
Napi::Value PlanEnd(const Napi::CallbackInfo& info) {
  NativePlan* p = Get(info);
  if (p == nullptr) return info.Env().Undefined();
  if (g_recording == p) g_recording = nullptr;
  if (!p->open) return Napi::Number::New(info.Env(), -1);
  p->open = false;
  if (p->segments.back().empty()) {
    p->segments.pop_back();
    return Napi::Number::New(info.Env(), -1);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(p->segments.size() - 1));
}

// planBroken(handle) -> whether a call that cannot be replayed ran while recording.
Napi::Value PlanBroken(const Napi::CallbackInfo& info) {
  NativePlan* p = Get(info);
  if (p == nullptr) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), p->broken);
}

// planRun(handle, segment): replays the segment's calls in order.
Napi::Value PlanRun(const Napi::CallbackInfo& info) {
  NativePlan* p = Get(info);
  size_t s;
  if (p == nullptr || p->segments.empty() || !GetIndex(info, p->segments.size() - 1, &s)) {
    if (p != nullptr && p->segments.empty()) Fail(info.Env(), "native plan: no segment recorded");
    return info.Env().Undefined();
  }
  if (g_recording != nullptr) {
    Fail(info.Env(), "native plan: cannot replay while a plan records");
    return info.Env().Undefined();
  }
  for (const BoundCall& call : p->segments[s])
    if (const char* err = call()) {
      Fail(info.Env(), err);
      break;
    }
  return info.Env().Undefined();
}

// planFree(handle): drops the calls and the arrays they held (the handle stays valid and empty).
Napi::Value PlanFree(const Napi::CallbackInfo& info) {
  NativePlan* p = Get(info);
  if (p == nullptr) return info.Env().Undefined();
  if (g_recording == p) g_recording = nullptr;
  p->segments.clear();
  p->keep.clear();
  p->open = false;
  return info.Env().Undefined();
}

}  // namespace

bool Recording() { return g_recording != nullptr; }

void KeepAlive(Napi::Value v) {
  if (g_recording != nullptr) g_recording->keep.push_back(Napi::Persistent(v));
}

void Record(BoundCall call) {
  if (g_recording != nullptr && g_recording->open) g_recording->segments.back().push_back(std::move(call));
}

bool RecordsFloat() { return g_recording != nullptr && g_recording->float_calls; }

void Unrecordable() {
  if (g_recording != nullptr) g_recording->broken = true;
}

void RegisterPlan(Napi::Env env, Napi::Object exports) {
  exports.Set("planNew", Napi::Function::New(env, Guarded<PlanNew>));
  exports.Set("planBegin", Napi::Function::New(env, Guarded<PlanBegin>));
  exports.Set("planCount", Napi::Function::New(env, Guarded<PlanCount>));
  exports.Set("planDrop", Napi::Function::New(env, Guarded<PlanDrop>));
  exports.Set("planEnd", Napi::Function::New(env, Guarded<PlanEnd>));
  exports.Set("planBroken", Napi::Function::New(env, Guarded<PlanBroken>));
  exports.Set("planRun", Napi::Function::New(env, Guarded<PlanRun>));
  exports.Set("planFree", Napi::Function::New(env, Guarded<PlanFree>));
}

}  // namespace opq_napi
