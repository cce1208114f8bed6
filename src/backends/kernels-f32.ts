/**
 * The float32 kernel family (float executor and calibration). Signatures follow the pure-JS kernels
 * of src/kernels/f32/ (conv2dF32(p, x, w, bias, y), Pool3dParams) so that the engine can take them
 * from any backend. Results agree across backends and variants within float rounding, not bit for
 * bit: SIMD variants sum in another order and use FMA (native AVX2). The calibration statistics
 * (scanF32, histogramF32, sumRowsF32, convProbeSumsF32) have one defined order of operations: every
 * backend and variant gives the same bits.
 */
import type { Conv2dParams } from '../kernels/f32/conv.js';
import type { Pool3dParams } from '../kernels/f32/pool.js';
import type { SumRowsParams } from '../kernels/f32/sum-rows.js';
import type { KernelVariant } from './types.js';

export type { Conv2dParams, Pool3dParams, SumRowsParams };

/** A clamp fused after the op (ReLU: { min: 0, max: Infinity }; Clip/ReLU6: the bounds). */
export interface F32Activation {
  min: number;
  max: number;
}

export interface Conv2dF32Params extends Conv2dParams {
  activation?: F32Activation;
}

/**
 * Y (M x N, leading dimension ldy) = clamp(alpha * op(A) * op(B) + beta * C). op(A) is M x K: A
 * itself (M x K, lda >= K) or, with transA, the transpose of A stored K x M (lda >= M); likewise B
 * (K x N, or N x K with transB). C broadcasts to [M, N] by ONNX Gemm's unidirectional rule: give
 * cDims, or let its length decide (1: scalar, N: a row, M*N: full).
 */
