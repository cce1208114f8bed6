// Data movement on 8-bit data (Reshape, Transpose, Slice, ...): the float op moves the bytes, a
// table follows when the output quantization differs.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, type Q8, isOp, qType, sameQ8 } from './context.js';

export const DATA_MOVEMENT = new Set([
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Dropout',
  'Slice',
  'Gather',
  'Split',
  'Pad',
  'Expand',
  'Tile',
  'DepthToSpace',
  'SpaceToDepth',
]);
/** Data movement that never introduces new values (Pad does, with its constant): safe on 8-bit data. */
const PURE_MOVEMENT = new Set([
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Dropout',
  'Slice',
  'Gather',
  'Expand',
  'Tile',
  'DepthToSpace',
  'SpaceToDepth',
]);

/** Data movement on 8-bit data (a table afterwards when the output quantization differs). */
export function qdqMove(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!, true);
  if (typeof x === 'string') return x;
  if (node.outputs.filter(Boolean).length !== 1) return `more than one output`;
  if (!PURE_MOVEMENT.has(node.opType)) return `${node.opType} creates values (pads) that need requantization`;
  for (let i = 1; i < node.inputs.length; i++) {
    const v = node.inputs[i];
    // Gather's indices pick rows; they may come at run time (an embedding's token ids).
    if (v && !lc.consts.has(v) && !lc.shapeValues.has(v) && !(isOp(node, 'Gather') && i === 1)) return `input '${v}' is not constant`;
  }
  if (isOp(node, 'Dropout') && node.inputs[2]) {
    const t = lc.consts.get(node.inputs[2])!;
    if (t.size && (t.data as Uint8Array)[0]) return `training-mode Dropout`;
  }
  const o = lc.outQ(node.outputs[0]!, false, true);
  if (typeof o === 'string') return o;
  const impl = lc.opts.registry.get(node.opType, node.domain);
  if (!impl) return `no implementation`;
  const ctx = lc.ctx(node);
  const yName = o.q.outputs[0]!;
  const same = sameQ8(x, o.out);
  // 16-bit data moves only between equal quantizations (no 65,536-entry tables).
  if (!same && (x.bits === 16 || o.out.bits === 16)) return `16-bit data movement with a different output quantization`;
  const table = same ? undefined : lc.table(node, x, o.out);
  const k = lc.opts.kernels;
  const rest = node.inputs.slice(1);
  if (isOp(node, 'Transpose')) {
    transposeStep(lc, node, x.src, yName, o.out, ctx.attrs.ints('perm'), table);
    lc.record(node, {
      execution: 'integer',
      kernel: table ? 'transpose8 + lut' : x.bits === 16 ? 'transpose8 (16-bit elements as byte pairs)' : 'transpose8',
      reason: table ? 'requantized by a table' : undefined,
    });
    lc.fuse(node, [o.q], `output of ${node.opType}`);
    return undefined;
  }
  lc.push(
    node,
    [x.src, ...rest.filter((v): v is string => !!v)],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      const ins = [xt, ...rest.map((v) => (v ? values.get(v) : undefined))];
      let y = impl.run(ctx, ins)[0]!;
      if (table) {
        const d = values.out8(yName, o.out.signed, y.size);
        k.backend.lut({ x: y.data as Int8Like, table, y: d });
        y = new Tensor(o.out.signed ? 'int8' : 'uint8', d, y.dims);
      }
      values.set(yName, y);
      // Without a table the float op only moves bytes: a view of the input (Reshape and kin) replays
      // as nothing; an op that copies (Transpose) writes a fresh array, which keeps it out of a plan.
    },
    { pure: !table },
  );
  lc.record(node, {
    execution: 'integer',
    kernel: same ? `${x.bits ?? 8}-bit data movement` : `8-bit data movement + ${'lut'}`,
    reason: same ? undefined : 'requantized by a table',
  });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}

/** Transpose on the backend's byte kernel (then the table, when the output is requantized). */
function transposeStep(
  lc: LowerContext,
  node: Node,
  src: string,
  yName: string,
  out: Q8,
  permAttr: readonly number[] | undefined,
  table: Uint8Array | undefined,
): void {
  const k = lc.opts.kernels;
  const signed = out.signed,
    type = qType(out);
  lc.push(
    node,
    [src],
    [yName],
    (values) => {
      const x = values.get(src)!;
      const r = x.rank;
      const perm = permAttr ? permAttr.map((p) => (p < 0 ? p + r : p)) : Array.from({ length: r }, (_, i) => r - 1 - i);
      if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
        throw new OnnxPtqError(
          'SHAPE_MISMATCH',
          `${nodeLabel(node)}: perm [${perm.join(', ')}] is not a permutation of the input's ${r} axes`,
        );
      const dims = perm.map((p) => x.dims[p]!);
      const y = values.outQ(yName, out, x.size);
      if (r === 0 || x.size === 0) {
        values.set(yName, new Tensor(type, y, dims));
        return;
      }
      if (out.bits === 16) {
        // A 16-bit element is two bytes that move together: the byte transpose with one more axis.
        const bytes = (a: ArrayBufferView, n: number) => new Uint8Array(a.buffer, a.byteOffset, n * 2);
        k.backend.transpose8({ x: bytes(x.data as Int16Array, x.size), dims: [...x.dims, 2], perm: [...perm, r], y: bytes(y, x.size) });
        values.set(yName, new Tensor(type, y, dims));
        return;
      }
      if (table) {
        const t = signed ? new Int8Array(x.size) : new Uint8Array(x.size);
        k.backend.transpose8({ x: x.data as Int8Like, dims: x.dims, perm, y: t });
        k.backend.lut({ x: t, table, y: y as Int8Like });
      } else k.backend.transpose8({ x: x.data as Int8Like, dims: x.dims, perm, y: y as Int8Like });
      values.set(yName, new Tensor(type, y, dims));
    },
    { pure: true },
  );
}
