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
 *
 * Every kind but moving-average keeps a state that depends only on the multiset of values seen
 * (min/max, and a histogram on a power-of-two grid: histogram.ts), so two observers merge into
 * exactly the observer of their joint data: calibration over workers or shards equals one pass.
 * moving-average weighs batches by their order (min_t depends on which batch came last); it is
 * `mergeable: false`, and parallel or sharded calibration refuses it (STATS_MISMATCH) rather than
 * return a result that depends on how the data was split.
 */
import { OnnxPtqError } from '../../errors.js';
import { scanLong } from '../../backends/stats-kernels.js';
import { AdaptiveHistogram, MAX_BINS } from './histogram.js';
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
  /**
   * Adds a batch. `scanned`: scanLong(values) (stats-kernels.ts), when the caller has it already
   * (calibration scans each tensor once for its finite check and its observer); the observer
   * computes the same numbers itself otherwise.
   */
  observe(values: ArrayLike<number>, scanned?: Float64Array): void;
  /** The range to quantize with, for this quantization target. */
  range(target: ClipTarget): { min: number; max: number };
  /** Observed extremes, whatever the clip. */
  readonly observedMin: number;
  readonly observedMax: number;
  /** The histogram, for kinds that keep one (reports plot it). */
  readonly histogram?: AdaptiveHistogram;
  /** Whether merge() gives exactly the observer of the joint data (false: the state depends on order). */
  readonly mergeable: boolean;
  /** Adds another observer's data (same kind and settings). */
  merge(other: Observer): void;
  /** Plain, JSON-safe state (numbers that may be infinite are strings); restore with observerFromState. */
  state(): ObserverState;
}

/** JSON can't hold infinities: they travel as strings. */
export type JsonNumber = number | 'Infinity' | '-Infinity' | 'NaN';
export const toJsonNumber = (v: number): JsonNumber => (Number.isFinite(v) ? v : (String(v) as JsonNumber));
export function fromJsonNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity' || v === '-Infinity' || v === 'NaN') return Number(v);
  throw new OnnxPtqError('INVALID_STATS', `${what} must be a number, got ${JSON.stringify(v)}`);
}

/** An observer's state as written in a statistics file (docs/calibration.md). */
export type ObserverState =
  | { kind: 'minmax'; min: JsonNumber; max: JsonNumber }
  | {
      kind: 'histogram';
      bins: number;
      /** Bin width 2^exponent. */
      exponent: number;
      /** Index of the bin boundary at 0. */
      zero: number;
      min: JsonNumber;
      max: JsonNumber;
      total: number;
      zeros: number;
      /** counts[first + i] for i < counts.length; all other bins are 0. */
      first: number;
      counts: number[];
    };

