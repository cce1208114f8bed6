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
 * tryFixes() then re-quantizes the float model with each distinct fix (one at a time, on top of the
 * quantized model's own settings) and measures it on held-out data, next to the baseline.
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
  /** Most promising first. */
  fixes: FixKind[];
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
}

/** Share of the histogram's span holding all but `tail` of its counts (trimmed evenly from both ends). */
function coreSpan(counts: readonly number[], tail: number): number {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return 1;
  const cut = (total * tail) / 2;
  let lo = 0, hi = counts.length - 1, acc = 0;
  while (lo < hi && acc + counts[lo] <= cut) acc += counts[lo++];
  acc = 0;
  while (hi > lo && acc + counts[hi] <= cut) acc += counts[hi--];
  return (hi - lo + 1) / counts.length;
}

function diagnose(l: LayerAnalysis, o: Required<SuggestOptions>): Suggestion {
  const w = l.weight;
  if (w && !w.perChannel && w.channelMax.length > 1) {
    const amax = w.channelMax.map((mx, c) => Math.max(Math.abs(mx), Math.abs(w.channelMin[c])));
    const sorted = [...amax].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const ratio = median > 0 ? sorted[sorted.length - 1] / median : Infinity;
    if (ratio >= o.spreadRatio) {
      return {
        layer: l.name, cause: 'weight-spread', fixes: ['per-channel', 'equalization'],
        evidence: `per-tensor weights; output channel ranges differ ${Number.isFinite(ratio) ? ratio.toFixed(1) : 'inf'}x (largest / median max|w|)`,
      };
    }
  }
  const a = l.activation;
  if (a && a.clippedShare >= o.clipShare) {
    return { layer: l.name, cause: 'clipping', fixes: ['observer-minmax'], evidence: `${(100 * a.clippedShare).toFixed(2)}% of '${a.tensor}' clipped` };
  }
  if (a) {
    // The histogram spans [min(observed, clip), max(observed, clip)]; scale its core to the clip range.
    const h = a.histogram, range = a.clipMax - a.clipMin;
    const span = range > 0 ? (coreSpan(h.counts, 1e-4) * (h.max - h.min)) / range : 1;
    if (span < o.outlierSpan) {
      return { layer: l.name, cause: 'outliers', fixes: ['observer-mse'], evidence: `99.99% of '${a.tensor}' within ${(100 * span).toFixed(1)}% of its quantization range` };
    }
  }
  return { layer: l.name, cause: 'sensitive', fixes: ['keep-float'], evidence: 'weights and activation ranges look ordinary: the layer is sensitive as such' };
}

/** Diagnoses the `top` most sensitive layers of an analysis (report.layers is sorted, worst first). */
export function suggestFixes(report: AnalysisReport, opts: SuggestOptions = {}): Suggestion[] {
  const o: Required<SuggestOptions> = { top: opts.top ?? 5, spreadRatio: opts.spreadRatio ?? 4, clipShare: opts.clipShare ?? 1e-3, outlierSpan: opts.outlierSpan ?? 0.25 };
  return report.layers.slice(0, o.top).map((l) => diagnose(l, o));
}

export interface FixTrial {
  fix: FixKind | 'baseline';
  /** The settings changed, in words. */
  change: string;
  agreement: number;
  sqnrDb: number;
}

function optionsFor(fix: FixKind, base: QuantizeOptions): Partial<QuantizeOptions> | undefined {
  switch (fix) {
    case 'per-channel': return base.weightGranularity === 'per-channel' ? undefined : { weightGranularity: 'per-channel' };
    case 'equalization': {
      if (base.passes.includes('equalization')) return undefined;
      const want = new Set([...base.passes, 'equalization']);
      return { passes: PASS_NAMES.filter((p) => want.has(p)) };
    }
    case 'observer-minmax': return base.observer === 'minmax' ? undefined : { observer: 'minmax', observerOptions: {} };
    case 'observer-mse': return base.observer === 'mse' ? undefined : { observer: 'mse', observerOptions: {} };
    case 'keep-float': return undefined;
  }
}

/**
 * Tries each distinct fix of `suggestions` once: re-quantizes `floatModel` with the quantized
 * model's own options (its onnx_ptq.options metadata, else the defaults) plus that one change, on
 * `calibration`; 'keep-float' keeps the most sensitive layer suggesting it in float in `quantModel` itself.
 * Measured on `evaluation` (held out) against the float model: top-1 agreement and output SQNR.
 */
export async function tryFixes(floatModel: Model, quantModel: Model, suggestions: readonly Suggestion[], calibration: Feeds[], evaluation: Feeds[]): Promise<FixTrial[]> {
  const base = resolveQuantizeOptions(recordedOptions(quantModel), 'the quantized model\'s onnx_ptq.options');
  const ref = await floatReference(floatModel, evaluation);
  const out: FixTrial[] = [{ fix: 'baseline', change: 'the quantized model as given', ...(await compareOutput(quantModel, evaluation, ref)) }];
  const kinds = [...new Set(suggestions.flatMap((s) => s.fixes))];
  for (const fix of kinds) {
    if (fix === 'keep-float') {
      // The most sensitive such layer only: one measured step (--keep-float auto searches how many).
      const names = new Set(suggestions.filter((s) => s.fixes.includes('keep-float')).slice(0, 1).map((s) => s.layer));
      const enabled = new Set(qdqLayers(quantModel).map((l) => l.name).filter((n) => !names.has(n)));
      const m = keepOnlyLayers(quantModel, enabled, foldedFloatLayers(floatModel, quantModel), true);
      out.push({ fix, change: `${[...names].join(', ')} in float`, ...(await compareOutput(m, evaluation, ref)) });
      continue;
    }
    const change = optionsFor(fix, base);
    if (!change) continue; // already the model's setting
    const { model } = await quantize(floatModel, { ...base, ...change, calibration });
    out.push({ fix, change: Object.entries(change).filter(([k]) => k !== 'observerOptions').map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('; '), ...(await compareOutput(model, evaluation, ref)) });
  }
  return out;
}
