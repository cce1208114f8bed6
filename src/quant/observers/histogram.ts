import { OnnxPtqError } from '../../errors.js';

/**
 * A histogram whose memory is fixed by its bin count, whatever the number of samples. Its range
 * grows by doubling the bin width (merging pairs of bins exactly), extending left or right, so no
 * count is ever re-interpolated; 0 always falls on a bin boundary, which keeps the clip searches
 * for ranges that contain 0 aligned.
 */
export class AdaptiveHistogram {
  readonly counts: Float64Array;
  /** Bin width, and the index of the bin boundary at 0: bin i covers [(i - zero) * width, (i - zero + 1) * width). */
  width = 0;
  zero = 0;
  min = Infinity;
  max = -Infinity;
  total = 0;

  constructor(readonly bins = 2048) {
    if (!Number.isInteger(bins) || bins < 16 || bins % 2 !== 0) throw new OnnxPtqError('INVALID_OPTION', `histogram bins must be an even integer >= 16, got ${bins}`);
    this.counts = new Float64Array(bins);
  }

  /** Left edge of bin 0. */
  get lo(): number {
    return -this.zero * this.width;
  }

  get hi(): number {
    return (this.bins - this.zero) * this.width;
  }

  add(values: ArrayLike<number>): void {
    let vmin = Infinity, vmax = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < vmin) vmin = v;
      if (v > vmax) vmax = v;
      if (v !== v) vmin = NaN; // NaN compares false above; make the check below see it
    }
    if (values.length === 0) return;
    if (!Number.isFinite(vmin) || !Number.isFinite(vmax)) throw new OnnxPtqError('INVALID_DATA', 'histogram: the data holds a non-finite value (NaN or infinity)');
    if (this.width === 0) this.init(vmin, vmax);
    while (vmin < this.lo) this.grow('left');
    while (vmax >= this.hi) this.grow('right');
    const { counts, width, bins } = this;
    const lo = this.lo;
    const inv = 1 / width;
    for (let i = 0; i < values.length; i++) {
      let b = Math.floor((values[i] - lo) * inv);
      if (b >= bins) b = bins - 1;
      else if (b < 0) b = 0;
      counts[b] += 1;
    }
    this.min = Math.min(this.min, vmin);
    this.max = Math.max(this.max, vmax);
    this.total += values.length;
  }

  private init(vmin: number, vmax: number): void {
    const B = this.bins;
    const amax = Math.max(Math.abs(vmin), Math.abs(vmax), 1e-30);
    if (vmin >= 0) {
      this.zero = 0;
      this.width = (amax * (1 + 1e-7)) / B;
    } else if (vmax <= 0) {
      this.zero = B;
      this.width = (amax * (1 + 1e-7)) / B;
    } else {
      this.zero = B / 2;
      this.width = (2 * amax * (1 + 1e-7)) / B;
    }
  }

  // Doubles the width. The new grid is chosen so that 0 stays on a boundary, so every old bin
  // falls wholly into one new bin: old bin i (offset i - zero from 0) goes to floor((i - zero)/2) + zero'.
  private grow(side: 'left' | 'right'): void {
    const B = this.bins, c = this.counts, z = this.zero;
    const z2 = side === 'right' ? Math.ceil(z / 2) : Math.floor((z + B) / 2);
    const old = c.slice();
    c.fill(0);
    for (let i = 0; i < B; i++) if (old[i] !== 0) c[Math.floor((i - z) / 2) + z2] += old[i];
    this.zero = z2;
    this.width *= 2;
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
