// Concat of 8-bit activations, each input requantized to the output scale where it differs.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { concatRef } from '../../../kernels/int8/qlayout-ref.js';
import { type LowerContext, normAxisOf, qType } from './context.js';

export function qdqConcat(lc: LowerContext, node: Node): string | undefined {
  const ins = node.inputs.map((v) => lc.act(v, true));
  for (const x of ins) if (typeof x === 'string') return x;
  const xs = ins as Exclude<(typeof ins)[number], string>[];
  const o = lc.outQ(node.outputs[0]!, false, true);
  if (typeof o === 'string') return o;
  // 16-bit anywhere (A16W8): the reference concat in TypeScript, each input requantized by the same
  // int32 arithmetic (a 16-bit value minus its zero point fits), on every backend.
  const wide = o.out.bits === 16 || xs.some((x) => x.bits === 16);
  if (!wide && xs.some((x) => x.signed !== o.out.signed)) return `Concat inputs and output do not share one 8-bit type`;
  const rqs = xs.map((x) =>
    x.scale === o.out.scale && x.zp === o.out.zp && x.bits === o.out.bits
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
      const y = values.outQ(yName, o.out, sizeOf(dims)) as Int8Like;
      const args = { inputs: ts.map((t) => t.data as Int8Like), axisDims, zeroPoints: xs.map((x) => x.zp), requant: rqs, outer, inner, y };
      if (wide) concatRef(args);
      else k.backend.concat(args);
      values.set(yName, new Tensor(qType(o.out), y, dims));
    },
    { pure: !wide },
  );
  lc.record(node, { execution: 'integer', kernel: wide ? 'concat (16-bit, reference)' : 'concat' });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
