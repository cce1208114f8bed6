// qgemmI32 (MatMulInteger's int32 GEMM): every backend and variant (auto included) bit for bit
// against the JS reference on awkward sizes (each of M, N and K over 1..17, 31-33, 63-65), uint8 and
// int8 A and B, zero points per tensor and per row/column with their extremes, leading dimensions
// past the row (the gaps of Y untouched), a K that wraps int32 (checked against exact sums too),
// thread counts 1 to 3 on native, a replayed native plan, and bad arguments refused on every backend;
// the same with B packed once (qgemmI32Pack/qgemmI32Packed), run twice with different A.
// Then MatMulInteger in IntegerSession on it (batched shapes) against the float op's loop and onnxruntime.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import type { QGemmI32Args } from '../src/backends/kernels-qgemm-i32.js';
import type { Backend, Int8Like, KernelVariant } from '../src/backends/types.js';
import { Graph, makeNode } from '../src/ir/graph.js';
import { modelToBytes } from '../src/onnx/io.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/tensor.js';
import { jsBackend, loadedBackends, randInt, rng } from './backends.js';
import { expectKernelArgument } from './kernel-errors.js';
import { model } from './passes-helpers.js';

// Every (backend, variant) and each backend's 'auto'.
const targets: [string, Backend, KernelVariant][] = loadedBackends.flatMap((b) => [
  ...b.variants.map((v): [string, Backend, KernelVariant] => [`${b.name}:${v}`, b, v]),
  [`${b.name}:auto`, b, 'auto'] as [string, Backend, KernelVariant],
]);

const AWKWARD = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];

interface Case {
  m: number;
  n: number;
  k: number;
  aSigned: boolean;
  bSigned: boolean;
  /** a_zero_point per row (M entries), b_zero_point per column (N entries). */
  zaPerRow: boolean;
  zbPerCol: boolean;
  /** Zero points at the type's ends only (else anywhere in the range, the ends included). */
  extremeZp: boolean;
  /** lda, ldb, ldy past the row. */
  padded: boolean;
  seed: number;
}

const range = (signed: boolean): [number, number] => (signed ? [-128, 127] : [0, 255]);

/** Uniform over the type's range, with each end 1 time in 10. */
function fill8(r: () => number, signed: boolean, n: number): Int8Like {
  const [lo, hi] = range(signed);
  const x = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    x[i] = u < 0.1 ? lo : u < 0.2 ? hi : randInt(r, lo, hi);
  }
  return x;
}

function zeroPoints(r: () => number, signed: boolean, count: number, extreme: boolean): Int32Array {
  const [lo, hi] = range(signed);
  return Int32Array.from({ length: count }, () => (extreme || r() < 0.3 ? (r() < 0.5 ? lo : hi) : randInt(r, lo, hi)));
}

function build(c: Case): QGemmI32Args {
  const r = rng(c.seed);
  const lda = c.k + (c.padded ? 3 : 0),
    ldb = c.n + (c.padded ? 5 : 0),
    ldy = c.n + (c.padded ? 2 : 0);
  const span = (rows: number, cols: number, ld: number) => (rows - 1) * ld + cols;
  return {
    m: c.m,
    n: c.n,
    k: c.k,
    a: fill8(r, c.aSigned, span(c.m, c.k, lda)),
    lda,
    aZeroPoint: zeroPoints(r, c.aSigned, c.zaPerRow ? c.m : 1, c.extremeZp),
    b: fill8(r, c.bSigned, span(c.k, c.n, ldb)),
    ldb,
    bZeroPoint: zeroPoints(r, c.bSigned, c.zbPerCol ? c.n : 1, c.extremeZp),
    // Sentinels everywhere: the gaps of a padded Y must come back unchanged.
    y: new Int32Array(span(c.m, c.n, ldy)).fill(0x5a5a5a5a),
    ldy,
  };
}

function run(b: Backend, variant: KernelVariant, args: QGemmI32Args): Int32Array {
  const y = args.y.slice();
  b.qgemmI32({ ...args, y, variant });
  return y;
}

