// ReduceMean on 8-bit data over any set of axes (opq_qreduce_mean): acc = sum (x - Zx) in exact
// int32, requantized once with M = Sx / (Sy * count). Against float (DQ -> ReduceMean -> Q) the only
// rounding is the final one (in float mode the float32 product acc * M, whose relative error is
// 2^-24), so the result is the correctly rounded mean or, at a rounding tie within that error, 1 LSB off.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import type { RequantParams } from '../../../quant/requant.js';
import type { LowerContext } from './context.js';

export function qdqReduceMean(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!);
  if (typeof x === 'string') return x;
  const ctx = lc.ctx(node);
  let axesAttr: number[] | undefined;
  if (ctx.opset >= 18) {
    const a = node.inputs[1];
    if (a) {
      const t = lc.consts.get(a);
      if (!t) return `axes input '${a}' is not constant`;
      axesAttr = t.toNumbers();
    }
  } else axesAttr = ctx.attrs.ints('axes')?.map(Number);
  const keepdims = ctx.attrs.int('keepdims', 1) === 1;
  const noop = ctx.opset >= 18 && ctx.attrs.int('noop_with_empty_axes', 0) === 1;
  const o = lc.outQ(node.outputs[0]!, false);
  if (typeof o === 'string') return o;
  if (o.out.signed !== x.signed) return `input and output types differ`;
  const ratio =
    lc.opts.mode === 'float'
      ? Math.fround(Math.fround(x.scale) / Math.fround(o.out.scale))
      : Math.fround(x.scale) / Math.fround(o.out.scale);
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  // Axes, output dims and the requantization depend on the input shape only: kept for the last one.
  let cache: { key: string; axes: number[]; outDims: number[]; rq: RequantParams } | undefined;
  lc.push(
    node,
    [x.src],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      const key = xt.dims.join(',');
      if (!cache || cache.key !== key) {
        const r = xt.rank;
        if (r > 8)
          throw new OnnxPtqError(
            'UNSUPPORTED_OP',
            `${nodeLabel(node)}: integer ReduceMean takes inputs of rank <= 8, got [${xt.dims.join(', ')}]`,
          );
        let axes: number[];
        if (!axesAttr || axesAttr.length === 0) axes = noop ? [] : Array.from({ length: r }, (_, i) => i);
        else {
          axes = axesAttr.map((a) => {
            if (!Number.isInteger(a) || a < -r || a >= r)
              throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: axis ${a} out of range for rank ${r}`);
            return a < 0 ? a + r : a;
          });
          if (new Set(axes).size !== axes.length)
            throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: axes [${axesAttr.join(', ')}] repeat an axis`);
        }
        const count = axes.reduce((p, a) => p * xt.dims[a]!, 1);
        if (count === 0) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: reduced axes of [${xt.dims.join(', ')}] are empty`);
        if (count > 2 ** 23)
          throw new OnnxPtqError(
            'UNSUPPORTED_OP',
            `${nodeLabel(node)}: integer ReduceMean sums at most 2^23 elements, the axes of [${xt.dims.join(', ')}] hold ${count}`,
          );
        const M = ratio / count;
        if (!(M >= 2 ** -31))
          throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: multiplier ${M} (scale ratio / count) is below 2^-31`);
        const outDims = keepdims ? xt.dims.map((d, i) => (axes.includes(i) ? 1 : d)) : xt.dims.filter((_, i) => !axes.includes(i));
        cache = { key, axes, outDims, rq: lc.requant([M], o.out, o.min, o.max) };
      }
      const { axes, outDims, rq } = cache;
      const y = values.out8(
        yName,
        signed,
        outDims.reduce((p, d) => p * d, 1),
      );
      k.backend.reduceMean({ x: xt.data as Int8Like, dims: xt.dims, axes, xZeroPoint: x.zp, requant: rq, y });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, outDims));
    },
    { pure: true },
  );
  lc.record(node, { execution: 'integer', kernel: 'reduceMean' });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
