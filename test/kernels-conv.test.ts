// Integer convolution on every backend and variant against the JS reference, bit for bit, on
// awkward geometries; the same results for any native thread count; agreement with onnxruntime's
// QLinearConv in float mode where onnxruntime is exact; bad input refused with the argument named.
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER } from '../src/ptq/ort-options.js';
import { floatMultiplier, makeRequant, type RequantMode, type RequantParams } from '../src/quant/requant.js';
import { backendVariants, jsBackend, loadedBackends, randInt, rng } from './backends.js';
import { OnnxPtqError } from '../src/errors.js';
import type { Backend, Int8Like, KernelVariant } from '../src/backends/types.js';
import type { Conv2dShape } from '../src/backends/kernels-conv.js';
import { singleNodeModel } from '../bench/onnx-single-node.js';

/**
 * The index of the first element where `a` and `b` differ (-1 when equal, also comparing lengths), with
 * both values: toEqual on two Array.from copies of 600k-element outputs took most of this file's time.
 */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return `element ${i}: ${a[i]} vs ${b[i]}`;
  return 'equal';
}

interface Case {
  shape: Conv2dShape;
  xSigned: boolean;
  ySigned: boolean;
  perChannel: boolean;
  mode: RequantMode;
  seed: number;
  wZpPerChannel?: boolean;
  extremeZp?: boolean;
  relu?: boolean;
}

interface Built {
  shape: Conv2dShape;
  w: Int8Array;
  wZeroPoint: Int32Array;
  bias: Int32Array;
  x: Int8Like;
  xZeroPoint: number;
  requant: RequantParams;
  ySigned: boolean;
}

function outSize(s: Conv2dShape): [number, number] {
  const [sh, sw] = s.strides ?? [1, 1],
    [dh, dw] = s.dilations ?? [1, 1],
    [pt, pl, pb, pr] = s.pads ?? [0, 0, 0, 0];
  return [
    Math.floor((s.inHeight + pt + pb - (s.kernelH - 1) * dh - 1) / sh) + 1,
    Math.floor((s.inWidth + pl + pr - (s.kernelW - 1) * dw - 1) / sw) + 1,
  ];
}

function build(c: Case): Built {
  const r = rng(c.seed);
  const s = { ...c.shape },
    groups = s.groups ?? 1;
  // Generated geometries grow the input until the dilated kernel fits the padded input.
  const [dh, dw] = s.dilations ?? [1, 1],
    [pt, pl, pb, pr] = s.pads ?? [0, 0, 0, 0];
  s.inHeight = Math.max(s.inHeight, (s.kernelH - 1) * dh + 1 - pt - pb);
  s.inWidth = Math.max(s.inWidth, (s.kernelW - 1) * dw + 1 - pl - pr);
  const kg = (s.inChannels / groups) * s.kernelH * s.kernelW;
  const w = Int8Array.from({ length: s.outChannels * kg }, () => randInt(r, -128, 127));
  const xn = s.batch * s.inChannels * s.inHeight * s.inWidth;
  const x: Int8Like = c.xSigned
    ? Int8Array.from({ length: xn }, () => randInt(r, -128, 127))
    : Uint8Array.from({ length: xn }, () => randInt(r, 0, 255));
  const xmin = c.xSigned ? -128 : 0,
    xmax = c.xSigned ? 127 : 255;
  const xZeroPoint = c.extremeZp ? (c.seed % 2 ? xmin : xmax) : randInt(r, xmin, xmax);
  const wZeroPoint = c.wZpPerChannel
    ? Int32Array.from({ length: s.outChannels }, () => randInt(r, -128, 127))
    : Int32Array.of(c.extremeZp ? (c.seed % 2 ? 127 : -128) : 0);
  const bias = Int32Array.from({ length: s.outChannels }, () => randInt(r, -50000, 50000));
  const base = 1 / (Math.sqrt(kg) * 128 * 40);
  const mults = Array.from({ length: c.perChannel ? s.outChannels : 1 }, () => base * (0.25 + 2 * r()));
  const zp = c.ySigned ? randInt(r, -20, 20) : randInt(r, 100, 150);
  const requant = makeRequant(c.mode, mults, { zeroPoint: zp, signed: c.ySigned, min: c.relu ? zp : undefined });
  return { shape: s, w, wZeroPoint, bias, x, xZeroPoint, requant, ySigned: c.ySigned };
}

function run(b: Built, backend: Backend, variant: KernelVariant): Int8Like {
  const packed = backend.qconv2dPack({ shape: b.shape, w: b.w, wZeroPoint: b.wZeroPoint, bias: b.bias, variant });
  const [oh, ow] = outSize(b.shape);
  expect([packed.outHeight, packed.outWidth]).toEqual([oh, ow]);
  const n = b.shape.batch * b.shape.outChannels * oh * ow;
  const y: Int8Like = b.ySigned ? new Int8Array(n + 3) : new Uint8Array(n + 3);
  y.fill(77 as never);
  backend.qconv2d(packed, { x: b.x, xZeroPoint: b.xZeroPoint, requant: b.requant, y });
  // Nothing past Y is written.
  expect(Array.from(y.subarray(n))).toEqual([77, 77, 77]);
  return y;
}