/** B packed once, then run: the packing copies B (changing args.b afterwards must not matter). */
function runPacked(b: Backend, variant: KernelVariant, args: QGemmI32Args): Int32Array {
  const bCopy = args.b.slice();
  const packed = b.qgemmI32Pack({ n: args.n, k: args.k, b: bCopy, ldb: args.ldb, bZeroPoint: args.bZeroPoint, variant });
  bCopy.fill(0x33);
  const y = args.y.slice();
  b.qgemmI32Packed(packed, { m: args.m, a: args.a, lda: args.lda, aZeroPoint: args.aZeroPoint, y, ldy: args.ldy });
  return y;
}

function firstDiff(a: Int32Array, b: Int32Array): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `at ${i}: ${a[i]} vs ${b[i]}`;
  return 'equal';
}

// Each awkward size on each axis once, the other two axes and the flags varying with it.
const cases: Case[] = [];
let seed = 1;
AWKWARD.forEach((s, i) => {
  const at = (f: number) => AWKWARD[(i * f + 5) % AWKWARD.length]!;
  const flags = (t: number) => ({
    aSigned: (i + t) % 2 === 1,
    bSigned: Math.floor((i + t) / 2) % 2 === 1,
    zaPerRow: (i + t) % 3 === 0,
    zbPerCol: (i + t) % 3 !== 1,
    extremeZp: (i + t) % 4 === 0,
    padded: (i + t) % 5 < 2,
  });
  cases.push({ m: s, n: at(7), k: at(3), ...flags(0), seed: seed++ });
  cases.push({ m: at(5), n: s, k: at(11), ...flags(1), seed: seed++ });
  cases.push({ m: at(13), n: at(2), k: s, ...flags(2), seed: seed++ });
});
// Each sign pair with both zero points at each extreme, on sizes with full and edge tiles.
for (const aSigned of [false, true])
  for (const bSigned of [false, true])
    cases.push({ m: 33, n: 65, k: 63, aSigned, bSigned, zaPerRow: true, zbPerCol: true, extremeZp: true, padded: true, seed: seed++ });

