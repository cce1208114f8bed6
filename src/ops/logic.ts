// Comparison, logical and selection ops (bool outputs as uint8 0/1), variadic Max/Min/Sum/Mean,
// and small generators (ConstantOfShape, Range, Size). Exporters put these in shape subgraphs and
// in the "expanded" forms of other ops.
import { Tensor, allocData, isBigIntType, sizeOf, type TensorData } from '../tensor.js';
import { castTensor } from './cast.js';
import { broadcastBinary } from './elementwise.js';
import { broadcastDims, broadcastShapes, broadcastStrides, ints, same } from './util.js';
import { need, unsupported, type OpImpl } from './types.js';

/** Comparison with a bool result; `expr` is compiled into the broadcast loop (see broadcastBinary). */
function compareOp(expr: string): OpImpl {
  return {
    inferShape: (ctx) => [{ dtype: 'bool', shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape]) }],
    run(ctx, [a, b]) {
      need(ctx, a && b, 'needs two inputs');
      need(ctx, a.dtype === b.dtype, `input types differ: ${a.dtype} and ${b.dtype}`);
      if (a.dtype === 'float16') unsupported(ctx, 'float16 is not supported');
      return [broadcastBinary(ctx, a, b, `(${expr}) ? 1 : 0`, 'bool')];
    },
  };
}

function logicOp(expr: string): OpImpl {
  return {
    inferShape: (ctx) => [{ dtype: 'bool', shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape]) }],
    run(ctx, [a, b]) {
      need(ctx, a && b && a.dtype === 'bool' && b.dtype === 'bool', 'needs two bool inputs');
      return [broadcastBinary(ctx, a, b, `(${expr}) ? 1 : 0`, 'bool')];
    },
  };
}

export const Not: OpImpl = {
  inferShape: (ctx) => same(ctx.inputs[0]),
  run(ctx, [x]) {
    need(ctx, x && x.dtype === 'bool', 'needs a bool input');
    const X = x.data as Uint8Array;
    return [
      new Tensor(
        'bool',
        X.map((v) => (v ? 0 : 1)),
        x.dims,
      ),
    ];
  },
};

/** Where(cond, x, y) with three-way broadcasting. */
export const Where: OpImpl = {
  inferShape: (ctx) => [
    { dtype: ctx.inputs[1]?.dtype, shape: broadcastDims([ctx.inputs[0]?.shape, ctx.inputs[1]?.shape, ctx.inputs[2]?.shape]) },
  ],
  run(ctx, [c, x, y]) {
    need(ctx, c && x && y, 'needs condition, X and Y');
    need(ctx, x.dtype === y.dtype, `X is ${x.dtype}, Y is ${y.dtype}`);
    const dims = broadcastShapes(ctx, broadcastShapes(ctx, c.dims, x.dims), y.dims);
    const n = sizeOf(dims);
    const sc = broadcastStrides(c.dims, dims);
    const sx = broadcastStrides(x.dims, dims);
    const sy = broadcastStrides(y.dims, dims);
    const out = allocData(x.dtype, n) as any;
    const C = c.data as Uint8Array;
    const X = x.data as any;
    const Y = y.data as any;
    const idx = new Array<number>(dims.length).fill(0);
    for (let i = 0; i < n; i++) {
      let oc = 0,
        ox = 0,
        oy = 0;
      for (let a = 0; a < dims.length; a++) {
        oc += idx[a]! * sc[a]!;
        ox += idx[a]! * sx[a]!;
        oy += idx[a]! * sy[a]!;
      }
      out[i] = C[oc] ? X[ox] : Y[oy];
      for (let a = dims.length - 1; a >= 0; a--) {
        if (++idx[a]! < dims[a]!) break;
        idx[a] = 0;
      }
    }
    return [new Tensor(x.dtype, out as TensorData, dims)];
  },
};

