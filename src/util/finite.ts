import { STATS_KERNEL_MIN_LENGTH, statsKernels } from '../backends/stats-kernels.js';

const scan = new Float64Array(4);

/** Index of the first NaN or infinity in `data`, or -1 (a float typed array; other arrays: -1). */
export function firstNonFinite(data: unknown): number {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) return -1;
  if (data instanceof Float32Array && data.length >= STATS_KERNEL_MIN_LENGTH) {
    // A long Float32Array: the backend's scanF32 (out[3] is this index).
    const k = statsKernels();
    if (k) {
      k.scanF32(data, scan);
      return scan[3]!;
    }
  }
  for (let i = 0; i < data.length; i++) {
    // v - v is 0 for every finite v and NaN for NaN and +-Infinity: one compare per element.
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}