describe('qgemmI32: every backend and variant equals the JS reference', () => {
  it(`${cases.length} cases (each of M, N, K over ${AWKWARD.join(', ')}) on ${targets.map((t) => t[0]).join(', ')}`, () => {
    for (const c of cases) {
      const args = build(c);
      const want = run(jsBackend, 'ref', args);
      for (const [label, b, v] of targets) {
        expect(firstDiff(run(b, v, args), want), `${label} ${JSON.stringify(c)}`).toBe('equal');
        expect(firstDiff(runPacked(b, v, args), want), `packed ${label} ${JSON.stringify(c)}`).toBe('equal');
      }
    }
  });

  it('one packed B runs many A (other M, signs and zero points) with the bits of the unpacked call', () => {
    for (const [label, b, v] of targets)
      for (const bSigned of [false, true]) {
        const c0: Case = {
          m: 7,
          n: 33,
          k: 65,
          aSigned: false,
          bSigned,
          zaPerRow: false,
          zbPerCol: true,
          extremeZp: false,
          padded: false,
          seed: 500,
        };
        const args0 = build(c0);
        const packed = b.qgemmI32Pack({ n: c0.n, k: c0.k, b: args0.b, bZeroPoint: args0.bZeroPoint, variant: v });
        for (const [m, aSigned, zaPerRow] of [
          [7, false, false],
          [1, true, true],
          [40, false, true],
          [0, true, false],
        ] as const) {
          const args = { ...build({ ...c0, m, aSigned, zaPerRow, seed: 501 + m }), b: args0.b, bZeroPoint: args0.bZeroPoint };
          const want = run(jsBackend, 'ref', args);
          const y = args.y.slice();
          b.qgemmI32Packed(packed, { m, a: args.a, aZeroPoint: args.aZeroPoint, y });
          expect(firstDiff(y, want), `${label} bSigned ${bSigned} M ${m}`).toBe('equal');
        }
      }
  });

  it('the reference is the definition: exact sums, wrapped to int32, where K = 70000 extreme values wrap', () => {
    // Values and zero points only at their types' ends: |(a - za)(b - zb)| is 0 or 255^2, and sums
    // of 70000 of them pass 2^31 (wrapping) while staying exact in a double (< 2^53).
    const m = 9,
      n = 33,
      k = 70000;
    const r = rng(70000);
    const ends = (signed: boolean, len: number) => {
      const [lo, hi] = range(signed);
      const x = signed ? new Int8Array(len) : new Uint8Array(len);
      for (let i = 0; i < len; i++) x[i] = r() < 0.9 ? lo : hi; // mostly one end: large sums
      return x;
    };
    const args: QGemmI32Args = {
      m,
      n,
      k,
      a: ends(false, m * k),
      aZeroPoint: Int32Array.from({ length: m }, (_, i) => (i % 2 ? 0 : 255)),
      b: ends(true, k * n),
      bZeroPoint: Int32Array.from({ length: n }, (_, j) => (j % 3 ? 127 : -128)),
      y: new Int32Array(m * n),
    };
    const exact = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let p = 0; p < k; p++) {
        const av = args.a[i * k + p]! - args.aZeroPoint[i]!;
        for (let j = 0; j < n; j++) exact[i * n + j]! += av * (args.b[p * n + j]! - args.bZeroPoint[j]!);
      }
    expect(exact.some((v) => Math.abs(v) > 2 ** 31)).toBe(true);
    const want = Int32Array.from(exact, (v) => v | 0); // ToInt32: the sum modulo 2^32
    expect(firstDiff(run(jsBackend, 'ref', args), want)).toBe('equal');
    for (const [label, b, v] of targets) {
      expect(firstDiff(run(b, v, args), want), label).toBe('equal');
      expect(firstDiff(runPacked(b, v, args), want), `packed ${label}`).toBe('equal');
    }
  });

  it('K = 0 writes zeros; M = 0 or N = 0 writes nothing', () => {
    for (const [label, b, v] of targets) {
      const y = new Int32Array(12).fill(9);
      b.qgemmI32({
        m: 3,
        n: 4,
        k: 0,
        a: new Uint8Array(0),
        aZeroPoint: Int32Array.of(7),
        b: new Int8Array(0),
        bZeroPoint: Int32Array.of(-3),
        y,
        variant: v,
      });
      expect(Array.from(y), label).toEqual(new Array(12).fill(0));
      const z = new Int32Array(4).fill(9);
      b.qgemmI32({
        m: 0,
        n: 4,
        k: 5,
        a: new Uint8Array(0),
        aZeroPoint: Int32Array.of(0),
        b: new Int8Array(20),
        bZeroPoint: Int32Array.of(0),
        y: z,
        variant: v,
      });
      b.qgemmI32({
        m: 4,
        n: 0,
        k: 5,
        a: new Uint8Array(20),
        aZeroPoint: Int32Array.of(0),
        b: new Int8Array(0),
        bZeroPoint: Int32Array.of(0),
        y: z,
        variant: v,
      });
      expect(Array.from(z), label).toEqual([9, 9, 9, 9]);
    }
  });
});

describe('threads', () => {
  const native = loadedBackends.find((b) => b.name === 'native');
  it.runIf(native !== undefined)('native: 1, 2 and 3 threads give the same bits on products large enough to split', () => {
    const b = native!;
    const before = b.getThreads();
    try {
      for (const c of [
        // Past every variant's threshold (2^24 multiply-adds for VNNI): many row blocks (M past the A
        // block of one task) and few column panels, then the reverse; edge tiles in both.
        { m: 700, n: 72, k: 400, aSigned: false, bSigned: true, zaPerRow: true, zbPerCol: false, extremeZp: false, padded: true, seed: 91 },
        { m: 65, n: 500, k: 600, aSigned: true, bSigned: false, zaPerRow: false, zbPerCol: true, extremeZp: true, padded: false, seed: 92 },
      ] as Case[]) {
        const args = build(c);
        const want = run(jsBackend, 'ref', args);
        for (const t of [1, 2, 3]) {
          b.setThreads(t);
          for (const v of [...b.variants, 'auto' as const]) {
            expect(firstDiff(run(b, v, args), want), `${t} threads ${v} M${c.m}`).toBe('equal');
            expect(firstDiff(runPacked(b, v, args), want), `packed, ${t} threads ${v} M${c.m}`).toBe('equal');
          }
        }
      }
    } finally {
      b.setThreads(before);
    }
  });
});

