// The calibration statistics kernels (scanF32, histogramF32, sumRowsF32) per backend and variant next
// to the JS loops they replace (the observers' min/max scan, AdaptiveHistogram's binning, firstNonFinite's
// check, the bias-correction probes' row sums): ns per element on a 2.4M-element Float32Array (a
// 2048-bin histogram; sumRowsF32 on a 64x160x160 input), then the time of one
// call on short arrays (gaussian data on a grid of 1/256 with 0 at bin 1024: where
// STATS_KERNEL_MIN_LENGTH comes from). First, the float Softmax / LogSoftmax kernel (softmaxF32) next to
// the JS loop the ops ran before it (its definition, softmaxF32Ref): ns per element on PP-OCRv4 rec's
// shapes (a [40, 6625] vocabulary softmax, attention rows of 80) and a strided one; --softmax prints
// only those.
// Usage: node --import tsx bench/kernels-f32-stats.ts [--json] [--softmax]
import { createDefaultRegistry } from '../src/backends/registry.js';
import { histogramF32Ref, softmaxF32Ref } from '../src/backends/js-f32.js';
import { sumRowsF32Ref } from '../src/kernels/f32/sum-rows.js';
import { setStatsKernels } from '../src/backends/stats-kernels.js';
import { createObserver } from '../src/quant/observers/index.js';
import { firstNonFinite } from '../src/util/finite.js';
import type { Backend, KernelVariant } from '../src/backends/types.js';

const json = process.argv.includes('--json');
const registry = createDefaultRegistry();
const impls: { label: string; k: Backend; variant: KernelVariant }[] = [];
for (const s of registry.status()) {
  if (!s.loaded || s.name === 'js') continue;
  const b = registry.get(s.name);
  for (const v of ['auto', ...b.variants] as KernelVariant[]) impls.push({ label: `${s.name}:${v}`, k: b, variant: v });
}

let seed = 1;
function gauss(n: number, relu: boolean): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const u = seed / 2 ** 32;
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const v = Math.sqrt(-2 * Math.log(u + 2 ** -33)) * Math.cos(2 * Math.PI * (seed / 2 ** 32));
    a[i] = relu && v < 0 ? 0 : v;
  }
  return a;
}

// The machine may be shared: the minimum is the least disturbed figure.
function best(f: () => void, reps: number): number {
  f();
  let b = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

// softmaxF32: [outer, len, inner] rows, Softmax and LogSoftmax, ns per element (y preallocated; the
// ops' own output allocation is not counted).
const softmax: { shape: string; op: string; impl: string; nsPerElement: number }[] = [];
for (const [outer, len, inner] of [
  [40, 6625, 1],
  [640, 80, 1],
  [64, 80, 16],
] as const) {
  const n = outer * len * inner;
  const x = gauss(n, false).map((v) => v * 4),
    y = new Float32Array(n);
  const shape = inner === 1 ? `${outer}x${len}` : `${outer}x${len}x${inner}`;
  for (const log of [false, true]) {
    const op = log ? 'LogSoftmax' : 'Softmax';
    const add = (impl: string, ms: number) => softmax.push({ shape, op, impl, nsPerElement: (ms * 1e6) / n });
    add(
      'js (softmaxF32Ref)',
      best(() => softmaxF32Ref(x, y, outer, len, inner, log), 15),
    );
    for (const { label, k, variant } of impls)
      add(
        label,
        best(() => k.softmaxF32(x, y, outer, len, inner, log, variant), 30),
      );
  }
}
if (process.argv.includes('--softmax')) {
  if (json) console.log(JSON.stringify({ softmax }, null, 2));
  else {
    console.log('softmaxF32, ns/element (minimum of 30 runs)');
    console.table(softmax.map((r) => ({ ...r, nsPerElement: r.nsPerElement.toFixed(3) })));
  }
  process.exit(0);
}

// The JS loops as the observers and firstNonFinite run them.
function jsMinMax(x: Float32Array): number {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo + hi;
}
function jsHistScan(x: Float32Array): number {
  let lo = Infinity,
    hi = -Infinity,
    zeros = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v !== v) lo = NaN;
    if (v === 0) zeros++;
  }
  return lo + hi + zeros;
}
function jsFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

interface Row {
  data: string;
  what: string;
  impl: string;
  nsPerElement: number;
}
const rows: Row[] = [];
const N = 2_400_000,
  BINS = 2048;
const out = new Float64Array(4),
  counts = new Float64Array(BINS);
