// Elementwise ops: numpy-broadcast binary arithmetic and unary activations.
import { Tensor, allocData, isBigIntType, sizeOf, type TensorData } from '../tensor.js';
import { broadcastDims, broadcastShapes, broadcastStrides, same } from './util.js';
import { need, unsupported, type OpContext, type OpImpl } from './types.js';

type Fn = (a: any, b: any) => any;

/**
 * out = f(a, b) with numpy broadcasting. The innermost axis runs as a tight loop with per-input
 * strides (0 for a broadcast axis), the outer axes as an odometer.
 */
export function broadcastBinary(ctx: OpContext, a: Tensor, b: Tensor, f: Fn, outDtype = a.dtype): Tensor {
  const dims = broadcastShapes(ctx, a.dims, b.dims);
  const n = sizeOf(dims);
  const out = allocData(outDtype, n) as any;
  const A = a.data as any;
  const B = b.data as any;
  if (n === 0) return new Tensor(outDtype, out, dims);
  if (a.size === n && b.size === n) {
    for (let i = 0; i < n; i++) out[i] = f(A[i], B[i]);
  } else if (b.size === 1 && a.size === n) {
    const bv = B[0];
    for (let i = 0; i < n; i++) out[i] = f(A[i], bv);
  } else if (a.size === 1 && b.size === n) {
    const av = A[0];
    for (let i = 0; i < n; i++) out[i] = f(av, B[i]);
  } else {
    const r = dims.length;
    const sa = broadcastStrides(a.dims, dims);
    const sb = broadcastStrides(b.dims, dims);
    const inner = dims[r - 1]!;
    const ia = sa[r - 1]!;
    const ib = sb[r - 1]!;
    const idx = new Array<number>(r).fill(0);
    let offA = 0;
    let offB = 0;
    let o = 0;
    const outer = n / inner;
    for (let it = 0; it < outer; it++) {
      for (let j = 0, pa = offA, pb = offB; j < inner; j++, pa += ia, pb += ib) out[o++] = f(A[pa], B[pb]);
      // advance the odometer over axes r-2 .. 0
      for (let ax = r - 2; ax >= 0; ax--) {
        idx[ax]!++;
        offA += sa[ax]!;
        offB += sb[ax]!;
        if (idx[ax]! < dims[ax]!) break;
        offA -= sa[ax]! * dims[ax]!;
        offB -= sb[ax]! * dims[ax]!;
        idx[ax] = 0;
      }
    }
  }
  return new Tensor(outDtype, out as TensorData, dims);
}

function binaryOp(f: Fn, fInt: Fn, fBig: Fn): OpImpl {
  return {
    inferShape: (ctx) => [{ dtype: ctx.inputs[0]?.dtype, shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape]) }],
    run(ctx, [a, b]) {
      need(ctx, a && b, 'needs two inputs');
      need(ctx, a.dtype === b.dtype, `input types differ: ${a.dtype} and ${b.dtype}`);
      if (a.dtype === 'string' || a.dtype === 'float16') unsupported(ctx, `type ${a.dtype} is not supported`);
      const fn = isBigIntType(a.dtype) ? fBig : a.dtype === 'float32' || a.dtype === 'float64' ? f : fInt;
      return [broadcastBinary(ctx, a, b, fn)];
    },
  };
}

export const Add = binaryOp((a, b) => a + b, (a, b) => a + b, (a, b) => a + b);
export const Sub = binaryOp((a, b) => a - b, (a, b) => a - b, (a, b) => a - b);
// Math.imul keeps 32-bit products exact modulo 2^32, which is what the typed-array store wraps to.
export const Mul = binaryOp((a, b) => a * b, (a, b) => Math.imul(a, b), (a, b) => a * b);
// Integer division truncates toward zero, as onnxruntime's C++ does.
export const Div = binaryOp((a, b) => a / b, (a, b) => Math.trunc(a / b), (a, b) => a / b);

