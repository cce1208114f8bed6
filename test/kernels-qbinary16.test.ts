// A16W8 Add and Mul (qbinary16): every backend and variant (auto included) against the JS references
// qaddRef/qmulRef bit for bit, on every (a_type, b_type, y_type) triple, all three requant modes,
// awkward sizes and broadcast shapes (scalar, per channel, last axis, general), values at the type
// extremes; bad arguments (types, sizes, the int32 bounds) refused with KERNEL_ARGUMENT before Y is touched.
import { describe, expect, it } from 'vitest';
import { makeQAddParams } from '../src/quant/qadd.js';
import { makeRequant, REQUANT_MODES, type RequantMode } from '../src/quant/requant.js';
import { qaddRef, qmulRef } from '../src/kernels/int8/qbinary-ref.js';
import { broadcastShape } from '../src/backends/kernels-qbinary.js';
import type { QAdd16Args, QMul16Args } from '../src/backends/kernels-qbinary16.js';
import type { WideLike } from '../src/backends/kernels-qconv16.js';
import type { Backend, Int8Like, KernelVariant } from '../src/backends/types.js';
import { OnnxPtqError } from '../src/errors.js';
import { backends, firstDiff, rng, SIZES } from './int8-ops-helpers.js';

type TypeName = 'uint8' | 'int8' | 'int16' | 'uint16';
const TYPES: TypeName[] = ['uint8', 'int8', 'int16', 'uint16'];
const RANGE: Record<TypeName, [number, number]> = { uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535] };
const wide = (t: TypeName) => t === 'int16' || t === 'uint16';

function alloc(t: TypeName, n: number): WideLike {
  return t === 'uint8' ? new Uint8Array(n) : t === 'int8' ? new Int8Array(n) : t === 'int16' ? new Int16Array(n) : new Uint16Array(n);
}

/** Uniform over the type's range, with the range ends 1 time in 10. */
function randWide(r: () => number, t: TypeName, n: number): WideLike {
  const [lo, hi] = RANGE[t];
  const a = alloc(t, n);
  for (let i = 0; i < n; i++) {
    const u = r();
    a[i] = u < 0.05 ? lo : u < 0.1 ? hi : lo + Math.floor(r() * (hi - lo + 1));
  }
  return a;
}

const targets: [string, Backend, KernelVariant][] = backends.flatMap((b) => [
  ...b.variants.map((v): [string, Backend, KernelVariant] => [`${b.name}:${v}`, b, v]),
  [`${b.name}:auto`, b, 'auto'] as [string, Backend, KernelVariant],
]);

const SHAPES: [number[], number[]][] = [
  ...SIZES.map((n) => [[n], [n]] as [number[], number[]]),
  [
    [1, 5, 3, 7],
    [1, 5, 1, 1],
  ], // per channel
  [
    [1, 5, 1, 1],
    [1, 5, 3, 7],
  ],
  [
    [1, 33, 2, 9],
    [33, 1, 1],
  ],
  [[2, 3, 17], [17]], // last axis
  [[65], [65, 2].slice(0, 1)],
  [[3, 65], [1]], // scalar
  [[1], [2, 33]],
  [[7, 31], []],
  [
    [4, 1, 33],
    [1, 7, 1],
  ], // general
  [
    [3, 64, 2],
    [3, 1, 2],
  ],
  [
    [0, 5],
    [1, 5],
  ],
];

const count = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function zeroPoint(r: () => number, t: TypeName): number {
  const [lo, hi] = RANGE[t];
  if (wide(t) && r() < 0.5) return t === 'int16' ? 0 : 32768;
  return r() < 0.2 ? (r() < 0.5 ? lo : hi) : lo + Math.floor(r() * (hi - lo + 1));
}
const reach = (t: TypeName, z: number) => Math.max(z - RANGE[t][0], RANGE[t][1] - z);

function outSpec(r: () => number, t: TypeName, clamp: boolean) {
  const [lo, hi] = RANGE[t];
  const zp = lo + Math.floor((hi - lo) * (0.2 + 0.6 * r()));
  const span = hi - lo;
  return {
    zeroPoint: zp,
    signed: lo < 0,
    bits: (wide(t) ? 16 : 8) as 8 | 16,
    ...(clamp ? { min: Math.max(lo, zp - Math.floor(span / 5)), max: Math.min(hi, zp + Math.floor(span / 4)) } : {}),
  };
}