for (const [name, x] of [
  ['gaussian', gauss(N, false)],
  ['relu', gauss(N, true)],
] as const) {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of x) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  let e = -160;
  while (Math.floor(hi * 2 ** -e) - Math.min(Math.floor(lo * 2 ** -e), 0) + 1 > BINS) e++;
  const inv = 2 ** -e,
    zero = -Math.min(Math.floor(lo * inv), 0);
  const ns = (ms: number) => (ms * 1e6) / N;
  const add = (what: string, impl: string, ms: number) => rows.push({ data: name, what, impl, nsPerElement: ns(ms) });
  add(
    'minmax scan',
    'js loop',
    best(() => jsMinMax(x), 15),
  );
  add(
    'histogram scan',
    'js loop',
    best(() => jsHistScan(x), 15),
  );
  add(
    'firstNonFinite',
    'js loop',
    best(() => jsFinite(x), 15),
  );
  add(
    'histogram bins',
    'js loop',
    best(() => histogramF32Ref(x, inv, zero, counts), 15),
  );
  for (const { label, k, variant } of impls) {
    add(
      'scanF32',
      label,
      best(() => k.scanF32(x, out, variant), 15),
    );
    add(
      'histogramF32',
      label,
      best(() => k.histogramF32(x, inv, zero, counts, variant), 15),
    );
  }
}

// sumRowsF32 (bias-correction probes): a 3x3 convolution's first window axis over 64 planes of
// 160x160 (pad 1; and stride 2), ns per input element; the js row is the definition itself.
for (const [name, g] of [
  ['rows 64x160x160 K3', { planes: 64, I: 160, inner: 160, K: 3, O: 160, stride: 1, pad: 1, dilation: 1 }],
  ['rows 64x160x160 K3 s2', { planes: 64, I: 160, inner: 160, K: 3, O: 80, stride: 2, pad: 1, dilation: 1 }],
] as const) {
  const n = g.planes * g.I * g.inner;
  const x = gauss(n, true),
    dst = new Float64Array(g.planes * g.K * g.inner);
  const add = (impl: string, ms: number) => rows.push({ data: name, what: 'sumRowsF32', impl, nsPerElement: (ms * 1e6) / n });
  add(
    'js (sumRowsF32Ref)',
    best(() => sumRowsF32Ref(x, g, dst), 10),
  );
  for (const { label, k, variant } of impls)
    add(
      label,
      best(() => k.sumRowsF32(x, g, dst, variant), 10),
    );
}

// What calibration sees: observe() of each kind and firstNonFinite, JS loops against each backend's
// kernels (default variant). A histogram observer is warmed on the data first (its grid then stays).
const observed: { data: string; what: string; impl: string; nsPerElement: number }[] = [];
for (const [name, x] of [
  ['gaussian', gauss(N, false)],
  ['relu', gauss(N, true)],
] as const) {
  for (const [impl, k] of [['js loops', null], ...impls.filter((i) => i.variant === 'auto').map((i) => [i.label, i.k] as const)] as const) {
    setStatsKernels(k);
    for (const kind of ['minmax', 'moving-average', 'mse'] as const) {
      const o = createObserver(kind);
      o.observe(x);
      observed.push({ data: name, what: `${kind}.observe`, impl, nsPerElement: (best(() => o.observe(x), 10) * 1e6) / N });
    }
    observed.push({ data: name, what: 'firstNonFinite', impl, nsPerElement: (best(() => firstNonFinite(x), 10) * 1e6) / N });
  }
}
setStatsKernels(undefined);

// Short arrays: microseconds per call, JS loop against the kernel's default variant.
const short: { n: number; impl: string; usScan: number; usHist: number }[] = [];
for (const n of [64, 128, 256, 512, 1024, 4096]) {
  const x = gauss(n, false);
  const reps = 2000;
  const per = (f: () => void) =>
    best(() => {
      for (let r = 0; r < reps; r++) f();
    }, 5) *
    (1000 / reps);
  short.push({ n, impl: 'js loop', usScan: per(() => jsHistScan(x)), usHist: per(() => histogramF32Ref(x, 256, 1024, counts)) });
  for (const { label, k, variant } of impls) {
    if (variant !== 'auto') continue;
    short.push({
      n,
      impl: label,
      usScan: per(() => k.scanF32(x, out, variant)),
      usHist: per(() => k.histogramF32(x, 256, 1024, counts, variant)),
    });
  }
}

if (json) {
  console.log(JSON.stringify({ softmax, rows, observed, short }, null, 2));
} else {
  console.log('softmaxF32, ns/element (minimum of 30 runs)');
  console.table(softmax.map((r) => ({ ...r, nsPerElement: r.nsPerElement.toFixed(3) })));
  console.log(`ns/element, ${N} float32 elements, ${BINS} bins (minimum of 15 runs)`);
  console.table(rows.map((r) => ({ ...r, nsPerElement: r.nsPerElement.toFixed(3) })));
  console.log(`observers and firstNonFinite, ns/element, ${N} elements`);
  console.table(observed.map((r) => ({ ...r, nsPerElement: r.nsPerElement.toFixed(3) })));
  console.log('one call on short arrays, microseconds (scan / histogram)');
  console.table(short.map((r) => ({ n: r.n, impl: r.impl, scan: r.usScan.toFixed(3), histogram: r.usHist.toFixed(3) })));
}
