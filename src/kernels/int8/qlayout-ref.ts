/**
 * JavaScript references of Concat with requantization and nearest Resize
 * (native/include/opq_qlayout.h), and the ONNX nearest-resize index tables.
 */
import { OnnxPtqError } from '../../errors.js';
import { requantizeOne } from '../../quant/requant.js';
import type { ConcatArgs, ResizeNearestArgs } from '../../backends/kernels-qlayout.js';

export function concatRef(g: ConcatArgs): void {
  const { inputs, axisDims, zeroPoints, requant, outer, inner, y } = g;
  const total = axisDims.reduce((s, d) => s + d, 0);
  for (let o = 0; o < outer; o++) {
    let at = o * total * inner;
    for (let i = 0; i < inputs.length; i++) {
      const n = axisDims[i] * inner, x = inputs[i], rq = requant[i];
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
      const src = (p * inH + yIndex[oy]) * inW, dst = (p * outH + oy) * outW;
      for (let ox = 0; ox < outW; ox++) y[dst + ox] = x[src + xIndex[ox]];
    }
  }
}

export type CoordinateTransform = 'half_pixel' | 'asymmetric' | 'align_corners' | 'pytorch_half_pixel' | 'tf_half_pixel_for_nn';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

/**
 * Source index along one axis for every output index, as ONNX Resize (mode nearest) defines it:
 * x_original from the coordinate transformation (scale = the scales input, or outSize / inSize
 * when sizes were given), then the nearest mode, then clamped into [0, inSize - 1] (onnxruntime
 * clamps too). Computed in double, once, at lowering time; every backend then gathers with it.
 */
export function resizeNearestIndex(inSize: number, outSize: number, mode: CoordinateTransform, nearest: NearestMode, scale = outSize / inSize): Int32Array {
  if (!(inSize > 0) || !(outSize >= 0) || !(scale > 0)) {
    throw new OnnxPtqError('KERNEL_ARGUMENT', `resize: sizes must be positive (in ${inSize}, out ${outSize}, scale ${scale})`);
  }
  const idx = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let xo: number;
    switch (mode) {
      case 'half_pixel': xo = (o + 0.5) / scale - 0.5; break;
      case 'pytorch_half_pixel': xo = outSize > 1 ? (o + 0.5) / scale - 0.5 : 0; break;
      case 'align_corners': xo = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0; break;
      case 'tf_half_pixel_for_nn': xo = (o + 0.5) / scale; break;
      default: xo = o / scale; break;
    }
    let i: number;
    switch (nearest) {
      case 'floor': i = Math.floor(xo); break;
      case 'ceil': i = Math.ceil(xo); break;
      case 'round_prefer_ceil': i = Math.round(xo); break; // Math.round: halves up
      default: i = xo - Math.floor(xo) === 0.5 ? Math.floor(xo) : Math.round(xo); break;
    }
    idx[o] = Math.min(inSize - 1, Math.max(0, i));
  }
  return idx;
}
