/**
 * JavaScript references of quantized Add and Mul with numpy broadcasting: the definitions of
 * native/include/opq_qbinary.h, element by element. Every backend and variant is tested against them.
 */
import { multiplyByQuantizedMultiplier, roundHalfEven, roundingDivideByPOT, saturatingShiftLeft } from '../../quant/fixedpoint.js';
import { requantizeOne } from '../../quant/requant.js';
import type { QAddParams } from '../../quant/qadd.js';
import type { Lut2Args, QAddArgs, QMulArgs } from '../../backends/kernels-qbinary.js';
import { alignShapes, broadcastShape } from '../../backends/kernels-qbinary.js';

/** Calls f(outIndex, aIndex, bIndex) over the broadcast output in row-major order. */
export function forEachBroadcast(
  aShape: readonly number[],
  bShape: readonly number[],
  f: (o: number, ia: number, ib: number) => void,
): number {
  const [pa, pb] = alignShapes(aShape, bShape);
  const ys = broadcastShape(pa, pb);
  const r = ys.length;
  const sa = new Array<number>(r).fill(0),
    sb = new Array<number>(r).fill(0);
  let ta = 1,
    tb = 1;
  for (let d = r - 1; d >= 0; d--) {
    sa[d] = pa[d] === 1 ? 0 : ta;
    sb[d] = pb[d] === 1 ? 0 : tb;
    ta *= pa[d];
    tb *= pb[d];
  }
  const total = ys.reduce((p, d) => p * d, 1);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < total; o++) {
    let ia = 0,
      ib = 0;
    for (let d = 0; d < r; d++) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    f(o, ia, ib);
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < ys[d]) break;
      idx[d] = 0;
    }
  }
  return total;
}

const f32 = Math.fround;

/** float(zc) - (aScale * float(za) + bScale * float(zb)), float mode's constant term. */
export function qaddFloatFixed(p: QAddParams): number {
  const aScale = f32(p.aScale),
    bScale = f32(p.bScale);
  return f32(p.zeroPoint - f32(f32(aScale * p.aZeroPoint) + f32(bScale * p.bZeroPoint)));
}

function shiftByPOT(x: number, s: number): number {
  return s >= 0 ? saturatingShiftLeft(x, s) : roundingDivideByPOT(x, -s);
}

/** One output of Add from raw inputs a and b. */
export function qaddOne(a: number, b: number, p: QAddParams, fixed: number): number {
  if (p.mode === 1) {
    const v = f32(f32(fixed + f32(a * f32(p.aScale))) + f32(b * f32(p.bScale)));
    return roundHalfEven(v < p.min ? p.min : v > p.max ? p.max : v);
  }
  const xa = (a - p.aZeroPoint) * 2 ** p.leftShift;
  const xb = (b - p.bZeroPoint) * 2 ** p.leftShift;
  let v: number;
  if (p.mode === 2) {
    v = shiftByPOT((shiftByPOT(xa, p.aShift) + shiftByPOT(xb, p.bShift)) | 0, p.outputShift);
  } else {
    const sum =
      (multiplyByQuantizedMultiplier(xa, p.aMultiplier, p.aShift) + multiplyByQuantizedMultiplier(xb, p.bMultiplier, p.bShift)) | 0;
    v = multiplyByQuantizedMultiplier(sum, p.outputMultiplier, p.outputShift);
  }
  const lo = p.min - p.zeroPoint,
    hi = p.max - p.zeroPoint;
  return (v < lo ? lo : v > hi ? hi : v) + p.zeroPoint;
}

export function qaddRef(g: QAddArgs): void {
  const fixed = qaddFloatFixed(g.params);
  const { a, b, y, params } = g;
  forEachBroadcast(g.aShape, g.bShape, (o, ia, ib) => {
    y[o] = qaddOne(a[ia], b[ib], params, fixed);
  });
}

export function qmulRef(g: QMulArgs): void {
  const { a, b, y, requant, aZeroPoint: za, bZeroPoint: zb } = g;
  forEachBroadcast(g.aShape, g.bShape, (o, ia, ib) => {
    y[o] = requantizeOne((a[ia] - za) * (b[ib] - zb), requant, 0);
  });
}

/** The definition of lut2: y[o] = table[a * 256 + b] on the raw bytes of each broadcast pair. */
export function lut2Ref(g: Lut2Args): void {
  const t = g.table,
    a = g.a,
    b = g.b,
    y = g.y;
  forEachBroadcast(g.aShape, g.bShape, (o, ia, ib) => {
    y[o] = t[((a[ia]! & 0xff) << 8) | (b[ib]! & 0xff)]!;
  });
}
