// A16W8: Conv and Gemm/MatMul that read or write 16-bit activations (int16/uint16 QDQ,
// the quantizer's activationBits 16 / activation16). Convolutions and matrix products run on the
// backend's qconv16 kernel (exact int64 accumulation, src/backends/kernels-qconv16.ts); a Gemm is a
// 1x1 convolution with one "image" per row. Either side may be 8-bit (mixed precision), so an 8-bit
// layer can feed a 16-bit one and back. The other op families take 16-bit data in their own files
// (pools, data movement, Add/Mul, Concat, unary tables, Resize nearest).
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import type { RequantParams } from '../../../quant/requant.js';
import { Tensor } from '../../../tensor.js';
import type { WideLike } from '../../../backends/kernels-qconv16.js';
import { checkInputType, type LowerContext, qType, rankOf } from './context.js';
import { convShape } from './conv.js';
import { gemmC } from './gemm.js';

type Shape = ReturnType<typeof convShape>;

/** Conv with a 16-bit input or output. */
export function wideConv(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!, true);
  if (typeof x === 'string') return x;
  const w = lc.weights(node.inputs[1]!, 0, rankOf(lc.consts.get(lc.dq(node.inputs[1]!)?.src ?? '')) ?? 4);
  if (typeof w === 'string') return w;
  if (w.dims.length !== 4 && w.dims.length !== 3) return `only 1-D and 2-D convolutions run in integer`;
  const o = lc.outQ(node.outputs[0]!, true, true);
  if (typeof o === 'string') return o;
  if (o.cap) return `a per-channel Min bound on a 16-bit convolution`;
  const b = lc.bias(node, node.inputs[2], x.scale, w.scale, w.dims[0]!);
  if (typeof b === 'string') return b;
  const rq = lc.requant(lc.multipliers(x.scale, w.scale, o.out.scale), o.out, o.min, o.max);
  const ctx = lc.ctx(node);
  const yName = o.q.outputs[0]!;
  const be = lc.opts.kernels.backend;
  let cached: { key: string; shape: Shape; outH: number; outW: number } | undefined;
  lc.push(
    node,
    [x.src],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      checkInputType(node, xt, x);
      if (xt.rank !== w.dims.length)
        throw new OnnxPtqError(
          'SHAPE_MISMATCH',
          `${nodeLabel(node)}: input dims [${xt.dims.join(', ')}] do not match weights [${w.dims.join(', ')}]`,
        );
      const key = xt.dims.join('x');
      if (cached?.key !== key) {
        const shape = convShape(ctx, xt.dims, w.dims);
        cached = { key, shape, outH: outSize(shape, 0), outW: outSize(shape, 1) };
      }
      const { shape, outH, outW } = cached;
      const y = values.outQ(yName, o.out, shape.batch * shape.outChannels * outH * outW);
      run(be, shape, xt, x.zp, w.w, w.zp, b.bias, rq, y);
      const dims = xt.rank === 3 ? [shape.batch, shape.outChannels, outW] : [shape.batch, shape.outChannels, outH, outW];
      values.set(yName, new Tensor(qType(o.out), y, dims));
    },
    { pure: true },
  );
  lc.record(node, {
    execution: 'integer',
    kernel: 'qconv16',
    reason: [`${x.bits ?? 8}-bit in, ${o.out.bits ?? 8}-bit out`, o.act ? `fused ${o.act.opType}` : '', b.note ?? '']
      .filter(Boolean)
      .join('; '),
  });
  lc.fuse(node, [o.act, o.q], `output of ${node.opType}`);
  return undefined;
}

