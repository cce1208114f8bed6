/**
 * Integer LayerNorm over the last axis (the normalisation only; gamma and beta follow as quantized
 * Mul/Add), in the spirit of I-BERT (Kim et al. 2021): integer mean and variance, an integer square
 * root, no float in the run. For one row of C values q_i = x_i - Zx:
 *
 *   S1 = sum q_i,   d_i = C q_i - S1 (= C (q_i - mean), exact),   S2 = sum d_i^2,   T = S2 + E
 *   with E = round(C^3 eps / Sx^2), so that T / C^3 = var_q + eps / Sx^2 (variance in input steps);
 *   y_i / Sy = (q_i - mean) / sqrt(var_q + eps / Sx^2) / Sy = d_i G / sqrt(T),   G = sqrt(C) / Sy.
 *
 * G = gm 2^-gs (gm in [2^30, 2^31)) is fixed per row length; per row, Mr = floor(sqrt(floor(gm^2
 * 2^(2k) / T))) = G / sqrt(T) 2^sr with Mr in [2^30, 2^31) (exact BigInt integer square root, k =
 * sr - gs), then y_i = round_half_up(d_i Mr / 2^sr) + Zy, clamped. |d_i| <= 255 C and C <= 4096 keep
 * every product below 2^53, so doubles hold them exactly.
 *
 * Error against float LayerNorm of the dequantized input: E rounds the eps term by at most half a
 * unit of C^3 eps / Sx^2, and Mr is G / sqrt(T) truncated to 30 bits, so before the one final
 * rounding the value is off by far less than 0.01 of an output step for |y| < 2^8: outputs are the
 * correctly rounded float result or one step away at a near-tie (test/integer-layernorm.test.ts).
 *
 * With Scale and B inside the step (the LayerNormalization op, `LayerNormAffine`): gamma is held as
 * per-channel integers g_i = round(gamma_i / Sg), Sg = max|gamma| / 32767, folded into G = sqrt(C) Sg
 * / Sy, and beta as b_i = round(beta_i / Sy 2^8) (output steps with 8 fractional bits, clamped to
 * +-2^12 steps, beyond which the output saturates whatever the normalized part does). Per row the
 * multiplier is cut to 16 bits (M16 = floor(Mr / 2^15), s16 = sr - 15) so that d_i g_i M16 < 2^20
 * 2^15 2^16 = 2^51 stays exact in a double; then z_i = round_half_up(d_i g_i M16 / 2^(s16 - 8))
 * (the gamma part in 1/256 output steps, clamped to +-2^40) and y_i = floor((z_i + b_i + 128) / 256)
 * + Zy, clamped. Error before that final rounding: gamma's rounding, at most half a unit of Sg per
 * channel (under 2^-16 of max|gamma| |n_i| / Sy, i.e. below 0.002 steps for outputs the calibration
 * covers), M16's truncation (relative 2^-15), and two roundings to 1/512 step: well under 0.01
 * step, so again the correctly rounded result or one step away at a near-tie.
 */
import { OnnxPtqError } from '../../errors.js';

/** Per row length: the integer eps term and G = sqrt(C) / Sy as gm * 2^-gs. */
export interface LayerNormParams {
  /** Row length C. */
  length: number;
  /** E = round(C^3 eps / Sx^2). */
  eps: number;
  gm: number;
  gs: number;
  zeroPoint: number;
  min: number;
  max: number;
}

export const LAYERNORM_MAX_LENGTH = 4096;

/** Scale and B of a LayerNormalization, folded into the integer step (see the module comment). */
export interface LayerNormAffine {
  /** g_i = round(gamma_i / Sg), in [-32767, 32767]. */
  gamma: Int32Array;
  /** b_i = round(beta_i / Sy * 2^8), clamped to +-2^20. */
  beta: Int32Array;
}

const BETA_LIMIT = 2 ** 20;
const Z_LIMIT = 2 ** 40;

/**
 * The integer Scale and B for rows of `gamma.length` values, and the factor Sg that G takes on
 * (layerNormParams' `gain`). A zero Scale everywhere has Sg 0: every output is B alone.
 */
