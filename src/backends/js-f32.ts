/**
 * The float32 kernel family on the js backend: the pure-JS kernels of src/kernels/f32/ behind the
 * F32Kernels interface, plus the elementwise definitions. Validation mirrors native/api/f32-api.cc.
 */
import { conv2dF32, conv2dScratchSize } from '../kernels/f32/conv.js';
import { gelu } from '../ops/erf.js';
import { gemmPackedF32, packB, packedBSize } from '../kernels/f32/gemm.js';
import { avgPool3dF32, maxPool3dF32 } from '../kernels/f32/pool.js';
import { col2imF32Ref, col2imGeom } from '../kernels/f32/col2im.js';
import { sumRowsF32Ref } from '../kernels/f32/sum-rows.js';
import { convProbeGeom, convProbeSumsF32Ref, probeWork } from '../kernels/f32/conv-probe.js';
import type { F32Kernels, GemmF32Args, UnaryF32Op, UnaryF32Params, BinaryF32Op, Conv2dF32Params, Pool3dParams } from './kernels-f32.js';
import {
  activationOf,
  binaryId,
  normalizeGemm,
  unaryArgs,
  validateBinary,
  validateHistogram,
  validateScan,
  validateSumRows,
  validateConvProbe,
  validateSoftmax,
  validateLayerNorm,
  validateCol2Im,
  validateConv,
  validateGemm,
  validateGlobalPool,
  validatePool,
  validateUnary,
} from './f32-args.js';
import { checkVariant } from './js/variant.js';

function clampInPlace(y: Float32Array, from: number, to: number, lo: number, hi: number): void {
  for (let i = from; i < to; i++) {
    const v = y[i]!;
    y[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

// Scratch reused across calls (the JS backend runs on one thread).
let scratch = new Float32Array(0);
function scratchFor(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}

/** The elementwise definitions (also the tests' reference). */
export function unaryRef(op: number, p0: number, p1: number, x: number): number {
  switch (op) {
    case 0:
      return x < 0 ? 0 : x;
    case 1:
      return Math.min(Math.max(x, p0), p1);
    case 2:
      return 1 / (1 + Math.exp(-x));
    case 3:
      return Math.min(Math.max(p0 * x + p1, 0), 1);
    case 4:
      return x * Math.min(Math.max(x / 6 + 0.5, 0), 1);
    case 5:
      return Math.tanh(x);
    case 7:
      return gelu(x);
    default:
      return x < 0 ? p0 * x : x;
  }
}

export function binaryRef(op: number, a: number, b: number): number {
  return op === 0 ? a + b : op === 1 ? a - b : op === 2 ? a * b : a / b;
}

/**
 * The definition of scanF32 (opq_scan_f32): the JS observers' loop `if (v < lo) lo = v; if (v > hi) hi = v`
 * (NaN never wins), then + 0 (-0 reported as 0); zeros counted with ===; the first v with v - v !== 0.
 */
export function scanF32Ref(x: ArrayLike<number>, out: Float64Array): void {
  let lo = Infinity,
    hi = -Infinity,
    zeros = 0,
    bad = -1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v === 0) zeros++;
    if (bad < 0 && v - v !== 0) bad = i;
  }
  out[0] = lo + 0;
  out[1] = hi + 0;
  out[2] = zeros;
  out[3] = bad;
}

/**
 * The definition of histogramF32 (opq_histogram_f32), AdaptiveHistogram's binning loop: a NaN is
 * skipped (floor(NaN) fails both clamps; the loop it came from indexed counts[NaN], a no-op).
 */
export function histogramF32Ref(x: ArrayLike<number>, inv: number, zero: number, counts: Float64Array): void {
  const bins = counts.length;
  for (let i = 0; i < x.length; i++) {
    let b = Math.floor(x[i]! * inv) + zero;
    if (b >= bins) b = bins - 1;
    else if (b < 0) b = 0;
    else if (b !== b) continue;
    counts[b]! += 1;
  }
}

/**
 * The definition of layerNormF32 (opq_layernorm_f32; LayerNormalization without a backend): per row
 * of n values, m = sum / n and v = sum (x - m)^2 / n in double in index order, k = 1 / sqrt(v + eps),
 * y = (x - m) * k * scale (+ bias) rounded once; with `mean` and `inv`, each row's m and k too.
 */
export function layerNormF32Ref(
  X: Float32Array,
  S: Float32Array,
  B: Float32Array | null,
  y: Float32Array,
  rows: number,
  n: number,
  eps: number,
  mean?: Float32Array,
  inv?: Float32Array,
): void {
  for (let o = 0, base = 0; o < rows; o++, base += n) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += X[base + i]!;
    const m = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const d = X[base + i]! - m;
      sq += d * d;
    }
    const k = 1 / Math.sqrt(sq / n + eps);
    if (B) for (let i = 0; i < n; i++) y[base + i] = (X[base + i]! - m) * k * S[i]! + B[i]!;
    else for (let i = 0; i < n; i++) y[base + i] = (X[base + i]! - m) * k * S[i]!;
    if (mean) mean[o] = m;
    if (inv) inv[o] = k;
  }
}

