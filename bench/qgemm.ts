// qgemm throughput per backend (single-threaded), next to onnxruntime-node's QLinearMatMul
// (u8 x s8) on the same shapes in the same process. Prints a table, then JSON.
//   npm run bench            # 256^3 and 1024^3
//   npm run bench -- --json  # JSON only
import * as ort from 'onnxruntime-node';
import { createDefaultRegistry } from '../src/backends/registry.js';
import { makeRequant, floatMultiplier } from '../src/quant/requant.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';
import { singleNodeModel } from './onnx-single-node.js';

const jsonOnly = process.argv.includes('--json');
const shapes = [
  [256, 256, 256],
  [1024, 1024, 1024],
] as const;

function timeIt(fn: () => void, minMs = 400, minRuns = 3): number {
  fn(); // warm-up
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    if (times.length >= 200) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]; // median, ms
}

interface Row {
  shape: string;
  impl: string;
  ms: number;
  gmacs: number;
}
const rows: Row[] = [];
const registry = createDefaultRegistry();
const backends = registry
  .status()
  .filter((s) => s.loaded)
  .map((s) => registry.get(s.name));

for (const [m, n, k] of shapes) {
  const macs = m * n * k;
  const a = new Uint8Array(m * k).map(() => (Math.random() * 256) | 0);
  const b = new Int8Array(k * n).map(() => ((Math.random() * 255) | 0) - 127);
  const sa = 0.02,
    sb = 0.005,
    sy = 0.5,
    za = 128,
    zy = 128;
  const rq = makeRequant('fixed-point', [floatMultiplier(sa, sb, sy)], { zeroPoint: zy, signed: false });
  const y = new Uint8Array(m * n);
  const shape = `${m}x${n}x${k}`;
  const impls: [string, Backend, KernelVariant][] = [];
  for (const be of backends) {
    if (be.name === 'js' && macs > 2 ** 25) continue; // the reference would take minutes at 1024^3
    // every SIMD variant of the backend (the one 'auto' picks is marked), the scalar ref on small shapes
    for (const v of be.variants) {
      if (v === 'ref' && be.name !== 'js' && macs > 2 ** 25) continue;
      impls.push([`${be.name}:${v}${v === be.dispatch.qgemm ? ' (auto)' : ''}`, be, v]);
    }
  }
  for (const [label, be, variant] of impls) {
    const ms = timeIt(() => be.qgemm({ m, n, k, a, aZeroPoint: za, b, bZeroPoint: Int32Array.of(0), requant: rq, y, variant }));
    rows.push({ shape, impl: label, ms, gmacs: macs / ms / 1e6 });
  }
  // onnxruntime-node, one thread, the same op on the same data.
  const model = singleNodeModel(
    'QLinearMatMul',
    [{ name: 'A', dtype: 'uint8', dims: [m, k] }],
    [
      { name: 'sa', dtype: 'float', dims: [], data: Float32Array.of(sa) },
      { name: 'za', dtype: 'uint8', dims: [], data: Uint8Array.of(za) },
      { name: 'B', dtype: 'int8', dims: [k, n], data: b },
      { name: 'sb', dtype: 'float', dims: [], data: Float32Array.of(sb) },
      { name: 'zb', dtype: 'int8', dims: [], data: Int8Array.of(0) },
      { name: 'sy', dtype: 'float', dims: [], data: Float32Array.of(sy) },
      { name: 'zy', dtype: 'uint8', dims: [], data: Uint8Array.of(zy) },
    ],
    ['A', 'sa', 'za', 'B', 'sb', 'zb', 'sy', 'zy'],
    [{ name: 'Y', dtype: 'uint8', dims: [m, n] }],
    {},
    13,
  );
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const feeds = { A: new ort.Tensor('uint8', a, [m, k]) };
  // ORT is async; time many runs back to back and take the median.
  await sess.run(feeds);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < 400) {
    const t0 = performance.now();
    await sess.run(feeds);
    times.push(performance.now() - t0);
    if (times.length >= 200) break;
  }
  times.sort((x, z) => x - z);
  const ortMs = times[Math.floor(times.length / 2)];
  rows.push({ shape, impl: 'onnxruntime-node QLinearMatMul', ms: ortMs, gmacs: macs / ortMs / 1e6 });
}

const result = rows.map((r) => {
  const peer = rows.find((p) => p.shape === r.shape && p.impl.startsWith('onnxruntime'))!;
  return { ...r, ms: +r.ms.toFixed(3), gmacs: +r.gmacs.toFixed(2), vsOrt: +(r.ms / peer.ms).toFixed(2) };
});
if (!jsonOnly) {
  console.log(
    'qgemm, single thread, u8 x s8 -> u8, fixed-point requantization; our times include packing A and B on every call,\n' +
      'onnxruntime packs its constant B once at session creation (ratio = our time / onnxruntime time)',
  );
  console.log(`${'shape'.padEnd(14)}${'implementation'.padEnd(34)}${'ms'.padStart(10)}${'GMAC/s'.padStart(10)}${'vs ORT'.padStart(8)}`);
  for (const r of result)
    console.log(
      `${r.shape.padEnd(14)}${r.impl.padEnd(34)}${r.ms.toFixed(3).padStart(10)}${r.gmacs.toFixed(2).padStart(10)}${r.vsOrt.toFixed(2).padStart(8)}`,
    );
  console.log();
}
console.log(JSON.stringify({ bench: 'qgemm', threads: 1, results: result }, null, jsonOnly ? 2 : 0));
