/**
 * Requantization parameters and the scalar definition every backend reproduces
 * (DESIGN.md "Arithmetic contract"). `makeRequant` turns real multipliers M = Sx*Sw/Sy into the
 * form each mode needs; `requantizeOne` is the reference for a single accumulator.
 */
import { OnnxPtqError } from '../errors.js';
import {
  INT32_MAX,
  INT32_MIN,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfEven,
  roundingDivideByPOT,
  saturatingShiftLeft,
} from './fixedpoint.js';

export type RequantMode = 'fixed-point' | 'float' | 'shift';
export const REQUANT_MODES: readonly RequantMode[] = ['fixed-point', 'float', 'shift'];
/** Mode numbers of the C ABI (native/include/onnxptq.h). */
export const REQUANT_MODE_ID: Record<RequantMode, number> = { 'fixed-point': 0, float: 1, shift: 2 };

/**
 * Per-tensor (length 1) or per-output-channel requantization. All three arrays have the same
 * length so a backend can switch modes without reshaping: `multiplier`/`shift` are the fixed-point
 * form (M = multiplier * 2^(shift-31)); in shift mode M = 2^shift; in float mode M = scale.
 */
export interface RequantParams {
  mode: number; // REQUANT_MODE_ID
  multiplier: Int32Array;
  shift: Int32Array;
  scale: Float32Array;
  zeroPoint: number;
  /** Inclusive clamp of the output in the quantized domain (ReLU: min = zeroPoint). */
  min: number;
  max: number;
}

export interface RequantOutput {
  zeroPoint: number;
  /** Output type: int8 when true, uint8 otherwise (int16 when `bits` is 16). */
  signed: boolean;
  /** Output width: 8 (default) or 16 (A16W8: int16 when signed, uint16 otherwise). */
  bits?: 8 | 16;
  /** Clamp bounds in the quantized domain; default the type's range. */
  min?: number;
  max?: number;
}

/**
 * Builds requantization parameters from real multipliers M (one, or one per output channel).
 * - fixed-point: M = m0 * 2^(shift-31) by quantizeMultiplier.
 * - shift: M is forced to the nearest power of two 2^round(log2 M) (the single-shift pass compensates
 *   the ratio upstream; here it is only rounded).
 * - float: M rounded to float32 (callers that mirror ONNX Runtime compute it as float32 Sx*Sw/Sy
 *   first, see floatMultiplier).
 */
export function makeRequant(mode: RequantMode, multipliers: ArrayLike<number>, out: RequantOutput): RequantParams {
  const n = multipliers.length;
  if (n === 0) throw new OnnxPtqError('INVALID_ARGUMENT', 'makeRequant: at least one multiplier is required');
  const wide = out.bits === 16;
  const tmin = out.signed ? (wide ? -32768 : -128) : 0,
    tmax = out.signed ? (wide ? 32767 : 127) : wide ? 65535 : 255;
  const min = out.min ?? tmin,
    max = out.max ?? tmax;
  if (!(tmin <= min && min <= max && max <= tmax)) {
    throw new OnnxPtqError('INVALID_ARGUMENT', `makeRequant: clamp [${min}, ${max}] is not inside [${tmin}, ${tmax}]`);
  }
  if (!Number.isInteger(out.zeroPoint) || out.zeroPoint < tmin || out.zeroPoint > tmax) {
    throw new OnnxPtqError('INVALID_ARGUMENT', `makeRequant: zero point ${out.zeroPoint} is outside [${tmin}, ${tmax}]`);
  }
  const multiplier = new Int32Array(n),
    shift = new Int32Array(n),
    scale = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const m = multipliers[c];
    if (!(m > 0) || !Number.isFinite(m)) {
      throw new OnnxPtqError('INVALID_ARGUMENT', `makeRequant: multiplier ${c} must be finite and > 0, got ${m}`);
    }
    scale[c] = m;
    if (mode === 'shift') {
      shift[c] = Math.max(-31, Math.min(31, Math.round(Math.log2(m))));
      multiplier[c] = 1073741824;
    } else {
      try {
        const q = quantizeMultiplier(m);
        multiplier[c] = q.m0;
        shift[c] = q.shift;
      } catch (e) {
        throw new OnnxPtqError('INVALID_ARGUMENT', `makeRequant: multiplier ${c} (${m}) cannot be represented: ${(e as Error).message}`);
      }
    }
  }
  return { mode: REQUANT_MODE_ID[mode], multiplier, shift, scale, zeroPoint: out.zeroPoint, min, max };
}

/** The float32 multiplier ONNX Runtime uses: float32(float32(Sx * Sw) / Sy). */
export function floatMultiplier(sx: number, sw: number, sy: number): number {
  return Math.fround(Math.fround(Math.fround(sx) * Math.fround(sw)) / Math.fround(sy));
}

/** One int32 accumulator of channel c to the clamped output value: the reference definition. */
export function requantizeOne(acc: number, rq: RequantParams, c: number): number {
  const zp = rq.zeroPoint;
  const lo = rq.min - zp,
    hi = rq.max - zp;
  let v: number;
  if (rq.mode === 1) {
    // float32(acc) * float32(scale) rounded once to float32: the double product of two float32
    // values is exact, so fround of it is the float32 product.
    let f = Math.fround(Math.fround(acc) * rq.scale[c]);
    f = f < lo ? lo : f > hi ? hi : f;
    return roundHalfEven(f) + zp;
  } else if (rq.mode === 2) {
    const s = rq.shift[c];
    v = s >= 0 ? saturatingShiftLeft(acc, s) : roundingDivideByPOT(acc, -s);
  } else {
    v = multiplyByQuantizedMultiplier(acc, rq.multiplier[c], rq.shift[c]);
  }
  v = v < lo ? lo : v > hi ? hi : v;
  return v + zp;
}

export { INT32_MAX, INT32_MIN };
