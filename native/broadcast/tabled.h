// Binary 8-bit ops (Add, Mul of two activations) through tables, for large tensors: an output byte
// depends only on the two input bytes, so the op's own row kernel evaluated once over every input
// byte gives a table with exactly its results, and a lookup per element replaces the per-element
// fixed-point arithmetic (three 32x32-bit high multiplies for Add).
//   - A run whose one operand is a broadcast scalar (a per-channel gate, SE blocks): the 256 outputs
//     for that scalar (one row-kernel call over the bytes 0..255), then the LUT kernel over the run.
//   - Runs where both operands advance, when the tensor is large: the 65,536 outputs T[a*256 + b]
//     (256 row-kernel calls), then one lookup per element.
// Everything else goes to the row kernel as it stands. The tables live in thread-local storage, so
// a call allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "broadcast/broadcast.h"
#include "qlut/qlut.h"

namespace opq {

// Below these sizes building a table costs more than it saves (row kernels run at 1-1.5 ns per
// element; a lookup costs 0.6 ns, the LUT kernel far less).
constexpr size_t kPairTableMinElements = size_t{1} << 18;
constexpr size_t kRowTableMinRun = 1024;

struct BinaryTables {
  alignas(64) uint8_t identity[256];
  alignas(64) uint8_t row[256];
  alignas(64) uint8_t pair[65536];
};

BinaryTables& ThreadBinaryTables();

// row(a, a_scalar, b, b_scalar, n, y): the op's row kernel (its y[j] depends only on the raw bytes
// of a and b at j). lut: the LUT kernel of the same variant.
template <typename Row>
void ForEachBroadcastRowTabled(const BroadcastPlan& p, const uint8_t* a, const uint8_t* b, uint8_t* y, LutFn lut,
                               Row&& row) {
  if (p.total == 0) return;
  const size_t r = p.rank, n = p.shape[r - 1];
  const bool a_scalar = p.sa[r - 1] == 0, b_scalar = p.sb[r - 1] == 0;
  BinaryTables& t = ThreadBinaryTables();
  const bool pair = !a_scalar && !b_scalar && p.total >= kPairTableMinElements;
  const bool per_row = a_scalar != b_scalar && n >= kRowTableMinRun;
  if (pair) {
    for (int v = 0; v < 256; ++v) t.identity[v] = static_cast<uint8_t>(v);
    for (int v = 0; v < 256; ++v) {
      const uint8_t av = static_cast<uint8_t>(v);
      row(&av, true, t.identity, false, 256, t.pair + v * 256);
    }
  } else if (per_row) {
    for (int v = 0; v < 256; ++v) t.identity[v] = static_cast<uint8_t>(v);
  }
  int last = -1;  // the scalar byte t.row was built for
  ForEachBroadcastRow(p, a, b, y, [&](const uint8_t* ra, bool as, const uint8_t* rb, bool bs, size_t m, uint8_t* ry) {
    if (pair) {
      const uint8_t* __restrict pa = ra;
      const uint8_t* __restrict pb = rb;
      const uint8_t* __restrict tab = t.pair;
      for (size_t j = 0; j < m; ++j) ry[j] = tab[(size_t(pa[j]) << 8) | pb[j]];
    } else if (per_row) {
      const uint8_t s = as ? ra[0] : rb[0];
      if (s != last) {
        if (as)
          row(&s, true, t.identity, false, 256, t.row);
        else
          row(t.identity, false, &s, true, 256, t.row);
        last = s;
      }
      lut(as ? rb : ra, m, t.row, ry);
    } else {
      row(ra, as, rb, bs, m, ry);
    }
  });
}

}  // namespace opq
