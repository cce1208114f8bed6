/**
 * Mixed precision from sensitivity (`--keep-float auto`): quantize everything, rank the layers by
 * their layerwise sensitivity (analyze()), then keep the fewest most sensitive layers in float that
 * meet the target (top-1 agreement and/or output SQNR on the evaluation data). "A layer in float"
 * means its weight (float values back, from the folded float model) and its input and output
 * activations (Q/DQ bypassed); activations that belong to no layer stay quantized. The models are
 * made from the one calibrated QDQ model (no recalibration), searched by doubling k then bisecting.
 * (quantize({ keepFloat }) alone keeps the layer's activations quantized: on the PaddleOCR classifier
 * that leaves the top-1 agreement where it was, which is why the result model is built here.)
 */
import { OnnxPtqError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { loadModel } from '../onnx/io.js';
import { InferenceSession } from '../runtime/session.js';
import { createQdqRegistry } from '../runtime/integer/qdq-registry.js';
import { quantize, type QuantizeInput } from '../ptq/quantize.js';
import type { Feeds } from '../ptq/calibrate.js';
import { progress } from '../ptq/calibrate.js';
import { analyze, argmax, measuredOutput, sqnr, type AnalysisReport } from './analyze.js';
import { foldedFloatLayers, keepOnlyLayers, qdqLayers } from './qdq-graph.js';
import { yieldToEventLoop } from '../util/yield.js';

export interface MixedPrecisionOptions {
  /** Quantization settings (calibration is `calibration` below). */
  quantize?: Omit<QuantizeInput, 'calibration' | 'keepFloat'>;
  calibration: Feeds[];
  /** Held-out data the target is measured on. Default: the calibration data. */
  evaluation?: Feeds[];
  /** Top-1 agreement with the float model to reach, in [0, 1]. */
  targetAgreement?: number;
  /** Output SQNR (dB) to reach, on the logits when the model ends in Softmax (analyze's measuredOutput). */
  targetSqnrDb?: number;
  /** Samples used to rank the layers. Default 32. */
  analysisSamples?: number;
}

export interface EvalPoint { keptFloat: number; agreement: number; sqnrDb: number }

export interface MixedPrecisionResult {
  model: Model;
  /** Node names kept in float, most sensitive first. */
  keepFloat: string[];
  layers: number;
  met: boolean;
  /** Measured on the evaluation data with the final (re-calibrated) model. */
  final: EvalPoint;
  /** Everything quantized. */
  baseline: EvalPoint;
  /** The simulated points the search visited. */
  search: EvalPoint[];
  analysis: AnalysisReport;
}

async function evaluate(model: Model, data: Feeds[], floatOut: Float32Array[]): Promise<{ agreement: number; sqnrDb: number }> {
  const s = await InferenceSession.create(model, { registry: createQdqRegistry({ rounding: true }) });
  const out = measuredOutput(model);
  let sig = 0, noise = 0, ag = 0;
  for (let i = 0; i < data.length; i++) {
    const q = s.runSync(data[i], { outputs: [out] })[out].data as Float32Array, f = floatOut[i];
    for (let k = 0; k < f.length; k++) { sig += f[k] * f[k]; noise += (f[k] - q[k]) ** 2; }
    if (argmax(q) === argmax(f)) ag++;
    if (i % 16 === 15) await yieldToEventLoop();
  }
  return { agreement: ag / data.length, sqnrDb: sqnr(sig, noise) };
}

export async function keepFloatAuto(floatSrc: Model | string | Uint8Array, opts: MixedPrecisionOptions): Promise<MixedPrecisionResult> {
  if (opts.targetAgreement === undefined && opts.targetSqnrDb === undefined) {
    throw new OnnxPtqError('INVALID_OPTION', '--keep-float auto needs a target: --target-agreement (e.g. 0.99) or --target-sqnr (dB)');
  }
  if (opts.targetAgreement !== undefined && !(opts.targetAgreement > 0 && opts.targetAgreement <= 1)) {
    throw new OnnxPtqError('INVALID_OPTION', `target agreement must be in (0, 1], got ${opts.targetAgreement}`);
  }
  const floatModel = typeof floatSrc === 'string' || floatSrc instanceof Uint8Array ? loadModel(floatSrc) : floatSrc;
  const evalData = opts.evaluation ?? opts.calibration;
  const fs = await InferenceSession.create(floatModel);
  const fOut = measuredOutput(floatModel);
  const floatOut = evalData.map((d) => (fs.runSync(d, { outputs: [fOut] })[fOut].data as Float32Array).slice());
  const meets = (p: { agreement: number; sqnrDb: number }) =>
    (opts.targetAgreement === undefined || p.agreement >= opts.targetAgreement) && (opts.targetSqnrDb === undefined || p.sqnrDb >= opts.targetSqnrDb);

  const full = await quantize(floatModel, { ...opts.quantize, calibration: opts.calibration });
  const analysis = await analyze(floatModel, full.model, opts.calibration.slice(0, opts.analysisSamples ?? 32));
  const ranked = analysis.layers.map((l) => l.name);
  const all = qdqLayers(full.model).map((l) => l.name);
  const floatWeights = foldedFloatLayers(floatModel, full.model);
  const search: EvalPoint[] = [];
  const cache = new Map<number, EvalPoint>();
  const models = new Map<number, Model>();
  const bar = progress('mixed precision');
  const sim = async (k: number): Promise<EvalPoint> => {
    const hit = cache.get(k);
    if (hit) return hit;
    const kept = new Set(ranked.slice(0, k));
    const m = k === 0 ? full.model : keepOnlyLayers(full.model, new Set(all.filter((n) => !kept.has(n))), floatWeights, true);
    const p = { keptFloat: k, ...(await evaluate(m, evalData, floatOut)) };
    models.set(k, m);
    cache.set(k, p);
    search.push(p);
    bar.tick(search.length);
    return p;
  };
  const baseline = await sim(0);
  let k = 0;
  if (!meets(baseline)) {
    // Doubling, then bisection on [lo, hi]: sensitivity-ordered removal is close to monotone.
    let lo = 0, hi = 1;
    while (hi < ranked.length && !meets(await sim(hi))) { lo = hi; hi = Math.min(ranked.length, hi * 2); }
    if (hi >= ranked.length) hi = ranked.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (meets(await sim(mid))) hi = mid; else lo = mid;
    }
    k = hi;
  }
  bar.end();
  const keepFloat = ranked.slice(0, k);
  const final = await sim(k);
  const model = models.get(k)!;
  model.metadata.set('onnx_ptq.keep_float', JSON.stringify(keepFloat));
  return { model, keepFloat, layers: all.length, met: meets(final), final, baseline, search, analysis };
}