function addArgs(
  seed: number,
  at: TypeName,
  bt: TypeName,
  yt: TypeName,
  mode: RequantMode,
  aShape: number[],
  bShape: number[],
): QAdd16Args {
  const r = rng(seed);
  const za = zeroPoint(r, at),
    zb = zeroPoint(r, bt);
  const ra = reach(at, za),
    rb = reach(bt, zb);
  // The largest left shift the int32 bound allows, at most 20 (8-bit) or 15 (16-bit).
  let ls = wide(at) || wide(bt) ? 15 : 20;
  while (ls > 0 && Math.max(ra, rb) * 2 ** ls >= 2 ** 31) ls--;
  const sa = 2 ** (r() * 6 - 3),
    sb = sa * 2 ** (r() * 6 - 3);
  const ySpan = RANGE[yt][1] - RANGE[yt][0];
  const sc = ((sa * ra + sb * rb) / ySpan) * 2 ** (r() * 3 - 1.5);
  const params = makeQAddParams(mode, sa, za, sb, zb, sc, outSpec(r, yt, r() < 0.3), ls);
  const ys = broadcastShape(aShape, bShape);
  return { a: randWide(r, at, count(aShape)), aShape, b: randWide(r, bt, count(bShape)), bShape, params, y: alloc(yt, count(ys)) };
}

function mulArgs(
  seed: number,
  at: TypeName,
  bt: TypeName,
  yt: TypeName,
  mode: RequantMode,
  aShape: number[],
  bShape: number[],
): QMul16Args {
  const r = rng(seed);
  let za = zeroPoint(r, at),
    zb = zeroPoint(r, bt);
  if (reach(at, za) * reach(bt, zb) >= 2 ** 31) {
    if (wide(at)) za = at === 'int16' ? 0 : 32768;
    if (wide(bt)) zb = bt === 'int16' ? 0 : 32768;
  }
  const ySpan = RANGE[yt][1] - RANGE[yt][0];
  const m = (ySpan / (reach(at, za) * reach(bt, zb))) * 2 ** (r() * 4 - 1);
  const requant = makeRequant(mode, [m], outSpec(r, yt, r() < 0.3));
  const ys = broadcastShape(aShape, bShape);
  return {
    a: randWide(r, at, count(aShape)),
    aShape,
    aZeroPoint: za,
    b: randWide(r, bt, count(bShape)),
    bShape,
    bZeroPoint: zb,
    requant,
    y: alloc(yt, count(ys)),
  };
}

const as8 = <T extends { a: WideLike; b: WideLike; y: WideLike }>(g: T) =>
  ({ ...g, a: g.a as Int8Like, b: g.b as Int8Like, y: g.y as Int8Like }) as never;

function expectAdd(g: QAdd16Args): WideLike {
  const y = g.y.slice() as WideLike;
  qaddRef(as8({ ...g, y }));
  return y;
}
function expectMul(g: QMul16Args): WideLike {
  const y = g.y.slice() as WideLike;
  qmulRef(as8({ ...g, y }));
  return y;
}

const TRIPLES: [TypeName, TypeName, TypeName][] = TYPES.flatMap((a) =>
  TYPES.flatMap((b) => TYPES.map((y): [TypeName, TypeName, TypeName] => [a, b, y])),
);