export interface GemmF32Args {
  M: number;
  N: number;
  K: number;
  a: Float32Array;
  lda?: number;
  transA?: boolean;
  b: Float32Array;
  ldb?: number;
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 1 (ONNX Gemm's default); ignored without C. */
  beta?: number;
  c?: Float32Array | null;
  cDims?: readonly number[];
  activation?: F32Activation;
  y: Float32Array;
  ldy?: number;
  variant?: KernelVariant;
}

export type UnaryF32Op = 'relu' | 'clip' | 'sigmoid' | 'hardsigmoid' | 'hardswish' | 'tanh' | 'leakyrelu' | 'gelu';
export type BinaryF32Op = 'add' | 'sub' | 'mul' | 'div';

/** Op attributes: clip { min, max }, hardsigmoid { alpha = 0.2, beta = 0.5 }, leakyrelu { alpha = 0.01 }. */
export interface UnaryF32Params {
  alpha?: number;
  beta?: number;
  min?: number;
  max?: number;
}

export interface F32Kernels {
  /** y[N, M, OH, OW] = clamp(conv(x[N, C, H, W], w[M, C/group, KH, KW]) + bias[M]), zero padding. */
  conv2dF32(
    p: Conv2dF32Params,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null | undefined,
    y: Float32Array,
    variant?: KernelVariant,
  ): void;
  gemmF32(args: GemmF32Args): void;
  /** Max pool (no indices output: the op computes those with the JS kernel). */
  maxPoolF32(p: Pool3dParams, x: Float32Array, y: Float32Array, variant?: KernelVariant): void;
  avgPoolF32(p: Pool3dParams, x: Float32Array, y: Float32Array, countIncludePad: boolean, variant?: KernelVariant): void;
  /** y[i] = mean or max of x[i*size, (i+1)*size) (GlobalAveragePool / GlobalMaxPool). */
  globalPoolF32(kind: 'avg' | 'max', planes: number, size: number, x: Float32Array, y: Float32Array, variant?: KernelVariant): void;
  /** y[i] = op(x[i]) for i < x.length; y may be x. */
  unaryF32(op: UnaryF32Op, x: Float32Array, y: Float32Array, params?: UnaryF32Params, variant?: KernelVariant): void;
  /**
   * y[i] = a[i] op b[floor(i / inner) % b.length] for i < y.length, a.length === y.length: same shape
   * (inner 1), scalar b, b a suffix of y's shape (inner 1), or per channel (b of C, inner H*W). y may be a.
   */
  binaryF32(op: BinaryF32Op, a: Float32Array, b: Float32Array, y: Float32Array, inner?: number, variant?: KernelVariant): void;
  /**
   * Calibration statistics of x in one pass (opq_scan_f32): out[0] = min and out[1] = max over the
   * values that are not NaN (Infinity and -Infinity when there is none; a zero extreme is +0, never
   * -0), out[2] = how many elements equal 0 (+0 or -0), out[3] = index of the first NaN or
   * infinity, or -1. out must have 4 entries.
   */
  scanF32(x: Float32Array, out: Float64Array, variant?: KernelVariant): void;
  /**
   * counts[clamp(floor(x[i] * inv) + zero, 0, counts.length - 1)] += 1 for every x[i] that is not NaN
   * (NaN is skipped; +-Infinity land in the last / first bin), the product taken in double
   * (opq_histogram_f32). inv positive and finite, zero an integer in [-2^31, 2^31], counts of 1 to
   * 2^20 entries.
   */
  histogramF32(x: Float32Array, inv: number, zero: number, counts: Float64Array, variant?: KernelVariant): void;
  /**
   * Window row sums for bias-correction probes (opq_sum_rows_f32, definition: sumRowsF32Ref):
   * dst[(p*K + k)*inner + j] = sum, o ascending, of double(x[(p*I + o*stride - pad + k*dilation)*inner + j])
   * over the o < O whose row index lies in [0, I); x has planes*I*inner entries, dst planes*K*inner.
   */
  sumRowsF32(x: Float32Array, p: SumRowsParams, dst: Float64Array, variant?: KernelVariant): void;
  /**
   * A bias-correction probe of Conv (opq_conv_probe_sums_f32, definition: convProbeSumsF32Ref in
   * src/kernels/f32/conv-probe.ts): sums[m] = the sum over output positions of Conv(x, delta)'s
   * channel m, in double in a fixed order (the same bits on every backend). geo: convProbeFields,
   * 22 int32; x has N*C*I0*I1*I2 entries, delta M*(C/group)*K0*K1*K2, sums M.
   */
  convProbeSumsF32(geo: Int32Array, x: Float32Array, delta: Float32Array, sums: Float64Array, variant?: KernelVariant): void;
  /**
   * Adds x[i] exactly into accumulator i of acc (opq_exact_sum_add_f64: EXACT_SUM_WORDS int64 each;
   * ExactSum.fromWords reads one). Native only: it serves bias probes inside a native replay; the
   * other backends' callers add with ExactSum (src/util/exact-sum.ts), which gives the same values,
   * since both are exact, and a call per probe would cost them more than it saves.
   */
  exactSumAddF64?(x: Float64Array, acc: BigInt64Array): void;
  /**
   * Softmax, or LogSoftmax with `log`, of x read as [outer, len, inner] along its middle axis
   * (opq_softmax_f32, definition: softmaxF32Ref): for each o < outer and i < inner, the row
   * r_k = x[(o*len + k)*inner + i] (k < len) gives m = max_k r_k (NaN when the row has a NaN),
   * e_k = exp(r_k - m), s = sum_k e_k, and y at the same place = e_k / s, or r_k - m - log(s).
   * A row holding +Infinity or NaN comes out all NaN; -Infinity entries give 0 (log: -Infinity).
   * x and y have outer*len*inner elements; y may be x (in place), no other overlap. The js
   * backend and the `ref` variants compute in double; the SIMD variants use a polynomial exp in
   * float32 (sums in double): within a few ulps of the definition, and 0 where an output is below
   * exp(-87.3) (relative to the row's largest, which is >= 1/len).
   */
  softmaxF32(x: Float32Array, y: Float32Array, outer: number, len: number, inner: number, log: boolean, variant?: KernelVariant): void;
  /**
   * LayerNormalization's arithmetic over `rows` rows of n values (opq_layernorm_f32, definition:
   * layerNormF32Ref): per row m = sum x / n and v = sum (x - m)^2 / n in double in index order,
   * k = 1 / sqrt(v + eps), y = (x - m) * k * scale (+ bias) in double, rounded once. The same
   * operations on every backend, hence the same bits. scale and bias (or null) have n values.
   */
  layerNormF32(
    x: Float32Array,
    scale: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    rows: number,
    n: number,
    eps: number,
    variant?: KernelVariant,
  ): void;
  /**
   * ConvTranspose's col2im for `channels` channels (opq_col2im_f32, definition: col2imF32Ref in
   * src/kernels/f32/col2im.ts): y = bias, then each column added into the output pixel its tap lands
   * on, in a fixed order; the same bits on every backend. geo: col2imFields(geometry), 18 int32.
   */
  col2imF32(geo: Int32Array, channels: number, cols: Float32Array, bias: Float32Array | null, y: Float32Array): void;
}
