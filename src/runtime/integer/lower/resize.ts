// Resize on 8-bit data: nearest through index tables, linear (bilinear) with 11-bit integer weights
// (opq_qresize_linear): taps from onnxruntime's float32 coordinates, once per input shape, then an
// exact int32 interpolation requantized once with M = Sx / (Sy * 2^22).
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import {
  resizeLinearTaps,
  resizeNearestIndex,
  resizeNearestRef,
  RESIZE_ONE,
  type CoordinateTransform,
  type NearestMode,
} from '../../../kernels/int8/qlayout-ref.js';
import { Tensor } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, qType, sameQ8, type Values } from './context.js';

export function qdqResize(lc: LowerContext, node: Node): string | undefined {
  const ctx = lc.ctx(node);
  const mode = ctx.attrs.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') return `Resize mode '${mode}' (nearest and linear run in integer)`;
  const x = lc.act(node.inputs[0]!, true);
  if (typeof x === 'string') return x;
  const params = resizeInputs(lc, node);
  if (typeof params === 'string') return params;
  if (params.constScales && (params.constScales[0] !== 1 || params.constScales[1] !== 1))
    return `scales [${params.constScales.join(', ')}] resize the batch or channel axis (integer Resize scales spatial axes only)`;
  if (ctx.opset >= 18 && (ctx.attrs.ints('axes') || ctx.attrs.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch'))
    return `Resize with axes or keep_aspect_ratio_policy`;
  const o = lc.outQ(node.outputs[0]!, false, true);
  if (typeof o === 'string') return o;
  if (o.out.signed !== x.signed || o.out.bits !== x.bits) return `input and output types differ`;
  // 16-bit (A16W8): nearest only, one quantization in and out; the reference gather on every backend.
  const wide = x.bits === 16;
  if (wide && (mode !== 'nearest' || !sameQ8(x, o.out))) return `16-bit Resize other than nearest with one quantization`;
  const coord = ctx.attrs.string('coordinate_transformation_mode', 'half_pixel') as CoordinateTransform;
  if (
    ![
      'half_pixel',
      'asymmetric',
      'align_corners',
      'pytorch_half_pixel',
      'tf_half_pixel_for_nn',
      ...(mode === 'linear' ? ['half_pixel_symmetric'] : []),
    ].includes(coord)
  )
    return `coordinate_transformation_mode '${coord}'`;
  if (mode === 'linear') return lowerLinear(lc, node, x, o, coord, params);
  const nearest = ctx.attrs.string('nearest_mode', 'round_prefer_floor') as NearestMode;
  const table = sameQ8(x, o.out) ? undefined : lc.table(node, x, o.out);
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  lc.push(
    node,
    [x.src, ...params.inputs],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      const { scales, sizes } = params.read(values);
      const r = xt.rank;
      // Scales as float32, sizes / dims in float32 (onnxruntime's arithmetic); the output size checked.
      const { outDims, sc } = resizeGeometry(node, xt.dims, scales, sizes);
      const H = r === 4 ? xt.dims[2]! : 1,
        W = xt.dims[r - 1]!,
        OH = r === 4 ? outDims[2]! : 1,
        OW = outDims[r - 1]!;
      const yIndex = r === 4 ? resizeNearestIndex(H, OH, coord, nearest, sc[2]) : new Int32Array(1);
      const xIndex = resizeNearestIndex(W, OW, coord, nearest, sc[r - 1]);
      const nc = xt.dims[0]! * xt.dims[1]!;
      let y: Int8Like = table
        ? signed
          ? new Int8Array(nc * OH * OW)
          : new Uint8Array(nc * OH * OW)
        : (values.outQ(yName, o.out, nc * OH * OW) as Int8Like);
      const args = { x: xt.data as Int8Like, nc, inH: H, inW: W, outH: OH, outW: OW, yIndex, xIndex, y };
      if (wide) resizeNearestRef(args);
      else k.backend.resizeNearest(args);
      if (table) {
        const t = values.out8(yName, signed, y.length);
        k.backend.lut({ x: y, table, y: t });
        y = t;
      }
      values.set(yName, new Tensor(qType(o.out), y, outDims));
    },
    { pure: !wide },
  );
  lc.record(node, { execution: 'integer', kernel: `resizeNearest${table ? ' + lut' : ''}${wide ? ' (16-bit, reference)' : ''}` });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}

type ActIn = Exclude<ReturnType<LowerContext['act']>, string>;
type ResizeInputs = { inputs: string[]; constScales?: number[]; read(values: Values): { scales?: number[]; sizes?: number[] } };

/**
 * The scales and sizes inputs: constants, or shape values (Shape arithmetic, e.g. sizes taken from
 * another tensor's dims) read at run time. roi matters only to tf_crop_and_resize, which does not
 * lower, so it may be anything.
 */
function resizeInputs(lc: LowerContext, node: Node): ResizeInputs | string {
  const opset = lc.ctx(node).opset;
  const names = opset >= 11 ? [node.inputs[2], node.inputs[3]] : [node.inputs[1], undefined];
  const inputs: string[] = [];
  for (const v of names) {
    if (!v) continue;
    if (lc.shapeValues.has(v)) inputs.push(v);
    else if (!lc.consts.has(v)) return `input '${v}' is neither constant nor computed from shapes`;
  }
  // Constants are read now (the session drops constants no step lists); shape values at run time.
  const fixed = names.map((v) => (v && lc.consts.has(v) ? nonEmpty(lc.consts.get(v)!.toNumbers()) : undefined));
  const get = (values: Values, i: number): number[] | undefined => {
    const v = names[i];
    if (!v || fixed[i]) return fixed[i];
    const t = values.get(v);
    return t ? nonEmpty(t.toNumbers()) : undefined;
  };
  return { inputs, constScales: fixed[1] ? undefined : fixed[0], read: (values) => ({ scales: get(values, 0), sizes: get(values, 1) }) };
}

function nonEmpty(a: number[]): number[] | undefined {
  return a.length ? a : undefined;
}
type OutQ = Exclude<ReturnType<LowerContext['outQ']>, string>;

/** Output dims and float32 per-axis scales from the constant scales or sizes input, checked. */
function resizeGeometry(
  node: Node,
  dims: readonly number[],
  scales: number[] | undefined,
  sizes: number[] | undefined,
): { outDims: number[]; sc: number[] } {
  const r = dims.length;
  let outDims: number[], sc: number[];
  if (sizes && sizes.length === r) {
    outDims = sizes;
    sc = sizes.map((s, i) => Math.fround(s) / Math.fround(dims[i]!));
  } else if (scales && scales.length === r) {
    sc = scales.map((s) => Math.fround(s));
    outDims = dims.map((d, i) => Math.floor(d * sc[i]!));
  } else throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: scales or sizes must have one entry per input axis (${r})`);
  if (r !== 4 && r !== 3) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: integer Resize needs a 3-D or 4-D input`);
  if (outDims[0] !== dims[0] || outDims[1] !== dims[1])
    throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: integer Resize scales only the spatial axes`);
  for (let i = 2; i < r; i++) {
    if (!Number.isInteger(outDims[i]) || outDims[i]! < 1 || outDims[i]! > 2 ** 28 || !(sc[i]! > 0) || !Number.isFinite(sc[i]!)) {
      throw new OnnxPtqError(
        'SHAPE_MISMATCH',
        `${nodeLabel(node)}: output size ${outDims[i]} (scale ${sc[i]}) of axis ${i} is not a positive size up to 2^28`,
      );
    }
  }
  if (outDims.reduce((a, b) => a * b, 1) > 2 ** 31 - 1)
    throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: the output [${outDims.join(', ')}] has more than 2^31 - 1 elements`);
  return { outDims, sc };
}

