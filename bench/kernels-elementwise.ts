// Elementwise and pooling kernel throughput per backend and variant at a typical activation size
// (1x64x56x56, uint8): GB/s counted as bytes read + bytes written. Prints a table; --json for JSON.
// Usage: npm run bench:elementwise [-- --json]
import { createDefaultRegistry } from '../src/backends/registry.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';
import { makeQAddParams } from '../src/quant/qadd.js';
import { makeRequant } from '../src/quant/requant.js';
import { buildLut, LUT_FUNCTIONS } from '../src/quant/lut.js';
import { poolOutputShape } from '../src/backends/kernels-qpool.js';
import { resizeLinearTaps, RESIZE_ONE } from '../src/kernels/int8/qlayout-ref.js';

const [N, C, H, W] = [1, 64, 56, 56];
const n = N * C * H * W;
const json = process.argv.includes('--json');

const a = new Uint8Array(n).map((_, i) => (i * 7919) & 255);
const b = new Uint8Array(n).map((_, i) => (i * 104729) & 255);
const f = new Float32Array(n).map((_, i) => Math.sin(i) * 10);
const y = new Uint8Array(n);
const addParams = makeQAddParams('fixed-point', 0.05, 128, 0.03, 120, 0.07, { zeroPoint: 125, signed: false });
const table = buildLut(
  LUT_FUNCTIONS.Sigmoid(),
  { scale: 0.05, zeroPoint: 128, signed: false },
  { scale: 1 / 256, zeroPoint: 0, signed: false },
);
const pool = {
  n: N,
  c: C,
  h: H,
  w: W,
  kernel: [3, 3] as [number, number],
  strides: [2, 2] as [number, number],
  pads: [1, 1, 1, 1] as [number, number, number, number],
};
const [oh, ow] = poolOutputShape(pool);
const rq1 = makeRequant('fixed-point', [1], { zeroPoint: 0, signed: false });
// Bilinear 2x of a quarter-size input into the same output size; ReduceMean over the channels.
const [rh, rw] = [H / 2, W / 2];
const rTaps = { yTaps: resizeLinearTaps(rh, H, 'half_pixel'), xTaps: resizeLinearTaps(rw, W, 'half_pixel') };
const rqResize = makeRequant('fixed-point', [1 / (RESIZE_ONE * RESIZE_ONE)], { zeroPoint: 0, signed: false });
const rqMean = makeRequant('fixed-point', [1 / C], { zeroPoint: 0, signed: false });

interface Op {
  name: string;
  bytes: number;
  run(be: Backend, v: KernelVariant): void;
}
const ops: Op[] = [
  {
    name: 'Add (fixed-point)',
    bytes: 3 * n,
    run: (be, v) => be.qadd({ a, aShape: [N, C, H, W], b, bShape: [N, C, H, W], params: addParams, y, variant: v }),
  },
  {
    name: 'Add (float)',
    bytes: 3 * n,
    run: (be, v) => be.qadd({ a, aShape: [N, C, H, W], b, bShape: [N, C, H, W], params: { ...addParams, mode: 1 }, y, variant: v }),
  },
  { name: 'MaxPool 3x3/2', bytes: n + N * C * oh * ow, run: (be, v) => be.maxPool({ ...pool, x: a, y, variant: v }) },
  {
    name: 'GlobalAvgPool',
    bytes: n + C,
    run: (be, v) => be.globalAvgPool({ x: a, channels: N * C, spatial: H * W, xZeroPoint: 128, requant: rq1, y, variant: v }),
  },
  {
    name: 'Resize bilinear 2x',
    bytes: n / 4 + n,
    run: (be, v) =>
      be.resizeLinear({ x: a, nc: N * C, inH: rh, inW: rw, outH: H, outW: W, ...rTaps, xZeroPoint: 128, requant: rqResize, y, variant: v }),
  },
  {
    name: 'ReduceMean (channels)',
    bytes: n + n / C,
    run: (be, v) => be.reduceMean({ x: a, dims: [N, C, H, W], axes: [1], xZeroPoint: 128, requant: rqMean, y, variant: v }),
  },
  { name: 'LUT', bytes: 2 * n, run: (be, v) => be.lut({ x: a, table, y, variant: v }) },
  {
    name: 'QuantizeLinear',
    bytes: 5 * n,
    run: (be, v) =>
      be.quantizeLinear({
        x: f,
        outer: 1,
        axisLen: 1,
        inner: n,
        scale: new Float32Array([0.1]),
        zeroPoint: new Int32Array([128]),
        y,
        variant: v,
      }),
  },
];

function time(fn: () => void): number {
  fn();
  let reps = 1,
    t = 0;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (t > 0.2 || reps > 1 << 16) break;
    reps *= 2;
  }
  return t / reps;
}

const reg = createDefaultRegistry();
const rows: { op: string; backend: string; variant: string; ms: number; gbps: number }[] = [];
for (const s of reg.status()) {
  if (!s.loaded) continue;
  const be = reg.get(s.name);
  for (const v of be.variants) {
    for (const op of ops) {
      const sec = time(() => op.run(be, v));
      rows.push({ op: op.name, backend: be.name, variant: v, ms: sec * 1e3, gbps: op.bytes / sec / 1e9 });
    }
  }
}
if (json) {
  console.log(JSON.stringify({ shape: [N, C, H, W], dtype: 'uint8', rows }, null, 2));
} else {
  console.log(`shape ${N}x${C}x${H}x${W} uint8; GB/s = (bytes read + written) / time`);
  console.log(['op'.padEnd(20), 'backend:variant'.padEnd(20), 'ms'.padStart(9), 'GB/s'.padStart(8)].join(' '));
  for (const r of rows)
    console.log(
      [r.op.padEnd(20), `${r.backend}:${r.variant}`.padEnd(20), r.ms.toFixed(4).padStart(9), r.gbps.toFixed(2).padStart(8)].join(' '),
    );
}