/**
 * The definition of softmaxF32 (opq_softmax_f32; the Softmax and LogSoftmax ops without a backend):
 * for each row r_k = x[(o*len + k)*inner + i], m = its maximum with NaN winning
 * (`if (v > m || v !== v) m = v`), e_k = exp(r_k - m) and s = sum_k e_k in double, then
 * y = e_k / s or r_k - m - log(s), rounded once to float32. Each exp is taken once (kept in a
 * float64 scratch row); y may be x.
 */
export function softmaxF32Ref(x: Float32Array, y: Float32Array, outer: number, len: number, inner: number, log: boolean): void {
  if (outer * len * inner === 0) return; // (and no outer*inner loop over empty rows)
  const e = softmaxScratch(len);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let mx = -Infinity;
      for (let k = 0; k < len; k++) {
        const v = x[base + k * inner]!;
        if (v > mx || v !== v) mx = v;
      }
      let sum = 0;
      for (let k = 0; k < len; k++) {
        const v = Math.exp(x[base + k * inner]! - mx);
        e[k] = v;
        sum += v;
      }
      if (log) {
        const ls = Math.log(sum);
        for (let k = 0; k < len; k++) y[base + k * inner] = x[base + k * inner]! - mx - ls;
      } else for (let k = 0; k < len; k++) y[base + k * inner] = e[k]! / sum;
    }
}

// One scratch row reused across calls (the JS engine is single-threaded).
let expRow = new Float64Array(0);
function softmaxScratch(n: number): Float64Array {
  if (expRow.length < n) expRow = new Float64Array(n);
  return expRow;
}

