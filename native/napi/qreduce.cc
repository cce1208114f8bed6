// N-API glue for ReduceMean.
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qreduce.h"

namespace opq_napi {
namespace {

// reduceMean({ x, dims: number[], reduce: number[] (0/1 per axis), xZeroPoint, requant, y, variant })
Napi::Value ReduceMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y;
  int32_t xs = 0, ys = 0, variant;
  int64_t zx;
  size_t dims[8], flags[8], rank = 0, nflags = 0;
  opq_requant rq;
  if (!GetArgs(info, "reduceMean", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetDims(env, o, "dims", 8, dims, &rank) ||
      !GetDims(env, o, "reduce", 8, flags, &nflags) || !GetInt(env, o, "xZeroPoint", -128, 255, &zx) ||
      !GetRequant(env, o.Get("requant"), &rq) || !GetVariant(env, o, &variant))
    return env.Undefined();
  if (xs != ys) {
    Fail(env, "reduce_mean: x and y must have the same 8-bit type");
    return env.Undefined();
  }
  if (nflags != rank) {
    Fail(env, "reduce_mean: reduce must have one entry per axis");
    return env.Undefined();
  }
  int32_t red[8];
  for (size_t i = 0; i < rank; ++i) red[i] = flags[i] != 0 ? 1 : 0;
  const char* err = RunRecorded([=] {
    return opq_qreduce_mean(rank, dims, red, x.data, x.length, xs, static_cast<int32_t>(zx), &rq, y.data, y.length,
                            variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduceMean", Napi::Function::New(env, Guarded<ReduceMean>));
}

}  // namespace opq_napi
