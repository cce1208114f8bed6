// A16W8 ConvTranspose (qconvtranspose16): every backend and variant (auto included) against the JS
// reference qconvTranspose2dRef(..., wide = true) bit for bit on awkward channel counts, every
// x_type/y_type pair, all three requant modes per tensor and per channel, groups, strides,
// dilations, pads and output_padding, values at the type extremes; bad arguments refused with
// KERNEL_ARGUMENT on every backend before Y is touched.
import { describe, expect, it } from 'vitest';
import { makeRequant, type RequantMode } from '../src/quant/requant.js';
import { convTransposeFields, convTransposeGeom, type ConvTranspose2dShape } from '../src/backends/kernels-convtranspose.js';
import type { QConvTranspose16Args } from '../src/backends/kernels-qconvtranspose16.js';
import type { WideLike } from '../src/backends/kernels-qconv16.js';
import { qconvTranspose2dRef } from '../src/kernels/int8/qconvtranspose-ref.js';
import type { Backend, Int8Like, KernelVariant } from '../src/backends/types.js';
import { OnnxPtqError } from '../src/errors.js';
import { backends, firstDiff, rng } from './int8-ops-helpers.js';

type TypeName = 'uint8' | 'int8' | 'int16' | 'uint16';
const TYPES: TypeName[] = ['uint8', 'int8', 'int16', 'uint16'];
const RANGE: Record<TypeName, [number, number]> = { uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535] };
const MODES: RequantMode[] = ['fixed-point', 'float', 'shift'];

function alloc(t: TypeName, n: number): WideLike {
  return t === 'uint8' ? new Uint8Array(n) : t === 'int8' ? new Int8Array(n) : t === 'int16' ? new Int16Array(n) : new Uint16Array(n);
}

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

const GEOS: Omit<ConvTranspose2dShape, 'batch' | 'inChannels' | 'outChannels'>[] = [
  { inHeight: 4, inWidth: 7, kernelH: 2, kernelW: 2, strides: [2, 2] },
  { inHeight: 5, inWidth: 6, kernelH: 3, kernelW: 3, strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] },
  { inHeight: 3, inWidth: 37, kernelH: 2, kernelW: 2, strides: [2, 2] },
  { inHeight: 4, inWidth: 5, kernelH: 2, kernelW: 3, strides: [3, 2], pads: [3, 4, 3, 2] },
  { inHeight: 3, inWidth: 7, kernelH: 3, kernelW: 2, strides: [1, 2], dilations: [2, 3], pads: [0, 2, 1, 0], outputPadding: [1, 1] },
  { inHeight: 1, inWidth: 33, kernelH: 1, kernelW: 4, strides: [1, 4], pads: [0, 1, 0, 2] },
  { inHeight: 2, inWidth: 3, kernelH: 5, kernelW: 4, strides: [4, 5], outputPadding: [3, 2] },
  { inHeight: 3, inWidth: 70, kernelH: 3, kernelW: 3, strides: [1, 1], pads: [1, 1, 1, 1] }, // > one 64-column tile
  { inHeight: 3, inWidth: 5, kernelH: 5, kernelW: 5, strides: [7, 6], pads: [7, 9, 8, 9], dilations: [1, 2] },
];

interface Case {
  s: ConvTranspose2dShape;
  xt: TypeName;
  yt: TypeName;
  mode: RequantMode;
  perChannel: boolean;
  seed: number;
}

