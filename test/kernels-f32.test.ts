// Float32 kernels on every loaded backend and variant against a float64 reference of the ONNX
// definition. Float results are not bit-exact across backends (the SIMD variants sum in another
// order and use FMA), so each output is checked against an error bound scaled to its reduction:
// |y - ref| <= 2 * (terms + 2) * 2^-24 * sum |term| (the recursive-summation bound, with room for
// the bias add and the float32 inputs). Then agreement with onnxruntime-node on single-node Conv
// and Gemm models, and bad input refused with the argument named.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { backendVariants, loadedBackends, rng } from './backends.js';
import { OnnxPtqError } from '../src/errors.js';
import { expectKernelArgument } from './kernel-errors.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';
import type { Conv2dF32Params, GemmF32Args, Pool3dParams, UnaryF32Op, BinaryF32Op } from '../src/backends/kernels-f32.js';
import { binaryRef, layerNormF32Ref, unaryRef } from '../src/backends/js-f32.js';
import { gelu } from '../src/ops/erf.js';
import { UNARY_ID } from '../src/backends/f32-args.js';
import { singleNodeModel } from '../bench/onnx-single-node.js';

const EPS = 2 ** -24;
const AWKWARD = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];

function randArray(r: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** Checks y against ref within bound[i] (absolute), reporting the worst element. */
function expectClose(y: Float32Array, ref: Float64Array, bound: Float64Array, what: string): void {
  let worst = -1,
    worstRatio = 0;
  for (let i = 0; i < ref.length; i++) {
    if (y[i] === ref[i]) continue; // also equal infinities
    const d = Math.abs(y[i]! - ref[i]!);
    if (!(d <= bound[i]!) || Number.isNaN(y[i]!) !== Number.isNaN(ref[i]!)) {
      const ratio = d / bound[i]!;
      if (worst < 0 || ratio > worstRatio) (worst = i), (worstRatio = ratio);
    }
  }
  if (worst >= 0) expect.fail(`${what}: y[${worst}] = ${y[worst]} vs ${ref[worst]} (bound ${bound[worst]})`);
}

// ---------------------------------------------------------------- convolution

function convOut(
  p: { H: number; W: number; KH: number; KW: number; strideH: number; strideW: number; dilationH: number; dilationW: number },
  pads: number[],
): [number, number] {
  const oh = Math.floor((p.H + pads[0]! + pads[2]! - ((p.KH - 1) * p.dilationH + 1)) / p.strideH) + 1;
  const ow = Math.floor((p.W + pads[1]! + pads[3]! - ((p.KW - 1) * p.dilationW + 1)) / p.strideW) + 1;
  return [Math.max(0, oh), Math.max(0, ow)];
}

function convRef(
  p: Conv2dF32Params,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
): { ref: Float64Array; bound: Float64Array } {
  const { N, C, H, W, M, KH, KW, OH, OW, group } = p;
  const Cg = C / group,
    Mg = M / group,
    K = Cg * KH * KW;
  const ref = new Float64Array(N * M * OH * OW),
    bound = new Float64Array(ref.length);
  const lo = p.activation?.min ?? -Infinity,
    hi = p.activation?.max ?? Infinity;
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++, o++) {
          let s = bias ? bias[m]! : 0,
            a = Math.abs(s);
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
                if (iw < 0 || iw >= W) continue;
                const t = x[((n * C + g * Cg + c) * H + ih) * W + iw]! * w[((m * Cg + c) * KH + kh) * KW + kw]!;
                s += t;
                a += Math.abs(t);
              }
            }
          ref[o] = Math.min(Math.max(s, lo), hi);
          bound[o] = 2 * (K + 2) * EPS * a + 1e-30;
        }
    }
  return { ref, bound };
}

interface ConvCase {
  label: string;
  p: Conv2dF32Params;
  bias: boolean;
}

function convCase(
  label: string,
  o: {
    N?: number;
    C: number;
    H: number;
    W: number;
    M: number;
    K: number | [number, number];
    s?: number | [number, number];
    pads?: number[];
    d?: number | [number, number];
    group?: number;
    act?: { min: number; max: number };
    bias?: boolean;
  },
): ConvCase {
  const [KH, KW] = typeof o.K === 'number' ? [o.K, o.K] : o.K;
  const [sh, sw] = typeof o.s === 'object' ? o.s : [o.s ?? 1, o.s ?? 1];
  const [dh, dw] = typeof o.d === 'object' ? o.d : [o.d ?? 1, o.d ?? 1];
  const pads = o.pads ?? [0, 0, 0, 0];
  const base = { H: o.H, W: o.W, KH, KW, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw };
  const [OH, OW] = convOut(base, pads);
  const p: Conv2dF32Params = { N: o.N ?? 1, C: o.C, M: o.M, OH, OW, padTop: pads[0]!, padLeft: pads[1]!, group: o.group ?? 1, ...base };
  if (o.act) p.activation = o.act;
  return { label, p, bias: o.bias ?? true };
}

