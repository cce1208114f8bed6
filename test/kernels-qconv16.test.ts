// A16W8 convolution (qconv16): every backend and variant (auto included) against the JS reference
// bit for bit on awkward channel counts and geometries, every x_type/y_type pair, all three requant
// modes per tensor and per channel, int16 and int8 extremes; a large-K layer against an independent
// BigInt accumulation (int64 past 2^31); bad arguments refused by each backend before Y is touched.
import { describe, expect, it } from 'vitest';
import { makeRequant, type RequantMode, type RequantParams } from '../src/quant/requant.js';
import { qconv16Geom, type QConv16Args, type WideLike } from '../src/backends/kernels-qconv16.js';
import type { Conv2dShape } from '../src/backends/kernels-conv.js';
import { qconv16Ref } from '../src/kernels/int16/qconv16-ref.js';
import { OnnxPtqError } from '../src/errors.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';
import { backends, firstDiff, rng, SIZES } from './int8-ops-helpers.js';

type TypeName = 'uint8' | 'int8' | 'int16' | 'uint16';
const TYPES: TypeName[] = ['uint8', 'int8', 'int16', 'uint16'];
const RANGE: Record<TypeName, [number, number]> = { uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535] };
const MODES: RequantMode[] = ['fixed-point', 'float', 'shift'];

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

// Every (backend, variant) and each backend's 'auto'.
const targets: [string, Backend, KernelVariant][] = backends.flatMap((b) => [
  ...b.variants.map((v): [string, Backend, KernelVariant] => [`${b.name}:${v}`, b, v]),
  [`${b.name}:auto`, b, 'auto'] as [string, Backend, KernelVariant],
]);

interface Case {
  s: Conv2dShape;
  xt: TypeName;
  yt: TypeName;
  mode: RequantMode;
  perChannel: boolean;
  seed: number;
  bias?: boolean;
  clamp?: boolean;
}

function makeArgs(c: Case): QConv16Args {
  const r = rng(c.seed);
  const g = qconv16Geom(c.s);
  const x = randWide(r, c.xt, g.n * g.cin * g.h * g.w);
  const w = new Int8Array(g.cout * g.kg);
  for (let i = 0; i < w.length; i++) {
    const u = r();
    w[i] = u < 0.05 ? -128 : u < 0.1 ? 127 : Math.floor(r() * 256) - 128;
  }
  const [xlo, xhi] = RANGE[c.xt];
  const xZeroPoint = r() < 0.2 ? (r() < 0.5 ? xlo : xhi) : xlo + Math.floor(r() * (xhi - xlo + 1));
  const wZeroPoint = c.perChannel
    ? Int32Array.from({ length: g.cout }, () => (r() < 0.1 ? 127 : r() < 0.1 ? -128 : Math.floor(r() * 41) - 20))
    : Int32Array.of(Math.floor(r() * 256) - 128);
  const withBias = c.bias ?? r() < 0.7;
  const bias = withBias ? Int32Array.from({ length: g.cout }, () => Math.floor(r() * 2 ** 24) - 2 ** 23) : null;
  const [ylo, yhi] = RANGE[c.yt];
  // Typical |acc| ~ sqrt(K) * |x - zx| * |w - zw| / 2: aim the outputs at the middle of Y's range.
  const xr = Math.max(xZeroPoint - xlo, xhi - xZeroPoint);
  const base = (yhi - ylo) / (Math.sqrt(g.kg) * xr * 128);
  const mult = c.perChannel ? Array.from({ length: g.cout }, () => base * (0.25 + 2 * r())) : [base];
  const signed = ylo < 0;
  const zeroPoint = ylo + Math.floor((yhi - ylo) * (0.3 + 0.4 * r()));
  const span = yhi - ylo;
  const requant = makeRequant(c.mode, mult, {
    zeroPoint,
    signed,
    bits: span > 255 ? 16 : 8,
    ...(c.clamp ? { min: Math.max(ylo, zeroPoint - Math.floor(span / 5)), max: Math.min(yhi, zeroPoint + Math.floor(span / 4)) } : {}),
  });
  const y = alloc(c.yt, g.n * g.cout * g.oh * g.ow);
  return { shape: c.s, x, xZeroPoint, w, wZeroPoint, bias, requant, y };
}

