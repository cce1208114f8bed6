/**
 * JavaScript references of Concat with requantization and nearest Resize
 * (native/include/opq_qlayout.h), and the ONNX nearest-resize index tables.
 */
import { OnnxPtqError } from '../../errors.js';
import { requantizeOne } from '../../quant/requant.js';
import type { ConcatArgs, ResizeLinearArgs, ResizeNearestArgs, Transpose8Args } from '../../backends/kernels-qlayout.js';

export function concatRef(g: ConcatArgs): void {
  const { inputs, axisDims, zeroPoints, requant, outer, inner, y } = g;
  const total = axisDims.reduce((s, d) => s + d, 0);
  for (let o = 0; o < outer; o++) {
    let at = o * total * inner;
    for (let i = 0; i < inputs.length; i++) {
      const n = axisDims[i] * inner,
        x = inputs[i],
        rq = requant[i];
      for (let j = 0; j < n; j++) {
        const v = x[o * n + j];
        y[at + j] = rq ? requantizeOne(v - zeroPoints[i], rq, 0) : v;
      }
      at += n;
    }
  }
}

export function resizeNearestRef(g: ResizeNearestArgs): void {
  const { x, y, nc, inH, inW, outH, outW, yIndex, xIndex } = g;
  for (let p = 0; p < nc; p++) {
    for (let oy = 0; oy < outH; oy++) {
      const src = (p * inH + yIndex[oy]) * inW,
        dst = (p * outH + oy) * outW;
      for (let ox = 0; ox < outW; ox++) y[dst + ox] = x[src + xIndex[ox]];
    }
  }
}

export type CoordinateTransform =
  | 'half_pixel'
  | 'asymmetric'
  | 'align_corners'
  | 'pytorch_half_pixel'
  | 'tf_half_pixel_for_nn'
  | 'half_pixel_symmetric';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

/**
 * Source index along one axis for every output index, as ONNX Resize (mode nearest) defines it:
 * x_original from the coordinate transformation (scale = the scales input, or outSize / inSize
 * when sizes were given), then the nearest mode, then clamped into [0, inSize - 1] (onnxruntime
 * clamps too). Computed in double, once, at lowering time; every backend then gathers with it.
 */
export function resizeNearestIndex(
  inSize: number,
  outSize: number,
  mode: CoordinateTransform,
  nearest: NearestMode,
  scale = outSize / inSize,
): Int32Array {
  if (!(inSize > 0) || !(outSize >= 0) || !(scale > 0)) {
    throw new OnnxPtqError('KERNEL_ARGUMENT', `resize: sizes must be positive (in ${inSize}, out ${outSize}, scale ${scale})`);
  }
  const idx = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let xo: number;
    switch (mode) {
      case 'half_pixel':
        xo = (o + 0.5) / scale - 0.5;
        break;
      case 'pytorch_half_pixel':
        xo = outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
        break;
      case 'align_corners':
        xo = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
        break;
      case 'tf_half_pixel_for_nn':
        xo = (o + 0.5) / scale;
        break;
      default:
        xo = o / scale;
        break;
    }
    let i: number;
    switch (nearest) {
      case 'floor':
        i = Math.floor(xo);
        break;
      case 'ceil':
        i = Math.ceil(xo);
        break;
      case 'round_prefer_ceil':
        i = Math.round(xo);
        break; // Math.round: halves up
      default:
        i = xo - Math.floor(xo) === 0.5 ? Math.floor(xo) : Math.round(xo);
        break;
    }
    idx[o] = Math.min(inSize - 1, Math.max(0, i));
  }
  return idx;
}

/** 1.0 in the 11-bit interpolation weights of the linear resize. */
export const RESIZE_ONE = 2048;

/**
 * Taps of a linear resize along one axis: for every output index, [i0, i1, w] with the output
 * reading (1 - w/2048) * x[i0] + (w/2048) * x[i1]. The source coordinate is computed in float32
 * exactly as onnxruntime's GetOriginalCoordinateFromResizedCoordinate does (scale = the scales
 * input as float32, or float32(out) / float32(in) when sizes were given), clamped into
 * [0, inSize - 1], i0 = floor, i1 = min(i0 + 1, inSize - 1), and the fraction rounded to 11 bits
 * (half up). A border clamp (i0 == i1) gets w = 0: onnxruntime's 0.5/0.5 there reads the same value twice.
 */