const convCases: ConvCase[] = [
  // Every awkward size as the image side, with channel counts, kernels, strides and pads varying with it.
  ...AWKWARD.map((s) =>
    convCase(`size ${s}`, {
      C: 1 + (s % 5),
      H: s,
      W: ((s * 7) % 17) + 1,
      M: 1 + ((s * 3) % 17),
      K: 1 + (s % 4),
      s: 1 + (s % 3),
      pads: [s % 3, (s + 1) % 3, (s + 2) % 3, s % 2],
      d: 1 + (s % 2),
      bias: s % 4 !== 0,
    }),
  ).filter((c) => c.p.OH > 0 && c.p.OW > 0),
  ...[1, 5, 6, 7, 16, 17, 31, 32, 33, 63, 64, 65].map((m) =>
    convCase(`output channels ${m}`, { C: 3, H: 9, W: 11, M: m, K: 3, pads: [1, 1, 1, 1] }),
  ),
  convCase('pointwise 1x1 (B is x itself)', { N: 2, C: 33, H: 7, W: 9, M: 17, K: 1 }),
  convCase('pointwise 1x1 stride 2', { C: 16, H: 13, W: 13, M: 24, K: 1, s: 2 }),
  convCase('K > 256 and many pixels (k and column blocks)', { C: 64, H: 33, W: 35, M: 33, K: 3, pads: [1, 1, 1, 1] }),
  // Wide stride-1 layers run flat with B read in place where the variant has an indirect kernel:
  // rows not a multiple of the panel width, row tiles past M, two k slices, bias and clamp.
  convCase('wide stride-1 3x3 (flat, B in place)', { C: 7, H: 9, W: 130, M: 13, K: 3, pads: [1, 1, 1, 1] }),
  convCase('wide 3x3, K > 256, M below a row tile', { N: 2, C: 40, H: 6, W: 100, M: 7, K: 3, pads: [1, 1, 1, 1] }),
  convCase('wide 3x3 dilation 2, fused clip', { C: 5, H: 8, W: 77, M: 11, K: 3, d: 2, pads: [2, 2, 2, 2], act: { min: -0.4, max: 0.3 } }),
  // More whole panels (inside one output row, or 1x1) in one column block than the packer groups at
  // once (64), with padded taps at both row ends and above and below the plane.
  convCase('wide 3x3 pad 1, rows a multiple of the panel, 90 panels in a block', { C: 2, H: 30, W: 96, M: 5, K: 3, pads: [1, 1, 1, 1] }),
  convCase('pointwise 1x1 with 80 panels in a block', { C: 3, H: 40, W: 64, M: 4, K: 1 }),
  convCase('pads larger than the kernel', { C: 3, H: 5, W: 6, M: 4, K: 2, pads: [4, 3, 5, 4] }),
  convCase('stride larger than the kernel', { C: 5, H: 17, W: 16, M: 7, K: 2, s: 3, pads: [1, 0, 0, 1] }),
  convCase('asymmetric stride, dilation, kernel', { C: 4, H: 15, W: 12, M: 6, K: [3, 2], s: [2, 1], d: [1, 3], pads: [2, 1, 0, 3] }),
  convCase('groups (3 of 2 in / 3 out)', { N: 2, C: 6, H: 10, W: 13, M: 9, K: 3, group: 3, pads: [1, 1, 1, 1] }),
  convCase('groups with 1x1', { C: 8, H: 6, W: 5, M: 12, K: 1, group: 4 }),
  convCase('depthwise 3x3 pad 1', { N: 2, C: 7, H: 17, W: 33, M: 7, K: 3, group: 7, pads: [1, 1, 1, 1] }),
  convCase('depthwise stride 2', { C: 9, H: 31, W: 32, M: 9, K: 3, s: 2, group: 9, pads: [1, 1, 1, 1] }),
  convCase('depthwise 5x5 stride 2 dilation 2', { C: 5, H: 33, W: 65, M: 5, K: 5, s: 2, d: 2, group: 5, pads: [4, 4, 4, 4] }),
  convCase('depthwise in place (no pad, stride 1)', { C: 4, H: 12, W: 40, M: 4, K: 3, group: 4 }),
  convCase('depthwise multiplier 2', { C: 4, H: 9, W: 10, M: 8, K: 3, group: 4, pads: [1, 1, 1, 1] }),
  convCase('depthwise stride 3 > kernel 2, pads > kernel', { C: 3, H: 11, W: 11, M: 3, K: 2, s: 3, group: 3, pads: [3, 3, 2, 4] }),
  convCase('depthwise 1x1', { C: 6, H: 5, W: 17, M: 6, K: 1, group: 6 }),
  convCase('fused ReLU', { C: 5, H: 9, W: 9, M: 11, K: 3, pads: [1, 1, 1, 1], act: { min: 0, max: Infinity } }),
  convCase('fused clip (ReLU6-like)', { C: 5, H: 9, W: 9, M: 11, K: 3, pads: [1, 1, 1, 1], act: { min: -0.5, max: 0.5 } }),
  convCase('depthwise fused clip', { C: 8, H: 9, W: 21, M: 8, K: 3, group: 8, pads: [1, 1, 1, 1], act: { min: 0, max: 0.25 } }),
  // One output pixel: a dot product per output channel, K = 1..17, 31..33, 63..65 and more.
  ...[1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200].map((c) =>
    convCase(`one pixel, 1x1, ${c} input channels`, { N: 2, C: c, H: 1, W: 1, M: 1 + (c % 13), K: 1 }),
  ),
  convCase('one pixel, 3x3 pad 1 on a 1x1 plane (padded taps)', { C: 5, H: 1, W: 1, M: 6, K: 3, pads: [1, 1, 1, 1] }),
  convCase('one pixel, 7x7 window over 7x7 (global conv)', { C: 3, H: 7, W: 7, M: 4, K: 7 }),
  convCase('one pixel, groups and fused clip', { N: 2, C: 12, H: 1, W: 1, M: 8, K: 1, group: 4, act: { min: -0.2, max: 0.3 } }),
  convCase('no input channels (output = bias)', { C: 0, H: 4, W: 4, M: 3, K: 3 }),
  convCase('empty output', { N: 0, C: 2, H: 4, W: 4, M: 3, K: 3 }),
];

describe('conv2dF32 on every backend and variant matches the float64 reference within rounding', () => {
  for (const [i, c] of convCases.entries()) {
    it(`${c.label}: N${c.p.N} C${c.p.C} ${c.p.H}x${c.p.W} -> M${c.p.M} ${c.p.OH}x${c.p.OW} k${c.p.KH}x${c.p.KW} s${c.p.strideH},${c.p.strideW} g${c.p.group}`, () => {
      const r = rng(1000 + i);
      const { p } = c;
      const x = randArray(r, p.N * p.C * p.H * p.W);
      const w = randArray(r, p.M * (p.C / p.group) * p.KH * p.KW);
      const bias = c.bias ? randArray(r, p.M) : null;
      const { ref, bound } = convRef(p, x, w, bias);
      for (const { label, backend, variant } of backendVariants) {
        // A longer y keeps its tail: the kernel writes exactly n*m*oh*ow values.
        const y = new Float32Array(ref.length + 3).fill(7);
        backend.conv2dF32(p, x, w, bias, y, variant);
        expectClose(y, ref, bound, label);
        expect(Array.from(y.subarray(ref.length)), `${label} tail`).toEqual([7, 7, 7]);
      }
    });
  }
});

