// MaxPool, AveragePool and the global pools on 8-bit data.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { windowParams } from '../../../ops/conv-util.js';
import { poolOutputShape } from '../../../backends/kernels-qpool.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { avgPoolRef, globalAvgPoolRef, globalMaxPoolRef, maxPoolRef } from '../../../kernels/int8/qpool-ref.js';
import { type LowerContext, qType, sameQ8, type Values } from './context.js';

/** The reference pools, which take 16-bit arrays as they are (A16W8). */
const WIDE_POOLS = { maxPool: maxPoolRef, avgPool: avgPoolRef, globalMaxPool: globalMaxPoolRef, globalAvgPool: globalAvgPoolRef };

export function qdqPool(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!, true);
  if (typeof x === 'string') return x;
  if (node.outputs.length > 1 && node.outputs[1]) return `MaxPool Indices output`;
  const o = lc.outQ(node.outputs[0]!, false, true);
  if (typeof o === 'string') return o;
  if (o.out.signed !== x.signed || o.out.bits !== x.bits) return `input and output types differ`;
  // 16-bit (A16W8): the reference pools in TypeScript on every backend (bit-identical by
  // construction); a max pool needs one quantization in and out (no 65,536-entry table).
  const wide = x.bits === 16;
  const ctx = lc.ctx(node);
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  const isMax = node.opType === 'MaxPool' || node.opType === 'GlobalMaxPool';
  if (wide && isMax && !sameQ8(x, o.out)) return `16-bit max pool with a different output quantization`;
  const table = isMax && !sameQ8(x, o.out) ? lc.table(node, x, o.out) : undefined;
  const pools = wide ? WIDE_POOLS : k.backend;
  const M =
    lc.opts.mode === 'float'
      ? Math.fround(Math.fround(x.scale) / Math.fround(o.out.scale))
      : Math.fround(x.scale) / Math.fround(o.out.scale);
  const rq = lc.requant([M], o.out, o.min, o.max);
  const global = node.opType.startsWith('Global');
  const kernelAttr = ctx.attrs.ints('kernel_shape');
  if (!global && (!kernelAttr || kernelAttr.length > 2)) return `only 1-D and 2-D pooling runs in integer`;
  if (!global && ctx.attrs.ints('dilations')?.some((d) => d !== 1) && !isMax) return `dilated AveragePool`;
  // With a table the pool writes a temporary and the table the planned output.
  const mk = (values: Values, n: number) =>
    table ? (signed ? new Int8Array(n) : new Uint8Array(n)) : (values.outQ(yName, o.out, n) as Int8Like);
  lc.push(
    node,
    [x.src],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      if (xt.rank < 3)
        throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input must be N x C x spatial, got [${xt.dims.join(', ')}]`);
      let y: Int8Like;
      let dims: number[];
      if (global) {
        const nc = xt.dims[0]! * xt.dims[1]!,
          spatial = xt.size / Math.max(1, nc);
        y = mk(values, nc);
        dims = [xt.dims[0]!, xt.dims[1]!, ...xt.dims.slice(2).map(() => 1)];
        if (isMax) pools.globalMaxPool({ x: xt.data as Int8Like, channels: nc, spatial, y });
        else pools.globalAvgPool({ x: xt.data as Int8Like, channels: nc, spatial, xZeroPoint: x.zp, requant: rq, y });
      } else {
        const sp = xt.dims.slice(2);
        if (sp.length !== kernelAttr!.length)
          throw new OnnxPtqError(
            'SHAPE_MISMATCH',
            `${nodeLabel(node)}: kernel_shape has ${kernelAttr!.length} axes, input [${xt.dims.join(', ')}]`,
          );
        const ceil = ctx.attrs.int('ceil_mode', 0) === 1;
        const wp = windowParams(ctx, sp, kernelAttr!, { ceilMode: ceil });
        const two = sp.length === 1;
        const H = two ? 1 : sp[0]!,
          W = two ? sp[0]! : sp[1]!;
        const s = wp.strides.length === 1 ? [1, wp.strides[0]!] : wp.strides;
        const d = wp.dilations.length === 1 ? [1, wp.dilations[0]!] : wp.dilations;
        const kk = two ? [1, kernelAttr![0]!] : kernelAttr!;
        const p = wp.pads.length === 2 ? [0, wp.pads[0]!, 0, wp.pads[1]!] : wp.pads;
        const geom = {
          n: xt.dims[0]!,
          c: xt.dims[1]!,
          h: H,
          w: W,
          kernel: [kk[0]!, kk[1]!] as const,
          strides: [s[0]!, s[1]!] as const,
          pads: [p[0]!, p[1]!, p[2]!, p[3]!] as const,
          dilations: [d[0]!, d[1]!] as const,
          ceilMode: ceil,
        };
        const [oh, ow] = poolOutputShape(geom);
        y = mk(values, geom.n * geom.c * oh * ow);
        dims = two ? [geom.n, geom.c, ow] : [geom.n, geom.c, oh, ow];
        if (isMax) pools.maxPool({ ...geom, x: xt.data as Int8Like, y });
        else
          pools.avgPool({
            ...geom,
            x: xt.data as Int8Like,
            xZeroPoint: x.zp,
            requant: rq,
            countIncludePad: ctx.attrs.int('count_include_pad', 0) === 1,
            y,
          });
      }
      if (table) {
        const t = values.out8(yName, signed, y.length);
        k.backend.lut({ x: y, table, y: t });
        y = t;
      }
      values.set(yName, new Tensor(qType(o.out), y, dims));
    },
    { pure: !wide },
  );
  const kname = { MaxPool: 'maxPool', AveragePool: 'avgPool', GlobalMaxPool: 'globalMaxPool', GlobalAveragePool: 'globalAvgPool' }[
    node.opType
  ]!;
  lc.record(node, { execution: 'integer', kernel: kname + (table ? ' + lut' : '') + (wide ? ' (16-bit, reference)' : '') });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