class MinMaxObserver implements Observer {
  readonly kind: ObserverKind = 'minmax';
  readonly mergeable = true;
  observedMin = Infinity;
  observedMax = -Infinity;
  observe(values: ArrayLike<number>, scanned?: Float64Array): void {
    let lo = this.observedMin,
      hi = this.observedMax;
    const scan = scanned ?? scanLong(values);
    if (scan) {
      // The kernel's min and max are those of this loop over the batch alone (+0 for a zero).
      if (scan[0]! < lo) lo = scan[0]!;
      if (scan[1]! > hi) hi = scan[1]!;
    } else {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    // +0: which of 0 and -0 came first must not show (the state is order-free).
    this.observedMin = lo + 0;
    this.observedMax = hi + 0;
  }
  merge(other: Observer): void {
    sameKind(this, other);
    this.observedMin = Math.min(this.observedMin, other.observedMin) + 0;
    this.observedMax = Math.max(this.observedMax, other.observedMax) + 0;
  }
  state(): ObserverState {
    return { kind: 'minmax', min: toJsonNumber(this.observedMin), max: toJsonNumber(this.observedMax) };
  }
  range(): { min: number; max: number } {
    return Number.isFinite(this.observedMin) ? { min: this.observedMin, max: this.observedMax } : { min: 0, max: 0 };
  }
}

class MovingAverageObserver implements Observer {
  readonly kind: ObserverKind = 'moving-average';
  readonly mergeable = false;
  merge(): void {
    throw orderDependent();
  }
  state(): ObserverState {
    throw orderDependent();
  }
  observedMin = Infinity;
  observedMax = -Infinity;
  private avgMin = 0;
  private avgMax = 0;
  private seen = false;
  constructor(private readonly c: number) {}
  observe(values: ArrayLike<number>, scanned?: Float64Array): void {
    if (values.length === 0) return;
    let lo = Infinity,
      hi = -Infinity;
    const scan = scanned ?? scanLong(values);
    if (scan) {
      lo = scan[0]!;
      hi = scan[1]!;
      // The loop below keeps the first zero it meets when an extreme is 0 (and no sign fix follows
      // here): -0 when that zero is -0. The kernel reports +0.
      if ((lo === 0 || hi === 0) && Object.is(values[(values as Float32Array).indexOf(0)], -0)) {
        if (lo === 0) lo = -0;
        if (hi === 0) hi = -0;
      }
    } else {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
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
  readonly mergeable = true;
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
  observe(values: ArrayLike<number>, scanned?: Float64Array): void {
    this.histogram.add(values, scanned);
  }
  merge(other: Observer): void {
    sameKind(this, other);
    this.histogram.merge(other.histogram!);
  }
  state(): ObserverState {
    const h = this.histogram;
    let first = 0,
      end = h.bins;
    while (first < end && h.counts[first] === 0) first++;
    while (end > first && h.counts[end - 1] === 0) end--;
    return {
      kind: 'histogram',
      bins: h.bins,
      exponent: h.exponent,
      zero: h.zero,
      min: toJsonNumber(h.min),
      max: toJsonNumber(h.max),
      total: h.total,
      zeros: h.zeros,
      first,
      counts: Array.from(h.counts.subarray(first, end)),
    };
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

function orderDependent(): OnnxPtqError {
  return new OnnxPtqError(
    'STATS_MISMATCH',
    'the moving-average observer depends on the order of the samples, so its statistics cannot be merged across workers or shards; use workers: 1 and no shards, or an order-free observer (minmax, percentile, mse, kl)',
  );
}

function sameKind(a: Observer, b: Observer): void {
  const ha = a.histogram,
    hb = b.histogram;
  if ((ha === undefined) !== (hb === undefined) || (a.kind === 'minmax') !== (b.kind === 'minmax'))
    throw new OnnxPtqError('STATS_MISMATCH', `cannot merge a ${a.kind} observer with a ${b.kind} observer`);
  if (ha && hb && ha.bins !== hb.bins)
    throw new OnnxPtqError('STATS_MISMATCH', `cannot merge histograms of ${ha.bins} and ${hb.bins} bins (observerOptions.bins differ)`);
}

/**
 * Rebuilds an observer of `kind` from a saved state, checking every field (a statistics file is
 * input: `what` names it in errors).
 */
export function observerFromState(kind: ObserverKind, opts: ObserverOptions, state: unknown, what: string): Observer {
  const o = createObserver(kind, opts);
  const s = state as Record<string, unknown> | null;
  const bad = (why: string): never => {
    throw new OnnxPtqError('INVALID_STATS', `${what}: ${why}`);
  };
  if (s === null || typeof s !== 'object') bad('is not an object');
  const int = (k: string, lo: number, hi: number): number => {
    const v = s![k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
      bad(`'${k}' must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  if (o instanceof MinMaxObserver) {
    if (s!.kind !== 'minmax') bad(`holds a '${String(s!.kind)}' state where the ${kind} observer keeps 'minmax'`);
    o.observedMin = fromJsonNumber(s!.min, `${what}: min`);
    o.observedMax = fromJsonNumber(s!.max, `${what}: max`);
    return o;
  }
  const h = o.histogram;
  if (!h) throw orderDependent();
  if (s!.kind !== 'histogram') bad(`holds a '${String(s!.kind)}' state where the ${kind} observer keeps a histogram`);
  if (s!.bins !== h.bins)
    throw new OnnxPtqError(
      'STATS_MISMATCH',
      `${what}: a histogram of ${String(s!.bins)} bins where this run uses ${h.bins} (observerOptions.bins)`,
    );
  const total = int('total', 0, Number.MAX_SAFE_INTEGER);
  if (total === 0) return o;
  h.exponent = int('exponent', -1100, 1100);
  h.width = 2 ** h.exponent;
  h.zero = int('zero', 0, h.bins);
  h.min = fromJsonNumber(s!.min, `${what}: min`);
  h.max = fromJsonNumber(s!.max, `${what}: max`);
  h.total = total;
  h.zeros = int('zeros', 0, total);
  const first = int('first', 0, h.bins);
  const counts = s!.counts;
  if (!Array.isArray(counts) || first + counts.length > h.bins) bad(`'counts' must be a list of at most ${h.bins - first} counts`);
  let sum = 0;
  (counts as unknown[]).forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) bad(`'counts' holds ${JSON.stringify(c)}, not a count`);
    h.counts[first + i] = c as number;
    sum += c as number;
  });
  if (sum !== total) bad(`its counts add up to ${sum}, not its total ${total} (a damaged file)`);
  if (
    !(h.min <= h.max) ||
    AdaptiveHistogram.exponentFor(h.min, h.max, h.bins) !== h.exponent ||
    h.zero !== -Math.min(Math.floor(h.min * 2 ** -h.exponent), 0)
  )
    bad(`its exponent ${h.exponent} is not the grid of [${h.min}, ${h.max}] (a damaged file, or one from another version)`);
  return o;
}

export function createObserver(kind: ObserverKind, opts: ObserverOptions = {}): Observer {
  if (opts.bins !== undefined && !(Number.isInteger(opts.bins) && opts.bins >= 16 && opts.bins <= MAX_BINS && opts.bins % 2 === 0)) {
    throw new OnnxPtqError('INVALID_OPTION', `bins must be an even integer in [16, ${MAX_BINS}], got ${opts.bins}`);
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