describe('conv2dF32 on 200 random geometries (every backend and variant)', () => {
  it('matches the float64 reference', () => {
    const r = rng(7777);
    const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    let ran = 0;
    while (ran < 200) {
      const dw = r() < 0.3;
      const group = dw ? pick(1, 9) : [1, 1, 1, 2, 3][pick(0, 4)]!;
      const C = dw ? group : group * pick(1, 5),
        M = dw ? group * pick(1, 2) : group * pick(1, 7);
      const c = convCase('rand', {
        N: pick(1, 2),
        C,
        M,
        group,
        H: pick(1, 20),
        W: pick(1, 40),
        K: [pick(1, 5), pick(1, 5)],
        s: [pick(1, 4), pick(1, 4)],
        d: [pick(1, 3), pick(1, 3)],
        pads: [pick(0, 6), pick(0, 6), pick(0, 6), pick(0, 6)],
        bias: r() < 0.7,
        act: r() < 0.3 ? { min: -0.3, max: 0.4 } : undefined,
      });
      const { p } = c;
      if (p.OH <= 0 || p.OW <= 0) continue;
      ran++;
      const x = randArray(r, p.N * p.C * p.H * p.W),
        w = randArray(r, p.M * (p.C / p.group) * p.KH * p.KW);
      const bias = c.bias ? randArray(r, p.M) : null;
      const { ref, bound } = convRef(p, x, w, bias);
      for (const { label, backend, variant } of backendVariants) {
        const y = new Float32Array(ref.length);
        backend.conv2dF32(p, x, w, bias, y, variant);
        expectClose(y, ref, bound, `${label} ${JSON.stringify(p)}`);
      }
    }
  });
});

// ---------------------------------------------------------------- GEMM

function gemmRef(g: GemmF32Args, cStrides: [number, number] | null): { ref: Float64Array; bound: Float64Array } {
  const { M, N, K } = g;
  const lda = g.lda ?? (g.transA ? M : K),
    ldb = g.ldb ?? (g.transB ? K : N);
  const alpha = g.alpha ?? 1,
    beta = g.beta ?? 1;
  const lo = g.activation?.min ?? -Infinity,
    hi = g.activation?.max ?? Infinity;
  const ref = new Float64Array(M * N),
    bound = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0,
        a = 0;
      for (let k = 0; k < K; k++) {
        const t = (g.transA ? g.a[k * lda + i]! : g.a[i * lda + k]!) * (g.transB ? g.b[j * ldb + k]! : g.b[k * ldb + j]!);
        s += t;
        a += Math.abs(t);
      }
      let v = alpha * s,
        av = Math.abs(alpha) * a;
      if (cStrides && g.c) {
        const cv = beta * g.c[i * cStrides[0] + j * cStrides[1]]!;
        v += cv;
        av += Math.abs(cv);
      }
      ref[i * N + j] = Math.min(Math.max(v, lo), hi);
      bound[i * N + j] = 2 * (K + 3) * EPS * av + 1e-30;
    }
  return { ref, bound };
}

interface GemmCase {
  label: string;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  c?: 'none' | 'scalar' | 'row' | 'col' | 'full';
  pad?: number;
  act?: { min: number; max: number };
}

const gemmCases: GemmCase[] = [
  ...AWKWARD.map((s): GemmCase => ({ label: `M=${s}`, M: s, N: ((s * 5) % 19) + 1, K: ((s * 11) % 37) + 1, c: 'row' })),
  ...AWKWARD.map((s): GemmCase => ({ label: `N=${s}`, M: ((s * 3) % 13) + 1, N: s, K: 17, transB: s % 2 === 0, c: 'none' })),
  ...AWKWARD.map((s): GemmCase => ({ label: `K=${s}`, M: 7, N: 9, K: s, transA: s % 2 === 1, c: 'full' })),
  { label: 'blocks in k and n', M: 65, N: 700, K: 600, c: 'row' },
  {
    label: 'transA and transB, alpha and beta, column C',
    M: 33,
    N: 31,
    K: 63,
    transA: true,
    transB: true,
    alpha: 0.75,
    beta: -1.5,
    c: 'col',
  },
  { label: 'scalar C', M: 5, N: 6, K: 7, c: 'scalar', beta: 2 },
  { label: 'beta 0 ignores C', M: 5, N: 6, K: 7, c: 'full', beta: 0 },
  { label: 'padded leading dimensions', M: 9, N: 10, K: 11, pad: 3, c: 'full' },
  { label: 'padded leading dimensions, transposed', M: 9, N: 10, K: 11, pad: 5, transA: true, transB: true },
  { label: 'K = 0 (Y = beta C)', M: 4, N: 5, K: 0, c: 'full', beta: 3 },
  { label: 'fused ReLU', M: 13, N: 17, K: 19, c: 'row', act: { min: 0, max: Infinity } },
  { label: 'fused clip', M: 13, N: 17, K: 19, act: { min: -1, max: 1 } },
  { label: 'GEMV (M = 1, mnist FC)', M: 1, N: 10, K: 256, c: 'row' },
];

function buildGemm(t: GemmCase, r: () => number): { args: GemmF32Args; cStrides: [number, number] | null; ldy: number } {
  const pad = t.pad ?? 0;
  const rowsA = t.transA ? t.K : t.M,
    colsA = t.transA ? t.M : t.K;
  const rowsB = t.transB ? t.N : t.K,
    colsB = t.transB ? t.K : t.N;
  const lda = colsA + pad,
    ldb = colsB + pad,
    ldy = t.N + pad;
  const a = randArray(r, Math.max(0, rowsA * lda)),
    b = randArray(r, Math.max(0, rowsB * ldb));
  let c: Float32Array | null = null,
    cDims: number[] | undefined,
    cStrides: [number, number] | null = null;
  switch (t.c ?? 'none') {
    case 'scalar':
      c = randArray(r, 1);
      cDims = [];
      cStrides = [0, 0];
      break;
    case 'row':
      c = randArray(r, t.N);
      cDims = [t.N];
      cStrides = [0, 1];
      break;
    case 'col':
      c = randArray(r, t.M);
      cDims = [t.M, 1];
      cStrides = [1, 0];
      break;
    case 'full':
      c = randArray(r, t.M * t.N);
      cDims = [t.M, t.N];
      cStrides = [t.N, 1];
      break;
    default:
      break;
  }
  const args: GemmF32Args = {
    M: t.M,
    N: t.N,
    K: t.K,
    a,
    lda,
    b,
    ldb,
    y: new Float32Array(0),
    ldy,
    transA: t.transA,
    transB: t.transB,
    alpha: t.alpha,
    beta: t.beta,
    c,
    cDims,
    activation: t.act,
  };
  return { args, cStrides: (t.beta ?? 1) === 0 ? null : cStrides, ldy };
}

