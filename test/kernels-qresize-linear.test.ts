// Linear resize with 11-bit integer weights: every backend and variant against the JS reference
// bit for bit on awkward sizes and every coordinate transformation, the taps against onnxruntime's
// coordinate arithmetic, and bad input refused on every backend before memory is touched.
import { describe, expect, it } from 'vitest';
import { makeRequant, REQUANT_MODES } from '../src/quant/requant.js';
import { resizeLinearRef, resizeLinearTaps, RESIZE_ONE, type CoordinateTransform } from '../src/kernels/int8/qlayout-ref.js';
import { OnnxPtqError } from '../src/errors.js';
import { backends, firstDiff, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

const MODES: CoordinateTransform[] = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'half_pixel_symmetric'];

describe.each(targets)('%s', (_label, backend, variant) => {
  for (const signed of [false, true]) {
    it(`resizeLinear ${signed ? 'int8' : 'uint8'}: awkward sizes, every mode and requant mode`, () => {
      const r = rng(signed ? 5 : 6);
      const shapes: number[][] = [[1, 1, 2, 2], [7, 16, 14, 32], [5, 33, 10, 66], [3, 17, 9, 51], [8, 64, 5, 40], [4, 31, 7, 93], [1, 5, 1, 11], [2, 300, 4, 600]];
      for (const s of SIZES) shapes.push([s, s, 2 * s, 2 * s], [s, s + 2, Math.max(1, s >> 1), s + 1]);
      let i = 0;
      for (const [inH, inW, outH, outW] of shapes) {
        const cm = MODES[i % MODES.length]!, mode = REQUANT_MODES[i % REQUANT_MODES.length]!;
        i++;
        const yTaps = resizeLinearTaps(inH, outH, cm), xTaps = resizeLinearTaps(inW, outW, cm);
        const nc = 1 + (i % 3) * 2; // 1, 3, 5 planes
        const x = rand8(r, nc * inH * inW, signed);
        const zx = Math.floor(r() * 256) - (signed ? 128 : 0);
        const requant = makeRequant(mode, [(0.5 + r()) / (RESIZE_ONE * RESIZE_ONE)], { zeroPoint: signed ? -3 : 131, signed });
        const want = signed ? new Int8Array(nc * outH * outW) : new Uint8Array(nc * outH * outW);
        const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
        const args = { x, nc, inH, inW, outH, outW, yTaps, xTaps, xZeroPoint: zx, requant };
        resizeLinearRef({ ...args, y: want });
        backend.resizeLinear({ ...args, y: got, variant });
        expect(firstDiff(got, want), `${inH}x${inW}->${outH}x${outW} ${cm} ${mode}`).toBe(-1);
      }
    });
  }
  it('resizeLinear: extreme values keep the int32 accumulator exact (zero point at the far end)', () => {
    for (const signed of [false, true]) {
      const inH = 3, inW = 5, outH = 7, outW = 13, nc = 2;
      const x = signed ? new Int8Array(nc * inH * inW).fill(-128) : new Uint8Array(nc * inH * inW).fill(255);
      const zx = signed ? 127 : 0;
      const requant = makeRequant('fixed-point', [1 / (RESIZE_ONE * RESIZE_ONE * 2)], { zeroPoint: 0, signed });
      const args = { x, nc, inH, inW, outH, outW, yTaps: resizeLinearTaps(inH, outH, 'half_pixel'), xTaps: resizeLinearTaps(inW, outW, 'align_corners'), xZeroPoint: zx, requant };
      const want = signed ? new Int8Array(nc * outH * outW) : new Uint8Array(nc * outH * outW);
      const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
      resizeLinearRef({ ...args, y: want });
      backend.resizeLinear({ ...args, y: got, variant });
      expect(firstDiff(got, want)).toBe(-1);
      expect(Array.from(new Set(want))).toEqual([signed ? -128 : 128]); // (x - zx) / 2, rounded
    }
  });
});

describe('resizeLinearTaps', () => {
  it('follows onnxruntime: float32 coordinates, border clamp, 11-bit fractions', () => {
    // half_pixel 2 -> 4: x = -0.25, 0.25, 0.75, 1.25 -> clamp 0 | 0 + 0.25 | 0 + 0.75 | clamp 1
    expect(Array.from(resizeLinearTaps(2, 4, 'half_pixel'))).toEqual([0, 1, 0, 0, 1, 512, 0, 1, 1536, 1, 1, 0]);
    // align_corners 3 -> 5: 0, 0.5, 1, 1.5, 2
    expect(Array.from(resizeLinearTaps(3, 5, 'align_corners'))).toEqual([0, 1, 0, 0, 1, 1024, 1, 2, 0, 1, 2, 1024, 2, 2, 0]);
    // asymmetric 2 -> 4: 0, 0.5, 1, 1.5 -> clamp 1
    expect(Array.from(resizeLinearTaps(2, 4, 'asymmetric'))).toEqual([0, 1, 0, 0, 1, 1024, 1, 1, 0, 1, 1, 0]);
    // pytorch_half_pixel with one output: 0
    expect(Array.from(resizeLinearTaps(4, 1, 'pytorch_half_pixel'))).toEqual([0, 1, 0]);
    // tf_half_pixel_for_nn 2 -> 4: 0.25, 0.75, 1.25 -> clamp, ...
    expect(Array.from(resizeLinearTaps(2, 4, 'tf_half_pixel_for_nn')).slice(0, 6)).toEqual([0, 1, 512, 0, 1, 1536]);
  });
});

describe('resizeLinear bad input', () => {
  const ok = () => ({
    x: new Uint8Array(2 * 3 * 4) as Uint8Array | Int8Array, nc: 2, inH: 3, inW: 4, outH: 6, outW: 8,
    yTaps: resizeLinearTaps(3, 6, 'half_pixel'), xTaps: resizeLinearTaps(4, 8, 'half_pixel'),
    xZeroPoint: 0, requant: makeRequant('fixed-point', [1 / (RESIZE_ONE * RESIZE_ONE)], { zeroPoint: 0, signed: false }), y: new Uint8Array(2 * 6 * 8) as Uint8Array | Int8Array,
  });
  const bad: [string, (a: ReturnType<typeof ok>) => void][] = [
    ['short x', (a) => { a.x = new Uint8Array(5); }],
    ['short y', (a) => { a.y = new Uint8Array(5); }],
    ['taps count', (a) => { a.yTaps = a.yTaps.subarray(0, 6); }],
    ['tap index out of the input', (a) => { a.xTaps = a.xTaps.slice(); a.xTaps[3] = 4; }],
    ['negative tap index', (a) => { a.yTaps = a.yTaps.slice(); a.yTaps[0] = -1; }],
    ['tap weight > 2048', (a) => { a.xTaps = a.xTaps.slice(); a.xTaps[2] = 2049; }],
    ['mixed types', (a) => { a.y = new Int8Array(2 * 6 * 8); }],
    ['zero point out of range', (a) => { a.xZeroPoint = 300; }],
    ['overflowing sizes', (a) => { a.nc = 2 ** 20; a.outH = 2 ** 12; a.outW = 2 ** 12; a.yTaps = new Int32Array(3 * 2 ** 12); a.xTaps = new Int32Array(3 * 2 ** 12); }],
  ];
  for (const b of backends) {
    for (const [name, mutate] of bad) {
      it(`${b.name}: ${name}`, () => {
        const a = ok();
        mutate(a);
        const before = a.y.slice();
        expect(() => b.resizeLinear(a)).toThrow(OnnxPtqError);
        expect(firstDiff(a.y, before)).toBe(-1);
      });
    }
  }
});
