// Softmax on 8-bit data (opq_qsoftmax): per row, a 256-entry exp table of (max - x) built from the
// input scale, an exact 64-bit sum and one exact division per non-zero output (src/quant/softmax.ts
// states its error). The axis follows the opset: from 13 one axis with the others independent; before
// 13 the input is coerced to 2-D at `axis` and each row of the flattened trailing dims is normalized.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { SOFTMAX_ONE, SOFTMAX_ONE_16, softmaxParams } from '../../../quant/softmax.js';
import { qsoftmaxRef } from '../../../kernels/int8/qsoftmax-ref.js';
import { type LowerContext, qType } from './context.js';

export function qdqSoftmax(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!, true);
  if (typeof x === 'string') return x;
  const o = lc.outQ(node.outputs[0]!, false, true);
  if (typeof o === 'string') return o;
  // 16-bit in or out (A16W8): the same integer steps with a 65,536-entry table for a 16-bit input and a
  // finer table for a 16-bit output, on the reference kernel (every backend runs the same TypeScript).
  const wide = x.bits === 16 || o.out.bits === 16;
  const p = softmaxParams(x.scale, o.out.scale, x.bits ?? 8, o.out.bits === 16 ? SOFTMAX_ONE_16 : SOFTMAX_ONE);
  if (typeof p === 'string') return p;
  const ctx = lc.ctx(node);
  const coerce2d = ctx.opset < 13;
  const axisAttr = ctx.attrs.int('axis', coerce2d ? 1 : -1);
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  lc.push(
    node,
    [x.src],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      const r = xt.rank;
      const axis = axisAttr < 0 ? axisAttr + r : axisAttr;
      if (!Number.isInteger(axis) || axis < 0 || axis >= Math.max(r, 1))
        throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: axis ${axisAttr} is outside the rank-${r} input`);
      const prod = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
      const outer = prod(xt.dims.slice(0, axis));
      const axisLen = coerce2d ? prod(xt.dims.slice(axis)) : (xt.dims[axis] ?? 1);
      const inner = coerce2d ? 1 : prod(xt.dims.slice(axis + 1));
      const y = values.outQ(yName, o.out, xt.size) as Int8Like;
      const args = { x: xt.data as Int8Like, outer, axisLen, inner, ...p, zeroPoint: o.out.zp, min: o.min, max: o.max, y };
      if (wide) qsoftmaxRef(args);
      else k.backend.softmax(args);
      values.set(yName, new Tensor(qType(o.out), y, xt.dims));
    },
    { pure: !wide },
  );
  lc.record(node, {
    execution: 'integer',
    kernel: wide ? 'softmax (16-bit, reference)' : 'softmax',
    reason: `${coerce2d ? 'rows of the 2-D coercion' : 'along one axis'}`,
  });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
