// Shared spatial arithmetic for Conv, ConvTranspose and the pools: pads, auto_pad and output sizes,
// following the ONNX operator spec.
import type { Dim } from '../ir/graph.js';
import { need, type OpContext } from './types.js';
import { windowOutputSize } from '../util/shape.js';

export interface SpatialParams {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** pads[i] is the begin pad of spatial axis i, pads[i + s] its end pad. */
  pads: number[];
  out: number[];
}

/** Spatial output sizes and explicit pads for a conv or pool window over `inSizes`. */
export function windowParams(
  ctx: OpContext,
  inSizes: readonly number[],
  kernel: number[],
  opts: { ceilMode?: boolean } = {},
): SpatialParams {
  const s = inSizes.length;
  need(ctx, kernel.length === s, `kernel_shape has ${kernel.length} axes, input has ${s} spatial axes`);
  const strides = ctx.attrs.ints('strides') ?? new Array(s).fill(1);
  const dilations = ctx.attrs.ints('dilations') ?? new Array(s).fill(1);
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let pads = ctx.attrs.ints('pads') ?? new Array(2 * s).fill(0);
  need(
    ctx,
    strides.length === s && dilations.length === s && pads.length === 2 * s,
    'strides/dilations/pads length does not match the spatial rank',
  );
  const out = new Array<number>(s);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * s).fill(0);
    for (let i = 0; i < s; i++) {
      const ek = (kernel[i]! - 1) * dilations[i]! + 1;
      out[i] = Math.ceil(inSizes[i]! / strides[i]!);
      const total = Math.max(0, (out[i]! - 1) * strides[i]! + ek - inSizes[i]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + s] = total - pads[i]!;
    }
  } else {
    if (autoPad === 'VALID') pads = new Array(2 * s).fill(0);
    else need(ctx, autoPad === 'NOTSET', `unknown auto_pad '${autoPad}'`);
    for (let i = 0; i < s; i++) {
      const ek = (kernel[i]! - 1) * dilations[i]! + 1;
      const span = inSizes[i]! + pads[i]! + pads[i + s]! - ek;
      need(ctx, span >= 0, () => `kernel (${ek}) larger than padded input (${inSizes[i]! + pads[i]! + pads[i + s]!}) on spatial axis ${i}`);
      out[i] = windowOutputSize(inSizes[i]!, kernel[i]!, strides[i]!, pads[i]!, pads[i + s]!, dilations[i]!, opts.ceilMode);
    }
  }
  return { kernel, strides, dilations, pads, out };
}

/** Symbolic spatial output sizes for shape inference (null where the input size is unknown). */
export function windowOutDims(ctx: OpContext, inDims: Dim[], kernel: number[], ceilMode = false): Dim[] {
  if (inDims.every((d) => typeof d === 'number')) return windowParams(ctx, inDims as number[], kernel, { ceilMode }).out;
  return inDims.map(() => null);
}

/** Pads a spatial description to 3 axes (leading size-1 axes) so one 3-D loop serves 1-D..3-D. */
export function to3d(v: number[], fill: number): number[] {
  return [...new Array(3 - v.length).fill(fill), ...v];
}
export function pads3d(pads: number[]): { begin: number[]; end: number[] } {
  const s = pads.length / 2;
  return { begin: to3d(pads.slice(0, s), 0), end: to3d(pads.slice(s), 0) };
}
