/**
 * Fixes suggested from an analysis, and tried. For each of the most sensitive layers, the evidence
 * in the analysis names a cause and the setting that addresses it:
 *  - weight-spread: per-tensor weights whose output channels have very different ranges
 *    (largest channel max|w| / median channel max|w| >= `spreadRatio`, default 4): the shared scale
 *    leaves the small channels a few levels. Fix: per-channel weights, or cross-layer equalization.
 *  - clipping: the activation's clip range cut off >= `clipShare` (default 0.1%) of the values the
 *    quantizer saw. Fix: the minmax observer (no clipping).
 *  - outliers: 99.99% of the activation's values lie in under `outlierSpan` (default 25%) of its
 *    quantization range: a few outliers stretch the scale. Fix: the MSE observer (clips them).
 *  - sensitive: none of the above; the layer is just sensitive. Fix: keep it in float.
 *
 * Which layers are diagnosed at all (the sensitivity rule, `sensitivity()`): a layer is sensitive
 * only when
 *  1. the fully quantized model's output error is measurable: output SQNR below `quietSqnrDb`
 *     (default 30 dB, noise at 0.1% of the signal power) or, for a classifier, top-1 agreement below
 *     `minAgreement` (default 99%); otherwise quantization costs nothing worth fixing and no layer is
 *     called sensitive (mnist-8 at int8: 38 dB, 100% agreement); and
 *  2. quantizing that layer alone costs at least `minErrorShare` (default 10%) of that output error:
 *     share = noise power alone / noise power all = 10^((SQNR_all - SQNR_alone) / 10), from the
 *     layerwise analysis (without it, no layer is called sensitive).
 * A fix already in effect (per-channel weights, equalization among the passes, the observer already
 * in use; `current`, the quantized model's recorded options) is never suggested: it goes to the
 * suggestion's `skipped` with the reason, and a layer left with no fix is offered keep-float.
 * tryFixes() then re-quantizes the float model with each distinct fix (one at a time, on top of the
 * quantized model's own settings) and measures it on held-out data, next to the baseline; every fix
 * it does not run is returned too, with `skipped` saying why.
 */
import type { Model } from '../ir/graph.js';
import { quantize } from '../ptq/quantize.js';
import { resolveQuantizeOptions, type QuantizeOptions } from '../ptq/options.js';
import type { Feeds } from '../ptq/calibrate.js';
import { PASS_NAMES } from '../passes/pipeline.js';
import { compareOutput, floatReference, type AnalysisReport, type LayerAnalysis } from './analyze.js';
import { foldedFloatLayers, keepOnlyLayers, qdqLayers, recordedOptions } from './qdq-graph.js';

export type FixKind = 'per-channel' | 'equalization' | 'observer-minmax' | 'observer-mse' | 'keep-float';
export type Cause = 'weight-spread' | 'clipping' | 'outliers' | 'sensitive';

export interface Suggestion {
  layer: string;
  cause: Cause;
  /** What the analysis measured, in words. */
  evidence: string;
  /** Most promising first; none already in effect. */
  fixes: FixKind[];
  /** Share of the fully quantized model's output error (noise power) this layer causes when quantized alone. */
  errorShare: number;
  /** Fixes for this cause left out because they are already in effect, with why. */
  skipped: { fix: FixKind; why: string }[];
}

export interface SuggestOptions {
  /** Layers to diagnose, most sensitive first. Default 5. */
  top?: number;
  /** weight-spread threshold: largest / median channel max|w|. Default 4. */
  spreadRatio?: number;
  /** clipping threshold: share of values clipped. Default 0.001. */
  clipShare?: number;
  /** outliers threshold: share of the quantization range holding 99.99% of the values. Default 0.25. */
  outlierSpan?: number;
  /** Sensitivity rule (file comment): output SQNR at or above which the model's error is not measurable. Default 30 dB. */
  quietSqnrDb?: number;
  /** Sensitivity rule: top-1 agreement below which a classifier's error is measurable. Default 0.99. */
  minAgreement?: number;
  /** Sensitivity rule: least share of the output error a layer must cause alone. Default 0.1. */
  minErrorShare?: number;
  /** The quantized model's own settings (its onnx_ptq.options): fixes already in effect are not suggested. */
  current?: Partial<QuantizeOptions>;
}

export interface Sensitivity {
  /** Whether the fully quantized model's output error is measurable (rule 1). */
  measurable: boolean;
  /** Layers meeting both rules, most sensitive first, with their share of the output error. */
  layers: { name: string; errorShare: number }[];
  /** The rule's verdict in words (why no layer is sensitive, when none is). */
  why: string;
}

/** Share of the histogram's span holding all but `tail` of its counts (trimmed evenly from both ends). */
function coreSpan(counts: readonly number[], tail: number): number {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return 1;
  const cut = (total * tail) / 2;
  let lo = 0,
    hi = counts.length - 1,
    acc = 0;
  while (lo < hi && acc + counts[lo] <= cut) acc += counts[lo++];
  acc = 0;
  while (hi > lo && acc + counts[hi] <= cut) acc += counts[hi--];
  return (hi - lo + 1) / counts.length;
}

