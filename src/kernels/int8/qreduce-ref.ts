/** JavaScript reference of quantized ReduceMean (native/include/opq_qreduce.h). */
import { requantizeOne } from '../../quant/requant.js';
import type { ReduceMeanArgs } from '../../backends/kernels-qreduce.js';

export function reduceMeanRef(g: ReduceMeanArgs): void {
  const { x, y, dims, axes, xZeroPoint: zx, requant } = g;
  const rank = dims.length;
  const red = new Array<boolean>(rank).fill(false);
  for (const a of axes) red[a] = true;
  // Output stride of every input axis (0 for the reduced ones).
  const ostride = new Array<number>(rank).fill(0);
  let outN = 1;
  for (let i = rank - 1; i >= 0; i--)
    if (!red[i]) {
      ostride[i] = outN;
      outN *= dims[i]!;
    }
  const n = dims.reduce((p, d) => p * d, 1);
  if (n === 0) return;
  const acc = new Float64Array(outN); // exact: |acc| <= 2^23 * 255
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < n; i++) {
    acc[o] += x[i]! - zx;
    for (let a = rank - 1; a >= 0; a--) {
      o += ostride[a]!;
      if (++idx[a]! < dims[a]!) break;
      o -= ostride[a]! * dims[a]!;
      idx[a] = 0;
    }
  }
  for (let j = 0; j < outN; j++) y[j] = requantizeOne(acc[j]!, requant, 0);
}
