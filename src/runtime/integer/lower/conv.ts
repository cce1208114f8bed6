// Conv on 8-bit activations and constant 8-bit weights: one packed integer convolution with the
// bias, the fused Relu/Clip and the output requantization.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import type { OpContext } from '../../../ops/types.js';
import { windowParams } from '../../../ops/conv-util.js';
import type { RequantParams } from '../../../quant/requant.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import type { IntKernels, PreparedConv } from '../kernels.js';
import { type LowerContext, capChannels, rankOf } from './context.js';

export function qdqConv(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!);
  if (typeof x === 'string') return x;
  const w = lc.weights(node.inputs[1]!, 0, rankOf(lc.consts.get(lc.dq(node.inputs[1]!)?.src ?? '')) ?? 4);
  if (typeof w === 'string') return w;
  if (w.dims.length !== 4 && w.dims.length !== 3) return `only 1-D and 2-D convolutions run in integer`;
  const o = lc.outQ(node.outputs[0]!, true);
  if (typeof o === 'string') return o;
  const cout = w.dims[0]!;
  // The bound must broadcast along the output channels only: [C, 1, 1] or [1, C, 1, 1] (NCHW).
  if (o.cap) {
    const r = w.dims.length,
      d = o.cap.dims;
    const padded = [...new Array<number>(Math.max(0, r - d.length)).fill(1), ...d];
    if (d.length > r || padded[1] !== cout || padded.some((v, i) => i !== 1 && v !== 1))
      return `Min bound of shape [${d.join(', ')}] is not per output channel (${cout})`;
  }
  const b = lc.bias(node, node.inputs[2], x.scale, w.scale, cout);
  if (typeof b === 'string') return b;
  const rq = lc.requant(lc.multipliers(x.scale, w.scale, o.out.scale), o.out, o.min, o.max);
  const ctx = lc.ctx(node);
  const k = lc.opts.kernels;
  const cache = new Map<string, PreparedConv>();
  const yName = o.q.outputs[0]!;
  convStep(lc, node, ctx, x.src, x.zp, w.w, w.zp, w.dims, b.bias, rq, o.out.signed, yName, cache, k, o.cap?.bounds);
  const fused = [o.act ? `fused ${o.act.opType}` : '', o.cap ? 'fused Min as a per-channel clamp' : ''];
  lc.record(node, { execution: 'integer', kernel: k.convKernel, reason: [...fused, b.note ?? ''].filter(Boolean).join('; ') || undefined });
  lc.fuse(node, [o.act, o.capNode, o.q], `output of ${node.opType}`);
  return undefined;
}

export function convStep(
  lc: LowerContext,
  node: Node,
  ctx: OpContext,
  xName: string,
  xZp: number,
  w: Int8Array,
  wZp: Int32Array,
  wDims: readonly number[],
  bias: Int32Array | null,
  rq: RequantParams,
  signed: boolean,
  yName: string,
  cache: Map<string, PreparedConv>,
  k: IntKernels,
  cap?: Int32Array,
): void {
  lc.push(
    node,
    [xName],
    [yName],
    (values) => {
      const x = values.get(xName)!;
      const y = runConv(ctx, x, xZp, w, wZp, wDims, bias, rq, signed, cache, k, (n) => values.out8(yName, signed, n));
      if (cap) capChannels(y.data as Int8Like, cap, y.dims[0]!, y.size / (y.dims[0]! * cap.length));
      values.set(yName, y);
    },
    { pure: !cap },
  );
}

/** An integer conv (1-D as 2-D with height 1) with its geometry from the input's dims. */
export function runConv(
  ctx: OpContext,
  x: Tensor,
  xZp: number,
  w: Int8Array,
  wZp: Int32Array,
  wDims: readonly number[],
  bias: Int32Array | null,
  rq: RequantParams,
  signed: boolean,
  cache: Map<string, PreparedConv>,
  k: IntKernels,
  alloc: (n: number) => Int8Like,
  extraKey = '',
): Tensor {
  const node = ctx.node;
  if (x.dtype !== 'uint8' && x.dtype !== 'int8')
    throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input is ${x.dtype}, expected 8-bit`);
  if (x.rank !== wDims.length)
    throw new OnnxPtqError(
      'SHAPE_MISMATCH',
      `${nodeLabel(node)}: input dims [${x.dims.join(', ')}] do not match weights [${wDims.join(', ')}]`,
    );
  const key = x.dims.join('x') + extraKey;
  let p = cache.get(key);
  if (!p) {
    const shape = convShape(ctx, x.dims, wDims);
    if (bias && bias.length !== shape.outChannels)
      throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: bias has ${bias.length} entries, expected ${shape.outChannels}`);
    if (wZp.length !== 1 && wZp.length !== shape.outChannels)
      throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${wZp.length} weight zero points for ${shape.outChannels} channels`);
    if (rq.scale.length !== 1 && rq.scale.length !== shape.outChannels)
      throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${rq.scale.length} weight scales for ${shape.outChannels} channels`);
    p = k.prepareConv(shape, w, wZp, bias);
    if (cache.size > 8) cache.clear();
    cache.set(key, p);
  }
  const OH = p.outH,
    OW = p.outW;
  const y = alloc(p.shape.batch * p.shape.outChannels * OH * OW);
  k.conv(p, x.data as Int8Like, xZp, rq, y);
  const dims = x.rank === 3 ? [p.shape.batch, p.shape.outChannels, OW] : [p.shape.batch, p.shape.outChannels, OH, OW];
  return new Tensor(signed ? 'int8' : 'uint8', y, dims);
}

/** A Conv node's geometry (1-D as 2-D with height 1) from its input and weight dims, checked. */
export function convShape(ctx: OpContext, xDims: readonly number[], wDims: readonly number[]) {
  const node = ctx.node;
  const oneD = xDims.length === 3;
  if (xDims.length !== 4 && !oneD) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: only 1-D and 2-D integer convolution`);
  const groups = ctx.attrs.int('group', 1);
  const kernel = wDims.slice(2) as number[];
  const ks = ctx.attrs.ints('kernel_shape');
  if (ks?.some((d, i) => d !== kernel[i]))
    throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: kernel_shape [${ks.join(', ')}] does not match the weights`);
  const [N, C] = [xDims[0]!, xDims[1]!];
  if (C !== wDims[1]! * groups || wDims[0]! % groups !== 0)
    throw new OnnxPtqError(
      'SHAPE_MISMATCH',
      `${nodeLabel(node)}: input has ${C} channels; weights [${wDims.join(', ')}] with group ${groups} need ${wDims[1]! * groups}`,
    );
  const wp = windowParams(ctx, xDims.slice(2), kernel);
  return {
    batch: N,
    inChannels: C,
    inHeight: oneD ? 1 : xDims[2]!,
    inWidth: xDims[xDims.length - 1]!,
    outChannels: wDims[0]!,
    kernelH: oneD ? 1 : kernel[0]!,
    kernelW: kernel[kernel.length - 1]!,
    groups,
    strides: oneD ? [1, wp.strides[0]!] : wp.strides,
    dilations: oneD ? [1, wp.dilations[0]!] : wp.dilations,
    pads: oneD ? [0, wp.pads[0]!, 0, wp.pads[1]!] : wp.pads,
  };
}
