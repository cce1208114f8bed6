// Float32 convolution and GEMM per backend (single thread) next to onnxruntime-node running the same
// single-node Conv / Gemm models (intraOpNumThreads 1) in the same process: ms (minimum over runs),
// GMAC/s, our time / theirs, wasm / native. Layers from the models the float engine serves
// (super-resolution-10, mnist-8) and from the kernel issue's shape list.
// Usage: node --import tsx bench/kernels-f32.ts [--json]
import * as ort from 'onnxruntime-node';
import { createDefaultRegistry } from '../src/backends/registry.js';
import type { Conv2dF32Params } from '../src/backends/kernels-f32.js';
import { singleNodeModel } from './onnx-single-node.js';

const json = process.argv.includes('--json');
const registry = createDefaultRegistry();
const backends = registry
  .status()
  .filter((s) => s.loaded && s.name !== 'js')
  .map((s) => registry.get(s.name));
for (const b of backends) b.setThreads(1);

let seed = 1;
function rnd(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    a[i] = (seed / 2 ** 32) * 2 - 1;
  }
  return a;
}

// The machine may be shared: the minimum is the least disturbed figure.
function best(f: () => void, n: number): number {
  f();
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}
async function bestAsync(f: () => Promise<unknown>, n: number): Promise<number> {
  await f();
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

interface Row {
  kind: 'conv' | 'gemm';
  shape: string;
  impl: string;
  ms: number;
  gmacs: number;
  vsOrt: number | null;
  vsNative: number | null;
}
const rows: Row[] = [];

// [name, C, M, H, W, K, pad, stride, group]
const convs: [string, number, number, number, number, number, number, number, number][] = [
  ['superres 5x5 1->64 224x224', 1, 64, 224, 224, 5, 2, 1, 1],
  ['superres 3x3 64->64 224x224', 64, 64, 224, 224, 3, 1, 1, 1],
  ['superres 3x3 64->32 224x224', 64, 32, 224, 224, 3, 1, 1, 1],
  ['superres 3x3 32->9 224x224', 32, 9, 224, 224, 3, 1, 1, 1],
  ['mnist 5x5 1->8 28x28', 1, 8, 28, 28, 5, 2, 1, 1],
  ['mnist 5x5 8->16 14x14', 8, 16, 14, 14, 5, 2, 1, 1],
  ['3x3 s1 56x56 64->64', 64, 64, 56, 56, 3, 1, 1, 1],
  ['3x3 s2 56x56 128->128', 128, 128, 56, 56, 3, 1, 2, 1],
  ['1x1 28x28 256->256', 256, 256, 28, 28, 1, 0, 1, 1],
  ['dw3x3 112x112x32', 32, 32, 112, 112, 3, 1, 1, 32],
  ['dw3x3 14x14x576', 576, 576, 14, 14, 3, 1, 1, 576],
];
for (const [shape, C, M, H, W, K, pad, s, g] of convs) {
  const OH = Math.floor((H + 2 * pad - K) / s) + 1,
    OW = Math.floor((W + 2 * pad - K) / s) + 1;
  const p: Conv2dF32Params = {
    N: 1,
    C,
    H,
    W,
    M,
    KH: K,
    KW: K,
    OH,
    OW,
    strideH: s,
    strideW: s,
    padTop: pad,
    padLeft: pad,
    dilationH: 1,
    dilationW: 1,
    group: g,
  };
  const x = rnd(C * H * W),
    w = rnd(M * (C / g) * K * K),
    b = rnd(M),
    y = new Float32Array(M * OH * OW);
  const macs = M * (C / g) * K * K * OH * OW;
  const n = Math.max(3, Math.min(200, Math.round(3e8 / macs)));
  const model = singleNodeModel(
    'Conv',
    [{ name: 'x', dtype: 'float', dims: [1, C, H, W] }],
    [
      { name: 'w', dtype: 'float', dims: [M, C / g, K, K], data: w },
      { name: 'b', dtype: 'float', dims: [M], data: b },
    ],
    ['x', 'w', 'b'],
    [{ name: 'y', dtype: 'float', dims: [1, M, OH, OW] }],
    { group: g, kernel_shape: [K, K], strides: [s, s], pads: [pad, pad, pad, pad] },
    13,
  );
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { x: new ort.Tensor('float32', x, [1, C, H, W]) };
  const ortMs = await bestAsync(() => sess.run(feeds), n);
  let nativeMs: number | null = null;
  for (const be of backends) {
    const ms = best(() => be.conv2dF32(p, x, w, b, y), be.name === 'native' ? n : Math.max(3, n >> 1));
    if (be.name === 'native') nativeMs = ms;
    rows.push({
      kind: 'conv',
      shape,
      impl: `${be.name}:${be.dispatch.f32 ?? 'auto'}`,
      ms,
      gmacs: macs / ms / 1e6,
      vsOrt: ms / ortMs,
      vsNative: be.name === 'native' || nativeMs === null ? null : ms / nativeMs,
    });
  }
  rows.push({ kind: 'conv', shape, impl: 'ORT Conv', ms: ortMs, gmacs: macs / ortMs / 1e6, vsOrt: null, vsNative: null });
}

for (const [M, N, K] of [
  [256, 256, 256],
  [1024, 1024, 1024],
  [64, 2304, 256],
  [1, 10, 256],
]) {
  const shape = `M${M} N${N} K${K}`;
  const a = rnd(M * K),
    b = rnd(K * N),
    y = new Float32Array(M * N);
  const macs = M * N * K;
  const n = Math.max(3, Math.min(300, Math.round(3e8 / macs)));
  const model = singleNodeModel(
    'Gemm',
    [{ name: 'a', dtype: 'float', dims: [M, K] }],
    [{ name: 'b', dtype: 'float', dims: [K, N], data: b }],
    ['a', 'b'],
    [{ name: 'y', dtype: 'float', dims: [M, N] }],
    {},
    13,
  );
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { a: new ort.Tensor('float32', a, [M, K]) };
  const ortMs = await bestAsync(() => sess.run(feeds), n);
  let nativeMs: number | null = null;
  for (const be of backends) {
    const ms = best(() => be.gemmF32({ M, N, K, a, b, y }), be.name === 'native' ? n : Math.max(3, n >> 1));
    if (be.name === 'native') nativeMs = ms;
    rows.push({
      kind: 'gemm',
      shape,
      impl: `${be.name}:${be.dispatch.f32 ?? 'auto'}`,
      ms,
      gmacs: macs / ms / 1e6,
      vsOrt: ms / ortMs,
      vsNative: be.name === 'native' || nativeMs === null ? null : ms / nativeMs,
    });
  }
  rows.push({ kind: 'gemm', shape, impl: 'ORT Gemm', ms: ortMs, gmacs: macs / ortMs / 1e6, vsOrt: null, vsNative: null });
}

if (json) {
  console.log(JSON.stringify({ bench: 'kernels-f32', threads: 1, statistic: 'min', node: process.version, rows }, null, 2));
} else {
  const f = (v: number | null, d = 2) => (v === null ? 'n/a' : v.toFixed(d));
  console.log(
    `${'op'.padEnd(6)}${'shape'.padEnd(30)}${'implementation'.padEnd(18)}${'ms'.padStart(10)}${'GMAC/s'.padStart(9)}${'vs ORT'.padStart(8)}${'vs nat'.padStart(8)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.kind.padEnd(6)}${r.shape.padEnd(30)}${r.impl.padEnd(18)}${r.ms.toFixed(3).padStart(10)}${r.gmacs.toFixed(1).padStart(9)}${f(r.vsOrt).padStart(8)}${f(r.vsNative).padStart(8)}`,
    );
  }
}
