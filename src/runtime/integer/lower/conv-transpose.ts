// ConvTranspose on 8-bit activations and constant 8-bit weights ([Cin, Cout/group, k...], per-tensor
// or per-channel along axis 1): one integer ConvTranspose step (int32 column GEMM + col2im add, bias,
// requantization per output channel) with the fused Relu/Clip. 1-D runs as 2-D with height 1;
// auto_pad and output_shape resolve to explicit pads and output_padding as the float op does.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import type { OpContext } from '../../../ops/types.js';
import { convTransposeParams } from '../../../ops/conv.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { convTransposeFields, convTransposeGeom, type ConvTranspose2dShape } from '../../../backends/kernels-convtranspose.js';
import type { WideLike } from '../../../backends/kernels-qconv16.js';
import { checkInputType, type LowerContext, capChannels, qRange, qType, rankOf } from './context.js';

/** Static checks of the attributes against ONNX's rules: a bad model is an error, not a float fallback. */
function checkAttributes(lc: LowerContext, node: Node, ctx: OpContext, wDims: readonly number[], groups: number): void {
  const s = wDims.length - 2;
  const kernel = wDims.slice(2);
  const strides = ctx.attrs.ints('strides') ?? new Array<number>(s).fill(1);
  const dilations = ctx.attrs.ints('dilations') ?? new Array<number>(s).fill(1);
  const pads = ctx.attrs.ints('pads') ?? new Array<number>(2 * s).fill(0);
  const outPad = ctx.attrs.ints('output_padding') ?? new Array<number>(s).fill(0);
  const ks = ctx.attrs.ints('kernel_shape');
  if (!(groups >= 1)) lc.bad(node, `group must be >= 1, got ${groups}`);
  if (wDims[0]! % groups !== 0)
    lc.bad(node, `weights [${wDims.join(', ')}] have ${wDims[0]} input channels, not a multiple of group ${groups}`);
  if (ks && (ks.length !== s || ks.some((d, i) => d !== kernel[i])))
    lc.bad(node, `kernel_shape [${ks.join(', ')}] does not match the weights [${wDims.join(', ')}]`);
  if (strides.length !== s || strides.some((v) => !(v >= 1))) lc.bad(node, `strides [${strides.join(', ')}] must be ${s} values >= 1`);
  if (dilations.length !== s || dilations.some((v) => !(v >= 1)))
    lc.bad(node, `dilations [${dilations.join(', ')}] must be ${s} values >= 1`);
  if (pads.length !== 2 * s || pads.some((v) => v < 0)) lc.bad(node, `pads [${pads.join(', ')}] must be ${2 * s} values >= 0`);
  if (outPad.length !== s || outPad.some((v, i) => v < 0 || (v >= strides[i]! && v >= dilations[i]!)))
    lc.bad(node, `output_padding [${outPad.join(', ')}] must be >= 0 and smaller than the stride or the dilation`);
  const reduction = (wDims[0]! / groups) * kernel.reduce((a, b) => a * b, 1);
  if (reduction > 33025)
    lc.bad(node, `input channels per group x kernel = ${reduction} passes 33025: int32 accumulation of 8-bit products would overflow`);
  const elems = wDims.reduce((a, b) => a * b, 1);
  if (elems > 2 ** 31 - 1 || wDims.some((d) => d > 2 ** 28)) lc.bad(node, `weights [${wDims.join(', ')}] are too large`);
}

/** Per-channel parameters along axis 1 (Cout/group entries) expanded to the Cout output channels. */
function perOutputChannel<T extends Float32Array | Int32Array>(v: T, coutG: number, groups: number): T {
  if (v.length === 1 || groups === 1) return v;
  const out = new (v.constructor as { new (n: number): T })(coutG * groups);
  for (let g = 0; g < groups; g++) out.set(v, g * coutG);
  return out;
}

