/**
 * The int32-output integer GEMM kernel family "qgemmI32" (opq_qgemm_i32, native/include/onnxptq.h):
 * MatMulInteger's product, no requantization. The js backend runs the definition
 * (src/kernels/int8/qgemm-i32-ref.ts); native and wasm reuse qgemm's packing and microkernels.
 */
import { OnnxPtqError } from '../errors.js';
import type { BackendName, Int8Like, KernelVariant } from './types.js';

/**
 * A and B are uint8 or int8, each its own (its typed array decides); Y is int32. Leading dimensions
 * default to the dense ones; elements of Y outside the M x N block (the gaps of ldy > N) are not written.
 */
export interface QGemmI32Args {
  m: number;
  n: number;
  k: number;
  /** M x K, leading dimension lda (default K). */
  a: Int8Like;
  lda?: number;
  /** One entry (per tensor) or M (per row of A), in A's type range. */
  aZeroPoint: Int32Array;
  /** K x N, leading dimension ldb (default N). */
  b: Int8Like;
  ldb?: number;
  /** One entry (per tensor) or N (per column of B), in B's type range. */
  bZeroPoint: Int32Array;
  /** M x N, leading dimension ldy (default N); must not overlap A or B. */
  y: Int32Array;
  ldy?: number;
  variant?: KernelVariant;
}

/** A constant B (MatMulInteger's weights) to pack once: B and its zero points as in QGemmI32Args. */
export interface QGemmI32PackArgs {
  n: number;
  k: number;
  b: Int8Like;
  ldb?: number;
  bZeroPoint: Int32Array;
  variant?: KernelVariant;
}

/** B packed once for one backend and variant (opq_qgemm_i32_pack_b); opaque to callers. */
export interface PackedQGemmI32 {
  readonly backend: BackendName;
  /** The variant B was packed for ('auto' resolved); runs use it. */
  readonly variant: KernelVariant;
  readonly n: number;
  readonly k: number;
  /** Backend-private: the packed bytes (native), a wasm-memory block (wasm), a copy of B (js). */
  readonly handle: unknown;
}

/** A run with a packed B: A (M x K) and its zero points, Y (M x N), as in QGemmI32Args. */
export interface QGemmI32PackedArgs {
  m: number;
  a: Int8Like;
  lda?: number;
  aZeroPoint: Int32Array;
  y: Int32Array;
  ldy?: number;
}

export interface QGemmI32Kernels {
  /**
   * Y[i][j] = sum_p (A[i][p] - aZeroPoint[i or 0]) * (B[p][j] - bZeroPoint[j or 0]) for i < M, j < N,
   * p < K, accumulated in int32 with two's-complement wrap (exact whenever the true sum fits) and
   * written as int32 at y[i*ldy + j]. Every backend, variant and thread count gives the same bits.
   */
  qgemmI32(args: QGemmI32Args): void;
  /** Packs a constant B once (its values are copied: later changes to args.b do not reach the packing). */
  qgemmI32Pack(args: QGemmI32PackArgs): PackedQGemmI32;
  /** qgemmI32 with the packed B: the same bits as qgemmI32 with that B; only A is packed per call. */
  qgemmI32Packed(packed: PackedQGemmI32, args: QGemmI32PackedArgs): void;
}

export interface NormalizedQGemmI32 extends Required<Omit<QGemmI32Args, 'variant'>> {}

const MAX_DIM = 2 ** 28;
const W = 'qgemm_i32';

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

function dim(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_DIM)
    fail(`${W}: ${name} must be an integer in [0, 2^28], got ${String(v)}`);
  return v;
}

const is8 = (v: unknown): v is Int8Like => v instanceof Uint8Array || v instanceof Int8Array;

/** Dimensions checked, leading dimensions defaulted, and the typed-array checks every backend makes (the N-API glue's words). */
export function normalizeQGemmI32(g: QGemmI32Args): NormalizedQGemmI32 {
  if (g === null || typeof g !== 'object') fail(`${W}: arguments must be an object`);
  const m = dim(g.m, 'M'),
    n = dim(g.n, 'N'),
    k = dim(g.k, 'K');
  const out: NormalizedQGemmI32 = {
    m,
    n,
    k,
    a: g.a,
    lda: dim(g.lda ?? k, 'lda'),
    aZeroPoint: g.aZeroPoint,
    b: g.b,
    ldb: dim(g.ldb ?? n, 'ldb'),
    bZeroPoint: g.bZeroPoint,
    y: g.y,
    ldy: dim(g.ldy ?? n, 'ldy'),
  };
  if (!is8(out.a)) fail('a must be a Uint8Array or Int8Array');
  if (!(out.aZeroPoint instanceof Int32Array)) fail('aZeroPoint must be an Int32Array');
  if (!is8(out.b)) fail('b must be a Uint8Array or Int8Array');
  if (!(out.bZeroPoint instanceof Int32Array)) fail('bZeroPoint must be an Int32Array');
  if (!(out.y instanceof Int32Array)) fail('y must be an Int32Array');
  return out;
}

