/**
 * Window row sums along one axis, the definition of sumRowsF32 (opq_sum_rows_f32,
 * native/f32-sum-rows/): bias-correction probes sum each kernel tap's input rows with it.
 */

/** Geometry of sumRowsF32: one window axis of `I` rows of `inner` values, `planes` times. */
export interface SumRowsParams {
  planes: number;
  I: number;
  inner: number;
  /** Kernel taps along the axis. */
  K: number;
  /** Output positions along the axis. */
  O: number;
  stride: number;
  /** Begin pad. */
  pad: number;
  dilation: number;
}

/**
 * The definition of sumRowsF32 (opq_sum_rows_f32): for each plane p and tap k, the rows
 * o*stride - pad + k*dilation (o < O, inside [0, I)) added into dst's row (p*K + k), o ascending,
 * in double. Each dst element is one chain of additions in that order, so SIMD across j gives these bits.
 * x may also be float64 (bias correction's second axis of a 3-D conv sums the first one's rows).
 */
export function sumRowsF32Ref(x: Float32Array | Float64Array, p: SumRowsParams, dst: Float64Array): void {
  const { planes, I, inner, K, O, stride, pad, dilation } = p;
  dst.fill(0, 0, planes * K * inner);
  for (let a = 0; a < planes; a++)
    for (let k = 0; k < K; k++) {
      const off = k * dilation - pad;
      const to = (a * K + k) * inner;
      for (let o = tapLo(off, stride), hi = tapHi(I, O, off, stride); o < hi; o++) {
        const from = (a * I + o * stride + off) * inner;
        for (let j = 0; j < inner; j++) dst[to + j]! += x[from + j]!;
      }
    }
}

/** First output position o whose tap reads row o*stride + off >= 0. */
export function tapLo(off: number, stride: number): number {
  return off >= 0 ? 0 : Math.ceil(-off / stride);
}

/** One past the last output position o < out whose tap reads a row o*stride + off < size (>= tapLo). */
export function tapHi(size: number, out: number, off: number, stride: number): number {
  return Math.max(tapLo(off, stride), Math.min(out, Math.floor((size - 1 - off) / stride) + 1));
}
