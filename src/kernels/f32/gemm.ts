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
export function packB(
  K: number, N: number, b: Float32Array, bOff: number, ldb: number, transB: boolean, dst: Float32Array,
): void {
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
  p: GemmParams, a: Float32Array, aOff: number, lda: number, bp: Float32Array, c: Float32Array, cOff: number, ldc: number,
): void {
  const { M, N, K } = p;
  const alpha = p.alpha ?? 1;
  const beta = p.beta ?? 0;
  const bias = p.rowBias;
  const panels = Math.ceil(N / 4);
  for (let m = 0; m < M; m += 4) {
    const rows = Math.min(4, M - m);
    const a0 = aOff + m * lda;
    const a1 = rows > 1 ? a0 + lda : a0;
    const a2 = rows > 2 ? a0 + 2 * lda : a0;
    const a3 = rows > 3 ? a0 + 3 * lda : a0;
    for (let pn = 0; pn < panels; pn++) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let bi = pn * 4 * K;
      for (let k = 0; k < K; k++, bi += 4) {
        const b0 = bp[bi]!, b1 = bp[bi + 1]!, b2 = bp[bi + 2]!, b3 = bp[bi + 3]!;
        const x0 = a[a0 + k]!, x1 = a[a1 + k]!, x2 = a[a2 + k]!, x3 = a[a3 + k]!;
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
      }
      const n0 = pn * 4;
      const cols = Math.min(4, N - n0);
      const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
      for (let r = 0; r < rows; r++) {
        const rb = bias ? bias[m + r]! : 0;
        const ci = cOff + (m + r) * ldc + n0;
        for (let j = 0; j < cols; j++) {
          const v = alpha * acc[r * 4 + j]! + rb;
          c[ci + j] = beta === 0 ? v : v + beta * c[ci + j]!;
        }
      }
    }
  }
}

/** Convenience: C = A(MxK) * B(KxN) for row-major operands, packing B internally. */
export function matmulF32(
  M: number, N: number, K: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, c: Float32Array, cOff: number,
  scratch?: Float32Array,
): void {
  const bp = scratch && scratch.length >= packedBSize(K, N) ? scratch : new Float32Array(packedBSize(K, N));
  packB(K, N, b, bOff, N, false, bp);
  gemmPackedF32({ M, N, K }, a, aOff, K, bp, c, cOff, N);
}
