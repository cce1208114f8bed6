// The fixed-point primitives against their definitions (gemmlowp; DESIGN.md), computed here
// independently with BigInt, and every backend's requantization against the JS reference.
import { describe, expect, it } from 'vitest';
import {
  INT32_MAX,
  INT32_MIN,
  frexp,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfEven,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  saturatingShiftLeft,
} from '../src/quant/fixedpoint.js';
import { makeRequant, requantizeOne, type RequantMode } from '../src/quant/requant.js';
import { backendVariants, jsBackend, randInt, rng } from './backends.js';

// gemmlowp's definition, literally: (a*b + nudge) / 2^31 with C's truncating division.
function srdhmDef(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C does
}

// x / 2^e rounded to nearest with ties away from zero, on exact rationals.
function rdbpotDef(x: number, e: number): number {
  if (e === 0) return x;
  const d = 1n << BigInt(e);
  const ax = BigInt(Math.abs(x));
  const q = (2n * ax + d) / (2n * d); // floor(|x|/d + 1/2)
  return Number(x < 0 ? -q : q);
}

const edge = [
  0,
  1,
  -1,
  2,
  -2,
  3,
  -3,
  7,
  -7,
  255,
  -256,
  32767,
  -32768,
  65535,
  -65536,
  1 << 30,
  -(1 << 30),
  (1 << 30) + 1,
  -(1 << 30) - 1,
  INT32_MAX,
  INT32_MIN,
  INT32_MAX - 1,
  INT32_MIN + 1,
  1518500250,
  -1518500250,
];

describe('SaturatingRoundingDoublingHighMul', () => {
  it('matches the definition on edge values, including INT32_MIN x INT32_MIN', () => {
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    for (const a of edge) for (const b of edge) expect(saturatingRoundingDoublingHighMul(a, b), `${a} * ${b}`).toBe(srdhmDef(a, b));
  });
  it('matches the definition on random values and on negative ties', () => {
    const r = rng(1);
    for (let i = 0; i < 20000; i++) {
      const a = (r() * 2 ** 32) | 0,
        b = (r() * 2 ** 32) | 0;
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(srdhmDef(a, b));
    }
    // a*b = -2^30 exactly: a tie at -0.5; gemmlowp's nudge sends it to 0 (toward +inf), not -1.
    expect(saturatingRoundingDoublingHighMul(-(1 << 15), 1 << 15)).toBe(srdhmDef(-(1 << 15), 1 << 15));
    expect(saturatingRoundingDoublingHighMul(-(1 << 15), 1 << 15)).toBe(0);
    expect(saturatingRoundingDoublingHighMul(-3 * (1 << 15), 1 << 15)).toBe(-1); // -1.5 -> -1
    expect(saturatingRoundingDoublingHighMul(3 * (1 << 15), 1 << 15)).toBe(2); // 1.5 -> 2
  });
});

describe('RoundingDivideByPOT', () => {
  it('rounds half away from zero for every shift 0..31', () => {
    const r = rng(2);
    for (let e = 0; e <= 31; e++) {
      const xs = [...edge];
      // exact ties at this shift, both signs
      if (e > 0)
        xs.push(
          2 ** (e - 1),
          -(2 ** (e - 1)),
          3 * 2 ** (e - 1) <= INT32_MAX ? 3 * 2 ** (e - 1) : 1,
          -(3 * 2 ** (e - 1)) >= INT32_MIN ? -(3 * 2 ** (e - 1)) : -1,
        );
      for (let i = 0; i < 300; i++) xs.push((r() * 2 ** 32) | 0);
      for (const x of xs) expect(roundingDivideByPOT(x, e), `${x} >> ${e}`).toBe(rdbpotDef(x, e));
    }
    expect(roundingDivideByPOT(-3, 1)).toBe(-2);
    expect(roundingDivideByPOT(3, 1)).toBe(2);
    expect(roundingDivideByPOT(-5, 2)).toBe(-1); // -1.25
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // -1.5, away from zero
  });
  it('saturating left shift clamps to int32 for every shift 0..31', () => {
    for (let e = 0; e <= 31; e++) {
      for (const x of edge) {
        const v = BigInt(x) << BigInt(e);
        const want = v > BigInt(INT32_MAX) ? INT32_MAX : v < BigInt(INT32_MIN) ? INT32_MIN : Number(v);
        expect(saturatingShiftLeft(x, e)).toBe(want);
      }
    }
  });
});