type Diagnosis = Pick<Suggestion, 'layer' | 'cause' | 'evidence' | 'fixes'>;

function diagnose(l: LayerAnalysis, o: Required<Omit<SuggestOptions, 'current'>>): Diagnosis {
  const w = l.weight;
  if (w && !w.perChannel && w.channelMax.length > 1) {
    const amax = w.channelMax.map((mx, c) => Math.max(Math.abs(mx), Math.abs(w.channelMin[c])));
    const sorted = [...amax].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const ratio = median > 0 ? sorted[sorted.length - 1] / median : Infinity;
    if (ratio >= o.spreadRatio) {
      return {
        layer: l.name,
        cause: 'weight-spread',
        fixes: ['per-channel', 'equalization'],
        evidence: `per-tensor weights; output channel ranges differ ${Number.isFinite(ratio) ? ratio.toFixed(1) : 'inf'}x (largest / median max|w|)`,
      };
    }
  }
  const a = l.activation;
  if (a && a.clippedShare >= o.clipShare) {
    return {
      layer: l.name,
      cause: 'clipping',
      fixes: ['observer-minmax'],
      evidence: `${(100 * a.clippedShare).toFixed(2)}% of '${a.tensor}' clipped`,
    };
  }
  if (a) {
    // The histogram spans [min(observed, clip), max(observed, clip)]; scale its core to the clip range.
    const h = a.histogram,
      range = a.clipMax - a.clipMin;
    const span = range > 0 ? (coreSpan(h.counts, 1e-4) * (h.max - h.min)) / range : 1;
    if (span < o.outlierSpan) {
      return {
        layer: l.name,
        cause: 'outliers',
        fixes: ['observer-mse'],
        evidence: `99.99% of '${a.tensor}' within ${(100 * span).toFixed(1)}% of its quantization range`,
      };
    }
  }
  return {
    layer: l.name,
    cause: 'sensitive',
    fixes: ['keep-float'],
    evidence: 'weights and activation ranges look ordinary: the layer is sensitive as such',
  };
}

function withDefaults(opts: SuggestOptions): Required<Omit<SuggestOptions, 'current'>> {
  return {
    top: opts.top ?? 5,
    spreadRatio: opts.spreadRatio ?? 4,
    clipShare: opts.clipShare ?? 1e-3,
    outlierSpan: opts.outlierSpan ?? 0.25,
    quietSqnrDb: opts.quietSqnrDb ?? 30,
    minAgreement: opts.minAgreement ?? 0.99,
    minErrorShare: opts.minErrorShare ?? 0.1,
  };
}

/** The sensitivity rule of the file comment, applied to an analysis. */
export function sensitivity(report: AnalysisReport, opts: SuggestOptions = {}): Sensitivity {
  const o = withDefaults(opts);
  const out = report.output;
  const classifier = out.kind !== 'dense';
  const measurable = out.sqnrDb < o.quietSqnrDb || (classifier && out.agreement < o.minAgreement);
  const verdict = `model output SQNR ${out.sqnrDb.toFixed(1)} dB${classifier ? `, top-1 agreement ${(100 * out.agreement).toFixed(2)}%` : ''}`;
  if (!measurable) {
    return {
      measurable,
      layers: [],
      why: `no layer is sensitive: quantization costs nothing measurable here (${verdict}; a layer is called sensitive only when the output SQNR is below ${o.quietSqnrDb} dB${classifier ? ` or agreement below ${(100 * o.minAgreement).toFixed(0)}%` : ''}, and quantizing it alone makes at least ${(100 * o.minErrorShare).toFixed(0)}% of the output error)`,
    };
  }
  const layers = report.layers
    .filter((l) => l.layerwise)
    .map((l) => ({ name: l.name, errorShare: 10 ** ((out.sqnrDb - l.layerwise!.outputSqnrDb) / 10) }))
    .filter((l) => l.errorShare >= o.minErrorShare);
  const why = layers.length
    ? `${layers.length} layer(s) each make at least ${(100 * o.minErrorShare).toFixed(0)}% of the output error when quantized alone (${verdict})`
    : report.layers.some((l) => l.layerwise)
      ? `no layer is sensitive: none makes ${(100 * o.minErrorShare).toFixed(0)}% of the output error alone (${verdict}); the error is spread over many layers`
      : `no layer is called sensitive: the layerwise analysis (each layer quantized alone) was not run (${verdict})`;
  return { measurable, layers, why };
}

/** Why a fix is already in effect under `current`, or undefined when it is not. */
function inEffect(fix: FixKind, current: Partial<QuantizeOptions> | undefined): string | undefined {
  if (!current) return undefined;
  switch (fix) {
    case 'per-channel':
      return current.weightGranularity === 'per-channel' ? 'the weights are already per-channel' : undefined;
    case 'equalization':
      return current.passes?.includes('equalization') ? 'equalization already ran' : undefined;
    case 'observer-minmax':
      return current.observer === 'minmax'
        ? "already calibrated with minmax: the clipped values lie beyond the calibration data's range (calibrate on more, or more representative, data)"
        : undefined;
    case 'observer-mse':
      return current.observer === 'mse' ? 'already calibrated with mse' : undefined;
    case 'keep-float':
      return undefined;
  }
}

