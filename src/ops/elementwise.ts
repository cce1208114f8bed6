// Elementwise ops: numpy-broadcast binary arithmetic and unary activations.
import { erf, gelu } from './erf.js';
import type { BinaryF32Op, UnaryF32Op, UnaryF32Params } from '../backends/kernels-f32.js';
import { Tensor, allocData, isBigIntType, sizeOf, type TensorData } from '../tensor.js';
import { broadcastDims, broadcastShapes, broadcastStrides, same } from './util.js';
import { OnnxPtqError } from '../errors.js';
import { nodeLabel } from '../ir/graph.js';
import { need, unsupported, type OpContext, type OpImpl } from './types.js';

type Fn = (a: any, b: any) => any;

type BinaryKernel = (A: any, B: any, O: any, n: number, dims: number[], sa: number[], sb: number[], mode: number, f?: Fn) => void;
const binaryKernels = new Map<string, BinaryKernel>();

/**
 * A broadcast loop specialized for one expression of `a` and `b`, compiled once per expression.
 * Each op gets its own function (own JIT type feedback), so the element operation is inlined instead
 * of being a megamorphic closure call: this is what makes elementwise ops ~5x faster.
 * mode 0: same shapes; 1: scalar b; 2: scalar a; 3: general (odometer over outer axes, strided inner loop).
 */
function binaryKernel(expr: string): BinaryKernel {
  let k = binaryKernels.get(expr);
  if (!k) {
    k = new Function(
      'A',
      'B',
      'O',
      'n',
      'dims',
      'sa',
      'sb',
      'mode',
      'f',
      `"use strict";
      if (mode === 0) { for (let i = 0; i < n; i++) { const a = A[i], b = B[i]; O[i] = ${expr}; } return; }
      if (mode === 1) { const b = B[0]; for (let i = 0; i < n; i++) { const a = A[i]; O[i] = ${expr}; } return; }
      if (mode === 2) { const a = A[0]; for (let i = 0; i < n; i++) { const b = B[i]; O[i] = ${expr}; } return; }
      const r = dims.length, inner = dims[r - 1], ia = sa[r - 1], ib = sb[r - 1];
      const idx = new Array(r).fill(0);
      let offA = 0, offB = 0, o = 0;
      const outer = n / inner;
      for (let it = 0; it < outer; it++) {
        for (let j = 0, pa = offA, pb = offB; j < inner; j++, pa += ia, pb += ib) { const a = A[pa], b = B[pb]; O[o++] = ${expr}; }
        for (let ax = r - 2; ax >= 0; ax--) {
          idx[ax]++; offA += sa[ax]; offB += sb[ax];
          if (idx[ax] < dims[ax]) break;
          offA -= sa[ax] * dims[ax]; offB -= sb[ax] * dims[ax]; idx[ax] = 0;
        }
      }`,
    ) as BinaryKernel;
    binaryKernels.set(expr, k);
  }
  return k;
}

/**
 * out = f(a, b) with numpy broadcasting; `f` is a JS expression over `a` and `b` (compiled, fast)
 * or a function (generic, for rare cases).
 */
export function broadcastBinary(ctx: OpContext, a: Tensor, b: Tensor, f: Fn | string, outDtype = a.dtype): Tensor {
  const dims = broadcastShapes(ctx, a.dims, b.dims);
  const n = sizeOf(dims);
  const out = allocData(outDtype, n, false) as any;
  if (n === 0) return new Tensor(outDtype, out, dims);
  const mode = a.size === n && b.size === n ? 0 : b.size === 1 && a.size === n ? 1 : a.size === 1 && b.size === n ? 2 : 3;
  const sa = mode === 3 ? broadcastStrides(a.dims, dims) : [];
  const sb = mode === 3 ? broadcastStrides(b.dims, dims) : [];
  if (typeof f === 'string') binaryKernel(f)(a.data, b.data, out, n, dims, sa, sb, mode);
  else binaryKernel('f(a, b)')(a.data, b.data, out, n, dims, sa, sb, mode, f);
  return new Tensor(outDtype, out as TensorData, dims);
}

/**
 * The broadcast forms the backends' binaryF32 takes: y has a's shape, and b is a contiguous block of
 * a's axes (same shape, scalar, trailing suffix, or per channel). Returns b's `inner` repeat count,
 * or undefined for other forms.
 */
export function blockInner(aDims: readonly number[], bDims: readonly number[]): number | undefined {
  if (bDims.length > aDims.length) return undefined;
  const off = aDims.length - bDims.length;
  const b = [...new Array(off).fill(1), ...bDims];
  let lo = 0;
  while (lo < b.length && b[lo] === 1) lo++;
  let hi = b.length;
  while (hi > lo && b[hi - 1] === 1) hi--;
  for (let i = lo; i < hi; i++) if (b[i] !== aDims[i]) return undefined;
  let inner = 1;
  for (let i = hi; i < aDims.length; i++) inner *= aDims[i]!;
  return inner;
}

