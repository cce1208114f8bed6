/**
 * An exact sum of doubles: value = m * 2^e with m a BigInt, so addition is associative and the sum
 * of any partition of the terms, added in any order, is the same number. Bias correction's probe
 * sums use it: a float64 running sum depends on the order of its terms, and sums from workers or
 * shards would differ from one pass in the last bits, and then the corrected biases with them.
 *
 * Terms are first gathered in a short expansion of doubles (Shewchuk 1997, "Adaptive Precision
 * Floating-Point Arithmetic": Grow-Expansion with zero elimination; every TwoSum is error-free, so
 * the expansion holds the exact sum of its terms) and moved into the BigInt only when the expansion
 * grows long or the sum is read: an add then costs a few float operations instead of BigInt shifts
 * (a probe adds one term per channel and sample).
 */
const view = new DataView(new ArrayBuffer(8));

/** int64 words per accumulator of opq_exact_sum_add_f64 (OPQ_EXACT_SUM_WORDS in native/include/opq_f32.h). */
export const EXACT_SUM_WORDS = 68;

/** x = mant * 2^exp exactly, for a finite double. */
function decompose(x: number): { mant: bigint; exp: number } {
  view.setFloat64(0, x);
  const hi = view.getUint32(0),
    lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) mant |= 1n << 52n;
  return { mant: sign * mant, exp: (biased === 0 ? 1 : biased) - 1075 };
}

/** Longest expansion kept before it moves into the BigInt (sums of similar terms stay at 2-3). */
const PENDING = 12;
/** A TwoSum chain whose terms' magnitudes add up to at most this cannot overflow. */
const SAFE = 2 ** 1000;

export class ExactSum {
  private m = 0n;
  private e = 0;
  /** The sum of the non-finite terms (NaN, +-Infinity: their sum is order-free too), 0 if none. */
  private special = 0;
  /** Pending terms: a nonoverlapping expansion, increasing magnitude, `n` components (allocated on first use). */
  private pend: number[] | undefined;
  private n = 0;

  add(x: number): void {
    if (x === 0) return;
    if (!Number.isFinite(x)) {
      this.special += x;
      return;
    }
    const e = (this.pend ??= []);
    const n = this.n;
    // No partial sum of the chain can overflow when the terms' magnitudes add up to less than 2^1000.
    let bound = Math.abs(x);
    for (let i = 0; i < n; i++) bound += Math.abs(e[i]!);
    if (bound > SAFE) {
      this.flush();
      this.addExact(x);
      return;
    }
    // Grow-Expansion: q absorbs each component in turn, keeping each rounding error (TwoSum).
    let q = x,
      k = 0;
    for (let i = 0; i < n; i++) {
      const a = e[i]!;
      const s = q + a;
      const bv = s - q;
      const err = q - (s - bv) + (a - bv);
      if (err !== 0) e[k++] = err;
      q = s;
    }
    if (q !== 0) e[k++] = q;
    this.n = k;
    if (k > PENDING - 1) this.flush();
  }

  /** Moves the pending expansion into the BigInt (exactly: each component is a double). */
  private flush(): void {
    const e = this.pend;
    for (let i = 0; i < this.n; i++) this.addExact(e![i]!);
    this.n = 0;
  }

  private addExact(x: number): void {
    const { mant, exp } = decompose(x);
    if (this.m === 0n) {
      this.m = mant;
      this.e = exp;
    } else if (exp >= this.e) this.m += mant << BigInt(exp - this.e);
    else {
      this.m = (this.m << BigInt(this.e - exp)) + mant;
      this.e = exp;
    }
    // Normalized when read (toNumber, toString): a probe adds thousands of terms per sample.
  }

  addSum(o: ExactSum): void {
    this.flush();
    o.flush();
    this.special += o.special;
    if (o.m === 0n) return;
    if (this.m === 0n) {
      this.m = o.m;
      this.e = o.e;
    } else if (o.e >= this.e) this.m += o.m << BigInt(o.e - this.e);
    else {
      this.m = (this.m << BigInt(this.e - o.e)) + o.m;
      this.e = o.e;
    }
  }

  // Odd mantissa (or 0 with e = 0): one representation per value, so the text form is canonical.
  // The value does not change, only its representation.
  private normalize(): void {
    this.flush();
    if (this.m === 0n) {
      this.e = 0;
      return;
    }
    while ((this.m & 0xffffffffn) === 0n) {
      this.m >>= 32n;
      this.e += 32;
    }
    while ((this.m & 1n) === 0n) {
      this.m >>= 1n;
      this.e += 1;
    }
  }

  /** The sum rounded to a double (Number(bigint) rounds to nearest; the scaling by 2^e is exact for normal results). */
  toNumber(): number {
    if (this.special !== 0) return this.special;
    this.normalize();
    let m = this.m,
      e = this.e;
    // Keep Number(m) finite: drop low bits (deterministically) of a mantissa wider than 1000 bits.
    const bits = m === 0n ? 0 : (m < 0n ? -m : m).toString(2).length;
    if (bits > 1000) {
      const d = bits - 64;
      m >>= BigInt(d);
      e += d;
    }
    let v = Number(m);
    // 2^e in steps that neither overflow nor underflow on the way.
    while (e > 1000) {
      v *= 2 ** 1000;
      e -= 1000;
    }
    while (e < -1000) {
      v *= 2 ** -1000;
      e += 1000;
    }
    return v * 2 ** e;
  }

  /** "mantissa-in-hex*2^e", e.g. "-1f*2^-30": exact, and short for sums of similar terms. */
  toString(): string {
    if (this.special !== 0) return String(this.special);
    this.normalize();
    return `${this.m < 0n ? '-' : ''}${(this.m < 0n ? -this.m : this.m).toString(16)}*2^${this.e}`;
  }

  /**
   * The sum held by accumulator `at` of `words` (opq_exact_sum_add_f64, StatsKernels.exactSumAddF64):
   * chunk k (k < EXACT_SUM_WORDS - 2, signed) weighs 2^(32k - 1074), and the word after the
   * chunks is the double sum of the non-finite terms.
   */
  static fromWords(words: BigInt64Array, at: number): ExactSum {
    const base = at * EXACT_SUM_WORDS;
    const out = new ExactSum();
    // Only the chunks from the lowest nonzero one up: a sum of similar terms spans a few, and each
    // BigInt step over the zeros below would cost as much (det's 10k probe channels: ~40 ms).
    let low = 0;
    while (low < EXACT_SUM_WORDS - 2 && words[base + low] === 0n) low++;
    let m = 0n;
    for (let k = EXACT_SUM_WORDS - 3; k >= low; k--) {
      const c = words[base + k]!;
      if (m !== 0n || c !== 0n) m = (m << 32n) + c;
    }
    out.m = m;
    out.e = m === 0n ? 0 : 32 * low - 1074;
    out.special = new Float64Array(words.buffer, words.byteOffset + (base + EXACT_SUM_WORDS - 2) * 8, 1)[0]!;
    out.normalize();
    return out;
  }

  static parse(s: unknown): ExactSum | undefined {
    if (typeof s !== 'string') return undefined;
    if (s === 'NaN' || s === 'Infinity' || s === '-Infinity') {
      const out = new ExactSum();
      out.special = Number(s);
      return out;
    }
    const r = /^(-?)([0-9a-f]{1,400})\*2\^(-?\d{1,5})$/.exec(s);
    if (!r) return undefined;
    const out = new ExactSum();
    out.m = BigInt(`0x${r[2]}`) * (r[1] ? -1n : 1n);
    out.e = Number(r[3]);
    out.normalize();
    return out;
  }
}
