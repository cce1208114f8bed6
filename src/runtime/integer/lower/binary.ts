// Add and Mul of two 8-bit activations: integer qadd (inputs rescaled to the output scale) and
// qmul.
import type { Node } from '../../../ir/graph.js';
import { makeQAddParams } from '../../../quant/qadd.js';
import { floatMultiplier } from '../../../quant/requant.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, broadcast } from './context.js';

export function qdqBinary(lc: LowerContext, node: Node): string | undefined {
  const a = lc.act(node.inputs[0]!),
    b = lc.act(node.inputs[1]!);
  if (typeof a === 'string') return a;
  if (typeof b === 'string') return b;
  const o = lc.outQ(node.outputs[0]!, node.opType === 'Add');
  if (typeof o === 'string') return o;
  if (o.cap) return `a per-channel Min after ${node.opType}`;
  const add = node.opType === 'Add';
  if (add && (a.signed !== o.out.signed || b.signed !== o.out.signed)) return `Add inputs and output do not share one 8-bit type`;
  if (!add && (a.signed !== o.out.signed || b.signed !== o.out.signed)) return `Mul inputs and output do not share one 8-bit type`;
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  let kernel: string;
  if (add) {
    const p = makeQAddParams(lc.opts.mode, a.scale, a.zp, b.scale, b.zp, o.out.scale, {
      zeroPoint: o.out.zp,
      signed,
      min: o.min,
      max: o.max,
    });
    kernel = 'qadd';
    lc.push(node, [a.src, b.src], [yName], (values) => {
      const A = values.get(a.src)!,
        B = values.get(b.src)!;
      const dims = broadcast(node, A.dims, B.dims);
      const y = values.out8(yName, signed, sizeOf(dims));
      k.backend.qadd({ a: A.data as Int8Like, aShape: A.dims, b: B.data as Int8Like, bShape: B.dims, params: p, y });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
    });
  } else {
    const m =
      lc.opts.mode === 'float'
        ? floatMultiplier(a.scale, b.scale, o.out.scale)
        : (Math.fround(a.scale) * Math.fround(b.scale)) / Math.fround(o.out.scale);
    const rq = lc.requant([m], o.out, o.min, o.max);
    kernel = 'qmul';
    lc.push(node, [a.src, b.src], [yName], (values) => {
      const A = values.get(a.src)!,
        B = values.get(b.src)!;
      const dims = broadcast(node, A.dims, B.dims);
      const y = values.out8(yName, signed, sizeOf(dims));
      k.backend.qmul({
        a: A.data as Int8Like,
        aShape: A.dims,
        aZeroPoint: a.zp,
        b: B.data as Int8Like,
        bShape: B.dims,
        bZeroPoint: b.zp,
        requant: rq,
        y,
      });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
    });
  }
  lc.record(node, { execution: 'integer', kernel, reason: o.act ? `fused ${o.act.opType}` : undefined });
  lc.fuse(node, [o.act, o.capNode, o.q], `output of ${node.opType}`);
  return undefined;
}