describe.each(targets)('%s', (_label, backend, variant) => {
  it('qadd16: every type triple and mode on awkward and broadcast shapes, bit-identical to qaddRef', () => {
    let seed = 1;
    for (const [at, bt, yt] of TRIPLES)
      for (const mode of REQUANT_MODES)
        for (let k = 0; k < 3; k++) {
          const [aShape, bShape] = SHAPES[(seed * 7 + k) % SHAPES.length]!;
          const g = addArgs(seed++, at, bt, yt, mode, aShape, bShape);
          const want = expectAdd(g);
          backend.qadd16({ ...g, variant });
          const d = firstDiff(g.y, want);
          if (d >= 0) throw new Error(`${at},${bt}->${yt} ${mode} [${aShape}]x[${bShape}]: y[${d}] = ${g.y[d]}, want ${want[d]}`);
        }
  });

  it('qmul16: every type triple and mode on awkward and broadcast shapes, bit-identical to qmulRef', () => {
    let seed = 1000;
    for (const [at, bt, yt] of TRIPLES)
      for (const mode of REQUANT_MODES)
        for (let k = 0; k < 3; k++) {
          const [aShape, bShape] = SHAPES[(seed * 5 + k) % SHAPES.length]!;
          const g = mulArgs(seed++, at, bt, yt, mode, aShape, bShape);
          const want = expectMul(g);
          backend.qmul16({ ...g, variant });
          const d = firstDiff(g.y, want);
          if (d >= 0) throw new Error(`${at},${bt}->${yt} ${mode} [${aShape}]x[${bShape}]: y[${d}] = ${g.y[d]}, want ${want[d]}`);
        }
  });

  it('the hot shapes: same-shape and per-channel int16, longer than a SIMD block', () => {
    const cases: [number[], number[]][] = [
      [
        [1, 3, 19, 23],
        [1, 3, 19, 23],
      ],
      [
        [1, 5, 17, 31],
        [1, 5, 1, 1],
      ],
      [
        [2, 6, 9, 40],
        [6, 1, 1],
      ],
      [
        [1, 4, 300],
        [1, 4, 300],
      ],
    ];
    let seed = 5000;
    for (const [aShape, bShape] of cases)
      for (const mode of REQUANT_MODES)
        for (const [at, bt, yt] of [
          ['int16', 'int16', 'int16'],
          ['int16', 'int8', 'int16'],
          ['uint8', 'int16', 'int8'],
        ] as [TypeName, TypeName, TypeName][]) {
          const ga = addArgs(seed++, at, bt, yt, mode, aShape, bShape);
          const wa = expectAdd(ga);
          backend.qadd16({ ...ga, variant });
          expect(firstDiff(ga.y, wa)).toBe(-1);
          const gm = mulArgs(seed++, at, bt, yt, mode, aShape, bShape);
          const wm = expectMul(gm);
          backend.qmul16({ ...gm, variant });
          expect(firstDiff(gm.y, wm)).toBe(-1);
        }
  });

  it('the int32 bounds hold at the extremes: left shift 15 on full-range 16-bit inputs, products of 2^30', () => {
    const n = 40;
    for (const mode of REQUANT_MODES) {
      const a = Int16Array.from({ length: n }, (_, i) => (i % 4 === 0 ? -32768 : i % 4 === 1 ? 32767 : i * 997 - 20000));
      const b = Uint16Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 65535 : i % 3 === 1 ? 0 : i * 1500));
      // uint16 at zero point 0: reach 65535, 65535 * 2^15 < 2^31.
      const params = makeQAddParams(mode, 0.01, 0, 0.004, 0, 0.02, { zeroPoint: 0, signed: true, bits: 16 }, 15);
      const g: QAdd16Args = { a, aShape: [n], b, bShape: [n], params, y: new Int16Array(n) };
      const want = expectAdd(g);
      backend.qadd16({ ...g, variant });
      expect(firstDiff(g.y, want)).toBe(-1);
      const requant = makeRequant(mode, [2 ** -15], { zeroPoint: 0, signed: true, bits: 16 });
      const gm: QMul16Args = { a, aShape: [n], aZeroPoint: 0, b: a.slice(), bShape: [n], bZeroPoint: 0, requant, y: new Int16Array(n) };
      const wm = expectMul(gm);
      backend.qmul16({ ...gm, variant });
      expect(firstDiff(gm.y, wm)).toBe(-1);
    }
  });
});

