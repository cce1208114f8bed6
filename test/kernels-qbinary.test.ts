// Quantized Add and Mul with broadcasting: every backend and variant against the JS reference, bit for bit.
import { describe, expect, it } from 'vitest';
import { makeQAddParams } from '../src/quant/qadd.js';
import { makeRequant, floatMultiplier, REQUANT_MODES } from '../src/quant/requant.js';
import { lut2Ref, qaddRef, qmulRef } from '../src/kernels/int8/qbinary-ref.js';
import { broadcastShape } from '../src/backends/kernels-qbinary.js';
import { OnnxPtqError } from '../src/errors.js';
import { firstDiff, nativeAndWasm, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

const SHAPES: [number[], number[]][] = [
  ...SIZES.map((n) => [[n], [n]] as [number[], number[]]),
  [
    [1, 3, 5, 7],
    [1, 3, 1, 1],
  ],
  [
    [1, 3, 1, 1],
    [1, 3, 5, 7],
  ],
  [
    [2, 5, 9, 9],
    [5, 1, 1],
  ],
  [
    [4, 1, 33],
    [1, 7, 1],
  ],
  [[65], [1]],
  [[1], [33]],
  [
    [2, 17, 3],
    [17, 1],
  ],
  [
    [1, 1],
    [1, 1],
  ],
  [
    [3, 64, 2],
    [3, 1, 2],
  ],
  [
    [0, 5],
    [1, 5],
  ],
  [[7, 31], []],
];
const ZPS = [
  [0, 0, 0],
  [255, 0, 128],
  [0, 255, 255],
  [17, 200, 3],
];

function pickScale(r: () => number): number {
  return 2 ** (r() * 8 - 8) * (1 + r());
}

describe.each(targets)('%s', (_label, backend, variant) => {
  for (const signed of [false, true]) {
    for (const mode of REQUANT_MODES) {
      it(`qadd ${signed ? 'int8' : 'uint8'} ${mode}`, () => {
        const r = rng(11 + (signed ? 1 : 0) + mode.length);
        for (const [as, bs] of SHAPES) {
          for (const z of ZPS) {
            const [za, zb, zc] = z.map((v) => (signed ? v - 128 : v));
            const ys = broadcastShape(as, bs);
            const na = as.reduce((p, d) => p * d, 1),
              nb = bs.reduce((p, d) => p * d, 1),
              ny = ys.reduce((p, d) => p * d, 1);
            const a = rand8(r, na, signed),
              b = rand8(r, nb, signed);
            const params = makeQAddParams(mode, pickScale(r), za, pickScale(r), zb, pickScale(r), { zeroPoint: zc, signed });
            const want = signed ? new Int8Array(ny) : new Uint8Array(ny);
            qaddRef({ a, aShape: as, b, bShape: bs, params, y: want });
            const got = signed ? new Int8Array(ny) : new Uint8Array(ny);
            backend.qadd({ a, aShape: as, b, bShape: bs, params, y: got, variant });
            expect(firstDiff(got, want), `${as} + ${bs} zp ${z}`).toBe(-1);
          }
        }
      });
      it(`qmul ${signed ? 'int8' : 'uint8'} ${mode}`, () => {
        const r = rng(23 + (signed ? 1 : 0) + mode.length);
        for (const [as, bs] of SHAPES) {
          for (const z of ZPS) {
            const [za, zb, zc] = z.map((v) => (signed ? v - 128 : v));
            const ys = broadcastShape(as, bs);
            const ny = ys.reduce((p, d) => p * d, 1);
            const a = rand8(
                r,
                as.reduce((p, d) => p * d, 1),
                signed,
              ),
              b = rand8(
                r,
                bs.reduce((p, d) => p * d, 1),
                signed,
              );
            const m = floatMultiplier(pickScale(r), pickScale(r), pickScale(r) * 64);
            const requant = makeRequant(mode, [m], { zeroPoint: zc, signed, min: signed ? -100 : 10 });
            const want = signed ? new Int8Array(ny) : new Uint8Array(ny);
            qmulRef({ a, aShape: as, aZeroPoint: za, b, bShape: bs, bZeroPoint: zb, requant, y: want });
            const got = signed ? new Int8Array(ny) : new Uint8Array(ny);
            backend.qmul({ a, aShape: as, aZeroPoint: za, b, bShape: bs, bZeroPoint: zb, requant, y: got, variant });
            expect(firstDiff(got, want), `${as} * ${bs} zp ${z}`).toBe(-1);
          }
        }
      });
    }
  }
});

// lut2: a binary op as the table of its 65,536 results (what the integer lowering does for Add and
// Mul of two activations). The kernel against its definition on every backend and variant, on runs
// where both operands advance, where a or b is one broadcast value (the LUT-kernel paths, a's row
// and b's gathered column), and both; then a table built with qadd/qmul over every pair of bytes,
// looked up, gives the direct call's bits in every mode and sign.
describe('lut2: every backend and variant equals the definition', () => {
  const LUT2_SHAPES: [number[], number[]][] = [
    [
      [2, 300, 33],
      [2, 300, 33],
    ],
    [
      [4, 17, 65],
      [1, 17, 65],
    ],
    [
      [1, 6, 40, 40],
      [1, 6, 1, 1],
    ],
    [
      [1, 5, 1, 1],
      [1, 5, 33, 40],
    ],
    [[1], [3, 1100]],
    [
      [7, 1],
      [1, 1],
    ],
    [
      [0, 5],
      [1, 5],
    ],
  ];
  it(`${LUT2_SHAPES.length} broadcast shapes, both types, on ${targets.map((t) => t[0]).join(', ')}`, () => {
    const r = rng(901);
    const table = Uint8Array.from({ length: 65536 }, () => Math.floor(r() * 256));
    for (const signed of [false, true])
      for (const [as, bs] of LUT2_SHAPES) {
        const n = (d: number[]) => d.reduce((p, v) => p * v, 1);
        const a = rand8(r, n(as), signed),
          b = rand8(r, n(bs), signed);
        const ny = n(broadcastShape(as, bs));
        const y = () => (signed ? new Int8Array(ny) : new Uint8Array(ny));
        const want = y();
        lut2Ref({ a, aShape: as, b, bShape: bs, table, y: want });
        for (const [label, be, variant] of targets) {
          const got = y();
          be.lut2({ a, aShape: as, b, bShape: bs, table, y: got, variant });
          expect(firstDiff(got, want), `${label} ${as} ${bs} ${signed}`).toBe(-1);
        }
      }
  });

  it('a table built with qadd or qmul over every pair of bytes gives their bits', () => {
    for (const op of ['qadd', 'qmul'] as const)
      for (const signed of [false, true])
        for (const mode of REQUANT_MODES)
          for (const [label, be, variant] of targets) {
            const r = rng(950 + mode.length + (signed ? 1 : 0));
            const [za, zb, zc] = [17, 200, 3].map((v) => (signed ? v - 128 : v)) as [number, number, number];
            const params = makeQAddParams(mode, 0.02, za, 0.05, zb, 0.04, { zeroPoint: zc, signed });
            const requant = makeRequant(mode, [floatMultiplier(0.02, 0.05, 0.3)], { zeroPoint: zc, signed });
            const call = (
              a: Int8Array | Uint8Array,
              aShape: number[],
              b: Int8Array | Uint8Array,
              bShape: number[],
              y: Int8Array | Uint8Array,
            ) =>
              op === 'qadd'
                ? be.qadd({ a, aShape, b, bShape, params, y, variant })
                : be.qmul({ a, aShape, aZeroPoint: za, b, bShape, bZeroPoint: zb, requant, y, variant });
            const ids = Uint8Array.from({ length: 256 }, (_, i) => i);
            const id8 = signed ? new Int8Array(ids.buffer) : ids;
            const table = new Uint8Array(65536);
            call(id8, [256, 1], id8, [1, 256], signed ? new Int8Array(table.buffer) : table);
            const a = rand8(r, 64 * 300, signed),
              b = rand8(r, 64 * 300, signed);
            const want = signed ? new Int8Array(a.length) : new Uint8Array(a.length);
            const got = signed ? new Int8Array(a.length) : new Uint8Array(a.length);
            call(a, [64, 300], b, [64, 300], want);
            be.lut2({ a, aShape: [64, 300], b, bShape: [64, 300], table, y: got, variant });
            expect(firstDiff(got, want), `${label} ${op} ${signed} ${mode}`).toBe(-1);
          }
  });
});

describe('qadd arithmetic', () => {
  it('fixed-point Add tracks the real sum within one step', () => {
    const sa = 0.05,
      sb = 0.02,
      sc = 0.07;
    const p = makeQAddParams('fixed-point', sa, 128, sb, 100, sc, { zeroPoint: 120, signed: false });
    const a = new Uint8Array(256).map((_, i) => i),
      b = new Uint8Array(256).map((_, i) => 255 - i);
    const y = new Uint8Array(256);
    qaddRef({ a, aShape: [256], b, bShape: [256], params: p, y });
    for (let i = 0; i < 256; i++) {
      const real = sa * (a[i] - 128) + sb * (b[i] - 100);
      const ideal = Math.min(255, Math.max(0, Math.round(real / sc) + 120));
      expect(Math.abs(y[i] - ideal)).toBeLessThanOrEqual(1);
    }
  });
});

describe.each(nativeAndWasm.map((b) => [b.name, b] as const))('%s bad input', (_n, backend) => {
  const rq = makeRequant('fixed-point', [0.01], { zeroPoint: 0, signed: false });
  const p = makeQAddParams('fixed-point', 0.1, 0, 0.1, 0, 0.2, { zeroPoint: 0, signed: false });
  const u = (n: number) => new Uint8Array(n);
  const cases: [string, () => void, RegExp][] = [
    ['unbroadcastable', () => backend.qadd({ a: u(6), aShape: [2, 3], b: u(4), bShape: [4], params: p, y: u(6) }), /broadcastable/],
    ['short A', () => backend.qadd({ a: u(5), aShape: [2, 3], b: u(3), bShape: [3], params: p, y: u(6) }), /buffer A/],
    ['short Y', () => backend.qadd({ a: u(6), aShape: [2, 3], b: u(3), bShape: [3], params: p, y: u(5) }), /buffer Y/],
    [
      'mixed types',
      () => backend.qadd({ a: u(6), aShape: [6], b: new Int8Array(6), bShape: [6], params: p, y: u(6) }),
      /Uint8Array or all Int8Array/,
    ],
    [
      'bad left shift',
      () => backend.qadd({ a: u(6), aShape: [6], b: u(6), bShape: [6], params: { ...p, leftShift: 30 }, y: u(6) }),
      /left_shift/,
    ],
    [
      'bad zero point',
      () => backend.qadd({ a: u(6), aShape: [6], b: u(6), bShape: [6], params: { ...p, aZeroPoint: -1 }, y: u(6) }),
      /a_zero_point/,
    ],
    ['rank 9', () => backend.qadd({ a: u(1), aShape: [1, 1, 1, 1, 1, 1, 1, 1, 1], b: u(1), bShape: [1], params: p, y: u(1) }), /rank/],
    [
      'qmul per-channel rq',
      () =>
        backend.qmul({
          a: u(2),
          aShape: [2],
          aZeroPoint: 0,
          b: u(2),
          bShape: [2],
          bZeroPoint: 0,
          requant: makeRequant('float', [1, 2], { zeroPoint: 0, signed: false }),
          y: u(2),
        }),
      /count/,
    ],
    [
      'qmul zero point',
      () => backend.qmul({ a: u(2), aShape: [2], aZeroPoint: 300, b: u(2), bShape: [2], bZeroPoint: 0, requant: rq, y: u(2) }),
      /ZeroPoint|zero_point/,
    ],
    ['lut2 short table', () => backend.lut2({ a: u(6), aShape: [6], b: u(6), bShape: [6], table: u(65535), y: u(6) }), /65536 entries/],
    [
      'lut2 unbroadcastable',
      () => backend.lut2({ a: u(6), aShape: [2, 3], b: u(4), bShape: [4], table: u(65536), y: u(6) }),
      /broadcastable/,
    ],
    ['lut2 short Y', () => backend.lut2({ a: u(6), aShape: [6], b: u(6), bShape: [6], table: u(65536), y: u(5) }), /buffer Y/],
    [
      'lut2 mixed types',
      () => backend.lut2({ a: u(6), aShape: [6], b: new Int8Array(6), bShape: [6], table: u(65536), y: u(6) }),
      /Uint8Array or all Int8Array/,
    ],
  ];
  it.each(cases)('%s', (_c, f, re) => {
    expect(f).toThrow(OnnxPtqError);
    try {
      f();
    } catch (e) {
      expect((e as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
      expect((e as Error).message).toMatch(re);
    }
  });
});
