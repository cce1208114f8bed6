// Resize (opset 10..19; Upsample 7..9 maps onto it): nearest, linear and cubic, all coordinate
// transformation modes, antialias, exclude_outside, axes and keep_aspect_ratio_policy. N-D linear and
// cubic are tensor products, so the op runs as one 1-D resampling pass per resized axis.
import { Tensor, allocData, sizeOf } from '../tensor.js';
import { ints, isStatic, normAxis } from './util.js';
import { fail, need, unsupported, type OpContext, type OpImpl } from './types.js';

interface Plan {
  outDims: number[];
  scales: number[];
  roi?: number[];
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function plan(ctx: OpContext, inDims: readonly number[], inputs: (Tensor | undefined)[]): Plan | undefined {
  const r = inDims.length;
  const legacy = ctx.opset < 11 || ctx.node.opType === 'Upsample';
  let scalesIn: number[] | undefined;
  let sizesIn: number[] | undefined;
  let roi: number[] | undefined;
  if (ctx.node.opType === 'Upsample' && ctx.opset < 9) scalesIn = ctx.attrs.floats('scales');
  else if (legacy) {
    if (!inputs[1]) return undefined;
    scalesIn = [...(inputs[1].data as Float32Array)];
  } else {
    const rt = inputs[1];
    roi = rt?.size ? [...(rt.data as Float32Array)].map(Number) : undefined;
    const st = inputs[2];
    const zt = inputs[3];
    if (st?.size) scalesIn = [...(st.data as Float32Array)];
    if (zt?.size) sizesIn = ints(zt);
    if (ctx.node.inputs[2] && !st && !zt?.size) return undefined;
    if (ctx.node.inputs[3] && !zt && !scalesIn) return undefined;
  }
  need(ctx, !(scalesIn && sizesIn), 'only one of scales and sizes may be given');
  need(ctx, scalesIn || sizesIn, 'needs scales or sizes');
  const axesAttr = ctx.opset >= 18 ? ctx.attrs.ints('axes') : undefined;
  const axes = axesAttr ? axesAttr.map((a) => normAxis(ctx, a, r)) : [...Array(r).keys()];
  const scales = new Array<number>(r).fill(1);
  const outDims = [...inDims];
  if (scalesIn) {
    need(ctx, scalesIn.length === axes.length, `scales has ${scalesIn.length} values, expected ${axes.length}`);
    axes.forEach((a, i) => {
      scales[a] = scalesIn![i]!;
      need(ctx, scales[a]! > 0, 'scales must be positive');
      outDims[a] = Math.floor(inDims[a]! * scales[a]!);
    });
  } else {
    need(ctx, sizesIn!.length === axes.length, `sizes has ${sizesIn!.length} values, expected ${axes.length}`);
    const policy = ctx.attrs.string('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((a, i) => {
        outDims[a] = sizesIn![i]!;
        scales[a] = outDims[a]! / inDims[a]!;
      });
    } else {
      const ratios = axes.map((a, i) => sizesIn![i]! / inDims[a]!);
      const s =
        policy === 'not_larger'
          ? Math.min(...ratios)
          : policy === 'not_smaller'
            ? Math.max(...ratios)
            : fail(ctx, `unknown keep_aspect_ratio_policy '${policy}'`);
      axes.forEach((a) => {
        scales[a] = s;
        outDims[a] = roundHalfEven(s * inDims[a]!);
      });
    }
  }
  if (roi && axesAttr) {
    const full = [...new Array(r).fill(0), ...new Array(r).fill(1)];
    axes.forEach((a, i) => {
      full[a] = roi![i]!;
      full[a + r] = roi![i + axes.length]!;
    });
    roi = full;
  }
  return { outDims, scales, roi };
}

/** Source coordinate of output coordinate `x` on an axis. */
function sourceCoord(
  mode: string,
  x: number,
  scale: number,
  inLen: number,
  outLen: number,
  outInt: number,
  roiStart: number,
  roiEnd: number,
): number {
  switch (mode) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adj = outInt / outLen;
      const center = inLen / 2;
      const offset = center * (1 - adj);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : (x * (inLen - 1)) / (outLen - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nearest':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize':
      return outLen > 1
        ? roiStart * (inLen - 1) + (x * (roiEnd - roiStart) * (inLen - 1)) / (outLen - 1)
        : 0.5 * (roiStart + roiEnd) * (inLen - 1);
    default:
      throw new Error(mode);
  }
}

