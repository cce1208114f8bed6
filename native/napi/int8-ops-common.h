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

// The arguments every convolution-like call shares: { shape: Int32Array(shape_fields), x, xZeroPoint,
// w: Int8Array, wZeroPoint: Int32Array, bias: Int32Array|null, requant, y, variant }. With `wide`, x
// and y are any OPQ_QC16_* type (xt, yt) and zero points and clamps take the 16-bit ranges; else x
// and y are 8-bit (xt, yt: is_signed). False (with a pending JS error) on bad arguments.
struct ConvCallArgs {
  View shape, x, y, w, wzp, bias;
  int32_t xt = 0, yt = 0, variant = -1;
  int64_t zx = 0;
  opq_requant rq{};
};
bool GetConvCallArgs(const Napi::CallbackInfo& info, const char* fn, size_t shape_fields, bool wide, ConvCallArgs* a);

}  // namespace opq_napi
