// The calibration statistics kernels (scanF32, histogramF32) on every loaded backend and variant give
// the bits of the JS definitions (scanF32Ref, histogramF32Ref: the observers' loops) on awkward
// sizes, with +-0, subnormals, values on bin edges, huge magnitudes, NaN and infinities in every
// position a SIMD variant treats differently (first, last, inside a block, in the tail); bad
// arguments are refused with the argument named, never a crash.
import { describe, expect, it } from 'vitest';
import { backendVariants, loadedBackends, rng } from './backends.js';
import { expectKernelArgument } from './kernel-errors.js';
import { histogramF32Ref, scanF32Ref } from '../src/backends/js-f32.js';
import type { KernelVariant } from '../src/backends/types.js';

const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 4099];
const SPECIAL = [0, -0, 1e-45, -1e-45, 1.1754942e-38, -1.1754942e-38, 3.4028235e38, -3.4028235e38, 1, -1, 0.5, -0.5];

/** Awkward float32 data: mostly random across magnitudes, with the special values sprinkled in. */
function awkward(r: () => number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.15) x[i] = SPECIAL[Math.floor(r() * SPECIAL.length)]!;
    else if (u < 0.3)
      x[i] = (r() < 0.5 ? -1 : 1) * 2 ** Math.floor(r() * 260 - 140); // powers of two: bin edges
    else x[i] = (r() * 2 - 1) * 2 ** Math.floor(r() * 40 - 20);
  }
  return x;
}

/** Where a NaN or infinity is put: first, last, inside the first SIMD block, in the tail, and so on. */
function positions(n: number): number[] {
  return [...new Set([0, n - 1, Math.min(5, n - 1), Math.min(13, n - 1), Math.max(0, n - 3), Math.floor(n / 2)])];
}

function same(a: Float64Array, b: Float64Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) expect.fail(`${what}: [${i}] = ${a[i]} vs reference ${b[i]}`);
  }
}

// js:ref is in backendVariants too: it checks the js backend's validation path runs the definition.
describe('scanF32 on every backend and variant equals the JS definition bit for bit', () => {
  for (const { label, backend, variant } of backendVariants) {
    it(`${label}: sizes 1..4099, +-0, subnormals, huge values, NaN and infinities anywhere`, () => {
      const r = rng(100);
      const out = new Float64Array(4),
        ref = new Float64Array(4);
      const check = (x: Float32Array, what: string) => {
        out.fill(7);
        backend.scanF32(x, out, variant);
        scanF32Ref(x, ref);
        same(out, ref, `${label} ${what}`);
      };
      for (const n of SIZES) {
        const base = awkward(r, n);
        check(base, `n=${n}`);
        for (const bad of [Number.NaN, Infinity, -Infinity]) {
          for (const p of positions(n)) {
            const x = base.slice();
            x[p] = bad;
            check(x, `n=${n} ${bad} at ${p}`);
            // A second non-finite value later: the first index is reported.
            if (p + 1 < n) {
              x[n - 1] = Number.NaN;
              check(x, `n=${n} ${bad} at ${p} and NaN at ${n - 1}`);
            }
          }
        }
        // An extreme only in the NaN's lane, before it (4-, 8- and 16-wide accumulators): an
        // accumulator the NaN replaced would lose it.
        for (const p of [...positions(n), 16, 17, 24, 31, 32, 40].filter((q) => q < n)) {
          for (const d of [4, 8, 16, 32].filter((q) => q <= p)) {
            for (const sign of [-1, 1]) {
              const x = Float32Array.from({ length: n }, () => r() - 0.5);
              x[p - d] = sign * 1e30;
              x[p] = Number.NaN;
              check(x, `n=${n} extreme at ${p - d} before NaN at ${p}`);
            }
          }
        }
        // All NaN (min/max stay infinite), all -0, -0 then 0, all negative, only one zero.
        check(new Float32Array(n).fill(Number.NaN), `n=${n} all NaN`);
        check(new Float32Array(n).fill(-0), `n=${n} all -0`);
        const z = new Float32Array(n).fill(0);
        z[0] = -0;
        check(z, `n=${n} -0 first`);
        check(
          Float32Array.from(base, (v) => -Math.abs(v) - 1),
          `n=${n} negative`,
        );
        check(
          Float32Array.from(base, (v) => Math.abs(v) + 1),
          `n=${n} positive`,
        );
      }
      check(new Float32Array(0), 'empty');
      // A subarray at an odd offset (unaligned loads).
      const big = awkward(r, 4099);
      check(big.subarray(3, 3 + 1000), 'unaligned subarray');
    });
  }
});

