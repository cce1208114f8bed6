// Concat with requantization and nearest Resize: every backend and variant against the JS
// reference bit for bit, the ONNX index definitions, and bad input on native and wasm.
import { describe, expect, it } from 'vitest';
import { makeRequant, REQUANT_MODES } from '../src/quant/requant.js';
import { concatRef, resizeNearestIndex, resizeNearestRef } from '../src/kernels/int8/qlayout-ref.js';
import { OnnxPtqError } from '../src/errors.js';
import { concatTable, concatWithTables } from '../src/runtime/integer/lower/concat.js';
import { firstDiff, nativeAndWasm, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

describe.each(targets)('%s', (_label, backend, variant) => {
  for (const signed of [false, true]) {
    for (const mode of REQUANT_MODES) {
      it(`concat ${signed ? 'int8' : 'uint8'} ${mode}`, () => {
        const r = rng(13 + mode.length);
        for (const [outer, inner] of [
          [1, 1],
          [2, 17],
          [3, 33],
          [1, 3136],
          [4, 65],
        ]) {
          for (const dims of [[1], [3, 5], [2, 0, 7, 1]]) {
            const inputs = dims.map((d) => rand8(r, outer * d * inner, signed));
            const zeroPoints = dims.map(() => Math.floor(r() * 256) - (signed ? 128 : 0));
            const requant = dims.map((_, i) =>
              i % 2 === 1 ? null : makeRequant(mode, [0.25 + 2 * r()], { zeroPoint: signed ? 3 : 120, signed }),
            );
            const n = outer * dims.reduce((s, d) => s + d, 0) * inner;
            const want = signed ? new Int8Array(n) : new Uint8Array(n),
              got = signed ? new Int8Array(n) : new Uint8Array(n);
            const args = { inputs, axisDims: dims, zeroPoints, requant, outer, inner };
            concatRef({ ...args, y: want });
            backend.concat({ ...args, y: got, variant });
            expect(firstDiff(got, want), `${outer} ${dims} ${inner}`).toBe(-1);
          }
        }
      });
    }
  }
  it('resizeNearest: integer factors, fractional scales, every mode', () => {
    const r = rng(21);
    const modes = [
      ['half_pixel', 'round_prefer_floor'],
      ['asymmetric', 'floor'],
      ['align_corners', 'round_prefer_ceil'],
      ['pytorch_half_pixel', 'ceil'],
    ] as const;
    for (const [inH, inW, outH, outW] of [
      [1, 1, 2, 2],
      [7, 16, 14, 32],
      [5, 33, 10, 66],
      [3, 17, 9, 51],
      [8, 64, 5, 40],
      [4, 31, 7, 93],
      ...SIZES.map((s) => [s, s, 2 * s, 2 * s]),
    ]) {
      for (const [cm, nm] of modes) {
        const yIndex = resizeNearestIndex(inH, outH, cm, nm),
          xIndex = resizeNearestIndex(inW, outW, cm, nm);
        for (const signed of [false, true]) {
          const nc = 3,
            x = rand8(r, nc * inH * inW, signed);
          const want = signed ? new Int8Array(nc * outH * outW) : new Uint8Array(nc * outH * outW);
          const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
          const args = { x, nc, inH, inW, outH, outW, yIndex, xIndex };
          resizeNearestRef({ ...args, y: want });
          backend.resizeNearest({ ...args, y: got, variant });
          expect(firstDiff(got, want), `${inH}x${inW}->${outH}x${outW} ${cm}`).toBe(-1);
        }
      }
    }
  });
});

describe('resizeNearestIndex', () => {
  it('follows the ONNX coordinate transformations', () => {
    expect(Array.from(resizeNearestIndex(2, 4, 'asymmetric', 'floor'))).toEqual([0, 0, 1, 1]);
    expect(Array.from(resizeNearestIndex(2, 4, 'half_pixel', 'round_prefer_floor'))).toEqual([0, 0, 1, 1]);
    // half_pixel downscale 4 -> 3: x = (o + 0.5) * 4/3 - 0.5 = 0.1667, 1.5, 2.833 -> 0, 1 (tie to floor), 3
    expect(Array.from(resizeNearestIndex(4, 3, 'half_pixel', 'round_prefer_floor'))).toEqual([0, 1, 3]);
    expect(Array.from(resizeNearestIndex(4, 3, 'half_pixel', 'round_prefer_ceil'))).toEqual([0, 2, 3]);
    expect(Array.from(resizeNearestIndex(3, 5, 'align_corners', 'round_prefer_floor'))).toEqual([0, 0, 1, 1, 2]);
  });
});

describe.each(nativeAndWasm.map((b) => [b.name, b] as const))('%s bad input', (_n, backend) => {
  const u = (n: number) => new Uint8Array(n);
  const rq = makeRequant('fixed-point', [1], { zeroPoint: 0, signed: false });
  const ri = (...v: number[]) => Int32Array.from(v);
  const cases: [string, () => void, RegExp][] = [
    [
      'concat short input',
      () =>
        backend.concat({ inputs: [u(3), u(4)], axisDims: [2, 2], zeroPoints: [0, 0], requant: [null, rq], outer: 1, inner: 2, y: u(8) }),
      /input buffer/,
    ],
    [
      'concat short y',
      () =>
        backend.concat({ inputs: [u(4), u(4)], axisDims: [2, 2], zeroPoints: [0, 0], requant: [null, rq], outer: 1, inner: 2, y: u(7) }),
      /buffer Y/,
    ],
    [
      'concat mixed types',
      () =>
        backend.concat({
          inputs: [u(4), new Int8Array(4)],
          axisDims: [2, 2],
          zeroPoints: [0, 0],
          requant: [null, null],
          outer: 1,
          inner: 2,
          y: u(8),
        }),
      /same 8-bit type/,
    ],
    [
      'concat lengths',
      () => backend.concat({ inputs: [u(4)], axisDims: [2, 2], zeroPoints: [0], requant: [null], outer: 1, inner: 2, y: u(8) }),
      /same length/,
    ],
    [
      'concat zero point',
      () => backend.concat({ inputs: [u(4)], axisDims: [2], zeroPoints: [300], requant: [rq], outer: 1, inner: 2, y: u(4) }),
      /zeroPoints|zero_points/,
    ],
    [
      'resize index out of range',
      () => backend.resizeNearest({ x: u(4), nc: 1, inH: 2, inW: 2, outH: 2, outW: 2, yIndex: ri(0, 2), xIndex: ri(0, 1), y: u(4) }),
      /y_index/,
    ],
    [
      'resize index count',
      () => backend.resizeNearest({ x: u(4), nc: 1, inH: 2, inW: 2, outH: 2, outW: 2, yIndex: ri(0, 1), xIndex: ri(0), y: u(4) }),
      /x_index/,
    ],
    [
      'resize short y',
      () => backend.resizeNearest({ x: u(4), nc: 1, inH: 2, inW: 2, outH: 2, outW: 2, yIndex: ri(0, 1), xIndex: ri(0, 1), y: u(3) }),
      /buffer Y/,
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

describe('16-bit concat through tables (A16W8 lowering) equals the reference', () => {
  for (const mode of REQUANT_MODES) {
    it(`8- and 16-bit inputs into int16, ${mode}`, () => {
      const r = rng(31 + mode.length);
      // Inputs: int16 requantized, int16 copied (same parameters as y), uint8 and int8 widened.
      const kinds = [
        { bits: 16 as const, signed: true, zp: 0, copy: false },
        { bits: 16 as const, signed: true, zp: 0, copy: true },
        { bits: undefined, signed: false, zp: 131, copy: false },
        { bits: undefined, signed: true, zp: -7, copy: false },
      ];
      for (const [outer, inner] of [
        [1, 1],
        [3, 17],
        [2, 65],
      ]) {
        const dims = [2, 1, 3, 2];
        const inputs = kinds.map((k, i) => {
          const len = outer * dims[i]! * inner;
          if (k.bits !== 16) return rand8(r, len, k.signed);
          // Extremes included: the table covers every stored value.
          return Int16Array.from({ length: len }, (_, j) => (j % 7 === 0 ? (j % 2 ? 32767 : -32768) : Math.floor(r() * 65536) - 32768));
        });
        const requant = kinds.map((k) =>
          k.copy ? null : makeRequant(mode, [k.bits === 16 ? 0.3 + r() : 40 + 100 * r()], { zeroPoint: 0, signed: true, bits: 16 }),
        );
        const zeroPoints = kinds.map((k) => k.zp);
        const n = outer * dims.reduce((s, d) => s + d, 0) * inner;
        const want = new Int16Array(n),
          got = new Int16Array(n);
        // The 16-bit arrays go where the 8-bit signature says Int8Like, as the lowering passes them.
        const args = { inputs: inputs as never[], axisDims: dims, zeroPoints, requant, outer, inner };
        concatRef({ ...args, y: want as never });
        concatWithTables(
          { ...args, y: got as never },
          kinds.map((k, i) => concatTable(k, requant[i]!)),
        );
        expect(firstDiff(got as never, want as never), `${outer} ${inner}`).toBe(-1);
      }
    });
  }
});
