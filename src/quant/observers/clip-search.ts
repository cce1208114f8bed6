/**
 * Histogram clipping (Aidge's PTQ; Migacz 2017 for KL; Banner et al. 2019 for the MSE view):
 * among candidate ranges [t*min, t*max] (t in (0, 1]; symmetric schemes use [-t*amax, t*amax]),
 * choose the one whose quantization loses least, measured on the histogram:
 *  - mse: sum over bins of count * (x - dequant(quant(x)))^2 at the bin centers (clipping and
 *    rounding error together);
 *  - kl: KL(P || Q) where P is the histogram inside the range with the outliers folded into the
 *    edge bins and Q is P re-expressed on the 2^bits quantization levels (each level's mass spread
 *    evenly over its non-empty bins), as TensorRT's entropy calibration does.
 */
import { AdaptiveHistogram } from './histogram.js';
import { paramsForRange, quantRange, quantizeValue } from '../scheme.js';

export interface ClipTarget {
  bits: number;
  signed: boolean;
  symmetric: boolean;
}

export interface ClipSearchOptions {
  /** Number of candidate ratios t, evenly spaced over (0, 1]. Default 200. */
  steps?: number;
}

export type ClipMethod = 'mse' | 'kl';

function candidates(h: AdaptiveHistogram, target: ClipTarget, steps: number): { lo: number; hi: number }[] {
  const lo0 = Math.min(h.min, 0), hi0 = Math.max(h.max, 0);
  const amax = Math.max(-lo0, hi0);
  const out: { lo: number; hi: number }[] = [];
  for (let s = 1; s <= steps; s++) {
    const t = s / steps;
    out.push(target.symmetric ? { lo: -t * amax, hi: t * amax } : { lo: t * lo0, hi: t * hi0 });
  }
  return out;
}

export function mseOfRange(h: AdaptiveHistogram, lo: number, hi: number, target: ClipTarget): number {
  const { scale, zeroPoint } = paramsForRange(lo, hi, target.bits, target.signed, target.symmetric);
  const { qmin, qmax } = quantRange(target.bits, target.signed, target.symmetric);
  let err = 0;
  for (let i = 0; i < h.bins; i++) {
    const c = h.counts[i];
    if (c === 0) continue;
    const x = h.center(i);
    const d = x - scale * (quantizeValue(x, scale, zeroPoint, qmin, qmax) - zeroPoint);
    err += c * d * d;
  }
  return err / Math.max(1, h.total);
}

export function klOfRange(h: AdaptiveHistogram, lo: number, hi: number, target: ClipTarget): number {
  const { qmin, qmax } = quantRange(target.bits, target.signed, target.symmetric);
  const levels = qmax - qmin + 1;
  const i0 = Math.max(0, Math.floor((lo - h.lo) / h.width));
  const i1 = Math.min(h.bins, Math.ceil((hi - h.lo) / h.width));
  const n = i1 - i0;
  if (n <= 0) return Infinity;
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = h.counts[i0 + i];
  for (let i = 0; i < i0; i++) p[0] += h.counts[i];
  for (let i = i1; i < h.bins; i++) p[n - 1] += h.counts[i];
  // Q: each quantization level covers n / levels bins (fractional edges rounded to bins).
  const q = new Float64Array(n);
  const per = n / levels;
  for (let l = 0; l < levels; l++) {
    const a = Math.floor(l * per), b = l === levels - 1 ? n : Math.floor((l + 1) * per);
    if (b <= a) continue;
    let mass = 0, nonzero = 0;
    for (let i = a; i < b; i++) { mass += p[i]; if (p[i] > 0) nonzero++; }
    if (nonzero === 0) continue;
    for (let i = a; i < b; i++) if (p[i] > 0) q[i] = mass / nonzero;
  }
  let sp = 0, sq = 0;
  for (let i = 0; i < n; i++) { sp += p[i]; sq += q[i]; }
  let kl = 0;
  for (let i = 0; i < n; i++) {
    if (p[i] === 0) continue;
    const pi = p[i] / sp, qi = q[i] / sq;
    kl += pi * Math.log(pi / qi);
  }
  return kl;
}

/** The candidate range with the least loss; the full range when the histogram is empty. */
export function searchClip(h: AdaptiveHistogram, target: ClipTarget, method: ClipMethod, opts: ClipSearchOptions = {}): { min: number; max: number; loss: number } {
  if (h.total === 0) return { min: 0, max: 0, loss: 0 };
  const steps = opts.steps ?? 200;
  let best = { min: Math.min(h.min, 0), max: Math.max(h.max, 0), loss: Infinity };
  for (const c of candidates(h, target, steps)) {
    if (c.hi - c.lo <= 0) continue;
    // KL needs at least one bin per level to say anything.
    if (method === 'kl' && (c.hi - c.lo) / h.width < quantRange(target.bits, target.signed, target.symmetric).qmax - quantRange(target.bits, target.signed, target.symmetric).qmin + 1) continue;
    const loss = method === 'mse' ? mseOfRange(h, c.lo, c.hi, target) : klOfRange(h, c.lo, c.hi, target);
    if (loss < best.loss) best = { min: c.lo, max: c.hi, loss };
  }
  return best;
}
