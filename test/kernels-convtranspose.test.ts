// Integer ConvTranspose: every backend and variant against the JS reference bit for bit on awkward
// channel counts and geometries (strides, pads larger than the kernel, dilations, output_padding,
// groups, 1-D), and bad geometry refused by each backend before any memory is touched.
import { describe, expect, it } from 'vitest';
import { makeRequant, REQUANT_MODES } from '../src/quant/requant.js';
import {
  convTransposeGeom,
  convTransposeFields,
  convTransposeOutputSize,
  type ConvTranspose2dShape,
} from '../src/backends/kernels-convtranspose.js';
import { qconvTranspose2dRef } from '../src/kernels/int8/qconvtranspose-ref.js';
import { OnnxPtqError } from '../src/errors.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';
import { backends, firstDiff, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

type Geo = Omit<ConvTranspose2dShape, 'batch' | 'inChannels' | 'outChannels'>;
const GEOMS: Geo[] = [
  { inHeight: 5, inWidth: 6, kernelH: 3, kernelW: 3, strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] },
  { inHeight: 4, inWidth: 37, kernelH: 2, kernelW: 2, strides: [2, 2] }, // the DB head's upsampling, odd width
  { inHeight: 3, inWidth: 19, kernelH: 3, kernelW: 3 }, // stride 1 (contiguous col2im)
  { inHeight: 4, inWidth: 5, kernelH: 2, kernelW: 3, strides: [3, 2], pads: [3, 4, 3, 2] }, // pads > kernel
  { inHeight: 3, inWidth: 7, kernelH: 3, kernelW: 2, strides: [1, 2], dilations: [2, 3], pads: [0, 2, 1, 0], outputPadding: [1, 1] }, // output_padding < dilation
  { inHeight: 1, inWidth: 33, kernelH: 1, kernelW: 4, strides: [1, 4], pads: [0, 1, 0, 2] }, // 1-D
  { inHeight: 2, inWidth: 3, kernelH: 5, kernelW: 4, strides: [4, 5], outputPadding: [3, 2] }, // stride > kernel: gaps
  { inHeight: 1, inWidth: 1, kernelH: 1, kernelW: 1 },
];

function run(
  backend: Backend | null,
  variant: KernelVariant,
  s: ConvTranspose2dShape,
  signed: boolean,
  mode: (typeof REQUANT_MODES)[number],
  seed: number,
  perChannel: boolean,
): Uint8Array | Int8Array {
  const r = rng(seed);
  const g = convTransposeGeom(convTransposeFields(s));
  const x = rand8(r, g.n * g.cin * g.h * g.w, signed);
  const w = rand8(r, g.cin * g.coutG * g.kh * g.kw, true) as Int8Array;
  const zx = signed ? Math.floor(r() * 256) - 128 : Math.floor(r() * 256);
  const wZeroPoint = perChannel
    ? Int32Array.from({ length: g.cout }, () => Math.floor(r() * 21) - 10)
    : Int32Array.of(Math.floor(r() * 256) - 128);
  const bias = r() < 0.8 ? Int32Array.from({ length: g.cout }, () => Math.floor(r() * 2 ** 21) - 2 ** 20) : null;
  const base = 1 / (Math.sqrt(g.cinG * g.kh * g.kw) * 255 * 8);
  const mult = perChannel ? Array.from({ length: g.cout }, () => base * (0.5 + r())) : [base];
  const requant = makeRequant(mode, mult, { zeroPoint: signed ? -3 : 121, signed });
  const n = g.n * g.cout * g.oh * g.ow;
  const y = signed ? new Int8Array(n) : new Uint8Array(n);
  if (backend) backend.qconvTranspose2d({ shape: s, x, xZeroPoint: zx, w, wZeroPoint, bias, requant, y, variant });
  else qconvTranspose2dRef(g, x, zx, w, wZeroPoint, bias, requant, y);
  return y;
}

