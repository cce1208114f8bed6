/**
 * The float32 kernels the calibration observers (src/quant/observers/), firstNonFinite
 * (src/util/finite.ts) and bias-correction probes (src/ptq/bias-correction.ts) hand their Float32Array
 * loops to: scanF32, histogramF32, sumRowsF32 and convProbeSumsF32 of the backend the
 * registry picks (ONNX_PTQ_BACKEND, else native, then wasm), looked up lazily, once. When that is
 * the js backend, or no backend loads, the callers keep their own JS loops (the definitions the
 * kernels reproduce bit for bit). Arrays shorter than STATS_KERNEL_MIN_LENGTH stay in JS too: below
 * it the call costs more than the loop.
 */
import type { F32Kernels } from './kernels-f32.js';
import { getBackend } from './registry.js';

export type StatsKernels = Pick<F32Kernels, 'scanF32' | 'histogramF32' | 'sumRowsF32' | 'convProbeSumsF32' | 'exactSumAddF64'>;

/** Shortest Float32Array handed to a kernel (measured: bench/kernels-f32-stats.ts). */
export const STATS_KERNEL_MIN_LENGTH = 256;

let chosen: StatsKernels | null | undefined;

/**
 * scanF32 of `values` when they go to the kernels (a Float32Array of at least
 * STATS_KERNEL_MIN_LENGTH, kernels loaded): [min, max, zero count, index of the first NaN or
 * infinity or -1], in a new array. undefined otherwise: the callers loop in JS. Calibration scans
 * each observed tensor once and hands the result to both the finite check and the observer.
 */
export function scanLong(values: ArrayLike<number>): Float64Array | undefined {
  if (!scansOnKernel(values)) return undefined;
  const out = new Float64Array(4);
  scanInto(values, out);
  return out;
}

/**
 * scanLong into `out` (4 entries), the caller's array: true when the kernel ran, false when the
 * callers loop in JS. It depends on the values' type and length only, not on their contents.
 */
export function scanInto(values: ArrayLike<number>, out: Float64Array, k: StatsKernels | null = statsKernels()): boolean {
  if (!scansOnKernel(values, k)) return false;
  k!.scanF32(values as Float32Array, out);
  return true;
}

/** Whether scanLong and scanInto (with kernels `k`) hand `values` to the kernel (by type and length alone). */
export function scansOnKernel(values: ArrayLike<number>, k: StatsKernels | null = statsKernels()): boolean {
  return values instanceof Float32Array && values.length >= STATS_KERNEL_MIN_LENGTH && k !== null;
}

/**
 * The stats kernels when they are those of backend `name` (a session's), else null. A session's
 * native replay records only its own backend's kernel calls: another backend's (a wasm kernel under
 * ONNX_PTQ_BACKEND=wasm, while a float session resolves 'auto' to native) would run at recording
 * time only, and replays would leave its results stale.
 */
export function statsKernelsOf(name: string): StatsKernels | null {
  const k = statsKernels();
  return k && (k as { name?: string }).name === name ? k : null;
}

/** The kernels to use, or null for the JS loops. */
export function statsKernels(): StatsKernels | null {
  if (chosen === undefined) {
    try {
      const b = getBackend();
      chosen = b.name === 'js' ? null : b;
    } catch {
      chosen = null; // nothing loads: the JS loops (a session would have reported why)
    }
  }
  return chosen;
}

/**
 * Internal (tests and benchmarks): use these kernels, null for the JS loops, or undefined to go back
 * to the registry's choice on the next call. Returns the previous setting.
 */
export function setStatsKernels(k: StatsKernels | null | undefined): StatsKernels | null | undefined {
  const prev = chosen;
  chosen = k;
  return prev;
}