describe.each(backends.map((b) => [b.name, b] as [string, Backend]))('%s: bad arguments', (_n, backend) => {
  const okAdd = (): QAdd16Args => addArgs(7, 'int16', 'int8', 'int16', 'fixed-point', [2, 5], [5]);
  const okMul = (): QMul16Args => mulArgs(8, 'int16', 'uint8', 'uint8', 'fixed-point', [2, 5], [5]);
  const addCases: [string, (g: QAdd16Args) => unknown, RegExp][] = [
    ['a Float32Array', (g) => ({ ...g, a: new Float32Array(10) }), /a must be/],
    ['y an Int32Array', (g) => ({ ...g, y: new Int32Array(10) }), /y must be/],
    ['a too small', (g) => ({ ...g, a: new Int16Array(9) }), /buffer A/],
    ['y too small', (g) => ({ ...g, y: new Int16Array(9) }), /buffer Y/],
    ['not broadcastable', (g) => ({ ...g, bShape: [4], b: new Int8Array(4) }), /broadcast/],
    ['rank 9', (g) => ({ ...g, aShape: [1, 1, 1, 1, 1, 1, 1, 2, 5] }), /rank/],
    ['mode 3', (g) => ({ ...g, params: { ...g.params, mode: 3 } }), /mode/],
    ['a zero point out of int8 for b', (g) => ({ ...g, params: { ...g.params, bZeroPoint: 200 } }), /b_zero_point/],
    ['a zero point out of int16', (g) => ({ ...g, params: { ...g.params, aZeroPoint: 40000 } }), /a_zero_point/],
    ['output zero point out of int16', (g) => ({ ...g, params: { ...g.params, zeroPoint: -40000 } }), /zero_?[pP]oint/],
    ['clamp past int8 output', (g) => ({ ...g, y: new Int8Array(10) }), /output_zero_point|output_min/],
    ['left shift 23', (g) => ({ ...g, params: { ...g.params, leftShift: 23 } }), /left_shift/],
    ['left shift 16 on int16 (int32 bound)', (g) => ({ ...g, params: { ...g.params, leftShift: 16 } }), /2\^31/],
    ['shift 40', (g) => ({ ...g, params: { ...g.params, outputShift: 40 } }), /shift/],
    ['negative multiplier', (g) => ({ ...g, params: { ...g.params, aMultiplier: -5 } }), /multiplier/],
    ['variant', (g) => ({ ...g, variant: 'nope' }), /variant/],
  ];
  for (const [name, mutate, re] of addCases)
    it(`qadd16: ${name}`, () => {
      const g = mutate(okAdd()) as QAdd16Args;
      const before = g.y instanceof Object && 'slice' in g.y ? (g.y as WideLike).slice() : g.y;
      let err: unknown;
      try {
        backend.qadd16(g);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OnnxPtqError);
      expect((err as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
      expect((err as Error).message).toMatch(re);
      expect(g.y).toEqual(before);
    });
  const mulCases: [string, (g: QMul16Args) => unknown, RegExp][] = [
    ['b a Float64Array', (g) => ({ ...g, b: new Float64Array(5) }), /b must be/],
    ['b too small', (g) => ({ ...g, b: new Uint8Array(4) }), /buffer B/],
    ['zero point out of uint8', (g) => ({ ...g, bZeroPoint: -1 }), /b_zero_point/],
    ['int16 x int16 past 2^31', (g) => ({ ...g, b: new Int16Array(5), bZeroPoint: -32768, aZeroPoint: 32767 }), /2\^31/],
    ['per-channel requant', (g) => ({ ...g, requant: makeRequant('fixed-point', [0.01, 0.02], { zeroPoint: 0, signed: false }) }), /count/],
    ['requant zero point out of uint8', (g) => ({ ...g, requant: { ...g.requant, zeroPoint: 300 } }), /zero_point/],
    ['requant clamp past uint8', (g) => ({ ...g, requant: { ...g.requant, max: 256 } }), /output_min/],
    ['requant shift 32', (g) => ({ ...g, requant: { ...g.requant, shift: Int32Array.of(32) } }), /shift/],
    ['requant mode 5', (g) => ({ ...g, requant: { ...g.requant, mode: 5 } }), /mode/],
  ];
  for (const [name, mutate, re] of mulCases)
    it(`qmul16: ${name}`, () => {
      const g = mutate(okMul()) as QMul16Args;
      const before = (g.y as WideLike).slice();
      let err: unknown;
      try {
        backend.qmul16(g);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OnnxPtqError);
      expect((err as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
      expect((err as Error).message).toMatch(re);
      expect(g.y).toEqual(before);
    });
});
