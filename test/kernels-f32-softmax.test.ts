// softmaxF32 (Softmax / LogSoftmax along the middle axis of [outer, len, inner]) on every loaded
// backend and variant against a float64 reference of the definition: row lengths 1..17, 31..33,
// 63..65 and 6625, inner 1 (contiguous rows) and inner > 1 (strided rows, awkward column counts),
// inputs spread up to 120 apart (outputs far below the row's maximum, and flushed ones below
// exp(-87.3)), NaN, +-Infinity, in place. Bounds: a few ulps of the result (the SIMD variants' exp is
// a polynomial; the sums are in double), plus for LogSoftmax the double sum's own rounding in log(s)
// (absolute, what the float64 definition has as well) and for Softmax what lies below 2^-126. Then the
// Softmax and LogSoftmax ops on every backend (opset 11's 2-D coercion, opset 13's axis), and bad
// arguments refused with the argument named.
import { describe, expect, it } from 'vitest';
import { backendVariants, jsBackend, loadedBackends, rng } from './backends.js';
import { expectKernelArgument } from './kernel-errors.js';
import { softmaxF32Ref } from '../src/backends/js-f32.js';
import type { KernelVariant } from '../src/backends/types.js';
import type { Node } from '../src/ir/graph.js';
import { Attrs } from '../src/ops/types.js';
import { LogSoftmax, Softmax } from '../src/ops/softmax.js';
import { Tensor } from '../src/tensor.js';

const EPS = 2 ** -24;
const LENGTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];

/** The definition in float64: m (NaN wins), s = sum exp(x - m), exp(x - m) / s or x - m - log(s). */
function reference(x: Float32Array, outer: number, len: number, inner: number, log: boolean): Float64Array {
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * len + k) * inner + i;
      let m = -Infinity;
      for (let k = 0; k < len; k++) {
        const v = x[at(k)]!;
        if (v > m || v !== v) m = v;
      }
      let s = 0;
      for (let k = 0; k < len; k++) s += Math.exp(x[at(k)]! - m);
      for (let k = 0; k < len; k++) y[at(k)] = log ? x[at(k)]! - m - Math.log(s) : Math.exp(x[at(k)]! - m) / s;
    }
  return y;
}

/**
 * y within 4 EPS of ref (2 ulps), plus: Softmax, 2^-126 absolute (an output under exp(-87.3) of the
 * row's maximum may be 0, one in the subnormal range has fewer bits); LogSoftmax, (len + 1) * 2^-52
 * absolute (log(s) with s summed in double: its relative rounding is log's absolute error, large
 * next to a log-probability near 0). NaN where the reference is NaN; infinities exactly.
 */
function expectClose(y: Float32Array, ref: Float64Array, len: number, log: boolean, what: string): void {
  const slack = log ? (len + 1) * 2 ** -52 : 2 ** -126;
  let worst = -1,
    worstRatio = 0;
  for (let i = 0; i < ref.length; i++) {
    const want = ref[i]!,
      got = y[i]!;
    if (Number.isNaN(want) || Number.isNaN(got)) {
      if (Number.isNaN(want) !== Number.isNaN(got)) expect.fail(`${what}: y[${i}] = ${got}, reference ${want}`);
      continue;
    }
    if (Object.is(got, Math.fround(want))) continue;
    const bound = 4 * EPS * Math.abs(want) + slack;
    const d = Math.abs(got - want);
    if (!(d <= bound) && (worst < 0 || d / bound > worstRatio)) (worst = i), (worstRatio = d / bound);
  }
  if (worst >= 0) expect.fail(`${what}: y[${worst}] = ${y[worst]} vs ${ref[worst]} (${worstRatio.toFixed(2)} x the bound)`);
}

function randomRows(r: () => number, n: number, spread: number): Float32Array {
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * spread + 3);
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect.fail(`${what}: [${i}] = ${a[i]} vs ${b[i]}`);
}

