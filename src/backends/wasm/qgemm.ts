import type { Int8Like, KernelVariant, QGemmArgs } from '../types.js';
import { checkRequantShape, normalizeQGemm, validateQGemm } from '../qgemm-args.js';
import { OnnxPtqError } from '../../errors.js';
import type { RequantParams } from '../../quant/requant.js';
import { Layout, WasmModule } from './module.js';

export function qgemmWasm(mod: WasmModule, args: QGemmArgs): void {
  const g = normalizeQGemm(args);
  // JS checks only what decides the copies (types, array lengths); opq_qgemm validates sizes and ranges.
  checkRequantShape(g.requant, 'qgemm');
  if (
    !(g.a instanceof Uint8Array || g.a instanceof Int8Array) ||
    !(g.b instanceof Int8Array) ||
    !(g.y instanceof Uint8Array || g.y instanceof Int8Array) ||
    !(g.bZeroPoint instanceof Int32Array) ||
    (g.bias !== null && !(g.bias instanceof Int32Array))
  ) {
    validateQGemm(g); // throws the precise type error
  }
  const v = mod.variantId(args.variant);
  const wsSize = mod.fn('opq_qgemm_workspace_size')(g.m, g.n, g.k, v);
  // A and Y in a resident arena are used in place (addresses taken before any allocation).
  const ra = mod.residentPtr(g.a),
    ry = mod.residentPtr(g.y);
  const L = new Layout();
  const oA = L.add(ra >= 0 ? 0 : g.a.byteLength),
    oB = L.add(g.b.byteLength),
    oZb = L.add(g.bZeroPoint.byteLength);
  const oBias = L.add(g.bias ? g.bias.byteLength : 0),
    oY = L.add(ry >= 0 ? 0 : g.y.byteLength);
  const oRq = L.add(WasmModule.requantBytes(g.requant)),
    oWs = L.add(wsSize);
  const aLen = g.a.length,
    yLen = g.y.length;
  mod.withBlock(L.size, (base) => {
    if (ra < 0) mod.put(base + oA, g.a);
    mod.put(base + oB, g.b);
    mod.put(base + oZb, g.bZeroPoint);
    if (g.bias) mod.put(base + oBias, g.bias);
    if (ry < 0) mod.put(base + oY, g.y); // Y is copied back whole: the gaps of a strided Y must survive
    mod.putRequant(base + oRq, g.requant);
    mod.check(
      mod.fn('opq_qgemm')(
        g.m,
        g.n,
        g.k,
        ra >= 0 ? ra : base + oA,
        aLen,
        g.lda,
        g.a instanceof Int8Array ? 1 : 0,
        g.aZeroPoint,
        base + oB,
        g.b.length,
        g.ldb,
        base + oZb,
        g.bZeroPoint.length,
        base + oBias,
        g.bias ? g.bias.length : 0,
        base + oRq,
        ry >= 0 ? ry : base + oY,
        yLen,
        g.ldy,
        g.y instanceof Int8Array ? 1 : 0,
        base + oWs,
        wsSize,
        v,
      ),
    );
    if (ry < 0) mod.get(base + oY, g.y);
  });
}

export function requantizeRowWasm(mod: WasmModule, acc: Int32Array, rq: RequantParams, y: Int8Like, variant?: KernelVariant): void {
  if (!(acc instanceof Int32Array)) throw new OnnxPtqError('KERNEL_ARGUMENT', 'acc must be an Int32Array');
  if (!(y instanceof Uint8Array || y instanceof Int8Array))
    throw new OnnxPtqError('KERNEL_ARGUMENT', 'y must be a Uint8Array or Int8Array');
  checkRequantShape(rq, 'requantize_row');
  const v = mod.variantId(variant);
  const L = new Layout();
  const oAcc = L.add(acc.byteLength),
    oY = L.add(y.byteLength),
    oRq = L.add(WasmModule.requantBytes(rq));
  mod.withBlock(L.size, (base) => {
    mod.put(base + oAcc, acc);
    mod.putRequant(base + oRq, rq);
    mod.check(mod.fn('opq_requantize_row')(base + oAcc, acc.length, base + oRq, base + oY, y.length, y instanceof Int8Array ? 1 : 0, v));
    mod.get(base + oY, y);
  });
}
