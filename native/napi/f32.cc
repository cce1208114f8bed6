// N-API glue for the float32 kernels (opq_f32.h); convolution and GEMM use the addon's thread pool. Positional
// arguments: these run once per node of a float model, where an object's property lookups would cost more than a small
// kernel. The float session's layer kernels record into its native plans (RunRecordedF32, napi/plan.h), and so do
// the scan and the bias-correction probe (and its exact sums): calibration runs them on a tapped value right after the
// layer that computes it, into buffers it reads after the replay (InferenceSession.runTapped's TapKernels). The
// histogram and row sums, whose callers decide from their results what to call next, never record.
#include <algorithm>
#include <array>
#include <cmath>

#include "napi/common.h"
#include "napi/plan.h"
#include "opq_conv.h"
#include "opq_f32.h"

namespace opq_napi {
namespace {

bool Number(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* what, double* out) {
  if (i >= info.Length() || !info[i].IsNumber()) return Fail(env, std::string(what) + " must be a number");
  *out = info[i].As<Napi::Number>().DoubleValue();
  return true;
}

bool Int(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi,
         int64_t* out) {
  double d;
  if (!Number(env, info, i, what, &d)) return false;
  if (!(d >= double(lo) && d <= double(hi)) || d != std::floor(d))
    return Fail(env,
                std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = static_cast<int64_t>(d);
  return true;
}

bool Floats(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* what, View* out, bool optional) {
  if (optional && (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined())) {
    *out = View{};
    return true;
  }
  if (i >= info.Length()) return Fail(env, std::string(what) + " is missing");
  return GetTyped(env, info[i], what, napi_float32_array, "a Float32Array", out);
}

bool Params(Napi::Env env, const Napi::CallbackInfo& info, size_t i, size_t fields, const char* what,
            const int32_t** out) {
  View v;
  if (i >= info.Length() || !GetTyped(env, info[i], what, napi_int32_array, "an Int32Array", &v)) return false;
  if (v.length != fields)
    return Fail(env, std::string(what) + " must be an Int32Array of " + std::to_string(fields) + " fields");
  *out = static_cast<const int32_t*>(v.data);
  return true;
}

Napi::Value Done(Napi::Env env, const char* err) {
  if (err) Fail(env, err);
  return env.Undefined();
}

// conv2dF32(params: Int32Array(16), actMin, actMax, x, w, bias|null, y, variant)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int32_t* f;
  double lo, hi;
  int64_t variant;
  View x, w, bias, y;
  if (!Params(env, info, 0, 16, "params", &f) || !Number(env, info, 1, "actMin", &lo) ||
      !Number(env, info, 2, "actMax", &hi) || !Floats(env, info, 3, "x", &x, false) ||
      !Floats(env, info, 4, "w", &w, false) || !Floats(env, info, 5, "bias", &bias, true) ||
      !Floats(env, info, 6, "y", &y, false) || !Int(env, info, 7, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  opq_conv2d_f32_params p{f[0], f[1],  f[2],  f[3],  f[4],  f[5],  f[6],  f[7],      f[8],
                          f[9], f[10], f[11], f[12], f[13], f[14], f[15], float(lo), float(hi)};
  const int32_t v = static_cast<int32_t>(variant);
  return Done(env, RunRecordedF32([=] {
                // The pool of the moment (a replay follows setThreads), held for the call.
                const std::shared_ptr<opq_threadpool> held = ThreadPool(env);
                opq_threadpool* pool = held.get();
                return CallWithWorkspace(
                    [&] { return opq_conv2d_f32_workspace_size(&p, opq_threadpool_threads(pool), v); },
                    [&](void* ws, size_t ws_size) {
                      return opq_conv2d_f32(&p, static_cast<const float*>(x.data), x.length,
                                            static_cast<const float*>(w.data), w.length,
                                            static_cast<const float*>(bias.data), bias.length,
                                            static_cast<float*>(y.data), y.length, ws, ws_size, pool, v);
                    });
              }));
}

// gemmF32(dims: Float64Array [m, n, k, lda, ldb, ldy, transA, transB, cStrideM, cStrideN],
//         alpha, beta, actMin, actMax, a, b, c|null, y, variant)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View dims, a, b, c, y;
  double alpha, beta, lo, hi;
  int64_t variant;
  if (info.Length() < 1 || !GetTyped(env, info[0], "dims", napi_float64_array, "a Float64Array", &dims))
    return env.Undefined();
  if (dims.length != 10) return Done(env, "dims must be a Float64Array of 10 fields");
  if (!Number(env, info, 1, "alpha", &alpha) || !Number(env, info, 2, "beta", &beta) ||
      !Number(env, info, 3, "actMin", &lo) || !Number(env, info, 4, "actMax", &hi) ||
      !Floats(env, info, 5, "a", &a, false) || !Floats(env, info, 6, "b", &b, false) ||
      !Floats(env, info, 7, "c", &c, true) || !Floats(env, info, 8, "y", &y, false) ||
      !Int(env, info, 9, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  const double* d = static_cast<const double*>(dims.data);
  static const char* const kNames[10] = {"m",   "n",      "k",      "lda",      "ldb",
                                         "ldy", "transA", "transB", "cStrideM", "cStrideN"};
  std::array<size_t, 10> u;
  for (int i = 0; i < 10; ++i) {
    if (!(d[i] >= 0 && d[i] <= 4294967295.0) || d[i] != std::floor(d[i]))
      return Done(env, (std::string(kNames[i]) + " must be a non-negative integer").c_str());
    u[i] = static_cast<size_t>(d[i]);
  }
  const int32_t v = static_cast<int32_t>(variant);
  return Done(env, RunRecordedF32([=] {
                const std::shared_ptr<opq_threadpool> held = ThreadPool(env);
                opq_threadpool* pool = held.get();
                return CallWithWorkspace(
                    [&] { return opq_gemm_f32_workspace_size(u[0], u[1], u[2], opq_threadpool_threads(pool), v); },
                    [&](void* ws, size_t ws_size) {
                      return opq_gemm_f32(u[0], u[1], u[2], static_cast<const float*>(a.data), a.length, u[3],
                                          u[6] != 0, static_cast<const float*>(b.data), b.length, u[4], u[7] != 0,
                                          float(alpha), float(beta), static_cast<const float*>(c.data), c.length, u[8],
                                          u[9], float(lo), float(hi), static_cast<float*>(y.data), y.length, u[5], ws,
                                          ws_size, pool, v);
                    });
              }));
}

// pool2dF32(params: Int32Array(15), kind, x, y, variant)
Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int32_t* f;
  int64_t kind, variant;
  View x, y;
  if (!Params(env, info, 0, 15, "params", &f) || !Int(env, info, 1, "kind", 0, 2, &kind) ||
      !Floats(env, info, 2, "x", &x, false) || !Floats(env, info, 3, "y", &y, false) ||
      !Int(env, info, 4, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  opq_pool2d_f32_params p{f[0], f[1], f[2],  f[3],  f[4],  f[5],  f[6], f[7],
                          f[8], f[9], f[10], f[11], f[12], f[13], f[14]};
  const int32_t v = static_cast<int32_t>(variant);
  return Done(env, RunRecordedF32([=] {
                return CallWithWorkspace([&] { return opq_pool2d_f32_workspace_size(&p, v); },
                                         [&](void* ws, size_t ws_size) {
                                           return opq_pool2d_f32(&p, static_cast<int32_t>(kind),
                                                                 static_cast<const float*>(x.data), x.length,
                                                                 static_cast<float*>(y.data), y.length, ws, ws_size, v);
                                         });
              }));
}

// globalPoolF32(planes, size, kind, x, y, variant)
Napi::Value GlobalPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t planes, size, kind, variant;
  View x, y;
  if (!Int(env, info, 0, "planes", 0, int64_t{1} << 40, &planes) ||
      !Int(env, info, 1, "size", 0, int64_t{1} << 40, &size) || !Int(env, info, 2, "kind", 0, 2, &kind) ||
      !Floats(env, info, 3, "x", &x, false) || !Floats(env, info, 4, "y", &y, false) ||
      !Int(env, info, 5, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  return Done(env, RunRecordedF32([=] {
                return opq_global_pool_f32(size_t(planes), size_t(size), int32_t(kind),
                                           static_cast<const float*>(x.data), x.length, static_cast<float*>(y.data),
                                           y.length, int32_t(variant));
              }));
}

// unaryF32(op, p0, p1, x, y, variant)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t op, variant;
  double p0, p1;
  View x, y;
  if (!Int(env, info, 0, "op", 0, OPQ_UNARY_COUNT - 1, &op) || !Number(env, info, 1, "p0", &p0) ||
      !Number(env, info, 2, "p1", &p1) || !Floats(env, info, 3, "x", &x, false) ||
      !Floats(env, info, 4, "y", &y, false) || !Int(env, info, 5, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  return Done(env, RunRecordedF32([=] {
                return opq_unary_f32(int32_t(op), float(p0), float(p1), static_cast<const float*>(x.data), x.length,
                                     static_cast<float*>(y.data), y.length, int32_t(variant));
              }));
}

// binaryF32(op, a, b, inner, y, variant)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t op, inner, variant;
  View a, b, y;
  if (!Int(env, info, 0, "op", 0, OPQ_BINARY_COUNT - 1, &op) || !Floats(env, info, 1, "a", &a, false) ||
      !Floats(env, info, 2, "b", &b, false) || !Int(env, info, 3, "inner", 0, int64_t{1} << 40, &inner) ||
      !Floats(env, info, 4, "y", &y, false) || !Int(env, info, 5, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  return Done(env, RunRecordedF32([=] {
                return opq_binary_f32(int32_t(op), static_cast<const float*>(a.data), a.length,
                                      static_cast<const float*>(b.data), b.length, size_t(inner),
                                      static_cast<float*>(y.data), y.length, int32_t(variant));
              }));
}

bool Doubles(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* what, View* out) {
  if (i >= info.Length()) return Fail(env, std::string(what) + " is missing");
  return GetTyped(env, info[i], what, napi_float64_array, "a Float64Array", out);
}

// scanF32(x, out: Float64Array(4), variant)
Napi::Value Scan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t variant;
  View x, out;
  if (!Floats(env, info, 0, "x", &x, false) || !Doubles(env, info, 1, "out", &out) ||
      !Int(env, info, 2, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  return Done(env, RunRecordedF32([=] {
                return opq_scan_f32(static_cast<const float*>(x.data), x.length, static_cast<double*>(out.data),
                                    out.length, int32_t(variant));
              }));
}

// histogramF32(x, inv, zero, counts: Float64Array, variant)
Napi::Value Histogram(const Napi::CallbackInfo& info) {
  Unrecordable();  // its result goes to JS: a replay could not use it
  Napi::Env env = info.Env();
  int64_t variant;
  double inv, zero;
  View x, counts;
  if (!Floats(env, info, 0, "x", &x, false) || !Number(env, info, 1, "inv", &inv) ||
      !Number(env, info, 2, "zero", &zero) || !Doubles(env, info, 3, "counts", &counts) ||
      !Int(env, info, 4, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  return Done(env, opq_histogram_f32(static_cast<const float*>(x.data), x.length, inv, zero,
                                     static_cast<double*>(counts.data), counts.length, int32_t(variant)));
}

// sumRowsF32(params: Int32Array(8) [planes, i, inner, k, o, stride, pad, dilation], x, dst: Float64Array, variant)
Napi::Value SumRows(const Napi::CallbackInfo& info) {
  Unrecordable();  // its result goes to JS: a replay could not use it
  Napi::Env env = info.Env();
  const int32_t* f;
  int64_t variant;
  View x, dst;
  if (!Params(env, info, 0, 8, "params", &f) || !Floats(env, info, 1, "x", &x, false) ||
      !Doubles(env, info, 2, "dst", &dst) || !Int(env, info, 3, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  const opq_sum_rows_f32_params p{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
  return Done(env, opq_sum_rows_f32(&p, static_cast<const float*>(x.data), x.length, static_cast<double*>(dst.data),
                                    dst.length, int32_t(variant)));
}

// convProbeSumsF32(geo: Int32Array(22), x, delta, sums: Float64Array, work: Float64Array, variant)
// A recorded call keeps `geo` by value and, at each replay, takes `work`'s size from the thread's scratch
// (Workspace) instead of `work`, which JS shares between calls and may replace by a larger array.
Napi::Value ConvProbeSums(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int32_t* geo;
  int64_t variant;
  View x, delta, sums, work;
  if (!Params(env, info, 0, 22, "geo", &geo) || !Floats(env, info, 1, "x", &x, false) ||
      !Floats(env, info, 2, "delta", &delta, false) || !Doubles(env, info, 3, "sums", &sums) ||
      !Doubles(env, info, 4, "work", &work) || !Int(env, info, 5, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  const auto run = [=](const int32_t* g, double* w) {
    return opq_conv_probe_sums_f32(g, 22, static_cast<const float*>(x.data), x.length,
                                   static_cast<const float*>(delta.data), delta.length, static_cast<double*>(sums.data),
                                   sums.length, w, work.length, int32_t(variant));
  };
  if (!Recording()) return Done(env, run(geo, static_cast<double*>(work.data)));
  std::array<int32_t, 22> g;
  std::copy(geo, geo + 22, g.begin());
  return Done(env, RunRecordedF32([=] {
                void* ws = Workspace(work.length * sizeof(double));
                if (ws == nullptr) return "conv_probe_sums_f32: out of memory allocating the workspace";
                return run(g.data(), static_cast<double*>(ws));
              }));
}

// exactSumAddF64(x: Float64Array, acc: BigInt64Array): recorded like the probe whose sums it adds.
Napi::Value ExactSumAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View x, acc;
  if (!Doubles(env, info, 0, "x", &x)) return env.Undefined();
  if (info.Length() < 2 || !GetTyped(env, info[1], "acc", napi_bigint64_array, "a BigInt64Array", &acc))
    return env.Undefined();
  return Done(env, RunRecordedF32([=] {
                return opq_exact_sum_add_f64(static_cast<const double*>(x.data), x.length,
                                             static_cast<int64_t*>(acc.data), acc.length);
              }));
}

// softmaxF32(x, y, outer, len, inner, log (0 or 1), variant)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t outer, len, inner, log, variant;
  View x, y;
  if (!Floats(env, info, 0, "x", &x, false) || !Floats(env, info, 1, "y", &y, false) ||
      !Int(env, info, 2, "outer", 0, int64_t{1} << 40, &outer) ||
      !Int(env, info, 3, "len", 0, int64_t{1} << 40, &len) ||
      !Int(env, info, 4, "inner", 0, int64_t{1} << 40, &inner) || !Int(env, info, 5, "log", 0, 1, &log) ||
      !Int(env, info, 6, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  return Done(env, RunRecordedF32([=] {
                return opq_softmax_f32(size_t(outer), size_t(len), size_t(inner), int32_t(log),
                                       static_cast<const float*>(x.data), x.length, static_cast<float*>(y.data),
                                       y.length, int32_t(variant));
              }));
}

// layerNormF32(x, scale, bias | null, y, rows, n, eps, variant)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t rows, n, variant;
  double eps;
  View x, scale, bias, y;
  if (!Floats(env, info, 0, "x", &x, false) || !Floats(env, info, 1, "scale", &scale, false) ||
      !Floats(env, info, 2, "bias", &bias, true) || !Floats(env, info, 3, "y", &y, false) ||
      !Int(env, info, 4, "rows", 0, int64_t{1} << 40, &rows) || !Int(env, info, 5, "n", 0, int64_t{1} << 40, &n) ||
      !Number(env, info, 6, "eps", &eps) || !Int(env, info, 7, "variant", -1, OPQ_VARIANT_COUNT - 1, &variant))
    return env.Undefined();
  if (info[2].IsTypedArray() && bias.length != scale.length) {
    Fail(env, "layernorm_f32: bias must have as many entries as scale");
    return env.Undefined();
  }
  return Done(env, RunRecordedF32([=] {
                return opq_layernorm_f32(size_t(rows), size_t(n), static_cast<const float*>(x.data), x.length,
                                         static_cast<const float*>(scale.data), static_cast<const float*>(bias.data),
                                         scale.length, eps, static_cast<float*>(y.data), y.length, int32_t(variant));
              }));
}

// col2imF32(geo: Int32Array(18), channels, cols, bias | null, y)
Napi::Value Col2Im(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int32_t* geo;
  int64_t channels;
  View cols, bias, y;
  if (!Params(env, info, 0, 18, "geo", &geo) || !Int(env, info, 1, "channels", 0, int64_t{1} << 40, &channels) ||
      !Floats(env, info, 2, "cols", &cols, false) || !Floats(env, info, 3, "bias", &bias, true) ||
      !Floats(env, info, 4, "y", &y, false))
    return env.Undefined();
  std::array<int32_t, 18> g;  // the caller's Int32Array is a temporary: a recorded call keeps a copy
  std::copy(geo, geo + 18, g.begin());
  return Done(env, RunRecordedF32([=] {
                return opq_col2im_f32(g.data(), 18, size_t(channels), static_cast<const float*>(cols.data), cols.length,
                                      static_cast<const float*>(bias.data), bias.length, static_cast<float*>(y.data),
                                      y.length);
              }));
}

}  // namespace

void RegisterF32(Napi::Env env, Napi::Object exports) {
  exports.Set("col2imF32", Napi::Function::New(env, Guarded<Col2Im>));
  exports.Set("layerNormF32", Napi::Function::New(env, Guarded<LayerNorm>));
  exports.Set("conv2dF32", Napi::Function::New(env, Guarded<Conv2d>));
  exports.Set("gemmF32", Napi::Function::New(env, Guarded<Gemm>));
  exports.Set("pool2dF32", Napi::Function::New(env, Guarded<Pool2d>));
  exports.Set("globalPoolF32", Napi::Function::New(env, Guarded<GlobalPool>));
  exports.Set("unaryF32", Napi::Function::New(env, Guarded<Unary>));
  exports.Set("binaryF32", Napi::Function::New(env, Guarded<Binary>));
  exports.Set("scanF32", Napi::Function::New(env, Guarded<Scan>));
  exports.Set("histogramF32", Napi::Function::New(env, Guarded<Histogram>));
  exports.Set("sumRowsF32", Napi::Function::New(env, Guarded<SumRows>));
  exports.Set("convProbeSumsF32", Napi::Function::New(env, Guarded<ConvProbeSums>));
  exports.Set("exactSumAddF64", Napi::Function::New(env, Guarded<ExactSumAdd>));
  exports.Set("softmaxF32", Napi::Function::New(env, Guarded<Softmax>));
  exports.Set("f32AutoVariant", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return Napi::String::New(info.Env(), opq_variant_name(opq_f32_auto_variant()));
              }));
}

}  // namespace opq_napi