/**
 * Diagnoses the sensitive layers of an analysis (the rule in the file comment), at most `top`,
 * most sensitive first; empty when none is (`sensitivity()` says why).
 */
export function suggestFixes(report: AnalysisReport, opts: SuggestOptions = {}): Suggestion[] {
  const o = withDefaults(opts);
  const sens = sensitivity(report, opts);
  const share = new Map(sens.layers.map((l) => [l.name, l.errorShare]));
  return report.layers
    .filter((l) => share.has(l.name))
    .slice(0, o.top)
    .map((l) => {
      const d = diagnose(l, o);
      const skipped = d.fixes.flatMap((f) => {
        const why = inEffect(f, opts.current);
        return why ? [{ fix: f, why }] : [];
      });
      let fixes = d.fixes.filter((f) => !skipped.some((k) => k.fix === f));
      if (!fixes.length) fixes = ['keep-float'];
      return { ...d, fixes, skipped, errorShare: share.get(l.name)! };
    });
}

export interface FixTrial {
  fix: FixKind | 'baseline';
  /** The settings changed, in words. */
  change: string;
  /** NaN when skipped. */
  agreement: number;
  sqnrDb: number;
  /** Set when the fix was not run: why. */
  skipped?: string;
}

function optionsFor(fix: Exclude<FixKind, 'keep-float'>, base: QuantizeOptions): Partial<QuantizeOptions> | undefined {
  switch (fix) {
    case 'per-channel':
      return base.weightGranularity === 'per-channel' ? undefined : { weightGranularity: 'per-channel' };
    case 'equalization': {
      if (base.passes.includes('equalization')) return undefined;
      const want = new Set([...base.passes, 'equalization']);
      return { passes: PASS_NAMES.filter((p) => want.has(p)) };
    }
    case 'observer-minmax':
      return base.observer === 'minmax' ? undefined : { observer: 'minmax', observerOptions: {} };
    case 'observer-mse':
      return base.observer === 'mse' ? undefined : { observer: 'mse', observerOptions: {} };
  }
}

/**
 * Tries each distinct fix of `suggestions` once: re-quantizes `floatModel` with the quantized
 * model's own options (its onnx_ptq.options metadata, else the defaults) plus that one change, on
 * `calibration`; 'keep-float' keeps the most sensitive layer suggesting it in float in `quantModel` itself.
 * Measured on `evaluation` (held out) against the float model: top-1 agreement and output SQNR.
 * Every fix not run is listed with `skipped` (already in effect; keep-float beyond the first layer;
 * the fixes the suggestions themselves left out).
 */
export async function tryFixes(
  floatModel: Model,
  quantModel: Model,
  suggestions: readonly Suggestion[],
  calibration: Feeds[],
  evaluation: Feeds[],
): Promise<FixTrial[]> {
  const base = resolveQuantizeOptions(recordedOptions(quantModel), "the quantized model's onnx_ptq.options");
  const ref = await floatReference(floatModel, evaluation);
  const out: FixTrial[] = [
    { fix: 'baseline', change: 'the quantized model as given', ...(await compareOutput(quantModel, evaluation, ref)) },
  ];
  const skip = (fix: FixKind, change: string, why: string) => out.push({ fix, change, agreement: NaN, sqnrDb: NaN, skipped: why });
  const kinds = [...new Set(suggestions.flatMap((s) => s.fixes))];
  for (const fix of kinds) {
    if (fix === 'keep-float') {
      // The most sensitive such layer only: one measured step (--keep-float auto searches how many).
      const layers = suggestions.filter((s) => s.fixes.includes('keep-float')).map((s) => s.layer);
      const names = new Set(layers.slice(0, 1));
      const enabled = new Set(
        qdqLayers(quantModel)
          .map((l) => l.name)
          .filter((n) => !names.has(n)),
      );
      const m = keepOnlyLayers(quantModel, enabled, foldedFloatLayers(floatModel, quantModel), true);
      out.push({ fix, change: `${[...names].join(', ')} in float`, ...(await compareOutput(m, evaluation, ref)) });
      for (const l of layers.slice(1))
        skip(fix, `${l} in float`, 'one layer in float is measured here; --keep-float auto searches how many');
      continue;
    }
    const change = optionsFor(fix, base);
    if (!change) {
      skip(fix, '-', inEffect(fix, base) ?? "already the model's setting");
      continue;
    }
    const { model } = await quantize(floatModel, { ...base, ...change, calibration });
    out.push({
      fix,
      change: Object.entries(change)
        .filter(([k]) => k !== 'observerOptions')
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
        .join('; '),
      ...(await compareOutput(model, evaluation, ref)),
    });
  }
  // Fixes the suggestions left out as already in effect, once each.
  for (const s of suggestions) for (const k of s.skipped) if (!out.some((t) => t.fix === k.fix)) skip(k.fix, '-', k.why);
  return out;
}
