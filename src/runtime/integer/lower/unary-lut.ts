// Unary ops on 8-bit data: a 256-entry table built once from the float op.
import type { Node } from '../../../ir/graph.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, type Values, isOp } from './context.js';

export const UNARY = new Set([
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'LeakyRelu',
  'Relu',
  'Clip',
  'Elu',
  'Selu',
  'Softplus',
  'Softsign',
  'Exp',
  'Log',
  'Neg',
  'Abs',
  'Sqrt',
  'Erf',
  'Gelu',
  'Mish',
  'Celu',
  'ThresholdedRelu',
  'Sin',
  'Cos',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'PRelu',
]);

export function qdqUnary(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!);
  if (typeof x === 'string') return x;
  // Extra inputs (Clip bounds, PRelu slope) must be constant: they become part of the table.
  for (let i = 1; i < node.inputs.length; i++) {
    const v = node.inputs[i];
    if (v && !lc.consts.has(v)) return `input '${v}' is not constant`;
  }
  if (isOp(node, 'PRelu') && node.inputs[1] && lc.consts.get(node.inputs[1])!.size !== 1) return `PRelu with a per-channel slope`;
  const o = lc.outQ(node.outputs[0]!, false);
  if (typeof o === 'string') return o;
  const impl = lc.opts.registry.get(node.opType, node.domain);
  if (!impl) return `no float implementation to build the table from`;
  const ctx = lc.ctx(node);
  const extra = node.inputs.slice(1).map((v) => (v ? lc.consts.get(v) : undefined));
  const table = lc.table(node, x, o.out, (t) => impl.run(ctx, [t, ...extra])[0]!);
  lutStep(lc, node, x.src, o.q.outputs[0]!, o.out.signed, table);
  lc.record(node, { execution: 'integer', kernel: 'lut', reason: '256-entry table' });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}

export function lutStep(
  lc: LowerContext,
  node: Node,
  src: string,
  yName: string,
  signed: boolean,
  table: Uint8Array,
  dims: (x: readonly number[]) => readonly number[] = (x) => x,
): void {
  lc.push(node, [src], [yName], lutRun(lc, src, yName, signed, table, dims), { table: { src, table, signed, dims }, pure: true });
}

/** A step body applying `table` to `src` (dims of the output from the input's). */
export function lutRun(
  lc: LowerContext,
  src: string,
  yName: string,
  signed: boolean,
  table: Uint8Array,
  dims: (x: readonly number[]) => readonly number[],
): (values: Values) => void {
  const k = lc.opts.kernels;
  return (values) => {
    const x = values.get(src)!;
    const d = dims(x.dims);
    const y = values.out8(yName, signed, x.size);
    k.backend.lut({ x: x.data as Int8Like, table, y });
    values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, d));
  };
}
