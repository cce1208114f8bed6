// Transpose of 8-bit data (opq_transpose8): every backend and variant against the JS reference bit
// for bit over ranks 1..5, every permutation of rank 3 and 4, awkward sizes, and the whole-row copy
// path (innermost axis kept); bad arguments refused by every backend.
import { describe, expect, it } from 'vitest';
import { transpose8Ref } from '../src/kernels/int8/qlayout-ref.js';
import { OnnxPtqError } from '../src/errors.js';
import { backends, firstDiff, rand8, rng, targets } from './int8-ops-helpers.js';

function perms(n: number): number[][] {
  if (n === 1) return [[0]];
  return perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe.each(targets)('%s', (_label, backend, variant) => {
  it('transpose8: the JS reference bit for bit', () => {
    const r = rng(17);
    const SIZES = [1, 2, 3, 5, 7, 16, 17, 31, 33];
    const cases: [number[], number[]][] = [];
    for (const n of [1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65])
      cases.push(
        [[n], [0]],
        [
          [n, 3],
          [1, 0],
        ],
        [
          [3, n],
          [1, 0],
        ],
      );
    for (const p of perms(3)) for (let t = 0; t < 4; t++) cases.push([p.map(() => SIZES[Math.floor(r() * SIZES.length)]!), p]);
    for (const p of perms(4)) cases.push([p.map(() => 1 + Math.floor(r() * 6)), p]);
    cases.push(
      [
        [2, 3, 4, 5, 3],
        [4, 2, 0, 3, 1],
      ],
      [
        [1, 16, 8, 8],
        [0, 2, 3, 1],
      ],
      [
        [1, 4, 4, 3, 9],
        [0, 1, 3, 2, 4],
      ],
    );
    for (const signed of [false, true])
      for (const [dims, perm] of cases) {
        const n = dims.reduce((a, b) => a * b, 1);
        const x = rand8(r, n, signed);
        const want = signed ? new Int8Array(n) : new Uint8Array(n),
          got = signed ? new Int8Array(n) : new Uint8Array(n);
        transpose8Ref({ x, dims, perm, y: want });
        backend.transpose8({ x, dims, perm, y: got, variant });
        expect(firstDiff(got, want), `[${dims}] perm [${perm}]`).toBe(-1);
      }
  });
});

describe('transpose8 reference', () => {
  it('moves [2, 3] to [3, 2]', () => {
    const y = new Uint8Array(6);
    transpose8Ref({ x: Uint8Array.of(1, 2, 3, 4, 5, 6), dims: [2, 3], perm: [1, 0], y });
    expect(Array.from(y)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('transpose8: bad arguments are refused by every backend', () => {
  const bad: [string, Parameters<(typeof backends)[number]['transpose8']>[0], RegExp][] = [
    ['perm not a permutation', { x: new Uint8Array(6), dims: [2, 3], perm: [0, 0], y: new Uint8Array(6) }, /permutation/],
    ['perm too short', { x: new Uint8Array(6), dims: [2, 3], perm: [0], y: new Uint8Array(6) }, /perm/],
    ['short y', { x: new Uint8Array(6), dims: [2, 3], perm: [1, 0], y: new Uint8Array(5) }, /buffer Y/],
    ['short x', { x: new Uint8Array(5), dims: [2, 3], perm: [1, 0], y: new Uint8Array(6) }, /buffer X/],
    [
      'rank 9',
      { x: new Uint8Array(1), dims: [1, 1, 1, 1, 1, 1, 1, 1, 1], perm: [0, 1, 2, 3, 4, 5, 6, 7, 8], y: new Uint8Array(1) },
      /rank|at most 8|entries/,
    ],
  ];
  for (const b of backends)
    for (const [name, args, msg] of bad)
      it(`${b.name}: ${name}`, () => {
        let err: unknown;
        try {
          b.transpose8(args);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(OnnxPtqError);
        expect((err as Error).message).toMatch(msg);
      });
});