describe('gemmF32 on every backend and variant matches the float64 reference within rounding', () => {
  for (const [i, t] of gemmCases.entries()) {
    it(`${t.label}: ${t.M}x${t.N}x${t.K}${t.transA ? ' tA' : ''}${t.transB ? ' tB' : ''} C ${t.c ?? 'none'}`, () => {
      const r = rng(2000 + i);
      const { args, cStrides, ldy } = buildGemm(t, r);
      const { ref, bound } = gemmRef(args, cStrides);
      for (const { label, backend, variant } of backendVariants) {
        // Y's gaps (ldy > N) and tail must survive.
        const y = new Float32Array(Math.max(0, (t.M - 1) * ldy + t.N) + 2).fill(5);
        backend.gemmF32({ ...args, y, variant });
        const dense = new Float32Array(t.M * t.N);
        for (let m = 0; m < t.M; m++) for (let n = 0; n < t.N; n++) dense[m * t.N + n] = y[m * ldy + n]!;
        expectClose(dense, ref, bound, label);
        for (let m = 0; m + 1 < t.M; m++) for (let n = t.N; n < ldy; n++) expect(y[m * ldy + n], `${label} gap`).toBe(5);
        expect(y[y.length - 1], `${label} tail`).toBe(5);
      }
    });
  }
});

// ---------------------------------------------------------------- pooling

function poolParams(o: {
  planes: number;
  H: number;
  W: number;
  K: [number, number];
  s: [number, number];
  d?: [number, number];
  pads: number[];
  ceil?: boolean;
}): Pool3dParams {
  const [KH, KW] = o.K,
    [SH, SW] = o.s,
    [DH, DW] = o.d ?? [1, 1];
  const out = (n: number, k: number, s: number, d: number, pb: number, pe: number) => {
    const v = (n + pb + pe - ((k - 1) * d + 1)) / s;
    let r = (o.ceil ? Math.ceil(v) : Math.floor(v)) + 1;
    // ceil_mode: the last window must start inside the input or the begin pad.
    if (o.ceil && (r - 1) * s >= n + pb) r--;
    return Math.max(0, r);
  };
  return {
    planes: o.planes,
    D: 1,
    H: o.H,
    W: o.W,
    OD: 1,
    OH: out(o.H, KH, SH, DH, o.pads[0]!, o.pads[2]!),
    OW: out(o.W, KW, SW, DW, o.pads[1]!, o.pads[3]!),
    KD: 1,
    KH,
    KW,
    SD: 1,
    SH,
    SW,
    DD: 1,
    DH,
    DW,
    padBegin: [0, o.pads[0]!, o.pads[1]!],
    padEnd: [0, o.pads[2]!, o.pads[3]!],
  };
}

function poolRef(p: Pool3dParams, x: Float32Array, kind: 'max' | 'avg' | 'avgpad'): { ref: Float64Array; bound: Float64Array } {
  const ref = new Float64Array(p.planes * p.OH * p.OW),
    bound = new Float64Array(ref.length);
  const [, pt, pl] = p.padBegin,
    [, pb, pr] = p.padEnd;
  let o = 0;
  for (let q = 0; q < p.planes; q++)
    for (let oh = 0; oh < p.OH; oh++)
      for (let ow = 0; ow < p.OW; ow++, o++) {
        let best = -Infinity,
          s = 0,
          a = 0,
          cnt = 0,
          padCnt = 0;
        for (let kh = 0; kh < p.KH; kh++) {
          const ih = oh * p.SH - pt + kh * p.DH;
          for (let kw = 0; kw < p.KW; kw++) {
            const iw = ow * p.SW - pl + kw * p.DW;
            if (ih >= -pt && ih < p.H + pb && iw >= -pl && iw < p.W + pr) padCnt++;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            const v = x[(q * p.H + ih) * p.W + iw]!;
            best = Math.max(best, v);
            s += v;
            a += Math.abs(v);
            cnt++;
          }
        }
        if (kind === 'max') {
          ref[o] = best;
          bound[o] = 0;
        } else {
          const div = kind === 'avgpad' ? padCnt : cnt;
          ref[o] = div > 0 ? s / div : 0;
          bound[o] = div > 0 ? (2 * (p.KH * p.KW + 2) * EPS * a) / div + 1e-30 : 0;
        }
      }
  return { ref, bound };
}

const poolCases: { label: string; p: Pool3dParams }[] = [
  ...AWKWARD.map((s) => ({
    label: `size ${s}`,
    p: poolParams({
      planes: 1 + (s % 3),
      H: s,
      W: ((s * 5) % 17) + 1,
      K: [1 + (s % 3), 1 + ((s + 1) % 3)],
      s: [1 + (s % 2), 1 + ((s + 1) % 3)],
      pads: [s % 2, 0, (s + 1) % 2, s % 3 === 0 ? 1 : 0],
    }),
  })),
  { label: 'mnist 2x2 stride 2', p: poolParams({ planes: 8, H: 28, W: 28, K: [2, 2], s: [2, 2], pads: [0, 0, 0, 0] }) },
  { label: 'mnist 3x3 stride 3', p: poolParams({ planes: 16, H: 14, W: 14, K: [3, 3], s: [3, 3], pads: [0, 0, 0, 0] }) },
  { label: '3x3 stride 2 pad 1 (ResNet stem)', p: poolParams({ planes: 3, H: 33, W: 32, K: [3, 3], s: [2, 2], pads: [1, 1, 1, 1] }) },
  { label: 'stride 1 in place', p: poolParams({ planes: 2, H: 9, W: 40, K: [3, 3], s: [1, 1], pads: [0, 0, 0, 0] }) },
  { label: 'ceil_mode', p: poolParams({ planes: 2, H: 10, W: 11, K: [3, 3], s: [2, 2], pads: [0, 0, 0, 0], ceil: true }) },
  { label: 'stride larger than kernel', p: poolParams({ planes: 2, H: 17, W: 16, K: [2, 2], s: [3, 3], pads: [0, 1, 1, 0] }) },
  { label: 'pads larger than kernel', p: poolParams({ planes: 2, H: 6, W: 7, K: [2, 3], s: [1, 2], pads: [3, 4, 3, 4] }) },
  { label: 'dilations', p: poolParams({ planes: 2, H: 15, W: 16, K: [3, 2], s: [1, 2], d: [2, 3], pads: [2, 1, 2, 1] }) },
];

