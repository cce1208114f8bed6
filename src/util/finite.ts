import { scanLong } from '../backends/stats-kernels.js';

/**
 * Index of the first NaN or infinity in `data`, or -1 (a float typed array; other arrays: -1).
 * `scanned`: scanLong(data), when the caller has it already.
 */
export function firstNonFinite(data: unknown, scanned?: Float64Array): number {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) return -1;
  // A long Float32Array: the backend's scanF32 (out[3] is this index).
  const s = scanned ?? scanLong(data);
  if (s) return s[3]!;
  for (let i = 0; i < data.length; i++) {
    // v - v is 0 for every finite v and NaN for NaN and +-Infinity: one compare per element.
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}
