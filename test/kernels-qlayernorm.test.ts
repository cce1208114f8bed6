// Integer LayerNorm (native/include/opq_qlayernorm.h): every backend and variant against the JS
// reference (src/kernels/int8/qlayernorm-ref.ts) bit for bit on awkward row lengths, with and without
// Scale/B, over scales that put the row multiplier's shift on both sides of 0 and past 62; constant
// rows; bad arguments refused by every backend. (Accuracy against float: integer-layernorm.test.ts.)
import { describe, expect, it } from 'vitest';
import { layerNormAffine, layerNormParams, qlayerNormRef } from '../src/kernels/int8/qlayernorm-ref.js';
import { expectKernelArgument } from './kernel-errors.js';
import type { LayerNormArgs } from '../src/backends/kernels-qunary.js';
import { backends, firstDiff, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

type Case = Omit<LayerNormArgs, 'y' | 'variant'> & { ySigned: boolean };

function makeCase(r: () => number, rows: number, C: number, xSigned: boolean, ySigned: boolean, affine: boolean, constant = false): Case {
  // Scales over six decades each: the row shift sr then runs from negative (tiny Sy) to above 62.
  const sx = 10 ** (-4 + r() * 4),
    sy = 10 ** (-5 + r() * 5),
    eps = [0, 1e-12, 1e-5, 1e-3, 0.5][Math.floor(r() * 5)]!;
  const out = ySigned
    ? { zeroPoint: Math.floor(r() * 60) - 30, min: -128, max: 127 }
    : { zeroPoint: Math.floor(r() * 256), min: Math.floor(r() * 3), max: 255 - Math.floor(r() * 3) };
  let gain = 1,
    ab: { gamma: Int32Array; beta: Int32Array } | undefined;
  if (affine) {
    const gamma = Float32Array.from({ length: C }, () => (r() - 0.3) * 10 ** (r() * 4 - 2));
    const beta = r() < 0.3 ? undefined : Float32Array.from({ length: C }, () => (r() - 0.5) * 10 ** (r() * 3 - 1));
    const a = layerNormAffine(gamma, beta, sy);
    if (typeof a === 'string') throw new Error(a);
    gain = a.gain;
    ab = a.affine;
  }
  const p = layerNormParams(C, eps, sx, sy, out, gain);
  // A large eps against a tiny input scale has no integer form (E > 2^50): draw again.
  if (typeof p === 'string') return makeCase(r, rows, C, xSigned, ySigned, affine, constant);
  const x = rand8(r, rows * C, xSigned);
  if (constant) x.fill(x[0] ?? 0);
  return {
    x,
    xZeroPoint: xSigned ? Math.floor(r() * 256) - 128 : Math.floor(r() * 256),
    rows,
    length: C,
    eps: p.eps,
    gm: p.gm,
    gs: p.gs,
    ...(ab ?? {}),
    zeroPoint: p.zeroPoint,
    min: p.min,
    max: p.max,
    ySigned,
  };
}

function reference(c: Case): Int8Array | Uint8Array {
  const y = c.ySigned ? new Int8Array(c.rows * c.length) : new Uint8Array(c.rows * c.length);
  const p = { length: c.length, eps: c.eps, gm: c.gm, gs: c.gs, zeroPoint: c.zeroPoint, min: c.min, max: c.max };
  qlayerNormRef(c.x as Int8Array, c.xZeroPoint, c.rows, p, y, c.gamma && c.beta ? { gamma: c.gamma, beta: c.beta } : undefined);
  return y;
}

describe.each(targets)('%s', (_label, backend, variant) => {
  it('layerNorm: the JS reference bit for bit, rows of 1..17, 31-33, 63-65, 256, 768 and 4096, with and without Scale/B', () => {
    const r = rng(41);
    for (const affine of [false, true])
      for (const xSigned of [false, true])
        for (const ySigned of [false, true])
          for (const C of [...SIZES, 256, 768, 4096]) {
            const rows = C >= 256 ? 2 : 3;
            for (const constant of C % 8 === 1 ? [false, true] : [false]) {
              const c = makeCase(r, rows, C, xSigned, ySigned, affine, constant);
              const want = reference(c),
                got = c.ySigned ? new Int8Array(want.length) : new Uint8Array(want.length);
              backend.layerNorm({ ...c, y: got, variant });
              const label = `C=${C} affine=${affine} x${xSigned ? 's' : 'u'} y${ySigned ? 's' : 'u'} gs=${c.gs} const=${constant}`;
              expect(firstDiff(got, want), label).toBe(-1);
            }
          }
  });

  it('layerNorm: rows at the extremes (0/255 alternating, every length to 4096) and zero rows', () => {
    const r = rng(43);
    for (const C of [2, 64, 4096]) {
      const c = makeCase(r, 2, C, false, true, C !== 64);
      c.x = Uint8Array.from({ length: 2 * C }, (_, i) => (i % 2 ? 255 : 0));
      const want = reference(c),
        got = new Int8Array(want.length);
      backend.layerNorm({ ...c, y: got, variant });
      expect(firstDiff(got, want), `C=${C}`).toBe(-1);
    }
    const c = makeCase(r, 0, 5, true, true, true);
    backend.layerNorm({ ...c, y: new Int8Array(0), variant });
  });

  it('layerNorm: the largest operands on every output shift (the SIMD pass in doubles takes shifts up to 52)', () => {
    // |d| near 2^21 (4096 values at 0/255 around a zero point of 0), Scale at +-32767, B at +-2^20, and
    // gs swept so that the output pass's shift crosses 52 (doubles exact) into 53 and past 62.
    const C = 4096;
    for (const affine of [false, true])
      for (let gs = -40; gs <= 70; gs++) {
        const c: Case = {
          x: Uint8Array.from({ length: 2 * C }, (_, i) => (i < C ? (i % 3 ? 255 : 0) : i % 2 ? 0 : 255)),
          xZeroPoint: 0,
          rows: 2,
          length: C,
          eps: 0,
          gm: 2 ** 31 - 1,
          gs,
          ...(affine
            ? {
                gamma: Int32Array.from({ length: C }, (_, i) => (i % 2 ? 32767 : -32767)),
                beta: Int32Array.from({ length: C }, (_, i) => (i % 3 ? 2 ** 20 : -(2 ** 20))),
              }
            : {}),
          zeroPoint: 3,
          min: -128,
          max: 127,
          ySigned: true,
        };
        const want = reference(c),
          got = new Int8Array(want.length);
        backend.layerNorm({ ...c, y: got, variant });
        expect(firstDiff(got, want), `affine=${affine} gs=${gs}`).toBe(-1);
      }
  });
});

describe('layerNorm: bad arguments are refused by every backend', () => {
  const good = (): LayerNormArgs => {
    const p = layerNormParams(4, 1e-5, 0.05, 0.02, { zeroPoint: 0, min: -128, max: 127 }) as Exclude<
      ReturnType<typeof layerNormParams>,
      string
    >;
    return {
      x: new Int8Array(8),
      xZeroPoint: 0,
      rows: 2,
      length: 4,
      eps: p.eps,
      gm: p.gm,
      gs: p.gs,
      zeroPoint: 0,
      min: -128,
      max: 127,
      y: new Int8Array(8),
    };
  };
  const bad: [string, (g: LayerNormArgs) => LayerNormArgs, RegExp][] = [
    ['length 0', (g) => ({ ...g, length: 0, rows: 0 }), /length/],
    ['length 4097', (g) => ({ ...g, length: 4097, rows: 0 }), /length/],
    ['short x', (g) => ({ ...g, x: new Int8Array(7) }), /buffer X/],
    ['short y', (g) => ({ ...g, y: new Int8Array(7) }), /buffer Y/],
    ['gm below 2^30', (g) => ({ ...g, gm: 2 ** 30 - 1 }), /gm/],
    ['eps above 2^50', (g) => ({ ...g, eps: 2 ** 50 + 2 }), /eps/],
    ['fractional eps', (g) => ({ ...g, eps: 0.5 }), /eps/],
    ['gamma without beta', (g) => ({ ...g, gamma: new Int32Array(4) }), /gamma|beta/],
    ['gamma of 3 for rows of 4', (g) => ({ ...g, gamma: new Int32Array(3), beta: new Int32Array(3) }), /gamma/],
    ['gamma entry 32768', (g) => ({ ...g, gamma: Int32Array.of(0, 32768, 0, 0), beta: new Int32Array(4) }), /gamma/],
    ['beta entry 2^20 + 1', (g) => ({ ...g, gamma: new Int32Array(4), beta: Int32Array.of(0, 0, 2 ** 20 + 1, 0) }), /beta/],
    ['x zero point out of range', (g) => ({ ...g, xZeroPoint: 200 }), /x_zero_point/],
    ['min above max', (g) => ({ ...g, min: 9, max: 3 }), /y_min/],
  ];
  for (const b of backends)
    for (const [name, f, msg] of bad) it(`${b.name}: ${name}`, () => expectKernelArgument(() => b.layerNorm(f(good())), msg));
});