describe('softmaxF32 on every backend and variant against the float64 definition', () => {
  for (const { label, backend, variant } of backendVariants) {
    const check = (x: Float32Array, outer: number, len: number, inner: number, log: boolean, what: string) => {
      const y = new Float32Array(x.length).fill(Number.NaN);
      backend.softmaxF32(x, y, outer, len, inner, log, variant);
      expectClose(y, reference(x, outer, len, inner, log), len, log, `${label} ${log ? 'log' : 'softmax'} ${what}`);
      // In place: the same bits.
      const z = Float32Array.from(x);
      backend.softmaxF32(z, z, outer, len, inner, log, variant);
      sameBits(z, y, `${label} ${what} in place`);
      return y;
    };

    it(`${label}: contiguous rows (inner 1) of lengths 1..17, 31..33, 63..65 and 6625, spreads 0.01 to 120`, () => {
      const r = rng(1);
      for (const log of [false, true])
        for (const spread of [0.01, 1, 8, 30, 60])
          for (const len of [...LENGTHS, 6625]) {
            const outer = len > 100 ? 3 : 5;
            check(randomRows(r, outer * len, spread), outer, len, 1, log, `${outer}x${len} spread ${spread}`);
          }
    });

    it(`${label}: strided rows (inner > 1) of awkward lengths and column counts`, () => {
      const r = rng(2);
      for (const log of [false, true])
        for (const inner of [2, 3, 4, 5, 7, 8, 9, 16, 17, 33])
          for (const len of [1, 2, 3, 5, 8, 17, 33, 80]) {
            const outer = 2;
            check(randomRows(r, outer * len * inner, r() < 0.5 ? 4 : 60), outer, len, inner, log, `2x${len}x${inner}`);
          }
      check(randomRows(r, 40 * 3 * 96, 10), 3, 40, 96, false, '3x40x96');
      check(randomRows(r, 3 * 6625 * 2, 10), 3, 6625, 2, true, '3x6625x2');
    });

    it(`${label}: outputs near exp(-87.3) of the maximum, and a huge spread`, () => {
      // Every element of a row of 64 from -95 to -80 below a 0 maximum: exp(x) crosses 2^-126.
      const x = new Float32Array(2 * 64);
      for (let k = 1; k < 64; k++) x[k] = -80 - (15 * k) / 63;
      for (let k = 1; k < 64; k++) x[64 + k] = -87.3365 + (k - 32) * 1e-3;
      for (const log of [false, true]) check(x, 2, 64, 1, log, 'near the cutoff');
      // x - m overflows float (to -inf: 0, log -inf) and is inexact across binades.
      const w = Float32Array.from([3e38, -3e38, 1, -1e-30, 2.5e38, -7.5, 100.25, 3e38 - 1e32, -3e38]);
      for (const log of [false, true]) check(w, 1, w.length, 1, log, 'huge spread');
    });

    it(`${label}: NaN, +-Infinity and -Infinity entries; len 1`, () => {
      const inf = Infinity,
        nan = Number.NaN;
      const rows: number[][] = [
        [1, 2, nan, 3, 4, 5, 6, 7, 8, 9], // a NaN: all NaN
        [nan, 1, 2],
        [1, 2, 3, inf, 4, 5, 6, 7, 8, 9, 10], // +inf: inf - inf, all NaN
        [inf, inf],
        [-inf, 0, -inf, 1, -inf, 2, -inf, 3, -inf, 4, 5], // -inf: 0 (log -inf)
        [-inf, -inf, -inf], // all -inf: -inf - -inf, all NaN
        [-inf, -inf, -inf, 7, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf], // one finite: 1 (log 0)
      ];
      for (const log of [false, true]) {
        for (const row of rows) {
          const x = Float32Array.from(row);
          const y = check(x, 1, row.length, 1, log, `[${row.join(', ')}]`);
          // The same rows strided (inner 3, the row in column 1, finite rows beside it).
          const xs = new Float32Array(row.length * 3);
          for (let k = 0; k < row.length; k++) (xs[k * 3] = k), (xs[k * 3 + 1] = row[k]!), (xs[k * 3 + 2] = -k);
          const ys = check(xs, 1, row.length, 3, log, `strided [${row.join(', ')}]`);
          for (let k = 0; k < row.length; k++) expect(Number.isNaN(ys[k * 3 + 1]!), `${label} strided ${k}`).toBe(Number.isNaN(y[k]!));
        }
        const ninf = check(Float32Array.from(rows[4]!), 1, 11, 1, log, '-inf');
        for (let k = 0; k < 10; k += 2) expect(ninf[k]).toBe(log ? -Infinity : 0);
        const one = check(Float32Array.from(rows[6]!), 1, 17, 1, log, 'one finite');
        expect(one[3]).toBe(log ? 0 : 1);
        // len 1: 1 (log 0) for every finite value, NaN for NaN and the infinities.
        const x1 = Float32Array.from([0, -0, 5, -1e30, 3e38, -3e38, nan, inf, -inf]);
        const y1 = check(x1, x1.length, 1, 1, log, 'len 1');
        for (let i = 0; i < 6; i++) expect(y1[i]).toBe(log ? 0 : 1);
        for (let i = 6; i < 9; i++) expect(y1[i]).toBeNaN();
        check(x1, 1, 1, x1.length, log, 'len 1 strided');
      }
    });

    it(`${label}: views at odd offsets, nothing written outside y, another view of x's range is in place`, () => {
      const r = rng(3);
      const big = randomRows(r, 2 + 3 * 37, 10);
      const x = big.subarray(1, 1 + 3 * 37);
      const ybuf = new Float32Array(2 + 3 * 37).fill(5);
      const y = ybuf.subarray(1, 1 + 3 * 37);
      for (const inner of [1, 37]) {
        const len = inner === 1 ? 37 : 3;
        const outer = inner === 1 ? 3 : 1;
        backend.softmaxF32(x, y, outer, len, inner, false, variant);
        expectClose(y, reference(x, outer, len, inner, false), len, false, `${label} unaligned`);
        expect([ybuf[0], ybuf[ybuf.length - 1]]).toEqual([5, 5]);
      }
      const z = Float32Array.from(x);
      const alias = new Float32Array(z.buffer, z.byteOffset, z.length);
      backend.softmaxF32(z, alias, 3, 37, 1, true, variant);
      const want = new Float32Array(z.length);
      backend.softmaxF32(x, want, 3, 37, 1, true, variant);
      sameBits(z, want, `${label} aliased view`);
      // Empty: nothing to do, also with huge dimensions beside a zero.
      backend.softmaxF32(new Float32Array(0), new Float32Array(0), 0, 5, 3, false, variant);
      backend.softmaxF32(new Float32Array(0), new Float32Array(0), 2 ** 40, 0, 2 ** 40, true, variant);
    });
  }

  for (const b of loadedBackends.filter((b) => b.residentArena)) {
    it(`${b.name}: x and y in the kernels' own memory (resident arena), in place or not`, () => {
      const r = rng(6);
      const n = 5 * 37;
      const arena = b.residentArena!(3 * n * 4 + 64);
      try {
        const at = (i: number) => new Float32Array(arena.buffer(), arena.offset + i * n * 4, n);
        const x = randomRows(r, n, 10);
        for (const log of [false, true]) {
          const want = new Float32Array(n);
          b.softmaxF32(x, want, 5, 37, 1, log);
          const outside = new Float32Array(n);
          at(0).set(x);
          b.softmaxF32(at(0), at(1), 5, 37, 1, log); // both resident
          sameBits(at(1), want, `${b.name} resident x and y`);
          b.softmaxF32(at(0), outside, 5, 37, 1, log); // x resident
          sameBits(outside, want, `${b.name} resident x`);
          b.softmaxF32(x, at(2), 5, 37, 1, log); // y resident
          sameBits(at(2), want, `${b.name} resident y`);
          b.softmaxF32(at(0), at(0), 5, 37, 1, log); // in place
          sameBits(at(0), want, `${b.name} resident, in place`);
          // A refused call leaves a resident y as it was.
          at(2).fill(5);
          expect(() => b.softmaxF32(x, at(2), 5, 37, 1, log, 'avx2')).toThrow(/variant/);
          expect([...at(2)]).toEqual(new Array(n).fill(5));
        }
      } finally {
        arena.release();
      }
    });
  }

  it('the js backend is the definition itself (softmaxF32Ref): the float64 reference rounded once', () => {
    const r = rng(4);
    const x = randomRows(r, 5 * 333, 20);
    for (const log of [false, true]) {
      const a = new Float32Array(x.length),
        b = new Float32Array(x.length);
      softmaxF32Ref(x, a, 5, 333, 1, log);
      jsBackend.softmaxF32(x, b, 5, 333, 1, log);
      sameBits(a, b, 'js backend');
      sameBits(a, Float32Array.from(reference(x, 5, 333, 1, log)), 'definition');
    }
  });
});

