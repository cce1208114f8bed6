/**
 * JavaScript references of the table lookup, QuantizeLinear and DequantizeLinear
 * (native/include/opq_qunary.h): ONNX semantics, float32 rounding at every step.
 */
import { roundHalfEven } from '../../quant/fixedpoint.js';
import type { DequantizeLinearArgs, LutArgs, QdqLayout, QuantizeLinearArgs } from '../../backends/kernels-qunary.js';

export function lutRef(g: LutArgs): void {
  const { x, table, y } = g;
  for (let i = 0; i < x.length; i++) y[i] = table[x[i] & 0xff];
}

/** clamp(roundHalfEven(float32(x / s)) + z, tmin, tmax); NaN gives tmin. */
export function quantizeOne(x: number, s: number, z: number, tmin: number, tmax: number): number {
  const f = Math.fround(x / s);
  const lo = tmin - z,
    hi = tmax - z;
  const c = f >= lo ? (f <= hi ? f : hi) : lo;
  return roundHalfEven(c) + z;
}

/** Calls f(offset, n, paramIndex) for each run sharing one scale and zero point. */
export function forEachQdqRun(l: QdqLayout, f: (off: number, n: number, p: number) => void): void {
  const { outer, axisLen, inner } = l;
  const block = l.blockSize ?? 0;
  const total = outer * axisLen * inner;
  if (total === 0) return;
  if (l.scale.length === 1) {
    f(0, total, 0);
    return;
  }
  const blocks = block ? Math.ceil(axisLen / block) : 0;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axisLen; a++) {
      const off = (o * axisLen + a) * inner;
      if (block === 0) f(off, inner, a);
      else for (let i = 0; i < inner; i++) f(off + i, 1, (o * blocks + Math.floor(a / block)) * inner + i);
    }
  }
}

export function quantizeLinearRef(g: QuantizeLinearArgs): void {
  const signed = g.y instanceof Int8Array;
  const tmin = signed ? -128 : 0,
    tmax = signed ? 127 : 255;
  const { x, y, scale, zeroPoint } = g;
  forEachQdqRun(g, (off, n, p) => {
    const s = scale[p],
      z = zeroPoint[p];
    for (let i = off; i < off + n; i++) y[i] = quantizeOne(x[i], s, z, tmin, tmax);
  });
}

export function dequantizeLinearRef(g: DequantizeLinearArgs): void {
  const { x, y, scale, zeroPoint } = g;
  forEachQdqRun(g, (off, n, p) => {
    const s = scale[p],
      z = zeroPoint[p];
    // x - z is exact in a double (|x - z| < 2^33); one float32 rounding of it, one of the product.
    for (let i = off; i < off + n; i++) y[i] = Math.fround(Math.fround(x[i] - z) * s);
  });
}