export function layerNormAffine(
  gamma: Float32Array,
  beta: Float32Array | undefined,
  sy: number,
): { affine: LayerNormAffine; gain: number } | string {
  let max = 0;
  for (const v of gamma) {
    if (!Number.isFinite(v)) return `Scale holds ${v}`;
    max = Math.max(max, Math.abs(v));
  }
  if (beta) for (const v of beta) if (!Number.isFinite(v)) return `B holds ${v}`;
  const sg = max > 0 ? max / 32767 : 1;
  const g = Int32Array.from(gamma, (v) => Math.round(v / sg));
  const b = new Int32Array(gamma.length);
  if (beta)
    for (let i = 0; i < b.length; i++) b[i] = Math.min(BETA_LIMIT, Math.max(-BETA_LIMIT, Math.round((beta[i]! / Math.fround(sy)) * 256)));
  return { affine: { gamma: g, beta: b }, gain: sg };
}

/** The parameters for rows of `length` values, or why there is no integer form. */
export function layerNormParams(
  length: number,
  eps: number,
  sx: number,
  sy: number,
  out: { zeroPoint: number; min: number; max: number },
  /** Sg when Scale is folded in (layerNormAffine); 1 for the plain normalization. */
  gain = 1,
): LayerNormParams | string {
  if (!Number.isInteger(length) || length < 1 || length > LAYERNORM_MAX_LENGTH)
    return `normalized axis of ${length} values (integer LayerNorm takes 1..${LAYERNORM_MAX_LENGTH})`;
  const C = length;
  const E = Math.round((C * C * C * eps) / (Math.fround(sx) * Math.fround(sx)));
  if (!Number.isSafeInteger(E) || E > 2 ** 50) return `eps ${eps} is too large against the input scale ${sx}`;
  const G = (Math.sqrt(C) * gain) / Math.fround(sy);
  if (!(G > 0) || !Number.isFinite(G)) return `output scale ${sy} has no integer form`;
  let gs = 30 - Math.floor(Math.log2(G));
  let gm = Math.round(G * 2 ** gs);
  if (gm >= 2 ** 31) {
    gm = Math.round(gm / 2);
    gs -= 1;
  }
  if (gm < 2 ** 30) {
    gm *= 2;
    gs += 1;
  }
  return { length: C, eps: E, gm, gs, ...out };
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton steps from the float estimate to the exact floor.
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

/** Mr and sr with Mr = floor(G 2^sr / sqrt(T)) in [2^30, 2^31) (see the module comment). */
export function rowMultiplier(T: number, p: Pick<LayerNormParams, 'gm' | 'gs'>): { m: number; s: number } {
  // floor(sqrt(floor(a / T))) = floor(sqrt(a / T)), so Mr = floor(r) for r = gm 2^k / sqrt(T). In
  // doubles sqrt and the division each round once (relative 2^-53 each) and 2^k is exact, so r is
  // within 2^31 * 2^-52 = 2^-21 of the exact value: where its fraction is at least 2^-20 from an
  // integer, floor(r) is exact (the range check then also is). Only near-integers take the BigInt
  // path, which gives the same (unique) k and Mr.
  const r0 = p.gm / Math.sqrt(T);
  let k = 30 - Math.floor(Math.log2(r0));
  let r = r0 * 2 ** k;
  if (r >= 2 ** 31) {
    k -= 1;
    r /= 2;
  } else if (r < 2 ** 30) {
    k += 1;
    r *= 2;
  }
  const m = Math.floor(r);
  const frac = r - m;
  if (frac >= 2 ** -20 && frac <= 1 - 2 ** -20 && m >= 2 ** 30 && m < 2 ** 31) return { m, s: p.gs + k };
  return rowMultiplierExact(T, p);
}

/** rowMultiplier by exact BigInt arithmetic (the reference the fast path is tested against). */
export function rowMultiplierExact(T: number, p: Pick<LayerNormParams, 'gm' | 'gs'>): { m: number; s: number } {
  let s = p.gs + Math.round(Math.log2(Math.sqrt(T)));
  for (let tries = 0; tries < 4; tries++) {
    const k = s - p.gs;
    const num = BigInt(p.gm) * BigInt(p.gm);
    const q = k >= 0 ? (num << BigInt(2 * k)) / BigInt(T) : num / (BigInt(T) << BigInt(-2 * k));
    const m = Number(isqrt(q));
    if (m >= 2 ** 31) s -= 1;
    else if (m < 2 ** 30) s += 1;
    else return { m, s };
  }
  throw new OnnxPtqError('INTERNAL', `layernorm: no row multiplier for T = ${T}`);
}

/**
 * y (rows x C) = the integer LayerNorm of x (rows x C); x and y 8-bit, their types decide. With
 * `affine`, Scale and B are applied inside the step (then `p` must come with its gain).
 */
export function qlayerNormRef(
  x: Int8Array | Uint8Array,
  xZeroPoint: number,
  rows: number,
  p: LayerNormParams,
  y: Int8Array | Uint8Array,
  affine?: LayerNormAffine,
): void {
  const C = p.length;
  if (x.length < rows * C || y.length < rows * C) throw new OnnxPtqError('KERNEL_ARGUMENT', 'layernorm: buffer smaller than rows x length');
  if (affine && (affine.gamma.length !== C || affine.beta.length !== C))
    throw new OnnxPtqError('KERNEL_ARGUMENT', `layernorm: Scale/B of ${affine.gamma.length}/${affine.beta.length} values for rows of ${C}`);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    // S2 = sum (C q_i - S1)^2 = C^2 sum q_i^2 - C S1^2: both terms below 2^53 (|q| <= 255, C <= 4096),
    // so one pass of int32 sums gives it exactly.
    let s1 = 0,
      sq = 0;
    for (let i = 0; i < C; i++) {
      const q = x[o + i]! - xZeroPoint;
      s1 += q;
      sq += q * q;
    }
    const T = C * C * sq - C * s1 * s1 + p.eps;
    if (T === 0) {
      // A constant row with eps 0: every d_i is 0, the normalized value 0 (what float gives for 0/0 is NaN).
      for (let i = 0; i < C; i++) {
        const b = affine ? Math.floor((affine.beta[i]! + 128) / 256) : 0;
        y[o + i] = Math.min(p.max, Math.max(p.min, p.zeroPoint + b));
      }
      continue;
    }
    const { m, s } = rowMultiplier(T, p);
    if (affine) {
      affineRow(x, o, xZeroPoint, s1, affine, Math.floor(m / 2 ** 15), s - 15, p, y);
      continue;
    }
    // round_half_up(d m / 2^s) = floor(d m 2^-s + 1/2): d m < 2^52 is exact, scaling by 2^-s is exact,
    // and adding 1/2 is too (the sum spans at most 52 significant bits).
    const inv = 2 ** -s,
      zp = p.zeroPoint,
      lo = p.min,
      hi = p.max;
    for (let i = 0; i < C; i++) {
      const d = C * (x[o + i]! - xZeroPoint) - s1;
      const out = Math.floor(d * m * inv + 0.5) + zp;
      y[o + i] = out < lo ? lo : out > hi ? hi : out;
    }
  }
}

