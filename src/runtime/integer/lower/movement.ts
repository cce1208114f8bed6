// Data movement on 8-bit data (Reshape, Transpose, Slice, ...): the float op moves the bytes, a
// table follows when the output quantization differs.
import type { Node } from '../../../ir/graph.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, isOp, sameQ8 } from './context.js';

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
  const x = lc.act(node.inputs[0]!);
  if (typeof x === 'string') return x;
  if (node.outputs.filter(Boolean).length !== 1) return `more than one output`;
  if (!PURE_MOVEMENT.has(node.opType)) return `${node.opType} creates values (pads) that need requantization`;
  for (let i = 1; i < node.inputs.length; i++) {
    const v = node.inputs[i];
    if (v && !lc.consts.has(v) && !lc.shapeValues.has(v)) return `input '${v}' is not constant`;
  }
  if (isOp(node, 'Dropout') && node.inputs[2]) {
    const t = lc.consts.get(node.inputs[2])!;
    if (t.size && (t.data as Uint8Array)[0]) return `training-mode Dropout`;
  }
  const o = lc.outQ(node.outputs[0]!, false);
  if (typeof o === 'string') return o;
  const impl = lc.opts.registry.get(node.opType, node.domain);
  if (!impl) return `no implementation`;
  const ctx = lc.ctx(node);
  const yName = o.q.outputs[0]!;
  const same = sameQ8(x, o.out);
  const table = same ? undefined : lc.table(node, x, o.out);
  const k = lc.opts.kernels;
  const rest = node.inputs.slice(1);
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
    kernel: same ? '8-bit data movement' : `8-bit data movement + ${'lut'}`,
    reason: same ? undefined : 'requantized by a table',
  });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
