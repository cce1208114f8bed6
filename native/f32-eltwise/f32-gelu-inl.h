// Gelu's constants, shared by the SIMD variants (f32-eltwise-avx2.cc, f32-eltwise-wasmsimd.cc).
//
// Gelu(x) = x Phi(x), Phi the standard normal CDF. With Q(u) = 1 - Phi(u), the upper tail, and
// u = |x|: Phi(x) = 1 - Q(u) for x >= 0 and Q(u) for x < 0, so the negative side never computes
// 1 + erf (which cancels to 0 while Gelu is still a normal float, down to x = -13.2). Q(u) =
// exp(-u^2 / 2) g(u) with g smooth and slowly varying (0.5 at 0, ~1 / (u sqrt(2 pi)) far out);
// g(u) = t h(2t - 1), t = 1 / (1 + 0.3 u), h a degree-12 polynomial fitted (Chebyshev least
// squares, mpmath reference) on all of t in [0, 1]: relative error below 2e-9 for every u.
// u^2 / 2 goes to exp as a rounded value plus its exact rounding error (FMA, or Dekker's split
// without one), so exp's argument is exact. Measured against mpmath at float32: within 4 ulps where
// the result is a normal float (plus the exp polynomial's own 1-2), and within 2^-126 below that.
#pragma once

namespace opq {
namespace f32 {

constexpr float kGeluK = 0.3f;
// h's coefficients, constant term first, in s = 2t - 1.
constexpr float kGeluH[13] = {
    0x1.c69888p-3f,   0x1.510f0cp-3f,   0x1.6281e0p-4f,  0x1.c6d2f4p-6f,  0x1.dc5a8cp-10f,
    -0x1.3d9612p-9f,  -0x1.2dd6bcp-11f, 0x1.2605acp-12f, 0x1.7b28b4p-14f, -0x1.70edbep-15f,
    -0x1.87a7f2p-17f, 0x1.70037ep-18f,  0x1.f42cd2p-21f,
};

}  // namespace f32
}  // namespace opq
