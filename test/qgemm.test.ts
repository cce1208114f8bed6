// qgemm on every backend and variant against the JS reference, bit for bit, on awkward sizes,
// per-tensor and per-channel, all three requantization modes, uint8 and int8 activations.
import { describe, expect, it } from 'vitest';
import { makeRequant, type RequantMode } from '../src/quant/requant.js';
import { backendVariants, jsBackend, randInt, rng } from './backends.js';
import { OnnxPtqError } from '../src/errors.js';
import type { Int8Like, QGemmArgs } from '../src/backends/types.js';

interface Case {
  m: number;
  n: number;
  k: number;
  aSigned: boolean;
  ySigned: boolean;
  perChannel: boolean;
  mode: RequantMode;
  seed: number;
  bZpPerColumn?: boolean;
  padded?: boolean;
  extremeZp?: boolean;
}

function build(c: Case): QGemmArgs {
  const r = rng(c.seed);
  const lda = c.k + (c.padded ? 3 : 0),
    ldb = c.n + (c.padded ? 5 : 0),
    ldy = c.n + (c.padded ? 2 : 0);
  const a: Int8Like = c.aSigned ? new Int8Array(Math.max(1, c.m * lda)) : new Uint8Array(Math.max(1, c.m * lda));
  for (let i = 0; i < a.length; i++) a[i] = c.aSigned ? randInt(r, -128, 127) : randInt(r, 0, 255);
  const b = new Int8Array(Math.max(1, c.k * ldb));
  for (let i = 0; i < b.length; i++) b[i] = randInt(r, -128, 127);
  const amin = c.aSigned ? -128 : 0,
    amax = c.aSigned ? 127 : 255;
  const aZeroPoint = c.extremeZp ? (c.seed % 2 ? amin : amax) : randInt(r, amin, amax);
  const bZeroPoint = c.bZpPerColumn ? Int32Array.from({ length: c.n }, () => randInt(r, -128, 127)) : Int32Array.of(c.extremeZp ? -128 : 0);
  const bias = Int32Array.from({ length: c.n }, () => randInt(r, -50000, 50000));
  // Multipliers sized so outputs spread over the 8-bit range: ~1 / (sqrt(K) * 128 * 64).
  const base = 1 / (Math.sqrt(Math.max(1, c.k)) * 128 * 40);
  const mults = Array.from({ length: c.perChannel ? c.n : 1 }, () => base * (0.25 + 2 * r()));
  const zp = c.ySigned ? randInt(r, -20, 20) : randInt(r, 100, 150);
  const requant = makeRequant(c.mode, mults, { zeroPoint: zp, signed: c.ySigned });
  const y: Int8Like = c.ySigned ? new Int8Array(Math.max(1, c.m * ldy)) : new Uint8Array(Math.max(1, c.m * ldy));
  return { m: c.m, n: c.n, k: c.k, a, lda, aZeroPoint, b, ldb, bZeroPoint, bias, requant, y, ldy };
}

function run(args: QGemmArgs, backend: (typeof backendVariants)[number]): Int8Like {
  const y = args.y.slice() as Int8Like;
  y.fill(77 as never);
  backend.backend.qgemm({ ...args, y, variant: backend.variant });
  return y;
}

const awkward = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];

