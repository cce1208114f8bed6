// The backends every kernel suite runs against: all that loaded. Under CI=true, native and wasm
// must load (a missing build is a failure, not a skip).
import { createDefaultRegistry } from '../src/backends/registry.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';

const registry = createDefaultRegistry();
const status = registry.status();
if (process.env.CI === 'true') {
  for (const s of status) {
    if (!s.loaded) throw new Error(`backend ${s.name} did not load under CI: ${s.error}`);
  }
}

export const loadedBackends: Backend[] = status.filter((s) => s.loaded).map((s) => registry.get(s.name));
export const jsBackend = registry.get('js');

/** Every (backend, variant) pair that can run here, e.g. native:avx2, wasm:wasmsimd, js:ref. */
export const backendVariants: { label: string; backend: Backend; variant: KernelVariant }[] = loadedBackends.flatMap((b) =>
  b.variants.map((v) => ({ label: `${b.name}:${v}`, backend: b, variant: v })),
);

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export { mulberry32 as rng } from '../src/util/prng.js';

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}
