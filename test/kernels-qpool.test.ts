// Quantized MaxPool, AveragePool and the global forms: every backend and variant against the JS
// reference bit for bit on awkward geometries, and bad input on native and wasm.
import { describe, expect, it } from 'vitest';
import { makeRequant, REQUANT_MODES } from '../src/quant/requant.js';
import { avgPoolRef, globalAvgPoolRef, globalMaxPoolRef, maxPoolRef, roundingAverage } from '../src/kernels/int8/qpool-ref.js';
import { poolOutputShape, type PoolGeometry } from '../src/backends/kernels-qpool.js';
import { OnnxPtqError } from '../src/errors.js';
import { firstDiff, nativeAndWasm, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

type G = Omit<PoolGeometry, 'n' | 'c' | 'h' | 'w'>;
const GEOMS: [number, number, G][] = [
  [112, 112, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  [17, 65, { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }],
  [9, 70, { kernel: [2, 2], strides: [2, 2] }],
  [13, 33, { kernel: [3, 2], strides: [2, 1], pads: [0, 1, 2, 0], ceilMode: true }],
  [8, 64, { kernel: [2, 3], strides: [1, 2], dilations: [2, 2], pads: [1, 2, 1, 2] }],
  [5, 5, { kernel: [2, 2], strides: [3, 3], pads: [3, 3, 3, 3] }], // pads > kernel, stride > kernel
  [7, 31, { kernel: [1, 1], strides: [4, 5] }],
  [1, 1, { kernel: [1, 1] }],
  [6, 66, { kernel: [5, 5], strides: [3, 3], ceilMode: true, pads: [2, 2, 2, 2] }],
  [3, 100, { kernel: [3, 7], strides: [1, 1], dilations: [1, 3] }],
  // Stride 2 rows whose last vector's loads reach one byte past the row (into the next row, or
  // past the input after the last plane's last row, where the scalar tail must take over).
  [2, 96, { kernel: [2, 2], strides: [2, 2] }],
  [1, 64, { kernel: [1, 2], strides: [1, 2] }],
  [3, 97, { kernel: [3, 3], strides: [2, 2] }],
  // Rows narrower than a vector, and rows' last few outputs, in one vector whose extra lanes read on
  // into the next row (mnist-8's 14-wide pool); at the input's end the scalar tail takes them.
  [28, 28, { kernel: [2, 2], strides: [2, 2] }],
  [6, 20, { kernel: [3, 3], strides: [1, 1] }],
  [4, 9, { kernel: [2, 3], strides: [1, 2], pads: [0, 1, 1, 0] }],
  // Rows of more than 256 outputs (the average pool requantizes a row in chunks of 256).
  [2, 601, { kernel: [2, 2], strides: [1, 2], pads: [0, 1, 0, 0] }],
];

describe.each(targets)('%s', (_label, backend, variant) => {
  for (const signed of [false, true]) {
    const t = signed ? 'int8' : 'uint8';
    it(`maxPool ${t}`, () => {
      const r = rng(3);
      for (const [h, w, geom] of GEOMS) {
        for (const [n, c] of [
          [1, 3],
          [2, 1],
        ]) {
          const g = { n, c, h, w, ...geom };
          const [oh, ow] = poolOutputShape(g);
          const x = rand8(r, n * c * h * w, signed);
          const want = signed ? new Int8Array(n * c * oh * ow) : new Uint8Array(n * c * oh * ow);
          const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
          maxPoolRef({ ...g, x, y: want });
          backend.maxPool({ ...g, x, y: got, variant });
          expect(firstDiff(got, want), JSON.stringify(g)).toBe(-1);
        }
      }
    });
    for (const mode of REQUANT_MODES) {
      it(`avgPool ${t} ${mode}`, () => {
        const r = rng(4 + mode.length);
        for (const [h, w, geom] of GEOMS) {
          for (const cip of [false, true]) {
            for (const [zx, m] of [
              [signed ? -128 : 0, 1],
              [signed ? 127 : 255, 0.37],
              [signed ? 3 : 131, 2.5],
            ] as const) {
              const g = { n: 1, c: 3, h, w, ...geom, countIncludePad: cip };
              const [oh, ow] = poolOutputShape(g);
              const x = rand8(r, 3 * h * w, signed);
              const requant = makeRequant(mode, [m], { zeroPoint: signed ? -5 : 7, signed });
              const want = signed ? new Int8Array(3 * oh * ow) : new Uint8Array(3 * oh * ow);
              const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
              avgPoolRef({ ...g, x, xZeroPoint: zx, requant, y: want });
              backend.avgPool({ ...g, x, xZeroPoint: zx, requant, y: got, variant });
              expect(firstDiff(got, want), JSON.stringify(g)).toBe(-1);
            }
          }
        }
      });
    }
    it(`global pools ${t}`, () => {
      const r = rng(8);
      for (const spatial of [...SIZES, 0, 49, 196, 3136, 12544]) {
        for (const channels of [1, 3, 17]) {
          const x = rand8(r, channels * spatial, signed);
          for (const zx of signed ? [-128, 127, 0] : [0, 255, 100]) {
            const requant = makeRequant('fixed-point', [zx === 0 ? 1 : 0.8], { zeroPoint: signed ? 1 : 9, signed });
            const want = signed ? new Int8Array(channels) : new Uint8Array(channels);
            const got = signed ? new Int8Array(channels) : new Uint8Array(channels);
            globalAvgPoolRef({ x, channels, spatial, xZeroPoint: zx, requant, y: want });
            backend.globalAvgPool({ x, channels, spatial, xZeroPoint: zx, requant, y: got, variant });
            expect(firstDiff(got, want), `avg ${channels}x${spatial}`).toBe(-1);
          }
          const want = signed ? new Int8Array(channels) : new Uint8Array(channels);
          const got = signed ? new Int8Array(channels) : new Uint8Array(channels);
          globalMaxPoolRef({ x, channels, spatial, y: want });
          backend.globalMaxPool({ x, channels, spatial, y: got, variant });
          expect(firstDiff(got, want), `max ${channels}x${spatial}`).toBe(-1);
        }
      }
    });
  }
});

describe('pooling definitions', () => {
  it('rounds averages half away from zero', () => {
    expect([roundingAverage(5, 2), roundingAverage(-5, 2), roundingAverage(4, 3), roundingAverage(-4, 3), roundingAverage(7, 0)]).toEqual([
      3, -3, 1, -1, 0,
    ]);
  });
  it('ceil_mode drops windows that start in the end padding', () => {
    expect(poolOutputShape({ n: 1, c: 1, h: 6, w: 5, kernel: [2, 2], strides: [2, 2], ceilMode: true })).toEqual([3, 3]);
    expect(poolOutputShape({ n: 1, c: 1, h: 4, w: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true })).toEqual([
      3, 3,
    ]);
    // ceil((4 + 1 - 2) / 2) + 1 = 3, but the third window would start at 4, in the end padding.
    expect(poolOutputShape({ n: 1, c: 1, h: 4, w: 4, kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceilMode: true })).toEqual([
      2, 2,
    ]);
  });
  it('max pool of a window entirely in padding is the type minimum', () => {
    const y = new Int8Array(9);
    maxPoolRef({ n: 1, c: 1, h: 1, w: 1, kernel: [1, 1], strides: [1, 1], pads: [1, 1, 1, 1], x: new Int8Array([5]), y });
    expect(Array.from(y)).toEqual([-128, -128, -128, -128, 5, -128, -128, -128, -128]);
  });
});

describe.each(nativeAndWasm.map((b) => [b.name, b] as const))('%s bad input', (_n, backend) => {
  const u = (n: number) => new Uint8Array(n);
  const rq = makeRequant('fixed-point', [1], { zeroPoint: 0, signed: false });
  const base = { n: 1, c: 1, h: 4, w: 4, kernel: [2, 2] as [number, number] };
  const cases: [string, () => void, RegExp][] = [
    ['short x', () => backend.maxPool({ ...base, x: u(15), y: u(9) }), /buffer X/],
    ['short y', () => backend.maxPool({ ...base, x: u(16), y: u(8) }), /buffer Y/],
    ['zero stride', () => backend.maxPool({ ...base, strides: [0, 1], x: u(16), y: u(9) }), /stride/],
    ['kernel larger than input', () => backend.maxPool({ ...base, kernel: [5, 1], x: u(16), y: u(16) }), /kernel_h/],
    ['zero dilation', () => backend.avgPool({ ...base, dilations: [1, 0], x: u(16), y: u(9), xZeroPoint: 0, requant: rq }), /dilation/],
    ['avg zero point', () => backend.avgPool({ ...base, x: u(16), y: u(9), xZeroPoint: 256, requant: rq }), /zero_point|xZeroPoint/],
    ['mixed types', () => backend.maxPool({ ...base, x: new Int8Array(16), y: u(9) }), /same 8-bit type/],
    ['global short x', () => backend.globalMaxPool({ x: u(5), channels: 2, spatial: 3, y: u(2) }), /buffer X/],
    ['global short y', () => backend.globalAvgPool({ x: u(6), channels: 2, spatial: 3, y: u(1), xZeroPoint: 0, requant: rq }), /buffer Y/],
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