describe('dispatch and native plans', () => {
  it('every backend names the variant auto picks for qgemmI32', () => {
    for (const b of loadedBackends) expect(b.variants, b.name).toContain(b.dispatch.qgemmI32);
  });
  const native = loadedBackends.find((b) => b.name === 'native');
  it.runIf(native?.nativePlans !== undefined)('native: a recorded qgemmI32 call replays with the same bits', () => {
    const b = native!;
    const plans = b.nativePlans!;
    const c: Case = {
      m: 17,
      n: 40,
      k: 33,
      aSigned: false,
      bSigned: false,
      zaPerRow: true,
      zbPerCol: true,
      extremeZp: false,
      padded: true,
      seed: 93,
    };
    const args = build(c);
    const want = run(jsBackend, 'ref', args);
    const h = plans.create();
    try {
      plans.begin(h);
      b.qgemmI32(args);
      const seg = plans.end(h);
      expect(seg).toBeGreaterThanOrEqual(0);
      expect(plans.broken(h)).toBe(false);
      args.y.fill(0x5a5a5a5a);
      plans.run(h, seg);
      expect(firstDiff(args.y, want)).toBe('equal');
    } finally {
      plans.free(h);
    }
  });
});

describe('bad arguments', () => {
  // M 3, N 4, K 5, dense.
  const base = (): QGemmI32Args => ({
    m: 3,
    n: 4,
    k: 5,
    a: new Uint8Array(15),
    aZeroPoint: Int32Array.of(1),
    b: new Int8Array(20),
    bZeroPoint: Int32Array.of(0),
    y: new Int32Array(12).fill(7),
  });
  const refusals: [string, (g: QGemmI32Args) => QGemmI32Args, RegExp][] = [
    ['A too small', (g) => ({ ...g, a: new Uint8Array(14) }), /qgemm_i32: buffer A is smaller than \(M-1\)\*lda \+ K/],
    ['B too small', (g) => ({ ...g, b: new Int8Array(19) }), /qgemm_i32: buffer B is smaller than \(K-1\)\*ldb \+ N/],
    ['Y too small', (g) => ({ ...g, y: new Int32Array(11).fill(7) }), /qgemm_i32: buffer Y is smaller than \(M-1\)\*ldy \+ N/],
    ['Y too small for ldy', (g) => ({ ...g, ldy: 5 }), /qgemm_i32: buffer Y is smaller/],
    ['ldy < N', (g) => ({ ...g, ldy: 3 }), /qgemm_i32: ldy must be >= N/],
    ['lda < K', (g) => ({ ...g, lda: 4 }), /qgemm_i32: lda must be >= K/],
    ['ldb < N', (g) => ({ ...g, ldb: 3 }), /qgemm_i32: ldb must be >= N/],
    [
      'a_zero_point of 2 entries for M = 3',
      (g) => ({ ...g, aZeroPoint: Int32Array.of(0, 0) }),
      /qgemm_i32: a_zero_point must have 1 or M entries/,
    ],
    [
      'b_zero_point of 3 entries for N = 4',
      (g) => ({ ...g, bZeroPoint: Int32Array.of(0, 0, 0) }),
      /qgemm_i32: b_zero_point must have 1 or N entries/,
    ],
    ['empty b_zero_point', (g) => ({ ...g, bZeroPoint: new Int32Array(0) }), /qgemm_i32: b_zero_point must have 1 or N entries/],
    ['a_zero_point 256 for uint8 A', (g) => ({ ...g, aZeroPoint: Int32Array.of(256) }), /qgemm_i32: a_zero_point out of A's type range/],
    [
      'a_zero_point 128 for int8 A',
      (g) => ({ ...g, a: new Int8Array(15), aZeroPoint: Int32Array.of(0, 128, 0) }),
      /a_zero_point out of A's type range/,
    ],
    [
      'b_zero_point -1 for uint8 B',
      (g) => ({ ...g, b: new Uint8Array(20), bZeroPoint: Int32Array.of(0, 0, -1, 0) }),
      /b_zero_point out of B's type range/,
    ],
    ['b_zero_point 128 for int8 B', (g) => ({ ...g, bZeroPoint: Int32Array.of(128) }), /qgemm_i32: b_zero_point out of B's type range/],
    ['M past 2^28', (g) => ({ ...g, m: 2 ** 28 + 1 }), /M must be an integer in \[0, 2\^28\]/],
    ['fractional K', (g) => ({ ...g, k: 2.5 }), /K must be an integer in \[0, 2\^28\]/],
    ['Y a Uint8Array', (g) => ({ ...g, y: new Uint8Array(48) as unknown as Int32Array }), /y must be an Int32Array/],
    ['A an Int16Array', (g) => ({ ...g, a: new Int16Array(15) as unknown as Int8Like }), /a must be a Uint8Array or Int8Array/],
    ['a_zero_point a plain array', (g) => ({ ...g, aZeroPoint: [0] as unknown as Int32Array }), /aZeroPoint must be an Int32Array/],
  ];
  for (const b of loadedBackends) {
    it(`${b.name}: refused with KERNEL_ARGUMENT, Y untouched`, () => {
      for (const [what, f, re] of refusals) {
        const g = f(base());
        expectKernelArgument(() => b.qgemmI32(g), re);
        if (g.y instanceof Int32Array)
          expect(
            Array.from(g.y).every((v) => v === 7),
            what,
          ).toBe(true);
      }
      // Y over A's or B's bytes.
      const mem = new ArrayBuffer(256);
      const g = base();
      expectKernelArgument(
        () => b.qgemmI32({ ...g, a: new Uint8Array(mem, 0, 15), y: new Int32Array(mem, 8, 12) }),
        /qgemm_i32: Y overlaps A or B/,
      );
      expectKernelArgument(
        () => b.qgemmI32({ ...g, b: new Int8Array(mem, 64, 20), y: new Int32Array(mem, 32, 12) }),
        /qgemm_i32: Y overlaps A or B/,
      );
      // Adjacent is fine.
      b.qgemmI32({ ...g, a: new Uint8Array(mem, 0, 15), y: new Int32Array(mem, 16, 12) });
      // A variant this backend cannot run.
      const other: KernelVariant = b.name === 'wasm' ? 'avx2' : 'wasmsimd';
      expectKernelArgument(() => b.qgemmI32({ ...base(), variant: other }), /not available/);
    });

    it(`${b.name}: packed B, refused with KERNEL_ARGUMENT, Y untouched`, () => {
      const g = base();
      const pack = (over: Partial<QGemmI32Args>) => {
        const h = { ...g, ...over };
        return b.qgemmI32Pack({ n: h.n, k: h.k, b: h.b, ldb: h.ldb, bZeroPoint: h.bZeroPoint, variant: h.variant });
      };
      for (const [over, re] of [
        [{ b: new Int8Array(19) }, /qgemm_i32: buffer B is smaller than \(K-1\)\*ldb \+ N/],
        [{ ldb: 3 }, /qgemm_i32: ldb must be >= N/],
        [{ bZeroPoint: Int32Array.of(0, 0, 0) }, /qgemm_i32: b_zero_point must have 1 or N entries/],
        [{ bZeroPoint: Int32Array.of(128) }, /qgemm_i32: b_zero_point out of B's type range/],
        [{ n: 2 ** 28 + 1 }, /N must be an integer in \[0, 2\^28\]/],
        [{ b: new Int16Array(20) as unknown as Int8Like }, /b must be a Uint8Array or Int8Array/],
        [{ variant: b.name === 'wasm' ? 'avx2' : 'wasmsimd' }, /not available/],
      ] as [Partial<QGemmI32Args>, RegExp][])
        expectKernelArgument(() => pack(over), re);
      const packed = pack({});
      const runArgs = { m: g.m, a: g.a, aZeroPoint: g.aZeroPoint, y: g.y };
      for (const [over, re] of [
        [{ a: new Uint8Array(14) }, /qgemm_i32: buffer A is smaller than \(M-1\)\*lda \+ K/],
        [{ y: new Int32Array(11).fill(7) }, /qgemm_i32: buffer Y is smaller than \(M-1\)\*ldy \+ N/],
        [{ ldy: 3 }, /qgemm_i32: ldy must be >= N/],
        [{ lda: 4 }, /qgemm_i32: lda must be >= K/],
        [{ aZeroPoint: Int32Array.of(0, 0) }, /qgemm_i32: a_zero_point must have 1 or M entries/],
        [{ aZeroPoint: Int32Array.of(256) }, /qgemm_i32: a_zero_point out of A's type range/],
        [{ m: 2.5 }, /M must be an integer in \[0, 2\^28\]/],
      ] as [Partial<typeof runArgs>, RegExp][]) {
        const a = { ...runArgs, ...over };
        expectKernelArgument(() => b.qgemmI32Packed(packed, a), re);
        expect(Array.from(a.y).every((v) => v === 7)).toBe(true);
      }
      const mem = new ArrayBuffer(256);
      expectKernelArgument(
        () => b.qgemmI32Packed(packed, { ...runArgs, a: new Uint8Array(mem, 0, 15), y: new Int32Array(mem, 8, 12) }),
        /qgemm_i32: Y overlaps A/,
      );
      // A packed B of another backend.
      const foreign = { ...packed, backend: b.name === 'js' ? 'native' : 'js' } as typeof packed;
      expectKernelArgument(() => b.qgemmI32Packed(foreign, runArgs), /packed B was made by backend/);
    });
  }
  const native = loadedBackends.find((b) => b.name === 'native');
  it.runIf(native !== undefined)('native: a packed B whose bytes are not one (or are truncated) is refused', () => {
    const b = native!;
    const packed = b.qgemmI32Pack({ n: 4, k: 5, b: new Int8Array(20), bZeroPoint: Int32Array.of(0) });
    const bytes = packed.handle as Uint8Array;
    const runArgs = { m: 3, a: new Uint8Array(15), aZeroPoint: Int32Array.of(0), y: new Int32Array(12) };
    const damaged = bytes.slice();
    damaged[0]! ^= 1;
    expectKernelArgument(() => b.qgemmI32Packed({ ...packed, handle: damaged }, runArgs), /packed does not hold a packed B/);
    expectKernelArgument(
      () => b.qgemmI32Packed({ ...packed, handle: bytes.slice(0, bytes.length - 1) }, runArgs),
      /damaged or its buffer is truncated/,
    );
    expectKernelArgument(() => b.qgemmI32Packed({ ...packed, handle: bytes.slice(0, 10) }, runArgs), /smaller than its header/);
  });
});

describe('MatMulInteger in IntegerSession runs on qgemmI32', () => {
  type T8 = 'uint8' | 'int8';
  // A and B are graph inputs, the zero points initializers (per row of A when za has M entries).
  function mmi(aType: T8, aDims: number[], za: number[], bType: T8, bDims: number[], zb: number[]) {
    const g = new Graph({
      inputs: [
        { name: 'a', dtype: aType, shape: aDims },
        { name: 'b', dtype: bType, shape: bDims },
      ],
      outputs: [{ name: 'y', dtype: 'int32' }],
    });
    const zt = (t: T8, v: number[]) =>
      new Tensor(t, t === 'uint8' ? Uint8Array.from(v) : Int8Array.from(v), v.length === 1 ? [] : [v.length]);
    g.initializers.set('za', zt(aType, za));
    g.initializers.set('zb', zt(bType, zb));
    g.nodes.push(makeNode('MatMulInteger', ['a', 'b', 'za', 'zb'], ['y'], {}, 'mmi'));
    return model(g, 13);
  }
  const feed = (t: T8, dims: number[], seed: number) => {
    const n = dims.reduce((p, d) => p * d, 1);
    return new Tensor(t, fill8(rng(seed), t === 'int8', n), dims);
  };
  // Each shape with one pair of types (rotating), A's zero point per row on the signed-A ones.
  const combos: [T8, T8, boolean][] = [
    ['uint8', 'int8', false],
    ['int8', 'uint8', true],
    ['uint8', 'uint8', false],
    ['int8', 'int8', true],
  ];
  const shapes: [string, number[], number[]][] = [
    ['2-D', [5, 33], [33, 17]],
    ["A's batch folded into one GEMM", [2, 3, 7, 19], [19, 65]],
    ['one GEMM per batch entry', [2, 9, 16], [2, 16, 31]],
    ['A shared by the batch of B', [9, 16], [3, 16, 31]],
    ['batch axes left-padded', [1, 4, 9, 16], [4, 16, 31]],
    ['partially broadcast batch (the JS loop)', [2, 1, 9, 16], [3, 16, 31]],
  ];
  // Without VNNI onnxruntime's MatMulInteger adds pairs of u8 x s8 products in saturating int16 (255 *
  // 127 * 2 = 64770 comes back as 32767), and its exact mode (ORT_EXACT_INTEGER) only rewrites
  // constant weights: with a runtime int8 operand it is a peer only where this probe says it is exact.
  let ortS8Exact: Promise<boolean> | undefined;
  const ortRuntimeS8Exact = () =>
    (ortS8Exact ??= (async () => {
      const o = await ort.InferenceSession.create(modelToBytes(mmi('uint8', [1, 2], [0], 'int8', [2, 1], [0])), ORT_EXACT_INTEGER);
      const y = await o.run({
        a: new ort.Tensor('uint8', Uint8Array.of(255, 255), [1, 2]),
        b: new ort.Tensor('int8', Int8Array.of(127, 127), [2, 1]),
      });
      return (y.y!.data as Int32Array)[0] === 255 * 127 * 2;
    })());
  shapes.forEach(([what, aDims, bDims], i) => {
    const [aType, bType, perRow] = combos[i % combos.length]!;
    it(`${what}: ${aType} A [${aDims}] x ${bType} B [${bDims}], every backend equals the float op and onnxruntime`, async () => {
      const M = aDims[aDims.length - 2]!,
        N = bDims[bDims.length - 1]!;
      const r = rng(500 + i);
      const za = perRow ? Array.from(zeroPoints(r, aType === 'int8', M, false)) : [aType === 'int8' ? -128 : 255];
      // onnxruntime takes A's zero point per tensor only, and B's per column only for a 2-D B.
      const ortToo = !perRow && bDims.length === 2;
      const zb = Array.from(zeroPoints(r, bType === 'int8', ortToo || perRow ? N : 1, false));
      const m = mmi(aType, aDims, za, bType, bDims, zb);
      const feeds = { a: feed(aType, aDims, 600 + i), b: feed(bType, bDims, 700 + i) };
      // The float session runs MatMulInteger as the op's JS loop (matMulInt32).
      const want = InferenceSession.createSync(m, { runInWorker: false }).runSync(feeds).y!;
      const s8 = aType === 'int8' || bType === 'int8';
      if ((ortToo || zb.length === 1) && (!s8 || (await ortRuntimeS8Exact()))) {
        const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
        const t = (x: Tensor) => new ort.Tensor(x.dtype, x.data as Uint8Array, [...x.dims]);
        const got = (await o.run({ a: t(feeds.a), b: t(feeds.b) })).y!;
        expect([...got.dims]).toEqual([...want.dims]);
        expect(firstDiff(got.data as Int32Array, want.data as Int32Array), 'onnxruntime').toBe('equal');
      }
      for (const b of loadedBackends) {
        const s = await IntegerSession.create(m, { backend: b.name, runInWorker: false });
        const report = s.loweringReport().find((e) => e.node === 'mmi')!;
        expect([report.execution, report.kernel], b.name).toEqual(['integer', 'qgemmI32']);
        for (let run = 0; run < 3; run++) {
          // Later runs go through the arena plan (and on native the replay path).
          const y = s.runSync(feeds).y!;
          expect([...y.dims], b.name).toEqual([...want.dims]);
          expect(firstDiff(y.data as Int32Array, want.data as Int32Array), `${b.name} run ${run}`).toBe('equal');
        }
        s.release();
      }
    });
  });
});
