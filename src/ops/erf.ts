/**
 * erf in float64 for the Erf and Gelu ops, to about 1e-15 absolute.
 *
 * The definition (erfSeries): the Maclaurin series for |x| < 2 and erfc's continued fraction above
 * (the common Abramowitz-Stegun 7.1.26 formula is only 1e-7 accurate, too coarse for float tests).
 * It costs up to 60 terms per value, ~100 ns; Gelu over a BERT feed-forward layer spent most of a
 * dynamic-mode run in it. erf() instead evaluates a degree-8 Taylor polynomial around the nearest
 * point c of a grid of step 1/16 on [0, 6], whose coefficients come from the definition once:
 *   erf(c + d) = sum_k a_k d^k,  a_0 = erf(c),  a_k = (2 / sqrt(pi)) e^(-c^2) (-1)^(k-1) H_(k-1)(c) / k!
 * (H the physicists' Hermite polynomials: d^n/dz^n e^(-z^2) = (-1)^n H_n(z) e^(-z^2)). With |d| <=
 * 1/32 the remainder is below 1e-15 (|erf^(9)| / 9! < 0.01 and 32^-9 < 3e-14); tested against
 * the definition on a dense grid.
 *
 * erfc(a) for a in [2, 8], where Gelu needs it with relative accuracy (1 + erf(-a) cancels), the
 * same way on erfcx(a) = e^(a^2) erfc(a), smooth and slowly varying: a_0 = erfcx(c) from the
 * continued fraction, then erfcx' = 2a erfcx - 2 / sqrt(pi) differentiated n times,
 * y_(n+1) = 2c y_n + 2n y_(n-1), a_n = y_n / n!; erfc = (Taylor polynomial) * e^(-a^2).
 */

const STEP = 16; // grid points per unit
const DEGREE = 8;
const LIMIT = 6; // erf(6) = 1 - 2.2e-17: 1 from there on

/** The definition: near double precision, slow (see the module comment). */
export function erfSeries(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2) {
    // Maclaurin series, converges fast for |x| < 2
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > LIMIT) return Math.sign(x);
  return Math.sign(x) * (1 - erfcAbove2(ax));
}

/** erfc(a) for a >= 2 by its continued fraction (relative accuracy near double; 0 once exp underflows). */
export function erfcAbove2(a: number): number {
  return Math.exp(-a * a) * erfcxContinuedFraction(a);
}

/** e^(a^2) erfc(a) for a >= 2 by the continued fraction. */
function erfcxContinuedFraction(a: number): number {
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  return 1 / Math.sqrt(Math.PI) / (a + f);
}

const TAIL_FROM = 2;
const TAIL_TO = 8;
let tailTable: Float64Array | undefined;

function tailCoefficients(): Float64Array {
  const points = (TAIL_TO - TAIL_FROM) * STEP + 1;
  const t = new Float64Array(points * (DEGREE + 1));
  const y = new Float64Array(DEGREE + 1);
  for (let i = 0; i < points; i++) {
    const c = TAIL_FROM + i / STEP;
    y[0] = erfcxContinuedFraction(c);
    y[1] = 2 * c * y[0]! - 2 / Math.sqrt(Math.PI);
    for (let n = 1; n < DEGREE; n++) y[n + 1] = 2 * c * y[n]! + 2 * n * y[n - 1]!;
    let fact = 1;
    for (let k = 0; k <= DEGREE; k++) {
      if (k > 0) fact *= k;
      t[i * (DEGREE + 1) + k] = y[k]! / fact;
    }
  }
  return t;
}

/** erfc(a) for a >= 2, to about 1e-14 relative (the continued fraction beyond 8). */
export function erfcTail(a: number): number {
  if (!(a <= TAIL_TO)) return erfcAbove2(a);
  return taylor((tailTable ??= tailCoefficients()), a - TAIL_FROM) * Math.exp(-a * a);
}

let table: Float64Array | undefined;

/** The Taylor polynomial of table `t` at the grid point nearest u (u measured from the table's start). */
function taylor(t: Float64Array, u: number): number {
  const i = Math.round(u * STEP);
  const d = u - i / STEP;
  const o = i * (DEGREE + 1);
  let p = t[o + DEGREE]!;
  for (let k = DEGREE - 1; k >= 0; k--) p = p * d + t[o + k]!;
  return p;
}

/** Taylor coefficients a_0..a_DEGREE at every grid point, built on first use. */
function coefficients(): Float64Array {
  const points = LIMIT * STEP + 1;
  const t = new Float64Array(points * (DEGREE + 1));
  const h = new Float64Array(DEGREE);
  for (let i = 0; i < points; i++) {
    const c = i / STEP;
    // H_0 .. H_(DEGREE-1) at c: H_(n+1) = 2c H_n - 2n H_(n-1).
    h[0] = 1;
    h[1] = 2 * c;
    for (let n = 1; n + 1 < DEGREE; n++) h[n + 1] = 2 * c * h[n]! - 2 * n * h[n - 1]!;
    const g = (2 / Math.sqrt(Math.PI)) * Math.exp(-c * c);
    t[i * (DEGREE + 1)] = erfSeries(c);
    let fact = 1;
    for (let k = 1; k <= DEGREE; k++) {
      fact *= k;
      t[i * (DEGREE + 1) + k] = (g * (k % 2 === 1 ? 1 : -1) * h[k - 1]!) / fact;
    }
  }
  return t;
}

/** erf(x) to about 1e-15 absolute; NaN for NaN, +-1 for +-Infinity. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a < LIMIT)) return Number.isNaN(x) ? x : Math.sign(x);
  if (a === 0) return x; // +-0 keeps its sign
  const p = taylor((table ??= coefficients()), a);
  return x < 0 ? -p : p;
}

/**
 * Gelu(x) = 0.5 x (1 + erf(x / sqrt 2)) in float64. Below x = -2 sqrt 2, 1 + erf(z) is erfc(-z)
 * computed directly: the sum would cancel to 0 (erf is exactly -1 from z = -6) where the function
 * is still a normal float32 (-5.9e-9 at x = -6).
 */
export function gelu(x: number): number {
  const z = x / Math.SQRT2;
  return z < -2 ? 0.5 * x * erfcTail(-z) : 0.5 * x * (1 + erf(z));
}
