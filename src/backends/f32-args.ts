/**
 * Argument packing for the float32 kernels (the C structs' field order) and the checks the js
 * backend makes itself. Native and wasm make the same checks in C (native/api/f32-api.cc) with the
 * same messages; here only what must hold before anything is copied (types, integer fields).
 */
import { OnnxPtqError } from '../errors.js';
import { CONV_PROBE_FIELDS, convProbeWorkSize } from '../kernels/f32/conv-probe.js';
import type { Conv2dF32Params, GemmF32Args, Pool3dParams, UnaryF32Op, BinaryF32Op, UnaryF32Params, SumRowsParams } from './kernels-f32.js';

const MAX_DIM = 2 ** 28;

export function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

export function checkFloats(v: unknown, name: string, what: string): asserts v is Float32Array {
  if (!(v instanceof Float32Array)) fail(`${what}: ${name} must be a Float32Array`);
}

export function checkDoubles(v: unknown, name: string, what: string): asserts v is Float64Array {
  if (!(v instanceof Float64Array)) fail(`${what}: ${name} must be a Float64Array`);
}

function int(v: unknown, name: string, what: string, lo: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > MAX_DIM)
    fail(`${what}: ${name} must be an integer in [${lo}, 2^28], got ${String(v)}`);
  return v;
}

/** Fields of frozen params (the float Conv op freezes the ones it reuses on every run): checked once. */
const frozenFields = new WeakMap<Conv2dF32Params, Int32Array>();

/** opq_conv2d_f32_params' 16 int32 fields, each checked (Int32Array would wrap silently). */
export function convFields(p: Conv2dF32Params): Int32Array {
  if (p === null || typeof p !== 'object') fail('conv2d_f32: params must be an object');
  const known = frozenFields.get(p);
  if (known) return known;
  const f = checkConvFields(p);
  if (Object.isFrozen(p)) frozenFields.set(p, f);
  return f;
}

function checkConvFields(p: Conv2dF32Params): Int32Array {
  const w = 'conv2d_f32';
  const f = new Int32Array([
    int(p.N, 'n', w, 0),
    int(p.C, 'c', w, 0),
    int(p.H, 'h', w, 0),
    int(p.W, 'w', w, 0),
    int(p.M, 'm', w, 0),
    int(p.KH, 'kh', w, 1),
    int(p.KW, 'kw', w, 1),
    int(p.OH, 'oh', w, 0),
    int(p.OW, 'ow', w, 0),
    int(p.strideH, 'stride_h', w, 1),
    int(p.strideW, 'stride_w', w, 1),
    int(p.padTop, 'pad_top', w, 0),
    int(p.padLeft, 'pad_left', w, 0),
    int(p.dilationH, 'dilation_h', w, 1),
    int(p.dilationW, 'dilation_w', w, 1),
    int(p.group, 'group', w, 1),
  ]);
  return f;
}

export function activationOf(a: { min: number; max: number } | undefined, what: string): [number, number] {
  if (!a) return [-Infinity, Infinity];
  if (typeof a.min !== 'number' || typeof a.max !== 'number' || !(a.min <= a.max))
    fail(`${what}: act_min must be <= act_max (and not NaN)`);
  return [a.min, a.max];
}

/** The checks of opq_conv2d_f32 for the js backend, in the same words. */
export function validateConv(p: Conv2dF32Params, x: unknown, w: unknown, bias: unknown, y: unknown): void {
  const W = 'conv2d_f32';
  convFields(p);
  checkFloats(x, 'x', W);
  checkFloats(w, 'w', W);
  if (bias != null) checkFloats(bias, 'bias', W);
  checkFloats(y, 'y', W);
  if (p.C % p.group !== 0) fail(`${W}: c must be a multiple of group`);
  if (p.M % p.group !== 0) fail(`${W}: m must be a multiple of group`);
  activationOf(p.activation, W);
  if (p.N * p.C * p.H * p.W > x.length) fail(`${W}: buffer x is smaller than n*c*h*w`);
  if (p.M * (p.C / p.group) * p.KH * p.KW > w.length) fail(`${W}: buffer w is smaller than m*(c/group)*kh*kw`);
  const bl = bias == null ? 0 : (bias as Float32Array).length;
  if (bl !== 0 && bl !== p.M) fail(`${W}: bias must have 0 or m entries`);
  if (p.N * p.M * p.OH * p.OW > y.length) fail(`${W}: buffer y is smaller than n*m*oh*ow`);
  if (sameBuffer(y, x) || sameBuffer(y, w) || (bias != null && sameBuffer(y, bias as Float32Array))) fail(`${W}: y overlaps x, w or bias`);
}

