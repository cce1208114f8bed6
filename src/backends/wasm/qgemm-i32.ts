/** wasm marshalling of qgemmI32 (opq_qgemm_i32). */
import { normalizeQGemmI32, validateQGemmI32, type QGemmI32Kernels } from '../kernels-qgemm-i32.js';
import { Layout, type WasmModule } from './module.js';

export function wasmQGemmI32Kernels(mod: WasmModule): QGemmI32Kernels {
  return {
    qgemmI32(args) {
      const g = normalizeQGemmI32(args);
      // Every check in JS first, with the C ABI's words: the copies below would hide an overlap of Y
      // with A or B (opq_qgemm_i32 checks the rest again).
      validateQGemmI32(g);
      const v = mod.variantId(args.variant);
      const wsSize = mod.fn('opq_qgemm_i32_workspace_size')(g.m, g.n, g.k, v) >>> 0;
      // Arrays in a resident arena are used in place (addresses taken before any allocation).
      const ra = mod.residentPtr(g.a),
        rb = mod.residentPtr(g.b),
        ry = mod.residentPtr(g.y);
      const L = new Layout();
      const oA = L.add(ra >= 0 ? 0 : g.a.byteLength),
        oB = L.add(rb >= 0 ? 0 : g.b.byteLength),
        oZa = L.add(g.aZeroPoint.byteLength),
        oZb = L.add(g.bZeroPoint.byteLength),
        oY = L.add(ry >= 0 ? 0 : g.y.byteLength),
        oWs = L.add(wsSize);
      // Lengths read now: allocating the block may grow the memory and detach resident views.
      const aLen = g.a.length,
        bLen = g.b.length,
        yLen = g.y.length,
        aSigned = g.a instanceof Int8Array ? 1 : 0,
        bSigned = g.b instanceof Int8Array ? 1 : 0;
      mod.withBlock(L.size, (base) => {
        if (ra < 0) mod.put(base + oA, g.a);
        if (rb < 0) mod.put(base + oB, g.b);
        mod.put(base + oZa, g.aZeroPoint);
        mod.put(base + oZb, g.bZeroPoint);
        if (ry < 0) mod.put(base + oY, g.y); // Y is copied back whole: the gaps of a strided Y must survive
        mod.check(
          mod.fn('opq_qgemm_i32')(
            g.m,
            g.n,
            g.k,
            ra >= 0 ? ra : base + oA,
            aLen,
            g.lda,
            aSigned,
            base + oZa,
            g.aZeroPoint.length,
            rb >= 0 ? rb : base + oB,
            bLen,
            g.ldb,
            bSigned,
            base + oZb,
            g.bZeroPoint.length,
            ry >= 0 ? ry : base + oY,
            yLen,
            g.ldy,
            base + oWs,
            wsSize,
            v,
            0,
          ),
        );
        if (ry < 0) mod.get(base + oY, g.y);
      });
    },
  };
}
