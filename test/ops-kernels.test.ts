// Float kernels against naive references on awkward sizes (remainders of the 4x4 tiles, chunking,
// groups, padding, dilation, strides).
import { describe, expect, it } from 'vitest';
import { conv2dF32, type Conv2dParams } from '../src/kernels/f32/conv.js';
import { gemmPackedF32, matmulF32, packB, packedBSize } from '../src/kernels/f32/gemm.js';
import { blockInner } from '../src/ops/elementwise.js';

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('gemm', () => {
  it.each([
    [1, 1, 1],
    [3, 5, 7],
    [4, 4, 4],
    [9, 13, 33],
    [17, 2, 100],
  ])('M=%i N=%i K=%i matches the naive product, with transB, alpha, beta and row bias', (M, N, K) => {
    const A = rand(M * K, 1);
    const B = rand(K * N, 2);
    const C = new Float32Array(M * N);
    matmulF32(M, N, K, A, 0, B, 0, C, 0);
    const ref = new Float32Array(M * N);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[m * K + k]! * B[k * N + n]!;
        ref[m * N + n] = s;
      }
    expect(maxDiff(C, ref)).toBeLessThan(1e-5);
    // B given transposed (N x K), alpha/beta, and a per-row bias
    const Bt = new Float32Array(N * K);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) Bt[n * K + k] = B[k * N + n]!;
    const bp = new Float32Array(packedBSize(K, N));
    packB(K, N, Bt, 0, K, true, bp);
    const bias = rand(M, 3);
    const C2 = new Float32Array(M * N).fill(1);
    gemmPackedF32({ M, N, K, alpha: 2, beta: 0.5, rowBias: bias }, A, 0, K, bp, C2, 0, N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) expect(C2[m * N + n]).toBeCloseTo(2 * ref[m * N + n]! + 0.5 + bias[m]!, 4);
  });
});

function naiveConv(p: Conv2dParams, x: Float32Array, w: Float32Array, b: Float32Array | undefined): Float32Array {
  const y = new Float32Array(p.N * p.M * p.OH * p.OW);
  const Cg = p.C / p.group;
  const Mg = p.M / p.group;
  for (let n = 0; n < p.N; n++)
    for (let m = 0; m < p.M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < p.OH; oh++)
        for (let ow = 0; ow < p.OW; ow++) {
          let s = b ? b[m]! : 0;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < p.KH; kh++)
              for (let kw = 0; kw < p.KW; kw++) {
                const ih = oh * p.strideH - p.padTop + kh * p.dilationH;
                const iw = ow * p.strideW - p.padLeft + kw * p.dilationW;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                s += x[((n * p.C + g * Cg + c) * p.H + ih) * p.W + iw]! * w[((m * Cg + c) * p.KH + kh) * p.KW + kw]!;
              }
          y[((n * p.M + m) * p.OH + oh) * p.OW + ow] = s;
        }
    }
  return y;
}

describe('conv2d', () => {
  const cases: [string, Partial<Conv2dParams>][] = [
    ['3x3 pad 1', { C: 5, M: 7, KH: 3, KW: 3, padTop: 1, padLeft: 1 }],
    ['stride 2, dilation 2', { C: 4, M: 6, KH: 3, KW: 3, strideH: 2, strideW: 2, dilationH: 2, dilationW: 2 }],
    ['groups', { C: 6, M: 9, KH: 3, KW: 1, group: 3, padTop: 1 }],
    ['depthwise', { C: 8, M: 8, KH: 3, KW: 3, group: 8, padTop: 1, padLeft: 1, strideH: 2, strideW: 2 }],
    ['1x1 over many pixels (several chunks)', { C: 3, M: 5, KH: 1, KW: 1, H: 150, W: 131 }],
  ];
  it.each(cases)('%s matches the naive convolution', (_, over) => {
    const base: Conv2dParams = {
      N: 2,
      C: 3,
      H: 13,
      W: 11,
      M: 4,
      KH: 3,
      KW: 3,
      OH: 0,
      OW: 0,
      strideH: 1,
      strideW: 1,
      padTop: 0,
      padLeft: 0,
      dilationH: 1,
      dilationW: 1,
      group: 1,
    };
    const p = { ...base, ...over } as Conv2dParams;
    const eh = (p.KH - 1) * p.dilationH + 1;
    const ew = (p.KW - 1) * p.dilationW + 1;
    p.OH = Math.floor((p.H + 2 * p.padTop - eh) / p.strideH) + 1;
    p.OW = Math.floor((p.W + 2 * p.padLeft - ew) / p.strideW) + 1;
    const x = rand(p.N * p.C * p.H * p.W, 5);
    const w = rand(p.M * (p.C / p.group) * p.KH * p.KW, 6);
    const b = rand(p.M, 7);
    const y = new Float32Array(p.N * p.M * p.OH * p.OW);
    conv2dF32(p, x, w, b, y);
    expect(maxDiff(y, naiveConv(p, x, w, b))).toBeLessThan(1e-5);
  });
});

describe('blockInner (which broadcasts the backend binary kernels take)', () => {
  it('accepts same shape, scalar, suffix and per-channel forms, refuses the rest', () => {
    expect(blockInner([2, 3, 4, 5], [2, 3, 4, 5])).toBe(1);
    expect(blockInner([2, 3, 4, 5], [1])).toBe(1); // scalar: b[i % 1]
    expect(blockInner([2, 3, 4, 5], [])).toBe(1);
    expect(blockInner([2, 3, 4, 5], [4, 5])).toBe(1);
    expect(blockInner([2, 3, 4, 5], [3, 1, 1])).toBe(20);
    expect(blockInner([2, 3, 4, 5], [1, 3, 1, 1])).toBe(20);
    expect(blockInner([2, 3, 4, 5], [3, 4, 1])).toBe(5);
    expect(blockInner([2, 3, 4, 5], [3, 1, 5])).toBeUndefined();
    expect(blockInner([2, 3, 4, 5], [2, 1, 1, 1])).toBe(60);
    expect(blockInner([3, 1], [3, 4])).toBeUndefined();
    expect(blockInner([4], [2, 4])).toBeUndefined();
  });
});