/** Float32 a op b on the session backend's kernel when the broadcast form allows; else undefined. */
function backendBinary(ctx: OpContext, op: BinaryF32Op, a: Tensor, b: Tensor, commutative: boolean): Tensor | undefined {
  if (!ctx.f32 || a.dtype !== 'float32' || b.dtype !== 'float32' || a.size === 0 || b.size === 0) return undefined;
  let x = a;
  let y = b;
  let inner = x.size >= y.size ? blockInner(x.dims, y.dims) : undefined;
  if (inner === undefined && commutative && y.size > x.size) {
    x = b;
    y = a;
    inner = blockInner(x.dims, y.dims);
  }
  if (inner === undefined || x.rank < y.rank) return undefined;
  const out = allocData('float32', x.size, false) as Float32Array;
  ctx.f32.binaryF32(op, x.data as Float32Array, y.data as Float32Array, out, inner);
  return new Tensor('float32', out, x.dims);
}

function binaryOp(f: string, fInt: string, fBig: string, f32op?: BinaryF32Op, commutative = false): OpImpl {
  return {
    inferShape: (ctx) => [{ dtype: ctx.inputs[0]?.dtype, shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape]) }],
    run(ctx, [a, b]) {
      need(ctx, a && b, 'needs two inputs');
      need(ctx, a.dtype === b.dtype, `input types differ: ${a.dtype} and ${b.dtype}`);
      if (a.dtype === 'string' || a.dtype === 'float16') unsupported(ctx, `type ${a.dtype} is not supported`);
      const fast = f32op ? backendBinary(ctx, f32op, a, b, commutative) : undefined;
      if (fast) return [fast];
      const fn = isBigIntType(a.dtype) ? fBig : a.dtype === 'float32' || a.dtype === 'float64' ? f : fInt;
      return [broadcastBinary(ctx, a, b, fn)];
    },
    replayable: f32op !== undefined,
  };
}

export const Add = binaryOp('a + b', 'a + b', 'a + b', 'add', true);
export const Sub = binaryOp('a - b', 'a - b', 'a - b', 'sub');
// Math.imul keeps 32-bit products exact modulo 2^32, which is what the typed-array store wraps to.
export const Mul = binaryOp('a * b', 'Math.imul(a, b)', 'a * b', 'mul', true);
// Integer division truncates toward zero, as onnxruntime's C++ does (bigint division already does).
export const Div = binaryOp('a / b', 'Math.trunc(a / b)', 'a / b', 'div');

export const Pow: OpImpl = {
  inferShape: (ctx) => [{ dtype: ctx.inputs[0]?.dtype, shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape]) }],
  run(ctx, [a, b]) {
    need(ctx, a && b, 'needs two inputs');
    // Pow allows a different exponent type; the result has the base's type.
    const big = isBigIntType(a.dtype);
    const f: Fn = (x, y) => {
      const r = Number(x) ** Number(y);
      return big ? BigInt(Math.trunc(r)) : r;
    };
    return [broadcastBinary(ctx, a, b, f, a.dtype)];
  },
};

/**
 * Gelu with approximate = 'tanh': 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), written
 * as x sigmoid(2u) (the same function, since 1 + tanh(u) = 2 sigmoid(2u)) so that large negative x
 * gives the small true value instead of 1 + tanh cancelling to 0. Infinite x keeps the formula's
 * own result (NaN at -Infinity, as 0.5 x (1 + tanh u) gives in float).
 */
function geluTanh(x: number): number {
  if (x === -Infinity) return NaN;
  const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
  if (u >= 0) return x / (1 + Math.exp(-2 * u));
  const e = Math.exp(2 * u);
  return (x * e) / (1 + e);
}

/** The float64 functions a unary expression may call by name. */
const UNARY_FNS = { erf, gelu, geluTanh };
type UnaryKernel = (X: any, O: any, n: number, p0: number, p1: number, F: typeof UNARY_FNS) => void;
const unaryKernels = new Map<string, UnaryKernel>();

/** A map loop compiled once per expression of `x` (and parameters p0, p1), like binaryKernel. */
function unaryKernel(expr: string): UnaryKernel {
  let k = unaryKernels.get(expr);
  if (!k) {
    k = new Function(
      'X',
      'O',
      'n',
      'p0',
      'p1',
      'F',
      `"use strict"; const { erf, gelu, geluTanh } = F; for (let i = 0; i < n; i++) { const x = X[i]; O[i] = ${expr}; }`,
    ) as UnaryKernel;
    unaryKernels.set(expr, k);
  }
  return k;
}

