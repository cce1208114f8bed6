// requantizeWide (src/quant/requant-wide.ts) against a BigInt transcription of the formulas of
// native/include/opq_qconv16.h, on random and edge accumulators (|acc| < 2^47) in all three modes.
import { describe, expect, it } from 'vitest';
import { requantizeWide, roundingDivideByPOTWide } from '../src/quant/requant-wide.js';
import type { RequantParams } from '../src/quant/requant.js';
import { rng } from './backends.js';

const LIMIT = 2 ** 47 - 1;

/** Round half to even of a finite double, written out (independent of the library's). */
function rhe(f: number): number {
  const fl = Math.floor(f);
  const d = f - fl;
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}

/** The BigInt transcription: y for channel c. */
function wideRef(acc: bigint, rq: RequantParams, c: number): number {
  const zp = BigInt(rq.zeroPoint);
  const lo = BigInt(rq.min) - zp,
    hi = BigInt(rq.max) - zp;
  const clamp = (v: bigint) => (v < lo ? lo : v > hi ? hi : v);
  if (rq.mode === 1) {
    const f32 = new Float32Array(1);
    f32[0] = Number(acc); // exact double (|acc| < 2^53), then one rounding to float32
    f32[0] = f32[0]! * rq.scale[c]!; // exact double product, one rounding to float32
    let f = f32[0]!;
    f = f < Number(lo) ? Number(lo) : f > Number(hi) ? Number(hi) : f;
    return rhe(f) + rq.zeroPoint;
  }
  let v: bigint;
  if (rq.mode === 2) {
    const s = rq.shift[c]!;
    if (s >= 0) v = acc << BigInt(s);
    else {
      const e = BigInt(-s);
      const mask = (1n << e) - 1n;
      const rem = acc & mask;
      const threshold = (mask >> 1n) + (acc < 0n ? 1n : 0n);
      v = (acc >> e) + (rem > threshold ? 1n : 0n);
    }
  } else {
    const m0 = BigInt(rq.multiplier[c]!);
    const reduced = m0 < 0x7fff0000n ? (m0 + (1n << 15n)) >> 16n : 0x7fffn;
    const ts = 15n - BigInt(rq.shift[c]!);
    v = ts >= 63n ? 0n : (acc * reduced + (1n << (ts - 1n))) >> ts;
  }
  return Number(clamp(v) + zp);
}

function params(mode: number, m0: number, shift: number, scale: number, out: [number, number, number]): RequantParams {
  return {
    mode,
    multiplier: Int32Array.of(m0),
    shift: Int32Array.of(shift),
    scale: Float32Array.of(scale),
    zeroPoint: out[0],
    min: out[1],
    max: out[2],
  };
}

const OUTS: [number, number, number][] = [
  [0, -32768, 32767],
  [-7, -1000, 30000],
  [32768, 0, 65535],
  [0, 0, 65535],
  [-3, -128, 127],
  [121, 0, 255],
];

function accs(r: () => number): number[] {
  const out = [0, 1, -1, 2, -2, LIMIT, -LIMIT, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 46, -(2 ** 46)];
  for (let k = 0; k < 47; k++) out.push(2 ** k, -(2 ** k), 2 ** k + 1, -(2 ** k) - 1, 3 * 2 ** Math.max(0, k - 2));
  for (let i = 0; i < 120; i++) {
    const mag = 2 ** (r() * 47);
    out.push(Math.min(LIMIT, Math.floor(mag * r())) * (r() < 0.5 ? -1 : 1));
  }
  return out;
}

describe('requantizeWide vs BigInt', () => {
  const r = rng(4242);
  const as = accs(r);
  it('fixed-point: m0 edges, every legal shift', () => {
    const m0s = [0, 1, 32767, 32768, 1 << 30, 0x7ffeffff, 0x7fff0000 - 1, 0x7fff0000, 0x7fffffff, 1518500250];
    for (const m0 of m0s)
      for (let shift = -31; shift <= 14; shift += 1)
        for (const out of [OUTS[(shift + 31 + m0) % OUTS.length]!]) {
          const rq = params(0, m0, shift, 1, out);
          for (const acc of as) expect(requantizeWide(acc, rq, 0), `${acc} m0=${m0} shift=${shift}`).toBe(wideRef(BigInt(acc), rq, 0));
        }
  });
  it('fixed-point: random multipliers', () => {
    for (let i = 0; i < 200; i++) {
      const rq = params(0, Math.floor(r() * 2 ** 31), Math.floor(r() * 46) - 31, 1, OUTS[i % OUTS.length]!);
      for (const acc of as.slice(0, 120)) expect(requantizeWide(acc, rq, 0)).toBe(wideRef(BigInt(acc), rq, 0));
    }
  });
  it('shift: every shift in [-31, 31], ties at every exponent', () => {
    for (let shift = -31; shift <= 31; shift++)
      for (const out of [OUTS[(shift + 31) % OUTS.length]!, OUTS[(shift + 34) % OUTS.length]!]) {
        const rq = params(2, 1 << 30, shift, 1, out);
        const ties = shift < 0 ? [2 ** (-shift - 1), -(2 ** (-shift - 1)), 3 * 2 ** (-shift - 1), -3 * 2 ** (-shift - 1)] : [];
        for (const acc of [...as, ...ties]) expect(requantizeWide(acc, rq, 0), `${acc} shift=${shift}`).toBe(wideRef(BigInt(acc), rq, 0));
      }
  });
  it('float: random and edge scales', () => {
    const scales = [0, 1, 0.5, 2 ** -20, 2 ** -31, 3.0e38, 1e-30, 0.3, 1 / 3, 7.5e-5];
    for (let i = 0; i < 40; i++) scales.push(Math.fround(2 ** (r() * 60 - 50)));
    for (const [i, sc] of scales.entries())
      for (const out of [OUTS[i % OUTS.length]!, OUTS[(i + 3) % OUTS.length]!]) {
        const rq = params(1, 0, 0, sc, out);
        for (const acc of as) expect(requantizeWide(acc, rq, 0), `${acc} scale=${sc}`).toBe(wideRef(BigInt(acc), rq, 0));
      }
  });
  it('roundingDivideByPOTWide on 47-bit values', () => {
    for (const acc of as)
      for (let e = 0; e <= 31; e++) {
        const want = wideRef(BigInt(acc), params(2, 0, -e, 1, [0, -(2 ** 48), 2 ** 48]), 0);
        expect(roundingDivideByPOTWide(acc, e)).toBe(want);
      }
  });
});
