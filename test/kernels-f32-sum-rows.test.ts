// sumRowsF32 (the bias-correction probes' window row sums) on every loaded backend and variant gives
// the bits of the JS definition (sumRowsF32Ref) on awkward geometries: inner widths around every SIMD
// block size, strides, dilations and pads where taps fall partly or entirely outside the input (empty
// rows), O = 0, and values of mixed magnitudes (1e-30..1e30, subnormals, +-0) for which the order of
// the additions shows in the result. Bad arguments are refused with the argument named, never a crash.
import { describe, expect, it } from 'vitest';
import { backendVariants, loadedBackends, rng } from './backends.js';
import { expectKernelArgument } from './kernel-errors.js';
import { sumRowsF32Ref, tapHi, tapLo } from '../src/kernels/f32/sum-rows.js';
import type { SumRowsParams } from '../src/backends/kernels-f32.js';
import type { KernelVariant } from '../src/backends/types.js';

const INNERS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];
const SPECIAL = [0, -0, 1e-45, -1e-45, 1e-40, -1.1754942e-38, 3.4028235e38, -3.4028235e38, 1, -1];

/** Float32 values whose double sums depend on the order: magnitudes 1e-30..1e30, subnormals, +-0. */
function mixed(r: () => number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.1) x[i] = SPECIAL[Math.floor(r() * SPECIAL.length)]!;
    else if (u < 0.2) x[i] = 0;
    else x[i] = (r() < 0.5 ? -1 : 1) * (1 + r()) * 10 ** Math.floor(r() * 61 - 30);
  }
  return x;
}