/** One row with Scale and B inside (see the module comment): every product below 2^51, exact in doubles. */
function affineRow(
  x: Int8Array | Uint8Array,
  o: number,
  xZeroPoint: number,
  s1: number,
  a: LayerNormAffine,
  m16: number,
  s16: number,
  p: LayerNormParams,
  y: Int8Array | Uint8Array,
): void {
  const C = a.gamma.length;
  const k = s16 - 8;
  // As in the plain row: scaling by a power of two and adding 1/2 are exact, so floor(v 2^-k + 1/2)
  // is round_half_up(v / 2^k); z + b_i + 128 < 2^41 is exact too.
  const inv = 2 ** -k,
    zp = p.zeroPoint,
    lo = p.min,
    hi = p.max;
  for (let i = 0; i < C; i++) {
    const v = (C * (x[o + i]! - xZeroPoint) - s1) * a.gamma[i]! * m16;
    let z = k > 0 ? Math.floor(v * inv + 0.5) : v * inv;
    z = z < -Z_LIMIT ? -Z_LIMIT : z > Z_LIMIT ? Z_LIMIT : z;
    const out = Math.floor((z + a.beta[i]! + 128) * (1 / 256)) + zp;
    y[o + i] = out < lo ? lo : out > hi ? hi : out;
  }
}