/**
 * y = expr(x, p0, p1) elementwise over float (and, with `ints`, integer) tensors; `big` is the
 * expression for int64/uint64 (bigint) elements when the op supports them.
 */
function mapTensor(
  ctx: OpContext,
  x: Tensor | undefined,
  expr: string,
  p0 = 0,
  p1 = 0,
  ints = false,
  big?: string,
  f32?: { op: UnaryF32Op; params?: UnaryF32Params },
): Tensor {
  need(ctx, x, 'needs an input');
  if (f32 && ctx.f32 && x.dtype === 'float32') {
    const y = allocData('float32', x.size, false) as Float32Array;
    ctx.f32.unaryF32(f32.op, x.data as Float32Array, y, f32.params);
    return new Tensor('float32', y, x.dims);
  }
  const float = x.dtype === 'float32' || x.dtype === 'float64';
  const bigOk = big !== undefined && isBigIntType(x.dtype);
  if (!float && !bigOk && !(ints && !isBigIntType(x.dtype) && x.dtype !== 'string' && x.dtype !== 'float16'))
    unsupported(ctx, `type ${x.dtype} is not supported`);
  const out = allocData(x.dtype, x.size);
  unaryKernel(bigOk ? big! : expr)(x.data, out, x.size, p0, p1, UNARY_FNS);
  return new Tensor(x.dtype, out, x.dims);
}

function unaryOp(expr: string, opts: { ints?: boolean; big?: string; f32?: UnaryF32Op } = {}): OpImpl {
  const f32 = opts.f32 ? { op: opts.f32 } : undefined;
  return {
    inferShape: (ctx) => same(ctx.inputs[0]),
    run: (ctx, [x]) => [mapTensor(ctx, x, expr, 0, 0, opts.ints, opts.big, f32)],
    replayable: f32 !== undefined,
  };
}

// NaN passes through, as in onnxruntime.
export const Relu = unaryOp('x > 0 ? x : x <= 0 ? 0 : x', { ints: true, f32: 'relu' });
export const Sigmoid = unaryOp('x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))', { f32: 'sigmoid' });
export const Tanh = unaryOp('Math.tanh(x)', { f32: 'tanh' });
export const Sqrt = unaryOp('Math.sqrt(x)');
export const Abs = unaryOp('Math.abs(x)', { ints: true, big: 'x < 0n ? -x : x' });
export const Neg = unaryOp('-x', { ints: true, big: '-x' });
// Round half to even (x - floor(x) === 0.5 picks the even neighbour), as the spec requires.
export const Round = unaryOp('x - Math.floor(x) === 0.5 ? (Math.floor(x) % 2 === 0 ? Math.floor(x) : Math.floor(x) + 1) : Math.round(x)');
export const Sign = unaryOp('x > 0 ? 1 : x < 0 ? -1 : x', { ints: true, big: 'x > 0n ? 1n : x < 0n ? -1n : 0n' });
export const Softplus = unaryOp('x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))');
export const Erf = unaryOp('erf(x)');
export const Exp = unaryOp('Math.exp(x)');
export const Log = unaryOp('Math.log(x)');
export const Floor = unaryOp('Math.floor(x)');
export const Ceil = unaryOp('Math.ceil(x)');
export const Reciprocal = unaryOp('1 / x');
export const HardSwish = unaryOp('x * Math.max(0, Math.min(1, x / 6 + 0.5))', { f32: 'hardswish' });

export const LeakyRelu: OpImpl = {
  inferShape: (ctx) => same(ctx.inputs[0]),
  run: (ctx, [x]) => {
    const alpha = ctx.attrs.float('alpha', 0.01);
    return [mapTensor(ctx, x, 'x >= 0 ? x : p0 * x', alpha, 0, false, undefined, { op: 'leakyrelu', params: { alpha } })];
  },
  replayable: true,
};
export const HardSigmoid: OpImpl = {
  inferShape: (ctx) => same(ctx.inputs[0]),
  run: (ctx, [x]) => {
    const alpha = ctx.attrs.float('alpha', 0.2);
    const beta = ctx.attrs.float('beta', 0.5);
    return [
      mapTensor(ctx, x, 'Math.max(0, Math.min(1, p0 * x + p1))', alpha, beta, false, undefined, {
        op: 'hardsigmoid',
        params: { alpha, beta },
      }),
    ];
  },
  replayable: true,
};
export const Elu: OpImpl = {
  inferShape: (ctx) => same(ctx.inputs[0]),
  run: (ctx, [x]) => [mapTensor(ctx, x, 'x >= 0 ? x : p0 * (Math.exp(x) - 1)', ctx.attrs.float('alpha', 1))],
};