describe('maxPoolF32 / avgPoolF32 on every backend and variant', () => {
  for (const [i, c] of poolCases.entries()) {
    it(`${c.label}: ${c.p.planes}x${c.p.H}x${c.p.W} -> ${c.p.OH}x${c.p.OW} k${c.p.KH}x${c.p.KW} s${c.p.SH},${c.p.SW}`, () => {
      const r = rng(3000 + i);
      const x = randArray(r, c.p.planes * c.p.H * c.p.W);
      for (const kind of ['max', 'avg', 'avgpad'] as const) {
        const { ref, bound } = poolRef(c.p, x, kind);
        for (const { label, backend, variant } of backendVariants) {
          const y = new Float32Array(ref.length);
          if (kind === 'max') backend.maxPoolF32(c.p, x, y, variant);
          else backend.avgPoolF32(c.p, x, y, kind === 'avgpad', variant);
          expectClose(y, ref, bound, `${label} ${kind}`);
        }
      }
    });
  }

  it('3-D pools run (the JS kernel on every backend)', () => {
    const p: Pool3dParams = {
      planes: 2,
      D: 4,
      H: 5,
      W: 6,
      OD: 3,
      OH: 4,
      OW: 5,
      KD: 2,
      KH: 2,
      KW: 2,
      SD: 1,
      SH: 1,
      SW: 1,
      DD: 1,
      DH: 1,
      DW: 1,
      padBegin: [0, 0, 0],
      padEnd: [0, 0, 0],
    };
    const x = randArray(rng(9), 2 * 4 * 5 * 6);
    const want = new Float32Array(2 * 3 * 4 * 5);
    loadedBackends.find((b) => b.name === 'js')!.maxPoolF32(p, x, want);
    for (const b of loadedBackends) {
      const y = new Float32Array(want.length);
      b.maxPoolF32(p, x, y);
      expect(Array.from(y), b.name).toEqual(Array.from(want));
    }
  });
});

describe('pools on 150 random geometries (every backend and variant)', () => {
  it('match the float64 reference', () => {
    const r = rng(8888);
    const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    let ran = 0;
    while (ran < 150) {
      const p = poolParams({
        planes: pick(1, 3),
        H: pick(1, 20),
        W: pick(1, 40),
        K: [pick(1, 4), pick(1, 4)],
        s: [pick(1, 4), pick(1, 4)],
        d: [pick(1, 2), pick(1, 2)],
        pads: [pick(0, 3), pick(0, 3), pick(0, 3), pick(0, 3)],
        ceil: r() < 0.5,
      });
      if (p.OH <= 0 || p.OW <= 0) continue;
      ran++;
      const x = randArray(r, p.planes * p.H * p.W);
      for (const kind of ['max', 'avg', 'avgpad'] as const) {
        const { ref, bound } = poolRef(p, x, kind);
        for (const { label, backend, variant } of backendVariants) {
          const y = new Float32Array(ref.length);
          if (kind === 'max') backend.maxPoolF32(p, x, y, variant);
          else backend.avgPoolF32(p, x, y, kind === 'avgpad', variant);
          expectClose(y, ref, bound, `${label} ${kind} ${JSON.stringify(p)}`);
        }
      }
    }
  });
});

describe('globalPoolF32, unaryF32 and binaryF32 on every backend and variant', () => {
  for (const size of [1, 7, 8, 9, 15, 16, 17, 31, 33, 49, 64, 65, 196]) {
    it(`global pools over ${size} values`, () => {
      const planes = 5;
      const x = randArray(rng(size), planes * size, 3);
      for (const { label, backend, variant } of backendVariants) {
        for (const kind of ['avg', 'max'] as const) {
          const y = new Float32Array(planes);
          backend.globalPoolF32(kind, planes, size, x, y, variant);
          for (let i = 0; i < planes; i++) {
            const seg = Array.from(x.subarray(i * size, (i + 1) * size));
            if (kind === 'max') expect(y[i], `${label} max`).toBe(Math.max(...seg));
            else {
              const mean = seg.reduce((s, v) => s + v, 0) / size;
              const bound = (2 * (size + 2) * EPS * seg.reduce((s, v) => s + Math.abs(v), 0)) / size;
              expect(Math.abs(y[i]! - mean), `${label} avg`).toBeLessThanOrEqual(bound);
            }
          }
        }
      }
    });
  }

  const unary: [UnaryF32Op, Record<string, number> | undefined][] = [
    ['relu', undefined],
    ['clip', { min: -0.5, max: 1.25 }],
    ['sigmoid', undefined],
    ['hardsigmoid', { alpha: 0.2, beta: 0.5 }],
    ['hardsigmoid', { alpha: 1 / 6, beta: 0.5 }],
    ['hardswish', undefined],
    ['tanh', undefined],
    ['leakyrelu', { alpha: 0.1 }],
    ['gelu', undefined],
  ];
  for (const [op, params] of unary) {
    it(`unary ${op} ${params ? JSON.stringify(params) : ''}`, () => {
      for (const n of [1, 3, 4, 7, 8, 9, 17, 33, 65]) {
        const x = randArray(rng(n), n, 8);
        x[0] = -0; // signed zero and extremes
        if (n > 2) x[1] = 60;
        if (n > 3) x[2] = -60;
        const id = UNARY_ID[op];
        const p0 = Math.fround(op === 'clip' ? params!.min! : op === 'hardsigmoid' || op === 'leakyrelu' ? params!.alpha! : 0);
        const p1 = Math.fround(op === 'clip' ? params!.max! : op === 'hardsigmoid' ? params!.beta! : 0);
        const want = Array.from(x, (v) => unaryRef(id, p0, p1, v));
        for (const { label, backend, variant } of backendVariants) {
          const y = new Float32Array(n);
          backend.unaryF32(op, x, y, params, variant);
          // exp/tanh come from different libraries: a few ulps of the result. The piecewise-linear ones
          // round each float32 step (p0*x + p1 may cancel): a few ulps of the operands.
          for (let i = 0; i < n; i++) {
            const xi = Math.abs(x[i]!);
            const scale =
              Math.abs(want[i]!) + (op === 'hardsigmoid' ? Math.abs(p0) * xi + Math.abs(p1) : op === 'hardswish' ? xi * (xi / 6 + 0.5) : 0);
            // gelu's polynomial tail: within 6 ulps (its own dense test below).
            const ulps = op === 'gelu' ? 12 : 4;
            expect(Math.abs(y[i]! - want[i]!), `${label} ${op}(${x[i]})`).toBeLessThanOrEqual(ulps * EPS * scale + 1e-37);
          }
          const inPlace = Float32Array.from(x);
          backend.unaryF32(op, inPlace, inPlace, params, variant);
          expect(Array.from(inPlace), `${label} in place`).toEqual(Array.from(y));
        }
      }
    });
  }

  // The SIMD variants' sigmoid is a polynomial exp: check it densely, with every binade of [-100, 100],
  // the edges where exp(-|x|) stops being a normal float (|x| near 87.34), signed zeros, infinities and NaN.
  it('unary sigmoid over the whole float range, within 2 ulps of the exact value', () => {
    const xs: number[] = [0, -0, Infinity, -Infinity, Number.NaN, 87.3, -87.3, 87.34, -87.34, 87.4, -87.4, 88, -88, 1e-45, -1e-45];
    const r = rng(4242);
    for (let e = -30; e <= 6; e++) for (let k = 0; k < 64; k++) xs.push((r() < 0.5 ? -1 : 1) * 2 ** e * (1 + r()));
    for (let k = 0; k < 2000; k++) xs.push(r() * 200 - 100);
    const x = Float32Array.from(xs);
    const want = Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
    for (const { label, backend, variant } of backendVariants) {
      const y = new Float32Array(x.length);
      backend.unaryF32('sigmoid', x, y, undefined, variant);
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(want[i])) {
          expect(y[i], `${label} sigmoid(NaN)`).toBeNaN();
          continue;
        }
        expect(Math.abs(y[i]! - want[i]!), `${label} sigmoid(${x[i]})`).toBeLessThanOrEqual(4 * EPS * want[i]! + 1e-37);
      }
    }
  });

  // The SIMD variants' gelu is x * (a polynomial upper normal tail times exp): check it densely over
  // [-16, 16] (the negative tail down to where it leaves the normal floats, x = -13.2), every binade,
  // signed zeros, infinities and NaN, against the float64 definition (src/ops/erf.ts).
  it('unary gelu over the float range, within 6 ulps of the float64 definition (2^-126 below the normal range)', () => {
    const xs: number[] = [0, -0, Infinity, -Infinity, Number.NaN, -13.2, -13.25, -14, -20, 20, 1e-40, -1e-40];
    for (let k = 0; k <= 8000; k++) xs.push(-16 + k / 250);
    for (let e = -40; e <= 7; e++) for (let k = 0; k < 32; k++) xs.push((k % 2 ? -1 : 1) * 2 ** e * (1 + k / 32));
    const x = Float32Array.from(xs);
    const want = Array.from(x, (v) => gelu(v));
    for (const { label, backend, variant } of backendVariants) {
      const y = new Float32Array(x.length);
      backend.unaryF32('gelu', x, y, undefined, variant);
      for (let i = 0; i < x.length; i++) {
        const w = want[i]!;
        if (!Number.isFinite(w)) {
          expect(y[i], `${label} gelu(${x[i]})`).toBe(w);
          continue;
        }
        const ulp = Math.abs(w) < 2 ** -126 ? 2 ** -126 : 2 ** (Math.floor(Math.log2(Math.abs(Math.fround(w)))) - 23) * 6;
        expect(Math.abs(y[i]! - w), `${label} gelu(${x[i]})`).toBeLessThanOrEqual(ulp);
      }
    }
  });

  const binaryShapes: [string, number, number, number][] = [
    ['same shape', 37, 37, 1],
    ['scalar', 37, 1, 1],
    ['suffix', 36, 9, 1],
    ['per channel', 3 * 5 * 7, 5, 7],
    ['per channel, inner 1 row', 6 * 8, 6, 8],
  ];
  for (const op of ['add', 'sub', 'mul', 'div'] as BinaryF32Op[]) {
    for (const [name, n, nb, inner] of binaryShapes) {
      it(`binary ${op} ${name}`, () => {
        const a = randArray(rng(n + nb), n),
          b = randArray(rng(nb), nb);
        const id = { add: 0, sub: 1, mul: 2, div: 3 }[op];
        const want = Array.from(a, (v, i) => Math.fround(binaryRef(id, v, b[Math.floor(i / inner) % nb]!)));
        for (const { label, backend, variant } of backendVariants) {
          const y = new Float32Array(n);
          backend.binaryF32(op, a, b, y, inner, variant);
          expect(Array.from(y), label).toEqual(want); // one IEEE operation: exact everywhere
          const inPlace = Float32Array.from(a);
          backend.binaryF32(op, inPlace, b, inPlace, inner, variant);
          expect(Array.from(inPlace), `${label} in place`).toEqual(want);
        }
      });
    }
  }
});

