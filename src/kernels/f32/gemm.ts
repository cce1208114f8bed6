// Float32 GEMM for the JS path. Layout chosen so a native kernel can replace it call for call:
// B is packed once into panels of 4 columns (k-major, 4 values per k), then a 4x4 register-tile
// micro-kernel computes C = A * B (+ bias per row or per column). No allocation in the inner loops.

/** Floats needed to pack a K x N matrix into 4-column panels. */
export function packedBSize(K: number, N: number): number {
  return Math.ceil(N / 4) * 4 * K;
}

/**
 * Packs B (K x N, element (k, n) at b[bOff + k*ldb + n], or at b[bOff + n*ldb + k] when transB) into
 * `dst`: panel p holds columns 4p..4p+3 as dst[p*4K + k*4 + j]; columns past N are zero.
 */
export function packB(K: number, N: number, b: Float32Array, bOff: number, ldb: number, transB: boolean, dst: Float32Array): void {
  const panels = Math.ceil(N / 4);
  for (let p = 0; p < panels; p++) {
    const base = p * 4 * K;
    for (let j = 0; j < 4; j++) {
      const n = p * 4 + j;
      if (n >= N) {
        for (let k = 0; k < K; k++) dst[base + k * 4 + j] = 0;
      } else if (transB) {
        const src = bOff + n * ldb;
        for (let k = 0; k < K; k++) dst[base + k * 4 + j] = b[src + k]!;
      } else {
        let src = bOff + n;
        for (let k = 0; k < K; k++, src += ldb) dst[base + k * 4 + j] = b[src]!;
      }
    }
  }
}

export interface GemmParams {
  M: number;
  N: number;
  K: number;
  /** C = alpha * A*B + beta * C (default alpha 1, beta 0: C is overwritten). */
  alpha?: number;
  beta?: number;
  /** Added per row of C (conv bias: one value per output channel). */
  rowBias?: Float32Array;
}

/**
 * C (M x N at c[cOff + m*ldc + n]) = alpha * A (M x K at a[aOff + m*lda + k]) * packedB + beta*C + rowBias[m].
 */
export function gemmPackedF32(
  p: GemmParams,
  a: Float32Array,
  aOff: number,
  lda: number,
  bp: Float32Array,
  c: Float32Array,
  cOff: number,
  ldc: number,
): void {
  const { M, N, K } = p;
  const alpha = p.alpha ?? 1;
  const beta = p.beta ?? 0;
  const bias = p.rowBias;
  const panels = Math.ceil(N / 4);
  const fullPanels = Math.floor(N / 4);
  const plain = alpha === 1 && beta === 0;
  for (let m = 0; m < M; m += 4) {
    const rows = Math.min(4, M - m);
    const a0 = aOff + m * lda;
    for (let pn = 0; pn < panels; pn++) {
      const ci = cOff + m * ldc + pn * 4;
      if (rows === 4 && pn < fullPanels && plain) {
        tile4x4(
          a,
          a0,
          lda,
          bp,
          pn * 4 * K,
          K,
          c,
          ci,
          ldc,
          bias ? bias[m]! : 0,
          bias ? bias[m + 1]! : 0,
          bias ? bias[m + 2]! : 0,
          bias ? bias[m + 3]! : 0,
        );
      } else {
        tileEdge(a, a0, lda, rows, bp, pn * 4 * K, K, c, ci, ldc, Math.min(4, N - pn * 4), alpha, beta, bias, m);
      }
    }
  }
}

/**
 * The hot path: a full 4x4 tile of C from 4 rows of A and one packed panel, 16 accumulators in
 * registers. Kept small and separate so the JIT optimizes it once with stable type feedback.
 */
function tile4x4(
  a: Float32Array,
  a0: number,
  lda: number,
  bp: Float32Array,
  bi: number,
  K: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  b0: number,
  b1: number,
  b2: number,
  b3: number,
): void {
  const a1 = a0 + lda;
  const a2 = a1 + lda;
  const a3 = a2 + lda;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let k = 0; k < K; k++, bi += 4) {
    const y0 = bp[bi]!,
      y1 = bp[bi + 1]!,
      y2 = bp[bi + 2]!,
      y3 = bp[bi + 3]!;
    const x0 = a[a0 + k]!,
      x1 = a[a1 + k]!,
      x2 = a[a2 + k]!,
      x3 = a[a3 + k]!;
    c00 += x0 * y0;
    c01 += x0 * y1;
    c02 += x0 * y2;
    c03 += x0 * y3;
    c10 += x1 * y0;
    c11 += x1 * y1;
    c12 += x1 * y2;
    c13 += x1 * y3;
    c20 += x2 * y0;
    c21 += x2 * y1;
    c22 += x2 * y2;
    c23 += x2 * y3;
    c30 += x3 * y0;
    c31 += x3 * y1;
    c32 += x3 * y2;
    c33 += x3 * y3;
  }
  c[ci] = c00 + b0;
  c[ci + 1] = c01 + b0;
  c[ci + 2] = c02 + b0;
  c[ci + 3] = c03 + b0;
  ci += ldc;
  c[ci] = c10 + b1;
  c[ci + 1] = c11 + b1;
  c[ci + 2] = c12 + b1;
  c[ci + 3] = c13 + b1;
  ci += ldc;
  c[ci] = c20 + b2;
  c[ci + 1] = c21 + b2;
  c[ci + 2] = c22 + b2;
  c[ci + 3] = c23 + b2;
  ci += ldc;
  c[ci] = c30 + b3;
  c[ci + 1] = c31 + b3;
  c[ci + 2] = c32 + b3;
  c[ci + 3] = c33 + b3;
}

/** Edge tiles (fewer than 4 rows or columns) and alpha/beta: plain loops, rarely hot. */
function tileEdge(
  a: Float32Array,
  a0: number,
  lda: number,
  rows: number,
  bp: Float32Array,
  bi: number,
  K: number,
  c: Float32Array,
  ci: number,
  ldc: number,
  cols: number,
  alpha: number,
  beta: number,
  bias: Float32Array | undefined,
  m: number,
): void {
  for (let r = 0; r < rows; r++) {
    const ar = a0 + r * lda;
    const rb = bias ? bias[m + r]! : 0;
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let k = 0, q = bi + j; k < K; k++, q += 4) acc += a[ar + k]! * bp[q]!;
      const v = alpha * acc + rb;
      const o = ci + r * ldc + j;
      c[o] = beta === 0 ? v : v + beta * c[o]!;
    }
  }
}

/** Convenience: C = A(MxK) * B(KxN) for row-major operands, packing B internally. */
export function matmulF32(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  scratch?: Float32Array,
): void {
  const bp = scratch && scratch.length >= packedBSize(K, N) ? scratch : new Float32Array(packedBSize(K, N));
  packB(K, N, b, bOff, N, false, bp);
  gemmPackedF32({ M, N, K }, a, aOff, K, bp, c, cOff, N);
}
