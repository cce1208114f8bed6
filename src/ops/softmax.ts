// Softmax / LogSoftmax: opset < 13 coerces the input to 2-D at `axis` (default 1); 13+ works along
// `axis` (default -1). The session's float kernels compute it (softmaxF32 of its backend); without
// them (constant folding, shape inference), the definition itself (softmaxF32Ref).
import { softmaxF32Ref } from '../backends/js-f32.js';
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
      // (a scalar is one row of one element).
      const outer = sizeOf(x.dims.slice(0, axis));
      const len = legacy ? sizeOf(x.dims.slice(axis)) : (x.dims[axis] ?? 1);
      const inner = legacy ? 1 : sizeOf(x.dims.slice(axis + 1));
      const y = allocData('float32', X.length, false) as Float32Array;
      if (ctx.f32) ctx.f32.softmaxF32(X, y, outer, len, inner, log);
      else softmaxF32Ref(X, y, outer, len, inner, log);
      return [new Tensor('float32', y, x.dims)];
    },
    replayable: true,
  };
}

export const Softmax = softmaxOp(false);
export const LogSoftmax = softmaxOp(true);
export const softmaxOps: Record<string, OpImpl> = { Softmax, LogSoftmax };