export function resizeLinearTaps(
  inSize: number,
  outSize: number,
  mode: CoordinateTransform,
  scale = Math.fround(outSize) / Math.fround(inSize),
): Int32Array {
  if (
    !(Number.isInteger(inSize) && inSize > 0) ||
    !(Number.isInteger(outSize) && outSize >= 0) ||
    !(scale > 0) ||
    !Number.isFinite(scale)
  ) {
    throw new OnnxPtqError('KERNEL_ARGUMENT', `resize: sizes must be positive (in ${inSize}, out ${outSize}, scale ${scale})`);
  }
  const f = Math.fround;
  const s = f(scale),
    lIn = f(inSize),
    lOut = f(outSize);
  const taps = new Int32Array(3 * outSize);
  for (let o = 0; o < outSize; o++) {
    const xr = f(o);
    let xo: number;
    switch (mode) {
      case 'half_pixel':
        xo = f(f(f(xr + 0.5) / s) - 0.5);
        break;
      case 'half_pixel_symmetric': {
        const adjustment = f(lOut / f(s * lIn));
        const center = f(lIn / 2);
        const offset = f(center * f(1 - adjustment));
        xo = f(f(offset + f(f(xr + 0.5) / s)) - 0.5);
        break;
      }
      case 'pytorch_half_pixel':
        xo = outSize > 1 ? f(f(f(xr + 0.5) / s) - 0.5) : 0;
        break;
      case 'align_corners':
        xo = outSize === 1 ? 0 : f(f(xr * f(inSize - 1)) / f(outSize - 1));
        break;
      case 'tf_half_pixel_for_nn':
        xo = f(f(xr + 0.5) / s);
        break;
      default:
        xo = f(xr / s);
        break;
    }
    const c = Math.max(0, Math.min(xo, inSize - 1));
    const i0 = Math.min(Math.trunc(c), inSize - 1),
      i1 = Math.min(i0 + 1, inSize - 1);
    const frac = f(c - i0);
    taps[3 * o] = i0;
    taps[3 * o + 1] = i1;
    taps[3 * o + 2] = i0 === i1 ? 0 : Math.min(RESIZE_ONE, Math.round(frac * RESIZE_ONE));
  }
  return taps;
}

export function resizeLinearRef(g: ResizeLinearArgs): void {
  const { x, y, nc, inH, inW, outH, outW, yTaps, xTaps, xZeroPoint: zx, requant } = g;
  const h0 = new Int32Array(outW),
    h1 = new Int32Array(outW);
  const hrow = (r: number, h: Int32Array) => {
    for (let ox = 0; ox < outW; ox++) {
      const w = xTaps[3 * ox + 2]!;
      h[ox] = (RESIZE_ONE - w) * (x[r + xTaps[3 * ox]!]! - zx) + w * (x[r + xTaps[3 * ox + 1]!]! - zx);
    }
  };
  for (let p = 0; p < nc; p++) {
    for (let oy = 0; oy < outH; oy++) {
      const wy = yTaps[3 * oy + 2]!;
      hrow((p * inH + yTaps[3 * oy]!) * inW, h0);
      hrow((p * inH + yTaps[3 * oy + 1]!) * inW, h1);
      const dst = (p * outH + oy) * outW;
      // |acc| <= 2^22 * 255: exact in a double and in int32.
      for (let ox = 0; ox < outW; ox++) y[dst + ox] = requantizeOne((RESIZE_ONE - wy) * h0[ox]! + wy * h1[ox]!, requant, 0);
    }
  }
}

/** Transpose of 8-bit data (opq_transpose8): y[i] over the output's row-major order, read through perm. */
export function transpose8Ref(g: Transpose8Args): void {
  const { x, y, dims, perm } = g;
  const r = dims.length;
  const inStride = new Array<number>(r);
  for (let k = r - 1, s = 1; k >= 0; k--) {
    inStride[k] = s;
    s *= dims[k]!;
  }
  const od = perm.map((p) => dims[p]!),
    os = perm.map((p) => inStride[p]!);
  const total = od.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(r).fill(0);
  let src = 0;
  for (let i = 0; i < total; i++) {
    y[i] = x[src]!;
    for (let d = r - 1; d >= 0; d--) {
      src += os[d]!;
      if (++idx[d]! < od[d]!) break;
      src -= os[d]! * od[d]!;
      idx[d] = 0;
    }
  }
}
