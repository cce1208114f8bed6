/** Argument normalization shared by the backends, and the checks the js backend makes itself
 * (native and wasm make the same checks in C, native/api/qgemm-api.cc, with the same messages). */
import { OnnxPtqError } from '../errors.js';
import type { QGemmArgs } from './types.js';
import type { RequantParams } from '../quant/requant.js';

export interface NormalizedQGemm extends Required<Omit<QGemmArgs, 'bias' | 'variant'>> {
  bias: Int32Array | null;
}

const MAX_DIM = 2 ** 28;

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

function dim(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_DIM)
    fail(`qgemm: ${name} must be an integer in [0, 2^28], got ${String(v)}`);
  return v;
}

export function normalizeQGemm(g: QGemmArgs): NormalizedQGemm {
  const m = dim(g.m, 'M'),
    n = dim(g.n, 'N'),
    k = dim(g.k, 'K');
  return {
    m,
    n,
    k,
    a: g.a,
    lda: dim(g.lda ?? k, 'lda'),
    aZeroPoint: g.aZeroPoint,
    b: g.b,
    ldb: dim(g.ldb ?? n, 'ldb'),
    bZeroPoint: g.bZeroPoint,
    bias: g.bias ?? null,
    requant: g.requant,
    y: g.y,
    ldy: dim(g.ldy ?? n, 'ldy'),
  };
}

function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

/** What must hold before the params can be copied anywhere: types and matching lengths. */
export function checkRequantShape(rq: RequantParams, what: string): void {
  if (rq === null || typeof rq !== 'object') fail(`${what}: requant must be an object`);
  if (!(rq.multiplier instanceof Int32Array) || !(rq.shift instanceof Int32Array) || !(rq.scale instanceof Float32Array)) {
    fail('requant: multiplier and shift must be Int32Arrays and scale a Float32Array');
  }
  const count = rq.shift.length;
  if (count === 0 || rq.multiplier.length !== count || rq.scale.length !== count) {
    fail('requant.multiplier, requant.shift and requant.scale must have the same non-zero length');
  }
}

/** The checks of ValidateRequant (native/requant/requant-ref.cc), in the same words. */
export function validateRequant(rq: RequantParams, channels: number, ySigned: boolean, what: string): void {
  checkRequantShape(rq, what);
  if (rq.mode !== 0 && rq.mode !== 1 && rq.mode !== 2) fail('requant: mode must be 0 (fixed-point), 1 (float) or 2 (shift)');
  const count = rq.shift.length;
  if (count !== 1 && count !== channels) fail('requant: count must be 1 or the number of output channels');
  const tmin = ySigned ? -128 : 0,
    tmax = ySigned ? 127 : 255;
  if (!(rq.min >= tmin && rq.max <= tmax && rq.min <= rq.max)) {
    fail('requant: output_min/output_max must satisfy type_min <= output_min <= output_max <= type_max');
  }
  if (!(rq.zeroPoint >= tmin && rq.zeroPoint <= tmax)) fail("requant: output_zero_point out of the output type's range");
  for (let i = 0; i < count; i++) {
    if (rq.mode === 1) {
      if (!(rq.scale[i] >= 0 && rq.scale[i] <= 3.0e38)) fail('requant: scale must be finite and >= 0');
    } else {
      if (rq.shift[i] < -31 || rq.shift[i] > 31) fail('requant: shift must be in [-31, 31]');
      if (rq.mode === 0 && rq.multiplier[i] < 0) fail('requant: multiplier must be >= 0');
    }
  }
}

/** The checks of opq_qgemm, in the same order and words. */
export function validateQGemm(g: NormalizedQGemm): void {
  const { m, n, k } = g;
  if (!(g.a instanceof Uint8Array || g.a instanceof Int8Array)) fail('a must be a Uint8Array or Int8Array');
  if (!(g.b instanceof Int8Array)) fail('b must be an Int8Array');
  if (!(g.y instanceof Uint8Array || g.y instanceof Int8Array)) fail('y must be a Uint8Array or Int8Array');
  if (!(g.bZeroPoint instanceof Int32Array)) fail('bZeroPoint must be an Int32Array');
  if (g.bias !== null && !(g.bias instanceof Int32Array)) fail('bias must be an Int32Array');
  if (m > 0 && k > 0 && g.lda < k) fail('qgemm: lda must be >= K');
  if (span(m, k, g.lda) > g.a.length) fail('qgemm: buffer A is smaller than (M-1)*lda + K');
  if (k > 0 && n > 0 && g.ldb < n) fail('qgemm: ldb must be >= N');
  if (span(k, n, g.ldb) > g.b.length) fail('qgemm: buffer B is smaller than (K-1)*ldb + N');
  if (m > 0 && n > 0 && g.ldy < n) fail('qgemm: ldy must be >= N');
  if (span(m, n, g.ldy) > g.y.length) fail('qgemm: buffer Y is smaller than (M-1)*ldy + N');
  const aSigned = g.a instanceof Int8Array;
  const amin = aSigned ? -128 : 0,
    amax = aSigned ? 127 : 255;
  if (!Number.isInteger(g.aZeroPoint) || g.aZeroPoint < amin || g.aZeroPoint > amax) fail("qgemm: a_zero_point out of A's type range");
  if (g.bZeroPoint.length !== 1 && g.bZeroPoint.length !== n) fail('qgemm: b_zero_point must have 1 or N entries');
  for (const z of g.bZeroPoint) if (z < -128 || z > 127) fail('qgemm: b_zero_point out of int8 range');
  if (g.bias !== null && g.bias.length !== 0 && g.bias.length !== n) fail('qgemm: bias must have 0 or N entries');
  validateRequant(g.requant, n, g.y instanceof Int8Array, 'qgemm');
}

/** Wraps a refusal from the C ABI (a plain Error with its message) as an OnnxPtqError. */
export function kernelError(e: unknown): OnnxPtqError {
  if (e instanceof OnnxPtqError) return e;
  return new OnnxPtqError('KERNEL_ARGUMENT', e instanceof Error ? e.message : String(e), { cause: e });
}
