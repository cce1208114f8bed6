// Integer Softmax (native/include/opq_qsoftmax.h): every backend and variant against the JS reference
// bit for bit on awkward row lengths and strides; against float softmax of the dequantized input
// within one output step (and mostly exact); bad arguments refused by every backend.
import { describe, expect, it } from 'vitest';
import { qsoftmaxRef } from '../src/kernels/int8/qsoftmax-ref.js';
import { SOFTMAX_ONE, SOFTMAX_ONE_16, softmaxParams } from '../src/quant/softmax.js';
import { OnnxPtqError } from '../src/errors.js';
import type { SoftmaxArgs } from '../src/backends/kernels-qunary.js';
import { backends, firstDiff, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

type Case = Omit<SoftmaxArgs, 'y' | 'variant'> & { ySigned: boolean };

function makeCase(r: () => number, outer: number, axisLen: number, inner: number, xSigned: boolean, ySigned: boolean): Case {
  const xScale = 0.01 + r() * 0.3;
  const yScale = ySigned ? 1 / 255 : 1 / (200 + Math.floor(r() * 60));
  const p = softmaxParams(xScale, yScale);
  if (typeof p === 'string') throw new Error(p);
  const zeroPoint = ySigned ? -128 : 0;
  return {
    x: rand8(r, outer * axisLen * inner, xSigned),
    outer,
    axisLen,
    inner,
    ...p,
    zeroPoint,
    min: ySigned ? -128 : 0,
    max: ySigned ? 127 : 255,
    ySigned,
  };
}

const out = (c: Case) => {
  const n = c.outer * c.axisLen * c.inner;
  return c.ySigned ? new Int8Array(n) : new Uint8Array(n);
};

describe.each(targets)('%s', (_label, backend, variant) => {
  it('softmax: the JS reference bit for bit, rows of 1..17, 31-33, 63-65 and 300, strided and not', () => {
    const r = rng(31);
    for (const xSigned of [false, true])
      for (const ySigned of [false, true])
        for (const L of [...SIZES, 300])
          for (const [outer, inner] of [
            [1, 1],
            [3, 1],
            [2, 3],
          ] as const) {
            const c = makeCase(r, outer, L, inner, xSigned, ySigned);
            const want = out(c),
              got = out(c);
            qsoftmaxRef({ ...c, y: want });
            backend.softmax({ ...c, y: got, variant });
            expect(firstDiff(got, want), `L=${L} outer=${outer} inner=${inner} x${xSigned ? 's' : 'u'} y${ySigned ? 's' : 'u'}`).toBe(-1);
          }
  });
});

describe.each(targets)('%s', (_label, backend, variant) => {
  it('softmax: an empty axis beside other dimensions writes and reads nothing', () => {
    const c = { ...makeCase(rng(3), 2, 1, 3, true, true), axisLen: 0, x: new Int8Array(0) };
    backend.softmax({ ...c, y: new Int8Array(0), variant });
  });

  it('softmax: the JS reference bit for bit at extreme shifts and multipliers (outputs 0, saturated, and between)', () => {
    const r = rng(37);
    for (const shift of [0, 1, 20, 38, 39, 40, 50, 61, 62])
      for (const multiplier of [1, 255, 2 ** 14, 2 ** 24 - 1])
        for (const L of [1, 5, 300]) {
          const c = { ...makeCase(r, 2, L, 1, true, false), shift, multiplier };
          const want = out(c),
            got = out(c);
          qsoftmaxRef({ ...c, y: want });
          backend.softmax({ ...c, y: got, variant });
          expect(firstDiff(got, want), `shift ${shift} multiplier ${multiplier} L ${L}`).toBe(-1);
        }
  });
});

describe('softmax against float', () => {
  it('is within one output step of round(softmax(dequantized x) / yScale), and exact for nearly every output', () => {
    const r = rng(5);
    let total = 0,
      off = 0;
    for (let trial = 0; trial < 200; trial++) {
      const L = 1 + Math.floor(r() * 40);
      const c = makeCase(r, 1, L, 1, trial % 2 === 1, false);
      const xs = c.x as Uint8Array | Int8Array;
      const y = out(c);
      qsoftmaxRef({ ...c, y });
      const xScale = -Math.log(c.table[1]! / SOFTMAX_ONE); // recover the scale the table was built for (approximately)
      const yScale = 2 ** c.shift / c.multiplier;
      const m = Math.max(...xs);
      const e = Array.from(xs, (v) => Math.exp((v - m) * xScale));
      const s = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < L; j++) {
        const want = Math.min(255, Math.round(e[j]! / s / yScale));
        const d = Math.abs(y[j]! - want);
        expect(d, `trial ${trial} j ${j}`).toBeLessThanOrEqual(1);
        total++;
        if (d) off++;
      }
    }
    expect(off / total).toBeLessThan(0.02);
  });

  it('16-bit in and out (A16W8): within one output step of float softmax, and exact for nearly every output', () => {
    const r = rng(9);
    let total = 0,
      off = 0;
    for (let trial = 0; trial < 60; trial++) {
      const L = 1 + Math.floor(r() * 40);
      const xScale = 0.0001 + r() * 0.001,
        yScale = 1 / 32767;
      const p = softmaxParams(xScale, yScale, 16, SOFTMAX_ONE_16) as Exclude<ReturnType<typeof softmaxParams>, string>;
      expect(p.table.length).toBe(65536);
      const x = Int16Array.from({ length: L }, () => Math.floor(r() * 65536) - 32768);
      const y = new Int16Array(L);
      qsoftmaxRef({ x: x as never, outer: 1, axisLen: L, inner: 1, ...p, zeroPoint: 0, min: -32768, max: 32767, y: y as never });
      const m = Math.max(...x);
      const e = Array.from(x, (v) => Math.exp((v - m) * Math.fround(xScale)));
      const s = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < L; j++) {
        const want = Math.min(32767, Math.round(e[j]! / s / Math.fround(yScale)));
        const d = Math.abs(y[j]! - want);
        expect(d, `trial ${trial} j ${j}`).toBeLessThanOrEqual(1);
        total++;
        if (d) off++;
      }
    }
    expect(off / total).toBeLessThan(0.02);
  });

  it('a one-hot row and a constant row', () => {
    const p = softmaxParams(0.5, 1 / 255) as Exclude<ReturnType<typeof softmaxParams>, string>;
    const one = new Uint8Array(4);
    qsoftmaxRef({ x: Uint8Array.of(0, 255, 0, 0), outer: 1, axisLen: 4, inner: 1, ...p, zeroPoint: 0, min: 0, max: 255, y: one });
    expect(Array.from(one)).toEqual([0, 255, 0, 0]);
    const flat = new Uint8Array(5);
    qsoftmaxRef({ x: new Uint8Array(5).fill(77), outer: 1, axisLen: 5, inner: 1, ...p, zeroPoint: 0, min: 0, max: 255, y: flat });
    expect(Array.from(flat)).toEqual([51, 51, 51, 51, 51]); // 255 / 5
  });

  it('scales with no integer form are refused with a reason', () => {
    expect(softmaxParams(0.1, 2 ** -30)).toMatch(/outside/);
    expect(softmaxParams(0, 1 / 255)).toMatch(/not finite and > 0/);
  });
});

