// Nearest-neighbour Resize on 8-bit data through index tables.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { resizeNearestIndex, type CoordinateTransform, type NearestMode } from '../../../kernels/int8/qlayout-ref.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { LowerContext, sameQ8 } from './context.js';

export function qdqResize(lc: LowerContext, node: Node): string | undefined {
  const ctx = lc.ctx(node);
  if (ctx.attrs.string('mode', 'nearest') !== 'nearest') return `Resize mode '${ctx.attrs.string('mode', 'nearest')}' (only nearest runs in integer)`;
  const x = lc.act(node.inputs[0]!);
  if (typeof x === 'string') return x;
  for (let i = 1; i < node.inputs.length; i++) {
    const v = node.inputs[i];
    if (v && !lc.consts.has(v)) return `input '${v}' is not constant`;
  }
  if (ctx.opset >= 18 && (ctx.attrs.ints('axes') || ctx.attrs.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch')) return `Resize with axes or keep_aspect_ratio_policy`;
  const o = lc.outQ(node.outputs[0]!, false);
  if (typeof o === 'string') return o;
  if (o.out.signed !== x.signed) return `input and output types differ`;
  const coord = ctx.attrs.string('coordinate_transformation_mode', 'half_pixel') as CoordinateTransform;
  if (!['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'].includes(coord)) return `coordinate_transformation_mode '${coord}'`;
  const nearest = ctx.attrs.string('nearest_mode', 'round_prefer_floor') as NearestMode;
  const table = sameQ8(x, o.out) ? undefined : lc.table(node, x, o.out);
  const scalesIn = ctx.opset >= 11 ? node.inputs[2] : node.inputs[1];
  const sizesIn = ctx.opset >= 11 ? node.inputs[3] : undefined;
  const scales = scalesIn ? lc.consts.get(scalesIn)?.toNumbers() : undefined;
  const sizes = sizesIn ? lc.consts.get(sizesIn)?.toNumbers() : undefined;
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  lc.push(node, [x.src], [yName], (values) => {
    const xt = values.get(x.src)!;
    const r = xt.rank;
    let outDims: number[];
    let sc: number[];
    if (sizes && sizes.length === r) {
      outDims = sizes;
      sc = sizes.map((s, i) => s / xt.dims[i]!);
    } else if (scales && scales.length === r) {
      sc = scales.map((s) => Math.fround(s));
      outDims = xt.dims.map((d, i) => Math.floor(d * sc[i]!));
    } else throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: scales or sizes must have one entry per input axis (${r})`);
    if (r !== 4 && r !== 3) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: integer Resize needs a 3-D or 4-D input`);
    if (outDims[0] !== xt.dims[0] || outDims[1] !== xt.dims[1]) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: integer Resize scales only the spatial axes`);
    const H = r === 4 ? xt.dims[2]! : 1, W = xt.dims[r - 1]!, OH = r === 4 ? outDims[2]! : 1, OW = outDims[r - 1]!;
    const yIndex = r === 4 ? resizeNearestIndex(H, OH, coord, nearest, sc[2]) : new Int32Array(1);
    const xIndex = resizeNearestIndex(W, OW, coord, nearest, sc[r - 1]);
    const nc = xt.dims[0]! * xt.dims[1]!;
    let y: Int8Like = table ? (signed ? new Int8Array(nc * OH * OW) : new Uint8Array(nc * OH * OW)) : values.out8(yName, signed, nc * OH * OW);
    k.backend.resizeNearest({ x: xt.data as Int8Like, nc, inH: H, inW: W, outH: OH, outW: OW, yIndex, xIndex, y });
    if (table) {
      const t = values.out8(yName, signed, y.length);
      k.backend.lut({ x: y, table, y: t });
      y = t;
    }
    values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, outDims));
  });
  lc.record(node, { execution: 'integer', kernel: 'resizeNearest' + (table ? ' + lut' : '') });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
