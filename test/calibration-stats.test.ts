// Calibration statistics merge exactly: shards (n = 1, 2, 3, uneven) and worker threads give the
// bytes of one single-threaded run; histograms and exact sums are order-free; bad statistics are
// refused with a code and the file named.
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { loadModel, modelToBytes } from '../src/onnx/io.js';
import { openDataset } from '../src/data/dataset.js';
import { calibrate, quantize } from '../src/ptq/quantize.js';
import { mergeStats, type CalibrationStats } from '../src/ptq/stats.js';
import { AdaptiveHistogram, createObserver, observerFromState } from '../src/quant/observers/index.js';
import { ExactSum } from '../src/util/exact-sum.js';
import { setStatsKernels } from '../src/backends/stats-kernels.js';
import { OnnxPtqError } from '../src/errors.js';
import type { CollectConfig, Feeds } from '../src/ptq/calibrate.js';
import { CalibrationWorkers } from '../src/ptq/calibrate-workers.js';
import { fixture } from './fixtures.js';
import { loadedBackends, rng } from './backends.js';

const modelPath = fixture('models', 'mnist-8', 'model.onnx');
const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');

function mnistSamples(n: number): Feeds[] {
  const m = loadModel(modelPath!);
  const input = m.graph.inputs[0]!;
  return [...openDataset(images!, { inputName: input.name, inputDims: input.shape, limit: n }).samples()];
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string, text?: RegExp): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OnnxPtqError);
  expect((err as OnnxPtqError).code).toBe(code);
  if (text) expect((err as Error).message).toMatch(text);
}

describe('order-free statistics', () => {
  it('a histogram is the same whatever the batching and order, and merging equals one pass', () => {
    const r = rng(3);
    const parts = [0, 1, 2, 3].map((k) => Float32Array.from({ length: 500 + 37 * k }, () => (r() - 0.3) * 10 ** k));
    const one = new AdaptiveHistogram(64);
    for (const p of parts) one.add(p);
    const rev = new AdaptiveHistogram(64);
    for (const p of [...parts].reverse()) for (let i = 0; i < p.length; i += 50) rev.add(p.subarray(i, i + 50));
    expect(Array.from(rev.counts)).toEqual(Array.from(one.counts));
    expect([rev.exponent, rev.zero, rev.min, rev.max, rev.total]).toEqual([one.exponent, one.zero, one.min, one.max, one.total]);
    const a = new AdaptiveHistogram(64),
      b = new AdaptiveHistogram(64);
    a.add(parts[3]!);
    a.add(parts[0]!);
    b.add(parts[1]!);
    b.add(parts[2]!);
    b.merge(a);
    expect(Array.from(b.counts)).toEqual(Array.from(one.counts));
    expect(b.exponent).toBe(one.exponent);
    // The grid is the least power-of-two width that holds the range: at least half the bins are used.
    const used = Math.floor(one.max / one.width) - Math.floor(one.min / one.width) + 1;
    expect(used).toBeGreaterThan(32);
    expect(used).toBeLessThanOrEqual(64);
  });

  it('observer states round-trip; moving-average refuses to merge', async () => {
    const o = createObserver('kl');
    o.observe(Float32Array.from([0, 1.5, -2, 3, 0]));
    const back = observerFromState('kl', {}, JSON.parse(JSON.stringify(o.state())), 'x');
    expect(back.state()).toEqual(o.state());
    expect(back.range({ bits: 8, signed: false, symmetric: false })).toEqual(o.range({ bits: 8, signed: false, symmetric: false }));
    const ma = createObserver('moving-average');
    expect(ma.mergeable).toBe(false);
    await expectCode(() => ma.merge(createObserver('moving-average')), 'STATS_MISMATCH', /order/);
  });

  it('exact sums do not depend on the order of the terms', () => {
    const terms = [1e16, 1, -1e16, 0.1, 3e-20, -7.25, 1 / 3];
    const a = new ExactSum(),
      b = new ExactSum();
    for (const t of terms) a.add(t);
    for (const t of [...terms].reverse()) b.add(t);
    expect(String(a)).toBe(String(b));
    // float64 running sums differ by order here; the exact one is the true value rounded once.
    expect(a.toNumber()).toBeCloseTo(1 + 0.1 - 7.25 + 1 / 3, 12);
    const c = ExactSum.parse(String(a))!;
    expect(String(c)).toBe(String(a));
  });
});