describe('softmax: bad arguments are refused by every backend', () => {
  const good = (): SoftmaxArgs => {
    const p = softmaxParams(0.1, 1 / 255) as Exclude<ReturnType<typeof softmaxParams>, string>;
    return { x: new Uint8Array(8), outer: 2, axisLen: 4, inner: 1, ...p, zeroPoint: 0, min: 0, max: 255, y: new Uint8Array(8) };
  };
  const bad: [string, (g: SoftmaxArgs) => SoftmaxArgs, RegExp][] = [
    ['short table', (g) => ({ ...g, table: new Uint32Array(255) }), /table/],
    ['table entry above one', (g) => ({ ...g, table: g.table.map((v, i) => (i === 3 ? SOFTMAX_ONE + 1 : v)) }), /table/],
    ['table[0] zero', (g) => ({ ...g, table: g.table.map((v, i) => (i === 0 ? 0 : v)) }), /table\[0\]/],
    ['multiplier 2^24', (g) => ({ ...g, multiplier: 2 ** 24 }), /multiplier/],
    ['shift 63', (g) => ({ ...g, shift: 63 }), /shift/],
    ['short y', (g) => ({ ...g, y: new Uint8Array(7) }), /buffer Y/],
    ['short x', (g) => ({ ...g, x: new Uint8Array(7) }), /buffer X/],
    ['min above max', (g) => ({ ...g, min: 9, max: 3 }), /y_min/],
  ];
  for (const b of backends)
    for (const [name, f, msg] of bad)
      it(`${b.name}: ${name}`, () => {
        let err: unknown;
        try {
          b.softmax(f(good()));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(OnnxPtqError);
        expect((err as Error).message).toMatch(msg);
      });
});
