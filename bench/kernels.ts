// Kernel benchmark: GMAC/s of integer GEMM and convolution per backend, single- and multi-threaded,
// next to onnxruntime-node running the same single-node models (QLinearMatMul, MatMulInteger,
// QLinearConv, MatMul, Conv) in the same process, plus our own float kernels where the backend has
// them, and for the int32 GEMM (qgemmI32) every variant and the JS loop MatMulInteger ran on before.
//   npm run bench:kernels                 # table, then one JSON line
//   npm run bench:kernels -- --json       # JSON only
//   npm run bench:kernels -- --quick      # shorter timing windows
//   npm run bench:kernels -- --threads 4  # the multi-threaded column (default: all cores)
// Ratios: "vs ORT" = our time / onnxruntime's time for the same op, same thread count (< 1: faster).
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { createDefaultRegistry } from '../src/backends/registry.js';
import { floatMultiplier, makeRequant } from '../src/quant/requant.js';
import type { Backend } from '../src/backends/types.js';
import type { Conv2dShape } from '../src/backends/kernels-conv.js';
import { singleNodeModel } from './onnx-single-node.js';
import { mulberry32 } from '../src/util/prng.js';
import { matMulInt32 } from '../src/ops/qdq.js';
import type { OpContext } from '../src/ops/types.js';
import { makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';

const argv = process.argv.slice(2);
const jsonOnly = argv.includes('--json');
const quick = argv.includes('--quick');
const ti = argv.indexOf('--threads');
const multi = ti >= 0 ? Number(argv[ti + 1]) : availableParallelism();
const windowMs = quick ? 150 : 500;

function timeSync(fn: () => void): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < windowMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    if (times.length >= 300) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < windowMs) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    if (times.length >= 300) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

interface Row {
  kind: 'gemm' | 'gemmI32' | 'conv';
  shape: string;
  impl: string;
  dtype: 'int8' | 'fp32';
  threads: number;
  ms: number;
  gmacs: number;
}
const rows: Row[] = [];

// The float kernels of a backend, when it has them (typed loosely: this script does not depend on
// the float family's types).
interface F32Like {
  gemmF32?(args: { M: number; N: number; K: number; a: Float32Array; b: Float32Array; y: Float32Array }): void;
  conv2dF32?(p: object, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): void;
}
const f32 = (b: Backend): F32Like => b as unknown as F32Like;

const registry = createDefaultRegistry();
const backends: Backend[] = registry
  .status()
  .filter((s) => s.loaded)
  .map((s) => registry.get(s.name));
const native = backends.find((b) => b.name === 'native');
const threadCounts = multi > 1 && native ? [1, multi] : [1];

const rnd = mulberry32;

async function ortTime(model: Uint8Array, feeds: Record<string, ort.Tensor>, threads: number): Promise<number> {
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
  const ms = await timeAsync(() => sess.run(feeds));
  await sess.release();
  return ms;
}

const sx = 0.02,
  zx = 128,
  sw = 0.004,
  sy = 0.5,
  zy = 128;