describe.skipIf(!(modelPath && images))('sharded and parallel calibration (mnist-8)', () => {
  const N = 29; // uneven across 2 and 3 shards
  const opts = { observer: 'mse' as const, observerOptions: { bins: 512 } };

  it('merged shards (n = 1, 2, 3) and workers = 2 give the bytes of one in-thread run', async () => {
    const samples = mnistSamples(N);
    const ref = modelToBytes((await quantize(modelPath!, { ...opts, calibration: samples, workers: 1 })).model);
    for (const n of [1, 2, 3]) {
      const shards: CalibrationStats[] = [];
      for (let k = 0; k < n; k++)
        shards.push(await calibrate(modelPath!, { ...opts, calibration: samples, shard: { index: k, count: n }, workers: 1 }));
      expect(shards.reduce((a, s) => a + s.samples, 0)).toBe(N);
      // Files are plain JSON: what is merged is what was written.
      const back = shards.map((s) => JSON.parse(JSON.stringify(s)) as CalibrationStats).reverse();
      const q = await quantize(modelPath!, { ...opts, stats: back });
      expect(Buffer.from(modelToBytes(q.model)).equals(Buffer.from(ref))).toBe(true);
      expect(q.report.calibration.samples).toBe(N);
    }
    // This thread and a worker, samples to whichever is free; then every sample through the workers.
    const par = await quantize(modelPath!, { ...opts, calibration: samples, workers: 2 });
    expect(Buffer.from(modelToBytes(par.model)).equals(Buffer.from(ref))).toBe(true);
    expect(par.report.calibration.workers).toBe(2);
    process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY = '1';
    try {
      const only = await quantize(modelPath!, { ...opts, calibration: samples, workers: 2 });
      expect(Buffer.from(modelToBytes(only.model)).equals(Buffer.from(ref))).toBe(true);
    } finally {
      delete process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY;
    }
    // The default: this thread first, the rest handed to workers once the run proves long (here at once).
    process.env.ONNX_PTQ_TEST_AUTO_WORKERS_MS = '0';
    try {
      const auto = await quantize(modelPath!, { ...opts, calibration: samples });
      expect(Buffer.from(modelToBytes(auto.model)).equals(Buffer.from(ref))).toBe(true);
      expect(auto.report.calibration.workers).toBe(Math.min(availableParallelism(), N));
    } finally {
      delete process.env.ONNX_PTQ_TEST_AUTO_WORKERS_MS;
    }
  }, 90_000);

  it('takeBack: samples no worker has started come back to the calling thread, once; the worker skips them', async () => {
    const samples = mnistSamples(3);
    const cfg: CollectConfig = { tensors: [], observer: 'minmax', observerOptions: {}, probes: [], allowNonFinite: false };
    let done = 0;
    const g = new CalibrationWorkers(1, 1, (id) => `worker ${id}`);
    g.load(modelToBytes(loadModel(modelPath!)), cfg, () => done++);
    try {
      // Sent while the worker is still starting up: it has not begun either, so both come back.
      const w = (g as unknown as { ws: Parameters<CalibrationWorkers['send']>[0][] }).ws[0]!;
      g.send(w, samples[0]!, 0);
      g.send(w, samples[1]!, 1);
      expect(g.takeBack().map((s) => s.n)).toEqual([0, 1]);
      expect(g.takeBack()).toEqual([]); // a second call finds them taken
      g.warm(samples[0]!);
      // Ready once it has skipped both (messages run in order) and warmed up; then one sample it keeps.
      const ready = await g.waitFree();
      expect(ready).toBe(w);
      g.send(w, samples[2]!, 2);
      while (done < 1) await new Promise((r) => setTimeout(r, 5));
      expect(g.takeBack()).toEqual([]);
      const [stats] = await g.finish();
      expect(stats!.samples).toBe(1);
      expect(done).toBe(1);
    } finally {
      g.terminate();
    }
  }, 30_000);

  it('statistics from scans and bias probes recorded into the native replay equal those of the JS loops', async () => {
    // On the native backend calibration's scans and Conv probe sums run as TapKernels inside the
    // replay; with the stats kernels off they are JS loops on each handed-over value. A replay that
    // left them out (or wrote another run's buffers) gives another sample's minima, maxima and sums.
    const samples = mnistSamples(12);
    const run = () => calibrate(modelPath!, { observer: 'minmax', calibration: samples, workers: 1 });
    const onKernels = await run();
    const withKernels = async (k: Parameters<typeof setStatsKernels>[0]) => {
      const prev = setStatsKernels(k);
      try {
        return await run();
      } finally {
        setStatsKernels(prev);
      }
    };
    const onLoops = await withKernels(null);
    expect(Object.keys(onKernels.biasProbes).length).toBeGreaterThan(0);
    expect(JSON.stringify(onKernels)).toBe(JSON.stringify(onLoops));
    // Stats kernels of another backend than the session's (ONNX_PTQ_BACKEND=wasm while the float
    // session resolves 'auto' to native): a native replay cannot record their calls, so they must not
    // run as tap kernels (they did, and replays left the results of the recording run in place).
    const wasm = loadedBackends.find((b) => b.name === 'wasm');
    if (wasm) expect(JSON.stringify(await withKernels(wasm))).toBe(JSON.stringify(onLoops));
  });

  it('refuses statistics of another model, other options, bins, shards; names the problem', async () => {
    const samples = mnistSamples(6);
    const s0 = await calibrate(modelPath!, { ...opts, calibration: samples, shard: { index: 0, count: 2 }, workers: 1 });
    const s1 = await calibrate(modelPath!, { ...opts, calibration: samples, shard: { index: 1, count: 2 }, workers: 1 });
    await expectCode(
      quantize(modelPath!, { ...opts, stats: { ...s0, model: { sha256: 'ab'.repeat(32) } } }),
      'STATS_MISMATCH',
      /another model/,
    );
    await expectCode(quantize(modelPath!, { ...opts, weightBits: 4, stats: [s0, s1] }), 'STATS_MISMATCH', /weightBits/);
    await expectCode(
      quantize(modelPath!, { ...opts, observerOptions: { bins: 1024 }, stats: [s0, s1] }),
      'STATS_MISMATCH',
      /bins|histogram/,
    );
    // mse and percentile keep the same histogram: the clip is chosen at quantize time.
    await quantize(modelPath!, { observer: 'percentile', observerOptions: { bins: 512 }, stats: [s0, s1] });
    await expectCode(quantize(modelPath!, { ...opts, stats: [s0] }), 'STATS_MISMATCH', /shard 1\/2 missing/);
    await expectCode(quantize(modelPath!, { ...opts, stats: [s0, s0, s1] }), 'STATS_MISMATCH', /given twice/);
    // Shards of different sample lists (other data): their list lengths differ.
    const longer = await calibrate(modelPath!, { ...opts, calibration: mnistSamples(8), shard: { index: 1, count: 2 }, workers: 1 });
    expect([s0.listLength, longer.listLength]).toEqual([6, 8]);
    await expectCode(quantize(modelPath!, { ...opts, stats: [s0, longer] }), 'STATS_MISMATCH', /list of 8 samples.*of 6/);
    const s512 = await calibrate(modelPath!, {
      observer: 'mse',
      observerOptions: { bins: 256 },
      calibration: samples,
      shard: { index: 1, count: 2 },
      workers: 1,
    });
    await expectCode(() => mergeStats([s0, s512], ['a.json', 'b.json']), 'STATS_MISMATCH', /b\.json.*a\.json.*histogram:256|b\.json/);
    await expectCode(
      calibrate(modelPath!, { ...opts, calibration: samples, shard: { index: 2, count: 2 } }),
      'INVALID_OPTION',
      /2\/2 is out of range/,
    );
    await expectCode(
      calibrate(modelPath!, { observer: 'moving-average', calibration: samples, shard: { index: 0, count: 2 } }),
      'STATS_MISMATCH',
      /moving-average/,
    );
    await expectCode(quantize(modelPath!, { observer: 'moving-average', calibration: samples, workers: 2 }), 'STATS_MISMATCH', /order/);
    await expectCode(() => mergeStats([{ ...s0, format: 'x' } as unknown as CalibrationStats], ['f.json']), 'INVALID_STATS', /f\.json/);
    // A damaged histogram (counts that do not add up), and one with an absurd bin count: refused, tensor named.
    const damaged = JSON.parse(JSON.stringify(s0)) as CalibrationStats;
    const [t0name, st] = Object.entries(damaged.tensors)[0]!;
    if (st.kind === 'histogram') st.counts[0]! += 1;
    await expectCode(
      () => mergeStats([damaged, s1], ['d.json', 'e.json']),
      'INVALID_STATS',
      new RegExp(`d\\.json: tensor '${t0name}'.*add up`),
    );
    if (st.kind === 'histogram') st.bins = 2 ** 40;
    await expectCode(() => mergeStats([damaged, s1], ['d.json', 'e.json']), 'INVALID_STATS', /d\.json.*bins/);
  }, 60_000);

  it('bias correction after single-shift needs the data again: stats say so, quantize asks for it, and then matches', async () => {
    const samples = mnistSamples(7);
    const o = { ...opts, passes: ['single-shift'] };
    const ref = modelToBytes((await quantize(modelPath!, { ...o, calibration: samples, workers: 1 })).model);
    const st = await calibrate(modelPath!, { ...o, calibration: samples, workers: 1 });
    expect(st.needsData.join()).toMatch(/single-shift/);
    expect(Object.keys(st.biasProbes)).toEqual([]);
    await expectCode(quantize(modelPath!, { ...o, stats: st }), 'INVALID_DATA', /second pass over the data.*--calib/);
    const q = await quantize(modelPath!, { ...o, stats: st, calibration: samples, workers: 1 });
    expect(Buffer.from(modelToBytes(q.model)).equals(Buffer.from(ref))).toBe(true);
  }, 60_000);

  it('a worker that dies fails the run, naming the worker', async () => {
    // Every sample through the workers: which thread takes a sample otherwise depends on timing.
    process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY = '1';
    try {
      const samples = mnistSamples(8);
      process.env.ONNX_PTQ_TEST_CALIBRATION_WORKER_EXIT_AT = '3';
      try {
        await expectCode(quantize(modelPath!, { calibration: samples, workers: 2 }), 'WORKER_FAILED', /calibration worker \d of 2 exited/);
      } finally {
        delete process.env.ONNX_PTQ_TEST_CALIBRATION_WORKER_EXIT_AT;
      }
      // An error inside a worker keeps its code and names the worker and the sample.
      const bad = mnistSamples(5);
      (bad[4]![Object.keys(bad[4]!)[0]!]!.data as Float32Array)[7] = Number.NaN;
      await expectCode(quantize(modelPath!, { calibration: bad, workers: 2 }), 'INVALID_DATA', /worker \d of 2: .*sample 4/);
    } finally {
      delete process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY;
    }
    // Beside this thread too: the run fails with the sample named, whichever thread saw it.
    const bad = mnistSamples(5);
    (bad[4]![Object.keys(bad[4]!)[0]!]!.data as Float32Array)[7] = Number.NaN;
    await expectCode(quantize(modelPath!, { calibration: bad, workers: 2 }), 'INVALID_DATA', /sample 4/);
  }, 60_000);
});
