// Peak memory (issue 11): the peak RSS of a process that loads our int8 QDQ file and runs it 20
// times, in our IntegerSession (native, wasm) and in onnxruntime-node (1 thread), each in its own
// child process running this same script (so both carry the same loader and library overhead).
// Needs the quantized files of bench:models (build/bench-models/). Table, then JSON.
//   npm run bench:memory [-- --json] [-- --models ppocrv4-rec,paddleocr-cls]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const RUNS = 20;

if (argv[0] === '--child') {
  const [, engine, file, shape] = argv as [string, string, string, string];
  const dims = shape.split('x').map(Number);
  const bytes = new Uint8Array(readFileSync(file));
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 7919) % 255) / 255 - 0.5);
  if (engine === 'ort') {
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds = { [s.inputNames[0]!]: new ort.Tensor('float32', data, dims) };
    for (let i = 0; i < RUNS; i++) await s.run(feeds);
  } else {
    const { IntegerSession, Tensor } = await import('../src/index.js');
    const s = await IntegerSession.create(bytes, { backend: engine as 'native' | 'wasm', runInWorker: false });
    const feeds = { [s.inputNames[0]!]: new Tensor('float32', data, dims) };
    for (let i = 0; i < RUNS; i++) s.runSync(feeds);
  }
  process.stdout.write(JSON.stringify({ maxRssMB: +(process.resourceUsage().maxRSS / 1024).toFixed(1) }));
  process.exit(0);
}

const jsonOnly = argv.includes('--json');
const flag = (k: string) => {
  const i = argv.indexOf(k);
  return i >= 0 ? argv[i + 1] : undefined;
};
const models: [string, string][] = [
  ['mnist-8', '1x1x28x28'],
  ['super-resolution-10', '1x1x224x224'],
  ['paddleocr-cls', '1x3x48x192'],
  ['ppocrv4-rec', '1x3x48x320'],
  ['ppocrv4-det', '1x3x640x640'],
];
const only = flag('--models')?.split(',');
const rows: Record<string, unknown>[] = [];
for (const [name, shape] of models) {
  if (only && !only.includes(name)) continue;
  const file = `build/bench-models/${name}-int8.onnx`;
  if (!existsSync(file)) {
    if (!jsonOnly) console.error(`${name}: ${file} missing (run npm run bench:models first)`);
    continue;
  }
  const row: Record<string, unknown> = { model: name };
  for (const engine of ['native', 'wasm', 'ort']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/memory.ts', '--child', engine, file, shape], {
      encoding: 'utf8',
      env: { ...process.env, ONNX_PTQ_BACKEND: '' },
    });
    const m = /\{.*\}$/.exec(r.stdout.trim());
    row[`${engine}_MB`] = m
      ? JSON.parse(m[0]).maxRssMB
      : `failed: ${(r.stderr || '').split('\n').find((l) => /Error/.test(l)) ?? r.status}`;
  }
  if (typeof row.native_MB === 'number' && typeof row.ort_MB === 'number') row.native_vs_ort = +(row.native_MB / row.ort_MB).toFixed(2);
  rows.push(row);
}
if (!jsonOnly) {
  console.log(`peak RSS (MB) of a process that loads the int8 QDQ file and runs it ${RUNS} times`);
  console.log(`${'model'.padEnd(20)} ${'native'.padStart(8)} ${'wasm'.padStart(8)} ${'ort-node'.padStart(9)} ${'native/ort'.padStart(10)}`);
  for (const r of rows)
    console.log(
      `${String(r.model).padEnd(20)} ${String(r.native_MB).padStart(8)} ${String(r.wasm_MB).padStart(8)} ${String(r.ort_MB).padStart(9)} ${String(r.native_vs_ort ?? '-').padStart(10)}`,
    );
  console.log();
}
console.log(JSON.stringify({ bench: 'memory', runs: RUNS, results: rows }, null, jsonOnly ? 2 : 0));