describe('the Softmax and LogSoftmax ops on every backend', () => {
  const node = (opType: string, axis?: number): Node =>
    ({
      opType,
      name: 'sm',
      domain: '',
      inputs: ['x'],
      outputs: ['y'],
      attributes: new Map(axis === undefined ? [] : [['axis', { type: 'int', value: axis }]]),
    }) as unknown as Node;
  const cases: [number[], number | undefined, number, number, number, number][] = [
    // dims, axis, opset, then the [outer, len, inner] it means
    [[2, 3, 4], undefined, 13, 6, 4, 1],
    [[2, 3, 4], 1, 13, 2, 3, 4],
    [[2, 3, 4], 0, 13, 1, 2, 12],
    [[2, 3, 4], -2, 13, 2, 3, 4],
    [[2, 3, 4], undefined, 11, 2, 12, 1], // legacy: 2-D at axis 1
    [[2, 3, 4], 2, 11, 6, 4, 1],
    [[2, 3, 4], 0, 11, 1, 24, 1],
    [[1, 40, 66], -1, 13, 40, 66, 1],
    [[5], 0, 13, 1, 5, 1],
  ];
  for (const b of [undefined, ...loadedBackends]) {
    it(`${b ? b.name : 'no backend (the definition)'}: axes and opsets map to rows as the definition says`, () => {
      const r = rng(5);
      for (const [dims, axis, opset, outer, len, inner] of cases) {
        const x = randomRows(r, outer * len * inner, 6);
        for (const [op, log] of [
          [Softmax, false],
          [LogSoftmax, true],
        ] as const) {
          const n = node(log ? 'LogSoftmax' : 'Softmax', axis);
          const [y] = op.run({ node: n, attrs: new Attrs(n), opset, f32: b }, [new Tensor('float32', x, dims)]);
          expect(y!.dims).toEqual(dims);
          expectClose(y!.data as Float32Array, reference(x, outer, len, inner, log), len, log, `${dims} axis ${axis} opset ${opset}`);
        }
      }
    });
  }
});