// ---------------------------------------------------------------- onnxruntime

describe('layerNormF32 on every backend and variant', () => {
  it("gives the TypeScript definition's bits: rows of 1..17, 31-33, 63-65, 256, 768; with and without bias; constant rows, infinities, NaN", () => {
    const r = rng(77);
    for (const n of [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 32, 33, 63, 64, 65, 256, 768])
      for (const withBias of [false, true])
        for (const eps of [0, 1e-12, Math.fround(1e-5)]) {
          const rows = n > 100 ? 2 : 3;
          const x = randArray(r, rows * n, 3);
          if (n > 4) {
            x.fill(0.25, 0, n); // a constant row: 0 / sqrt(eps), NaN with eps 0
            x[n + 1] = Number.POSITIVE_INFINITY;
            x[2 * n + 2] = Number.NaN;
          }
          const scale = randArray(r, n, 2),
            bias = withBias ? randArray(r, n, 1) : null;
          const want = new Float32Array(rows * n);
          layerNormF32Ref(x, scale, bias, want, rows, n, eps);
          for (const { label, backend, variant } of backendVariants) {
            const y = new Float32Array(rows * n);
            backend.layerNormF32(x, scale, bias, y, rows, n, eps, variant);
            expect(Array.from(y), `${label} n ${n} bias ${withBias} eps ${eps}`).toEqual(Array.from(want));
          }
        }
  });

  it('refuses bad arguments on every backend, naming them', () => {
    const x = new Float32Array(8),
      s4 = new Float32Array(4);
    const bad: [string, () => Parameters<Backend['layerNormF32']>, RegExp][] = [
      ['n 0', () => [new Float32Array(0), new Float32Array(0), null, new Float32Array(0), 2, 0, 1e-5], /n must be at least 1/],
      ['short x', () => [new Float32Array(7), s4, null, new Float32Array(8), 2, 4, 1e-5], /buffer x/],
      ['short y', () => [x, s4, null, new Float32Array(7), 2, 4, 1e-5], /buffer y/],
      ['scale of 3', () => [x, new Float32Array(3), null, new Float32Array(8), 2, 4, 1e-5], /scale/],
      ['bias of 5', () => [x, s4, new Float32Array(5), new Float32Array(8), 2, 4, 1e-5], /bias|scale/],
      ['y overlapping x', () => [x, s4, null, x, 2, 4, 1e-5], /overlaps/],
    ];
    for (const b of loadedBackends) for (const [, args, msg] of bad) expectKernelArgument(() => b.layerNormF32(...args()), msg);
  });
});

