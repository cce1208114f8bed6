// N-API glue for quantized Add and Mul.
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qbinary.h"

namespace opq_napi {
namespace {

// Shapes, operands and output shared by qadd and qmul; false after throwing.
struct Binary {
  size_t a_shape[OPQ_MAX_RANK], b_shape[OPQ_MAX_RANK], rank = 0;
  View a, b, y;
  int32_t is_signed = 0;
};

bool GetBinary(Napi::Env env, Napi::Object o, const char* fn, Binary* r) {
  size_t ra = 0, rb = 0;
  int32_t sa = 0, sb = 0, sy = 0;
  if (!GetDims(env, o, "aShape", OPQ_MAX_RANK, r->a_shape, &ra) ||
      !GetDims(env, o, "bShape", OPQ_MAX_RANK, r->b_shape, &rb) || !Get8Bit(env, o.Get("a"), "a", &r->a, &sa) ||
      !Get8Bit(env, o.Get("b"), "b", &r->b, &sb) || !Get8Bit(env, o.Get("y"), "y", &r->y, &sy))
    return false;
  if (ra != rb) return Fail(env, std::string(fn) + ": aShape and bShape must have the same rank (right-align them)");
  if (sa != sb || sa != sy) return Fail(env, std::string(fn) + ": a, b and y must all be Uint8Array or all Int8Array");
  r->rank = ra;
  r->is_signed = sa;
  return true;
}

Napi::Value QAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  Binary r;
  int32_t variant;
  if (!GetArgs(info, "qadd", &o) || !GetBinary(env, o, "qadd", &r) || !GetVariant(env, o, &variant))
    return env.Undefined();
  Napi::Value pv = o.Get("params");
  if (!pv.IsObject()) {
    Fail(env, "qadd: params must be an object");
    return env.Undefined();
  }
  Napi::Object po = pv.As<Napi::Object>();
  int64_t mode, za, zb, ls, am, as, bm, bs, om, os, zc, mn, mx;
  opq_qadd_params p;
  const int64_t i32min = INT32_MIN, i32max = INT32_MAX;
  if (!GetInt(env, po, "mode", 0, 2, &mode) || !GetInt(env, po, "aZeroPoint", -128, 255, &za) ||
      !GetInt(env, po, "bZeroPoint", -128, 255, &zb) || !GetInt(env, po, "leftShift", 0, 31, &ls) ||
      !GetInt(env, po, "aMultiplier", i32min, i32max, &am) || !GetInt(env, po, "aShift", -64, 64, &as) ||
      !GetInt(env, po, "bMultiplier", i32min, i32max, &bm) || !GetInt(env, po, "bShift", -64, 64, &bs) ||
      !GetInt(env, po, "outputMultiplier", i32min, i32max, &om) || !GetInt(env, po, "outputShift", -64, 64, &os) ||
      !GetFloat(env, po, "aScale", &p.a_scale) || !GetFloat(env, po, "bScale", &p.b_scale) ||
      !GetInt(env, po, "zeroPoint", -128, 255, &zc) || !GetInt(env, po, "min", -128, 255, &mn) ||
      !GetInt(env, po, "max", -128, 255, &mx))
    return env.Undefined();
  p.mode = static_cast<int32_t>(mode);
  p.a_zero_point = static_cast<int32_t>(za);
  p.b_zero_point = static_cast<int32_t>(zb);
  p.left_shift = static_cast<int32_t>(ls);
  p.a_multiplier = static_cast<int32_t>(am);
  p.a_shift = static_cast<int32_t>(as);
  p.b_multiplier = static_cast<int32_t>(bm);
  p.b_shift = static_cast<int32_t>(bs);
  p.output_multiplier = static_cast<int32_t>(om);
  p.output_shift = static_cast<int32_t>(os);
  p.output_zero_point = static_cast<int32_t>(zc);
  p.output_min = static_cast<int32_t>(mn);
  p.output_max = static_cast<int32_t>(mx);
  const char* err = RunRecorded([=] {
    return opq_qadd(r.rank, r.a_shape, r.b_shape, r.a.data, r.a.length, r.b.data, r.b.length, r.is_signed, &p, r.y.data,
                    r.y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

Napi::Value QMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  Binary r;
  int32_t variant;
  int64_t za, zb;
  opq_requant rq;
  if (!GetArgs(info, "qmul", &o) || !GetBinary(env, o, "qmul", &r) || !GetVariant(env, o, &variant) ||
      !GetInt(env, o, "aZeroPoint", -128, 255, &za) || !GetInt(env, o, "bZeroPoint", -128, 255, &zb) ||
      !GetRequant(env, o.Get("requant"), &rq))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    return opq_qmul(r.rank, r.a_shape, r.b_shape, r.a.data, r.a.length, static_cast<int32_t>(za), r.b.data, r.b.length,
                    static_cast<int32_t>(zb), r.is_signed, &rq, r.y.data, r.y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// lut2({ a, aShape, b, bShape, table: Uint8Array(65536), y, variant })
Napi::Value Lut2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  Binary r;
  int32_t variant;
  View table;
  if (!GetArgs(info, "lut2", &o) || !GetBinary(env, o, "lut2", &r) || !GetVariant(env, o, &variant) ||
      !GetTyped(env, o.Get("table"), "table", napi_uint8_array, "a Uint8Array", &table))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    return opq_lut2(r.rank, r.a_shape, r.b_shape, r.a.data, r.a.length, r.b.data, r.b.length,
                    static_cast<const uint8_t*>(table.data), table.length, r.y.data, r.y.length, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQBinary(Napi::Env env, Napi::Object exports) {
  exports.Set("qadd", Napi::Function::New(env, Guarded<QAdd>));
  exports.Set("qmul", Napi::Function::New(env, Guarded<QMul>));
  exports.Set("lut2", Napi::Function::New(env, Guarded<Lut2>));
}

}  // namespace opq_napi
