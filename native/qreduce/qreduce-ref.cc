#include "qreduce/qreduce.h"

namespace opq {
namespace {

// Offsets of every index of a few (size, stride) axes, last axis fastest.
class Odometer {
 public:
  Odometer(const size_t* sizes, const size_t* strides, size_t k) : k_(k) {
    for (size_t i = 0; i < k; ++i) {
      size_[i] = sizes[i];
      stride_[i] = strides[i];
      idx_[i] = 0;
    }
  }
  size_t offset() const { return off_; }
  void next() {
    for (size_t i = k_; i-- > 0;) {
      off_ += stride_[i];
      if (++idx_[i] < size_[i]) return;
      off_ -= stride_[i] * size_[i];
      idx_[i] = 0;
    }
  }

 private:
  size_t k_, off_ = 0;
  size_t size_[kReduceMaxRank], stride_[kReduceMaxRank], idx_[kReduceMaxRank];
};

}  // namespace

int32_t ReduceRowSumRef(const uint8_t* x, size_t n, bool is_signed) {
  int32_t s = 0;
  for (size_t j = 0; j < n; ++j) s += is_signed ? static_cast<int32_t>(static_cast<int8_t>(x[j])) : x[j];
  return s;
}

void ReduceRowAccRef(int32_t* acc, const uint8_t* x, size_t n, bool is_signed) {
  for (size_t j = 0; j < n; ++j) acc[j] += is_signed ? static_cast<int32_t>(static_cast<int8_t>(x[j])) : x[j];
}

void ReduceMeanRun(const size_t* groups, const bool* reduced, size_t num_groups, size_t count, const uint8_t* x,
                   bool is_signed, int32_t zx, const opq_requant& rq, const ReduceOps& ops, uint8_t* y) {
  size_t stride[kReduceMaxRank];
  stride[num_groups - 1] = 1;
  for (size_t g = num_groups - 1; g-- > 0;) stride[g] = stride[g + 1] * groups[g + 1];
  // Kept and reduced axes other than the innermost run.
  size_t ks[kReduceMaxRank], kst[kReduceMaxRank], rs[kReduceMaxRank], rst[kReduceMaxRank];
  size_t nk = 0, nr = 0, kept_total = 1, red_outer = 1;
  for (size_t g = 0; g + 1 < num_groups; ++g) {
    if (reduced[g]) {
      rs[nr] = groups[g];
      rst[nr++] = stride[g];
      red_outer *= groups[g];
    } else {
      ks[nk] = groups[g];
      kst[nk++] = stride[g];
      kept_total *= groups[g];
    }
  }
  const size_t run = groups[num_groups - 1];
  // Exact in int32: |count * zx| <= 2^23 * 255.
  const int32_t bias = -static_cast<int32_t>(count) * zx;
  int32_t acc[kReduceChunk];
  if (reduced[num_groups - 1]) {
    // Innermost run reduced: one sum per output, outputs in order.
    Odometer out(ks, kst, nk);
    size_t o = 0;
    while (o < kept_total) {
      const size_t n = kept_total - o < kReduceChunk ? kept_total - o : kReduceChunk;
      for (size_t j = 0; j < n; ++j, out.next()) {
        Odometer r(rs, rst, nr);
        int32_t s = 0;
        for (size_t i = 0; i < red_outer; ++i, r.next()) s += ops.sum(x + out.offset() + r.offset(), run, is_signed);
        acc[j] = s + bias;
      }
      ops.requant(acc, nullptr, n, rq, 0, y + o);
      o += n;
    }
  } else {
    // Innermost run kept: rows of it accumulated over the reduced axes, chunk by chunk.
    Odometer out(ks, kst, nk);
    for (size_t row = 0; row < kept_total; ++row, out.next()) {
      for (size_t c0 = 0; c0 < run; c0 += kReduceChunk) {
        const size_t n = run - c0 < kReduceChunk ? run - c0 : kReduceChunk;
        for (size_t j = 0; j < n; ++j) acc[j] = bias;
        Odometer r(rs, rst, nr);
        for (size_t i = 0; i < red_outer; ++i, r.next()) ops.acc(acc, x + out.offset() + r.offset() + c0, n, is_signed);
        ops.requant(acc, nullptr, n, rq, 0, y + row * run + c0);
      }
    }
  }
}

}  // namespace opq