function cubicKernel(x: number, A: number): number {
  x = Math.abs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

interface AxisTaps {
  taps: number;
  idx: Int32Array;
  w: Float64Array;
  outside: Uint8Array;
}

function axisTaps(ctx: OpContext, inLen: number, outLen: number, scale: number, roiStart: number, roiEnd: number): AxisTaps {
  const legacy = ctx.opset < 11 || ctx.node.opType === 'Upsample';
  const mode = ctx.attrs.string('mode', 'nearest');
  const ctm = legacy ? 'asymmetric' : ctx.attrs.string('coordinate_transformation_mode', 'half_pixel');
  const nearestMode = legacy ? 'floor' : ctx.attrs.string('nearest_mode', 'round_prefer_floor');
  const A = ctx.attrs.float('cubic_coeff_a', -0.75);
  const exclude = ctx.attrs.int('exclude_outside', 0) === 1;
  const antialias = ctx.attrs.int('antialias', 0) === 1;
  const s = antialias && scale < 1 ? scale : 1;
  let taps: number;
  let start: number;
  if (mode === 'nearest') {
    taps = 1;
    start = 0;
  } else if (mode === 'linear' || mode === 'bilinear' || mode === 'trilinear') {
    start = Math.floor(-1 / s) + 1;
    taps = 2 - 2 * start;
  } else if (mode === 'cubic' || mode === 'bicubic') {
    start = Math.floor(-2 / s) + 1;
    taps = 2 - 2 * start;
  } else return unsupported(ctx, `resize mode '${mode}' is not supported`);
  if (
    ![
      'half_pixel',
      'half_pixel_symmetric',
      'pytorch_half_pixel',
      'align_corners',
      'asymmetric',
      'tf_half_pixel_for_nearest',
      'tf_crop_and_resize',
    ].includes(ctm)
  )
    unsupported(ctx, `coordinate_transformation_mode '${ctm}' is not supported`);
  const idx = new Int32Array(outLen * taps);
  const w = new Float64Array(outLen * taps);
  const outside = new Uint8Array(outLen);
  for (let x = 0; x < outLen; x++) {
    // The spec's output length in the transforms is scale * inLen (fractional when scales are given).
    const xo = sourceCoord(ctm, x, scale, inLen, scale * inLen, outLen, roiStart, roiEnd);
    if (ctm === 'tf_crop_and_resize' && (xo < 0 || xo > inLen - 1)) outside[x] = 1;
    if (mode === 'nearest') {
      let i: number;
      switch (nearestMode) {
        case 'round_prefer_floor':
          i = xo - Math.floor(xo) === 0.5 ? Math.floor(xo) : Math.round(xo);
          break;
        case 'round_prefer_ceil':
          i = Math.round(xo);
          break;
        case 'floor':
          i = Math.floor(xo);
          break;
        case 'ceil':
          i = Math.ceil(xo);
          break;
        default:
          return unsupported(ctx, `nearest_mode '${nearestMode}' is not supported`);
      }
      idx[x] = Math.min(Math.max(i, 0), inLen - 1);
      w[x] = 1;
      continue;
    }
    const base = Math.floor(xo);
    const ratio = xo - base;
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const k = start + t;
      const arg = (k - ratio) * s;
      let wt = mode === 'cubic' || mode === 'bicubic' ? cubicKernel(arg, A) : Math.max(0, Math.min(1, 1 - Math.abs(arg)));
      const src = base + k;
      if (exclude && (src < 0 || src >= inLen)) wt = 0;
      idx[x * taps + t] = Math.min(Math.max(src, 0), inLen - 1);
      w[x * taps + t] = wt;
      sum += wt;
    }
    if (sum !== 0 && (s !== 1 || exclude)) for (let t = 0; t < taps; t++) w[x * taps + t]! /= sum;
  }
  return { taps, idx, w, outside };
}

function resizeRun(ctx: OpContext, inputs: (Tensor | undefined)[]): Tensor[] {
  const x = inputs[0];
  need(ctx, x, 'needs X');
  need(ctx, x.dtype === 'float32', () => `X must be float32, got ${x.dtype}`);
  const p = plan(ctx, x.dims, inputs);
  need(ctx, p, 'needs scales or sizes');
  const r = x.rank;
  if (ctx.attrs.string('mode', 'nearest') === 'nearest') {
    const y = resizeNearest(ctx, x, p);
    if (y) return [y];
  }
  let cur = Float64Array.from(x.data as Float32Array);
  const dims = [...x.dims];
  const outsideMasks: { axis: number; mask: Uint8Array }[] = [];
  for (let a = 0; a < r; a++) {
    const inLen = x.dims[a]!;
    const outLen = p.outDims[a]!;
    if (inLen === outLen && p.scales[a] === 1 && !p.roi) continue;
    const roiStart = p.roi ? p.roi[a]! : 0;
    const roiEnd = p.roi ? p.roi[a + r]! : 1;
    const t = axisTaps(ctx, inLen, outLen, p.scales[a]!, roiStart, roiEnd);
    if (t.outside.some((v) => v)) outsideMasks.push({ axis: a, mask: t.outside });
    const outer = sizeOf(dims.slice(0, a));
    const inner = sizeOf(dims.slice(a + 1));
    const next = new Float64Array(outer * outLen * inner);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < outLen; j++) {
        const dst = (o * outLen + j) * inner;
        for (let tp = 0; tp < t.taps; tp++) {
          const wt = t.w[j * t.taps + tp]!;
          if (wt === 0) continue;
          const src = (o * inLen + t.idx[j * t.taps + tp]!) * inner;
          for (let i = 0; i < inner; i++) next[dst + i]! += wt * cur[src + i]!;
        }
      }
    cur = next;
    dims[a] = outLen;
  }
  const y = Float32Array.from(cur);
  if (outsideMasks.length) {
    const ev = ctx.attrs.float('extrapolation_value', 0);
    for (const { axis, mask } of outsideMasks) {
      const outer = sizeOf(dims.slice(0, axis));
      const len = dims[axis]!;
      const inner = sizeOf(dims.slice(axis + 1));
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < len; j++) if (mask[j]) y.fill(ev, (o * len + j) * inner, (o * len + j + 1) * inner);
    }
  }
  return [new Tensor('float32', y, dims)];
}

