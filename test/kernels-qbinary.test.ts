// Quantized Add and Mul with broadcasting: every backend and variant against the JS reference, bit for bit.
import { describe, expect, it } from 'vitest';
import { makeQAddParams } from '../src/quant/qadd.js';
import { makeRequant, floatMultiplier, REQUANT_MODES } from '../src/quant/requant.js';
import { qaddRef, qmulRef } from '../src/kernels/int8/qbinary-ref.js';
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

// Large tensors and long broadcast runs go through tables built with the row kernels
// (native/broadcast/tabled.h): a 65,536-entry table when both operands advance over at least 2^18
// outputs, a 256-entry table per scalar when one operand is broadcast over runs of >= 1024. Every
// byte value occurs in these inputs; the bits must stay the reference's.
describe('qadd and qmul through tables: every backend and variant equals the reference', () => {
  const TABLE_SHAPES: [string, number[], number[]][] = [
    ['pair table, same shapes', [2, 300, 512], [2, 300, 512]],
    ['pair table, outer broadcast', [4, 256, 300], [1, 256, 300]],
    ['row table, b per channel', [1, 6, 40, 40], [1, 6, 1, 1]],
    ['row table, a per channel', [1, 5, 1, 1], [1, 5, 33, 40]],
    ['row table, a scalar', [1], [3, 1100]],
  ];
  for (const op of ['qadd', 'qmul'] as const)
    it(`${op}: ${TABLE_SHAPES.map((c) => c[0]).join('; ')}`, () => {
      let seed = 700;
      for (const signed of [false, true])
        for (const mode of REQUANT_MODES)
          for (const [what, as, bs] of TABLE_SHAPES) {
            const r = rng(seed++);
            const [za, zb, zc] = [17, 200, 3].map((v) => (signed ? v - 128 : v));
            const ys = broadcastShape(as, bs);
            const n = (d: number[]) => d.reduce((p, v) => p * v, 1);
            const a = rand8(r, n(as), signed),
              b = rand8(r, n(bs), signed);
            const y = () => (signed ? new Int8Array(n(ys)) : new Uint8Array(n(ys)));
            const params = makeQAddParams(mode, 0.02, za!, 0.05, zb!, 0.04, { zeroPoint: zc!, signed });
            const requant = makeRequant(mode, [floatMultiplier(0.02, 0.05, 0.3)], { zeroPoint: zc!, signed });
            const addArgs = { a, aShape: as, b, bShape: bs, params };
            const mulArgs = { a, aShape: as, aZeroPoint: za!, b, bShape: bs, bZeroPoint: zb!, requant };
            const want = y();
            if (op === 'qadd') qaddRef({ ...addArgs, y: want });
            else qmulRef({ ...mulArgs, y: want });
            for (const [label, be, variant] of targets) {
              const got = y();
              if (op === 'qadd') be.qadd({ ...addArgs, y: got, variant });
              else be.qmul({ ...mulArgs, y: got, variant });
              expect(firstDiff(got, want), `${label} ${signed ? 'int8' : 'uint8'} ${mode} ${what}`).toBe(-1);
            }
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