/**
 * Mod: fmod = 1 is C fmod (sign of the dividend, JS %); fmod = 0 (integers only) takes the sign of
 * the divisor, like Python.
 */
export const Mod: OpImpl = {
  inferShape: (ctx) => [{ dtype: ctx.inputs[0]?.dtype, shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape]) }],
  run(ctx, [a, b]) {
    need(ctx, a && b && a.dtype === b.dtype, 'needs two inputs of one type');
    const fmod = ctx.attrs.int('fmod', 0) === 1;
    const float = a.dtype === 'float32' || a.dtype === 'float64';
    if (a.dtype === 'string' || a.dtype === 'float16' || a.dtype === 'bool') unsupported(ctx, `type ${a.dtype} is not supported`);
    need(ctx, fmod || !float, 'fmod must be 1 for floating-point inputs');
    const big = isBigIntType(a.dtype);
    const z = big ? '0n' : '0';
    const expr = fmod ? 'a % b' : `(a % b !== ${z} && (a % b < ${z}) !== (b < ${z})) ? a % b + b : a % b`;
    return [broadcastBinary(ctx, a, b, expr)];
  },
};

/** Clip: bounds are attributes before opset 11, optional inputs from 11 on; min > max gives max. */
export const Clip: OpImpl = {
  inferShape: (ctx) => same(ctx.inputs[0]),
  run(ctx, [x, minT, maxT]) {
    need(ctx, x, 'needs an input');
    let lo: number;
    let hi: number;
    if (ctx.opset < 11) {
      lo = ctx.attrs.float('min', -Infinity);
      hi = ctx.attrs.float('max', Infinity);
    } else {
      lo = minT?.size ? Number(minT.data[0]) : -Infinity;
      hi = maxT?.size ? Number(maxT.data[0]) : Infinity;
    }
    if (isBigIntType(x.dtype)) {
      const X = x.data as BigInt64Array;
      const out = allocData(x.dtype, X.length) as BigInt64Array;
      const l = minT?.size ? (minT.data[0] as bigint) : undefined;
      const h = maxT?.size ? (maxT.data[0] as bigint) : undefined;
      for (let i = 0; i < X.length; i++) {
        let v = X[i]!;
        if (l !== undefined && v < l) v = l;
        if (h !== undefined && v > h) v = h;
        out[i] = v;
      }
      return [new Tensor(x.dtype, out, x.dims)];
    }
    // min(max(x, lo), hi): with lo > hi every value becomes hi, as the spec requires.
    // The backends' clip is min(max(x, lo), hi) too; NaN bounds stay on the TS path.
    const f32 = Number.isNaN(lo) || Number.isNaN(hi) ? undefined : { op: 'clip' as const, params: { min: lo, max: hi } };
    return [mapTensor(ctx, x, '(x < p0 ? p0 : x) > p1 ? p1 : x < p0 ? p0 : x', lo, hi, true, undefined, f32)];
  },
  replayable: true,
};

/**
 * Gelu (opset 20): approximate = 'none' (default) is 0.5 x (1 + erf(x / sqrt 2)), 'tanh' is
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); each computed in float64 and rounded once
 * (the exact form on the backend's unaryF32 'gelu' where the context has float kernels).
 * Sessions refuse another approximation before running (src/ir/validate-nodes.ts); run() checks
 * again for callers of the op itself (the integer executor's table builder).
 */
export const Gelu: OpImpl = {
  inferShape: (ctx) => same(ctx.inputs[0]),
  run: (ctx, [x]) => {
    const mode = ctx.attrs.string('approximate', 'none');
    if (mode !== 'none' && mode !== 'tanh')
      throw new OnnxPtqError('INVALID_MODEL', `${nodeLabel(ctx.node)}: attribute 'approximate' must be 'none' or 'tanh', got '${mode}'`);
    // The exact form goes to the backend's float kernel where there is one (a polynomial within a
    // few ulps on native and wasm; the JS kernel is this same float64 gelu).
    if (mode === 'tanh') return [mapTensor(ctx, x, 'geluTanh(x)')];
    return [mapTensor(ctx, x, 'gelu(x)', 0, 0, false, undefined, { op: 'gelu' })];
  },
  replayable: true,
};

export const elementwiseOps: Record<string, OpImpl> = {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Relu,
  LeakyRelu,
  Sigmoid,
  HardSigmoid,
  HardSwish,
  Tanh,
  Sqrt,
  Clip,
  Abs,
  Neg,
  Exp,
  Log,
  Floor,
  Ceil,
  Reciprocal,
  Elu,
  Round,
  Sign,
  Softplus,
  Erf,
  Gelu,
  Mod,
};
