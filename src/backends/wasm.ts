/**
 * The WebAssembly backend: native/ kernels built by emscripten into a standalone module with SIMD128
 * (wasm/onnxptq.wasm), instantiated here without emscripten's JS glue. Each call copies its operands
 * into one block of wasm memory, runs the C entry point (which validates every size) and copies
 * the output back.
 */
import { readFileSync } from 'node:fs';
import type { Backend, Int8Like, KernelVariant, QGemmArgs } from './types.js';
import { VARIANT_ID } from './types.js';
import { checkRequantShape, normalizeQGemm, validateQGemm } from './qgemm-args.js';
import { OnnxPtqError } from '../errors.js';
import type { RequantParams } from '../quant/requant.js';

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(n: number): number;
  free(p: number): void;
  opq_variant_name(v: number): number;
  opq_variant_available(v: number): number;
  opq_qgemm_auto_variant(): number;
  opq_qgemm_workspace_size(m: number, n: number, k: number, v: number): number;
  opq_qgemm(...args: number[]): number;
  opq_requantize_row(acc: number, count: number, rq: number, y: number, ySize: number, ySigned: number, v: number): number;
}

/** Bump allocator over one malloc'd block: operands are laid out 16-byte aligned. */
class Arena {
  private offsets: number[] = [];
  private total = 0;
  add(bytes: number): number {
    const at = this.total;
    this.offsets.push(at);
    this.total += Math.ceil(bytes / 16) * 16 + 16;
    return at;
  }
  get size(): number { return this.total; }
}

export function createWasmBackend(wasmPath: string): Backend {
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, {
    env: { emscripten_notify_memory_growth: () => {} },
    // A standalone build may import WASI for abort paths; none is reached by the kernels.
    wasi_snapshot_preview1: new Proxy({}, { get: () => () => { throw new Error('wasm: WASI call not supported'); } }),
  });
  const ex = instance.exports as unknown as Exports;
  ex._initialize();

  const cString = (ptr: number): string => {
    const bytes = new Uint8Array(ex.memory.buffer, ptr);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(bytes.subarray(0, end < 0 ? 0 : end));
  };
  const variants: KernelVariant[] = [];
  for (let v = 0; v < 4; v++) if (ex.opq_variant_available(v)) variants.push(cString(ex.opq_variant_name(v)) as KernelVariant);
  const autoName = cString(ex.opq_variant_name(ex.opq_qgemm_auto_variant())) as KernelVariant;

  const variantId = (v: KernelVariant | undefined): number => {
    const id = VARIANT_ID[v ?? 'auto'];
    if (id === undefined) throw new OnnxPtqError('KERNEL_ARGUMENT', `wasm backend: unknown variant '${v}'`);
    return id;
  };

  /** Runs fn with a block of `size` bytes; frees it whatever happens. */
  const withBlock = <T>(size: number, fn: (base: number) => T): T => {
    const base = ex.malloc(size + 16);
    if (base === 0) throw new OnnxPtqError('KERNEL_ARGUMENT', `wasm backend: out of memory allocating ${size} bytes`);
    try {
      return fn((base + 15) & ~15);
    } finally {
      ex.free(base);
    }
  };
  const put = (at: number, src: ArrayBufferView): void => {
    new Uint8Array(ex.memory.buffer, at, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  };
  // opq_requant in wasm32: mode, count, multiplier*, shift*, scale*, zero_point, min, max (8 x i32).
  const putRequant = (at: number, rq: RequantParams, mult: number, shift: number, scale: number): void => {
    put(mult, rq.multiplier);
    put(shift, rq.shift);
    put(scale, rq.scale);
    new Int32Array(ex.memory.buffer, at, 8).set([rq.mode, rq.shift.length, mult, shift, scale, rq.zeroPoint, rq.min, rq.max]);
  };
  const check = (err: number): void => {
    if (err !== 0) throw new OnnxPtqError('KERNEL_ARGUMENT', cString(err));
  };

  return {
    name: 'wasm',
    variants,
    dispatch: { qgemm: autoName, requantizeRow: autoName },
    qgemm(args: QGemmArgs): void {
      const g = normalizeQGemm(args);
      // JS-side type checks only decide what to copy; sizes are validated by opq_qgemm itself.
      checkRequantShape(g.requant, 'qgemm');
      if (!(g.a instanceof Uint8Array || g.a instanceof Int8Array) || !(g.b instanceof Int8Array) ||
          !(g.y instanceof Uint8Array || g.y instanceof Int8Array) || !(g.bZeroPoint instanceof Int32Array) ||
          (g.bias !== null && !(g.bias instanceof Int32Array))) {
        validateQGemm(g); // throws the precise type error
      }
      const v = variantId(args.variant);
      const wsSize = ex.opq_qgemm_workspace_size(g.m, g.n, g.k, v);
      const rqLen = g.requant.shift.length * 4;
      const L = new Arena();
      const oA = L.add(g.a.byteLength), oB = L.add(g.b.byteLength), oZb = L.add(g.bZeroPoint.byteLength);
      const oBias = L.add(g.bias ? g.bias.byteLength : 0), oY = L.add(g.y.byteLength), oRq = L.add(32);
      const oM = L.add(rqLen), oS = L.add(rqLen), oF = L.add(rqLen), oWs = L.add(wsSize);
      withBlock(L.size, (base) => {
        put(base + oA, g.a);
        put(base + oB, g.b);
        put(base + oZb, g.bZeroPoint);
        if (g.bias) put(base + oBias, g.bias);
        putRequant(base + oRq, g.requant, base + oM, base + oS, base + oF);
        check(ex.opq_qgemm(g.m, g.n, g.k, base + oA, g.a.length, g.lda, g.a instanceof Int8Array ? 1 : 0, g.aZeroPoint,
          base + oB, g.b.length, g.ldb, base + oZb, g.bZeroPoint.length, base + oBias, g.bias ? g.bias.length : 0,
          base + oRq, base + oY, g.y.length, g.ldy, g.y instanceof Int8Array ? 1 : 0, base + oWs, wsSize, v));
        new Uint8Array(g.y.buffer, g.y.byteOffset, g.y.byteLength).set(new Uint8Array(ex.memory.buffer, base + oY, g.y.byteLength));
      });
    },
    requantizeRow(acc: Int32Array, rq: RequantParams, y: Int8Like, variant?: KernelVariant): void {
      if (!(acc instanceof Int32Array)) throw new OnnxPtqError('KERNEL_ARGUMENT', 'acc must be an Int32Array');
      checkRequantShape(rq, 'requantize_row');
      if (!(y instanceof Uint8Array || y instanceof Int8Array)) throw new OnnxPtqError('KERNEL_ARGUMENT', 'y must be a Uint8Array or Int8Array');
      const v = variantId(variant);
      const rqLen = rq.shift.length * 4;
      const L = new Arena();
      const oAcc = L.add(acc.byteLength), oY = L.add(y.byteLength), oRq = L.add(32);
      const oM = L.add(rqLen), oS = L.add(rqLen), oF = L.add(rqLen);
      withBlock(L.size, (base) => {
        put(base + oAcc, acc);
        putRequant(base + oRq, rq, base + oM, base + oS, base + oF);
        check(ex.opq_requantize_row(base + oAcc, acc.length, base + oRq, base + oY, y.length, y instanceof Int8Array ? 1 : 0, v));
        new Uint8Array(y.buffer, y.byteOffset, y.byteLength).set(new Uint8Array(ex.memory.buffer, base + oY, y.byteLength));
      });
    },
  };
}