/** True when two views share bytes of the same buffer. */
export function sameBuffer(a: Float32Array, b: Float32Array): boolean {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

export interface NormalizedGemm {
  /** m, n, k, lda, ldb, ldy, transA, transB, cStrideM, cStrideN (the N-API field order). */
  dims: Float64Array;
  alpha: number;
  beta: number;
  c: Float32Array | null;
  act: [number, number];
}

/** Defaults, C's broadcast strides, and the type checks every backend needs first. */
export function normalizeGemm(g: GemmF32Args): NormalizedGemm {
  const W = 'gemm_f32';
  if (g === null || typeof g !== 'object') fail(`${W}: arguments must be an object`);
  const M = int(g.M, 'M', W, 0),
    N = int(g.N, 'N', W, 0),
    K = int(g.K, 'K', W, 0);
  checkFloats(g.a, 'A', W);
  checkFloats(g.b, 'B', W);
  checkFloats(g.y, 'Y', W);
  const transA = !!g.transA,
    transB = !!g.transB;
  const lda = int(g.lda ?? (transA ? M : K), 'lda', W, 0);
  const ldb = int(g.ldb ?? (transB ? K : N), 'ldb', W, 0);
  const ldy = int(g.ldy ?? N, 'ldy', W, 0);
  const alpha = g.alpha ?? 1,
    beta = g.beta ?? 1;
  if (typeof alpha !== 'number' || typeof beta !== 'number') fail(`${W}: alpha and beta must be numbers`);
  let c: Float32Array | null = null;
  let sm = 0,
    sn = 0;
  if (g.c != null) {
    checkFloats(g.c, 'C', W);
    c = g.c;
    let dims = g.cDims;
    if (!dims) {
      if (c.length === M * N) dims = [M, N];
      else if (c.length === N) dims = [N];
      else if (c.length === 1) dims = [];
      else fail(`${W}: C has ${c.length} values; give cDims to say how it broadcasts to [${M}, ${N}]`);
    }
    const d = [...dims];
    while (d.length > 2 && d[0] === 1) d.shift();
    if (d.length > 2) fail(`${W}: C dims [${dims}] do not broadcast to [${M}, ${N}]`);
    while (d.length < 2) d.unshift(1);
    const [cm, cn] = d as [number, number];
    if ((cm !== 1 && cm !== M) || (cn !== 1 && cn !== N)) fail(`${W}: C dims [${dims}] do not broadcast to [${M}, ${N}]`);
    if (cm * cn > c.length) fail(`${W}: buffer C is smaller than its strides require`);
    sn = cn === 1 ? 0 : 1;
    sm = cm === 1 ? 0 : cn;
  }
  return {
    dims: new Float64Array([M, N, K, lda, ldb, ldy, transA ? 1 : 0, transB ? 1 : 0, sm, sn]),
    alpha,
    beta,
    c,
    act: activationOf(g.activation, W),
  };
}

function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

/** The checks of opq_gemm_f32 for the js backend, in the same words. */
export function validateGemm(g: GemmF32Args, n: NormalizedGemm): void {
  const W = 'gemm_f32';
  const [M, N, K, lda, ldb, ldy, ta, tb, sm, sn] = n.dims as unknown as number[];
  if (ta ? lda! < M! && K! > 0 && M! > 0 : lda! < K! && M! > 0 && K! > 0)
    fail(ta ? `${W}: lda must be >= M (transA)` : `${W}: lda must be >= K`);
  if ((ta ? span(K!, M!, lda!) : span(M!, K!, lda!)) > g.a.length) fail(`${W}: buffer A is smaller than its rows * lda`);
  if (tb ? ldb! < K! && N! > 0 && K! > 0 : ldb! < N! && K! > 0 && N! > 0)
    fail(tb ? `${W}: ldb must be >= K (transB)` : `${W}: ldb must be >= N`);
  if ((tb ? span(N!, K!, ldb!) : span(K!, N!, ldb!)) > g.b.length) fail(`${W}: buffer B is smaller than its rows * ldb`);
  if (ldy! < N! && M! > 0 && N! > 0) fail(`${W}: ldy must be >= N`);
  if (span(M!, N!, ldy!) > g.y.length) fail(`${W}: buffer Y is smaller than (M-1)*ldy + N`);
  if (n.c && M! > 0 && N! > 0 && (M! - 1) * sm! + (N! - 1) * sn! + 1 > n.c.length)
    fail(`${W}: buffer C is smaller than its strides require`);
  if (sameBuffer(g.y, g.a) || sameBuffer(g.y, g.b) || (n.c && sameBuffer(g.y, n.c))) fail(`${W}: Y overlaps A, B or C`);
}

/** 2-D pools only reach C (3-D ones run the JS kernel everywhere). */
export function is2dPool(p: Pool3dParams): boolean {
  return p.D === 1 && p.OD === 1 && p.KD === 1 && p.padBegin[0] === 0 && p.padEnd[0] === 0;
}

/** opq_pool2d_f32_params' 15 int32 fields. */
const frozenPoolFields = new WeakMap<Pool3dParams, Int32Array>();

/** opq_pool2d_f32_params' fields, each checked; checked once for frozen params (as convFields). */
export function poolFields(p: Pool3dParams): Int32Array {
  const W = 'pool2d_f32';
  if (p === null || typeof p !== 'object' || !Array.isArray(p.padBegin) || !Array.isArray(p.padEnd))
    fail(`${W}: params must be a Pool3dParams object`);
  const known = frozenPoolFields.get(p);
  if (known) return known;
  const f = checkPoolFields(p, W);
  if (Object.isFrozen(p)) frozenPoolFields.set(p, f);
  return f;
}

function checkPoolFields(p: Pool3dParams, W: string): Int32Array {
  return new Int32Array([
    int(p.planes, 'planes', W, 0),
    int(p.H, 'h', W, 0),
    int(p.W, 'w', W, 0),
    int(p.OH, 'oh', W, 0),
    int(p.OW, 'ow', W, 0),
    int(p.KH, 'kh', W, 1),
    int(p.KW, 'kw', W, 1),
    int(p.SH, 'stride_h', W, 1),
    int(p.SW, 'stride_w', W, 1),
    int(p.DH, 'dilation_h', W, 1),
    int(p.DW, 'dilation_w', W, 1),
    int(p.padBegin[1], 'pad_top', W, 0),
    int(p.padBegin[2], 'pad_left', W, 0),
    int(p.padEnd[1], 'pad_bottom', W, 0),
    int(p.padEnd[2], 'pad_right', W, 0),
  ]);
}

/** The checks of opq_pool2d_f32 for the js backend (3-D pools included), in the same words. */
export function validatePool(p: Pool3dParams, x: unknown, y: unknown): void {
  const W = 'pool2d_f32';
  poolFields(p);
  checkFloats(x, 'x', W);
  checkFloats(y, 'y', W);
  for (const [v, n, lo] of [
    [p.D, 'd', 0],
    [p.OD, 'od', 0],
    [p.KD, 'kd', 1],
    [p.SD, 'stride_d', 1],
    [p.DD, 'dilation_d', 1],
    [p.padBegin[0], 'pad_front', 0],
    [p.padEnd[0], 'pad_back', 0],
  ] as const) {
    int(v, n, W, lo);
  }
  if (p.planes * p.D * p.H * p.W > x.length) fail(`${W}: buffer x is smaller than planes*h*w`);
  if (p.planes * p.OD * p.OH * p.OW > y.length) fail(`${W}: buffer y is smaller than planes*oh*ow`);
  if (sameBuffer(y, x)) fail(`${W}: y overlaps x`);
}

export const UNARY_ID: Record<UnaryF32Op, number> = {
  relu: 0,
  clip: 1,
  sigmoid: 2,
  hardsigmoid: 3,
  hardswish: 4,
  tanh: 5,
  leakyrelu: 6,
  gelu: 7,
};
export const BINARY_ID: Record<BinaryF32Op, number> = { add: 0, sub: 1, mul: 2, div: 3 };

/** [op id, p0, p1] of a unary op with the ONNX attribute defaults. */
export function unaryArgs(op: UnaryF32Op, params: UnaryF32Params | undefined): [number, number, number] {
  const id = UNARY_ID[op];
  if (id === undefined) fail(`unary_f32: op '${String(op)}' is not one of ${Object.keys(UNARY_ID).join(', ')}`);
  const q = params ?? {};
  switch (op) {
    case 'clip':
      return [id, q.min ?? -Infinity, q.max ?? Infinity];
    case 'hardsigmoid':
      return [id, q.alpha ?? 0.2, q.beta ?? 0.5];
    case 'leakyrelu':
      return [id, q.alpha ?? 0.01, 0];
    default:
      return [id, 0, 0];
  }
}

export function binaryId(op: BinaryF32Op): number {
  const id = BINARY_ID[op];
  if (id === undefined) fail(`binary_f32: op '${String(op)}' is not one of ${Object.keys(BINARY_ID).join(', ')}`);
  return id;
}

export function validateUnary(x: unknown, y: unknown): void {
  checkFloats(x, 'x', 'unary_f32');
  checkFloats(y, 'y', 'unary_f32');
  if (y.length < x.length) fail('unary_f32: buffer y is smaller than x');
  if (x !== y && sameBuffer(x, y)) fail('unary_f32: y partially overlaps x');
}

export function validateBinary(a: unknown, b: unknown, y: unknown, inner: number): void {
  const W = 'binary_f32';
  checkFloats(a, 'a', W);
  checkFloats(b, 'b', W);
  checkFloats(y, 'y', W);
  if (typeof inner !== 'number' || !Number.isInteger(inner) || inner < 0) fail(`${W}: inner must be a non-negative integer`);
  if (a.length !== y.length) fail(`${W}: buffer a must have y_size elements`);
  if (y.length === 0) return;
  if (b.length === 0 || inner === 0) fail(`${W}: b_size and inner must be positive`);
  if (y.length % (b.length * inner) !== 0) fail(`${W}: y_size must be a multiple of b_size*inner`);
  if (a !== y && sameBuffer(a, y)) fail(`${W}: y partially overlaps a`);
  if (!(b === y) && sameBuffer(b, y)) fail(`${W}: y overlaps b`);
}

export function validateGlobalPool(kind: string, planes: number, size: number, x: unknown, y: unknown): void {
  const W = 'global_pool_f32';
  if (kind !== 'avg' && kind !== 'max') fail(`${W}: kind must be 'avg' or 'max'`);
  if (!Number.isInteger(planes) || planes < 0 || !Number.isInteger(size) || size < 0)
    fail(`${W}: planes and size must be non-negative integers`);
  checkFloats(x, 'x', W);
  checkFloats(y, 'y', W);
  if (planes * size > x.length) fail(`${W}: buffer x is smaller than planes*size`);
  if (planes > y.length) fail(`${W}: buffer y is smaller than planes`);
  if (sameBuffer(x, y)) fail(`${W}: y overlaps x`);
}

/** True when two views (of any element types) share bytes of the same buffer. */
export function viewsOverlap(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** The checks of opq_scan_f32, in the same words (types first: every backend makes them in JS). */
export function validateScan(x: unknown, out: unknown): asserts out is Float64Array {
  const W = 'scan_f32';
  checkFloats(x, 'x', W);
  checkDoubles(out, 'out', W);
  if (out.length !== 4) fail(`${W}: out must have 4 entries`);
  if (viewsOverlap(out, x)) fail(`${W}: out overlaps x`);
}

/** The type checks of opq_histogram_f32 (every backend makes them in JS). */
export function checkHistogramTypes(x: unknown, inv: unknown, zero: unknown, counts: unknown): asserts counts is Float64Array {
  const W = 'histogram_f32';
  checkFloats(x, 'x', W);
  if (typeof inv !== 'number') fail(`${W}: inv must be a number`);
  if (typeof zero !== 'number') fail(`${W}: zero must be a number`);
  checkDoubles(counts, 'counts', W);
}

/** The checks of opq_histogram_f32 for the js backend, in the same words. */
export function validateHistogram(x: Float32Array, inv: number, zero: number, counts: Float64Array): void {
  const W = 'histogram_f32';
  checkHistogramTypes(x, inv, zero, counts);
  if (counts.length < 1 || counts.length > 2 ** 20) fail(`${W}: counts must have 1 to 2^20 entries`);
  if (!(inv > 0 && inv <= Number.MAX_VALUE)) fail(`${W}: inv must be a positive finite number`);
  if (!(zero >= -(2 ** 31) && zero <= 2 ** 31) || zero !== Math.floor(zero)) fail(`${W}: zero must be an integer in [-2^31, 2^31]`);
  if (viewsOverlap(counts, x)) fail(`${W}: counts overlaps x`);
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * The type checks of opq_sum_rows_f32 (every backend makes them in JS) and its params as the C
 * struct's 8 int32 fields [planes, i, inner, k, o, stride, pad, dilation], each checked to be an
 * integer in its int32 range first (an Int32Array would wrap silently).
 */
export function sumRowsFields(x: unknown, p: SumRowsParams, dst: unknown): Int32Array {
  const W = 'sum_rows_f32';
  checkFloats(x, 'x', W);
  if (p === null || typeof p !== 'object') fail(`${W}: params must be an object`);
  const field = (v: unknown, name: string, lo: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > INT32_MAX)
      fail(`${W}: ${name} must be an integer in [${lo}, 2^31-1], got ${String(v)}`);
    return v;
  };
  const f = new Int32Array([
    field(p.planes, 'planes', 0),
    field(p.I, 'i', 0),
    field(p.inner, 'inner', 0),
    field(p.K, 'k', 1),
    field(p.O, 'o', 0),
    field(p.stride, 'stride', 1),
    field(p.pad, 'pad', 0),
    field(p.dilation, 'dilation', 1),
  ]);
  checkDoubles(dst, 'dst', W);
  return f;
}

/** The checks of opq_sum_rows_f32 for the js backend, in the same words. */
export function validateSumRows(x: Float32Array, p: SumRowsParams, dst: Float64Array): void {
  const W = 'sum_rows_f32';
  sumRowsFields(x, p, dst);
  // Products past 2^53 round, but then to more than any typed array's length: still refused.
  if (p.planes * p.I * p.inner !== x.length) fail(`${W}: buffer x must have planes*i*inner entries`);
  if (p.planes * p.K * p.inner !== dst.length) fail(`${W}: buffer dst must have planes*k*inner entries`);
  if (viewsOverlap(dst, x)) fail(`${W}: dst overlaps x`);
}

/**
 * The type checks of opq_softmax_f32 (every backend makes them in JS): x and y Float32Arrays, outer,
 * len and inner integers in [0, 2^40] (the addon's range for a size), log a boolean.
 */
export function checkSoftmaxTypes(x: unknown, y: unknown, outer: unknown, len: unknown, inner: unknown, log: unknown): void {
  const W = 'softmax_f32';
  checkFloats(x, 'x', W);
  checkFloats(y, 'y', W);
  for (const [v, name] of [
    [outer, 'outer'],
    [len, 'len'],
    [inner, 'inner'],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 40)
      fail(`${W}: ${name} must be an integer in [0, 2^40], got ${String(v)}`);
  }
  if (typeof log !== 'boolean') fail(`${W}: log must be a boolean`);
}

/**
 * The checks of opq_softmax_f32, in the same words: the js backend's, and the wasm backend's before
 * it copies (a copy would hide an overlap, and a size past 2^32 would wrap in a wasm size_t).
 */
export function validateSoftmax(x: Float32Array, y: Float32Array, outer: number, len: number, inner: number, log: boolean): void {
  const W = 'softmax_f32';
  checkSoftmaxTypes(x, y, outer, len, inner, log);
  // Products past 2^53 round, but then to more than any typed array's length: still refused.
  const n = outer * len * inner;
  if (n !== x.length) fail(`${W}: buffer x must have outer*len*inner entries`);
  if (n !== y.length) fail(`${W}: buffer y must have outer*len*inner entries`);
  // The same elements (y is x, or another view of x's exact range) is in place.
  if (viewsOverlap(x, y) && !(x.buffer === y.buffer && x.byteOffset === y.byteOffset)) fail(`${W}: y partially overlaps x`);
}

/** Arguments of layerNormF32 (the C ABI's checks, made before any copy into wasm memory). */
export function validateLayerNorm(x: unknown, scale: unknown, bias: unknown, y: unknown, rows: number, n: number, eps: number): void {
  const W = 'layernorm_f32';
  checkFloats(x, 'x', W);
  checkFloats(scale, 'scale', W);
  if (bias !== null) checkFloats(bias, 'bias', W);
  checkFloats(y, 'y', W);
  for (const [v, name] of [
    [rows, 'rows'],
    [n, 'n'],
  ] as const)
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${W}: ${name} must be a non-negative integer`);
  if (typeof eps !== 'number') fail(`${W}: eps must be a number`);
  if (n === 0) fail(`${W}: n must be at least 1`);
  if (rows * n !== x.length) fail(`${W}: buffer x must have rows*n entries`);
  if (rows * n !== y.length) fail(`${W}: buffer y must have rows*n entries`);
  if (scale.length !== n || (bias !== null && (bias as Float32Array).length !== n)) fail(`${W}: scale (and bias) must have n entries`);
  if (viewsOverlap(x, y)) fail(`${W}: y overlaps x`);
}

/** Arguments of col2imF32 (the C ABI's checks and words, made before any copy into wasm memory). */
export function validateCol2Im(geo: unknown, channels: unknown, cols: unknown, bias: unknown, y: unknown): void {
  const W = 'col2im_f32';
  if (!(geo instanceof Int32Array) || geo.length !== 18) fail(`${W}: geo must be an Int32Array of 18 fields`);
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 0) fail(`${W}: channels must be a non-negative integer`);
  checkFloats(cols, 'cols', W);
  if (bias !== null) checkFloats(bias, 'bias', W);
  checkFloats(y, 'y', W);
  for (let i = 0; i < 18; i++) {
    const positive = (i >= 3 && i < 6) || (i >= 9 && i < 15);
    if (geo[i]! < (positive ? 1 : 0)) fail(`${W}: a size or pad is negative, or a kernel, stride or dilation is below 1`);
  }
  const prod = (...v: number[]) => v.reduce((a, b) => a * b, 1);
  const g = Array.from(geo);
  if (prod(channels, ...g.slice(0, 6)) !== cols.length) fail(`${W}: buffer cols must have channels*KD*KH*KW*D*H*W entries`);
  if (prod(channels, ...g.slice(6, 9)) !== y.length) fail(`${W}: buffer y must have channels*OD*OH*OW entries`);
  if (bias !== null && (bias as Float32Array).length !== 0 && (bias as Float32Array).length !== channels)
    fail(`${W}: bias must have 0 or channels entries`);
  if (viewsOverlap(y, cols)) fail(`${W}: y overlaps cols`);
}

/**
 * Arguments of convProbeSumsF32 (the C ABI's checks and words, made before any copy into wasm
 * memory); returns the workspace size in doubles.
 */
export function validateConvProbe(geo: unknown, x: unknown, delta: unknown, sums: unknown): number {
  const W = 'conv_probe_sums_f32';
  if (!(geo instanceof Int32Array) || geo.length !== CONV_PROBE_FIELDS) fail(`${W}: geo must be an Int32Array of 22 fields`);
  checkFloats(x, 'x', W);
  checkFloats(delta, 'delta', W);
  checkDoubles(sums, 'sums', W);
  for (let i = 0; i < CONV_PROBE_FIELDS; i++) {
    const positive = i === 3 || (i >= 7 && i < 10) || (i >= 13 && i < 19);
    if (geo[i]! < (positive ? 1 : 0) || geo[i]! > 2 ** 28)
      fail(`${W}: a size, output or pad is outside [0, 2^28], or a group, kernel, stride or dilation outside [1, 2^28]`);
  }
  // Read straight from geo (no objects: bias correction calls this per layer and sample).
  const N = geo[0]!,
    C = geo[1]!,
    M = geo[2]!,
    group = geo[3]!,
    I0 = geo[4]!,
    I1 = geo[5]!,
    I2 = geo[6]!,
    K0 = geo[7]!,
    K1 = geo[8]!,
    K2 = geo[9]!;
  if (C % group !== 0 || M % group !== 0) fail(`${W}: C and M must be multiples of group`);
  if (N * C * I0 * I1 * I2 !== x.length) fail(`${W}: buffer x must have N*C*I0*I1*I2 entries`);
  if (M * (C / group) * K0 * K1 * K2 !== delta.length) fail(`${W}: buffer delta must have M*(C/group)*K0*K1*K2 entries`);
  if (sums.length !== M) fail(`${W}: buffer sums must have M entries`);
  const work = convProbeWorkSize(geo);
  if (N * C * K0 * K1 > 2 ** 28 || I1 * I2 > 2 ** 28 || work > 2 ** 40) fail(`${W}: the geometry is too large`);
  if (viewsOverlap(sums, x) || viewsOverlap(sums, delta)) fail(`${W}: buffers overlap`);
  return work;
}
