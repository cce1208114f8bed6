// convProbeSumsF32 (a bias-correction probe of Conv, summed from the layer input): the reference
// against a direct definition (Conv(x, delta) evaluated tap by tap in double and summed per output
// channel; equal up to rounding, since the orders of addition differ), then every backend and
// variant bit for bit against the reference on awkward geometries (which run the class-sum and dot
// microkernels on every SIMD path and tail): rows of 1..17, 31-33 and 63-65, column strides 1-3,
// 1-D to 3-D (with and without a trivial leading axis, which the kernels skip), strides, dilations and pads past the
// kernel, taps that read nothing, groups and depthwise, batch > 1, and values of mixed magnitudes
// for which the order of the additions shows. Bad arguments are refused with the C ABI's words.
import { describe, expect, it } from 'vitest';
import { type ConvProbeGeom, convProbeFields, convProbeSumsF32Ref, convProbeWorkSize } from '../src/kernels/f32/conv-probe.js';
import { backendVariants, jsBackend, loadedBackends, randInt, rng } from './backends.js';
import { expectKernelArgument } from './kernel-errors.js';

const ROWS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65];

/** Sum over output positions of Conv(x, delta)'s channel m, every product and sum in double. */
function direct(g: ConvProbeGeom, x: Float32Array, delta: Float32Array): Float64Array {
  const cpg = g.C / g.group,
    perGroup = g.M / g.group;
  const [I0, I1, I2] = g.I,
    [K0, K1, K2] = g.K,
    [O0, O1, O2] = g.O;
  const sums = new Float64Array(g.M);
  for (let n = 0; n < g.N; n++)
    for (let m = 0; m < g.M; m++)
      for (let o0 = 0; o0 < O0; o0++)
        for (let o1 = 0; o1 < O1; o1++)
          for (let o2 = 0; o2 < O2; o2++)
            for (let j = 0; j < cpg; j++)
              for (let k0 = 0; k0 < K0; k0++)
                for (let k1 = 0; k1 < K1; k1++)
                  for (let k2 = 0; k2 < K2; k2++) {
                    const i0 = o0 * g.strides[0] + k0 * g.dilations[0] - g.pads[0],
                      i1 = o1 * g.strides[1] + k1 * g.dilations[1] - g.pads[1],
                      i2 = o2 * g.strides[2] + k2 * g.dilations[2] - g.pads[2];
                    if (i0 < 0 || i0 >= I0 || i1 < 0 || i1 >= I1 || i2 < 0 || i2 >= I2) continue;
                    const c = Math.floor(m / perGroup) * cpg + j;
                    sums[m] +=
                      x[(((n * g.C + c) * I0 + i0) * I1 + i1) * I2 + i2]! * delta[(((m * cpg + j) * K0 + k0) * K1 + k1) * K2 + k2]!;
                  }
  return sums;
}

/** A geometry with Conv's output size for random pads (some taps read nothing when pads pass the kernel). */
function geom(r: () => number, rank: 1 | 2 | 3, seed: number): ConvProbeGeom {
  const axis = (on: boolean, last: boolean) => {
    if (!on) return { i: 1, k: 1, o: 1, s: 1, d: 1, p: 0 };
    const i = last ? ROWS[seed % ROWS.length]! : randInt(r, 1, 7);
    const k = randInt(r, 1, 5),
      s = randInt(r, 1, 3),
      d = randInt(r, 1, 2);
    const pb = randInt(r, 0, 4),
      pe = randInt(r, 0, 4);
    const o = Math.floor((i + pb + pe - ((k - 1) * d + 1)) / s) + 1;
    return o >= 1 ? { i, k, o, s, d, p: pb } : { i, k: 1, o: Math.floor((i + pb + pe - 1) / s) + 1, s, d, p: pb };
  };
  const [a, b, c] = [axis(rank === 3, false), axis(rank >= 2, false), axis(true, true)];
  const group = [1, 1, 2, 3][seed % 4]!;
  const depthwise = seed % 5 === 0;
  const C = depthwise ? randInt(r, 1, 6) : group * randInt(r, 1, 3);
  return {
    N: 1 + (seed % 3 === 0 ? 1 : 0),
    C,
    // Up to 9 output channels per group: the SIMD dot products run four or two rows at a time.
    M: depthwise ? C : group * randInt(r, 1, 9),
    group: depthwise ? C : group,
    I: [a.i, b.i, c.i],
    K: [a.k, b.k, c.k],
    O: [a.o, b.o, c.o],
    strides: [a.s, b.s, c.s],
    dilations: [a.d, b.d, c.d],
    pads: [a.p, b.p, c.p],
  };
}

