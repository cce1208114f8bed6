// The tiled, threaded driver shared by the SIMD qgemm_i32 variants. A variant V supplies its tile
// (kMr x kNr), k step (2: int16 pairs, 4: byte quads), how many int32 terms per row and per column
// its epilogue needs, the product size below which it stays on the calling thread
// (kMinParallelMacs), and three hooks:
//   V::PackA(ctx, panel), V::PackB(ctx, panel): pack one panel (and its terms);
//   V::Tile(ctx, ip, jp): the microkernel over all of K for one tile, then its epilogue into Y.
// Phase 1 packs every panel of A and B (A only when B comes packed: I32PackB), phase 2 runs the tiles; each phase is
// split across the pool when the product is large enough to gain. A task writes only its own tiles, and int32
// arithmetic modulo 2^32 does not depend on the order of the additions, so neither do the bits.
//
// Internal linkage on purpose (as qgemm-int16-driver.h): each ISA file includes this header before
// switching its target.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qgemm-i32/qgemm-i32.h"
#include "threadpool/threadpool.h"

namespace opq {
namespace {

struct I32Ctx {
  const GemmOperands* o;
  size_t ks;       // k steps (pairs or quads), K rounded up
  size_t mp, np;   // rows and columns rounded up to the tile
  uint8_t* apack;  // mp / kMr panels of ks steps, 4 bytes per row and step
  uint8_t* bpack;  // np / kNr panels of ks steps, 4 bytes per column and step
  int32_t* rowt;   // V::kRowTerms arrays of mp entries
  int32_t* colt;   // V::kColTerms arrays of np entries
  int32_t* y;
  size_t ldy;
};

// The int16-pair variants' kMinParallelMacs: the integer convolution driver's threshold
// (conv-driver.cc), about 50 us of single-thread work at their rate; below it waking the pool costs
// more than it saves.
constexpr double kI32MinParallelMacsInt16 = double(uint64_t{1} << 22);
// A task sweeps a block of A panels per B panel: the block is kept near this size, so that it
// stays in L2 while the B panel (ks x kNr) stays in L1.
constexpr size_t kI32ABlockBytes = 128 * 1024;

constexpr uint64_t I32Up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Packed B: the B panels (np x ks steps, 4 bytes each), then the column terms, each section
// 64-byte aligned from the start.
template <class V>
uint64_t I32PackedBBytes(uint64_t n, uint64_t k) {
  const uint64_t ks = (k + V::kStep - 1) / V::kStep, np = I32Up(n, V::kNr);
  return I32Up(np * ks * 4, 64) + I32Up(np * 4 * V::kColTerms, 64);
}

// The workspace: A's panels and row terms, then B's panels and column terms unless B comes packed.
template <class V>
uint64_t I32Workspace(uint64_t m, uint64_t n, uint64_t k, bool packed_b) {
  const uint64_t ks = (k + V::kStep - 1) / V::kStep, mp = I32Up(m, V::kMr);
  return I32Up(mp * ks * 4, 64) + I32Up(mp * 4 * V::kRowTerms, 64) + (packed_b ? 0 : I32PackedBBytes<V>(n, k)) + 64;
}

template <class V>
void I32PackB(const GemmOperands& o, uint8_t* dst) {
  const size_t ks = (o.k + V::kStep - 1) / V::kStep, npan = (o.n + V::kNr - 1) / V::kNr;
  I32Ctx c{&o, ks, 0, npan * V::kNr, nullptr, dst, nullptr, nullptr, nullptr, 0};
  c.colt = reinterpret_cast<int32_t*>(dst + I32Up(c.np * ks * 4, 64));
  for (size_t p = 0; p < npan; ++p) V::PackB(c, p);
}

// Rows r < rows and columns c < cols of a kMr x kNr tile (leading dimension kNr) into Y at (i0, j0).
template <size_t NR>
void StoreTileI32(const int32_t* tile, size_t rows, size_t cols, int32_t* y, size_t ldy) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) y[r * ldy + c] = tile[r * NR + c];
}

template <class V>
void RunI32Gemm(const QGemmI32Args& g) {
  const GemmOperands& o = g.op;
  const size_t ks = (o.k + V::kStep - 1) / V::kStep;
  const size_t mpan = (o.m + V::kMr - 1) / V::kMr, npan = (o.n + V::kNr - 1) / V::kNr;
  I32Ctx c{&o, ks, mpan * V::kMr, npan * V::kNr, nullptr, nullptr, nullptr, nullptr, g.y, g.ldy};
  uintptr_t at = static_cast<uintptr_t>(I32Up(reinterpret_cast<uintptr_t>(g.workspace), 64));
  auto take = [&at](size_t bytes) {
    void* p = reinterpret_cast<void*>(at);
    at += static_cast<uintptr_t>(I32Up(bytes, 64));
    return p;
  };
  c.apack = static_cast<uint8_t*>(take(c.mp * ks * 4));
  c.rowt = static_cast<int32_t*>(take(c.mp * 4 * V::kRowTerms));
  // B's panels and column terms in I32PackB's layout: the packed B, or the workspace's last section.
  c.bpack = g.packed_b != nullptr ? const_cast<uint8_t*>(g.packed_b)
                                  : static_cast<uint8_t*>(take(I32PackedBBytes<V>(o.n, o.k)));
  c.colt = reinterpret_cast<int32_t*>(c.bpack + I32Up(c.np * ks * 4, 64));
  ThreadPool* pool = double(o.m) * double(o.n) * double(o.k) >= V::kMinParallelMacs ? g.pool : nullptr;

  const size_t pack_b = g.packed_b != nullptr ? 0 : npan;
  auto pack = [&c, mpan](size_t t, size_t) {
    if (t < mpan)
      V::PackA(c, t);
    else
      V::PackB(c, t - mpan);
  };
  ParallelFor(pool, mpan + pack_b, pack);

  const size_t panel_bytes = ks * V::kMr * 4;
  size_t rb = panel_bytes == 0 ? mpan : kI32ABlockBytes / panel_bytes;
  rb = rb < 1 ? 1 : rb > mpan ? mpan : rb;
  const size_t blocks = (mpan + rb - 1) / rb;
  // Task t: B panel t % npan times the row block t / npan (one thread: row blocks outermost).
  auto run = [&c, npan, mpan, rb](size_t t, size_t) {
    const size_t jp = t % npan, ip0 = t / npan * rb, ip1 = ip0 + rb < mpan ? ip0 + rb : mpan;
    for (size_t ip = ip0; ip < ip1; ++ip) V::Tile(c, ip, jp);
  };
  ParallelFor(pool, blocks * npan, run);
}

}  // namespace
}  // namespace opq
