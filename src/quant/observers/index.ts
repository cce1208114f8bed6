/**
 * Calibration observers: each sees the values a tensor takes over the calibration data, batch by
 * batch, and proposes the range [min, max] to quantize it with. Memory is bounded by the histogram
 * size (default 2048 bins), never by the number of samples.
 *
 * | kind | range | options (defaults) |
 * | --- | --- | --- |
 * | minmax | observed min and max | - |
 * | moving-average | min_t = min_{t-1} + c (batchmin - min_{t-1}), same for max (PyTorch's MovingAverageMinMax) | averagingConstant 0.01 |
 * | percentile | the p-th and (100-p)-th percentiles, from the histogram | percentile 99.99 |
 * | mse | the clip minimizing quantization MSE on the histogram | bins 2048, steps 200 |
 * | kl | the clip minimizing KL(P \|\| Q) over every bin edge of the |x| histogram (TensorRT entropy calibration, clip-search.ts) | bins 4096 |
 */
import { OnnxPtqError } from '../../errors.js';
import { AdaptiveHistogram } from './histogram.js';
import { searchClip, type ClipTarget } from './clip-search.js';

export type ObserverKind = 'minmax' | 'moving-average' | 'percentile' | 'mse' | 'kl';
export const OBSERVER_KINDS: readonly ObserverKind[] = ['minmax', 'moving-average', 'percentile', 'mse', 'kl'];

export interface ObserverOptions {
  /** moving-average: weight of each new batch. Default 0.01. */
  averagingConstant?: number;
  /** percentile: upper percentile in (50, 100]. Default 99.99. */
  percentile?: number;
  /** histogram-based kinds: bin count. Default 2048 (kl: 4096, enough bins per quantization level). */
  bins?: number;
  /** mse: candidate clips. Default 200. (kl tries every bin edge.) */
  steps?: number;
}

export interface Observer {
  readonly kind: ObserverKind;
  observe(values: ArrayLike<number>): void;
  /** The range to quantize with, for this quantization target. */
  range(target: ClipTarget): { min: number; max: number };
  /** Observed extremes, whatever the clip. */
  readonly observedMin: number;
  readonly observedMax: number;
  /** The histogram, for kinds that keep one (reports plot it). */
  readonly histogram?: AdaptiveHistogram;
}

class MinMaxObserver implements Observer {
  readonly kind: ObserverKind = 'minmax';
  observedMin = Infinity;
  observedMax = -Infinity;
  observe(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < this.observedMin) this.observedMin = v;
      if (v > this.observedMax) this.observedMax = v;
    }
  }
  range(): { min: number; max: number } {
    return Number.isFinite(this.observedMin) ? { min: this.observedMin, max: this.observedMax } : { min: 0, max: 0 };
  }
}

class MovingAverageObserver implements Observer {
  readonly kind: ObserverKind = 'moving-average';
  observedMin = Infinity;
  observedMax = -Infinity;
  private avgMin = 0;
  private avgMax = 0;
  private seen = false;
  constructor(private readonly c: number) {}
  observe(values: ArrayLike<number>): void {
    if (values.length === 0) return;
    let lo = Infinity,
      hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.observedMin = Math.min(this.observedMin, lo);
    this.observedMax = Math.max(this.observedMax, hi);
    if (!this.seen) {
      this.avgMin = lo;
      this.avgMax = hi;
      this.seen = true;
    } else {
      this.avgMin += this.c * (lo - this.avgMin);
      this.avgMax += this.c * (hi - this.avgMax);
    }
  }
  range(): { min: number; max: number } {
    return { min: this.avgMin, max: this.avgMax };
  }
}

class HistogramObserver implements Observer {
  readonly histogram: AdaptiveHistogram;
  constructor(
    readonly kind: ObserverKind,
    private readonly opts: ObserverOptions,
  ) {
    this.histogram = new AdaptiveHistogram(opts.bins ?? (kind === 'kl' ? 4096 : 2048));
  }
  get observedMin(): number {
    return this.histogram.min;
  }
  get observedMax(): number {
    return this.histogram.max;
  }
  observe(values: ArrayLike<number>): void {
    this.histogram.add(values);
  }
  range(target: ClipTarget): { min: number; max: number } {
    const h = this.histogram;
    if (h.total === 0) return { min: 0, max: 0 };
    if (this.kind === 'percentile') {
      const p = (this.opts.percentile ?? 99.99) / 100;
      const hi = h.quantile(p),
        lo = h.quantile(1 - p);
      return { min: Math.min(lo, 0), max: Math.max(hi, 0) };
    }
    const r = searchClip(h, target, this.kind === 'kl' ? 'kl' : 'mse', { steps: this.opts.steps });
    return { min: r.min, max: r.max };
  }
}

export function createObserver(kind: ObserverKind, opts: ObserverOptions = {}): Observer {
  if (opts.bins !== undefined && !(Number.isInteger(opts.bins) && opts.bins >= 16 && opts.bins % 2 === 0)) {
    throw new OnnxPtqError('INVALID_OPTION', `bins must be an even integer >= 16, got ${opts.bins}`);
  }
  switch (kind) {
    case 'minmax':
      return new MinMaxObserver();
    case 'moving-average': {
      const c = opts.averagingConstant ?? 0.01;
      if (!(c > 0 && c <= 1)) throw new OnnxPtqError('INVALID_OPTION', `averagingConstant must be in (0, 1], got ${c}`);
      return new MovingAverageObserver(c);
    }
    case 'percentile': {
      const p = opts.percentile ?? 99.99;
      if (!(p > 50 && p <= 100)) throw new OnnxPtqError('INVALID_OPTION', `percentile must be in (50, 100], got ${p}`);
      return new HistogramObserver(kind, opts);
    }
    case 'mse':
    case 'kl':
      if (opts.steps !== undefined && !(Number.isInteger(opts.steps) && opts.steps >= 1)) {
        throw new OnnxPtqError('INVALID_OPTION', `steps must be an integer >= 1, got ${opts.steps}`);
      }
      return new HistogramObserver(kind, opts);
    default:
      throw new OnnxPtqError('INVALID_OPTION', `observer must be one of ${OBSERVER_KINDS.join(', ')}, got '${String(kind)}'`);
  }
}

export { AdaptiveHistogram, searchClip, type ClipTarget };
