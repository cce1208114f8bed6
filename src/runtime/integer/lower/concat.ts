// Concat of 8-bit activations, each input requantized to the output scale where it differs.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import type { ConcatArgs } from '../../../backends/kernels-qlayout.js';
import { requantizeOne, type RequantParams } from '../../../quant/requant.js';
import { type LowerContext, normAxisOf, qRange, qType, type Q8 } from './context.js';

/** Input i's stored value v maps to table[v - lo] (built once at lowering), or null: a plain copy. */
export interface ConcatTable {
  table: Int32Array;
  lo: number;
}

/**
 * The output value of every stored value of an input (256 or 65,536 entries): each is the
 * reference's requantizeOne(v - zeroPoint), so a lookup equals concatRef bit for bit. The 16-bit
 * reference concat called requantizeOne per element and took 0.29 s of a mixed int8/int16 PP-OCRv4
 * det run; a table costs one such call per stored value, at session creation.
 */
export function concatTable(x: Pick<Q8, 'signed' | 'bits' | 'zp'>, rq: RequantParams | null): ConcatTable | null {
  if (!rq) return null;
  const { lo, hi } = qRange(x);
  const table = new Int32Array(hi - lo + 1);
  for (let v = lo; v <= hi; v++) table[v - lo] = requantizeOne(v - x.zp, rq, 0);
  return { table, lo };
}

/** concatRef's result, with the inputs' tables: copies and lookups. */
export function concatWithTables(g: ConcatArgs, tables: readonly (ConcatTable | null)[]): void {
  const { inputs, axisDims, outer, inner, y } = g;
  const total = axisDims.reduce((s, d) => s + d, 0);
  for (let o = 0; o < outer; o++) {
    let at = o * total * inner;
    for (let i = 0; i < inputs.length; i++) {
      const n = axisDims[i]! * inner,
        x = inputs[i]!,
        t = tables[i];
      if (!t) y.set(x.subarray(o * n, o * n + n), at);
      else {
        const { table, lo } = t;
        for (let j = 0, k = o * n; j < n; j++, k++) y[at + j] = table[x[k]! - lo]!;
      }
      at += n;
    }
  }
}

export function qdqConcat(lc: LowerContext, node: Node): string | undefined {
  const ins = node.inputs.map((v) => lc.act(v, true));
  for (const x of ins) if (typeof x === 'string') return x;
  const xs = ins as Exclude<(typeof ins)[number], string>[];
  const o = lc.outQ(node.outputs[0]!, false, true);
  if (typeof o === 'string') return o;
  // 16-bit anywhere (A16W8): in TypeScript on every backend, each input requantized by the reference's
  // int32 arithmetic (a 16-bit value minus its zero point fits), through a table of its values.
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
  const tables = wide ? xs.map((x, i) => concatTable(x, rqs[i]!)) : [];
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
      if (wide) concatWithTables(args, tables);
      else k.backend.concat(args);
      values.set(yName, new Tensor(qType(o.out), y, dims));
    },
    { pure: !wide },
  );
  lc.record(node, { execution: 'integer', kernel: wide ? 'concat (16-bit, tables)' : 'concat' });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
