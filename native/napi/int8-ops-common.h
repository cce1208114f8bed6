// Helpers for the N-API glue of the elementwise, pooling and layout kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "napi/common.h"

namespace opq_napi {

// A finite number property of o.
bool GetFloat(Napi::Env env, Napi::Object o, const char* key, float* out);
// A JS array of at most `max` non-negative integers (dimensions).
bool GetDims(Napi::Env env, Napi::Object o, const char* key, size_t max, size_t* dims, size_t* count);
// The single argument object of a kernel call.
bool GetArgs(const Napi::CallbackInfo& info, const char* fn, Napi::Object* out);
// The variant id (-1 auto).
bool GetVariant(Napi::Env env, Napi::Object o, int32_t* out);

// A Uint8Array, Int8Array, Int16Array or Uint16Array and its OPQ_QC16_* element type (napi/qconv16.cc).
bool GetWide(Napi::Env env, Napi::Value v, const char* what, View* out, int32_t* type);
// GetRequant with zero point and clamp bounds over the 16-bit ranges (napi/qconv16.cc).
bool GetRequantWide(Napi::Env env, Napi::Value v, opq_requant* rq);

}  // namespace opq_napi
