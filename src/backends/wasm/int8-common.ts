/** Marshalling helpers shared by the wasm elementwise, pooling and layout kernels. */
import { OnnxPtqError } from '../../errors.js';
import type { RequantParams } from '../../quant/requant.js';
import { checkRequantShape } from '../qgemm-args.js';
import { Layout, WasmModule } from './module.js';

export function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

export const is8 = (a: unknown): a is Uint8Array | Int8Array => a instanceof Uint8Array || a instanceof Int8Array;

/** Integer in [0, 2^31 - 1] (what decides the copies; the C ABI checks the rest). */
export function dim(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1)
    fail(`${what} must be an integer in [0, 2^31 - 1], got ${String(v)}`);
  return v;
}

/**
 * Runs `call` with each typed array copied in at its own offset; `out` arrays are copied back.
 * Arrays already in wasm memory (a resident arena) are passed by address, with no copy.
 */
export function withBuffers(
  mod: WasmModule,
  bufs: readonly ArrayBufferView[],
  extra: number,
  call: (ptrs: number[], extraAt: number) => number,
  out: readonly number[],
): void {
  const L = new Layout();
  const resident = bufs.map((b) => mod.residentPtr(b));
  const offs = bufs.map((b, i) => (resident[i]! >= 0 ? -1 : L.add(b.byteLength)));
  const oExtra = L.add(extra);
  mod.withBlock(L.size, (base) => {
    // Outputs are copied in too, so elements a kernel does not write come back unchanged.
    bufs.forEach((b, i) => offs[i]! >= 0 && mod.put(base + offs[i]!, b));
    // A resident array's address was taken before the block was allocated: if that grew the
    // memory, the view is detached but the address still holds its bytes.
    mod.check(
      call(
        bufs.map((_, i) => (offs[i]! >= 0 ? base + offs[i]! : resident[i]!)),
        base + oExtra,
      ),
    );
    for (const i of out) if (offs[i]! >= 0) mod.get(base + offs[i]!, bufs[i]!);
  });
}

/** Bytes for one per-tensor requant struct and arrays, written by putRequant at `at`. */
export const REQUANT_BYTES = (rq: RequantParams) => WasmModule.requantBytes(rq);

export function checkRequant(rq: RequantParams, what: string): void {
  checkRequantShape(rq, what);
}

/** The arguments of a convolution-like C entry (qconvtranspose2d, qconv16, qconvtranspose16). */
export interface ConvLikeCall {
  /** The C entry and its workspace-size query. */
  fn: string;
  workspaceFn: string;
  /** The shape struct's int32 fields (16 or 18). */
  shape: Int32Array;
  x: ArrayBufferView & { length: number };
  /** X's and Y's type argument (is_signed, or an OPQ_QC16_* id). */
  xType: number;
  xZeroPoint: number;
  w: Int8Array;
  wZeroPoint: Int32Array;
  bias?: Int32Array | null;
  requant: RequantParams;
  y: ArrayBufferView & { length: number };
  yType: number;
  variant: number;
}

/**
 * One call of a convolution-like entry: shape, requant and workspace in one block after the
 * buffers (the workspace size is 0 for a bad geometry or variant: the call then names the argument).
 */
export function callConvLike(mod: WasmModule, c: ConvLikeCall): void {
  const shapeBytes = Math.ceil((c.shape.length * 4) / 16) * 16;
  const ws = mod.withBlock(shapeBytes, (p) => {
    mod.put(p, c.shape);
    return mod.fn(c.workspaceFn)(p, c.variant) >>> 0;
  });
  const bias = c.bias?.length ? c.bias : new Int32Array(0);
  const rqBytes = Math.ceil(WasmModule.requantBytes(c.requant) / 16) * 16;
  withBuffers(
    mod,
    [c.x, c.w, c.wZeroPoint, bias, c.y],
    shapeBytes + rqBytes + ws + 16,
    ([px, pw, pz, pb, py], extra) => {
      mod.put(extra, c.shape);
      mod.putRequant(extra + shapeBytes, c.requant);
      const pws = (extra + shapeBytes + rqBytes + 15) & ~15;
      return mod.fn(c.fn)(
        extra,
        px!,
        c.x.length,
        c.xType,
        c.xZeroPoint,
        pw!,
        c.w.length,
        pz!,
        c.wZeroPoint.length,
        pb!,
        bias.length,
        extra + shapeBytes,
        py!,
        c.y.length,
        c.yType,
        pws,
        ws,
        c.variant,
        0,
      );
    },
    [4],
  );
}