/** Float32 values of mixed magnitudes (the order of double additions shows), and +-0. */
function values(r: () => number, n: number, mixed: boolean): Float32Array {
  return Float32Array.from({ length: n }, () => {
    if (!mixed) return (r() - 0.5) * 4;
    const u = r();
    return u < 0.1 ? (u < 0.05 ? 0 : -0) : (r() < 0.5 ? -1 : 1) * (1 + r()) * 10 ** Math.floor(r() * 16 - 8);
  });
}

const same = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('convProbeSumsF32', () => {
  const cases: { g: ConvProbeGeom; seed: number }[] = [];
  for (let seed = 1; seed <= 69; seed++) cases.push({ g: geom(rng(seed), ((seed % 3) + 1) as 1 | 2 | 3, seed), seed });
  const data = (c: (typeof cases)[number], mixed: boolean) => {
    const r = rng(1000 + c.seed);
    const { g } = c;
    const x = values(r, g.N * g.C * g.I[0] * g.I[1] * g.I[2], mixed);
    const delta = values(r, g.M * (g.C / g.group) * g.K[0] * g.K[1] * g.K[2], mixed);
    return { x, delta };
  };
  const ref = (g: ConvProbeGeom, x: Float32Array, delta: Float32Array) => {
    const sums = new Float64Array(g.M).fill(Number.NaN);
    convProbeSumsF32Ref(g, x, delta, sums, new Float64Array(convProbeWorkSize(convProbeFields(g))).fill(Number.NaN));
    return sums;
  };

  it('the reference is the direct definition up to rounding (69 geometries, 1-D to 3-D)', () => {
    for (const c of cases) {
      const { x, delta } = data(c, false);
      const want = direct(c.g, x, delta);
      const got = ref(c.g, x, delta);
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      for (let m = 0; m < c.g.M; m++) expect(Math.abs(got[m]! - want[m]!), `${JSON.stringify(c.g)} m=${m}`).toBeLessThan(1e-12 * scale);
    }
  });

  for (const { label, backend, variant } of backendVariants)
    it(`${label}: the reference's bits on every geometry, plain and mixed-magnitude data`, () => {
      for (const c of cases)
        for (const mixed of [false, true]) {
          const { x, delta } = data(c, mixed);
          const want = ref(c.g, x, delta);
          const got = new Float64Array(c.g.M).fill(Number.NaN);
          backend.convProbeSumsF32(convProbeFields(c.g), x, delta, got, variant);
          if (!same(got, want)) expect.fail(`${label} ${JSON.stringify(c.g)} mixed=${mixed}: ${got} vs ${want}`);
        }
    });

  it('bad arguments: refused with the same words on every backend', () => {
    const g: ConvProbeGeom = {
      N: 1,
      C: 4,
      M: 2,
      group: 2,
      I: [1, 3, 5],
      K: [1, 2, 2],
      O: [1, 2, 4],
      strides: [1, 1, 1],
      dilations: [1, 1, 1],
      pads: [0, 0, 0],
    };
    const geo = convProbeFields(g);
    const x = new Float32Array(4 * 15),
      delta = new Float32Array(2 * 2 * 4),
      sums = new Float64Array(2);
    const bad = (i: number, v: number) => {
      const f = geo.slice();
      f[i] = v;
      return f;
    };
    for (const be of [...loadedBackends, jsBackend]) {
      expectKernelArgument(() => be.convProbeSumsF32(geo.subarray(0, 21), x, delta, sums), /geo must be an Int32Array of 22 fields/);
      expectKernelArgument(() => be.convProbeSumsF32(bad(8, 0), x, delta, sums), /kernel, stride or dilation outside/);
      expectKernelArgument(() => be.convProbeSumsF32(bad(21, -1), x, delta, sums), /a size, output or pad is outside/);
      expectKernelArgument(() => be.convProbeSumsF32(bad(3, 3), x, delta, sums), /multiples of group/);
      expectKernelArgument(() => be.convProbeSumsF32(geo, x.subarray(1), delta, sums), /buffer x must have/);
      expectKernelArgument(() => be.convProbeSumsF32(geo, x, delta.subarray(1), sums), /buffer delta must have/);
      expectKernelArgument(() => be.convProbeSumsF32(geo, x, delta, new Float64Array(3)), /buffer sums must have M entries/);
      expectKernelArgument(() => be.convProbeSumsF32(bad(5, 1 << 20), x, delta, sums), /buffer x must have|too large/);
      const mem = new Float64Array(40);
      const xs = new Float32Array(mem.buffer, 0, 60);
      expectKernelArgument(() => be.convProbeSumsF32(geo, xs, delta, mem.subarray(20, 22)), /buffers overlap/);
    }
  });
});
