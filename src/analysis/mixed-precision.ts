/**
 * Mixed precision from sensitivity (`--keep-float auto`): quantize everything, rank the layers by
 * their layerwise sensitivity (analyze()), then keep the fewest most sensitive layers in float that
 * meet the target (top-1 agreement and/or output SQNR on the evaluation data). "A layer in float"
 * means its weight (float values back, from the folded float model) and its input and output
 * activations (Q/DQ bypassed). The models are made from the one calibrated QDQ model (no
 * recalibration), searched by doubling k then bisecting (sensitivity order is close to monotone).
 *
 * Activations that belong to no layer (Add, Mul, a decomposed HardSwish's steps) stay quantized in
 * that first search. When even every layer in float misses the target, a second search runs over
 * layers and those activations together, each ranked by the output SQNR with it alone quantized: on
 * the PaddleOCR classifier they cap the logits SQNR at ~30 dB with every layer in float. The result
 * names the layers and the activations kept in float separately.
 * (quantize({ keepFloat }) alone keeps the layer's activations quantized: on the PaddleOCR classifier
 * that leaves the top-1 agreement where it was, which is why the result model is built here.)
 *
 * With `fallback: 'int16'` the chosen candidates keep integer execution: a layer's input and output
 * activations, and a chosen activation, are held in int16 (A16W8: quantize({ activation16 })) and
 * its weights stay int8. The same ranking and search run; each point is a quantize() from the one
 * calibration's statistics (no data pass), so the search costs model evaluations only.
 */
import { OnnxPtqError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { loadModel } from '../onnx/io.js';
import { calibrate, quantize, type QuantizeInput } from '../ptq/quantize.js';
import type { Feeds } from '../ptq/calibrate.js';
import { progress } from '../util/progress.js';
import { analyze, compareOutput, floatReference, type AnalysisReport } from './analyze.js';
import { foldedFloatLayers, keepOnlyLayers, qdqLayers, unownedActivations } from './qdq-graph.js';

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
  /** Samples used to rank the layers (and activations). Default 32. */
  analysisSamples?: number;
  /** Search activations that belong to no layer too, when layers alone cannot meet the target. Default true. */
  activations?: boolean;
  /** What a chosen layer or activation falls back to: float (default) or int16 activations, integer-only. */
  fallback?: 'float' | 'int16';
}

export interface EvalPoint {
  /** Candidates kept in float: layers, plus activations in the second search. */
  keptFloat: number;
  /** Of those, activations (0 in the layer-only search). */
  keptActivations: number;
  agreement: number;
  sqnrDb: number;
}

export interface MixedPrecisionResult {
  model: Model;
  fallback: 'float' | 'int16';
  /** With fallback int16: the activations held in int16 (quantize's activation16). */
  activation16: string[];
  /** Node names kept in float, most sensitive first. */
  keepFloat: string[];
  /** Activations (tensor names) that belong to no layer kept in float, most sensitive first. */
  keepFloatActivations: string[];
  /** How many such activations the model has. */
  activations: number;
  layers: number;
  met: boolean;
  /** The chosen model, measured on the evaluation data. */
  final: EvalPoint;
  /** Everything quantized. */
  baseline: EvalPoint;
  /** The simulated points the search visited. */
  search: EvalPoint[];
  analysis: AnalysisReport;
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
  const floatOut = await floatReference(floatModel, evalData);
  const meets = (p: { agreement: number; sqnrDb: number }) =>
    (opts.targetAgreement === undefined || p.agreement >= opts.targetAgreement) &&
    (opts.targetSqnrDb === undefined || p.sqnrDb >= opts.targetSqnrDb);