/** Gemm (transA 0; alpha folded into the multiplier, beta into the bias) or MatMul by constant weights, 16-bit on a side. */
export function wideGemm(lc: LowerContext, node: Node): string | undefined {
  const ctx = lc.ctx(node);
  const gemm = node.opType === 'Gemm';
  if (gemm && ctx.attrs.int('transA', 0) !== 0) return `Gemm with transA`;
  const alpha = gemm ? ctx.attrs.float('alpha', 1) : 1,
    beta = gemm ? ctx.attrs.float('beta', 1) : 1;
  if (beta !== 1 && node.inputs[2]) return `Gemm with beta other than 1`;
  // alpha folds into the (positive) multiplier; a negative or zero alpha has no such form.
  if (!(alpha > 0) || !Number.isFinite(alpha)) return `Gemm with alpha ${alpha}`;
  const a = lc.act(node.inputs[0]!, true);
  if (typeof a === 'string') return a;
  const transB = gemm && ctx.attrs.int('transB', 0) === 1;
  const w = lc.weights(node.inputs[1]!, transB ? 0 : 1, 2);
  if (typeof w === 'string') return w;
  const [K, N] = transB ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
  const o = lc.outQ(node.outputs[0]!, true, true);
  if (typeof o === 'string') return o;
  if (o.cap) return `a per-column Min bound on a 16-bit matrix product`;
  const biasIn = gemm ? node.inputs[2] : undefined;
  const cWhy = gemmC(lc, biasIn, N);
  if (cWhy) return cWhy;
  if (alpha !== 1 && biasIn && lc.dq(biasIn)) return `Gemm with alpha other than 1 and a quantized C`;
  const sw = alpha === 1 ? w.scale : w.scale.map((s) => Math.fround(s * alpha));
  const b = lc.bias(node, biasIn, a.scale, sw, N);
  if (typeof b === 'string') return b;
  // W as [N, K]: the 1x1 convolution's output-channel-major weights (transposed once for MatMul).
  let W = w.w;
  if (!transB) {
    W = new Int8Array(K * N);
    for (let kk = 0; kk < K; kk++) for (let n = 0; n < N; n++) W[n * K + kk] = w.w[kk * N + n]!;
  }
  const rq = lc.requant(lc.multipliers(a.scale, sw, o.out.scale), o.out, o.min, o.max);
  const yName = o.q.outputs[0]!;
  const be = lc.opts.kernels.backend;
  lc.push(
    node,
    [a.src],
    [yName],
    (values) => {
      const xt = values.get(a.src)!;
      checkInputType(node, xt, a);
      if (xt.rank < 1 || xt.dims[xt.rank - 1] !== K)
        throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input has dims [${xt.dims.join(', ')}], its last axis must be ${K}`);
      if (gemm && xt.rank !== 2)
        throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: Gemm input must be 2-D, got [${xt.dims.join(', ')}]`);
      const M = xt.size / K;
      const y = values.outQ(yName, o.out, M * N);
      const shape: Shape = {
        batch: M,
        inChannels: K,
        inHeight: 1,
        inWidth: 1,
        outChannels: N,
        kernelH: 1,
        kernelW: 1,
        groups: 1,
        strides: [1, 1],
        dilations: [1, 1],
        pads: [0, 0, 0, 0],
      };
      if (M > 0) run(be, shape, xt, a.zp, W, w.zp, b.bias, rq, y);
      values.set(yName, new Tensor(qType(o.out), y, [...xt.dims.slice(0, -1), N]));
    },
    { pure: true },
  );
  lc.record(node, {
    execution: 'integer',
    kernel: 'qconv16',
    reason: [
      `${a.bits ?? 8}-bit in, ${o.out.bits ?? 8}-bit out, as a 1x1 convolution`,
      o.act ? `fused ${o.act.opType}` : '',
      transB ? '' : 'weights transposed at lowering',
      alpha !== 1 ? 'alpha folded into the multiplier' : '',
      b.note ?? '',
    ]
      .filter(Boolean)
      .join('; '),
  });
  lc.fuse(node, [o.act, o.q], `output of ${node.opType}`);
  return undefined;
}

function outSize(s: Shape, axis: 0 | 1): number {
  const inp = axis === 0 ? s.inHeight : s.inWidth,
    k = axis === 0 ? s.kernelH : s.kernelW;
  const pad = axis === 0 ? s.pads[0]! + s.pads[2]! : s.pads[1]! + s.pads[3]!;
  const out = Math.floor((inp + pad - ((k - 1) * s.dilations[axis]! + 1)) / s.strides[axis]!) + 1;
  if (!(out >= 1)) throw new OnnxPtqError('SHAPE_MISMATCH', `convolution output ${axis === 0 ? 'height' : 'width'} would be ${out}`);
  return out;
}

function run(
  be: LowerContext['opts']['kernels']['backend'],
  shape: Shape,
  x: Tensor,
  xZeroPoint: number,
  w: Int8Array,
  wZeroPoint: Int32Array,
  bias: Int32Array | null,
  requant: RequantParams,
  y: WideLike,
): void {
  be.qconv16({ shape, x: x.data as WideLike, xZeroPoint, w, wZeroPoint, bias, requant, y });
}