function label(c: Case): string {
  const s = c.shape;
  const g = s.groups ?? 1;
  return (
    `n${s.batch} ${s.inChannels}->${s.outChannels}${g > 1 ? ` g${g}` : ''} ${s.inHeight}x${s.inWidth} k${s.kernelH}x${s.kernelW}` +
    ` s${(s.strides ?? [1, 1]).join(',')} d${(s.dilations ?? [1, 1]).join(',')} p${(s.pads ?? [0, 0, 0, 0]).join(',')}` +
    ` ${c.xSigned ? 's8' : 'u8'}->${c.ySigned ? 's8' : 'u8'} ${c.perChannel ? 'per-channel' : 'per-tensor'} ${c.mode}` +
    `${c.wZpPerChannel ? ' zw/ch' : ''}${c.extremeZp ? ' extreme-zp' : ''}${c.relu ? ' relu' : ''}`
  );
}

const awkward = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];
const modes: RequantMode[] = ['fixed-point', 'float', 'shift'];

const cases: Case[] = [];
let seed = 1000;
// Each awkward channel count as input and as output channels, with geometry varying alongside.
for (const [i, c] of awkward.entries()) {
  const kern = [
    [3, 3],
    [1, 1],
    [5, 3],
    [2, 2],
    [3, 1],
  ][i % 5];
  cases.push({
    shape: {
      batch: 1 + (i % 2),
      inChannels: c,
      outChannels: awkward[(i * 7) % awkward.length],
      inHeight: 3 + (i % 7),
      inWidth: 5 + ((i * 3) % 13),
      kernelH: kern[0],
      kernelW: kern[1],
      strides: [1 + (i % 2), 1 + ((i >> 1) % 3)],
      pads: [i % 3, (i + 1) % 2, (i * 5) % 4, i % 2],
      dilations: [1 + ((i >> 2) % 2), 1],
    },
    xSigned: i % 2 === 0,
    ySigned: i % 3 === 0,
    perChannel: i % 2 === 1,
    mode: modes[i % 3],
    seed: seed++,
    extremeZp: i % 5 === 0,
  });
  cases.push({
    shape: {
      batch: 1,
      inChannels: awkward[(i * 5 + 3) % awkward.length],
      outChannels: c,
      inHeight: 9 - (i % 5),
      inWidth: 17 + (i % 19),
      kernelH: 3,
      kernelW: 3,
      pads: [1, 1, 1, 1],
      strides: [1, i % 4 === 0 ? 2 : 1],
    },
    xSigned: i % 2 === 1,
    ySigned: i % 3 !== 0,
    perChannel: i % 2 === 0,
    mode: modes[(i + 1) % 3],
    seed: seed++,
    wZpPerChannel: i % 4 === 0,
    relu: i % 6 === 0,
  });
  // Depthwise, vectorized across pixels: widths across the 8/16/32-pixel blocks.
  cases.push({
    shape: {
      batch: 1,
      inChannels: c,
      outChannels: c,
      groups: c,
      inHeight: 5 + (i % 9),
      inWidth: [7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70][i % 13],
      kernelH: i % 4 === 3 ? 5 : 3,
      // Odd and even tap counts (the AVX2 row kernel takes taps in pairs).
      kernelW: [3, 2, 3, 1, 4][i % 5]!,
      strides: [1 + (i % 3 === 2 ? 1 : 0), 1 + (i % 2)],
      pads: [1, 1, 1 + (i % 2), 1],
      dilations: [1, 1 + (i % 5 === 4 ? 1 : 0)],
    },
    xSigned: i % 2 === 0,
    ySigned: i % 2 === 0,
    perChannel: true,
    mode: modes[(i + 2) % 3],
    seed: seed++,
    wZpPerChannel: i % 3 === 0,
    extremeZp: i % 7 === 0,
  });
}
// Grouped and channel-multiplier convolutions.
for (const [g, cin, cout] of [
  [2, 4, 6],
  [3, 9, 3],
  [4, 8, 8],
  [5, 5, 10],
  [16, 32, 32],
  [3, 33, 63],
] as const) {
  cases.push({
    shape: {
      batch: 1,
      inChannels: cin,
      outChannels: cout,
      groups: g,
      inHeight: 11,
      inWidth: 13,
      kernelH: 3,
      kernelW: 3,
      pads: [1, 0, 1, 2],
    },
    xSigned: false,
    ySigned: false,
    perChannel: true,
    mode: modes[g % 3],
    seed: seed++,
  });
}
// Depthwise rows taken one output row at a time (vertical stride 2): every width regime of the AVX2
// row kernel (16, 16 + an overlapping 16, 32-blocks + overlap; horizontal pairs of stride 2 as words).
for (const [ow, sw, kw] of [
  [16, 1, 3],
  [17, 1, 5],
  [20, 1, 3],
  [31, 1, 2],
  [32, 1, 3],
  [33, 1, 5],
  [65, 1, 3],
  [16, 2, 3],
  [17, 2, 4],
  [33, 2, 5],
] as const) {
  cases.push({
    shape: {
      batch: 1,
      inChannels: 3,
      outChannels: 3,
      groups: 3,
      inHeight: 7,
      inWidth: (ow - 1) * sw + kw - 2,
      kernelH: 3,
      kernelW: kw,
      strides: [2, sw],
      pads: [1, 1, 1, 1],
    },
    xSigned: ow % 2 === 0,
    ySigned: ow % 2 === 0,
    perChannel: true,
    mode: modes[ow % 3],
    seed: seed++,
  });
}
// Pointwise (1x1, stride 1, no padding): panels packed straight from the 8-bit input (AVX2), full and
// partial 16-pixel panels, odd and even channel counts, groups, a batch of two.
for (const [h, w, cin, cout, groups, batch] of [
  [1, 1, 3, 5, 1, 2],
  [1, 17, 8, 7, 1, 1],
  [3, 11, 5, 16, 1, 1],
  [4, 8, 16, 9, 1, 2],
  [5, 13, 33, 13, 1, 1],
  [8, 8, 12, 6, 3, 1],
  [7, 9, 2, 65, 1, 1],
] as const) {
  cases.push({
    shape: { batch, inChannels: cin, outChannels: cout, groups, inHeight: h, inWidth: w, kernelH: 1, kernelW: 1 },
    xSigned: cin % 2 === 1,
    ySigned: cin % 2 === 0,
    perChannel: w % 2 === 1,
    mode: modes[cin % 3],
    seed: seed++,
    wZpPerChannel: cout % 2 === 1,
    extremeZp: h === 7,
  });
}
// Stride-1 layers of one group with weight zero points 0 (the VNNI variant's direct path, no im2col):
// every last row tile from 1 to 8 channels, channel counts with and without a partial last quad of 4,
// pads, dilations, rows as wide as the padded input (1x1) and rows that are not, a batch of two.
for (const [i, [cin, cout, k, pads, dil]] of (
  [
    [4, 1, 3, [1, 1, 1, 1], 1],
    [8, 2, 3, [0, 0, 0, 0], 1],
    [12, 3, 5, [2, 1, 0, 2], 1],
    [16, 4, 3, [1, 1, 1, 1], 2],
    [15, 5, 3, [1, 0, 1, 0], 1],
    [32, 6, 1, [0, 0, 0, 0], 1],
    [24, 7, 3, [3, 3, 3, 3], 1],
    [64, 9, 3, [1, 1, 1, 1], 1],
    [33, 17, 2, [0, 1, 1, 0], 1],
    [20, 8, 1, [1, 0, 0, 1], 1],
  ] as const
).entries()) {
  cases.push({
    shape: {
      batch: 1 + (i % 2),
      inChannels: cin,
      outChannels: cout,
      inHeight: 3 + ((i * 5) % 9),
      inWidth: [5, 14, 16, 17, 31, 33, 40, 7, 65, 3][i]!,
      kernelH: k,
      kernelW: k === 5 ? 3 : k,
      pads: [...pads],
      dilations: [dil, dil],
    },
    xSigned: i % 2 === 0,
    ySigned: i % 3 === 0,
    perChannel: i % 2 === 1,
    mode: modes[i % 3],
    seed: seed++,
  });
}
// Geometry edge cases: stride > kernel, pads > kernel, big dilations, a kernel wider than the input.
const edges: Conv2dShape[] = [
  { batch: 1, inChannels: 3, outChannels: 5, inHeight: 13, inWidth: 17, kernelH: 1, kernelW: 1, strides: [3, 4] },
  { batch: 2, inChannels: 4, outChannels: 3, inHeight: 5, inWidth: 6, kernelH: 1, kernelW: 1, pads: [3, 4, 5, 2] },
  { batch: 1, inChannels: 2, outChannels: 7, inHeight: 4, inWidth: 3, kernelH: 3, kernelW: 3, pads: [5, 4, 3, 6], strides: [2, 1] },
  {
    batch: 1,
    inChannels: 5,
    outChannels: 4,
    inHeight: 15,
    inWidth: 16,
    kernelH: 3,
    kernelW: 3,
    dilations: [3, 4],
    strides: [2, 3],
    pads: [2, 2, 2, 2],
  },
  { batch: 1, inChannels: 3, outChannels: 2, inHeight: 2, inWidth: 3, kernelH: 5, kernelW: 7, pads: [2, 3, 1, 2] },
  {
    batch: 3,
    inChannels: 7,
    outChannels: 7,
    groups: 7,
    inHeight: 3,
    inWidth: 4,
    kernelH: 3,
    kernelW: 3,
    pads: [4, 4, 4, 4],
    strides: [3, 3],
  },
  {
    batch: 1,
    inChannels: 6,
    outChannels: 6,
    groups: 6,
    inHeight: 9,
    inWidth: 40,
    kernelH: 3,
    kernelW: 3,
    strides: [4, 4],
    pads: [1, 1, 1, 1],
  },
  { batch: 1, inChannels: 16, outChannels: 65, inHeight: 1, inWidth: 1, kernelH: 1, kernelW: 1 },
  { batch: 0, inChannels: 3, outChannels: 4, inHeight: 5, inWidth: 5, kernelH: 3, kernelW: 3 },
];
for (const [i, shape] of edges.entries()) {
  cases.push({
    shape,
    xSigned: i % 2 === 1,
    ySigned: i % 3 === 1,
    perChannel: i % 2 === 0,
    mode: modes[i % 3],
    seed: seed++,
    wZpPerChannel: i % 3 === 0,
  });
}
// Every mode x granularity x signedness at one shape; then larger ones that cross pixel blocks.
for (const mode of modes)
  for (const perChannel of [false, true])
    for (const xSigned of [false, true])
      for (const ySigned of [false, true])
        cases.push({
          shape: { batch: 1, inChannels: 17, outChannels: 33, inHeight: 10, inWidth: 19, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
          xSigned,
          ySigned,
          perChannel,
          mode,
          seed: seed++,
        });
cases.push({
  shape: { batch: 1, inChannels: 64, outChannels: 65, inHeight: 23, inWidth: 29, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
  xSigned: false,
  ySigned: false,
  perChannel: true,
  mode: 'fixed-point',
  seed: seed++,
});
cases.push({
  shape: { batch: 1, inChannels: 33, outChannels: 31, inHeight: 40, inWidth: 37, kernelH: 1, kernelW: 1 },
  xSigned: true,
  ySigned: true,
  perChannel: false,
  mode: 'float',
  seed: seed++,
  extremeZp: true,
});
cases.push({
  shape: {
    batch: 1,
    inChannels: 32,
    outChannels: 32,
    groups: 32,
    inHeight: 30,
    inWidth: 112,
    kernelH: 3,
    kernelW: 3,
    pads: [1, 1, 1, 1],
    strides: [2, 2],
  },
  xSigned: false,
  ySigned: false,
  perChannel: true,
  mode: 'shift',
  seed: seed++,
});

describe('qconv2d: every backend and variant equals the JS reference', () => {
  for (const c of cases) {
    it(label(c), () => {
      const b = build(c);
      const ref = run(b, jsBackend, 'ref');
      for (const bv of backendVariants) expect(firstDiff(run(b, bv.backend, bv.variant), ref), bv.label).toBe('equal');
    });
  }

  it('computes a hand-checked 3x3 convolution with padding and bias', () => {
    // X = 1..9 (3x3, zero point 1), W = all 1 (zero point 0), pads 1, bias 2, M = 1: Y = box sums of (X-1) + 2.
    const x = Uint8Array.from({ length: 9 }, (_, i) => i + 1);
    const expected = [8, 15, 12, 21, 36, 27, 20, 33, 24].map((v) => v + 2);
    for (const bv of backendVariants) {
      for (const mode of modes) {
        const p = bv.backend.qconv2dPack({
          shape: { batch: 1, inChannels: 1, outChannels: 1, inHeight: 3, inWidth: 3, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
          w: new Int8Array(9).fill(1),
          wZeroPoint: Int32Array.of(0),
          bias: Int32Array.of(2),
          variant: bv.variant,
        });
        const y = new Uint8Array(9);
        bv.backend.qconv2d(p, { x, xZeroPoint: 1, requant: makeRequant(mode, [1], { zeroPoint: 0, signed: false }), y });
        expect(Array.from(y), `${bv.label} ${mode}`).toEqual(expected);
      }
    }
  });

  it('runs packed weights with another batch size', () => {
    const c: Case = {
      shape: { batch: 1, inChannels: 5, outChannels: 7, inHeight: 6, inWidth: 9, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
      xSigned: false,
      ySigned: false,
      perChannel: true,
      mode: 'fixed-point',
      seed: 7,
    };
    const b = build({ ...c, shape: { ...c.shape, batch: 3 } });
    const ref = run(b, jsBackend, 'ref');
    for (const bv of backendVariants) {
      const packed = bv.backend.qconv2dPack({ shape: c.shape, w: b.w, wZeroPoint: b.wZeroPoint, bias: b.bias, variant: bv.variant });
      const y = new Uint8Array(ref.length).fill(77);
      bv.backend.qconv2d(packed, { x: b.x, xZeroPoint: b.xZeroPoint, requant: b.requant, y, batch: 3 });
      expect(firstDiff(y, ref), bv.label).toBe('equal');
    }
  });
});

describe('qconv2d: native results do not depend on the thread count', () => {
  const native = loadedBackends.find((b) => b.name === 'native');
  const before = native?.getThreads() ?? 1;
  afterAll(() => native?.setThreads(before));
  const big: Case[] = [
    {
      shape: { batch: 2, inChannels: 24, outChannels: 40, inHeight: 29, inWidth: 31, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
      xSigned: false,
      ySigned: false,
      perChannel: true,
      mode: 'fixed-point',
      seed: 51,
    },
    {
      shape: {
        batch: 1,
        inChannels: 48,
        outChannels: 48,
        groups: 48,
        inHeight: 21,
        inWidth: 35,
        kernelH: 3,
        kernelW: 3,
        pads: [1, 1, 1, 1],
        strides: [2, 2],
      },
      xSigned: true,
      ySigned: true,
      perChannel: true,
      mode: 'float',
      seed: 52,
    },
    {
      shape: { batch: 1, inChannels: 64, outChannels: 96, inHeight: 7, inWidth: 7, kernelH: 1, kernelW: 1 },
      xSigned: false,
      ySigned: true,
      perChannel: false,
      mode: 'shift',
      seed: 53,
    },
    // Above the 4 M MAC threshold under which native runs a conv on the calling thread (the cases
    // above, but depthwise and 1x1, stay below it): these take the threaded paths.
    {
      shape: {
        batch: 1,
        inChannels: 64,
        outChannels: 64,
        groups: 64,
        inHeight: 97,
        inWidth: 95,
        kernelH: 3,
        kernelW: 3,
        pads: [1, 1, 1, 1],
      },
      xSigned: false,
      ySigned: false,
      perChannel: true,
      mode: 'fixed-point',
      seed: 54,
    },
    {
      shape: { batch: 1, inChannels: 64, outChannels: 96, inHeight: 29, inWidth: 27, kernelH: 1, kernelW: 1 },
      xSigned: true,
      ySigned: false,
      perChannel: true,
      mode: 'float',
      seed: 55,
    },
  ];
  for (const c of big) {
    it.runIf(native !== undefined)(label(c), () => {
      const b = build(c);
      const ref = run(b, jsBackend, 'ref');
      for (const threads of [1, 2, 3]) {
        native!.setThreads(threads);
        expect(native!.getThreads()).toBe(threads);
        for (const v of native!.variants) expect(firstDiff(run(b, native!, v), ref), `${threads} threads ${v}`).toBe('equal');
      }
    });
  }
  it.runIf(native !== undefined)('refuses a bad thread count', () => {
    expect(() => native!.setThreads(0)).toThrow(/threads must be an integer in \[1, 256\]/);
    expect(() => native!.setThreads(1.5)).toThrow(OnnxPtqError);
  });
});

describe('qconv2d agrees with onnxruntime QLinearConv in float mode where onnxruntime is exact', () => {
  // u8 activations with u8 weights (our int8 weights are w - 128 with zero point zw - 128), or
  // int8 weights in [-64, 63] (no int16 saturation in onnxruntime's u8 x s8 kernels).
  const trials = [
    {
      u8Weights: true,
      shape: { batch: 1, inChannels: 8, outChannels: 16, inHeight: 12, inWidth: 11, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
    },
    {
      u8Weights: false,
      shape: {
        batch: 2,
        inChannels: 16,
        outChannels: 24,
        inHeight: 9,
        inWidth: 14,
        kernelH: 3,
        kernelW: 3,
        strides: [2, 2],
        pads: [1, 0, 1, 1],
      },
    },
    {
      u8Weights: false,
      shape: {
        batch: 1,
        inChannels: 32,
        outChannels: 32,
        groups: 32,
        inHeight: 15,
        inWidth: 15,
        kernelH: 3,
        kernelW: 3,
        pads: [1, 1, 1, 1],
      },
    },
    { u8Weights: true, shape: { batch: 1, inChannels: 33, outChannels: 17, inHeight: 8, inWidth: 8, kernelH: 1, kernelW: 1 } },
    {
      u8Weights: false,
      shape: {
        batch: 1,
        inChannels: 6,
        outChannels: 9,
        groups: 3,
        inHeight: 10,
        inWidth: 13,
        kernelH: 3,
        kernelW: 2,
        dilations: [2, 1],
        pads: [2, 1, 2, 1],
      },
    },
    {
      u8Weights: false,
      shape: {
        batch: 1,
        inChannels: 20,
        outChannels: 12,
        inHeight: 17,
        inWidth: 17,
        kernelH: 5,
        kernelW: 5,
        strides: [3, 3],
        pads: [2, 2, 2, 2],
      },
    },
  ] satisfies { u8Weights: boolean; shape: Conv2dShape }[];
  for (const [t, { u8Weights, shape }] of trials.entries()) {
    it(`${u8Weights ? 'u8 x u8' : 'u8 x s8[-64,63]'} ${label({ shape, xSigned: false, ySigned: false, perChannel: true, mode: 'float', seed: 0 })}`, async () => {
      const r = rng(500 + t);
      const groups = shape.groups ?? 1,
        cout = shape.outChannels;
      const kg = (shape.inChannels / groups) * shape.kernelH * shape.kernelW;
      const x = Uint8Array.from({ length: shape.batch * shape.inChannels * shape.inHeight * shape.inWidth }, () => randInt(r, 0, 255));
      const sx = 0.02 + r() * 0.02,
        zx = randInt(r, 0, 255),
        sy = 0.05 + r() * 0.1,
        zy = randInt(r, 60, 190);
      const sw = Float32Array.from({ length: cout }, () => (0.002 + r() * 0.01) / Math.sqrt(kg));
      const bias = Int32Array.from({ length: cout }, () => randInt(r, -3000, 3000));
      const wU8 = Uint8Array.from({ length: cout * kg }, () => randInt(r, 0, 255));
      const wS8 = Int8Array.from({ length: cout * kg }, () => randInt(r, -64, 63));
      const zwU8 = randInt(r, 0, 255);
      const wOurs = u8Weights ? Int8Array.from(wU8, (v) => v - 128) : wS8;
      const zwOurs = u8Weights ? zwU8 - 128 : 0;
      const requant = makeRequant(
        'float',
        Array.from(sw, (s) => floatMultiplier(sx, s, sy)),
        { zeroPoint: zy, signed: false },
      );
      const [oh, ow] = outSize(shape);
      const ydims = [shape.batch, cout, oh, ow];
      const model = singleNodeModel(
        'QLinearConv',
        [{ name: 'x', dtype: 'uint8', dims: [shape.batch, shape.inChannels, shape.inHeight, shape.inWidth] }],
        [
          { name: 'sx', dtype: 'float', dims: [], data: Float32Array.of(sx) },
          { name: 'zx', dtype: 'uint8', dims: [], data: Uint8Array.of(zx) },
          u8Weights
            ? { name: 'w', dtype: 'uint8', dims: [cout, shape.inChannels / groups, shape.kernelH, shape.kernelW], data: wU8 }
            : { name: 'w', dtype: 'int8', dims: [cout, shape.inChannels / groups, shape.kernelH, shape.kernelW], data: wS8 },
          { name: 'sw', dtype: 'float', dims: [cout], data: sw },
          u8Weights
            ? { name: 'zw', dtype: 'uint8', dims: [], data: Uint8Array.of(zwU8) }
            : { name: 'zw', dtype: 'int8', dims: [], data: Int8Array.of(0) },
          { name: 'sy', dtype: 'float', dims: [], data: Float32Array.of(sy) },
          { name: 'zy', dtype: 'uint8', dims: [], data: Uint8Array.of(zy) },
          { name: 'b', dtype: 'int32', dims: [cout], data: bias },
        ],
        ['x', 'sx', 'zx', 'w', 'sw', 'zw', 'sy', 'zy', 'b'],
        [{ name: 'y', dtype: 'uint8', dims: ydims }],
        {
          group: groups,
          kernel_shape: [shape.kernelH, shape.kernelW],
          strides: [...(shape.strides ?? [1, 1])],
          dilations: [...(shape.dilations ?? [1, 1])],
          pads: (() => {
            const p = shape.pads ?? [0, 0, 0, 0];
            return [p[0], p[1], p[2], p[3]];
          })(),
        },
        13,
      );
      const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
      const out = await sess.run({ x: new ort.Tensor('uint8', x, [shape.batch, shape.inChannels, shape.inHeight, shape.inWidth]) });
      const theirs = Array.from(out.y.data as Uint8Array);
      for (const b of loadedBackends) {
        for (const variant of b.variants) {
          const packed = b.qconv2dPack({ shape, w: wOurs, wZeroPoint: Int32Array.of(zwOurs), bias, variant });
          const y = new Uint8Array(theirs.length);
          b.qconv2d(packed, { x, xZeroPoint: zx, requant, y });
          expect(Array.from(y), `${b.name}:${variant}`).toEqual(theirs);
        }
      }
    });
  }
});

describe('qconv2d rejects bad input on every backend', () => {
  const shape: Conv2dShape = {
    batch: 1,
    inChannels: 4,
    outChannels: 6,
    inHeight: 5,
    inWidth: 5,
    kernelH: 3,
    kernelW: 3,
    groups: 2,
    pads: [1, 1, 1, 1],
  };
  const good = () => build({ shape, xSigned: false, ySigned: false, perChannel: true, mode: 'fixed-point', seed: 3 });
  const badPack: [string, (b: Built) => Built, RegExp][] = [
    ['groups not dividing in_channels', (b) => ({ ...b, shape: { ...b.shape, groups: 3 } }), /in_channels must be a multiple of groups/],
    [
      'groups not dividing out_channels',
      (b) => ({ ...b, shape: { ...b.shape, inChannels: 8, groups: 4, outChannels: 6 } }),
      /out_channels must be a multiple of groups/,
    ],
    ['zero stride', (b) => ({ ...b, shape: { ...b.shape, strides: [0, 1] } }), /stride_h must be in/],
    ['negative pad', (b) => ({ ...b, shape: { ...b.shape, pads: [1, -1, 1, 1] } }), /pad_left must be in/],
    ['zero dilation', (b) => ({ ...b, shape: { ...b.shape, dilations: [1, 0] } }), /dilation_w must be in/],
    [
      'kernel larger than the padded input',
      (b) => ({ ...b, shape: { ...b.shape, kernelW: 4, dilations: [1, 3] } }),
      /kernel_w \(dilated\) is larger/,
    ],
    ['zero channels', (b) => ({ ...b, shape: { ...b.shape, inChannels: 0 } }), /in_channels must be in/],
    ['huge height', (b) => ({ ...b, shape: { ...b.shape, inHeight: 2 ** 29 } }), /in_height must be in/],
    ['W too small', (b) => ({ ...b, w: b.w.subarray(1) }), /buffer W is smaller/],
    ['w zero points', (b) => ({ ...b, wZeroPoint: new Int32Array(2) }), /w_zero_point must have 1 or out_channels entries/],
    ['w zero point range', (b) => ({ ...b, wZeroPoint: Int32Array.of(128) }), /w_zero_point out of int8 range/],
    ['bias length', (b) => ({ ...b, bias: new Int32Array(5) }), /bias must have 0 or out_channels entries/],
    ['pads length', (b) => ({ ...b, shape: { ...b.shape, pads: [1, 1] } }), /pads must have 4 entries/],
  ];
  const badRun: [string, (b: Built) => Built, (y: Int8Like) => Int8Like, RegExp][] = [
    ['X too small', (b) => ({ ...b, x: (b.x as Uint8Array).subarray(1) }), (y) => y, /buffer X is smaller/],
    ['Y too small', (b) => b, (y) => y.subarray(1), /buffer Y is smaller/],
    ['x zero point range', (b) => ({ ...b, xZeroPoint: 256 }), (y) => y, /x_zero_point|xZeroPoint/],
    [
      'requant count',
      (b) => ({ ...b, requant: makeRequant('fixed-point', [0.1, 0.2], { zeroPoint: 0, signed: false }) }),
      (y) => y,
      /count must be 1 or the number of output channels/,
    ],
    ['requant clamp', (b) => ({ ...b, requant: { ...b.requant, min: 10, max: 5 } }), (y) => y, /output_min/],
    [
      'x wrong type',
      (b) => ({ ...b, x: new Float32Array(100) as unknown as Uint8Array }),
      (y) => y,
      /x must be a Uint8Array or Int8Array|"x"|x: expected/,
    ],
  ];
  const expectRefusal = (fn: () => void, msg: RegExp) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect((err as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
    expect((err as Error).message).toMatch(msg);
  };
  for (const { label: bl, backend, variant } of backendVariants) {
    for (const [what, mutate, msg] of badPack) {
      it(`${bl}: pack, ${what}`, () => {
        const b = mutate(good());
        expectRefusal(() => backend.qconv2dPack({ shape: b.shape, w: b.w, wZeroPoint: b.wZeroPoint, bias: b.bias, variant }), msg);
      });
    }
    for (const [what, mutate, mutY, msg] of badRun) {
      it(`${bl}: run, ${what}`, () => {
        const g = good();
        const packed = backend.qconv2dPack({ shape: g.shape, w: g.w, wZeroPoint: g.wZeroPoint, bias: g.bias, variant });
        const b = mutate(g);
        expectRefusal(
          () => backend.qconv2d(packed, { x: b.x, xZeroPoint: b.xZeroPoint, requant: b.requant, y: mutY(new Uint8Array(6 * 25)) }),
          msg,
        );
      });
    }
    it(`${bl}: run, weights packed by another backend or corrupted`, () => {
      const g = good();
      const other = backend.name === 'js' ? (loadedBackends.find((b) => b.name !== 'js') ?? backend) : jsBackend;
      if (other !== backend) {
        const packed = other.qconv2dPack({ shape: g.shape, w: g.w, wZeroPoint: g.wZeroPoint, bias: g.bias });
        expectRefusal(
          () => backend.qconv2d(packed, { x: g.x, xZeroPoint: g.xZeroPoint, requant: g.requant, y: new Uint8Array(150) }),
          /packed weights were made by backend/,
        );
      }
      if (backend.name === 'native') {
        const packed = backend.qconv2dPack({ shape: g.shape, w: g.w, wZeroPoint: g.wZeroPoint, bias: g.bias, variant });
        const corrupt = { ...packed, handle: new Uint8Array(256) };
        expectRefusal(
          () => backend.qconv2d(corrupt, { x: g.x, xZeroPoint: g.xZeroPoint, requant: g.requant, y: new Uint8Array(150) }),
          /packed does not hold packed convolution weights/,
        );
        // A header naming the direct VNNI path (5) for a geometry that path does not run (stride 2;
        // its size equals the im2col VNNI path's, 3, when the input channels are a multiple of 4):
        // refused, not run with the wrong indexing.
        if (variant === 'avx512vnni') {
          const s2 = build({
            shape: { ...shape, groups: 1, inChannels: 4, strides: [2, 2] },
            xSigned: false,
            ySigned: false,
            perChannel: true,
            mode: 'fixed-point',
            seed: 4,
          });
          const q = backend.qconv2dPack({ shape: s2.shape, w: s2.w, wZeroPoint: Int32Array.of(0), bias: s2.bias, variant });
          const bytes = (q.handle as Uint8Array).slice();
          const view = new DataView(bytes.buffer, bytes.byteOffset);
          expect(view.getInt32(8, true)).toBe(3);
          view.setInt32(8, 5, true);
          expectRefusal(
            () =>
              backend.qconv2d(
                { ...q, handle: bytes },
                { x: s2.x, xZeroPoint: s2.xZeroPoint, requant: s2.requant, y: new Uint8Array(4096) },
              ),
            /packed does not match its variant/,
          );
        }
        const truncated = { ...packed, handle: (packed.handle as Uint8Array).subarray(0, 64) };
        expectRefusal(
          () => backend.qconv2d(truncated, { x: g.x, xZeroPoint: g.xZeroPoint, requant: g.requant, y: new Uint8Array(150) }),
          /packed is smaller/,
        );
      }
    });
  }
});

describe('packed qgemm (a 1x1 convolution over the batch) equals the qgemm JS reference', () => {
  const native = loadedBackends.find((b) => b.name === 'native');
  const before = native?.getThreads() ?? 1;
  afterAll(() => native?.setThreads(before));
  const gcases: {
    m: number;
    n: number;
    k: number;
    aSigned: boolean;
    ySigned: boolean;
    perChannel: boolean;
    mode: RequantMode;
    zb: 'zero' | 'tensor' | 'column';
    seed: number;
  }[] = [];
  let s2 = 3000;
  for (const [i, v] of awkward.entries()) {
    gcases.push({
      m: v,
      n: awkward[(i * 7) % awkward.length],
      k: awkward[(i * 3 + 5) % awkward.length],
      aSigned: i % 2 === 0,
      ySigned: i % 3 === 0,
      perChannel: i % 2 === 1,
      mode: modes[i % 3],
      zb: 'zero',
      seed: s2++,
    });
    gcases.push({
      m: awkward[(i * 5) % awkward.length],
      n: v,
      k: awkward[(i * 11) % awkward.length],
      aSigned: i % 2 === 1,
      ySigned: false,
      perChannel: true,
      mode: modes[(i + 1) % 3],
      zb: i % 2 ? 'tensor' : 'zero',
      seed: s2++,
    });
    gcases.push({
      m: awkward[(i * 13) % awkward.length],
      n: awkward[(i * 17) % awkward.length],
      k: v,
      aSigned: false,
      ySigned: true,
      perChannel: i % 2 === 0,
      mode: modes[(i + 2) % 3],
      zb: i % 3 === 0 ? 'column' : 'zero',
      seed: s2++,
    });
  }
  gcases.push({ m: 100, n: 257, k: 300, aSigned: false, ySigned: false, perChannel: true, mode: 'fixed-point', zb: 'zero', seed: s2++ });
  gcases.push({ m: 64, n: 256, k: 2304, aSigned: true, ySigned: true, perChannel: false, mode: 'float', zb: 'zero', seed: s2++ });
  for (const c of gcases) {
    it(`${c.m}x${c.n}x${c.k} ${c.aSigned ? 's8' : 'u8'}->${c.ySigned ? 's8' : 'u8'} ${c.perChannel ? 'per-channel' : 'per-tensor'} ${c.mode} zb:${c.zb}`, () => {
      const r = rng(c.seed);
      const a: Int8Like = c.aSigned
        ? Int8Array.from({ length: c.m * c.k }, () => randInt(r, -128, 127))
        : Uint8Array.from({ length: c.m * c.k }, () => randInt(r, 0, 255));
      const b = Int8Array.from({ length: c.k * c.n }, () => randInt(r, -128, 127));
      const aZeroPoint = c.aSigned ? randInt(r, -128, 127) : randInt(r, 0, 255);
      const bZeroPoint =
        c.zb === 'zero'
          ? Int32Array.of(0)
          : c.zb === 'tensor'
            ? Int32Array.of(randInt(r, -128, 127))
            : Int32Array.from({ length: c.n }, () => randInt(r, -128, 127));
      const bias = Int32Array.from({ length: c.n }, () => randInt(r, -50000, 50000));
      const base = 1 / (Math.sqrt(c.k) * 128 * 40);
      const requant = makeRequant(
        c.mode,
        Array.from({ length: c.perChannel ? c.n : 1 }, () => base * (0.25 + 2 * r())),
        { zeroPoint: c.ySigned ? 3 : 120, signed: c.ySigned },
      );
      const mk = () => (c.ySigned ? new Int8Array(c.m * c.n) : new Uint8Array(c.m * c.n));
      const ref = mk();
      jsBackend.qgemm({ m: c.m, n: c.n, k: c.k, a, aZeroPoint, b, bZeroPoint, bias, requant, y: ref });
      for (const bv of backendVariants) {
        for (const threads of bv.backend.name === 'native' ? [1, 2, 3] : [1]) {
          bv.backend.setThreads(threads);
          const packed = bv.backend.qgemmPack({ n: c.n, k: c.k, b, bZeroPoint, bias, variant: bv.variant });
          const y = mk();
          bv.backend.qgemmRun(packed, { m: c.m, a, aZeroPoint, requant, y });
          expect(firstDiff(y, ref), `${bv.label} ${threads} threads`).toBe('equal');
        }
      }
    });
  }
  it('refuses a too-small A, B or Y', () => {
    for (const { label: bl, backend } of backendVariants) {
      expect(() => backend.qgemmPack({ n: 4, k: 3, b: new Int8Array(11), bZeroPoint: Int32Array.of(0) }), bl).toThrow(
        /buffer B is smaller/,
      );
      const p = backend.qgemmPack({ n: 4, k: 3, b: new Int8Array(12), bZeroPoint: Int32Array.of(0) });
      const rq = makeRequant('fixed-point', [0.1], { zeroPoint: 0, signed: false });
      expect(() => backend.qgemmRun(p, { m: 2, a: new Uint8Array(5), aZeroPoint: 0, requant: rq, y: new Uint8Array(8) }), bl).toThrow(
        /buffer A is smaller/,
      );
      expect(() => backend.qgemmRun(p, { m: 2, a: new Uint8Array(6), aZeroPoint: 0, requant: rq, y: new Uint8Array(7) }), bl).toThrow(
        /buffer Y is smaller/,
      );
    }
  });
});