describe('scanF32 counts zeros past the per-lane chunk of the SIMD variants (2^24 elements)', () => {
  const n = 2 ** 24 + 37;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i += 3) x[i] = (i % 7) - 3; // zeros, +-0 mixed with small integers
  x[n - 1] = -0;
  const ref = new Float64Array(4);
  scanF32Ref(x, ref);
  for (const { label, backend, variant } of backendVariants.filter((c) => c.backend.name !== 'js')) {
    it(label, () => {
      const out = new Float64Array(4);
      backend.scanF32(x, out, variant);
      same(out, ref, label);
    });
  }
});

/** The histogram parameters an AdaptiveHistogram would use for x: inv = 2^-e and zero. */
function gridFor(x: Float32Array, bins: number, e0: number): { inv: number; zero: number } {
  let lo = 0,
    hi = 0;
  for (const v of x) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  let e = e0;
  while (Math.floor(hi * 2 ** -e) - Math.min(Math.floor(lo * 2 ** -e), 0) + 1 > bins) e++;
  const inv = 2 ** -e;
  return { inv, zero: -Math.min(Math.floor(lo * inv), 0) };
}

describe('histogramF32 on every backend and variant equals the JS definition bit for bit', () => {
  for (const { label, backend, variant } of backendVariants) {
    it(`${label}: bins 16 and 2048, several exponents, random and edge values`, () => {
      const r = rng(200);
      for (const bins of [16, 2048]) {
        for (const n of SIZES) {
          for (const scale of [2 ** -140, 2 ** -10, 1, 2 ** 10, 2 ** 100]) {
            const x = Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
            // Exact bin edges and their neighbours.
            for (let i = 0; i < n; i += 3) x[i] = Math.fround((Math.round((x[i]! / scale) * 8) / 8) * scale);
            if (n > 2) (x[1] = -0), (x[2] = 0);
            for (const e0 of [-160, -20, 0]) {
              const { inv, zero } = gridFor(x, bins, e0);
              const counts = new Float64Array(bins).fill(3),
                ref = new Float64Array(bins).fill(3);
              backend.histogramF32(x, inv, zero, counts, variant);
              histogramF32Ref(x, inv, zero, ref);
              same(counts, ref, `${label} bins=${bins} n=${n} scale=${scale} e0=${e0}`);
            }
          }
        }
      }
    });

    it(`${label}: values outside the grid clamp, NaN is skipped, infinities land in the end bins`, () => {
      const r = rng(300);
      for (const n of SIZES) {
        const x = awkward(r, n);
        for (const p of positions(n)) if (r() < 0.5) x[p] = [Number.NaN, Infinity, -Infinity][Math.floor(r() * 3)]!;
        for (const [bins, inv, zero] of [
          [16, 1, 8],
          [16, 2 ** 20, 0], // everything negative clamps to bin 0
          [2048, 2 ** -3, 5000], // zero past the end: clamps to the last bin
          [2048, 2 ** 150, 1024],
          [1, 1, 0],
          [3, 2 ** -1074, -5], // the smallest positive inv
        ] as const) {
          const counts = new Float64Array(bins),
            ref = new Float64Array(bins);
          backend.histogramF32(x, inv, zero, counts, variant);
          histogramF32Ref(x, inv, zero, ref);
          same(counts, ref, `${label} n=${n} bins=${bins} inv=${inv} zero=${zero}`);
          let nan = 0;
          for (const v of x) if (Number.isNaN(v)) nan++;
          expect(counts.reduce((a, b) => a + b, 0)).toBe(n - nan);
        }
      }
    });
  }
});