// ---- GEMM: Y[M][N] = A[M][K] x B[K][N], u8 x s8 -> u8 ----
const gemms = [
  [256, 256, 256],
  [1024, 1024, 1024],
  [64, 256, 2304],
] as const;
for (const [m, n, k] of gemms) {
  const shape = `M${m} N${n} K${k}`;
  const macs = m * n * k;
  const r = rnd(m + n + k);
  const a = Uint8Array.from({ length: m * k }, () => (r() * 256) | 0);
  const b = Int8Array.from({ length: k * n }, () => ((r() * 255) | 0) - 127);
  const af = Float32Array.from(a, (v) => (v - zx) * sx),
    bf = Float32Array.from(b, (v) => v * sw);
  const rq = makeRequant('float', [floatMultiplier(sx, sw, sy)], { zeroPoint: zy, signed: false });
  const y = new Uint8Array(m * n),
    yf = new Float32Array(m * n);
  for (const be of backends) {
    if (be.name === 'js' && macs > 2 ** 25) continue; // minutes at 1024^3
    const ms = timeSync(() => be.qgemm({ m, n, k, a, aZeroPoint: zx, b, bZeroPoint: Int32Array.of(0), requant: rq, y }));
    rows.push({
      kind: 'gemm',
      shape,
      impl: `${be.name}:${be.dispatch.qgemm ?? 'auto'}`,
      dtype: 'int8',
      threads: 1,
      ms,
      gmacs: macs / ms / 1e6,
    });
    if (be.name !== 'js') {
      // B packed once (the weights of a MatMul/Gemm layer), run as a 1x1 convolution over M rows.
      const packed = be.qgemmPack({ n, k, b, bZeroPoint: Int32Array.of(0) });
      for (const threads of be.name === 'native' ? threadCounts : [1]) {
        be.setThreads(threads);
        const msp = timeSync(() => be.qgemmRun(packed, { m, a, aZeroPoint: zx, requant: rq, y }));
        rows.push({
          kind: 'gemm',
          shape,
          impl: `${be.name}:${packed.conv.variant} packed`,
          dtype: 'int8',
          threads,
          ms: msp,
          gmacs: macs / msp / 1e6,
        });
      }
    }
    const gemmF32 = f32(be).gemmF32;
    if (gemmF32 && be.name !== 'js') {
      be.setThreads(1); // the fp32 row is labelled single-threaded: the pool must not use every core
      const msf = timeSync(() => gemmF32.call(be, { M: m, N: n, K: k, a: af, b: bf, y: yf }));
      rows.push({ kind: 'gemm', shape, impl: `${be.name} fp32`, dtype: 'fp32', threads: 1, ms: msf, gmacs: macs / msf / 1e6 });
    }
  }
  const qmodel = singleNodeModel(
    'QLinearMatMul',
    [{ name: 'A', dtype: 'uint8', dims: [m, k] }],
    [
      { name: 'sa', dtype: 'float', dims: [], data: Float32Array.of(sx) },
      { name: 'za', dtype: 'uint8', dims: [], data: Uint8Array.of(zx) },
      { name: 'B', dtype: 'int8', dims: [k, n], data: b },
      { name: 'sb', dtype: 'float', dims: [], data: Float32Array.of(sw) },
      { name: 'zb', dtype: 'int8', dims: [], data: Int8Array.of(0) },
      { name: 'sy', dtype: 'float', dims: [], data: Float32Array.of(sy) },
      { name: 'zy', dtype: 'uint8', dims: [], data: Uint8Array.of(zy) },
    ],
    ['A', 'sa', 'za', 'B', 'sb', 'zb', 'sy', 'zy'],
    [{ name: 'Y', dtype: 'uint8', dims: [m, n] }],
  );
  const fmodel = singleNodeModel(
    'MatMul',
    [{ name: 'A', dtype: 'float', dims: [m, k] }],
    [{ name: 'B', dtype: 'float', dims: [k, n], data: bf }],
    ['A', 'B'],
    [{ name: 'Y', dtype: 'float', dims: [m, n] }],
  );
  for (const threads of threadCounts) {
    const ms = await ortTime(qmodel, { A: new ort.Tensor('uint8', a, [m, k]) }, threads);
    rows.push({ kind: 'gemm', shape, impl: 'ORT QLinearMatMul', dtype: 'int8', threads, ms, gmacs: macs / ms / 1e6 });
    const msf = await ortTime(fmodel, { A: new ort.Tensor('float32', af, [m, k]) }, threads);
    rows.push({ kind: 'gemm', shape, impl: 'ORT MatMul', dtype: 'fp32', threads, ms: msf, gmacs: macs / msf / 1e6 });
  }
}

