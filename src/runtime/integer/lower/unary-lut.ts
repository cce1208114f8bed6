// Unary ops on 8-bit data: a 256-entry table built once from the float op.
import type { Node } from '../../../ir/graph.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, type Q8, type Values, isOp, qRange, qType, quantizeScalar } from './context.js';

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

/** Div, Sub, Pow by a one-element constant second operand: a table over x like a unary op (the quantizer's plan, src/ptq/plan.ts, quantizes them so). */
export const SCALAR_FN = new Set(['Div', 'Sub', 'Pow']);

export function qdqUnary(lc: LowerContext, node: Node): string | undefined {
  if (SCALAR_FN.has(node.opType)) {
    const c = lc.consts.get(node.inputs[1] ?? '');
    if (c?.dtype !== 'float32' || c.size !== 1 || c.rank > 1)
      return `no integer form for ${node.opType} unless by a one-element float constant`;
  }
  const x = lc.act(node.inputs[0]!, true);
  if (typeof x === 'string') return x;
  // Extra inputs (Clip bounds, PRelu slope) must be constant: they become part of the table.
  for (let i = 1; i < node.inputs.length; i++) {
    const v = node.inputs[i];
    if (v && !lc.consts.has(v)) return `input '${v}' is not constant`;
  }
  if (isOp(node, 'PRelu') && node.inputs[1] && lc.consts.get(node.inputs[1])!.size !== 1) return `PRelu with a per-channel slope`;
  const o = lc.outQ(node.outputs[0]!, false, true);
  if (typeof o === 'string') return o;
  const impl = lc.opts.registry.get(node.opType, node.domain);
  if (!impl) return `no float implementation to build the table from`;
  const ctx = lc.ctx(node);
  const extra = node.inputs.slice(1).map((v) => (v ? lc.consts.get(v) : undefined));
  if (x.bits === 16 || o.out.bits === 16) {
    wideLut(lc, node, x, o.out, o.q.outputs[0]!, (t) => impl.run(ctx, [t, ...extra])[0]!);
    lc.fuse(node, [o.q], `output of ${node.opType}`);
    return undefined;
  }
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

/**
 * A unary op with a 16-bit input or output: a table over every input value (65,536 entries for a
 * 16-bit input, 256 for an 8-bit one) of the output type, built once from the float op like the
 * 8-bit table, so the result is exact in the same sense. It runs in TypeScript on every backend
 * (a gather; bit-identical by construction).
 */
export function wideLut(lc: LowerContext, node: Node, x: Q8 & { src: string }, out: Q8, yName: string, f: (t: Tensor) => Tensor): void {
  const { lo, hi } = qRange(x);
  const n = hi - lo + 1;
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = Math.fround(Math.fround(lo + i - x.zp) * x.scale);
  const fx = f(new Tensor('float32', t, [n]));
  if (fx.dtype !== 'float32' || fx.size !== n) lc.bad(node, `table function returned ${fx.dtype}[${fx.dims.join(', ')}]`);
  const table = new Int32Array(n);
  for (let i = 0; i < n; i++) table[i] = quantizeScalar((fx.data as Float32Array)[i]!, out);
  const type = qType(out);
  lc.push(node, [x.src], [yName], (values) => {
    const xt = values.get(x.src)!;
    if (xt.dtype !== qType(x)) lc.bad(node, `input is ${xt.dtype}, expected ${qType(x)}`);
    const X = xt.data as Int16Array,
      y = values.outQ(yName, out, xt.size);
    for (let i = 0; i < X.length; i++) y[i] = table[X[i]! - lo]!;
    values.set(yName, new Tensor(type, y, xt.dims));
  });
  lc.record(node, { execution: 'integer', kernel: `lut16`, reason: `${n}-entry table, ${x.bits ?? 8}-bit in, ${out.bits ?? 8}-bit out` });
}