describe('qgemm: every backend and variant equals the JS reference', () => {
  const cases: Case[] = [];
  let seed = 100;
  // Each awkward size in each dimension, the others varying with it.
  for (const s of awkward) {
    const modes: RequantMode[] = ['fixed-point', 'float', 'shift'];
    cases.push({
      m: s,
      n: awkward[(s * 7) % awkward.length],
      k: awkward[(s * 3) % awkward.length],
      aSigned: s % 2 === 0,
      ySigned: s % 3 === 0,
      perChannel: s % 2 === 1,
      mode: modes[s % 3],
      seed: seed++,
    });
    cases.push({
      m: awkward[(s * 5) % awkward.length],
      n: s,
      k: awkward[(s * 11) % awkward.length],
      aSigned: s % 2 === 1,
      ySigned: s % 3 !== 0,
      perChannel: s % 2 === 0,
      mode: modes[(s + 1) % 3],
      seed: seed++,
      bZpPerColumn: s % 4 === 0,
    });
    cases.push({
      m: awkward[(s * 13) % awkward.length],
      n: awkward[(s * 17) % awkward.length],
      k: s,
      aSigned: s % 2 === 0,
      ySigned: false,
      perChannel: true,
      mode: modes[(s + 2) % 3],
      seed: seed++,
      padded: s % 2 === 0,
      extremeZp: s % 5 === 0,
    });
  }
  // Every mode x granularity x signedness at one awkward shape.
  for (const mode of ['fixed-point', 'float', 'shift'] as const)
    for (const perChannel of [false, true])
      for (const aSigned of [false, true])
        for (const ySigned of [false, true]) cases.push({ m: 33, n: 65, k: 63, aSigned, ySigned, perChannel, mode, seed: seed++ });
  // Larger ones that cross the k-block (256) and several tiles.
  cases.push({ m: 129, n: 257, k: 300, aSigned: false, ySigned: false, perChannel: true, mode: 'fixed-point', seed: seed++ });
  cases.push({
    m: 200,
    n: 96,
    k: 1031,
    aSigned: true,
    ySigned: true,
    perChannel: false,
    mode: 'float',
    seed: seed++,
    bZpPerColumn: true,
    padded: true,
  });
  cases.push({ m: 64, n: 2304 / 9, k: 2304, aSigned: false, ySigned: false, perChannel: true, mode: 'shift', seed: seed++ });

  for (const c of cases) {
    const name = `${c.m}x${c.n}x${c.k} ${c.aSigned ? 's8' : 'u8'}->${c.ySigned ? 's8' : 'u8'} ${c.perChannel ? 'per-channel' : 'per-tensor'} ${c.mode}${c.bZpPerColumn ? ' zb/col' : ''}${c.padded ? ' strided' : ''}${c.extremeZp ? ' extreme-zp' : ''}`;
    it(name, () => {
      const args = build(c);
      const ref = run(args, { label: 'js:ref', backend: jsBackend, variant: 'ref' });
      // The padding between rows of Y must be left alone.
      if (c.padded)
        for (let i = 0; i < c.m; i++)
          for (let j = c.n; j < args.ldy!; j++) if (i * args.ldy! + j < ref.length) expect(ref[i * args.ldy! + j]).toBe(77);
      for (const bv of backendVariants) {
        const y = run(args, bv);
        expect(Array.from(y), bv.label).toEqual(Array.from(ref));
      }
    });
  }

  it('produces an exact result that the float formula predicts on a small case', () => {
    // Y = requant((A - 3) x B + bias) with M = 0.5 exactly: every mode gives the same integers.
    const a = Uint8Array.of(3, 5, 7, 9); // 2x2
    const b = Int8Array.of(1, -2, 3, 4); // 2x2
    for (const mode of ['fixed-point', 'float', 'shift'] as const) {
      for (const bv of backendVariants) {
        const y = new Uint8Array(4);
        bv.backend.qgemm({
          m: 2,
          n: 2,
          k: 2,
          a,
          aZeroPoint: 3,
          b,
          bZeroPoint: Int32Array.of(0),
          bias: Int32Array.of(10, 20),
          requant: makeRequant(mode, [0.5], { zeroPoint: 100, signed: false }),
          y,
          variant: bv.variant,
        });
        // row0: (0,2) x B = [6, 8] + bias = [16, 28] * 0.5 = [8, 14]; row1: (4,6) x B = [22, 16] + bias = [32, 36] -> [16, 18]
        expect(Array.from(y), `${mode} ${bv.label}`).toEqual([108, 114, 116, 118]);
      }
    }
  });

  it('K = 0 gives requant(bias)', () => {
    for (const bv of backendVariants) {
      const y = new Uint8Array(3);
      bv.backend.qgemm({
        m: 1,
        n: 3,
        k: 0,
        a: new Uint8Array(0),
        aZeroPoint: 0,
        b: new Int8Array(0),
        bZeroPoint: Int32Array.of(0),
        bias: Int32Array.of(-4, 0, 4),
        requant: makeRequant('fixed-point', [1], { zeroPoint: 10, signed: false }),
        y,
        variant: bv.variant,
      });
      expect(Array.from(y), bv.label).toEqual([6, 10, 14]);
    }
  });
});

describe('qgemm rejects bad input on every backend', () => {
  const good = (): QGemmArgs => build({ m: 4, n: 5, k: 6, aSigned: false, ySigned: false, perChannel: true, mode: 'fixed-point', seed: 9 });
  const bad: [string, (g: QGemmArgs) => QGemmArgs, RegExp][] = [
    ['A too small', (g) => ({ ...g, a: (g.a as Uint8Array).subarray(1) }), /buffer A is smaller/],
    ['B too small', (g) => ({ ...g, b: g.b.subarray(0, 10) }), /buffer B is smaller/],
    ['Y too small', (g) => ({ ...g, y: new Uint8Array(19) }), /buffer Y is smaller/],
    ['lda < K', (g) => ({ ...g, lda: 5 }), /lda must be >= K/],
    ['ldb < N', (g) => ({ ...g, ldb: 4 }), /ldb must be >= N/],
    ['bias length', (g) => ({ ...g, bias: new Int32Array(4) }), /bias must have 0 or N entries/],
    ['b zero points', (g) => ({ ...g, bZeroPoint: new Int32Array(2) }), /b_zero_point must have 1 or N entries/],
    ['b zero point range', (g) => ({ ...g, bZeroPoint: Int32Array.of(200) }), /b_zero_point out of int8 range/],
    ['a zero point range', (g) => ({ ...g, aZeroPoint: 300 }), /a_zero_point|aZeroPoint/],
    [
      'requant count',
      (g) => ({ ...g, requant: makeRequant('fixed-point', [0.1, 0.2], { zeroPoint: 0, signed: false }) }),
      /count must be 1 or the number of output channels/,
    ],
    ['requant shift', (g) => ({ ...g, requant: { ...g.requant, shift: g.requant.shift.map(() => 40) } }), /shift must be in \[-31, 31\]/],
    ['requant clamp', (g) => ({ ...g, requant: { ...g.requant, min: 200, max: 100 } }), /output_min/],
    ['huge M', (g) => ({ ...g, m: 2 ** 29 }), /at most 2\^28|\[0, 2\^28\]/],
    ['negative K', (g) => ({ ...g, k: -1 }), /K/],
    ['A wrong type', (g) => ({ ...g, a: new Float32Array(24) as unknown as Uint8Array }), /a must be a Uint8Array or Int8Array/],
  ];
  for (const { label, backend, variant } of backendVariants) {
    for (const [what, mutate, msg] of bad) {
      it(`${label}: ${what}`, () => {
        const g = mutate(good());
        let err: unknown;
        try {
          backend.qgemm({ ...g, variant });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(OnnxPtqError);
        expect((err as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
        expect((err as Error).message).toMatch(msg);
      });
    }
  }
});
