// N-API glue for the A16W8 Add and Mul (opq_qadd16, opq_qmul16).
#include "napi/int8-ops-common.h"
#include "napi/plan.h"
#include "opq_qbinary16.h"

namespace opq_napi {
namespace {

// Shapes, operands and output shared by qadd16 and qmul16; false after throwing.
struct Binary16 {
  size_t a_shape[OPQ_MAX_RANK], b_shape[OPQ_MAX_RANK], rank = 0;
  View a, b, y;
  int32_t at = 0, bt = 0, yt = 0;
};

bool GetBinary16(Napi::Env env, Napi::Object o, const char* fn, Binary16* r) {
  size_t ra = 0, rb = 0;
  if (!GetDims(env, o, "aShape", OPQ_MAX_RANK, r->a_shape, &ra) ||
      !GetDims(env, o, "bShape", OPQ_MAX_RANK, r->b_shape, &rb) || !GetWide(env, o.Get("a"), "a", &r->a, &r->at) ||
      !GetWide(env, o.Get("b"), "b", &r->b, &r->bt) || !GetWide(env, o.Get("y"), "y", &r->y, &r->yt))
    return false;
  if (ra != rb) return Fail(env, std::string(fn) + ": aShape and bShape must have the same rank (right-align them)");
  r->rank = ra;
  return true;
}

// qadd16({ aShape, bShape, a, b, y, params, variant })
Napi::Value QAdd16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  Binary16 r;
  int32_t variant;
  if (!GetArgs(info, "qadd16", &o) || !GetBinary16(env, o, "qadd16", &r) || !GetVariant(env, o, &variant))
    return env.Undefined();
  Napi::Value pv = o.Get("params");
  if (!pv.IsObject()) {
    Fail(env, "qadd16: params must be an object");
    return env.Undefined();
  }
  Napi::Object po = pv.As<Napi::Object>();
  int64_t mode, za, zb, ls, am, as, bm, bs, om, os, zc, mn, mx;
  opq_qadd_params p;
  const int64_t i32min = INT32_MIN, i32max = INT32_MAX;
  if (!GetInt(env, po, "mode", 0, 2, &mode) || !GetInt(env, po, "aZeroPoint", -32768, 65535, &za) ||
      !GetInt(env, po, "bZeroPoint", -32768, 65535, &zb) || !GetInt(env, po, "leftShift", 0, 31, &ls) ||
      !GetInt(env, po, "aMultiplier", i32min, i32max, &am) || !GetInt(env, po, "aShift", -64, 64, &as) ||
      !GetInt(env, po, "bMultiplier", i32min, i32max, &bm) || !GetInt(env, po, "bShift", -64, 64, &bs) ||
      !GetInt(env, po, "outputMultiplier", i32min, i32max, &om) || !GetInt(env, po, "outputShift", -64, 64, &os) ||
      !GetFloat(env, po, "aScale", &p.a_scale) || !GetFloat(env, po, "bScale", &p.b_scale) ||
      !GetInt(env, po, "zeroPoint", -32768, 65535, &zc) || !GetInt(env, po, "min", -32768, 65535, &mn) ||
      !GetInt(env, po, "max", -32768, 65535, &mx))
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
    return opq_qadd16(r.rank, r.a_shape, r.b_shape, r.a.data, r.a.length, r.at, r.b.data, r.b.length, r.bt, &p,
                      r.y.data, r.y.length, r.yt, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

// qmul16({ aShape, bShape, a, aZeroPoint, b, bZeroPoint, requant, y, variant })
Napi::Value QMul16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o;
  Binary16 r;
  int32_t variant;
  int64_t za, zb;
  opq_requant rq;
  if (!GetArgs(info, "qmul16", &o) || !GetBinary16(env, o, "qmul16", &r) || !GetVariant(env, o, &variant) ||
      !GetInt(env, o, "aZeroPoint", -32768, 65535, &za) || !GetInt(env, o, "bZeroPoint", -32768, 65535, &zb) ||
      !GetRequant(env, o.Get("requant"), &rq, kWideLo, kWideHi))
    return env.Undefined();
  const char* err = RunRecorded([=] {
    return opq_qmul16(r.rank, r.a_shape, r.b_shape, r.a.data, r.a.length, r.at, static_cast<int32_t>(za), r.b.data,
                      r.b.length, r.bt, static_cast<int32_t>(zb), &rq, r.y.data, r.y.length, r.yt, variant);
  });
  if (err) Fail(env, err);
  return env.Undefined();
}

}  // namespace

void RegisterQBinary16(Napi::Env env, Napi::Object exports) {
  exports.Set("qadd16", Napi::Function::New(env, Guarded<QAdd16>));
  exports.Set("qmul16", Napi::Function::New(env, Guarded<QMul16>));
}

}  // namespace opq_napi
