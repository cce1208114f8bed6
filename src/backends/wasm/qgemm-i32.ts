/**
 * wasm marshalling of qgemmI32 (opq_qgemm_i32). A packed B lives in wasm memory (freed when the
 * PackedQGemmI32 is garbage-collected); a packed run copies only A in and Y out.
 */
import { OnnxPtqError } from '../../errors.js';
import {
  normalizeQGemmI32,
  normalizeQGemmI32Pack,
  normalizeQGemmI32Packed,
  validateQGemmI32,
  validateQGemmI32Operands,
  type QGemmI32Kernels,
} from '../kernels-qgemm-i32.js';
import type { KernelVariant } from '../types.js';
import { Layout, type WasmModule } from './module.js';

interface WasmPackedB {
  ptr: number;
  size: number;
}

export function wasmQGemmI32Kernels(mod: WasmModule): QGemmI32Kernels {
  const auto = mod.cString(mod.ex.opq_variant_name(mod.fn('opq_qgemm_i32_auto_variant')())) as KernelVariant;
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
    qgemmI32Pack(args) {
      const p = normalizeQGemmI32Pack(args);
      const v = mod.variantId(args.variant);
      const size = mod.fn('opq_qgemm_i32_packed_b_size')(p.n, p.k, v) >>> 0;
      if (size === 0) throw new OnnxPtqError('KERNEL_ARGUMENT', 'qgemm_i32: variant is not available on this CPU or build');
      const L = new Layout();
      const oB = L.add(p.b.byteLength),
        oZb = L.add(p.bZeroPoint.byteLength);
      const handle = mod.withBlock(L.size, (base): WasmPackedB => {
        mod.put(base + oB, p.b);
        mod.put(base + oZb, p.bZeroPoint);
        return mod.packedBlock(size, (ptr) =>
          mod.check(
            mod.fn('opq_qgemm_i32_pack_b')(
              p.n,
              p.k,
              base + oB,
              p.b.length,
              p.ldb,
              p.b instanceof Int8Array ? 1 : 0,
              base + oZb,
              p.bZeroPoint.length,
              v,
              ptr,
              size,
            ),
          ),
        );
      });
      const variant = args.variant === undefined || args.variant === 'auto' ? auto : args.variant;
      return { backend: 'wasm', variant, n: p.n, k: p.k, handle };
    },
    qgemmI32Packed(packed, args) {
      const g = normalizeQGemmI32Packed('wasm', packed, args);
      const h = packed.handle as WasmPackedB;
      // The JS checks of the copied operands first (copies would hide an overlap of Y with A).
      validateQGemmI32Operands({ ...g, n: packed.n, k: packed.k });
      const wsSize = mod.fn('opq_qgemm_i32_packed_workspace_size')(g.m, h.ptr, h.size) >>> 0;
      const ra = mod.residentPtr(g.a),
        ry = mod.residentPtr(g.y);
      const L = new Layout();
      const oA = L.add(ra >= 0 ? 0 : g.a.byteLength),
        oZa = L.add(g.aZeroPoint.byteLength),
        oY = L.add(ry >= 0 ? 0 : g.y.byteLength),
        oWs = L.add(wsSize);
      const aLen = g.a.length,
        yLen = g.y.length,
        aSigned = g.a instanceof Int8Array ? 1 : 0;
      mod.withBlock(L.size, (base) => {
        if (ra < 0) mod.put(base + oA, g.a);
        mod.put(base + oZa, g.aZeroPoint);
        if (ry < 0 && g.ldy !== packed.n) mod.put(base + oY, g.y); // the gaps of a strided Y must survive
        mod.check(
          mod.fn('opq_qgemm_i32_packed')(
            g.m,
            ra >= 0 ? ra : base + oA,
            aLen,
            g.lda,
            aSigned,
            base + oZa,
            g.aZeroPoint.length,
            h.ptr,
            h.size,
            ry >= 0 ? ry : base + oY,
            yLen,
            g.ldy,
            base + oWs,
            wsSize,
            0,
          ),
        );
        if (ry < 0) mod.get(base + oY, g.y);
      });
    },
  };
}