function same(a: Float64Array, b: Float64Array, what: string): void {
  if (a.length !== b.length) expect.fail(`${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) expect.fail(`${what}: [${i}] = ${a[i]} vs reference ${b[i]}`);
  }
}

/** The definition with the rows taken in descending order: differs from it when order matters. */
function reversedSum(x: Float32Array, p: SumRowsParams, dst: Float64Array): void {
  dst.fill(0);
  for (let a = 0; a < p.planes; a++)
    for (let k = 0; k < p.K; k++) {
      const off = k * p.dilation - p.pad;
      for (let o = tapHi(p.I, p.O, off, p.stride) - 1; o >= tapLo(off, p.stride); o--)
        for (let j = 0; j < p.inner; j++) dst[(a * p.K + k) * p.inner + j]! += x[(a * p.I + o * p.stride + off) * p.inner + j]!;
    }
}

const label = (p: SumRowsParams) =>
  `planes=${p.planes} I=${p.I} inner=${p.inner} K=${p.K} O=${p.O} stride=${p.stride} pad=${p.pad} dilation=${p.dilation}`;

describe('sumRowsF32 on every backend and variant equals the JS definition bit for bit', () => {
  it('the test data makes the order of additions matter', () => {
    const r = rng(1);
    const p: SumRowsParams = { planes: 2, I: 9, inner: 33, K: 3, O: 9, stride: 1, pad: 1, dilation: 1 };
    const x = mixed(r, p.planes * p.I * p.inner);
    const a = new Float64Array(p.planes * p.K * p.inner),
      b = new Float64Array(a.length);
    sumRowsF32Ref(x, p, a);
    reversedSum(x, p, b);
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differ++;
    expect(differ).toBeGreaterThan(10);
  });

  for (const { label: name, backend, variant } of backendVariants) {
    const run = (x: Float32Array, p: SumRowsParams, what: string) => {
      const n = p.planes * p.K * p.inner;
      const dst = new Float64Array(n).fill(Number.NaN),
        ref = new Float64Array(n).fill(7);
      backend.sumRowsF32(x, p, dst, variant);
      sumRowsF32Ref(x, p, ref);
      same(dst, ref, `${name} ${what} ${label(p)}`);
    };

    it(`${name}: every stride, dilation, pad and K up to 3 with I 1..5 and O 0..I+2, inner 1, 5, 33`, () => {
      const r = rng(2);
      for (const inner of [1, 5, 33])
        for (const I of [1, 2, 3, 5])
          for (const K of [1, 2, 3])
            for (const O of [0, 1, 2, I, I + 2])
              for (const stride of [1, 2, 3])
                for (const dilation of [1, 2, 3])
                  for (const pad of [0, 1, 2, 3]) {
                    const p = { planes: 2, I, inner, K, O, stride, pad, dilation };
                    run(mixed(r, 2 * I * inner), p, 'sweep');
                  }
    });

    it(`${name}: inner 1..17, 31..33, 63..65 on random geometries (empty taps included)`, () => {
      const r = rng(3);
      for (const inner of INNERS) {
        for (let t = 0; t < 24; t++) {
          const I = 1 + Math.floor(r() * 12),
            K = 1 + Math.floor(r() * 3),
            stride = 1 + Math.floor(r() * 3),
            dilation = 1 + Math.floor(r() * 3),
            pad = Math.floor(r() * 4);
          const natural = Math.max(0, Math.floor((I + 2 * pad - dilation * (K - 1) - 1) / stride) + 1);
          const O = t % 6 === 0 ? 0 : t % 6 === 1 ? natural + 2 : natural;
          const planes = 1 + Math.floor(r() * 3);
          run(mixed(r, planes * I * inner), { planes, I, inner, K, O, stride, pad, dilation }, 'random');
        }
      }
    });

    it(`${name}: a probe-sized input, unaligned views, I = 0, inner = 0, planes = 0`, () => {
      const r = rng(4);
      const p: SumRowsParams = { planes: 3, I: 40, inner: 160, K: 3, O: 40, stride: 1, pad: 1, dilation: 1 };
      run(mixed(r, 3 * 40 * 160), p, 'large');
      run(mixed(r, 3 * 40 * 160), { ...p, stride: 2, O: 20, dilation: 2, pad: 2 }, 'large strided');
      // x and dst at odd element offsets of bigger buffers (unaligned loads and stores).
      const big = mixed(r, 1 + 2 * 7 * 37);
      const x = big.subarray(1);
      const q: SumRowsParams = { planes: 2, I: 7, inner: 37, K: 3, O: 7, stride: 1, pad: 1, dilation: 1 };
      const dbuf = new Float64Array(1 + 2 * 3 * 37 + 1).fill(5);
      const dst = dbuf.subarray(1, 1 + 2 * 3 * 37);
      backend.sumRowsF32(x, q, dst, variant);
      const ref = new Float64Array(dst.length);
      sumRowsF32Ref(x, q, ref);
      same(dst, ref, `${name} unaligned`);
      expect([dbuf[0], dbuf[dbuf.length - 1]]).toEqual([5, 5]); // nothing written outside dst
      // No rows at all: dst is all zeros (+0); empty shapes are fine.
      run(new Float32Array(0), { planes: 2, I: 0, inner: 4, K: 2, O: 3, stride: 1, pad: 1, dilation: 1 }, 'I=0');
      run(new Float32Array(0), { planes: 2, I: 3, inner: 0, K: 2, O: 3, stride: 1, pad: 1, dilation: 1 }, 'inner=0');
      run(new Float32Array(0), { planes: 0, I: 3, inner: 4, K: 2, O: 3, stride: 1, pad: 1, dilation: 1 }, 'planes=0');
      // Only -0 in x: 0 + -0 is +0.
      const dst0 = new Float64Array(4);
      backend.sumRowsF32(
        new Float32Array(8).fill(-0),
        { planes: 1, I: 2, inner: 4, K: 1, O: 2, stride: 1, pad: 0, dilation: 1 },
        dst0,
        variant,
      );
      expect(dst0.every((v) => Object.is(v, 0))).toBe(true);
    });
  }
});

describe('sumRowsF32 refuses bad arguments on every backend', () => {
  for (const b of loadedBackends) {
    it(`${b.name}: fields, types, sizes, overlap, variant`, () => {
      const good: SumRowsParams = { planes: 2, I: 3, inner: 4, K: 2, O: 3, stride: 1, pad: 1, dilation: 1 };
      const x = new Float32Array(24);
      const bad = expectKernelArgument;
      const field = (k: keyof SumRowsParams, v: unknown, name: string) =>
        bad(
          () => b.sumRowsF32(x, { ...good, [k]: v } as SumRowsParams, new Float64Array(16)),
          new RegExp(`sum_rows_f32: ${name} must be an integer in \\[\\d, 2\\^31-1\\]`),
        );
      for (const [k, name, lo] of [
        ['planes', 'planes', 0],
        ['I', 'i', 0],
        ['inner', 'inner', 0],
        ['K', 'k', 1],
        ['O', 'o', 0],
        ['stride', 'stride', 1],
        ['pad', 'pad', 0],
        ['dilation', 'dilation', 1],
      ] as const) {
        for (const v of [lo - 1, 1.5, Number.NaN, 2 ** 31, Infinity, '2', undefined]) field(k, v, name);
      }
      bad(() => b.sumRowsF32(x, null as unknown as SumRowsParams, new Float64Array(16)), /sum_rows_f32: params must be an object/);
      bad(
        () => b.sumRowsF32(new Float64Array(24) as unknown as Float32Array, good, new Float64Array(16)),
        /sum_rows_f32: x must be a Float32Array/,
      );
      bad(() => b.sumRowsF32(x, good, new Float32Array(16) as unknown as Float64Array), /sum_rows_f32: dst must be a Float64Array/);
      bad(
        () => b.sumRowsF32(new Float32Array(23), good, new Float64Array(16)),
        /sum_rows_f32: buffer x must have planes\*i\*inner entries/,
      );
      bad(
        () => b.sumRowsF32(new Float32Array(25), good, new Float64Array(16)),
        /sum_rows_f32: buffer x must have planes\*i\*inner entries/,
      );
      bad(() => b.sumRowsF32(x, good, new Float64Array(15)), /sum_rows_f32: buffer dst must have planes\*k\*inner entries/);
      bad(() => b.sumRowsF32(x, good, new Float64Array(17)), /sum_rows_f32: buffer dst must have planes\*k\*inner entries/);
      // Products past any buffer (and past 2^53 in JS, 2^64 in C) are refused, not wrapped.
      const huge = 2 ** 31 - 1;
      bad(() => b.sumRowsF32(x, { ...good, planes: huge, I: huge, inner: huge }, new Float64Array(16)), /sum_rows_f32: buffer x must have/);
      bad(
        () => b.sumRowsF32(new Float32Array(0), { ...good, I: 0, K: huge, inner: huge, planes: huge }, new Float64Array(16)),
        /sum_rows_f32: buffer dst must have/,
      );
      // dst sharing x's buffer.
      const buf = new ArrayBuffer(24 * 4 + 16 * 8);
      bad(() => b.sumRowsF32(new Float32Array(buf, 0, 24), good, new Float64Array(buf, 8, 16)), /sum_rows_f32: dst overlaps x/);
      const other: KernelVariant = b.name === 'wasm' ? 'avx2' : 'wasmsimd';
      bad(() => b.sumRowsF32(x, good, new Float64Array(16), other), /variant/);
      // Nothing was written by a refused call.
      const dst = new Float64Array(16).fill(5);
      expect(() => b.sumRowsF32(x, { ...good, stride: 0 }, dst)).toThrow();
      expect(() => b.sumRowsF32(new Float32Array(25), good, dst)).toThrow();
      expect([...dst]).toEqual(new Array(16).fill(5));
      // Pads, strides, dilations and O up to 2^31-1 are fine (no int32 overflow in the tap ranges).
      const xs = Float32Array.from({ length: 24 }, (_, i) => i + 1);
      for (const q of [
        { ...good, pad: huge, stride: huge, dilation: huge, O: huge },
        { ...good, pad: huge, O: huge },
        { ...good, dilation: huge, O: huge },
        { ...good, stride: huge, O: huge },
      ]) {
        const far = new Float64Array(16).fill(5),
          ref = new Float64Array(16);
        b.sumRowsF32(xs, q, far);
        sumRowsF32Ref(xs, q, ref);
        same(far, ref, `${b.name} ${label(q)}`);
      }
    });
  }
});
