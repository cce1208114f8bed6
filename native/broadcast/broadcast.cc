#include "broadcast/broadcast.h"

namespace opq {
namespace {
// Element counts above 2^31 - 1 are refused: no activation is that large, and it keeps every
// offset within int32 on wasm.
constexpr size_t kMaxElements = (size_t{1} << 31) - 1;

// *acc *= v, false when the product passes kMaxElements (a zero product stays zero).
bool MulChecked(size_t* acc, size_t v) {
  if (v == 0 || *acc == 0) {
    *acc = 0;
    return true;
  }
  if (v > kMaxElements || *acc > kMaxElements / v) return false;
  *acc *= v;
  return true;
}
}  // namespace

const char* MakeBroadcastPlan(const char* op, size_t rank, const size_t* a_shape, const size_t* b_shape,
                              BroadcastPlan* plan) {
  (void)op;
  if (rank > OPQ_MAX_RANK) return "broadcast: rank must be at most 8";
  if (rank > 0 && (a_shape == nullptr || b_shape == nullptr)) return "broadcast: a_shape or b_shape is null";
  size_t ys[OPQ_MAX_RANK], as[OPQ_MAX_RANK], bs[OPQ_MAX_RANK];
  size_t ta = 1, tb = 1, ty = 1;
  for (size_t d = 0; d < rank; ++d) {
    const size_t da = a_shape[d], db = b_shape[d];
    if (da != db && da != 1 && db != 1)
      return "broadcast: a_shape and b_shape are not broadcastable (dims differ and neither is 1)";
    ys[d] = da == 1 ? db : da;
    if (!MulChecked(&ta, da)) return "broadcast: a has more than 2^31 - 1 elements";
    if (!MulChecked(&tb, db)) return "broadcast: b has more than 2^31 - 1 elements";
    if (!MulChecked(&ty, ys[d])) return "broadcast: the output has more than 2^31 - 1 elements";
  }
  plan->total = ty;
  plan->a_count = ta;
  plan->b_count = tb;
  if (ty == 0) {
    plan->rank = 1;
    plan->shape[0] = 0;
    return nullptr;
  }
  // Dense strides, 0 where broadcast.
  size_t sa = 1, sb = 1;
  for (size_t d = rank; d-- > 0;) {
    as[d] = a_shape[d] == 1 ? 0 : sa;
    bs[d] = b_shape[d] == 1 ? 0 : sb;
    sa *= a_shape[d];
    sb *= b_shape[d];
  }
  // Drop size-1 output dims, then merge neighbours whose strides chain for both operands.
  size_t r = 0;
  size_t shape[OPQ_MAX_RANK], psa[OPQ_MAX_RANK], psb[OPQ_MAX_RANK];
  for (size_t d = 0; d < rank; ++d) {
    if (ys[d] == 1) continue;
    if (r > 0 && psa[r - 1] == as[d] * ys[d] && psb[r - 1] == bs[d] * ys[d]) {
      shape[r - 1] *= ys[d];
      psa[r - 1] = as[d];
      psb[r - 1] = bs[d];
      continue;
    }
    shape[r] = ys[d];
    psa[r] = as[d];
    psb[r] = bs[d];
    ++r;
  }
  if (r == 0) {
    shape[0] = 1;
    psa[0] = psb[0] = 0;
    r = 1;
  }
  plan->rank = r;
  for (size_t d = 0; d < r; ++d) {
    plan->shape[d] = shape[d];
    plan->sa[d] = psa[d];
    plan->sb[d] = psb[d];
  }
  return nullptr;
}

}  // namespace opq