// ---- int32 GEMM (MatMulInteger: u8 x s8 -> int32, no requantization) at a transformer size ----
{
  const [m, k, n] = [128, 768, 768];
  const shape = `M${m} N${n} K${k}`;
  const macs = m * n * k;
  const r = rnd(m + n + k + 1);
  const a = Uint8Array.from({ length: m * k }, () => (r() * 256) | 0);
  const b = Int8Array.from({ length: k * n }, () => ((r() * 255) | 0) - 127);
  const aZeroPoint = Int32Array.of(zx),
    bZeroPoint = Int32Array.of(0);
  const y = new Int32Array(m * n);
  const push = (impl: string, threads: number, ms: number) =>
    rows.push({ kind: 'gemmI32', shape, impl, dtype: 'int8', threads, ms, gmacs: macs / ms / 1e6 });
  for (const be of backends)
    for (const variant of be.variants)
      for (const threads of be.name === 'native' && variant !== 'ref' ? threadCounts : [1]) {
        be.setThreads(threads);
        push(
          `${be.name}:${variant}`,
          threads,
          timeSync(() => be.qgemmI32({ m, n, k, a, aZeroPoint, b, bZeroPoint, y, variant })),
        );
      }
  // The loop MatMulInteger ran on before qgemmI32 (still the float op's definition, src/ops/qdq.ts).
  const ctx = { node: makeNode('MatMulInteger', ['a', 'b'], ['y'], {}, 'bench'), opset: 13 } as unknown as OpContext;
  const ta = new Tensor('uint8', a, [m, k]),
    tb = new Tensor('int8', b, [k, n]);
  push(
    'JS loop (matMulInt32)',
    1,
    timeSync(() => matMulInt32(ctx, ta, Float64Array.of(zx), tb, Float64Array.of(0))),
  );
  const model = singleNodeModel(
    'MatMulInteger',
    [{ name: 'A', dtype: 'uint8', dims: [m, k] }],
    [
      { name: 'B', dtype: 'int8', dims: [k, n], data: b },
      { name: 'za', dtype: 'uint8', dims: [], data: Uint8Array.of(zx) },
      { name: 'zb', dtype: 'int8', dims: [], data: Int8Array.of(0) },
    ],
    ['A', 'B', 'za', 'zb'],
    [{ name: 'Y', dtype: 'int32', dims: [m, n] }],
  );
  for (const threads of threadCounts) {
    const ms = await ortTime(model, { A: new ort.Tensor('uint8', a, [m, k]) }, threads);
    push('ORT MatMulInteger', threads, ms);
  }
}