/**
 * Linear Resize. Error against float (what onnxruntime computes on the dequantized values): the
 * 11-bit weights are within 2^-12 of onnxruntime's float32 weights, so the interpolated value is
 * within 2 * 2^-12 * 255 < 0.13 input steps of the float one before the single rounding; an output
 * that lands near a rounding boundary can therefore differ by 1 LSB (never more).
 */
function lowerLinear(
  lc: LowerContext,
  node: Node,
  x: ActIn,
  o: OutQ,
  coord: CoordinateTransform,
  params: ResizeInputs,
): string | undefined {
  const ctx = lc.ctx(node);
  if (ctx.opset >= 18 && ctx.attrs.int('antialias', 0) !== 0) return `linear Resize with antialias`;
  // acc = sum of weight products (scale Sx / 2^22) requantized once: M = Sx / (Sy * 2^22).
  const ratio =
    lc.opts.mode === 'float'
      ? Math.fround(Math.fround(x.scale) / Math.fround(o.out.scale))
      : Math.fround(x.scale) / Math.fround(o.out.scale);
  const M = ratio / (RESIZE_ONE * RESIZE_ONE);
  if (!(M >= 2 ** -31)) return `input/output scale ratio ${ratio} is too small for the 22-bit interpolation accumulator`;
  const rq = lc.requant([M], o.out, o.min, o.max);
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  // Taps depend on the input shape and the scales/sizes only: kept for the last ones seen.
  let cache: { key: string; yTaps: Int32Array; xTaps: Int32Array; outDims: number[] } | undefined;
  lc.push(
    node,
    [x.src, ...params.inputs],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      const { scales, sizes } = params.read(values);
      const key = `${xt.dims.join(',')}|${scales?.join(',')}|${sizes?.join(',')}`;
      if (!cache || cache.key !== key) {
        const { outDims, sc } = resizeGeometry(node, xt.dims, scales, sizes);
        const r = xt.rank;
        const yTaps = r === 4 ? resizeLinearTaps(xt.dims[2]!, outDims[2]!, coord, sc[2]) : new Int32Array(3);
        const xTaps = resizeLinearTaps(xt.dims[r - 1]!, outDims[r - 1]!, coord, sc[r - 1]);
        cache = { key, yTaps, xTaps, outDims };
      }
      const { outDims, yTaps, xTaps } = cache;
      const r = xt.rank;
      const H = r === 4 ? xt.dims[2]! : 1,
        W = xt.dims[r - 1]!,
        OH = r === 4 ? outDims[2]! : 1,
        OW = outDims[r - 1]!;
      const nc = xt.dims[0]! * xt.dims[1]!;
      const y = values.out8(yName, signed, nc * OH * OW);
      k.backend.resizeLinear({
        x: xt.data as Int8Like,
        nc,
        inH: H,
        inW: W,
        outH: OH,
        outW: OW,
        yTaps,
        xTaps,
        xZeroPoint: x.zp,
        requant: rq,
        y,
      });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, outDims));
    },
    { pure: true },
  );
  lc.record(node, { execution: 'integer', kernel: 'resizeLinear' });
  lc.fuse(node, [o.q], `output of ${node.opType}`);
  return undefined;
}
