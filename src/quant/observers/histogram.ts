import { OnnxPtqError } from '../../errors.js';
import { histogramF32Ref } from '../../backends/js-f32.js';
import { STATS_KERNEL_MIN_LENGTH, scanLong, statsKernels } from '../../backends/stats-kernels.js';

/** Finest bin width, 2^MIN_EXP: a tensor of zeros (or of subnormals) still gets a finite grid. */
const MIN_EXP = -160;
export const MAX_BINS = 1 << 20;

/**
 * A histogram whose memory is fixed by its bin count, whatever the number of samples, and whose
 * state is a function of the multiset of values it saw, not of their order or batching. That is
 * what makes calibration statistics mergeable exactly (workers, shards: docs/calibration.md):
 *
 * - The bin width is a power of two, 2^exponent, and bin edges are the multiples of it, so 0 is
 *   always a bin boundary (the clip searches fold the two sides at 0) and the grids of two widths
 *   nest: a bin of width 2^(e+1) is exactly two bins of width 2^e.
 * - The exponent is the least one for which the bins from floor(min / w) to floor(max / w) (and 0)
 *   fit in `bins`: a function of the observed min and max only. When the range grows, bins merge
 *   by a power of two (old bin j goes to floor(j / 2^d)); merging two histograms brings both to
 *   the exponent of the joint range, then adds counts. Since floor(floor(v / a) / b) = floor(v / ab)
 *   and v * 2^-e is exact in double (float32 data), every path ends in the counts of floor(v / w).
 * - The lowest bin is the one holding min(min, 0): the layout (`zero`, the index of the boundary
 *   at 0) is canonical too, so equal histograms have equal arrays.
 *
 * Counts are integers in a Float64Array (exact to 2^53 values). The price of the power-of-two
 * width: between half and all of the bins are in use (an arbitrary width fitted to the first batch
 * used all of them, until the range grew).
 */
export class AdaptiveHistogram {
  readonly counts: Float64Array;
  /** Bin width (2^exponent; 0 while empty), and the index of the bin boundary at 0: bin i covers [(i - zero) * width, (i - zero + 1) * width). */
  width = 0;
  exponent = MIN_EXP;
  zero = 0;
  min = Infinity;
  max = -Infinity;
  total = 0;
  /** Values exactly 0 (a ReLU's spike), also counted in their bin: the KL search sets them apart. */
  zeros = 0;

  constructor(readonly bins = 2048) {
    // The upper bound keeps a bin count read from a statistics file from sizing gigabytes.
    if (!Number.isInteger(bins) || bins < 16 || bins > MAX_BINS || bins % 2 !== 0)
      throw new OnnxPtqError('INVALID_OPTION', `histogram bins must be an even integer in [16, ${MAX_BINS}], got ${bins}`);
    this.counts = new Float64Array(bins);
  }

  /** Left edge of bin 0. */
  get lo(): number {
    return -this.zero * this.width;
  }

  get hi(): number {
    return (this.bins - this.zero) * this.width;
  }

