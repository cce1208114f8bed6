import { OnnxPtqError } from '../../errors.js';

/**
 * A histogram whose memory is fixed by its bin count, whatever the number of samples. Its range
 * grows by a power-of-two factor of the bin width (merging runs of bins exactly), both sides at once, so no
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
  /** Values exactly 0 (a ReLU's spike), also counted in their bin: the KL search sets them apart. */
  zeros = 0;

  constructor(readonly bins = 2048) {
    if (!Number.isInteger(bins) || bins < 16 || bins % 2 !== 0)
      throw new OnnxPtqError('INVALID_OPTION', `histogram bins must be an even integer >= 16, got ${bins}`);
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
    let vmin = Infinity,
      vmax = -Infinity,
      zeros = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < vmin) vmin = v;
      if (v > vmax) vmax = v;
      if (v !== v) vmin = NaN; // NaN compares false above; make the check below see it
      if (v === 0) zeros++;
    }
    if (values.length === 0) return;
    if (!Number.isFinite(vmin) || !Number.isFinite(vmax))
      throw new OnnxPtqError('INVALID_DATA', 'histogram: the data holds a non-finite value (NaN or infinity)');
    if (this.width === 0) this.init(vmin, vmax);
    else if (vmin < this.lo || vmax >= this.hi) this.fit(Math.min(vmin, this.min), Math.max(vmax, this.max));
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
    this.zeros += zeros;
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

  // Widens the grid by the least power of two f that holds [lo, hi], and places 0 so that both sides
  // fit at once (growing one side at a time ping-pongs: each side's growth halves the other's bins,
  // and symmetric data ended at a quarter of the bins). 0 stays on a boundary and f is a power of two,
  // so every old bin falls wholly into one new bin: old bin i goes to floor((i - zero) / f) + zero'.
  private fit(lo: number, hi: number): void {
    const B = this.bins,
      c = this.counts,
      z = this.zero;
    for (let f = 2; ; f *= 2) {
      const w = this.width * f;
      const nl = lo < 0 ? Math.ceil(-lo / w) : 0;
      const nr = hi >= 0 ? Math.floor(hi / w) + 1 : 0;
      if (nl + nr > B) continue;
      // Spare bins go to the sides in proportion to their extent (room for the next batches).
      const z2 = Math.min(B - nr, Math.max(nl, Math.round((B * -Math.min(lo, 0)) / (Math.max(hi, 0) - Math.min(lo, 0)))));
      const old = c.slice();
      c.fill(0);
      for (let i = 0; i < B; i++) if (old[i] !== 0) c[Math.floor((i - z) / f) + z2] += old[i];
      this.zero = z2;
      this.width = w;
      return;
    }
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
