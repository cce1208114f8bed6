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

  it('equals an independent BigInt sum on terms from subnormals to 1e308, in pieces and in any order', () => {
    // The reference: every double is an integer multiple of 2^-1074.
    const view = new DataView(new ArrayBuffer(8));
    const scaled = (x: number): bigint => {
      view.setFloat64(0, x);
      const hi = view.getUint32(0),
        lo = view.getUint32(4);
      const biased = (hi >>> 20) & 0x7ff;
      let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
      if (biased !== 0) mant |= 1n << 52n;
      const v = mant << BigInt(Math.max(0, biased - 1));
      return hi >>> 31 ? -v : v;
    };
    const canonical = (n: bigint): string => {
      if (n === 0n) return '0*2^0';
      let e = -1074;
      let m = n < 0n ? -n : n;
      while ((m & 1n) === 0n) {
        m >>= 1n;
        e++;
      }
      return `${n < 0n ? '-' : ''}${m.toString(16)}*2^${e}`;
    };
    const r = rng(9);
    const pool = [5e-324, -5e-324, 2.2250738585072014e-308, 1e308, -1e308, 1.7976931348623157e308, 1, -1, 3e-200, 2 ** 1000, -(2 ** 1001)];
    for (let round = 0; round < 20; round++) {
      const t = Array.from({ length: 200 }, () =>
        r() < 0.3 ? pool[Math.floor(r() * pool.length)]! : (r() - 0.5) * 2 ** Math.floor(r() * 2000 - 1000),
      );
      const want = canonical(t.reduce((a, v) => a + scaled(v), 0n));
      const a = new ExactSum();
      for (const v of t) a.add(v);
      expect(a.toString(), `round ${round}`).toBe(want);
      const parts = [new ExactSum(), new ExactSum()];
      [...t].reverse().forEach((v, i) => parts[i % 2]!.add(v));
      parts[0]!.addSum(parts[1]!);
      expect(parts[0]!.toString(), `round ${round}, two parts`).toBe(want);
    }
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