function makeArgs(c: Case): QConvTranspose16Args {
  const r = rng(c.seed);
  const g = convTransposeGeom(convTransposeFields(c.s));
  const x = randWide(r, c.xt, g.n * g.cin * g.h * g.w);
  const w = new Int8Array(g.cin * g.coutG * g.kh * g.kw);
  for (let i = 0; i < w.length; i++) {
    const u = r();
    w[i] = u < 0.05 ? -128 : u < 0.1 ? 127 : Math.floor(r() * 256) - 128;
  }
  const [xlo, xhi] = RANGE[c.xt];
  const xZeroPoint = r() < 0.2 ? (r() < 0.5 ? xlo : xhi) : xlo + Math.floor(r() * (xhi - xlo + 1));
  const wZeroPoint = c.perChannel
    ? Int32Array.from({ length: g.cout }, () => (r() < 0.1 ? 127 : r() < 0.1 ? -128 : Math.floor(r() * 41) - 20))
    : Int32Array.of(Math.floor(r() * 256) - 128);
  const bias = r() < 0.7 ? Int32Array.from({ length: g.cout }, () => Math.floor(r() * 2 ** 24) - 2 ** 23) : null;
  const [ylo, yhi] = RANGE[c.yt];
  const xr = Math.max(xZeroPoint - xlo, xhi - xZeroPoint);
  const k = Math.max(1, (g.cinG * g.kh * g.kw) / (g.sh * g.sw));
  const base = (yhi - ylo) / (Math.sqrt(k) * xr * 128);
  const mult = c.perChannel ? Array.from({ length: g.cout }, () => base * (0.25 + 2 * r())) : [base];
  const span = yhi - ylo;
  const zeroPoint = ylo + Math.floor(span * (0.3 + 0.4 * r()));
  const clamp = r() < 0.3;
  const requant = makeRequant(c.mode, mult, {
    zeroPoint,
    signed: ylo < 0,
    bits: span > 255 ? 16 : 8,
    ...(clamp ? { min: Math.max(ylo, zeroPoint - Math.floor(span / 5)), max: Math.min(yhi, zeroPoint + Math.floor(span / 4)) } : {}),
  });
  // The 16x8 fixed-point requantization refuses shift >= 15 (M >= 2^14): never reached here.
  return { shape: c.s, x, xZeroPoint, w, wZeroPoint, bias, requant, y: alloc(c.yt, g.n * g.cout * g.oh * g.ow) };
}

function expected(a: QConvTranspose16Args): WideLike {
  const g = convTransposeGeom(convTransposeFields(a.shape));
  const y = a.y.slice() as WideLike;
  qconvTranspose2dRef(g, a.x as Int8Like, a.xZeroPoint, a.w, a.wZeroPoint, a.bias ?? null, a.requant, y as Int8Like, true);
  return y;
}

function check(backend: Backend, variant: KernelVariant, c: Case): void {
  const a = makeArgs(c);
  const want = expected(a);
  backend.qconvTranspose16({ ...a, variant });
  const d = firstDiff(a.y, want);
  if (d >= 0) throw new Error(`${JSON.stringify(c.s)} ${c.xt}->${c.yt} ${c.mode} pc=${c.perChannel}: y[${d}] = ${a.y[d]}, want ${want[d]}`);
}

describe.each(targets)('%s', (_label, backend, variant) => {
  it('every x_type/y_type pair and mode, awkward channel counts (1..17, 31..33, 63..65 outputs)', () => {
    let seed = 1;
    const couts = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65];
    for (const xt of TYPES)
      for (const yt of TYPES)
        for (const mode of MODES) {
          const cout = couts[seed % couts.length]!;
          const s: ConvTranspose2dShape = {
            batch: 1,
            inChannels: 1 + (seed % 3),
            outChannels: cout,
            inHeight: 3,
            inWidth: 5,
            kernelH: 2,
            kernelW: 2,
            strides: [2, 2],
          };
          check(backend, variant, { s, xt, yt, mode, perChannel: seed % 2 === 0, seed: seed++ });
        }
  });

  it('geometries: groups, strides, dilations, pads past the kernel, output_padding, 1-D, batch 2', () => {
    let seed = 100;
    for (const geo of GEOS)
      for (const [cin, cout, groups] of [
        [3, 5, 1],
        [4, 6, 2],
        [6, 9, 3],
        [2, 17, 1],
      ] as [number, number, number][]) {
        const s: ConvTranspose2dShape = { batch: cin === 2 ? 2 : 1, inChannels: cin, outChannels: cout, groups, ...geo };
        const xt = TYPES[seed % 4]!,
          yt = TYPES[(seed >> 2) % 4]!;
        check(backend, variant, { s, xt, yt, mode: MODES[seed % 3]!, perChannel: seed % 2 === 1, seed: seed++ });
      }
  });

  it('int16 in and out, the DB head upsampling (k2 s2), wider than a column tile', () => {
    const s: ConvTranspose2dShape = {
      batch: 1,
      inChannels: 9,
      outChannels: 12,
      inHeight: 5,
      inWidth: 41,
      kernelH: 2,
      kernelW: 2,
      strides: [2, 2],
    };
    for (const mode of MODES) check(backend, variant, { s, xt: 'int16', yt: 'int16', mode, perChannel: true, seed: 900 });
  });
});

