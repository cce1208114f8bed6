// opq_exact_sum_add_f64: exact sums of doubles in fixed point (a "superaccumulator", after Neal 2015,
// "Fast exact summation using small and large superaccumulators"). Every finite double is an integer
// multiple of 2^-1074 below 2^1024; its 53-bit mantissa lands in three consecutive 32-bit digits of
// that integer, each held in an int64 chunk, so adding one is a few integer adds and the sum does not
// depend on the order of the terms. Chunks take up to 2^33 per add and are carried into the next
// chunk every 2^29 adds, before an int64 could overflow. Bias correction's probes use it (one term
// per channel and sample) inside the native replay; src/util/exact-sum.ts reads the chunks. The C
// entry point (argument checks) is in api/f32-api.cc.
#include <cstdint>
#include <cstring>

#include "f32-gemm/f32-kernels.h"
#include "opq_f32.h"

namespace opq {
namespace {

constexpr int kChunks = OPQ_EXACT_SUM_WORDS - 2;  // then the non-finite terms' sum, then the adds since the last carry
constexpr int64_t kCarryEvery = int64_t{1} << 29;

void Carry(int64_t* acc) {
  // Chunks 0..kChunks-2 end in [0, 2^32); the top chunk keeps the sign and whatever is left.
  for (int k = 0; k + 1 < kChunks; ++k) {
    const int64_t c = acc[k] >> 32;  // arithmetic shift: floor division by 2^32
    acc[k] -= c * (int64_t{1} << 32);
    acc[k + 1] += c;
  }
}

void Add(double x, int64_t* acc) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const int biased = int((bits >> 52) & 0x7ff);
  if (biased == 0x7ff) {  // NaN or infinity: their sum is order-free too
    double s;
    std::memcpy(&s, &acc[kChunks], sizeof s);
    s += x;
    std::memcpy(&acc[kChunks], &s, sizeof s);
    return;
  }
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  if (biased != 0) mant |= uint64_t{1} << 52;
  if (mant == 0) return;
  // x = +-mant * 2^(p - 1074): the mantissa's lowest bit is bit p of the fixed-point integer.
  const int p = biased == 0 ? 0 : biased - 1;
  const int idx = p >> 5, sh = p & 31;
  const uint64_t lo = (mant & 0xffffffffu) << sh;  // < 2^63
  const uint64_t hi = (mant >> 32) << sh;          // < 2^52
  const int64_t c0 = int64_t(lo & 0xffffffffu);
  const int64_t c1 = int64_t((lo >> 32) + (hi & 0xffffffffu));  // < 2^33
  const int64_t c2 = int64_t(hi >> 32);
  if (bits >> 63) {
    acc[idx] -= c0;
    acc[idx + 1] -= c1;
    acc[idx + 2] -= c2;
  } else {
    acc[idx] += c0;
    acc[idx + 1] += c1;
    acc[idx + 2] += c2;
  }
  if (++acc[kChunks + 1] == kCarryEvery) {
    Carry(acc);
    acc[kChunks + 1] = 0;
  }
}

}  // namespace

void ExactSumAddF64(const double* x, size_t n, int64_t* acc) {
  for (size_t i = 0; i < n; ++i) Add(x[i], acc + i * OPQ_EXACT_SUM_WORDS);
}

}  // namespace opq
