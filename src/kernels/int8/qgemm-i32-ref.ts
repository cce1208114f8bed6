/**
 * The JavaScript reference of qgemmI32: the same definition as native/qgemm-i32/qgemm-i32-ref.cc,
 * written for clarity first. The js backend runs it; every other backend and variant is tested
 * against it bit for bit.
 */
import type { NormalizedQGemmI32 } from '../../backends/kernels-qgemm-i32.js';

export function qgemmI32Ref(g: NormalizedQGemmI32): void {
  const { m, n, k, a, lda, aZeroPoint, b, ldb, bZeroPoint, y, ldy } = g;
  if (m === 0 || n === 0) return;
  const zaPerRow = aZeroPoint.length !== 1,
    zbPerColumn = bZeroPoint.length !== 1;
  // B minus its zero points, transposed once so that the inner loop reads both operands contiguously.
  const bt = new Int32Array(n * k);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bt[j * k + p] = b[p * ldb + j]! - bZeroPoint[zbPerColumn ? j : 0]!;
  const arow = new Int32Array(k);
  for (let i = 0; i < m; i++) {
    const za = aZeroPoint[zaPerRow ? i : 0]!;
    for (let p = 0; p < k; p++) arow[p] = a[i * lda + p]! - za;
    for (let j = 0; j < n; j++) {
      const off = j * k;
      let acc = 0;
      // |(a - za) * (b - zb)| <= 255 * 255: each product is exact and `| 0` keeps the int32 wrap.
      for (let p = 0; p < k; p++) acc = (acc + arow[p]! * bt[off + p]!) | 0;
      y[i * ldy + j] = acc;
    }
  }
}