describe('quantizeMultiplier', () => {
  it('puts m0 in [2^30, 2^31) and reconstructs M within one part in 2^31', () => {
    const r = rng(3);
    for (let i = 0; i < 5000; i++) {
      const m = 2 ** (r() * 40 - 30) * (0.5 + r());
      const { m0, shift } = quantizeMultiplier(m);
      expect(m0).toBeGreaterThanOrEqual(2 ** 30);
      expect(m0).toBeLessThan(2 ** 31);
      expect(Math.abs(m0 * 2 ** (shift - 31) - m) / m).toBeLessThan(2 ** -30);
    }
  });
  it('renormalizes a mantissa that rounds to 2^31, and flushes tiny multipliers to zero', () => {
    const m = 1 - 2 ** -40; // frexp mantissa rounds up to 1.0
    expect(quantizeMultiplier(m)).toEqual({ m0: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(2 ** -40)).toEqual({ m0: 0, shift: 0 });
    expect(quantizeMultiplier(0.5)).toEqual({ m0: 2 ** 30, shift: 0 });
    expect(() => quantizeMultiplier(0)).toThrow(RangeError);
    expect(() => quantizeMultiplier(2 ** 40)).toThrow(RangeError);
    expect(frexp(3)).toEqual([0.75, 2]);
  });
  it('multiplies an accumulator as TFLite does for M < 1 and M > 1', () => {
    const { m0, shift } = quantizeMultiplier(0.3);
    expect(multiplyByQuantizedMultiplier(1000, m0, shift)).toBe(300);
    expect(multiplyByQuantizedMultiplier(-1000, m0, shift)).toBe(-300);
    const big = quantizeMultiplier(3.5);
    expect(multiplyByQuantizedMultiplier(1000, big.m0, big.shift)).toBe(3500);
  });
});

describe('roundHalfEven', () => {
  it('rounds ties to even in both directions', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, -2.5001].map(roundHalfEven)).toEqual([-2, -2, -0, 0, 2, 2, 2, -3]);
  });
});

describe('requantization on every backend', () => {
  const r = rng(4);
  const accs = new Int32Array(4099);
  for (let i = 0; i < accs.length; i++) accs[i] = i < edge.length ? edge[i] : i % 3 === 0 ? (r() * 2 ** 32) | 0 : randInt(r, -70000, 70000);
  const cases: { mode: RequantMode; perChannel: boolean; signed: boolean; zp: number; relu: boolean; small?: boolean }[] = [];
  for (const mode of ['fixed-point', 'float', 'shift'] as const)
    for (const perChannel of [false, true])
      for (const signed of [false, true]) cases.push({ mode, perChannel, signed, zp: signed ? -5 : 128, relu: perChannel });
  // Per tensor with a multiplier below 1 too (a right shift; the one above is a left shift), and with a
  // fused ReLU: the AVX2 kernel packs per-tensor rows by the sign of the output minimum.
  for (const mode of ['fixed-point', 'shift'] as const) {
    cases.push({ mode, perChannel: false, signed: false, zp: 3, relu: false, small: true });
    for (const [signed, zp] of [
      [false, 128],
      [true, -5],
      [true, 0],
    ] as const)
      cases.push({ mode, perChannel: false, signed, zp, relu: true, small: true });
  }

  for (const c of cases) {
    const name = `${c.mode} ${c.perChannel ? 'per-channel' : 'per-tensor'} ${c.signed ? 'int8' : 'uint8'}${c.relu ? ' relu' : ''}${c.small ? ' multiplier < 1' : ''}`;
    const mults = c.small
      ? [0.0123]
      : Array.from({ length: c.perChannel ? accs.length : 1 }, (_, i) => 2 ** (-(i % 40) + 4) * (0.5 + ((i * 7919) % 1000) / 1000));
    const rq = makeRequant(c.mode, mults, { zeroPoint: c.zp, signed: c.signed, ...(c.relu ? { min: c.zp } : {}) });
    const values = Array.from(accs, (a, i) => requantizeOne(a, rq, c.perChannel ? i : 0));
    const want = c.signed ? Int8Array.from(values) : Uint8Array.from(values);
    for (const { label, backend, variant } of backendVariants) {
      it(`${name}: ${label} matches the reference`, () => {
        const y = c.signed ? new Int8Array(accs.length) : new Uint8Array(accs.length);
        backend.requantizeRow(accs, rq, y, variant);
        expect(Array.from(y)).toEqual(Array.from(want));
      });
    }
  }
  it('the JS reference clamps fused ReLU at the zero point', () => {
    const rq = makeRequant('fixed-point', [0.01], { zeroPoint: 10, signed: false, min: 10 });
    const y = new Uint8Array(3);
    jsBackend.requantizeRow(Int32Array.from([-5000, 0, 5000]), rq, y);
    expect(Array.from(y)).toEqual([10, 10, 60]);
  });
});
