// Float32 2-D convolution (1-D runs as H = 1): im2col straight into packed GEMM panels, chunked over
// output pixels so the scratch stays a few MB, plus a direct path for depthwise convolutions.
import { gemmPackedF32 } from './gemm.js';

export interface Conv2dParams {
  N: number;
  C: number;
  H: number;
  W: number;
  /** Output channels, kernel size, output size. */
  M: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
  group: number;
}

/** Scratch floats conv2dF32 needs for `p` (callers may pass a reusable buffer of at least this size). */
export function conv2dScratchSize(p: Conv2dParams): number {
  const K = (p.C / p.group) * p.KH * p.KW;
  return K * chunkPixels(K, p.OH * p.OW);
}

function chunkPixels(K: number, P: number): number {
  // ~1 MB of packed columns per chunk keeps the panel and the weights in cache.
  const pc = Math.max(4, Math.floor(262144 / Math.max(1, K) / 4) * 4);
  return Math.min(pc, Math.ceil(P / 4) * 4);
}

/** y[N, M, OH, OW] = conv(x[N, C, H, W], w[M, C/group, KH, KW]) + bias[M]. */
export function conv2dF32(
  p: Conv2dParams,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | undefined,
  y: Float32Array,
  scratch?: Float32Array,
): void {
  const { N, C, H, W, M, KH, KW, OH, OW, group } = p;
  const Cg = C / group;
  const Mg = M / group;
  if (Cg === 1 && Mg === 1) {
    depthwise(p, x, w, bias, y);
    return;
  }
  const K = Cg * KH * KW;
  const P = OH * OW;
  const pc = chunkPixels(K, P);
  const need = K * pc;
  const bp = scratch && scratch.length >= need ? scratch : new Float32Array(need);
  const groupBias = bias ? new Float32Array(Mg) : undefined;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      const xOff = (n * C + g * Cg) * H * W;
      if (groupBias) groupBias.set(bias!.subarray(g * Mg, g * Mg + Mg));
      for (let p0 = 0; p0 < P; p0 += pc) {
        const cnt = Math.min(pc, P - p0);
        im2colPacked(p, x, xOff, Cg, p0, cnt, K, bp);
        gemmPackedF32({ M: Mg, N: cnt, K, rowBias: groupBias }, w, g * Mg * K, K, bp, y, (n * M + g * Mg) * P + p0, P);
      }
    }
  }
}

/** Columns for output pixels [p0, p0+cnt) of one image and channel group, in 4-pixel panels. */
function im2colPacked(
  p: Conv2dParams,
  x: Float32Array,
  xOff: number,
  Cg: number,
  p0: number,
  cnt: number,
  K: number,
  dst: Float32Array,
): void {
  const { H, W, KH, KW, OW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = p;
  const HW = H * W;
  const panels = Math.ceil(cnt / 4);
  for (let pn = 0; pn < panels; pn++) {
    const base = pn * 4 * K;
    for (let j = 0; j < 4; j++) {
      const q = pn * 4 + j;
      if (q >= cnt) {
        for (let k = 0; k < K; k++) dst[base + k * 4 + j] = 0;
        continue;
      }
      const pix = p0 + q;
      const oh = (pix / OW) | 0;
      const ow = pix - oh * OW;
      const ih0 = oh * strideH - padTop;
      const iw0 = ow * strideW - padLeft;
      let di = base + j;
      for (let c = 0; c < Cg; c++) {
        const cOff = xOff + c * HW;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ih0 + kh * dilationH;
          if (ih < 0 || ih >= H) {
            for (let kw = 0; kw < KW; kw++, di += 4) dst[di] = 0;
            continue;
          }
          const rOff = cOff + ih * W;
          for (let kw = 0, iw = iw0; kw < KW; kw++, di += 4, iw += dilationW) {
            dst[di] = iw >= 0 && iw < W ? x[rOff + iw]! : 0;
          }
        }
      }
    }
  }
}

function depthwise(p: Conv2dParams, x: Float32Array, w: Float32Array, bias: Float32Array | undefined, y: Float32Array): void {
  const { N, C, H, W, KH, KW, OH, OW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = p;
  // For each kernel column, the output columns whose input column is inside the image: the inner
  // loop is then a bounds-test-free AXPY along the output row.
  const owLo = new Int32Array(KW);
  const owHi = new Int32Array(KW);
  for (let kw = 0; kw < KW; kw++) {
    const off = kw * dilationW - padLeft;
    owLo[kw] = Math.max(0, Math.ceil(-off / strideW));
    owHi[kw] = Math.max(owLo[kw]!, Math.min(OW, Math.floor((W - 1 - off) / strideW) + 1));
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xo = (n * C + c) * H * W;
      const yo = (n * C + c) * OH * OW;
      const wo = c * KH * KW;
      y.fill(bias ? bias[c]! : 0, yo, yo + OH * OW);
      for (let oh = 0; oh < OH; oh++) {
        const ih0 = oh * strideH - padTop;
        const yr = yo + oh * OW;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ih0 + kh * dilationH;
          if (ih < 0 || ih >= H) continue;
          const r = xo + ih * W;
          for (let kw = 0; kw < KW; kw++) {
            const wv = w[wo + kh * KW + kw]!;
            const lo = owLo[kw]!;
            const hi = owHi[kw]!;
            let xi = r + lo * strideW + kw * dilationW - padLeft;
            for (let ow = lo; ow < hi; ow++, xi += strideW) y[yr + ow]! += wv * x[xi]!;
          }
        }
      }
    }
  }
}