describe.each(targets)('%s', (_label, backend, variant) => {
  for (const mode of REQUANT_MODES) {
    it(`channels 1..17, 31-33, 63-65 (${mode})`, () => {
      let seed = 100;
      for (let i = 0; i < SIZES.length; i++) {
        const cin = SIZES[i]!,
          cout = SIZES[(i * 7 + 3) % SIZES.length]!;
        const s: ConvTranspose2dShape = {
          batch: 1,
          inChannels: cin,
          outChannels: cout,
          inHeight: 3,
          inWidth: 9,
          kernelH: 3,
          kernelW: 3,
          strides: [2, 2],
          pads: [1, 0, 0, 1],
        };
        for (const signed of [false, true]) {
          seed++;
          const want = run(null, 'ref', s, signed, mode, seed, i % 2 === 0);
          const got = run(backend, variant, s, signed, mode, seed, i % 2 === 0);
          expect(firstDiff(got, want), `${JSON.stringify(s)} signed=${signed}`).toBe(-1);
        }
      }
    });
  }

  it('geometries: strides, pads > kernel, dilations, output_padding, 1-D, batch 2', () => {
    let seed = 500;
    for (const geo of GEOMS)
      for (const [cin, cout] of [
        [3, 5],
        [16, 17],
        [2, 1],
      ] as const)
        for (const signed of [false, true]) {
          const s: ConvTranspose2dShape = { batch: cin === 2 ? 2 : 1, inChannels: cin, outChannels: cout, ...geo };
          seed++;
          const want = run(null, 'ref', s, signed, 'fixed-point', seed, seed % 2 === 0);
          const got = run(backend, variant, s, signed, 'fixed-point', seed, seed % 2 === 0);
          expect(firstDiff(got, want), `${JSON.stringify(s)} signed=${signed}`).toBe(-1);
        }
  });

  it('groups (depthwise and grouped), odd channels per group', () => {
    let seed = 900;
    for (const [cin, cout, groups] of [
      [6, 6, 6],
      [6, 9, 3],
      [33, 33, 33],
      [10, 4, 2],
      [65, 65, 5],
    ] as const) {
      const s: ConvTranspose2dShape = {
        batch: 1,
        inChannels: cin,
        outChannels: cout,
        groups,
        inHeight: 4,
        inWidth: 11,
        kernelH: 3,
        kernelW: 3,
        strides: [2, 2],
        pads: [1, 1, 1, 1],
        outputPadding: [1, 0],
      };
      for (const signed of [false, true]) {
        seed++;
        const want = run(null, 'ref', s, signed, 'float', seed, true);
        const got = run(backend, variant, s, signed, 'float', seed, true);
        expect(firstDiff(got, want), JSON.stringify(s)).toBe(-1);
      }
    }
  });

  it('one input row per chunk (the accumulator window slides): strides, pads past the kernel, dilations, gaps', () => {
    let seed = 1300;
    for (const geo of [
      { kernelH: 5, kernelW: 5, strides: [3, 2], pads: [6, 2, 1, 3], dilations: [2, 1], outputPadding: [1, 1] },
      { kernelH: 5, kernelW: 5, strides: [1, 1], pads: [0, 0, 9, 0] },
      { kernelH: 5, kernelW: 5, strides: [7, 6], outputPadding: [6, 0] }, // stride > kernel: untouched rows keep the bias
      { kernelH: 5, kernelW: 5, strides: [2, 2], pads: [7, 9, 8, 9] },
    ]) {
      const s: ConvTranspose2dShape = { batch: 2, inChannels: 3, outChannels: 64, inHeight: 7, inWidth: 41, ...geo };
      for (const signed of [false, true]) {
        seed++;
        const want = run(null, 'ref', s, signed, 'fixed-point', seed, true);
        const got = run(backend, variant, s, signed, 'fixed-point', seed, true);
        expect(firstDiff(got, want), JSON.stringify(s)).toBe(-1);
      }
    }
  });

  it('a large layer: several row chunks, SIMD tiles and tails', () => {
    const s: ConvTranspose2dShape = {
      batch: 1,
      inChannels: 63,
      outChannels: 65,
      inHeight: 9,
      inWidth: 41,
      kernelH: 3,
      kernelW: 3,
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      outputPadding: [1, 1],
    };
    for (const signed of [false, true]) {
      const want = run(null, 'ref', s, signed, 'fixed-point', 77, true);
      const got = run(backend, variant, s, signed, 'fixed-point', 77, true);
      expect(firstDiff(got, want)).toBe(-1);
    }
  });
});