/**
 * Nearest resize as one gather (the general path's passes in float64 give the same values, since
 * each output copies one input): a source index per output coordinate and axis, the last axis as
 * the inner loop, and a row whose source row is the previous row's copied whole. Undefined when a
 * tf_crop_and_resize output lies outside the input (the general path writes extrapolation_value).
 */
function resizeNearest(ctx: OpContext, x: Tensor, p: Plan): Tensor | undefined {
  const r = x.rank;
  const idx: Int32Array[] = [];
  for (let a = 0; a < r; a++) {
    const inLen = x.dims[a]!;
    const outLen = p.outDims[a]!;
    if (inLen === outLen && p.scales[a] === 1 && !p.roi) {
      idx.push(Int32Array.from({ length: inLen }, (_, i) => i));
      continue;
    }
    const t = axisTaps(ctx, inLen, outLen, p.scales[a]!, p.roi ? p.roi[a]! : 0, p.roi ? p.roi[a + r]! : 1);
    if (t.outside.some((v) => v)) return undefined;
    idx.push(t.idx);
  }
  const src = x.data as Float32Array;
  const out = p.outDims;
  const y = allocData('float32', sizeOf(out), false) as Float32Array;
  if (y.length === 0) return new Tensor('float32', y, out);
  // Input strides, and the input offset of each output coordinate per axis.
  const strides = new Array<number>(r).fill(1);
  for (let a = r - 2; a >= 0; a--) strides[a] = strides[a + 1]! * x.dims[a + 1]!;
  const off = idx.map((ix, a) => Int32Array.from(ix, (i) => i * strides[a]!));
  const last = r ? off[r - 1]! : Int32Array.of(0);
  const L = last.length;
  const rows = y.length / L;
  const f = repeatFactor(last, r ? x.dims[r - 1]! : 1);
  const at = new Array<number>(Math.max(0, r - 1)).fill(0);
  let prev = -1;
  for (let row = 0; row < rows; row++) {
    let base = 0;
    for (let a = 0; a < r - 1; a++) base += off[a]![at[a]!]!;
    const dst = row * L;
    if (base === prev) y.copyWithin(dst, dst - L, dst);
    else if (f) repeatRow(src, base, L / f, f, y, dst);
    else for (let i = 0; i < L; i++) y[dst + i] = src[base + last[i]!]!;
    prev = base;
    for (let a = r - 2; a >= 0; a--) {
      if (++at[a]! < out[a]!) break;
      at[a] = 0;
    }
  }
  return new Tensor('float32', y, out);
}

/** f when the last axis repeats each input element f >= 2 times in order (index i / f), else 0. */
function repeatFactor(last: Int32Array, inLen: number): number {
  const f = last.length / inLen;
  if (!Number.isInteger(f) || f < 2) return 0;
  for (let i = 0; i < last.length; i++) if (last[i] !== Math.floor(i / f)) return 0;
  return f;
}

/** y[dst + j*f + k] = src[base + j] for k < f: the gather with its index table's pattern unrolled. */
function repeatRow(src: Float32Array, base: number, n: number, f: number, y: Float32Array, dst: number): void {
  if (f === 2)
    for (let j = 0, d = dst; j < n; j++, d += 2) {
      const v = src[base + j]!;
      y[d] = v;
      y[d + 1] = v;
    }
  else
    for (let j = 0, d = dst; j < n; j++) {
      const v = src[base + j]!;
      for (let k = 0; k < f; k++) y[d++] = v;
    }
}

export const Resize: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    if (!isStatic(x?.shape)) return [{ dtype: x?.dtype }];
    const p = plan(ctx, x.shape, ctx.values);
    return [{ dtype: x.dtype, shape: p?.outDims }];
  },
  run: resizeRun,
};
export const Upsample: OpImpl = Resize;

export const resizeOps: Record<string, OpImpl> = { Resize, Upsample };
