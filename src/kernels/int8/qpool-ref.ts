/**
 * JavaScript references of quantized MaxPool, AveragePool and their global forms
 * (native/include/opq_qpool.h), written as the direct window loops.
 */
import { requantizeOne } from '../../quant/requant.js';
import type { AvgPoolArgs, GlobalAvgPoolArgs, GlobalMaxPoolArgs, MaxPoolArgs } from '../../backends/kernels-qpool.js';
import { flatPool } from '../../backends/kernels-qpool.js';
import { windowOutputSize } from '../../util/shape.js';

/** acc / count rounded half away from zero (exact integer arithmetic); 0 when count is 0. */
export function roundingAverage(acc: number, count: number): number {
  if (count <= 0) return 0;
  const q = Math.floor((2 * Math.abs(acc) + count) / (2 * count));
  return acc < 0 ? -q : q;
}

/** Taps t < k with 0 <= start + t*d < size. */
function taps(start: number, k: number, d: number, size: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < k; t++) {
    const i = start + t * d;
    if (i >= 0 && i < size) out.push(i);
  }
  return out;
}

function geometry(g: MaxPoolArgs | AvgPoolArgs) {
  const f = flatPool(g);
  const oh = windowOutputSize(f.h, f.kernelH, f.strideH, f.padTop, f.padBottom, f.dilationH, f.ceilMode === 1);
  const ow = windowOutputSize(f.w, f.kernelW, f.strideW, f.padLeft, f.padRight, f.dilationW, f.ceilMode === 1);
  return { f, oh, ow };
}

export function maxPoolRef(g: MaxPoolArgs): void {
  const { f, oh, ow } = geometry(g);
  const { x, y } = g;
  // Also serves 16-bit data (the A16W8 lowering): the floor is the type's minimum.
  const tmin = x instanceof Int8Array ? -128 : (x as ArrayBufferView) instanceof Int16Array ? -32768 : 0;
  for (let p = 0; p < f.n * f.c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const rows = taps(oy * f.strideH - f.padTop, f.kernelH, f.dilationH, f.h);
      for (let ox = 0; ox < ow; ox++) {
        const cols = taps(ox * f.strideW - f.padLeft, f.kernelW, f.dilationW, f.w);
        let m = tmin;
        for (const iy of rows) for (const ix of cols) m = Math.max(m, x[(p * f.h + iy) * f.w + ix]);
        y[(p * oh + oy) * ow + ox] = m;
      }
    }
  }
}

export function avgPoolRef(g: AvgPoolArgs): void {
  const { f, oh, ow } = geometry(g);
  const { x, y, xZeroPoint: zx, requant } = g;
  for (let p = 0; p < f.n * f.c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * f.strideH - f.padTop;
      const rows = taps(y0, f.kernelH, f.dilationH, f.h);
      // count_include_pad counts the taps inside the padded input, never the extra ceil_mode ones.
      const cy = g.countIncludePad ? taps(y0 + f.padTop, f.kernelH, f.dilationH, f.h + f.padTop + f.padBottom).length : rows.length;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * f.strideW - f.padLeft;
        const cols = taps(x0, f.kernelW, f.dilationW, f.w);
        const cx = g.countIncludePad ? taps(x0 + f.padLeft, f.kernelW, f.dilationW, f.w + f.padLeft + f.padRight).length : cols.length;
        let acc = 0;
        for (const iy of rows) for (const ix of cols) acc += x[(p * f.h + iy) * f.w + ix] - zx;
        y[(p * oh + oy) * ow + ox] = requantizeOne(roundingAverage(acc, cy * cx), requant, 0);
      }
    }
  }
}

export function globalMaxPoolRef(g: GlobalMaxPoolArgs): void {
  const { x, y, channels, spatial } = g;
  // Also serves 16-bit data (the A16W8 lowering): the floor is the type's minimum.
  const tmin = x instanceof Int8Array ? -128 : (x as ArrayBufferView) instanceof Int16Array ? -32768 : 0;
  for (let c = 0; c < channels; c++) {
    let m = tmin;
    for (let i = 0; i < spatial; i++) m = Math.max(m, x[c * spatial + i]);
    y[c] = m;
  }
}

export function globalAvgPoolRef(g: GlobalAvgPoolArgs): void {
  const { x, y, channels, spatial, xZeroPoint: zx, requant } = g;
  for (let c = 0; c < channels; c++) {
    let acc = 0;
    for (let i = 0; i < spatial; i++) acc += x[c * spatial + i] - zx;
    y[c] = requantizeOne(roundingAverage(acc, spatial), requant, 0);
  }
}
