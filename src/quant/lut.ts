/**
 * 256-entry lookup tables for unary functions of an 8-bit input (DESIGN.md: nonlinearities are
 * exact through a table built at lowering time). Entry i is f applied to the dequantized value
 * of byte i (for int8, byte i is the two's-complement value, so entries 128..255 hold -128..-1),
 * quantized to the output with round-half-even and saturation (ONNX QuantizeLinear).
 */
import { OnnxPtqError } from '../errors.js';
import { roundHalfEven } from './fixedpoint.js';

export interface Quant8 {
  scale: number;
  zeroPoint: number;
  /** int8 when true, uint8 otherwise. */
  signed: boolean;
}

/**
 * The table of y = f(x): x = float32(Sx * float32(q - Zx)) as DequantizeLinear computes it, f in
 * double, then y = clamp(roundHalfEven(float32(f(x)) / Sy) + Zy) as QuantizeLinear does (the division
 * in float32). NaN results saturate to the type minimum, like QuantizeLinear.
 */
export function buildLut(f: (x: number) => number, input: Quant8, output: Quant8): Uint8Array {
  for (const [q, n] of [
    [input, 'input'],
    [output, 'output'],
  ] as const) {
    if (!(q.scale > 0) || !Number.isFinite(q.scale))
      throw new OnnxPtqError('INVALID_ARGUMENT', `buildLut: ${n} scale must be finite and > 0, got ${q.scale}`);
    const lo = q.signed ? -128 : 0,
      hi = q.signed ? 127 : 255;
    if (!Number.isInteger(q.zeroPoint) || q.zeroPoint < lo || q.zeroPoint > hi) {
      throw new OnnxPtqError('INVALID_ARGUMENT', `buildLut: ${n} zero point ${q.zeroPoint} is outside [${lo}, ${hi}]`);
    }
  }
  const sx = Math.fround(input.scale),
    sy = Math.fround(output.scale);
  const tmin = output.signed ? -128 : 0,
    tmax = output.signed ? 127 : 255;
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    const q = input.signed && i >= 128 ? i - 256 : i;
    const x = Math.fround(Math.fround(q - input.zeroPoint) * sx);
    const v = Math.fround(Math.fround(f(x)) / sy);
    const lo = tmin - output.zeroPoint,
      hi = tmax - output.zeroPoint;
    const c = v >= lo ? (v <= hi ? v : hi) : lo; // NaN -> lo
    table[i] = (roundHalfEven(c) + output.zeroPoint) & 0xff;
  }
  return table;
}

/** The unary functions real exports use, by ONNX op name (attributes as ONNX defines them). */
export const LUT_FUNCTIONS = {
  Sigmoid: () => (x: number) => 1 / (1 + Math.exp(-x)),
  Tanh: () => (x: number) => Math.tanh(x),
  Relu: () => (x: number) => (x > 0 ? x : 0),
  LeakyRelu:
    (alpha = 0.01) =>
    (x: number) =>
      x >= 0 ? x : alpha * x,
  HardSigmoid:
    (alpha = 0.2, beta = 0.5) =>
    (x: number) =>
      Math.max(0, Math.min(1, alpha * x + beta)),
  HardSwish: () => (x: number) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  Clip:
    (min = -Infinity, max = Infinity) =>
    (x: number) =>
      Math.min(max, Math.max(min, x)),
  Elu:
    (alpha = 1) =>
    (x: number) =>
      x >= 0 ? x : alpha * (Math.exp(x) - 1),
  Exp: () => (x: number) => Math.exp(x),
  Softplus: () => (x: number) => Math.log1p(Math.exp(x)),
  Gelu: () => (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
} as const;

/** erf by Abramowitz-Stegun 7.1.26 refined (|error| < 1.5e-7, far below an 8-bit step). */
function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
