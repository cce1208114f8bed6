// Reductions: ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare, ReduceL1, ReduceL2.
// Axes are an attribute before opset 18 (ReduceSum: 13) and an optional input after.
import type { Dim } from '../ir/graph.js';
import { Tensor, allocData, isBigIntType, sizeOf } from '../tensor.js';
import { ints, normAxis } from './util.js';
import { need, unsupported, type OpContext, type OpImpl } from './types.js';

type Kind = 'mean' | 'sum' | 'max' | 'min' | 'prod' | 'sumsq' | 'l1' | 'l2';

function reduceAxes(ctx: OpContext, r: number, axesT: Tensor | undefined, inputForm: boolean): number[] | 'none' {
  const axes = inputForm ? ints(axesT) : ctx.attrs.ints('axes');
  if (!axes || axes.length === 0) {
    if (inputForm && ctx.attrs.int('noop_with_empty_axes', 0) === 1) return 'none';
    return [...Array(r).keys()];
  }
  return [...new Set(axes.map((a) => normAxis(ctx, a, r)))].sort((a, b) => a - b);
}

function reduceOp(kind: Kind, inputSince: number): OpImpl {
  return {
    inferShape(ctx) {
      const x = ctx.inputs[0];
      const inputForm = ctx.opset >= inputSince;
      if (!x?.shape || (inputForm && ctx.node.inputs[1] && !ctx.values[1])) return [{ dtype: x?.dtype }];
      const axes = reduceAxes(ctx, x.shape.length, ctx.values[1], inputForm);
      if (axes === 'none') return [{ dtype: x.dtype, shape: x.shape }];
      const keep = ctx.attrs.int('keepdims', 1) === 1;
      const shape: Dim[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      return [{ dtype: x.dtype, shape }];
    },
    run(ctx, [x, axesT]) {
      need(ctx, x, 'needs input');
      if (x.dtype === 'string' || x.dtype === 'float16' || x.dtype === 'bool' || isBigIntType(x.dtype))
        unsupported(ctx, `type ${x.dtype} is not supported`);
      const axes = reduceAxes(ctx, x.rank, axesT, ctx.opset >= inputSince);
      if (axes === 'none') return [x];
      const keep = ctx.attrs.int('keepdims', 1) === 1;
      const outDims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
      const n = sizeOf(outDims);
      const X = x.data as Float32Array;
      const acc = new Float64Array(n).fill(kind === 'max' ? -Infinity : kind === 'min' ? Infinity : kind === 'prod' ? 1 : 0);
      const cnt = n ? x.size / n : 0;
      // map each input index to its output index via strides that are 0 on reduced axes
      const r = x.rank;
      const oSt = new Array<number>(r);
      let s = 1;
      for (let i = r - 1; i >= 0; i--) {
        oSt[i] = axes.includes(i) ? 0 : s;
        s *= outDims[i]!;
      }
      const idx = new Array<number>(r).fill(0);
      let o = 0;
      for (let i = 0; i < X.length; i++) {
        const v = X[i]!;
        switch (kind) {
          case 'max':
            if (v > acc[o]! || Number.isNaN(v)) acc[o] = v;
            break;
          case 'min':
            if (v < acc[o]! || Number.isNaN(v)) acc[o] = v;
            break;
          case 'prod':
            acc[o]! *= v;
            break;
          case 'sumsq':
          case 'l2':
            acc[o]! += v * v;
            break;
          case 'l1':
            acc[o]! += Math.abs(v);
            break;
          default:
            acc[o]! += v;
        }
        for (let ax = r - 1; ax >= 0; ax--) {
          o += oSt[ax]!;
          if (++idx[ax]! < x.dims[ax]!) break;
          o -= oSt[ax]! * x.dims[ax]!;
          idx[ax] = 0;
        }
      }
      const out = allocData(x.dtype, n) as Float32Array;
      for (let i = 0; i < n; i++) out[i] = kind === 'mean' ? acc[i]! / cnt : kind === 'l2' ? Math.sqrt(acc[i]!) : acc[i]!;
      const dims = keep ? outDims : x.dims.filter((_, i) => !axes.includes(i));
      return [new Tensor(x.dtype, out, dims)];
    },
  };
}

export const reduceOps: Record<string, OpImpl> = {
  ReduceMean: reduceOp('mean', 18),
  ReduceSum: reduceOp('sum', 13),
  ReduceMax: reduceOp('max', 18),
  ReduceMin: reduceOp('min', 18),
  ReduceProd: reduceOp('prod', 18),
  ReduceSumSquare: reduceOp('sumsq', 18),
  ReduceL1: reduceOp('l1', 18),
  ReduceL2: reduceOp('l2', 18),
};