describe('histogramF32 counts zeros apart (SIMD variants) with the bits of one increment each', () => {
  for (const { label, backend, variant } of backendVariants) {
    it(`${label}: ~50% and 90% +-0, runs of zeros and of equal values, zero's bin clamped, odd starting counts`, () => {
      const r = rng(400);
      for (const n of [...SIZES, 8191]) {
        const data: [string, Float32Array][] = [];
        for (const p of [0.5, 0.9])
          data.push([`${p * 100}% zeros`, Float32Array.from({ length: n }, () => (r() < p ? (r() < 0.5 ? 0 : -0) : r() * 4 - 1))]);
        // Runs of 1..40 zeros, of one repeated value, and of random values; some NaN in between.
        const runs = new Float32Array(n);
        for (let i = 0; i < n; ) {
          const len = 1 + Math.floor(r() * 40),
            kind = r(),
            v = Math.fround(r() * 2 - 0.5);
          for (let j = i; j < Math.min(n, i + len); j++) runs[j] = kind < 0.4 ? 0 : kind < 0.7 ? v : kind < 0.72 ? Number.NaN : r() * 2 - 1;
          i += len;
        }
        data.push(['runs', runs], ['all -0', new Float32Array(n).fill(-0)]);
        for (const [what, x] of data) {
          for (const [bins, inv, zero] of [
            [16, 4, 4],
            [2048, 256, 1024],
            [64, 8, -3], // zero's bin clamps to 0, with the negatives
            [64, 8, 100], // zero's bin clamps to the last one
            [1, 1, 0],
          ] as const) {
            const zbin = Math.min(Math.max(zero, 0), bins - 1);
            // Starting counts: integers, -0 (stays -0 when nothing lands there), and in the zero bin a
            // fraction, 2^53 and NaN (where adding the zeros at once would not give the same bits).
            for (const start of [3, -0, 0.5, 2 ** 53, Number.NaN]) {
              const counts = new Float64Array(bins).fill(3),
                ref = new Float64Array(bins).fill(3);
              counts[zbin] = ref[zbin] = start;
              if (start === 0) (counts[bins - 1] = -0), (ref[bins - 1] = -0);
              backend.histogramF32(x, inv, zero, counts, variant);
              histogramF32Ref(x, inv, zero, ref);
              same(counts, ref, `${label} ${what} n=${n} bins=${bins} zero=${zero} start=${start}`);
            }
          }
        }
      }
    });
  }
});

describe('scanF32 and histogramF32 refuse bad arguments on every backend', () => {
  for (const b of loadedBackends) {
    it(`${b.name}: sizes, types, values, overlap`, () => {
      const x = new Float32Array(10);
      const bad = expectKernelArgument;
      bad(() => b.scanF32(x, new Float64Array(3)), /scan_f32: out must have 4 entries/);
      bad(() => b.scanF32(x, new Float64Array(5)), /scan_f32: out must have 4 entries/);
      bad(() => b.scanF32(x, new Float32Array(4) as unknown as Float64Array), /scan_f32: out must be a Float64Array/);
      bad(() => b.scanF32(new Float64Array(4) as unknown as Float32Array, new Float64Array(4)), /scan_f32: x must be a Float32Array/);
      const buf = new ArrayBuffer(64);
      bad(() => b.scanF32(new Float32Array(buf, 0, 16), new Float64Array(buf, 32, 4)), /scan_f32: out overlaps x/);
      bad(() => b.histogramF32(x, 1, 0, new Float64Array(0)), /histogram_f32: counts must have 1 to 2\^20 entries/);
      bad(() => b.histogramF32(x, 1, 0, new Float64Array(2 ** 20 + 1)), /histogram_f32: counts must have 1 to 2\^20 entries/);
      for (const inv of [0, -1, Infinity, Number.NaN])
        bad(() => b.histogramF32(x, inv, 0, new Float64Array(16)), /histogram_f32: inv must be a positive finite number/);
      for (const zero of [0.5, Number.NaN, 2 ** 32, -Infinity])
        bad(() => b.histogramF32(x, 1, zero, new Float64Array(16)), /histogram_f32: zero must be an integer/);
      bad(() => b.histogramF32(x, '1' as unknown as number, 0, new Float64Array(16)), /histogram_f32: inv must be a number/);
      bad(() => b.histogramF32(x, 1, 0, new Float32Array(16) as unknown as Float64Array), /histogram_f32: counts must be a Float64Array/);
      bad(() => b.histogramF32(new Float32Array(buf, 0, 16), 1, 0, new Float64Array(buf, 0, 8)), /histogram_f32: counts overlaps x/);
      const other: KernelVariant = b.name === 'wasm' ? 'avx2' : b.name === 'js' ? 'wasmsimd' : 'wasmsimd';
      bad(() => b.scanF32(x, new Float64Array(4), other), /variant/);
      bad(() => b.histogramF32(x, 1, 0, new Float64Array(16), other), /variant/);
      // Nothing was written by a refused call.
      const counts = new Float64Array(16).fill(5);
      expect(() => b.histogramF32(x, 0, 0, counts)).toThrow();
      expect([...counts]).toEqual(new Array(16).fill(5));
    });
  }
});