export function jsF32Kernels(): F32Kernels {
  return {
    conv2dF32(p: Conv2dF32Params, x, w, bias, y, variant) {
      checkVariant(variant);
      validateConv(p, x, w, bias, y);
      const total = p.N * p.M * p.OH * p.OW;
      if (total === 0) return;
      const [lo, hi] = activationOf(p.activation, 'conv2d_f32');
      if ((p.C / p.group) * p.KH * p.KW === 0) {
        for (let n = 0; n < p.N; n++)
          for (let m = 0; m < p.M; m++) y.fill(bias ? bias[m]! : 0, (n * p.M + m) * p.OH * p.OW, (n * p.M + m + 1) * p.OH * p.OW);
      } else {
        conv2dF32(p, x, w, bias ?? undefined, y, scratchFor(conv2dScratchSize(p)));
      }
      if (p.activation) clampInPlace(y, 0, total, lo, hi);
    },

    gemmF32(args: GemmF32Args) {
      checkVariant(args.variant);
      const g = normalizeGemm(args);
      validateGemm(args, g);
      const [M, N, K, lda, ldb, ldy, ta, tb, sm, sn] = g.dims as unknown as number[];
      if (M === 0 || N === 0) return;
      const withC = g.c !== null && g.beta !== 0;
      // Y starts as C (broadcast); the kernel then adds beta * Y to alpha * A*B.
      for (let i = 0; i < M!; i++) {
        const row = i * ldy!;
        for (let j = 0; j < N!; j++) args.y[row + j] = withC ? g.c![i * sm! + j * sn!]! : 0;
      }
      if (K! > 0) {
        let A = args.a;
        let lda2 = lda!;
        if (ta) {
          A = new Float32Array(M! * K!);
          for (let k = 0; k < K!; k++) for (let m = 0; m < M!; m++) A[m * K! + k] = args.a[k * lda! + m]!;
          lda2 = K!;
        }
        const bp = scratchFor(packedBSize(K!, N!));
        packB(K!, N!, args.b, 0, ldb!, !!tb, bp);
        gemmPackedF32({ M: M!, N: N!, K: K!, alpha: g.alpha, beta: withC ? g.beta : 0 }, A, 0, lda2, bp, args.y, 0, ldy!);
      } else if (withC) {
        for (let i = 0; i < M!; i++) for (let j = 0; j < N!; j++) args.y[i * ldy! + j]! *= g.beta;
      }
      if (args.activation) for (let i = 0; i < M!; i++) clampInPlace(args.y, i * ldy!, i * ldy! + N!, g.act[0], g.act[1]);
    },

    maxPoolF32(p: Pool3dParams, x, y, variant) {
      checkVariant(variant);
      validatePool(p, x, y);
      maxPool3dF32(p, x, y);
    },

    avgPoolF32(p: Pool3dParams, x, y, countIncludePad, variant) {
      checkVariant(variant);
      validatePool(p, x, y);
      avgPool3dF32(p, x, y, countIncludePad);
    },

    globalPoolF32(kind, planes, size, x, y, variant) {
      checkVariant(variant);
      validateGlobalPool(kind, planes, size, x, y);
      for (let i = 0; i < planes; i++) {
        const o = i * size;
        if (kind === 'avg') {
          let s = 0;
          for (let j = 0; j < size; j++) s += x[o + j]!;
          y[i] = s / size;
        } else {
          let m = -Infinity;
          for (let j = 0; j < size; j++) m = x[o + j]! > m ? x[o + j]! : m;
          y[i] = m;
        }
      }
    },

    unaryF32(op: UnaryF32Op, x, y, params?: UnaryF32Params, variant?) {
      checkVariant(variant);
      const [id, p0, p1] = unaryArgs(op, params);
      validateUnary(x, y);
      const f0 = Math.fround(p0),
        f1 = Math.fround(p1);
      for (let i = 0; i < x.length; i++) y[i] = unaryRef(id, f0, f1, x[i]!);
    },

    binaryF32(op: BinaryF32Op, a, b, y, inner = 1, variant?) {
      checkVariant(variant);
      const id = binaryId(op);
      validateBinary(a, b, y, inner);
      const nb = b.length;
      for (let i = 0; i < y.length; i++) y[i] = binaryRef(id, a[i]!, b[Math.floor(i / inner) % nb]!);
    },

    scanF32(x, out, variant?) {
      checkVariant(variant);
      validateScan(x, out);
      scanF32Ref(x, out);
    },

    histogramF32(x, inv, zero, counts, variant?) {
      checkVariant(variant);
      validateHistogram(x, inv, zero, counts);
      histogramF32Ref(x, inv, zero, counts);
    },

    sumRowsF32(x, p, dst, variant?) {
      checkVariant(variant);
      validateSumRows(x, p, dst);
      sumRowsF32Ref(x, p, dst);
    },

    convProbeSumsF32(geo, x, delta, sums, variant?) {
      checkVariant(variant);
      const n = validateConvProbe(geo, x, delta, sums);
      convProbeSumsF32Ref(convProbeGeom(geo), x, delta, sums, probeWork(n));
    },

    softmaxF32(x, y, outer, len, inner, log, variant?) {
      checkVariant(variant);
      validateSoftmax(x, y, outer, len, inner, log);
      softmaxF32Ref(x, y, outer, len, inner, log);
    },

    layerNormF32(x, scale, bias, y, rows, n, eps, variant?) {
      checkVariant(variant);
      validateLayerNorm(x, scale, bias, y, rows, n, eps);
      layerNormF32Ref(x, scale, bias, y, rows, n, eps);
    },

    col2imF32(geo, channels, cols, bias, y) {
      validateCol2Im(geo, channels, cols, bias, y);
      col2imF32Ref(col2imGeom(geo), channels, cols, bias?.length ? bias : null, y);
    },
  };
}