  const fallback = opts.fallback ?? 'float';
  if (fallback !== 'float' && fallback !== 'int16')
    throw new OnnxPtqError('INVALID_OPTION', `fallback must be 'float' or 'int16', got '${String(fallback)}'`);
  // int16: one calibration, then every point is quantized from its statistics.
  const stats = fallback === 'int16' ? await calibrate(floatModel, { ...opts.quantize, calibration: opts.calibration }) : undefined;
  const full = await quantize(
    floatModel,
    stats ? { ...opts.quantize, stats: [stats] } : { ...opts.quantize, calibration: opts.calibration },
  );
  const analysisData = opts.calibration.slice(0, opts.analysisSamples ?? 32);
  const analysis = await analyze(floatModel, full.model, analysisData);
  if (opts.targetAgreement !== undefined && analysis.output.kind === 'dense') {
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `the model output '${analysis.output.tensor}' is a dense map, not class scores: top-1 agreement means nothing there; give a target SQNR (--target-sqnr) instead of --target-agreement`,
    );
  }
  const layerInfo = qdqLayers(full.model);
  const allLayers = layerInfo.map((l) => l.name);
  // int16: the activations a candidate holds in 16 bits (a layer's input and output pairs).
  // The float model's name of a pair's tensor: the DQ output, except for a graph input (Q reads it).
  const inputs = new Set(full.model.graph.inputs.map((v) => v.name));
  const floatName = (p: { q: { inputs: string[] }; dq: { outputs: string[] } }) =>
    inputs.has(p.q.inputs[0]!) ? p.q.inputs[0]! : p.dq.outputs[0]!;
  const layerActs = new Map(layerInfo.map((l) => [l.name, l.activationPairs.map(floatName)]));
  // Only calibrated tensors can be held in 16 bits (an exporter-made alias such as a Softmax's
  // flattened input is not one: its source is).
  const calibrated = new Set(Object.keys(stats?.tensors ?? {}));
  const wideOf = (kept: readonly { name: string; activation: boolean }[]) => [
    ...new Set(kept.flatMap((c) => (c.activation ? [c.name] : (layerActs.get(c.name) ?? []))).filter((t) => calibrated.has(t))),
  ];
  const allActs = unownedActivations(full.model);
  // Candidates: layers by node name, activations by tensor name (a node and a tensor may share a name).
  type Candidate = { name: string; activation: boolean };
  const floatWeights = foldedFloatLayers(floatModel, full.model);
  const search: EvalPoint[] = [];
  const cache = new Map<string, { p: EvalPoint; m: Model }>();
  const bar = progress('mixed precision');
  // The model with `kept` in float, everything else quantized.
  const sim = async (kept: readonly Candidate[]): Promise<{ p: EvalPoint; m: Model }> => {
    const key = kept.map((c) => `${c.activation ? 'a' : 'l'}:${c.name}`).join('\n');
    const hit = cache.get(key);
    if (hit) return hit;
    const kl = new Set(kept.filter((c) => !c.activation).map((c) => c.name)),
      ka = new Set(kept.filter((c) => c.activation).map((c) => c.name));
    const m =
      kept.length === 0
        ? full.model
        : stats
          ? (await quantize(floatModel, { ...opts.quantize, stats: [stats], activation16: wideOf(kept) })).model
          : keepOnlyLayers(
              full.model,
              new Set(allLayers.filter((n) => !kl.has(n))),
              floatWeights,
              new Set(allActs.filter((n) => !ka.has(n))),
            );
    const keptActivations = ka.size;
    const r = { p: { keptFloat: kept.length, keptActivations, ...(await compareOutput(m, evalData, floatOut)) }, m };
    cache.set(key, r);
    search.push(r.p);
    bar.tick(search.length);
    return r;
  };
  // The fewest leading candidates of `ranked` that meet the target (ranked.length when none do).
  const fewest = async (ranked: readonly Candidate[]): Promise<number> => {
    if (meets((await sim([])).p)) return 0;
    let lo = 0,
      hi = 1;
    while (hi < ranked.length && !meets((await sim(ranked.slice(0, hi))).p)) {
      lo = hi;
      hi = Math.min(ranked.length, hi * 2);
    }
    if (hi >= ranked.length) return ranked.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (meets((await sim(ranked.slice(0, mid))).p)) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  const baseline = (await sim([])).p;
  let ranked: Candidate[] = analysis.layers.map((l) => ({ name: l.name, activation: false }));
  let k = await fewest(ranked);
  if (!meets((await sim(ranked.slice(0, k))).p) && opts.activations !== false && allActs.length > 0) {
    // Layers alone fall short: rank the unowned activations by their own sensitivity (each alone
    // quantized, the rest float) and search layers and activations in one order.
    const refs = await floatReference(floatModel, analysisData);
    const sens: { c: Candidate; db: number }[] = analysis.layers.map((l) => ({
      c: { name: l.name, activation: false },
      db: l.layerwise?.outputSqnrDb ?? l.graphwise.sqnrDb,
    }));
    for (const a of allActs) {
      const m = keepOnlyLayers(full.model, new Set(), floatWeights, new Set([a]));
      sens.push({ c: { name: a, activation: true }, db: (await compareOutput(m, analysisData, refs)).sqnrDb });
      bar.tick(search.length);
    }
    ranked = sens.sort((x, y) => x.db - y.db).map((x) => x.c);
    k = await fewest(ranked);
  }
  bar.end();
  const kept = ranked.slice(0, k);
  const { p: final, m: model } = await sim(kept);
  const keepFloat = kept.filter((c) => !c.activation).map((c) => c.name),
    keepFloatActivations = kept.filter((c) => c.activation).map((c) => c.name);
  // With int16 the model's options (onnx_ptq.options) already list activation16.
  if (!stats) {
    model.metadata.set('onnx_ptq.keep_float', JSON.stringify(keepFloat));
    if (keepFloatActivations.length) model.metadata.set('onnx_ptq.keep_float_activations', JSON.stringify(keepFloatActivations));
  }
  return {
    model,
    fallback,
    activation16: stats ? wideOf(kept) : [],
    keepFloat,
    keepFloatActivations,
    layers: allLayers.length,
    activations: allActs.length,
    met: meets(final),
    final,
    baseline,
    search,
    analysis,
  };
}
