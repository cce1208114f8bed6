// Integer LayerNorm: the definition (qlayernorm.h). Mirrors src/kernels/int8/qlayernorm-ref.ts
// operation for operation; the TypeScript uses doubles where every value is an integer below 2^53,
// here they are int64, and the row multiplier's exact check is 128-bit.
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

inline int32_t Load(const uint8_t* x, size_t i, bool x_signed) {
  return x_signed ? int32_t(int8_t(x[i])) : int32_t(x[i]);
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

void QLayerNormRef(const uint8_t* x, bool x_signed, int32_t x_zero_point, size_t rows, const QLayerNormParams& p,
                   uint8_t* y) {
  const size_t c = p.length;
  const int64_t cl = int64_t(c);
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* xr = x + r * c;
    uint8_t* yr = y + r * c;
    int64_t s1 = 0, sq = 0;
    for (size_t i = 0; i < c; ++i) {
      const int64_t q = Load(xr, i, x_signed) - x_zero_point;
      s1 += q;
      sq += q * q;
    }
    const int64_t t = cl * cl * sq - cl * s1 * s1 + p.eps;
    if (t == 0) {
      for (size_t i = 0; i < c; ++i) {
        const int64_t b = p.gamma ? (int64_t(p.beta[i]) + 128) >> 8 : 0;
        yr[i] = Clamp8(p.y_zero_point + b, p);
      }
      continue;
    }
    int64_t m;
    int32_t s;
    QLayerNormRowMultiplier(t, p.gm, p.gs, &m, &s);
    if (!p.gamma) {
      for (size_t i = 0; i < c; ++i) {
        const int64_t d = cl * (Load(xr, i, x_signed) - x_zero_point) - s1;
        yr[i] = Clamp8(RoundHalfUpShift(d * m, s) + p.y_zero_point, p);
      }
      continue;
    }
    const int64_t m16 = m >> 15;
    const int32_t k = s - 15 - 8;
    const int64_t zlim = int64_t{1} << 40;
    for (size_t i = 0; i < c; ++i) {
      const int64_t d = cl * (Load(xr, i, x_signed) - x_zero_point) - s1;
      int64_t z = RoundHalfUpShift(d * p.gamma[i] * m16, k);
      z = z < -zlim ? -zlim : z > zlim ? zlim : z;
      yr[i] = Clamp8(((z + p.beta[i] + 128) >> 8) + p.y_zero_point, p);
    }
  }
}

}  // namespace opq
