// The observers hand long Float32Arrays to the backend's scanF32 / histogramF32: every observer kind
// ends in the same state (and range) as with its JS loops over the same batches, on every loaded
// backend, including the sign of a zero extreme, NaN handling, the non-finite refusal and
// firstNonFinite's index.
import { afterEach, describe, expect, it } from 'vitest';
import { loadedBackends, rng } from './backends.js';
import { createObserver, OBSERVER_KINDS, type Observer } from '../src/quant/observers/index.js';
import { scanLong, setStatsKernels, STATS_KERNEL_MIN_LENGTH, statsKernels, type StatsKernels } from '../src/backends/stats-kernels.js';
import { firstNonFinite } from '../src/util/finite.js';
import { OnnxPtqError } from '../src/errors.js';

afterEach(() => {
  setStatsKernels(undefined);
});

/** Runs f with the observers on `k` (null: the JS loops). */
function using<T>(k: StatsKernels | null, f: () => T): T {
  const prev = setStatsKernels(k);
  try {
    return f();
  } finally {
    setStatsKernels(prev);
  }
}

function batches(seed: number): Float32Array[] {
  const r = rng(seed);
  const out: Float32Array[] = [];
  for (const n of [1, 17, 255, 256, 257, 1000, 4099, 30000]) {
    const x = new Float32Array(n);
    const scale = 2 ** Math.floor(r() * 20 - 10);
    for (let i = 0; i < n; i++) {
      const u = r();
      x[i] = u < 0.2 ? 0 : u < 0.25 ? -0 : u < 0.3 ? 2 ** Math.floor(r() * 12 - 6) : (r() * 2 - 1.2) * scale;
    }
    out.push(x);
    out.push(Float32Array.from(x, (v) => (v < 0 ? 0 : v))); // ReLU-like: min exactly 0
  }
  out.push(new Float32Array(5000).fill(-0)); // only -0
  return out;
}

const kernelBackends = loadedBackends.filter((b) => b.name !== 'js');

describe('observers on the kernels end in the state of the JS loops', () => {
  for (const b of kernelBackends) {
    for (const kind of OBSERVER_KINDS) {
      it(`${b.name}: ${kind}`, () => {
        const data = batches(kind.length * 7 + 1);
        // Both orders: the histogram regrids as the range grows, the moving average weighs by order.
        for (const order of [data, [...data].reverse()]) {
          // scanned: the caller's scan handed over (calibration's one scan per tensor, scanLong).
          const run = (k: StatsKernels | null, scanned = false): Observer =>
            using(k, () => {
              const o = createObserver(kind, kind === 'kl' ? { bins: 4096 } : kind === 'mse' ? { bins: 16 } : {});
              for (const x of order) o.observe(x, scanned ? scanLong(x) : undefined);
              return o;
            });
          const js = run(null);
          for (const native of [run(b), run(b, true)]) {
            expect(Object.is(native.observedMin, js.observedMin) && Object.is(native.observedMax, js.observedMax)).toBe(true);
            if (kind === 'moving-average') {
              const t = { bits: 8, signed: true, symmetric: false };
              const [rn, rj] = [native.range(t), js.range(t)];
              expect(Object.is(rn.min, rj.min) && Object.is(rn.max, rj.max), `${JSON.stringify(rn)} vs ${JSON.stringify(rj)}`).toBe(true);
            } else {
              expect(native.state()).toStrictEqual(js.state());
            }
          }
        }
      });
    }

    it(`${b.name}: moving-average keeps the sign of the first zero of a batch whose extreme is 0`, () => {
      for (const first of [0, -0]) {
        const x = new Float32Array(STATS_KERNEL_MIN_LENGTH * 2);
        for (let i = 0; i < x.length; i++) x[i] = i % 3 === 0 ? 0 : i % 3 === 1 ? -0 : 1 + i;
        x[5] = first; // the first zero of the batch is x[0]: set it too
        x[0] = first;
        const neg = Float32Array.from(x, (v) => (v === 0 ? v : -v));
        for (const batch of [x, neg]) {
          const [js, kr] = [null, b].map((k) =>
            using(k, () => {
              const o = createObserver('moving-average');
              o.observe(batch);
              return o.range({ bits: 8, signed: false, symmetric: false });
            }),
          );
          expect(Object.is(kr!.min, js!.min) && Object.is(kr!.max, js!.max), `first ${Object.is(first, -0) ? '-0' : '0'}`).toBe(true);
        }
      }
    });

    it(`${b.name}: minmax ignores NaN and keeps infinities as the JS loop does`, () => {
      const x = new Float32Array(1000).map((_, i) => Math.sin(i));
      x[3] = Number.NaN;
      x[700] = Number.NaN;
      const y = x.slice();
      y[999] = -Infinity;
      for (const batch of [[x], [x, y], [new Float32Array(600).fill(Number.NaN)]]) {
        const [js, kr] = [null, b].map((k) =>
          using(k, () => {
            const o = createObserver('minmax');
            for (const v of batch) o.observe(v);
            return o.state();
          }),
        );
        expect(kr).toStrictEqual(js);
      }
    });

    it(`${b.name}: histogram observers refuse NaN and infinities with the same error`, () => {
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        for (const at of [0, 300, 999]) {
          const x = new Float32Array(1000).map((_, i) => Math.cos(i));
          x[at] = bad;
          const errs = [null, b].map((k) =>
            using(k, () => {
              const o = createObserver('percentile');
              o.observe(new Float32Array(400).fill(0.5));
              try {
                o.observe(x);
              } catch (e) {
                return { e, state: o.state() };
              }
              return { e: undefined, state: o.state() };
            }),
          );
          for (const { e } of errs) {
            expect(e).toBeInstanceOf(OnnxPtqError);
            expect((e as OnnxPtqError).code).toBe('INVALID_DATA');
          }
          expect((errs[1]!.e as Error).message).toBe((errs[0]!.e as Error).message);
          // The refused batch left no trace in either.
          expect(errs[1]!.state).toStrictEqual(errs[0]!.state);
        }
      }
    });

    it(`${b.name}: firstNonFinite gives the JS loop's index`, () => {
      for (const n of [STATS_KERNEL_MIN_LENGTH - 1, STATS_KERNEL_MIN_LENGTH, 1000, 4099]) {
        for (const at of [-1, 0, 7, 100, n - 1]) {
          for (const bad of [Number.NaN, Infinity, -Infinity]) {
            const x = new Float32Array(n).map((_, i) => i - n / 2);
            if (at >= 0) x[at] = bad;
            if (at >= 0 && at + 3 < n) x[at + 3] = Number.NaN;
            const [js, kr] = [null, b].map((k) => using(k, () => firstNonFinite(x)));
            expect(kr).toBe(js);
            expect(js).toBe(at);
          }
        }
      }
      // Float64Array and other inputs never reach the kernel.
      expect(using(b, () => firstNonFinite(new Float64Array(1000).fill(Infinity)))).toBe(0);
      expect(using(b, () => firstNonFinite([Number.NaN]))).toBe(-1);
    });
  }

  it('the registry picks a backend with kernels when one loads (the js backend keeps the loops)', () => {
    setStatsKernels(undefined);
    const k = statsKernels();
    if (process.env.ONNX_PTQ_BACKEND === 'js' || kernelBackends.length === 0) expect(k).toBeNull();
    else expect(k).not.toBeNull();
  });
});