describe('threads', () => {
  const native = backends.find((b) => b.name === 'native');
  it.runIf(native !== undefined)('native: 1, 3 and 4 threads give the reference bits (output-channel blocks split)', () => {
    const b = native!;
    const before = b.getThreads();
    try {
      for (const s of [
        { batch: 1, inChannels: 48, outChannels: 29, inHeight: 12, inWidth: 40, kernelH: 2, kernelW: 2, strides: [2, 2] },
        {
          batch: 2,
          inChannels: 18,
          outChannels: 33,
          groups: 3,
          inHeight: 9,
          inWidth: 45,
          kernelH: 3,
          kernelW: 3,
          strides: [2, 2],
          pads: [1, 1, 1, 1],
          outputPadding: [1, 1],
        },
      ] as ConvTranspose2dShape[]) {
        const want = run(null, 'ref', s, false, 'fixed-point', 5, true);
        for (const t of [1, 3, 4]) {
          b.setThreads(t);
          expect(firstDiff(run(b, 'auto', s, false, 'fixed-point', 5, true), want), `${t} threads ${JSON.stringify(s)}`).toBe(-1);
        }
      }
    } finally {
      b.setThreads(before);
    }
  });
});

describe('bad geometry and arguments', () => {
  const ok: ConvTranspose2dShape = {
    batch: 1,
    inChannels: 4,
    outChannels: 6,
    groups: 2,
    inHeight: 3,
    inWidth: 3,
    kernelH: 2,
    kernelW: 2,
    strides: [2, 2],
  };
  const bad: [string, Partial<ConvTranspose2dShape>, RegExp][] = [
    ['zero stride', { strides: [0, 2] }, /stride/],
    ['negative pads', { pads: [0, -1, 0, 0] }, /negative pads|>= 0/],
    ['output_padding >= stride and >= dilation', { outputPadding: [2, 0] }, /output_padding_h/],
    ['pads leave no output', { pads: [3, 0, 3, 0] }, /no output row/],
    ['kernel larger than allowed (int32 accumulation)', { inChannels: 2 * 33026, outChannels: 2, kernelH: 1, kernelW: 1 }, /33025/],
    ['products overflow int32', { inHeight: 2 ** 20, inWidth: 2 ** 20 }, /2\^31 - 1/],
    ['huge field', { kernelH: 2 ** 29 }, /2\^28/],
    ['channels not divisible by groups', { outChannels: 5 }, /divisible/],
    // Valid but huge (2^28 outputs, a 1 GiB accumulator): tiny buffers are refused before any workspace is sized.
    ['huge valid geometry with tiny buffers', { inChannels: 16, outChannels: 16, groups: 1, inHeight: 2048, inWidth: 2048 }, /buffer X/],
  ];
  for (const b of backends) {
    for (const [what, patch, re] of bad) {
      it(`${b.name}: ${what}`, () => {
        const s = { ...ok, ...patch };
        const y = new Uint8Array(64).fill(7);
        const call = () =>
          b.qconvTranspose2d({
            shape: s,
            x: new Uint8Array(36),
            xZeroPoint: 0,
            w: new Int8Array(16),
            wZeroPoint: Int32Array.of(0),
            bias: null,
            requant: makeRequant('fixed-point', [0.01], { zeroPoint: 0, signed: false }),
            y,
          });
        expect(call).toThrow(OnnxPtqError);
        expect(call).toThrow(re);
        expect(y.every((v) => v === 7)).toBe(true);
      });
    }
    it(`${b.name}: weight, zero point and bias shape mismatches`, () => {
      const [oh, ow] = convTransposeOutputSize(ok);
      const y = new Uint8Array(6 * oh * ow).fill(7);
      const rq = makeRequant('fixed-point', [0.01], { zeroPoint: 0, signed: false });
      const args = {
        shape: ok,
        x: new Uint8Array(36),
        xZeroPoint: 0,
        w: new Int8Array(48),
        wZeroPoint: Int32Array.of(0),
        bias: null,
        requant: rq,
        y,
      };
      expect(() => b.qconvTranspose2d({ ...args, w: new Int8Array(47) })).toThrow(/buffer W/);
      expect(() => b.qconvTranspose2d({ ...args, wZeroPoint: new Int32Array(3) })).toThrow(/w_zero_point/);
      expect(() => b.qconvTranspose2d({ ...args, bias: new Int32Array(5) })).toThrow(/bias/);
      expect(() => b.qconvTranspose2d({ ...args, y: new Uint8Array(6 * oh * ow - 1) })).toThrow(/buffer Y/);
      expect(() =>
        b.qconvTranspose2d({ ...args, requant: makeRequant('fixed-point', [0.01, 0.02], { zeroPoint: 0, signed: false }) }),
      ).toThrow(/count/);
      expect(y.every((v) => v === 7)).toBe(true);
      b.qconvTranspose2d(args);
      expect(y.every((v) => v === 7)).toBe(false);
    });
  }
});