// ---- Convolution, NCHW, u8 x s8 -> u8, per-channel requantization ----
const convs: [string, Conv2dShape][] = [
  [
    '3x3 s1 56x56 64->64',
    { batch: 1, inChannels: 64, outChannels: 64, inHeight: 56, inWidth: 56, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
  ],
  [
    '3x3 s2 56x56 128->128',
    { batch: 1, inChannels: 128, outChannels: 128, inHeight: 56, inWidth: 56, kernelH: 3, kernelW: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
  ],
  ['1x1 28x28 256->256', { batch: 1, inChannels: 256, outChannels: 256, inHeight: 28, inWidth: 28, kernelH: 1, kernelW: 1 }],
  [
    'dw3x3 112x112x32',
    { batch: 1, inChannels: 32, outChannels: 32, groups: 32, inHeight: 112, inWidth: 112, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
  ],
  [
    'dw3x3 14x14x576',
    { batch: 1, inChannels: 576, outChannels: 576, groups: 576, inHeight: 14, inWidth: 14, kernelH: 3, kernelW: 3, pads: [1, 1, 1, 1] },
  ],
];
for (const [shape, s] of convs) {
  const groups = s.groups ?? 1,
    cout = s.outChannels,
    kg = (s.inChannels / groups) * s.kernelH * s.kernelW;
  const [sh, swd] = s.strides ?? [1, 1],
    [pt, pl, pb, pr] = s.pads ?? [0, 0, 0, 0];
  const oh = Math.floor((s.inHeight + pt + pb - s.kernelH) / sh) + 1,
    ow = Math.floor((s.inWidth + pl + pr - s.kernelW) / swd) + 1;
  const macs = cout * oh * ow * kg;
  const r = rnd(cout + kg);
  const xdims = [1, s.inChannels, s.inHeight, s.inWidth];
  const x = Uint8Array.from({ length: s.inChannels * s.inHeight * s.inWidth }, () => (r() * 256) | 0);
  const w = Int8Array.from({ length: cout * kg }, () => ((r() * 255) | 0) - 127);
  const bias = Int32Array.from({ length: cout }, () => ((r() * 2000) | 0) - 1000);
  const sws = Float32Array.from({ length: cout }, () => sw * (0.5 + r()));
  const rq = makeRequant(
    'float',
    Array.from(sws, (v) => floatMultiplier(sx, v, sy)),
    { zeroPoint: zy, signed: false },
  );
  const y = new Uint8Array(cout * oh * ow);
  const xf = Float32Array.from(x, (v) => (v - zx) * sx),
    wf = Float32Array.from(w, (v, i) => v * sws[Math.floor(i / kg)]);
  const bf = Float32Array.from(bias, (v, c) => v * sx * sws[c]),
    yf = new Float32Array(cout * oh * ow);
  for (const be of backends) {
    if (be.name === 'js' && macs > 2 ** 26) continue;
    const packed = be.qconv2dPack({ shape: s, w, wZeroPoint: Int32Array.of(0), bias });
    for (const threads of be.name === 'native' ? threadCounts : [1]) {
      be.setThreads(threads);
      const ms = timeSync(() => be.qconv2d(packed, { x, xZeroPoint: zx, requant: rq, y }));
      rows.push({ kind: 'conv', shape, impl: `${be.name}:${packed.variant}`, dtype: 'int8', threads, ms, gmacs: macs / ms / 1e6 });
    }
    const conv2dF32 = f32(be).conv2dF32;
    if (conv2dF32 && be.name !== 'js') {
      be.setThreads(1);
      const p = {
        N: 1,
        C: s.inChannels,
        H: s.inHeight,
        W: s.inWidth,
        M: cout,
        KH: s.kernelH,
        KW: s.kernelW,
        OH: oh,
        OW: ow,
        strideH: sh,
        strideW: swd,
        padTop: pt,
        padLeft: pl,
        dilationH: 1,
        dilationW: 1,
        group: groups,
      };
      const msf = timeSync(() => conv2dF32.call(be, p, xf, wf, bf, yf));
      rows.push({ kind: 'conv', shape, impl: `${be.name} fp32`, dtype: 'fp32', threads: 1, ms: msf, gmacs: macs / msf / 1e6 });
    }
  }
  native?.setThreads(multi);
  const attrs = { group: groups, kernel_shape: [s.kernelH, s.kernelW], strides: [sh, swd], pads: [pt, pl, pb, pr] };
  const wdims = [cout, s.inChannels / groups, s.kernelH, s.kernelW];
  const qmodel = singleNodeModel(
    'QLinearConv',
    [{ name: 'x', dtype: 'uint8', dims: xdims }],
    [
      { name: 'sx', dtype: 'float', dims: [], data: Float32Array.of(sx) },
      { name: 'zx', dtype: 'uint8', dims: [], data: Uint8Array.of(zx) },
      { name: 'w', dtype: 'int8', dims: wdims, data: w },
      { name: 'sw', dtype: 'float', dims: [cout], data: sws },
      { name: 'zw', dtype: 'int8', dims: [cout], data: new Int8Array(cout) },
      { name: 'sy', dtype: 'float', dims: [], data: Float32Array.of(sy) },
      { name: 'zy', dtype: 'uint8', dims: [], data: Uint8Array.of(zy) },
      { name: 'b', dtype: 'int32', dims: [cout], data: bias },
    ],
    ['x', 'sx', 'zx', 'w', 'sw', 'zw', 'sy', 'zy', 'b'],
    [{ name: 'y', dtype: 'uint8', dims: [1, cout, oh, ow] }],
    attrs,
  );
  const fmodel = singleNodeModel(
    'Conv',
    [{ name: 'x', dtype: 'float', dims: xdims }],
    [
      { name: 'w', dtype: 'float', dims: wdims, data: wf },
      { name: 'b', dtype: 'float', dims: [cout], data: bf },
    ],
    ['x', 'w', 'b'],
    [{ name: 'y', dtype: 'float', dims: [1, cout, oh, ow] }],
    attrs,
  );
  for (const threads of threadCounts) {
    const ms = await ortTime(qmodel, { x: new ort.Tensor('uint8', x, xdims) }, threads);
    rows.push({ kind: 'conv', shape, impl: 'ORT QLinearConv', dtype: 'int8', threads, ms, gmacs: macs / ms / 1e6 });
    const msf = await ortTime(fmodel, { x: new ort.Tensor('float32', xf, xdims) }, threads);
    rows.push({ kind: 'conv', shape, impl: 'ORT Conv', dtype: 'fp32', threads, ms: msf, gmacs: macs / msf / 1e6 });
  }
}

// Ratios: vs onnxruntime of the same dtype and thread count; int8 speed-up over our own fp32 of
// the same backend; wasm vs native (single thread, int8).
const results = rows.map((r) => {
  const peer = rows.find((p) => p.shape === r.shape && p.threads === r.threads && p.dtype === r.dtype && p.impl.startsWith('ORT'));
  const be = r.impl.split(/[: ]/)[0];
  const ownF32 =
    r.dtype === 'int8' && !r.impl.startsWith('ORT')
      ? rows.find((p) => p.shape === r.shape && p.dtype === 'fp32' && p.impl === `${be} fp32`)
      : undefined;
  const nat = r.impl.startsWith('wasm:')
    ? rows.find(
        (p) =>
          p.shape === r.shape &&
          p.kind === r.kind &&
          p.threads === 1 &&
          p.dtype === 'int8' &&
          p.impl.startsWith('native:') &&
          p.impl !== 'native:ref',
      )
    : undefined;
  return {
    ...r,
    ms: +r.ms.toFixed(3),
    gmacs: +r.gmacs.toFixed(2),
    vsOrt: peer && !r.impl.startsWith('ORT') ? +(r.ms / peer.ms).toFixed(2) : null,
    int8OverOwnFp32: ownF32 ? +(ownF32.ms / r.ms).toFixed(2) : null,
    vsNative: nat ? +(r.ms / nat.ms).toFixed(2) : null,
  };
});

if (!jsonOnly) {
  console.log(
    `kernel benchmark: u8 x s8 -> u8, float requantization; threads 1 and ${multi}; ratio = our time / onnxruntime's (same dtype, same threads)`,
  );
  const hdr = `${'op'.padEnd(26)}${'implementation'.padEnd(22)}${'dtype'.padEnd(6)}${'thr'.padStart(4)}${'ms'.padStart(10)}${'GMAC/s'.padStart(9)}${'vs ORT'.padStart(8)}${'i8/f32'.padStart(8)}${'vs nat'.padStart(8)}`;
  console.log(hdr);
  let last = '';
  for (const r of results) {
    if (r.shape !== last && last !== '') console.log('');
    last = r.shape;
    const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2)).padStart(8);
    console.log(
      `${(`${r.kind} ${r.shape}`).padEnd(26)}${r.impl.padEnd(22)}${r.dtype.padEnd(6)}${String(r.threads).padStart(4)}${r.ms.toFixed(3).padStart(10)}${r.gmacs.toFixed(2).padStart(9)}${f(r.vsOrt)}${f(r.int8OverOwnFp32)}${f(r.vsNative)}`,
    );
  }
  const noF32 = backends.filter((b) => b.name !== 'js' && !f32(b).conv2dF32).map((b) => b.name);
  if (noF32.length) console.log(`\nour fp32: n/a on ${noF32.join(', ')} (no float kernels on that backend)`);
  console.log('');
}
console.log(JSON.stringify({ bench: 'kernels', threads: threadCounts, results }, null, jsonOnly ? 2 : 0));
