// N-API glue for Concat and Resize (nearest, linear).
#include <vector>

#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qlayout.h"

namespace opq_napi {
namespace {

// concat({ inputs: (Uint8Array|Int8Array)[], axisDims: number[], zeroPoints: number[],
//          requant: (requant|null)[], outer, inner, y, variant })
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View y;
  int32_t ys = 0, variant;
  int64_t outer, inner;
  if (!GetArgs(info, "concat", &o) || !Get8Bit(env, o.Get("y"), "y", &y, &ys) ||
      !GetInt(env, o, "outer", 0, INT32_MAX, &outer) || !GetInt(env, o, "inner", 0, INT32_MAX, &inner) ||
      !GetVariant(env, o, &variant))
    return env.Undefined();
  Napi::Value iv = o.Get("inputs"), dv = o.Get("axisDims"), zv = o.Get("zeroPoints"), rv = o.Get("requant");
  if (!iv.IsArray() || !dv.IsArray() || !zv.IsArray() || !rv.IsArray()) {
    Fail(env, "concat: inputs, axisDims, zeroPoints and requant must be arrays");
    return env.Undefined();
  }
  Napi::Array ia = iv.As<Napi::Array>(), da = dv.As<Napi::Array>(), za = zv.As<Napi::Array>(),
              ra = rv.As<Napi::Array>();
  const uint32_t k = ia.Length();
  if (da.Length() != k || za.Length() != k || ra.Length() != k) {
    Fail(env, "concat: inputs, axisDims, zeroPoints and requant must have the same length");
    return env.Undefined();
  }
  if (k == 0 || k > 65536) {
    Fail(env, "concat: num_inputs must be in [1, 65536]");
    return env.Undefined();
  }
  std::vector<const void*> ptrs(k);
  std::vector<size_t> sizes(k), dims(k);
  std::vector<int32_t> zps(k), flags(k);
  std::vector<opq_requant> rqs(k);
  for (uint32_t i = 0; i < k; ++i) {
    View xi;
    int32_t si = 0;
    if (!Get8Bit(env, ia.Get(i), "inputs[i]", &xi, &si)) return env.Undefined();
    if (si != ys) {
      Fail(env, "concat: inputs[i] and y must have the same 8-bit type");
      return env.Undefined();
    }
    ptrs[i] = xi.data;
    sizes[i] = xi.length;
    Napi::Value d = da.Get(i), z = za.Get(i);
    if (!d.IsNumber() || !z.IsNumber()) {
      Fail(env, "concat: axisDims[i] and zeroPoints[i] must be numbers");
      return env.Undefined();
    }
    const double dd = d.As<Napi::Number>().DoubleValue(), zd = z.As<Napi::Number>().DoubleValue();
    if (!(dd >= 0 && dd <= INT32_MAX) || dd != static_cast<double>(static_cast<int64_t>(dd))) {
      Fail(env, "concat: axisDims[i] must be an integer in [0, 2^31 - 1]");
      return env.Undefined();
    }
    if (!(zd >= -128 && zd <= 255) || zd != static_cast<double>(static_cast<int64_t>(zd))) {
      Fail(env, "concat: zeroPoints[i] must be an integer in [-128, 255]");
      return env.Undefined();
    }
    dims[i] = static_cast<size_t>(dd);
    zps[i] = static_cast<int32_t>(zd);
    Napi::Value r = ra.Get(i);
    flags[i] = r.IsNull() || r.IsUndefined() ? 0 : 1;
    if (flags[i] && !GetRequant(env, r, &rqs[i])) return env.Undefined();
  }
  const char* err = RunRecorded([=] {
    return opq_qconcat(k, ptrs.data(), sizes.data(), dims.data(), zps.data(), flags.data(), rqs.data(), outer, inner,
                       ys, y.data, y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// resizeNearest({ x, nc, inH, inW, outH, outW, yIndex: Int32Array, xIndex: Int32Array, y, variant })
Napi::Value ResizeNearest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y, yi, xi;
  int32_t xs = 0, ys = 0, variant;
  int64_t nc, ih, iw, oh, ow;
  if (!GetArgs(info, "resizeNearest", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetInt(env, o, "nc", 0, INT32_MAX, &nc) ||
      !GetInt(env, o, "inH", 0, INT32_MAX, &ih) || !GetInt(env, o, "inW", 0, INT32_MAX, &iw) ||
      !GetInt(env, o, "outH", 0, INT32_MAX, &oh) || !GetInt(env, o, "outW", 0, INT32_MAX, &ow) ||
      !GetTyped(env, o.Get("yIndex"), "yIndex", napi_int32_array, "an Int32Array", &yi) ||
      !GetTyped(env, o.Get("xIndex"), "xIndex", napi_int32_array, "an Int32Array", &xi) ||
      !GetVariant(env, o, &variant))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    return opq_qresize_nearest(nc, ih, iw, oh, ow, static_cast<const int32_t*>(yi.data), yi.length,
                               static_cast<const int32_t*>(xi.data), xi.length, x.data, x.length, y.data, y.length,
                               variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// resizeLinear({ x, nc, inH, inW, outH, outW, yTaps: Int32Array, xTaps: Int32Array, xZeroPoint, requant, y, variant })
Napi::Value ResizeLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y, yt, xt;
  int32_t xs = 0, ys = 0, variant;
  int64_t nc, ih, iw, oh, ow, zx;
  opq_requant rq;
  if (!GetArgs(info, "resizeLinear", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetInt(env, o, "nc", 0, INT32_MAX, &nc) ||
      !GetInt(env, o, "inH", 0, INT32_MAX, &ih) || !GetInt(env, o, "inW", 0, INT32_MAX, &iw) ||
      !GetInt(env, o, "outH", 0, INT32_MAX, &oh) || !GetInt(env, o, "outW", 0, INT32_MAX, &ow) ||
      !GetTyped(env, o.Get("yTaps"), "yTaps", napi_int32_array, "an Int32Array", &yt) ||
      !GetTyped(env, o.Get("xTaps"), "xTaps", napi_int32_array, "an Int32Array", &xt) ||
      !GetInt(env, o, "xZeroPoint", -128, 255, &zx) || !GetRequant(env, o.Get("requant"), &rq) ||
      !GetVariant(env, o, &variant))
    return env.Undefined();
  if (xs != ys) {
    Fail(env, "resize_linear: x and y must have the same 8-bit type");
    return env.Undefined();
  }
  const char* err = RunRecorded([=] {
    return opq_qresize_linear(nc, ih, iw, oh, ow, static_cast<const int32_t*>(yt.data), yt.length,
                              static_cast<const int32_t*>(xt.data), xt.length, x.data, x.length, xs,
                              static_cast<int32_t>(zx), &rq, y.data, y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// transpose8({ x, dims: number[], perm: number[], y, variant }): 8-bit data, any signedness.
Napi::Value Transpose8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  View x, y;
  int32_t xs = 0, ys = 0, variant;
  size_t dims[OPQ_QLAYOUT_MAX_RANK], perm[OPQ_QLAYOUT_MAX_RANK], rank = 0, nperm = 0;
  if (!GetArgs(info, "transpose8", &o) || !Get8Bit(env, o.Get("x"), "x", &x, &xs) ||
      !Get8Bit(env, o.Get("y"), "y", &y, &ys) || !GetDims(env, o, "dims", OPQ_QLAYOUT_MAX_RANK, dims, &rank) ||
      !GetDims(env, o, "perm", OPQ_QLAYOUT_MAX_RANK, perm, &nperm) || !GetVariant(env, o, &variant))
    return env.Undefined();
  if (nperm != rank) {
    Fail(env, "transpose: perm must have one entry per axis");
    return env.Undefined();
  }
  const char* err =
      RunRecorded([=] { return opq_transpose8(x.data, x.length, rank, dims, perm, y.data, y.length, variant); });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQLayout(Napi::Env env, Napi::Object exports) {
  exports.Set("concat", Napi::Function::New(env, Guarded<Concat>));
  exports.Set("resizeNearest", Napi::Function::New(env, Guarded<ResizeNearest>));
  exports.Set("resizeLinear", Napi::Function::New(env, Guarded<ResizeLinear>));
  exports.Set("transpose8", Napi::Function::New(env, Guarded<Transpose8>));
}

}  // namespace opq_napi