export const Pow: OpImpl = {
  inferShape: (ctx) => [{ dtype: ctx.inputs[0]?.dtype, shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape]) }],
  run(ctx, [a, b]) {
    need(ctx, a && b, 'needs two inputs');
    // Pow allows a different exponent type; the result has the base's type.
    const big = isBigIntType(a.dtype);
    const f: Fn = (x, y) => {
      const r = Math.pow(Number(x), Number(y));
      return big ? BigInt(Math.trunc(r)) : r;
    };
    return [broadcastBinary(ctx, a, b, f, a.dtype)];
  },
};

/** y = f(x) elementwise over float (and, where meaningful, integer) tensors. */
function unaryOp(f: (x: number) => number, opts: { ints?: boolean } = {}): OpImpl {
  return {
    inferShape: (ctx) => same(ctx.inputs[0]),
    run(ctx, [x]) {
      need(ctx, x, 'needs an input');
      const float = x.dtype === 'float32' || x.dtype === 'float64';
      if (!float && !(opts.ints && !isBigIntType(x.dtype) && x.dtype !== 'string' && x.dtype !== 'float16'))
        unsupported(ctx, `type ${x.dtype} is not supported`);
      const X = x.data as Float32Array;
      const out = allocData(x.dtype, X.length) as Float32Array;
      for (let i = 0; i < X.length; i++) out[i] = f(X[i]!);
      return [new Tensor(x.dtype, out, x.dims)];
    },
  };
}

// NaN passes through, as in onnxruntime.
export const Relu = unaryOp((x) => (x > 0 ? x : x <= 0 ? 0 : x), { ints: true });
export const Sigmoid = unaryOp((x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))));
export const Tanh = unaryOp(Math.tanh);
export const Sqrt = unaryOp(Math.sqrt);
export const Abs = unaryOp(Math.abs, { ints: true });
export const Neg = unaryOp((x) => -x, { ints: true });
export const Exp = unaryOp(Math.exp);
export const Log = unaryOp(Math.log);
export const Floor = unaryOp(Math.floor);
export const Ceil = unaryOp(Math.ceil);
export const Reciprocal = unaryOp((x) => 1 / x);

/** Unary ops whose function depends on attributes. */
function unaryAttrOp(make: (ctx: OpContext) => (x: number) => number): OpImpl {
  return {
    inferShape: (ctx) => same(ctx.inputs[0]),
    run(ctx, inputs) {
      return unaryOp(make(ctx)).run(ctx, inputs);
    },
  };
}

export const LeakyRelu = unaryAttrOp((ctx) => {
  const alpha = ctx.attrs.float('alpha', 0.01);
  return (x) => (x >= 0 ? x : alpha * x);
});
export const HardSigmoid = unaryAttrOp((ctx) => {
  const alpha = ctx.attrs.float('alpha', 0.2);
  const beta = ctx.attrs.float('beta', 0.5);
  return (x) => Math.max(0, Math.min(1, alpha * x + beta));
});
export const HardSwish = unaryOp((x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)));
export const Elu = unaryAttrOp((ctx) => {
  const alpha = ctx.attrs.float('alpha', 1);
  return (x) => (x >= 0 ? x : alpha * (Math.exp(x) - 1));
});

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
      lo = minT && minT.size ? Number(minT.data[0]) : -Infinity;
      hi = maxT && maxT.size ? Number(maxT.data[0]) : Infinity;
    }
    if (isBigIntType(x.dtype)) {
      const X = x.data as BigInt64Array;
      const out = allocData(x.dtype, X.length) as BigInt64Array;
      const l = minT && minT.size ? (minT.data[0] as bigint) : undefined;
      const h = maxT && maxT.size ? (maxT.data[0] as bigint) : undefined;
      for (let i = 0; i < X.length; i++) {
        let v = X[i]!;
        if (l !== undefined && v < l) v = l;
        if (h !== undefined && v > h) v = h;
        out[i] = v;
      }
      return [new Tensor(x.dtype, out, x.dims)];
    }
    return unaryOp((v) => { const t = v < lo ? lo : v; return t > hi ? hi : t; }, { ints: true }).run(ctx, [x]);
  },
};

export const elementwiseOps: Record<string, OpImpl> = {
  Add, Sub, Mul, Div, Pow, Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Sqrt, Clip,
  Abs, Neg, Exp, Log, Floor, Ceil, Reciprocal, Elu,
};
