/**
 * Parameters of the quantized Add (native/include/opq_qbinary.h, the formula in each mode):
 * joining nodes rescale both inputs to the output scale (DESIGN.md). fixed-point follows TFLite's
 * integer Add (left shift 20, input multipliers Sa/2max and Sb/2max, output multiplier
 * 2max/(2^20 Sc)); shift forces every multiplier to a power of two; float mirrors ONNX Runtime's
 * QLinearAdd (float32 ratios Sa/Sc and Sb/Sc).
 */
import { OnnxPtqError } from '../errors.js';
import { quantizeMultiplier } from './fixedpoint.js';
import { REQUANT_MODE_ID, type RequantMode, type RequantOutput } from './requant.js';

export interface QAddParams {
  mode: number;
  aZeroPoint: number;
  bZeroPoint: number;
  /** fixed-point and shift: (x - z) << leftShift, in [0, 22]. */
  leftShift: number;
  aMultiplier: number;
  aShift: number;
  bMultiplier: number;
  bShift: number;
  outputMultiplier: number;
  outputShift: number;
  /** float: float32(Sa / Sc) and float32(Sb / Sc). */
  aScale: number;
  bScale: number;
  zeroPoint: number;
  min: number;
  max: number;
}

export const QADD_LEFT_SHIFT = 20;
/**
 * The left shift when an input is 16-bit (A16W8; TFLite's int16 Add): such inputs have zero point 0,
 * so (x - 0) << 15 stays inside int32 as (x - z) << 20 does for 8-bit ones.
 */
export const QADD_LEFT_SHIFT_16 = 15;

function fixed(m: number, what: string): { m0: number; shift: number } {
  try {
    return quantizeMultiplier(m);
  } catch (e) {
    throw new OnnxPtqError('INVALID_ARGUMENT', `makeQAddParams: ${what} multiplier ${m} cannot be represented: ${(e as Error).message}`);
  }
}

/** Add of a (Sa, Za) and b (Sb, Zb) into (Sc, out.zeroPoint), clamped to [out.min, out.max]. */
export function makeQAddParams(
  mode: RequantMode,
  sa: number,
  za: number,
  sb: number,
  zb: number,
  sc: number,
  out: RequantOutput,
  leftShift = QADD_LEFT_SHIFT,
): QAddParams {
  for (const [v, n] of [
    [sa, 'Sa'],
    [sb, 'Sb'],
    [sc, 'Sc'],
  ] as const) {
    if (!(v > 0) || !Number.isFinite(v))
      throw new OnnxPtqError('INVALID_ARGUMENT', `makeQAddParams: scale ${n} must be finite and > 0, got ${v}`);
  }
  const wide = out.bits === 16;
  const tmin = out.signed ? (wide ? -32768 : -128) : 0,
    tmax = out.signed ? (wide ? 32767 : 127) : wide ? 65535 : 255;
  const min = out.min ?? tmin,
    max = out.max ?? tmax;
  const twiceMax = 2 * Math.max(sa, sb);
  const ma = sa / twiceMax,
    mb = sb / twiceMax,
    mo = twiceMax / (2 ** leftShift * sc);
  const p: QAddParams = {
    mode: REQUANT_MODE_ID[mode],
    aZeroPoint: za,
    bZeroPoint: zb,
    leftShift,
    aMultiplier: 0,
    aShift: 0,
    bMultiplier: 0,
    bShift: 0,
    outputMultiplier: 0,
    outputShift: 0,
    aScale: Math.fround(Math.fround(sa) / Math.fround(sc)),
    bScale: Math.fround(Math.fround(sb) / Math.fround(sc)),
    zeroPoint: out.zeroPoint,
    min,
    max,
  };
  if (mode === 'shift') {
    const pot = (m: number) => Math.max(-31, Math.min(31, Math.round(Math.log2(m))));
    p.aShift = pot(ma);
    p.bShift = pot(mb);
    p.outputShift = pot(mo);
    p.aMultiplier = p.bMultiplier = p.outputMultiplier = 1073741824;
  } else {
    const qa = fixed(ma, 'input A'),
      qb = fixed(mb, 'input B'),
      qo = fixed(mo, 'output');
    p.aMultiplier = qa.m0;
    p.aShift = qa.shift;
    p.bMultiplier = qb.m0;
    p.bShift = qb.shift;
    p.outputMultiplier = qo.m0;
    p.outputShift = qo.shift;
  }
  return p;
}