function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

/** Whether `yElems` int32 from y's start and `xElems` bytes from x's start share memory. */
function overlaps(y: Int32Array, yElems: number, x: ArrayBufferView, xElems: number): boolean {
  if (y.buffer !== x.buffer || yElems === 0 || xElems === 0) return false;
  return y.byteOffset < x.byteOffset + xElems && x.byteOffset < y.byteOffset + yElems * 4;
}

function checkZeroPoints(zp: Int32Array, count: number, signed: boolean, which: 'a' | 'b'): void {
  const [what, rows, type] = which === 'a' ? ['a_zero_point', 'M', "A's"] : ['b_zero_point', 'N', "B's"];
  if (zp.length !== 1 && zp.length !== count) fail(`${W}: ${what} must have 1 or ${rows} entries`);
  const lo = signed ? -128 : 0,
    hi = signed ? 127 : 255;
  for (const z of zp) if (z < lo || z > hi) fail(`${W}: ${what} out of ${type} type range`);
}

/**
 * The checks of opq_qgemm_i32 after normalizeQGemmI32's, in the same order and words (the js
 * backend's, and the wasm backend's before it copies: copies would hide an overlap).
 */
export function validateQGemmI32(g: NormalizedQGemmI32): void {
  validateQGemmI32Operands(g, g);
}

/**
 * The same checks with B packed (opq_qgemm_i32_packed): A, Y, their overlap and A's zero points
 * (`b` undefined); with `b`, B's buffer and zero points in their places among them.
 */
export function validateQGemmI32Operands(
  g: Omit<NormalizedQGemmI32, 'b' | 'ldb' | 'bZeroPoint'>,
  b?: Pick<NormalizedQGemmI32, 'b' | 'ldb' | 'bZeroPoint'>,
): void {
  const { m, n, k } = g;
  if (m > 0 && k > 0 && g.lda < k) fail(`${W}: lda must be >= K`);
  const aNeed = span(m, k, g.lda);
  if (aNeed > g.a.length) fail(`${W}: buffer A is smaller than (M-1)*lda + K`);
  let bNeed = 0;
  if (b) {
    if (k > 0 && n > 0 && b.ldb < n) fail(`${W}: ldb must be >= N`);
    bNeed = span(k, n, b.ldb);
    if (bNeed > b.b.length) fail(`${W}: buffer B is smaller than (K-1)*ldb + N`);
  }
  if (m > 0 && n > 0 && g.ldy < n) fail(`${W}: ldy must be >= N`);
  const yNeed = span(m, n, g.ldy);
  if (yNeed > g.y.length) fail(`${W}: buffer Y is smaller than (M-1)*ldy + N`);
  if (overlaps(g.y, yNeed, g.a, aNeed) || (b && overlaps(g.y, yNeed, b.b, bNeed)))
    fail(b ? `${W}: Y overlaps A or B` : `${W}: Y overlaps A or the packed B`);
  checkZeroPoints(g.aZeroPoint, m, g.a instanceof Int8Array, 'a');
  if (b) checkZeroPoints(b.bZeroPoint, n, b.b instanceof Int8Array, 'b');
}

/** Pack arguments checked as normalizeQGemmI32 checks B's (the N-API glue's words). */
export function normalizeQGemmI32Pack(g: QGemmI32PackArgs): Required<Omit<QGemmI32PackArgs, 'variant'>> {
  if (g === null || typeof g !== 'object') fail(`${W}: arguments must be an object`);
  const n = dim(g.n, 'N'),
    k = dim(g.k, 'K');
  const out = { n, k, b: g.b, ldb: dim(g.ldb ?? n, 'ldb'), bZeroPoint: g.bZeroPoint };
  if (!is8(out.b)) fail('b must be a Uint8Array or Int8Array');
  if (!(out.bZeroPoint instanceof Int32Array)) fail('bZeroPoint must be an Int32Array');
  return out;
}

/** Run arguments checked as normalizeQGemmI32 checks A's and Y's, and the packed B's backend. */
export function normalizeQGemmI32Packed(backend: BackendName, packed: PackedQGemmI32, g: QGemmI32PackedArgs): Required<QGemmI32PackedArgs> {
  if (packed === null || typeof packed !== 'object' || packed.backend !== backend)
    fail(`${W}: packed B was made by backend '${String(packed?.backend)}', not '${backend}'`);
  if (g === null || typeof g !== 'object') fail(`${W}: arguments must be an object`);
  const m = dim(g.m, 'M');
  const out = { m, a: g.a, lda: dim(g.lda ?? packed.k, 'lda'), aZeroPoint: g.aZeroPoint, y: g.y, ldy: dim(g.ldy ?? packed.n, 'ldy') };
  if (!is8(out.a)) fail('a must be a Uint8Array or Int8Array');
  if (!(out.aZeroPoint instanceof Int32Array)) fail('aZeroPoint must be an Int32Array');
  if (!(out.y instanceof Int32Array)) fail('y must be an Int32Array');
  return out;
}
