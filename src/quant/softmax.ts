/**
 * Parameters of the integer Softmax (native/include/opq_qsoftmax.h) for an 8-bit input of scale
 * `xScale` and an output of scale `yScale`:
 *
 *   table[d]   = round(SOFTMAX_ONE * exp(-xScale * d)), d = 0..255 (d = row max - x, so exp <= 1)
 *   multiplier / 2^shift = 1 / yScale, multiplier in [2^23, 2^24)
 *   y = round_half_up(table[d] * multiplier / (sum(table[d_j]) * 2^shift)) + zeroPoint
 *
 * Error against float softmax of the dequantized input: the table rounds exp to 2^-15 of the row's
 * largest term, and the multiplier 1 / yScale to 2^-24 relative; for yScale >= 1/256 both together
 * move an output by at most 0.03 of a step before its one rounding, so outputs are the correctly
 * rounded float result or one step away where it lies within 0.03 steps of a .5 tie. Tested against
 * float in test/kernels-qsoftmax.test.ts.
 */
export const SOFTMAX_ONE = 16384;
/**
 * The table's one for a 16-bit output (A16W8; the reference kernel only): 2^22, so the table's
 * rounding (2^-23 of the row's largest term) stays far below a 16-bit output step, and every operand
 * of the division stays below 2^49, exact in float64.
 */
export const SOFTMAX_ONE_16 = 4194304;

export interface SoftmaxParams {
  table: Uint32Array;
  multiplier: number;
  shift: number;
}

/**
 * The parameters, or why this pair of scales has no integer form. A 16-bit input (`inputBits` 16)
 * takes a 65,536-entry table (d = 0..65535); `one` is SOFTMAX_ONE, or SOFTMAX_ONE_16 for a 16-bit output.
 */
export function softmaxParams(xScale: number, yScale: number, inputBits: 8 | 16 = 8, one = SOFTMAX_ONE): SoftmaxParams | string {
  const sx = Math.fround(xScale),
    sy = Math.fround(yScale);
  if (!(sx > 0) || !Number.isFinite(sx)) return `input scale ${xScale} is not finite and > 0`;
  if (!(sy >= 2 ** -24 && sy <= 2 ** 38)) return `output scale ${yScale} is outside [2^-24, 2^38]`;
  const table = new Uint32Array(2 ** inputBits);
  for (let d = 0; d < table.length; d++) table[d] = Math.round(one * Math.exp(-sx * d));
  const inv = 1 / sy;
  const shift = 23 - Math.floor(Math.log2(inv));
  let multiplier = Math.round(inv * 2 ** shift);
  let s = shift;
  if (multiplier >= 2 ** 24) {
    multiplier = Math.round(multiplier / 2);
    s -= 1;
  }
  if (s < 0 || s > 62) return `output scale ${yScale} needs shift ${s}, outside [0, 62]`;
  return { table, multiplier, shift: s };
}