describe('conv2dF32 and gemmF32 agree with onnxruntime-node (single-node models) within rounding', () => {
  const convTrials = [
    { C: 3, M: 16, H: 28, W: 28, K: 5, s: 1, pads: [2, 2, 2, 2], group: 1 },
    { C: 16, M: 16, H: 15, W: 17, K: 3, s: 2, pads: [1, 1, 1, 1], group: 16 },
    { C: 12, M: 18, H: 10, W: 9, K: 3, s: 1, pads: [0, 1, 2, 1], group: 3 },
    { C: 64, M: 32, H: 20, W: 20, K: 3, s: 1, pads: [1, 1, 1, 1], group: 1 },
    { C: 33, M: 17, H: 7, W: 7, K: 1, s: 1, pads: [0, 0, 0, 0], group: 1 },
  ];
  for (const [t, o] of convTrials.entries()) {
    it(`Conv C${o.C} M${o.M} ${o.H}x${o.W} k${o.K} s${o.s} g${o.group}`, async () => {
      const r = rng(4000 + t);
      const c = convCase('ort', { C: o.C, H: o.H, W: o.W, M: o.M, K: o.K, s: o.s, pads: o.pads, group: o.group });
      const { p } = c;
      const x = randArray(r, p.C * p.H * p.W),
        w = randArray(r, p.M * (p.C / p.group) * p.KH * p.KW),
        b = randArray(r, p.M);
      const model = singleNodeModel(
        'Conv',
        [{ name: 'x', dtype: 'float', dims: [1, p.C, p.H, p.W] }],
        [
          { name: 'w', dtype: 'float', dims: [p.M, p.C / p.group, p.KH, p.KW], data: w },
          { name: 'b', dtype: 'float', dims: [p.M], data: b },
        ],
        ['x', 'w', 'b'],
        [{ name: 'y', dtype: 'float', dims: [1, p.M, p.OH, p.OW] }],
        { group: p.group, kernel_shape: [p.KH, p.KW], strides: [p.strideH, p.strideW], pads: o.pads },
        13,
      );
      const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
      const theirs = (await sess.run({ x: new ort.Tensor('float32', x, [1, p.C, p.H, p.W]) })).y!.data as Float32Array;
      const { ref, bound } = convRef(p, x, w, b);
      // onnxruntime itself is within the bound of the exact result; each of ours is too, so ours and
      // theirs differ by at most twice the bound.
      expectClose(theirs, ref, bound, 'onnxruntime');
      for (const { label, backend, variant } of backendVariants) {
        const y = new Float32Array(theirs.length);
        backend.conv2dF32(p, x, w, b, y, variant);
        expectClose(
          y,
          Float64Array.from(theirs),
          bound.map((v) => 2 * v),
          label,
        );
      }
    });
  }

  const gemmTrials = [
    { M: 1, N: 10, K: 256, transB: false },
    { M: 17, N: 33, K: 65, transB: true },
    { M: 64, N: 64, K: 300, transB: false },
  ];
  for (const [t, o] of gemmTrials.entries()) {
    it(`Gemm ${o.M}x${o.N}x${o.K}${o.transB ? ' transB' : ''} with bias`, async () => {
      const r = rng(5000 + t);
      const a = randArray(r, o.M * o.K),
        b = randArray(r, o.K * o.N),
        c = randArray(r, o.N);
      const model = singleNodeModel(
        'Gemm',
        [{ name: 'a', dtype: 'float', dims: [o.M, o.K] }],
        [
          { name: 'b', dtype: 'float', dims: o.transB ? [o.N, o.K] : [o.K, o.N], data: b },
          { name: 'c', dtype: 'float', dims: [o.N], data: c },
        ],
        ['a', 'b', 'c'],
        [{ name: 'y', dtype: 'float', dims: [o.M, o.N] }],
        { transB: o.transB ? 1 : 0 },
        13,
      );
      const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
      const theirs = (await sess.run({ a: new ort.Tensor('float32', a, [o.M, o.K]) })).y!.data as Float32Array;
      const args: GemmF32Args = { M: o.M, N: o.N, K: o.K, a, b, transB: o.transB, c, y: new Float32Array(0) };
      const { bound } = gemmRef(args, [0, 1]);
      for (const { label, backend, variant } of backendVariants) {
        const y = new Float32Array(o.M * o.N);
        backend.gemmF32({ ...args, y, variant });
        expectClose(
          y,
          Float64Array.from(theirs),
          bound.map((v) => 2 * v),
          label,
        );
      }
    });
  }
});

// ---------------------------------------------------------------- bad input

