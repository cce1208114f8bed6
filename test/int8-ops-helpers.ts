// Shared by the integer elementwise/pooling/layout kernel tests: every loaded backend and variant,
// seeded random data, awkward sizes.
import type { Backend, KernelVariant } from '../src/backends/types.js';
import { backendVariants, jsBackend, loadedBackends, rng } from './backends.js';

// The loaded backends (native and wasm must load under CI: test/backends.ts checks) and their variants.
export const backends: Backend[] = loadedBackends;
/** [label, backend, variant] for every loaded backend and each of its variants. */
export const targets: [string, Backend, KernelVariant][] = backendVariants.map((t) => [t.label, t.backend, t.variant]);
export { jsBackend, rng };
export const nativeAndWasm = backends.filter((b) => b.name !== 'js');

export function rand8(r: () => number, n: number, signed: boolean): Uint8Array | Int8Array {
  const a = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(r() * 256) - (signed ? 128 : 0);
  return a;
}

export const SIZES = [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 32, 33, 63, 64, 65];

/** Index of the first difference, or -1. */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}
