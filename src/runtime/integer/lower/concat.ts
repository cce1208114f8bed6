// Concat of 8-bit activations, each input requantized to the output scale where it differs.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, normAxisOf } from './context.js';

export function qdqConcat(lc: LowerContext, node: Node): string | undefined {
  const ins = node.inputs.map((v) => lc.act(v));
  for (const x of ins) if (typeof x === 'string') return x;
  const xs = ins as Exclude<(typeof ins)[number], string>[];
  const o = lc.outQ(node.outputs[0]!, false);
  if (typeof o === 'string') return o;
  if (xs.some((x) => x.signed !== o.out.signed)) return `Concat inputs and output do not share one 8-bit type`;
  const rqs = xs.map((x) =>
    x.scale === o.out.scale && x.zp === o.out.zp
      ? null
      : lc.requant(
          [
            lc.opts.mode === 'float'
              ? Math.fround(Math.fround(x.scale) / Math.fround(o.out.scale))
              : Math.fround(x.scale) / Math.fround(o.out.scale),
          ],
          o.out,
          o.min,
          o.max,
        ),
  );
  const ctx = lc.ctx(node);
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  lc.push(
    node,
    xs.map((x) => x.src),
    [yName],
    (values) => {
      const ts = xs.map((x) => values.get(x.src)!);
      const r = ts[0]!.rank;
      const axis = normAxisOf(node, ctx.attrs.int('axis', 0), r);
      for (const t of ts) {
        if (t.rank !== r || t.dims.some((d, i) => i !== axis && d !== ts[0]!.dims[i]))
          throw new OnnxPtqError(
            'SHAPE_MISMATCH',
            `${nodeLabel(node)}: inputs of dims ${ts.map((u) => `[${u.dims.join(', ')}]`).join(', ')} do not concatenate along axis ${axis}`,
          );
      }
      const outer = sizeOf(ts[0]!.dims.slice(0, axis)),
        inner = sizeOf(ts[0]!.dims.slice(axis + 1));
      const axisDims = ts.map((t) => t.dims[axis]!);
      const dims = [...ts[0]!.dims];
      dims[axis] = axisDims.reduce((s, d) => s + d, 0);
      const y = values.out8(yName, signed, sizeOf(dims));
      k.backend.concat({
        inputs: ts.map((t) => t.data as Int8Like),
        axisDims,
        zeroPoints: xs.map((x) => x.zp),
        requant: rqs,
        outer,
        inner,
        y,
      });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
    },
    { pure: true },
  );
  lc.record(node, { execution: 'integer', kernel: 'concat' });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
