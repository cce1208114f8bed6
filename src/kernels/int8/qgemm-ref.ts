/**
 * The JavaScript reference of qgemm and row requantization: the same definition as
 * native/qgemm/qgemm-ref.cc, written for clarity first. The js backend runs it; every other
 * backend and variant is tested against it bit for bit.
 */
import { requantizeOne, type RequantParams } from '../../quant/requant.js';
import type { Int8Like, QGemmArgs } from '../../backends/types.js';

export function requantizeRowRef(acc: Int32Array, rq: RequantParams, y: Int8Like, c0 = 0, bias?: Int32Array | null): void {
  const perChannel = rq.shift.length !== 1;
  for (let j = 0; j < acc.length; j++) {
    const a = bias ? (acc[j] + bias[j]) | 0 : acc[j];
    y[j] = requantizeOne(a, rq, perChannel ? c0 + j : 0);
  }
}

export function qgemmRef(g: Required<Omit<QGemmArgs, 'variant' | 'bias'>> & { bias: Int32Array | null }): void {
  const { m, n, k, a, lda, aZeroPoint: za, b, ldb, bZeroPoint, bias, requant, y, ldy } = g;
  const zbPerColumn = bZeroPoint.length !== 1;
  const perChannel = requant.shift.length !== 1;
  // B minus its zero point, transposed once so the inner loop reads both operands contiguously.
  const bt = new Int32Array(n * k);
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) bt[j * k + p] = b[p * ldb + j] - bZeroPoint[zbPerColumn ? j : 0];
  }
  const arow = new Int32Array(k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) arow[p] = a[i * lda + p] - za;
    for (let j = 0; j < n; j++) {
      let acc = 0;
      const off = j * k;
      // |(a - za) * (b - zb)| <= 383 * 255, so each product is exact and `| 0` keeps int32 wrap.
      for (let p = 0; p < k; p++) acc = (acc + arow[p] * bt[off + p]) | 0;
      if (bias) acc = (acc + bias[j]) | 0;
      y[i * ldy + j] = requantizeOne(acc, requant, perChannel ? j : 0);
    }
  }
}
