// opq_lut2: a binary op of two 8-bit tensors as the table of its 65,536 results. One scalar
// definition for every variant (bytes have no gather; Zen 3's dword gathers were no faster than
// scalar loads, 0.6 ns per element from a table in L2), plus the variant's LUT kernel for runs
// along which one operand is a single value.
#include "broadcast/broadcast.h"
#include "qlut/qlut.h"

namespace opq {

void Lut2(const BroadcastPlan& plan, const uint8_t* a, const uint8_t* b, const uint8_t* table, uint8_t* y, LutFn lut) {
  uint8_t column[256];
  int last_column = -1;  // the b value `column` was gathered for
  ForEachBroadcastRow(plan, a, b, y,
                      [&](const uint8_t* ra, bool as, const uint8_t* rb, bool bs, size_t n, uint8_t* ry) {
                        if (as && bs) {
                          const uint8_t v = table[(size_t(ra[0]) << 8) | rb[0]];
                          for (size_t j = 0; j < n; ++j) ry[j] = v;
                        } else if (as) {
                          lut(rb, n, table + (size_t(ra[0]) << 8), ry);  // row a of the table
                        } else if (bs) {
                          if (rb[0] != last_column) {
                            for (size_t v = 0; v < 256; ++v) column[v] = table[(v << 8) | rb[0]];
                            last_column = rb[0];
                          }
                          lut(ra, n, column, ry);
                        } else {
                          const uint8_t* __restrict pa = ra;
                          const uint8_t* __restrict pb = rb;
                          for (size_t j = 0; j < n; ++j) ry[j] = table[(size_t(pa[j]) << 8) | pb[j]];
                        }
                      });
}

}  // namespace opq
