// exactSumAddF64 (opq_exact_sum_add_f64, native only: bias probes' exact sums inside a native replay)
// against ExactSum term by term, which is the definition: the value of every accumulator, read with
// ExactSum.fromWords, must be the same number, hence the same canonical text. Accumulator counts
// 1..17, 31-33 and 63-65; terms from subnormals to the largest double, cancellations and non-finite
// ones; the carry that keeps int64 chunks from overflowing, started by presetting the add counter;
// and refused arguments.
import { describe, expect, it } from 'vitest';
import { EXACT_SUM_WORDS, ExactSum } from '../src/util/exact-sum.js';
import { loadedBackends, rng } from './backends.js';
import { expectKernelArgument } from './kernel-errors.js';

const native = loadedBackends.find((b) => b.name === 'native');
const COUNTS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];
const POOL = [
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  -2.225073858507201e-308,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  1,
  -1,
  0,
  -0,
  2 ** -1000,
  3e-200,
];

function term(r: () => number): number {
  const u = r();
  if (u < 0.25) return POOL[Math.floor(r() * POOL.length)]!;
  if (u < 0.5) return (r() - 0.5) * 2 ** Math.floor(r() * 2090 - 1074);
  return (r() - 0.5) * 2 ** Math.floor(r() * 40 - 20);
}

describe.runIf(native)('exactSumAddF64', () => {
  const add = (x: Float64Array, acc: BigInt64Array) => native!.exactSumAddF64!(x, acc);

  it('every accumulator holds the exact sum of its terms, as ExactSum has it', () => {
    const r = rng(21);
    for (const n of COUNTS) {
      const acc = new BigInt64Array(n * EXACT_SUM_WORDS);
      const want = Array.from({ length: n }, () => new ExactSum());
      for (let round = 0; round < 40; round++) {
        const x = Float64Array.from({ length: n }, () => term(r));
        // A term and its negation in the next round: exact cancellation, down to zero.
        if (round % 5 === 4) for (let i = 0; i < n; i++) x[i] = -want[i]!.toNumber();
        add(x, acc);
        x.forEach((v, i) => want[i]!.add(v));
      }
      for (let i = 0; i < n; i++) expect(ExactSum.fromWords(acc, i).toString(), `${n} accumulators, #${i}`).toBe(want[i]!.toString());
    }
  });

  it('keeps non-finite terms apart, as ExactSum does', () => {
    const acc = new BigInt64Array(3 * EXACT_SUM_WORDS);
    add(Float64Array.of(1, Infinity, Number.NaN), acc);
    add(Float64Array.of(2, -Infinity, 1), acc);
    expect([0, 1, 2].map((i) => ExactSum.fromWords(acc, i).toNumber())).toEqual([3, Number.NaN, Number.NaN]);
    const b = new BigInt64Array(EXACT_SUM_WORDS);
    add(Float64Array.of(Infinity), b);
    add(Float64Array.of(Infinity), b);
    expect(ExactSum.fromWords(b, 0).toNumber()).toBe(Infinity);
  });

  it('carries chunks every 2^29 adds without changing the value', () => {
    // The last word counts adds since the last carry: preset it just below 2^29 over chunks that
    // hold a large signed value (as after ~2^29 adds), so the next adds carry.
    const acc = new BigInt64Array(2 * EXACT_SUM_WORDS);
    const want = [new ExactSum(), new ExactSum()];
    const r = rng(5);
    for (let i = 0; i < 2; i++) {
      for (let k = 0; k < EXACT_SUM_WORDS - 2; k++) {
        const c = BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 1024n; // |c| up to 2^61
        acc[i * EXACT_SUM_WORDS + k] = c;
      }
      acc[i * EXACT_SUM_WORDS + EXACT_SUM_WORDS - 1] = 2n ** 29n - 3n;
      want[i]!.addSum(ExactSum.fromWords(acc, i));
    }
    for (let round = 0; round < 6; round++) {
      const x = Float64Array.from({ length: 2 }, () => term(r));
      add(x, acc);
      x.forEach((v, i) => want[i]!.add(v));
    }
    for (let i = 0; i < 2; i++) {
      expect(ExactSum.fromWords(acc, i).toString()).toBe(want[i]!.toString());
      // Carried: the counter restarted, and every chunk below the top one is a 32-bit digit again.
      expect(acc[i * EXACT_SUM_WORDS + EXACT_SUM_WORDS - 1]).toBe(3n);
      for (let k = 0; k < EXACT_SUM_WORDS - 3; k++) {
        const c = acc[i * EXACT_SUM_WORDS + k]!;
        expect(c >= -(2n ** 35n) && c < 2n ** 35n, `chunk ${k}`).toBe(true);
      }
    }
  });

  it('refuses a wrong accumulator size and overlapping buffers', () => {
    expectKernelArgument(
      () => add(new Float64Array(2), new BigInt64Array(2 * EXACT_SUM_WORDS - 1)),
      /acc must have n \* OPQ_EXACT_SUM_WORDS/,
    );
    const buf = new ArrayBuffer(8 * (EXACT_SUM_WORDS + 1));
    expectKernelArgument(
      () => add(new Float64Array(buf, 8 * EXACT_SUM_WORDS, 1), new BigInt64Array(buf, 8, EXACT_SUM_WORDS)),
      /x overlaps acc/,
    );
    expectKernelArgument(() => add(new Float64Array(buf, 0, 1), new BigInt64Array(buf, 0, EXACT_SUM_WORDS)), /x overlaps acc/);
    // Side by side is fine.
    add(new Float64Array(buf, 0, 1), new BigInt64Array(buf, 8, EXACT_SUM_WORDS));
  });
});
