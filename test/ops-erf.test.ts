// erf for the Erf and Gelu ops: the Taylor tables (src/ops/erf.ts) against the definition they are
// built from (Maclaurin series and erfc's continued fraction), densely, with the specials.
import { describe, expect, it } from 'vitest';
import { erf, erfSeries, erfcAbove2, erfcTail } from '../src/ops/erf.js';

describe('erf tables', () => {
  it('erf within 2e-15 of the series on [-7, 7] (steps of 1e-4, grid points and midpoints included)', () => {
    let worst = 0;
    for (let i = -70000; i <= 70000; i++) worst = Math.max(worst, Math.abs(erf(i / 1e4) - erfSeries(i / 1e4)));
    for (let i = 0; i <= 96 * 2; i++) worst = Math.max(worst, Math.abs(erf(i / 32) - erfSeries(i / 32)));
    expect(worst).toBeLessThan(2e-15);
  });

  it('erfc on [2, 9] within 1e-14 relative of the continued fraction (the Gelu tail)', () => {
    let worst = 0;
    for (let i = 20000; i <= 90000; i++) {
      const a = i / 1e4;
      worst = Math.max(worst, Math.abs(erfcTail(a) - erfcAbove2(a)) / erfcAbove2(a));
    }
    expect(worst).toBeLessThan(1e-14);
  });

  it('keeps the specials: NaN, +-Infinity, -0, saturation', () => {
    expect(erf(Number.NaN)).toBeNaN();
    expect(erf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(erf(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(6)).toBe(1);
    expect(erf(-30)).toBe(-1);
    expect(erfcTail(30)).toBe(0);
  });
});
