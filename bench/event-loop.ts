// Event-loop responsiveness while a session works (issue 11): the longest gap between ticks of a
// 1 ms setInterval while 20 `await session.run()` of super-resolution-10 int8 are in flight, for
// run() on the calling thread (runInWorker: false, the old behaviour) and on the session's worker
// thread (cold: the first run starts the worker; warm: it is up), native and wasm. The idle row is
// the same interval with nothing running: the machine's own noise floor. The peer row is
// onnxruntime-node's `await session.run()` on the same QDQ file (1 intra-op thread). Table, then JSON.
//   npm run bench:event-loop [-- --json]
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { IntegerSession, loadModel, loadTensorProto, quantize, saveModel } from '../src/index.js';

const jsonOnly = process.argv.includes('--json');
const fx = process.env.ONNX_PTQ_FIXTURES ?? '../shared/fixtures';
const sr = `${fx}/models/super-resolution-10/model.onnx`;
const qPath = 'build/bench-models/super-resolution-10-int8.onnx'; // shared with bench:models
const name = loadModel(sr).graph.inputs[0]!.name;
const x = loadTensorProto(`${fx}/models/super-resolution-10/test_data_set_0/input_0.pb`).tensor;
if (!existsSync(qPath)) {
  mkdirSync('build/bench-models', { recursive: true });
  saveModel((await quantize(sr, { calibration: [{ [name]: x }] })).model, qPath);
}
const bytes = new Uint8Array(readFileSync(qPath));
const RUNS = 20;

/** Longest gap between 1 ms ticks while `work` is pending, and how long it took. */
async function gapDuring(work: () => Promise<unknown>): Promise<{ maxGapMs: number; totalMs: number }> {
  let last = performance.now(),
    gap = 0;
  const iv = setInterval(() => {
    const t = performance.now();
    gap = Math.max(gap, t - last);
    last = t;
  }, 1);
  await new Promise((r) => setTimeout(r, 20)); // let the interval start ticking
  last = performance.now();
  const t0 = performance.now();
  await work();
  const totalMs = performance.now() - t0;
  gap = Math.max(gap, performance.now() - last);
  clearInterval(iv);
  return { maxGapMs: +gap.toFixed(1), totalMs: +totalMs.toFixed(0) };
}

const rows: Record<string, unknown>[] = [];
rows.push({ backend: '-', mode: 'idle (no runs, 1 s)', ...(await gapDuring(() => new Promise((r) => setTimeout(r, 1000)))) });
for (const backend of ['native', 'wasm'] as const) {
  const inline = await IntegerSession.create(bytes, { backend, runInWorker: false });
  inline.runSync({ [name]: x }); // plan made; the gap is the runs' own
  rows.push({
    backend,
    mode: 'calling thread (runInWorker: false)',
    ...(await gapDuring(() => Promise.all(Array.from({ length: RUNS }, () => inline.run({ [name]: x }))))),
  });
  const s = await IntegerSession.create(bytes, { backend });
  rows.push({
    backend,
    mode: 'worker, cold (first run starts it)',
    ...(await gapDuring(() => Promise.all(Array.from({ length: RUNS }, () => s.run({ [name]: x }))))),
  });
  rows.push({
    backend,
    mode: 'worker, warm',
    ...(await gapDuring(() => Promise.all(Array.from({ length: RUNS }, () => s.run({ [name]: x }))))),
  });
  await s.release();
}

{
  const peer = await ort.InferenceSession.create(qPath, { intraOpNumThreads: 1 });
  const feed = () => ({ [name]: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) });
  await peer.run(feed());
  rows.push({
    backend: 'ort-node',
    mode: 'onnxruntime-node run(), warm',
    ...(await gapDuring(() => Promise.all(Array.from({ length: RUNS }, () => peer.run(feed()))))),
  });
  await peer.release();
}

if (!jsonOnly) {
  console.log(`longest gap of a 1 ms setInterval while ${RUNS} awaited runs of super-resolution-10 int8 are in flight`);
  console.log(`${'backend'.padEnd(8)} ${'mode'.padEnd(38)} ${'max gap ms'.padStart(10)} ${'total ms'.padStart(9)}`);
  for (const r of rows)
    console.log(
      `${String(r.backend).padEnd(8)} ${String(r.mode).padEnd(38)} ${String(r.maxGapMs).padStart(10)} ${String(r.totalMs).padStart(9)}`,
    );
  console.log();
}
console.log(JSON.stringify({ bench: 'event-loop', runs: RUNS, results: rows }, null, jsonOnly ? 2 : 0));
