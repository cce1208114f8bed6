// Shared by the integer elementwise/pooling/layout kernel tests: every loaded backend and variant,
// seeded random data, awkward sizes.
import { createDefaultRegistry } from '../src/backends/registry.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';

const registry = createDefaultRegistry();
const status = registry.status();
if (process.env.CI === 'true') {
  for (const s of status) if (!s.loaded) throw new Error(`backend ${s.name} must load under CI: ${s.error}`);
}

export const backends: Backend[] = status.filter((s) => s.loaded).map((s) => registry.get(s.name));
/** [label, backend, variant] for every loaded backend and each of its variants. */
export const targets: [string, Backend, KernelVariant][] = backends.flatMap((b) => b.variants.map((v) => [`${b.name}:${v}`, b, v] as [string, Backend, KernelVariant]));
export const jsBackend = registry.get('js');
export const nativeAndWasm = backends.filter((b) => b.name !== 'js');

/** Mulberry32: deterministic test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