describe.each(backends.map((b) => [b.name, b] as [string, Backend]))('%s: bad arguments', (_n, backend) => {
  const ok = (): QConvTranspose16Args =>
    makeArgs({
      s: { batch: 1, inChannels: 2, outChannels: 3, inHeight: 3, inWidth: 4, kernelH: 2, kernelW: 2, strides: [2, 2] },
      xt: 'int16',
      yt: 'int16',
      mode: 'fixed-point',
      perChannel: true,
      seed: 3,
    });
  const cases: [string, (a: QConvTranspose16Args) => unknown, RegExp][] = [
    ['x a Float32Array', (a) => ({ ...a, x: new Float32Array(24) }), /x must be/],
    ['y an Int32Array', (a) => ({ ...a, y: new Int32Array(3 * 48) }), /y must be/],
    ['w an Uint8Array', (a) => ({ ...a, w: new Uint8Array(24) }), /w must be/],
    ['x too small', (a) => ({ ...a, x: new Int16Array(23) }), /buffer X/],
    ['y too small', (a) => ({ ...a, y: new Int16Array(3 * 48 - 1) }), /buffer Y/],
    ['w too small', (a) => ({ ...a, w: new Int8Array(23) }), /buffer W/],
    ['zero stride', (a) => ({ ...a, shape: { ...a.shape, strides: [0, 2] } }), /stride/],
    ['groups not dividing', (a) => ({ ...a, shape: { ...a.shape, groups: 2 } }), /divisible/],
    ['output_padding >= stride', (a) => ({ ...a, shape: { ...a.shape, outputPadding: [2, 0] } }), /output_padding/],
    ['x zero point out of int16', (a) => ({ ...a, xZeroPoint: 40000 }), /x_zero_point|xZeroPoint/],
    ['w zero point out of int8', (a) => ({ ...a, wZeroPoint: Int32Array.of(200) }), /w_zero_point/],
    ['w zero point count', (a) => ({ ...a, wZeroPoint: new Int32Array(2) }), /w_zero_point/],
    ['bias count', (a) => ({ ...a, bias: new Int32Array(2) }), /bias/],
    ['requant out of int8 output', (a) => ({ ...a, y: new Int8Array(3 * 48) }), /output_min|output_zero_point/],
    [
      'requant count',
      (a) => ({ ...a, requant: makeRequant('fixed-point', [0.1, 0.1], { zeroPoint: 0, signed: true, bits: 16 }) }),
      /count/,
    ],
    [
      'fixed-point shift 15',
      (a) => ({ ...a, requant: { ...a.requant, shift: Int32Array.from(a.requant.shift, () => 15) } }),
      /total_shift/,
    ],
    [
      'reduction past 33025 (exact accumulation)',
      (a) => ({ ...a, shape: { ...a.shape, kernelH: 200, kernelW: 100 }, w: new Int8Array(2 * 3 * 20000) }),
      /33025/,
    ],
  ];
  for (const [name, mutate, re] of cases)
    it(name, () => {
      const a = mutate(ok()) as QConvTranspose16Args;
      const before = a.y instanceof Object && 'slice' in a.y ? (a.y as WideLike).slice() : a.y;
      let err: unknown;
      try {
        backend.qconvTranspose16(a);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OnnxPtqError);
      expect((err as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
      expect((err as Error).message).toMatch(re);
      expect(a.y).toEqual(before);
    });
});