  /** Adds a batch; `scanned`: scanLong(values), when the caller has it (Observer.observe). */
  add(values: ArrayLike<number>, scanned?: Float64Array): void {
    // A long Float32Array goes to the backend's kernels (scanF32, histogramF32: the same bits as
    // the loops here, which every other input takes).
    const k = values instanceof Float32Array && values.length >= STATS_KERNEL_MIN_LENGTH ? statsKernels() : null;
    let vmin = Infinity,
      vmax = -Infinity,
      zeros = 0;
    const scan = k ? (scanned ?? scanLong(values)) : undefined;
    if (scan) {
      vmin = scan[3]! >= 0 ? NaN : scan[0]!; // a NaN or infinity: refused below
      vmax = scan[1]!;
      zeros = scan[2]!;
    } else {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v < vmin) vmin = v;
        if (v > vmax) vmax = v;
        if (v !== v) vmin = NaN; // NaN compares false above; make the check below see it
        if (v === 0) zeros++;
      }
    }
    if (values.length === 0) return;
    if (!Number.isFinite(vmin) || !Number.isFinite(vmax))
      throw new OnnxPtqError('INVALID_DATA', 'histogram: the data holds a non-finite value (NaN or infinity)');
    // +0 turns -0 into 0: which of 0 and -0 came first must not show in the state.
    const min = Math.min(this.min, vmin) + 0,
      max = Math.max(this.max, vmax) + 0;
    this.regrid(min, max);
    const { counts, zero } = this;
    const inv = 2 ** -this.exponent;
    // counts[clamp(floor(v * inv) + zero, 0, bins - 1)] += 1 (the data is finite here).
    if (k) k.histogramF32(values as Float32Array, inv, zero, counts);
    else histogramF32Ref(values, inv, zero, counts);
    this.min = min;
    this.max = max;
    this.total += values.length;
    this.zeros += zeros;
  }

  /** Adds another histogram's counts (same bin count): the result is that of one histogram over both data. */
  merge(other: AdaptiveHistogram): void {
    if (other.bins !== this.bins)
      throw new OnnxPtqError('STATS_MISMATCH', `histograms with different bin counts cannot be merged (${this.bins} and ${other.bins})`);
    if (other.total === 0) return;
    const min = Math.min(this.min, other.min) + 0,
      max = Math.max(this.max, other.max) + 0;
    this.regrid(min, max);
    const f = 2 ** (this.exponent - other.exponent);
    for (let i = 0; i < other.bins; i++) {
      const c = other.counts[i];
      if (c !== 0) this.counts[Math.floor((i - other.zero) / f) + this.zero] += c;
    }
    this.min = min;
    this.max = max;
    this.total += other.total;
    this.zeros += other.zeros;
  }

  /** The least exponent whose grid holds [min, max] and 0 in `bins` bins. */
  static exponentFor(min: number, max: number, bins: number): number {
    const span = Math.max(max, 0) - Math.min(min, 0);
    // A start surely below the answer (log2 is approximate), then exact checks upwards.
    let e = span > 0 ? Math.max(MIN_EXP, Math.floor(Math.log2(span / bins)) - 2) : MIN_EXP;
    while (AdaptiveHistogram.binsNeeded(min, max, e) > bins) e++;
    return e;
  }

  private static binsNeeded(min: number, max: number, e: number): number {
    const inv = 2 ** -e;
    return Math.max(Math.floor(max * inv), -1) - Math.min(Math.floor(min * inv), 0) + 1;
  }

  // Moves the counts to the grid of [min, max]: a coarser exponent merges bins by a power of two,
  // a new lowest bin shifts them; both exact.
  private regrid(min: number, max: number): void {
    const e = Math.max(AdaptiveHistogram.exponentFor(min, max, this.bins), this.total > 0 ? this.exponent : MIN_EXP);
    const zero = -Math.min(Math.floor(min * 2 ** -e), 0);
    if (this.total > 0 && e === this.exponent && zero === this.zero) return;
    const c = this.counts;
    if (this.total > 0) {
      const old = c.slice(),
        f = 2 ** (e - this.exponent),
        z = this.zero;
      c.fill(0);
      for (let i = 0; i < this.bins; i++) if (old[i] !== 0) c[Math.floor((i - z) / f) + zero] += old[i];
    }
    this.exponent = e;
    this.width = 2 ** e;
    this.zero = zero;
  }

  /** Center of bin i. */
  center(i: number): number {
    return (i - this.zero + 0.5) * this.width;
  }

  /** The value below which a fraction q of the samples lie (linear within a bin). */
  quantile(q: number): number {
    const target = q * this.total;
    let acc = 0;
    for (let i = 0; i < this.bins; i++) {
      const c = this.counts[i];
      if (acc + c >= target && c > 0) {
        const v = this.lo + (i + (target - acc) / c) * this.width;
        return Math.min(this.max, Math.max(this.min, v));
      }
      acc += c;
    }
    return this.max;
  }
}
