// N-API glue (node-addon-api) and nothing else: unwrap JS arguments, check their types and
// lengths, call the C ABI, turn a refusal into a JS Error. Sizes are re-checked by the C ABI.
// One file per kernel family (napi/<family>.cc) registers its functions here.
#include <napi.h>

#include "napi/common.h"
#include "napi/plan.h"
#include "onnxptq.h"
#include "opq_qbinary16.h"
#include "opq_qconv16.h"
#include "opq_qconvtranspose16.h"

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array variants = Napi::Array::New(env);
  uint32_t idx = 0;
  for (int32_t v = 0; v < OPQ_VARIANT_COUNT; ++v) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("id", v);
    e.Set("name", opq_variant_name(v));
    e.Set("available", opq_variant_available(v) != 0);
    variants.Set(idx++, e);
  }
  out.Set("variants", variants);
  out.Set("qgemm", opq_variant_name(opq_qgemm_auto_variant()));
  out.Set("qgemmI32", opq_variant_name(opq_qgemm_i32_auto_variant()));
  out.Set("qconv16", opq_variant_name(opq_qconv16_auto_variant()));
  out.Set("qbinary16", opq_variant_name(opq_qbinary16_auto_variant()));
  out.Set("qconvtranspose16", opq_variant_name(opq_qconvtranspose16_auto_variant()));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, opq_napi::Guarded<Info>));
  opq_napi::RegisterQGemm(env, exports);
  opq_napi::RegisterQGemmI32(env, exports);
  opq_napi::RegisterF32(env, exports);
  opq_napi::RegisterQBinary(env, exports);
  opq_napi::RegisterQUnary(env, exports);
  opq_napi::RegisterQPool(env, exports);
  opq_napi::RegisterQLayout(env, exports);
  opq_napi::RegisterConv(env, exports);
  opq_napi::RegisterQConvTranspose(env, exports);
  opq_napi::RegisterQConv16(env, exports);
  opq_napi::RegisterQBinary16(env, exports);
  opq_napi::RegisterQConvTranspose16(env, exports);
  opq_napi::RegisterQReduce(env, exports);
  opq_napi::RegisterPlan(env, exports);
  opq_napi::RegisterOutputPool(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(onnxptq, Init)