function variadic(expr: string, mean = false): OpImpl {
  return {
    inferShape: (ctx) => [{ dtype: ctx.inputs[0]?.dtype, shape: broadcastDims(ctx.inputs.map((t) => t?.shape)) }],
    run(ctx, inputs) {
      const xs = inputs.filter((t): t is Tensor => !!t);
      need(ctx, xs.length > 0, 'needs at least one input');
      let acc = xs[0]!;
      for (let i = 1; i < xs.length; i++) {
        need(ctx, xs[i]!.dtype === acc.dtype, 'inputs must share a dtype');
        acc = broadcastBinary(ctx, acc, xs[i]!, expr);
      }
      if (mean) {
        const n = xs.length;
        acc = new Tensor(
          acc.dtype,
          (acc.data as Float32Array).map((v) => v / n),
          acc.dims,
        );
      } else if (xs.length === 1) acc = new Tensor(acc.dtype, (acc.data as any).slice(), acc.dims);
      return [acc];
    },
  };
}

// NaN propagates through Max/Min, as in onnxruntime (a !== a is never true for bigints).
const maxE = 'a !== a || b !== b ? NaN : a > b ? a : b';
const minE = 'a !== a || b !== b ? NaN : a < b ? a : b';

export const CastLike: OpImpl = {
  inferShape: (ctx) => [{ dtype: ctx.inputs[1]?.dtype, shape: ctx.inputs[0]?.shape }],
  run(ctx, [x, like]) {
    need(ctx, x && like, 'needs input and target_type');
    return [castTensor(ctx, x, like.dtype)];
  },
};

export const ConstantOfShape: OpImpl = {
  inferShape(ctx) {
    const v = ctx.attrs.tensor('value');
    const s = ints(ctx.values[0]);
    return [{ dtype: v?.dtype ?? 'float32', shape: s }];
  },
  run(ctx, [s]) {
    need(ctx, s, 'needs a shape');
    const dims = s.toNumbers();
    need(
      ctx,
      dims.every((d) => d >= 0),
      `negative dims [${dims}]`,
    );
    const v = ctx.attrs.tensor('value') ?? new Tensor('float32', new Float32Array(1), [1]);
    const out = allocData(v.dtype, sizeOf(dims)) as any;
    out.fill(v.data[0]);
    return [new Tensor(v.dtype, out as TensorData, dims)];
  },
};

export const Range: OpImpl = {
  inferShape: (ctx) => [{ dtype: ctx.inputs[0]?.dtype, shape: [null] }],
  run(ctx, [s, l, d]) {
    need(ctx, s && l && d, 'needs start, limit, delta');
    if (s.dtype === 'float16') unsupported(ctx, 'float16 is not supported');
    const big = isBigIntType(s.dtype);
    const start = Number(s.data[0]);
    const limit = Number(l.data[0]);
    const delta = Number(d.data[0]);
    need(ctx, delta !== 0, 'delta cannot be 0');
    const n = Math.max(0, Math.ceil((limit - start) / delta));
    const out = allocData(s.dtype, n) as any;
    for (let i = 0; i < n; i++) out[i] = big ? BigInt(start + i * delta) : start + i * delta;
    return [new Tensor(s.dtype, out as TensorData, [n])];
  },
};

export const Size: OpImpl = {
  inferShape: () => [{ dtype: 'int64', shape: [] }],
  run(ctx, [x]) {
    need(ctx, x, 'needs input');
    return [new Tensor('int64', BigInt64Array.of(BigInt(x.size)), [])];
  },
};

export const logicOps: Record<string, OpImpl> = {
  Equal: compareOp('a === b'),
  Less: compareOp('a < b'),
  LessOrEqual: compareOp('a <= b'),
  Greater: compareOp('a > b'),
  GreaterOrEqual: compareOp('a >= b'),
  And: logicOp('a !== 0 && b !== 0'),
  Or: logicOp('a !== 0 || b !== 0'),
  Xor: logicOp('(a !== 0) !== (b !== 0)'),
  Not,
  Where,
  Max: variadic(maxE),
  Min: variadic(minE),
  Sum: variadic('a + b'),
  Mean: variadic('a + b', true),
  CastLike,
  ConstantOfShape,
  Range,
  Size,
};
