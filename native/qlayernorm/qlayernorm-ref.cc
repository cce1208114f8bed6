// Integer LayerNorm: the definition (qlayernorm.h), with a hook for a SIMD output pass. Mirrors
// src/kernels/int8/qlayernorm-ref.ts operation for operation; the TypeScript uses doubles where every
// value is an integer below 2^53, here they are int64, and the row multiplier's exact check is 128-bit.
#include "qlayernorm/qlayernorm.h"

#include <cmath>

namespace opq {
namespace {

using u128 = unsigned __int128;

// floor(v / 2^s + 1/2) for |v| < 2^62, saturated far outside the 8-bit range when s < 0.
inline int64_t RoundHalfUpShift(int64_t v, int32_t s) {
  if (s >= 63) return 0;  // |v| / 2^s < 1/2
  if (s > 0) return (v + (int64_t{1} << (s - 1))) >> s;
  if (v == 0 || s == 0) return v;
  const int32_t up = -s;
  const int64_t lim = int64_t{1} << 61;
  if (up >= 61 || v > (lim >> up) || v < -(lim >> up)) return v > 0 ? lim : -lim;
  return v * (int64_t{1} << up);
}

inline uint8_t Clamp8(int64_t v, const QLayerNormParams& p) {
  v = v < p.y_min ? p.y_min : v;
  v = v > p.y_max ? p.y_max : v;
  return static_cast<uint8_t>(static_cast<int32_t>(v));
}

}  // namespace

void QLayerNormRowMultiplier(int64_t t, int64_t gm, int32_t gs, int64_t* m_out, int32_t* s_out) {
  // Estimate k from doubles, then make m = floor(gm 2^k / sqrt(T)) exact: m^2 T <= gm^2 4^k < (m+1)^2 T
  // (below 2^116 for T < 2^53, gm < 2^31 and 2^k ~ 2^30 sqrt(T) / gm). T >= 1 keeps k >= 0.
  const double r0 = double(gm) / std::sqrt(double(t));
  int32_t k = 30 - int32_t(std::floor(std::log2(r0)));
  if (k < 0) k = 0;
  for (int tries = 0; tries < 6; ++tries) {
    const u128 num = (u128(uint64_t(gm)) * u128(uint64_t(gm))) << (2 * k);
    int64_t m = int64_t(std::floor(r0 * std::ldexp(1.0, k)));
    if (m < 0) m = 0;
    while (m > 0 && u128(uint64_t(m)) * u128(uint64_t(m)) * u128(uint64_t(t)) > num) --m;
    while (u128(uint64_t(m + 1)) * u128(uint64_t(m + 1)) * u128(uint64_t(t)) <= num) ++m;
    if (m >= (int64_t{1} << 31)) {
      --k;
    } else if (m < (int64_t{1} << 30)) {
      ++k;
    } else {
      *m_out = m;
      *s_out = gs + k;
      return;
    }
  }
  *m_out = int64_t{1} << 30;  // unreachable for valid arguments (the API checks them)
  *s_out = gs + k;
}

namespace {

// One row's outputs from its sums (the loops are specialized on the input type and, for the common
// shift range 1..62, on a branch-free round_half_up; other shifts take RoundHalfUpShift).
template <bool kSigned>
void Row(const uint8_t* xr, int32_t zx, const QLayerNormParams& p, QLayerNormOutFn out, uint8_t* yr) {
  const size_t c = p.length;
  const int64_t cl = int64_t(c);
  const auto at = [&](size_t i) { return kSigned ? int32_t(int8_t(xr[i])) : int32_t(xr[i]); };
  // |q| <= 255 and c <= 4096: both sums fit int32 (sq <= 2.7e8), so this loop vectorizes.
  int32_t s1 = 0, sq = 0;
  for (size_t i = 0; i < c; ++i) {
    const int32_t q = at(i) - zx;
    s1 += q;
    sq += q * q;
  }
  const int64_t t = cl * cl * int64_t(sq) - cl * int64_t(s1) * s1 + p.eps;
  const int64_t lo = p.y_min, hi = p.y_max, zy = p.y_zero_point;
  if (t == 0) {
    for (size_t i = 0; i < c; ++i) {
      const int64_t b = p.gamma ? (int64_t(p.beta[i]) + 128) >> 8 : 0;
      yr[i] = Clamp8(zy + b, p);
    }
    return;
  }
  int64_t m;
  int32_t s;
  QLayerNormRowMultiplier(t, p.gm, p.gs, &m, &s);
  // A SIMD output pass where its doubles are exact (shift <= 52); the scalar loops finish the row.
  const auto simd = [&](int64_t mult, int32_t shift) -> size_t {
    if (out == nullptr || shift < 1 || shift > 52) return 0;
    return out(QLayerNormRow{xr, kSigned, zx, int32_t(cl), s1, mult, shift}, p, yr);
  };
  if (!p.gamma) {
    if (s >= 1 && s <= 62) {
      const int64_t half = int64_t{1} << (s - 1);
      for (size_t i = simd(m, s); i < c; ++i) {
        int64_t v = ((cl * (at(i) - zx) - s1) * m + half) >> s;  // |d m| < 2^52
        v += zy;
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
        yr[i] = uint8_t(int32_t(v));
      }
      return;
    }
    for (size_t i = 0; i < c; ++i) yr[i] = Clamp8(RoundHalfUpShift((cl * (at(i) - zx) - s1) * m, s) + zy, p);
    return;
  }
  const int64_t m16 = m >> 15;
  const int32_t k = s - 15 - 8;
  const int64_t zlim = int64_t{1} << 40;
  if (k >= 1 && k <= 62) {
    const int64_t half = int64_t{1} << (k - 1);
    for (size_t i = simd(m16, k); i < c; ++i) {
      int64_t z = ((cl * (at(i) - zx) - s1) * p.gamma[i] * m16 + half) >> k;  // |d g m16| < 2^52
      z = z < -zlim ? -zlim : z;
      z = z > zlim ? zlim : z;
      int64_t v = ((z + p.beta[i] + 128) >> 8) + zy;
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
      yr[i] = uint8_t(int32_t(v));
    }
    return;
  }
  for (size_t i = 0; i < c; ++i) {
    int64_t z = RoundHalfUpShift((cl * (at(i) - zx) - s1) * p.gamma[i] * m16, k);
    z = z < -zlim ? -zlim : z > zlim ? zlim : z;
    yr[i] = Clamp8(((z + p.beta[i] + 128) >> 8) + zy, p);
  }
}

}  // namespace

void QLayerNorm(const uint8_t* x, bool x_signed, int32_t x_zero_point, size_t rows, const QLayerNormParams& p,
                QLayerNormOutFn out, uint8_t* y) {
  const size_t c = p.length;
  for (size_t r = 0; r < rows; ++r) {
    if (x_signed)
      Row<true>(x + r * c, x_zero_point, p, out, y + r * c);
    else
      Row<false>(x + r * c, x_zero_point, p, out, y + r * c);
  }
}

}  // namespace opq
