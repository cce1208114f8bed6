// Softmax / LogSoftmax: opset < 13 coerces the input to 2-D at `axis` (default 1); 13+ works along
// `axis` (default -1).
import { Tensor, sizeOf, allocData } from '../tensor.js';
import { float32Of, normAxis, same } from './util.js';
import { need, type OpImpl } from './types.js';

function softmaxOp(log: boolean): OpImpl {
  return {
    inferShape: (ctx) => same(ctx.inputs[0]),
    run(ctx, [x]) {
      need(ctx, x, 'needs input');
      const X = float32Of(ctx, x, 'input');
      const r = x.rank;
      const legacy = ctx.opset < 13;
      const axis = normAxis(ctx, ctx.attrs.int('axis', legacy ? 1 : -1), Math.max(r, 1));
      // legacy: rows = prod(dims[:axis]), cols = prod(dims[axis:]); new: reduce over one axis only
      const outer = sizeOf(x.dims.slice(0, axis));
      const len = legacy ? sizeOf(x.dims.slice(axis)) : x.dims[axis]!;
      const inner = legacy ? 1 : sizeOf(x.dims.slice(axis + 1));
      const y = allocData('float32', X.length, false) as Float32Array;
      // Each exp is taken once (kept in float64 for the sum and the division).
      const e = expScratch(len);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let mx = -Infinity;
          for (let k = 0; k < len; k++) {
            const v = X[base + k * inner]!;
            if (v > mx || v !== v) mx = v;
          }
          let sum = 0;
          for (let k = 0; k < len; k++) {
            const v = Math.exp(X[base + k * inner]! - mx);
            e[k] = v;
            sum += v;
          }
          if (log) {
            const ls = Math.log(sum);
            for (let k = 0; k < len; k++) y[base + k * inner] = X[base + k * inner]! - mx - ls;
          } else for (let k = 0; k < len; k++) y[base + k * inner] = e[k]! / sum;
        }
      return [new Tensor('float32', y, x.dims)];
    },
  };
}

// One scratch row reused across calls (the JS engine is single-threaded).
let scratch = new Float64Array(0);
function expScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}

export const Softmax = softmaxOp(false);
export const LogSoftmax = softmaxOp(true);
export const softmaxOps: Record<string, OpImpl> = { Softmax, LogSoftmax };
