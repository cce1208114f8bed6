// ExactSum: the same canonical text and value for any order and any partition of the terms (what
// makes bias-correction sums from workers and shards equal one pass).
import { describe, expect, it } from 'vitest';
import { ExactSum } from '../src/util/exact-sum.js';
import { rng } from './backends.js';

function terms(seed: number, n: number): number[] {
  const r = rng(seed);
  // Wide exponents, both signs, exact cancellations and zeros.
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = (r() - 0.5) * 2 ** Math.floor(r() * 80 - 40);
    out.push(v, i % 7 === 0 ? -v : 0.1 * i);
  }
  return out;
}

describe('ExactSum', () => {
  it('order and partition do not change the canonical text or the value', () => {
    const t = terms(1, 500);
    const a = new ExactSum();
    for (const v of t) a.add(v);
    const b = new ExactSum();
    for (const v of [...t].reverse()) b.add(v);
    const parts = [new ExactSum(), new ExactSum(), new ExactSum()];
    t.forEach((v, i) => parts[(i * 7) % 3]!.add(v));
    const c = new ExactSum();
    for (const p of parts.reverse()) c.addSum(p);
    expect(b.toString()).toBe(a.toString());
    expect(c.toString()).toBe(a.toString());
    expect(c.toNumber()).toBe(a.toNumber());
    // Round trip through the text form.
    expect(ExactSum.parse(a.toString())!.toString()).toBe(a.toString());
  });

  it('is exact where a float64 running sum is not', () => {
    const s = new ExactSum();
    for (const v of [1e16, 1, -1e16, 1]) s.add(v);
    expect(s.toNumber()).toBe(2);
    expect(1e16 + 1 - 1e16 + 1).not.toBe(2);
    const z = new ExactSum();
    for (const v of [0.5, -0.25, -0.25]) z.add(v);
    expect(z.toString()).toBe('0*2^0');
    expect(z.toNumber()).toBe(0);
  });

  it('keeps non-finite terms apart', () => {
    const s = new ExactSum();
    s.add(1);
    s.add(Infinity);
    expect(s.toNumber()).toBe(Infinity);
    s.add(-Infinity);
    expect(s.toNumber()).toBeNaN();
  });
});