describe('float32 kernels refuse bad input on every backend, naming the argument', () => {
  const p: Conv2dF32Params = {
    N: 1,
    C: 4,
    H: 5,
    W: 5,
    M: 6,
    KH: 3,
    KW: 3,
    OH: 5,
    OW: 5,
    strideH: 1,
    strideW: 1,
    padTop: 1,
    padLeft: 1,
    dilationH: 1,
    dilationW: 1,
    group: 2,
  };
  const x = new Float32Array(100),
    w = new Float32Array(6 * 2 * 9),
    bias = new Float32Array(6),
    y = new Float32Array(150);
  const convBad: [string, () => Parameters<Backend['conv2dF32']>, RegExp][] = [
    ['zero stride', () => [{ ...p, strideH: 0 }, x, w, bias, y], /stride_h must be/],
    ['negative pad', () => [{ ...p, padLeft: -1 }, x, w, bias, y], /pad_left must be/],
    ['zero dilation', () => [{ ...p, dilationW: 0 }, x, w, bias, y], /dilation_w must be/],
    ['fractional size', () => [{ ...p, H: 5.5 }, x, w, bias, y], /\bh must be/],
    ['huge size', () => [{ ...p, W: 2 ** 31 }, x, w, bias, y], /\bw must be/],
    ['group not dividing c', () => [{ ...p, group: 3 }, x, w, bias, y], /c must be a multiple of group/],
    ['group not dividing m', () => [{ ...p, C: 8, group: 4, M: 6 }, new Float32Array(200), w, bias, y], /m must be a multiple of group/],
    ['x too small', () => [p, x.subarray(1), w, bias, y], /buffer x is smaller/],
    ['w too small', () => [p, x, w.subarray(1), bias, y], /buffer w is smaller/],
    ['bias length', () => [p, x, w, new Float32Array(5), y], /bias must have 0 or m entries/],
    ['y too small', () => [p, x, w, bias, y.subarray(1)], /buffer y is smaller/],
    ['x not float32', () => [p, new Float64Array(100) as unknown as Float32Array, w, bias, y], /x must be a Float32Array/],
    ['y overlapping x', () => [p, y.subarray(0, 100), w, bias, y], /y overlaps x/],
    ['inverted activation', () => [{ ...p, activation: { min: 1, max: 0 } }, x, w, bias, y], /act_min must be <= act_max/],
  ];
  const gemm = (o: Partial<GemmF32Args>): GemmF32Args => ({
    M: 3,
    N: 4,
    K: 5,
    a: new Float32Array(15),
    b: new Float32Array(20),
    y: new Float32Array(12),
    ...o,
  });
  const gemmBad: [string, () => GemmF32Args, RegExp][] = [
    ['lda < K', () => gemm({ lda: 4 }), /lda must be >= K/],
    ['A too small', () => gemm({ a: new Float32Array(14) }), /buffer A is smaller/],
    ['ldb < N', () => gemm({ ldb: 3 }), /ldb must be >= N/],
    ['B too small (transB)', () => gemm({ transB: true, b: new Float32Array(19) }), /buffer B is smaller/],
    ['Y too small', () => gemm({ y: new Float32Array(11) }), /buffer Y is smaller/],
    ['ldy < N', () => gemm({ ldy: 3 }), /ldy must be >= N/],
    ['C not broadcastable', () => gemm({ c: new Float32Array(3), cDims: [3, 2] }), /C dims \[3,2\] do not broadcast/],
    ['C of ambiguous length', () => gemm({ c: new Float32Array(5) }), /give cDims/],
    [
      'Y overlapping A',
      () => {
        const buf = new Float32Array(30);
        return gemm({ a: buf.subarray(0, 15), y: buf.subarray(10, 22) });
      },
      /Y overlaps A, B or C/,
    ],
    ['negative M', () => gemm({ M: -1 }), /M must be an integer/],
  ];
  const pool = poolParams({ planes: 2, H: 6, W: 6, K: [2, 2], s: [2, 2], pads: [0, 0, 0, 0] });
  const poolBad: [string, () => [Pool3dParams, Float32Array, Float32Array], RegExp][] = [
    ['zero stride', () => [{ ...pool, SW: 0 }, new Float32Array(72), new Float32Array(18)], /stride_w must be/],
    ['zero kernel', () => [{ ...pool, KH: 0 }, new Float32Array(72), new Float32Array(18)], /kh must be/],
    ['x too small', () => [pool, new Float32Array(71), new Float32Array(18)], /buffer x is smaller/],
    ['y too small', () => [pool, new Float32Array(72), new Float32Array(17)], /buffer y is smaller/],
    ['negative pad', () => [{ ...pool, padEnd: [0, -1, 0] }, new Float32Array(72), new Float32Array(18)], /pad_bottom must be/],
  ];
  for (const b of loadedBackends) {
    for (const [name, args, re] of convBad) {
      it(`${b.name}: conv2dF32 ${name}`, () => {
        const call = () => b.conv2dF32(...args());
        expect(call).toThrow(re);
        expect(call).toThrow(OnnxPtqError);
      });
    }
    for (const [name, args, re] of gemmBad) {
      it(`${b.name}: gemmF32 ${name}`, () => {
        expect(() => b.gemmF32(args())).toThrow(re);
        try {
          b.gemmF32(args());
        } catch (e) {
          expect((e as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
        }
      });
    }
    for (const [name, args, re] of poolBad) {
      it(`${b.name}: maxPoolF32 / avgPoolF32 ${name}`, () => {
        expect(() => b.maxPoolF32(...args())).toThrow(re);
        expect(() => b.avgPoolF32(...args(), true)).toThrow(re);
      });
    }
    it(`${b.name}: elementwise and global pool`, () => {
      const f = new Float32Array(8);
      expect(() => b.unaryF32('relu', f, new Float32Array(7))).toThrow(/buffer y is smaller than x/);
      expect(() => b.unaryF32('softplus' as UnaryF32Op, f, f)).toThrow(/op 'softplus' is not one of/);
      expect(() => b.binaryF32('add', f, new Float32Array(3), f)).toThrow(/multiple of b_size\*inner/);
      expect(() => b.binaryF32('add', f, f, new Float32Array(9))).toThrow(/buffer a must have y_size elements/);
      expect(() => b.binaryF32('pow' as BinaryF32Op, f, f, f)).toThrow(/op 'pow' is not one of/);
      expect(() => b.globalPoolF32('avg', 3, 3, f, f)).toThrow(/buffer x is smaller than planes\*size/);
      expect(() => b.globalPoolF32('avg', 2, 4, f, new Float32Array(1))).toThrow(/buffer y is smaller than planes/);
    });
    it(`${b.name}: a variant this backend cannot run`, () => {
      const other: KernelVariant = b.name === 'wasm' ? 'avx2' : 'wasmsimd';
      expect(() => b.conv2dF32(p, x, w, bias, y, other)).toThrow(/variant/);
      expect(() => b.gemmF32({ ...gemm({}), variant: other })).toThrow(/variant/);
    });
  }
});

describe('native float32 conv and GEMM give the same bits for any thread count', () => {
  const native = loadedBackends.find((b) => b.name === 'native');
  it.runIf(native !== undefined)('conv (general, grouped, depthwise) and GEMM at 1, 2 and 3 threads', () => {
    const before = native!.getThreads();
    try {
      const r = rng(6000);
      const convs = [
        convCase('t', { N: 2, C: 16, H: 40, W: 37, M: 20, K: 3, pads: [1, 1, 1, 1] }),
        // Each above the 2M multiply-adds under which the kernels stay on one thread.
        convCase('t', { C: 64, H: 60, W: 61, M: 64, K: 3, group: 2, s: 2, pads: [1, 1, 1, 1] }),
        convCase('t', { N: 2, C: 12, H: 100, W: 99, M: 12, K: 5, group: 12, pads: [2, 2, 2, 2], act: { min: 0, max: 6 } }),
      ];
      const gm: GemmF32Args = { M: 37, N: 1500, K: 300, a: randArray(r, 37 * 300), b: randArray(r, 300 * 1500), y: new Float32Array(0) };
      const results = [1, 2, 3].map((t) => {
        native!.setThreads(t);
        const out: number[][] = [];
        for (const c of convs) {
          const x = randArray(rng(1), c.p.N * c.p.C * c.p.H * c.p.W),
            w = randArray(rng(2), c.p.M * (c.p.C / c.p.group) * c.p.KH * c.p.KW);
          const y = new Float32Array(c.p.N * c.p.M * c.p.OH * c.p.OW);
          native!.conv2dF32(c.p, x, w, null, y);
          out.push(Array.from(y));
        }
        const y = new Float32Array(37 * 1500);
        native!.gemmF32({ ...gm, y });
        out.push(Array.from(y));
        return out;
      });
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
    } finally {
      native!.setThreads(before);
    }
  });
});