export function qdqConvTranspose(lc: LowerContext, node: Node): string | undefined {
  const x = lc.act(node.inputs[0]!, true);
  if (typeof x === 'string') return x;
  const wRank = rankOf(lc.consts.get(lc.dq(node.inputs[1]!)?.src ?? '')) ?? 4;
  if (wRank !== 4 && wRank !== 3) return `only 1-D and 2-D ConvTranspose run in integer`;
  const w = lc.weights(node.inputs[1]!, 1, wRank);
  if (typeof w === 'string') return w;
  const ctx = lc.ctx(node);
  const groups = ctx.attrs.int('group', 1);
  checkAttributes(lc, node, ctx, w.dims, groups);
  const coutG = w.dims[1]!,
    cout = coutG * groups;
  if (w.scale.length !== 1 && w.scale.length !== coutG) lc.bad(node, `${w.scale.length} weight scales for ${coutG} channels on axis 1`);
  const xShape =
    lc.graph.valueInfo.get(node.inputs[0]!)?.shape ?? lc.graph.inputs.find((i) => i.name === lc.dq(node.inputs[0]!)?.src)?.shape;
  const xc = xShape?.[1];
  if (typeof xc === 'number' && xc !== w.dims[0])
    lc.bad(node, `input has ${xc} channels; weights [${w.dims.join(', ')}] need ${w.dims[0]}`);
  const o = lc.outQ(node.outputs[0]!, true, true);
  if (typeof o === 'string') return o;
  // 16-bit in or out (A16W8): the qconvtranspose16 kernels, exact int64 accumulation.
  const wide = x.bits === 16 || o.out.bits === 16;
  if (wide && o.cap) return `a per-channel Min bound on a 16-bit ConvTranspose`;
  if (wide) {
    const xr = Math.max(Math.abs(qRange(x).lo - x.zp), Math.abs(qRange(x).hi - x.zp));
    const K = (w.dims[0]! / groups) * w.dims.slice(2).reduce((a, d) => a * d, 1);
    if (K * xr * 255 >= 2 ** 46) return `16-bit ConvTranspose whose accumulation could pass 2^46`;
  }
  if (o.cap) {
    const r = w.dims.length,
      d = o.cap.dims;
    const padded = [...new Array<number>(Math.max(0, r - d.length)).fill(1), ...d];
    if (d.length > r || padded[1] !== cout || padded.some((v, i) => i !== 1 && v !== 1))
      return `Min bound of shape [${d.join(', ')}] is not per output channel (${cout})`;
  }
  const sw = perOutputChannel(w.scale, coutG, groups);
  const wZp = perOutputChannel(w.zp, coutG, groups);
  const b = lc.bias(node, node.inputs[2], x.scale, sw, cout);
  if (typeof b === 'string') return b;
  const rq = lc.requant(lc.multipliers(x.scale, sw, o.out.scale), o.out, o.min, o.max);
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  const cap = o.cap?.bounds;
  const shapes = new Map<string, { shape: ConvTranspose2dShape; dims: number[]; size: number }>();
  const geometry = (xt: Tensor) => {
    const key = xt.dims.join('x');
    let g = shapes.get(key);
    if (g) return g;
    if (xt.rank !== w.dims.length)
      throw new OnnxPtqError(
        'SHAPE_MISMATCH',
        `${nodeLabel(node)}: input dims [${xt.dims.join(', ')}] do not match weights [${w.dims.join(', ')}]`,
      );
    if (xt.dims[1] !== w.dims[0])
      throw new OnnxPtqError(
        'SHAPE_MISMATCH',
        `${nodeLabel(node)}: input has ${xt.dims[1]} channels; weights [${w.dims.join(', ')}] need ${w.dims[0]}`,
      );
    const oneD = xt.rank === 3;
    const kernel = w.dims.slice(2) as number[];
    const p = convTransposeParams(ctx, xt.dims.slice(2) as number[], kernel);
    const s = kernel.length;
    const outPad = [...(ctx.attrs.ints('output_padding') ?? new Array<number>(s).fill(0))];
    // An output_shape past the full extent is a negative end pad: extra output rows at the end,
    // which is what output_padding adds.
    for (let i = 0; i < s; i++) if (p.pads[i + s]! < 0) [outPad[i], p.pads[i + s]] = [outPad[i]! - p.pads[i + s]!, 0];
    if (p.pads.some((v) => v < 0))
      throw new OnnxPtqError('INVALID_MODEL', `${nodeLabel(node)}: auto_pad gives negative pads [${p.pads.join(', ')}]`);
    // The kernel's output size is full - pads; output_shape/auto_pad already folded into the pads.
    const shape: ConvTranspose2dShape = {
      batch: xt.dims[0]!,
      inChannels: xt.dims[1]!,
      inHeight: oneD ? 1 : xt.dims[2]!,
      inWidth: xt.dims[xt.rank - 1]!,
      outChannels: cout,
      kernelH: oneD ? 1 : kernel[0]!,
      kernelW: kernel[s - 1]!,
      groups,
      strides: oneD ? [1, p.strides[0]!] : p.strides,
      dilations: oneD ? [1, p.dilations[0]!] : p.dilations,
      pads: oneD ? [0, p.pads[0]!, 0, p.pads[1]!] : p.pads,
      outputPadding: oneD ? [0, outPad[0]!] : outPad,
    };
    let geom: ReturnType<typeof convTransposeGeom>;
    try {
      geom = convTransposeGeom(convTransposeFields(shape));
    } catch (e) {
      throw new OnnxPtqError('INVALID_MODEL', `${nodeLabel(node)}: ${(e as Error).message}`, { cause: e });
    }
    if (geom.oh !== (oneD ? 1 : p.out[0]) || geom.ow !== p.out[s - 1])
      throw new OnnxPtqError(
        'INTERNAL',
        `${nodeLabel(node)}: integer output size ${geom.oh}x${geom.ow} differs from [${p.out.join(', ')}]`,
      );
    const dims = [xt.dims[0]!, cout, ...p.out];
    g = { shape, dims, size: geom.n * geom.cout * geom.oh * geom.ow };
    if (shapes.size > 8) shapes.clear();
    shapes.set(key, g);
    return g;
  };
  lc.push(
    node,
    [x.src],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      checkInputType(node, xt, x);
      const g = geometry(xt);
      const y = values.outQ(yName, o.out, g.size) as Int8Like;
      if (wide) {
        k.backend.qconvTranspose16({
          shape: g.shape,
          x: xt.data as WideLike,
          xZeroPoint: x.zp,
          w: w.w,
          wZeroPoint: wZp,
          bias: b.bias,
          requant: rq,
          y,
        });
        values.set(yName, new Tensor(qType(o.out), y, g.dims));
        return;
      }
      try {
        k.backend.qconvTranspose2d({
          shape: g.shape,
          x: xt.data as Int8Like,
          xZeroPoint: x.zp,
          w: w.w,
          wZeroPoint: wZp,
          bias: b.bias,
          requant: rq,
          y,
        });
      } catch (e) {
        if (e instanceof OnnxPtqError) throw new OnnxPtqError(e.code, `${nodeLabel(node)}: ${e.message}`, { cause: e });
        throw e;
      }
      if (cap) capChannels(y, cap, g.dims[0]!, g.size / (g.dims[0]! * cap.length));
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, g.dims));
    },
    { pure: !cap },
  );
  const fused = [
    wide ? `${x.bits ?? 8}-bit in, ${o.out.bits ?? 8}-bit out` : '',
    o.act ? `fused ${o.act.opType}` : '',
    o.cap ? 'fused Min as a per-channel clamp' : '',
  ];
  lc.record(node, {
    execution: 'integer',
    kernel: wide ? 'qconvTranspose16' : 'qconvTranspose2d',
    reason: [...fused, b.note ?? ''].filter(Boolean).join('; ') || undefined,
  });
  lc.fuse(node, [o.act, o.capNode, o.q], `output of ${node.opType}`);
  return undefined;
}