describe('softmaxF32 refuses bad arguments on every backend', () => {
  for (const b of loadedBackends) {
    it(`${b.name}: types, sizes, overlap, variant`, () => {
      const x = Float32Array.from({ length: 24 }, (_, i) => i / 7);
      const bad = expectKernelArgument;
      const y = new Float32Array(24);
      bad(() => b.softmaxF32(new Float64Array(24) as unknown as Float32Array, y, 2, 3, 4, false), /softmax_f32: x must be a Float32Array/);
      bad(() => b.softmaxF32(x, [] as unknown as Float32Array, 2, 3, 4, false), /softmax_f32: y must be a Float32Array/);
      for (const [i, name] of [
        [0, 'outer'],
        [1, 'len'],
        [2, 'inner'],
      ] as const) {
        for (const v of [-1, 1.5, Number.NaN, 2 ** 40 + 1, Infinity, '2', undefined, null]) {
          const dims = [2, 3, 4] as unknown[];
          dims[i] = v;
          bad(
            () => b.softmaxF32(x, y, dims[0] as number, dims[1] as number, dims[2] as number, false),
            new RegExp(`softmax_f32: ${name} must be an integer in \\[0, 2\\^40\\]`),
          );
        }
      }
      for (const v of [1, 0, 'true', undefined])
        bad(() => b.softmaxF32(x, y, 2, 3, 4, v as unknown as boolean), /softmax_f32: log must be a boolean/);
      bad(() => b.softmaxF32(new Float32Array(23), y, 2, 3, 4, false), /softmax_f32: buffer x must have outer\*len\*inner entries/);
      bad(() => b.softmaxF32(new Float32Array(25), y, 2, 3, 4, false), /softmax_f32: buffer x must have outer\*len\*inner entries/);
      bad(() => b.softmaxF32(x, new Float32Array(23), 2, 3, 4, true), /softmax_f32: buffer y must have outer\*len\*inner entries/);
      bad(() => b.softmaxF32(x, new Float32Array(25), 2, 3, 4, true), /softmax_f32: buffer y must have outer\*len\*inner entries/);
      // Products past any buffer (and past 2^53 in JS, 2^40 in C) are refused, not wrapped.
      bad(() => b.softmaxF32(x, y, 2 ** 40, 2 ** 40, 2 ** 40, false), /softmax_f32: buffer x must have/);
      bad(() => b.softmaxF32(x, y, 2 ** 32 + 24, 1, 1, false), /softmax_f32: buffer x must have/);
      bad(() => b.softmaxF32(x, y, 2 ** 32, 2 ** 32, 24, false), /softmax_f32: buffer x must have/);
      // y sharing part of x's memory.
      const buf = new ArrayBuffer(4 * 30);
      bad(
        () => b.softmaxF32(new Float32Array(buf, 0, 24), new Float32Array(buf, 8, 24), 2, 3, 4, false),
        /softmax_f32: y partially overlaps x/,
      );
      const other: KernelVariant = b.name === 'wasm' ? 'avx2' : 'wasmsimd';
      bad(() => b.softmaxF32(x, y, 2, 3, 4, false, other), /variant/);
      // Nothing was written by a refused call.
      const keep = new Float32Array(24).fill(5);
      expect(() => b.softmaxF32(x, keep, 2, 3, 5, false)).toThrow();
      expect(() => b.softmaxF32(x, keep, 2, 3, 4, false, other)).toThrow();
      expect([...keep]).toEqual(new Array(24).fill(5));
    });
  }
});