const wantCache = new Map<string, WideLike>();
function want(c: Case): WideLike {
  const key = JSON.stringify(c);
  let y = wantCache.get(key);
  if (!y) {
    const a = makeArgs(c);
    qconv16Ref(qconv16Geom(a.shape), a.x, a.xZeroPoint, a.w, a.wZeroPoint, a.bias?.length ? a.bias : null, a.requant, a.y);
    y = a.y;
    wantCache.set(key, y);
  }
  return y;
}

function got(backend: Backend, variant: KernelVariant, c: Case): WideLike {
  const a = makeArgs(c);
  backend.qconv16({ ...a, variant });
  return a.y;
}

function check(backend: Backend, variant: KernelVariant, c: Case): void {
  const w = want(c),
    g = got(backend, variant, c);
  expect(g.constructor).toBe(w.constructor);
  expect(firstDiff(g, w), JSON.stringify(c)).toBe(-1);
}

const GEOS: Omit<Conv2dShape, 'batch' | 'inChannels' | 'outChannels'>[] = [
  { inHeight: 5, inWidth: 19, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
  { inHeight: 6, inWidth: 7, kernelH: 3, kernelW: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
  { inHeight: 4, inWidth: 9, kernelH: 2, kernelW: 3, strides: [3, 2], pads: [4, 5, 3, 4] }, // pads > kernel
  { inHeight: 7, inWidth: 23, kernelH: 3, kernelW: 2, dilations: [2, 3], pads: [0, 2, 1, 0] },
  { inHeight: 1, inWidth: 37, kernelH: 1, kernelW: 5, strides: [1, 3], pads: [0, 2, 0, 1] }, // 1-D
  { inHeight: 3, inWidth: 3, kernelH: 3, kernelW: 3, strides: [5, 4], pads: [2, 2, 2, 2] }, // stride > kernel
  { inHeight: 2, inWidth: 40, kernelH: 1, kernelW: 1 },
  { inHeight: 1, inWidth: 1, kernelH: 1, kernelW: 1 },
];

describe.each(targets)('%s', (_label, backend, variant) => {
  it('channels 1..17, 31-33, 63-65: every x_type/y_type pair, 3 modes, per tensor and per channel', () => {
    for (let i = 0; i < SIZES.length; i++) {
      const cin = SIZES[i]!,
        cout = SIZES[(i * 7 + 3) % SIZES.length]!;
      const big = cin > 17 && cout > 17;
      const s: Conv2dShape = {
        batch: 1,
        inChannels: cin,
        outChannels: cout,
        inHeight: big ? 3 : 4,
        inWidth: big ? 18 : 21,
        kernelH: 3,
        kernelW: 3,
        pads: [1, 0, 1, 2],
      };
      check(backend, variant, {
        s,
        xt: TYPES[i % 4]!,
        yt: TYPES[(i + Math.floor(i / 4)) % 4]!,
        mode: MODES[i % 3]!,
        perChannel: i % 2 === 0,
        seed: 100 + i,
      });
    }
  });

  it('all 16 x_type/y_type pairs in all 3 modes, clamps, bias present/absent', () => {
    let seed = 300;
    for (const xt of TYPES)
      for (const yt of TYPES)
        for (const mode of MODES) {
          seed++;
          const s: Conv2dShape = {
            batch: 1,
            inChannels: 5,
            outChannels: 6,
            inHeight: 3,
            inWidth: 18,
            kernelH: 3,
            kernelW: 3,
            pads: [1, 1, 1, 1],
          };
          check(backend, variant, { s, xt, yt, mode, perChannel: seed % 2 === 0, seed, bias: seed % 3 !== 0, clamp: seed % 5 === 0 });
        }
  });

  it('geometries: strides, dilations, pads > kernel, 1-D, batch 2', () => {
    let seed = 500;
    for (const geo of GEOS)
      for (const [cin, cout] of [
        [3, 5],
        [16, 17],
        [2, 1],
      ] as const) {
        seed++;
        const s: Conv2dShape = { batch: cin === 2 ? 2 : 1, inChannels: cin, outChannels: cout, ...geo };
        check(backend, variant, {
          s,
          xt: TYPES[seed % 4]!,
          yt: TYPES[(seed >> 2) % 4]!,
          mode: MODES[seed % 3]!,
          perChannel: seed % 2 === 0,
          seed,
        });
      }
  });

  it('groups: depthwise, grouped, odd channels per group', () => {
    let seed = 900;
    for (const [cin, cout, groups] of [
      [6, 6, 6],
      [6, 9, 3],
      [33, 33, 33],
      [10, 4, 2],
      [65, 65, 5],
      [15, 10, 5],
    ] as const) {
      seed++;
      const s: Conv2dShape = {
        batch: 1,
        inChannels: cin,
        outChannels: cout,
        groups,
        inHeight: 5,
        inWidth: 17,
        kernelH: 3,
        kernelW: 3,
        strides: [1, seed % 2 ? 1 : 2],
        pads: [1, 1, 1, 1],
      };
      check(backend, variant, { s, xt: TYPES[seed % 4]!, yt: TYPES[(seed + 1) % 4]!, mode: MODES[seed % 3]!, perChannel: true, seed });
    }
  });

  it('int16 and int8 extremes (|x - zx| = 65535, |w - zw| = 255): int64 sums past 2^31', () => {
    const s: Conv2dShape = {
      batch: 1,
      inChannels: 64,
      outChannels: 7,
      inHeight: 4,
      inWidth: 20,
      kernelH: 3,
      kernelW: 3,
      pads: [1, 1, 1, 1],
    };
    for (const [xt, zx, zw] of [
      ['int16', -32768, -128],
      ['int16', 32767, 127],
      ['uint16', 0, -128],
      ['uint16', 65535, 127],
    ] as const) {
      const r = rng(zx + zw);
      const g = qconv16Geom(s);
      const [lo, hi] = RANGE[xt];
      const x = alloc(xt, g.n * g.cin * g.h * g.w);
      // Mostly the extreme far from the zero point, so the sums pass 2^31.
      const far = zx === lo ? hi : lo;
      for (let i = 0; i < x.length; i++) x[i] = r() < 0.9 ? far : zx;
      const w = new Int8Array(g.cout * g.kg);
      const wfar = zw === -128 ? 127 : -128;
      for (let i = 0; i < w.length; i++) w[i] = r() < 0.85 ? wfar : zw === -128 ? -128 : 127;
      for (const mode of MODES)
        for (const yt of ['int16', 'uint16'] as const) {
          // |acc| up to 576 * 65535 * 255 ~ 2^33.1: M = 2^-19 brings it into 16 bits.
          const requant = makeRequant(mode, [2 ** -19, 2 ** -18, 2 ** -20, 2 ** -19.5, 2 ** -21, 2 ** -17, 2 ** -19], {
            zeroPoint: yt === 'int16' ? 0 : 32768,
            signed: yt === 'int16',
            bits: 16,
          });
          const args = { shape: s, x, xZeroPoint: zx, w, wZeroPoint: Int32Array.of(zw), bias: null, requant };
          const yw = alloc(yt, g.n * g.cout * g.oh * g.ow);
          qconv16Ref(g, x, zx, w, args.wZeroPoint, null, requant, yw);
          const yg = alloc(yt, yw.length);
          backend.qconv16({ ...args, y: yg, variant });
          expect(firstDiff(yg, yw), `${xt} ${mode} ${yt}`).toBe(-1);
          // Not saturated everywhere: the test sees the low bits.
          expect(new Set(yw).size).toBeGreaterThan(4);
        }
    }
  });

  it('large K (2048 channels x 3x3): every output against an independent BigInt accumulation', () => {
    const s: Conv2dShape = {
      batch: 1,
      inChannels: 2048,
      outChannels: 3,
      inHeight: 3,
      inWidth: 3,
      kernelH: 3,
      kernelW: 3,
      pads: [1, 1, 1, 1],
    };
    const g = qconv16Geom(s);
    const r = rng(77);
    const x = new Int16Array(g.cin * g.h * g.w);
    for (let i = 0; i < x.length; i++) x[i] = r() < 0.8 ? 32767 : -32768;
    const w = new Int8Array(g.cout * g.kg);
    for (let i = 0; i < w.length; i++) w[i] = r() < 0.8 ? 127 : -128;
    const zx = -32768,
      zw = -128;
    const bias = Int32Array.of(2 ** 31 - 1, -(2 ** 31), 12345);
    // Shift mode, per channel: acc / 2^24, / 2^22, / 2^26 rounded (an int32 wrap would move them by 2^6 at least).
    const requant: RequantParams = {
      mode: 2,
      multiplier: Int32Array.of(1 << 30, 1 << 30, 1 << 30),
      shift: Int32Array.of(-24, -22, -26),
      scale: Float32Array.of(1, 1, 1),
      zeroPoint: 0,
      min: -32768,
      max: 32767,
    };
    const expected = new Int16Array(g.cout * g.oh * g.ow);
    let maxAcc = 0n;
    for (let oc = 0; oc < g.cout; oc++)
      for (let oh = 0; oh < g.oh; oh++)
        for (let ow = 0; ow < g.ow; ow++) {
          let acc = BigInt(bias[oc]!);
          for (let ic = 0; ic < g.cin; ic++)
            for (let ki = 0; ki < 3; ki++)
              for (let kj = 0; kj < 3; kj++) {
                const ih = oh + ki - 1,
                  iw = ow + kj - 1;
                if (ih < 0 || iw < 0 || ih >= 3 || iw >= 3) continue;
                acc += BigInt(x[(ic * 3 + ih) * 3 + iw]! - zx) * BigInt(w[((oc * g.cin + ic) * 3 + ki) * 3 + kj]! - zw);
              }
          if (acc > maxAcc) maxAcc = acc;
          const e = BigInt(-requant.shift[oc]!);
          const mask = (1n << e) - 1n;
          let v = (acc >> e) + ((acc & mask) > (mask >> 1n) + (acc < 0n ? 1n : 0n) ? 1n : 0n);
          v = v < -32768n ? -32768n : v > 32767n ? 32767n : v;
          expected[(oc * g.oh + oh) * g.ow + ow] = Number(v);
        }
    expect(maxAcc > 2n ** 36n).toBe(true);
    const y = new Int16Array(expected.length);
    backend.qconv16({ shape: s, x, xZeroPoint: zx, w, wZeroPoint: Int32Array.of(zw), bias, requant, y, variant });
    expect(firstDiff(y, expected)).toBe(-1);
  });

  it('a 64 -> 64 channel 3x3 layer: full SIMD tiles, tails and the int32 flush', () => {
    const s: Conv2dShape = {
      batch: 1,
      inChannels: 64,
      outChannels: 64,
      inHeight: 5,
      inWidth: 37,
      kernelH: 3,
      kernelW: 3,
      pads: [1, 1, 1, 1],
    };
    check(backend, variant, { s, xt: 'int16', yt: 'int16', mode: 'fixed-point', perChannel: true, seed: 64 });
    check(backend, variant, { s, xt: 'uint16', yt: 'uint8', mode: 'float', perChannel: false, seed: 65 });
  });
});

describe('threads', () => {
  const native = backends.find((b) => b.name === 'native');
  it.runIf(native !== undefined)('native: 1, 2, 3 and 4 threads give the reference bits (rows and channel blocks split)', () => {
    const b = native!;
    const before = b.getThreads();
    try {
      for (const s of [
        { batch: 1, inChannels: 16, outChannels: 24, inHeight: 20, inWidth: 37, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
        { batch: 2, inChannels: 12, outChannels: 12, groups: 12, inHeight: 3, inWidth: 300, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
        {
          batch: 1,
          inChannels: 64,
          outChannels: 40,
          inHeight: 2,
          inWidth: 70,
          kernelH: 3,
          kernelW: 3,
          strides: [2, 1],
          pads: [1, 0, 1, 0],
        },
      ] as Conv2dShape[]) {
        const c: Case = { s, xt: 'int16', yt: 'int16', mode: 'fixed-point', perChannel: true, seed: 5 };
        for (const t of [1, 2, 3, 4]) {
          b.setThreads(t);
          expect(firstDiff(got(b, 'auto', c), want(c)), `${t} threads ${JSON.stringify(s)}`).toBe(-1);
        }
      }
    } finally {
      b.setThreads(before);
    }
  });
});

describe('dispatch and native plans', () => {
  it('every backend names the variant auto picks for qconv16', () => {
    for (const b of backends) expect(b.variants, b.name).toContain(b.dispatch.qconv16);
  });
  const native = backends.find((b) => b.name === 'native');
  it.runIf(native?.nativePlans !== undefined)('native: a recorded qconv16 call replays with the same bits', () => {
    const b = native!;
    const plans = b.nativePlans!;
    const c: Case = {
      s: { batch: 1, inChannels: 9, outChannels: 6, inHeight: 5, inWidth: 21, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
      xt: 'uint16',
      yt: 'int16',
      mode: 'float',
      perChannel: true,
      seed: 31,
    };
    const a = makeArgs(c);
    const h = plans.create();
    try {
      plans.begin(h);
      b.qconv16(a);
      const seg = plans.end(h);
      expect(seg).toBeGreaterThanOrEqual(0);
      expect(plans.broken(h)).toBe(false);
      a.y.fill(0);
      plans.run(h, seg);
      expect(firstDiff(a.y, want(c))).toBe(-1);
    } finally {
      plans.free(h);
    }
  });
});

describe('bad arguments', () => {
  const shape: Conv2dShape = { batch: 1, inChannels: 4, outChannels: 6, groups: 2, inHeight: 3, inWidth: 3, kernelH: 2, kernelW: 2 };
  const rq16 = () => makeRequant('fixed-point', [0.01], { zeroPoint: 0, signed: true, bits: 16 });
  const base = (): QConv16Args => ({
    shape,
    x: new Int16Array(36),
    xZeroPoint: 0,
    w: new Int8Array(6 * 2 * 4),
    wZeroPoint: Int32Array.of(0),
    bias: null,
    requant: rq16(),
    y: new Int16Array(6 * 2 * 2).fill(7),
  });
  let bigX: Uint16Array | undefined, bigW: Int8Array | undefined;
  // A 1x1 convolution of K input channels: X uint16 with zero point 0 (xr = 65535), W zero point -128 (wr = 255).
  const huge = (a: QConv16Args, k: number, bias: Int32Array | null): QConv16Args => {
    bigX ??= new Uint16Array(8421634);
    bigW ??= new Int8Array(8421634);
    const s = { batch: 1, inChannels: k, outChannels: 1, inHeight: 1, inWidth: 1, kernelH: 1, kernelW: 1 };
    return { ...a, shape: s, x: bigX, xZeroPoint: 0, w: bigW, wZeroPoint: Int32Array.of(-128), bias, y: new Int16Array(1).fill(7) };
  };
  const bad: [string, (a: QConv16Args) => QConv16Args, RegExp][] = [
    // K * 65535 * 255 just above 2^47 (K = 8421634), then just below it (8421633) with max|bias| = 2^31 - 1.
    ['bound check (K * xr * wr >= 2^47)', (a) => huge(a, 8421634, null), /2\^47/],
    ['bound check through the bias', (a) => huge(a, 8421633, Int32Array.of(-(2 ** 31))), /2\^47/],
    ['buffer X too small', (a) => ({ ...a, x: new Int16Array(35) }), /buffer X/],
    ['buffer Y too small', (a) => ({ ...a, y: new Int16Array(23).fill(7) }), /buffer Y/],
    ['buffer W too small', (a) => ({ ...a, w: new Int8Array(47) }), /buffer W/],
    ['x of a bad type', (a) => ({ ...a, x: new Int32Array(36) as unknown as Int16Array }), /x must be/],
    ['y of a bad type', (a) => ({ ...a, y: new Float32Array(24) as unknown as Int16Array }), /y must be/],
    ['w of a bad type', (a) => ({ ...a, w: new Uint8Array(48) as unknown as Int8Array }), /w must be/],
    ['x zero point outside X', (a) => ({ ...a, x: new Int8Array(36), xZeroPoint: 128 }), /x_zero_point/],
    ['uint16 zero point negative', (a) => ({ ...a, x: new Uint16Array(36), xZeroPoint: -1 }), /x_zero_point/],
    ['w zero point outside int8', (a) => ({ ...a, wZeroPoint: Int32Array.of(128) }), /w_zero_point/],
    ['w zero point count', (a) => ({ ...a, wZeroPoint: new Int32Array(3) }), /w_zero_point/],
    ['bias count', (a) => ({ ...a, bias: new Int32Array(5) }), /bias/],
    ['requant count', (a) => ({ ...a, requant: makeRequant('float', [0.1, 0.2], { zeroPoint: 0, signed: true, bits: 16 }) }), /count/],
    ['fixed-point total_shift < 1 (shift 15)', (a) => ({ ...a, requant: { ...rq16(), shift: Int32Array.of(15) } }), /total_shift/],
    [
      'fixed-point M >= 2^14',
      (a) => ({ ...a, requant: makeRequant('fixed-point', [2 ** 14 + 1], { zeroPoint: 0, signed: true, bits: 16 }) }),
      /total_shift/,
    ],
    ['16-bit clamp into an 8-bit Y', (a) => ({ ...a, y: new Int8Array(24).fill(7) }), /output_min/],
    [
      'zero point outside Y',
      (a) => ({
        ...a,
        y: new Uint16Array(24).fill(7),
        requant: { ...makeRequant('shift', [0.01], { zeroPoint: 0, signed: false, bits: 16 }), zeroPoint: -1 },
      }),
      /output_zero_point/,
    ],
    ['bad geometry', (a) => ({ ...a, shape: { ...shape, strides: [0, 1] } }), /stride_h/],
    ['channels not a multiple of groups', (a) => ({ ...a, shape: { ...shape, outChannels: 5 } }), /multiple of groups/],
    ['kernel larger than the padded input', (a) => ({ ...a, shape: { ...shape, kernelH: 5 } }), /kernel_h/],
    ['huge geometry with tiny buffers', (a) => ({ ...a, shape: { ...shape, inHeight: 40000, inWidth: 40000 } }), /buffer X|2\^31/],
  ];
  for (const b of backends)
    for (const v of ['auto', ...b.variants] as KernelVariant[]) {
      it(`${b.name}:${v}: every refusal is an OnnxPtqError KERNEL_ARGUMENT and Y is untouched`, () => {
        for (const [what, patch, re] of bad) {
          const a = patch(base());
          let err: unknown;
          try {
            b.qconv16({ ...a, variant: v });
          } catch (e) {
            err = e;
          }
          expect(err, what).toBeInstanceOf(OnnxPtqError);
          expect((err as OnnxPtqError).code, what).toBe('KERNEL_ARGUMENT');
          expect((err as Error).message, what).toMatch(re);
          if (a.y instanceof Int16Array || a.y instanceof Int8Array || a.y instanceof Uint16Array)
            expect(
              Array.from(a.y).every((e) => e === 7),
              what,
            ).toBe(true);
        }
        // And the base call works.
        const ok = base();
        b.qconv16({ ...ok, variant: v });
        expect(Array.from(ok.y).every((e) => e === 7)).toBe(false);
      });
    }
});
