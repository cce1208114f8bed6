/**
 * JavaScript reference of the integer Softmax (native/include/opq_qsoftmax.h), the same integer
 * steps as native/qsoftmax/qsoftmax.h. Every operand of the division is below 2^41 (it only runs when
 * 2 t multiplier >= sum 2^shift), so float64 holds each value exactly and Math.floor of the quotient
 * is the integer quotient: the quotient of two integers below 2^53 is never rounded up to an integer.
 */
import type { SoftmaxArgs } from '../../backends/kernels-qunary.js';

/** round_half_up(t * multiplier / (sum * 2^shift)) + zeroPoint, clamped to [min, max]. */
export function qsoftmaxOne(t: number, sum: number, g: Pick<SoftmaxArgs, 'multiplier' | 'shift' | 'zeroPoint' | 'min' | 'max'>): number {
  const two = 2 * t * g.multiplier;
  let q = 0;
  if (sum <= Math.floor(two / 2 ** g.shift)) {
    const d = sum * 2 ** g.shift;
    q = Math.floor((two + d) / (2 * d));
  }
  const v = q + g.zeroPoint;
  return v < g.min ? g.min : v > g.max ? g.max : v;
}

export function qsoftmaxRef(g: SoftmaxArgs): void {
  const { x, y, outer, axisLen, inner, table } = g;
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * axisLen * inner + i;
      let m = x[base]!;
      for (let j = 1; j < axisLen; j++) m = Math.max(m, x[base + j * inner]!);
      let sum = 0;
      for (let j = 0; j < axisLen; j++) sum += table[m - x[base + j * inner]!]!;
      for (let j = 0; j < axisLen; j++) y[base + j * inner] = qsoftmaxOne(table[m - x[base + j * inner]!]!, sum, g);
    }
}
