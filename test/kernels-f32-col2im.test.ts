// col2imF32 (ConvTranspose's col2im): the reference against a direct definition (every tap of every
// input pixel added in kd, kh, kw, id, ih, iw order, float32 after each addition), then every backend
// bit for bit against the reference on awkward geometries (1-D, 2-D, 3-D as unit leading axes;
// strides, dilations and pads past the kernel; taps that fall outside; the one-tap-per-pixel tile
// case), with and without bias; bad arguments refused with the C ABI's words on every backend.
import { describe, expect, it } from 'vitest';
import { type Col2ImGeom, col2imF32Ref, col2imFields } from '../src/kernels/f32/col2im.js';
import { jsBackend, loadedBackends, randInt, rng } from './backends.js';
import { expectKernelArgument } from './kernel-errors.js';

/** The direct definition: for each output pixel, its taps in (kd, kh, kw) order, id/ih/iw the ones landing there. */
function direct(p: Col2ImGeom, channels: number, cols: Float32Array, bias: Float32Array | null): Float32Array {
  const I = p.D * p.H * p.W,
    O = p.OD * p.OH * p.OW,
    Kv = p.KD * p.KH * p.KW;
  const y = new Float32Array(channels * O);
  for (let c = 0; c < channels; c++) {
    for (let o = 0; o < O; o++) y[c * O + o] = bias ? bias[c]! : 0;
    for (let kd = 0; kd < p.KD; kd++)
      for (let kh = 0; kh < p.KH; kh++)
        for (let kw = 0; kw < p.KW; kw++)
          for (let id = 0; id < p.D; id++)
            for (let ih = 0; ih < p.H; ih++)
              for (let iw = 0; iw < p.W; iw++) {
                const od = id * p.sd + kd * p.dd - p.pd,
                  oh = ih * p.sh + kh * p.dh - p.ph,
                  ow = iw * p.sw + kw * p.dw - p.pw;
                if (od < 0 || od >= p.OD || oh < 0 || oh >= p.OH || ow < 0 || ow >= p.OW) continue;
                const at = c * O + (od * p.OH + oh) * p.OW + ow;
                y[at] = Math.fround(y[at]! + cols[(c * Kv + (kd * p.KH + kh) * p.KW + kw) * I + (id * p.H + ih) * p.W + iw]!);
              }
  }
  return y;
}

/** A geometry whose output is ConvTranspose's (pads taken from the ends, output_padding 0..stride-1). */
function geom(r: () => number, rank: 1 | 2 | 3, tiles: boolean): Col2ImGeom {
  const axis = (on: boolean) => {
    if (!on) return { i: 1, k: 1, o: 1, s: 1, d: 1, p: 0 };
    const i = [1, 2, 3, 5, 7, 16, 17][randInt(r, 0, 6)]!;
    if (tiles) {
      const k = randInt(r, 1, 4);
      return { i, k, o: i * k, s: k, d: 1, p: 0 };
    }
    const k = randInt(r, 1, 4),
      s = randInt(r, 1, 5),
      d = randInt(r, 1, 3);
    const full = (i - 1) * s + (k - 1) * d + 1;
    const pb = randInt(r, 0, 3),
      pe = randInt(r, 0, 3),
      op = randInt(r, 0, s - 1);
    const o = Math.max(1, full - pb - pe + op);
    return { i, k, o, s, d, p: pb };
  };
  const [a, b, c] = [axis(rank === 3), axis(rank >= 2), axis(true)];
  return {
    D: a.i,
    H: b.i,
    W: c.i,
    KD: a.k,
    KH: b.k,
    KW: c.k,
    OD: a.o,
    OH: b.o,
    OW: c.o,
    sd: a.s,
    sh: b.s,
    sw: c.s,
    dd: a.d,
    dh: b.d,
    dw: c.d,
    pd: a.p,
    ph: b.p,
    pw: c.p,
  };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('col2imF32', () => {
  const cases: { p: Col2ImGeom; channels: number; bias: boolean; seed: number }[] = [];
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const rank = ((seed % 3) + 1) as 1 | 2 | 3;
    cases.push({ p: geom(r, rank, seed % 4 === 0), channels: [1, 2, 3, 5, 17][seed % 5]!, bias: seed % 2 === 0, seed });
  }
  const data = (c: (typeof cases)[number]) => {
    const r = rng(1000 + c.seed);
    const { p, channels } = c;
    const cols = Float32Array.from({ length: channels * p.KD * p.KH * p.KW * p.D * p.H * p.W }, () => (r() - 0.5) * 8);
    const bias = c.bias ? Float32Array.from({ length: channels }, () => r() - 0.5) : null;
    return { cols, bias };
  };

  it('the reference is the direct definition, bit for bit (60 geometries, 1-D to 3-D, tiles among them)', () => {
    for (const c of cases) {
      const { cols, bias } = data(c);
      const y = new Float32Array(c.channels * c.p.OD * c.p.OH * c.p.OW).fill(Number.NaN);
      col2imF32Ref(c.p, c.channels, cols, bias, y);
      expect(bits(y), JSON.stringify(c)).toEqual(bits(direct(c.p, c.channels, cols, bias)));
    }
  });

  for (const be of loadedBackends)
    it(`${be.name}: the reference's bits on every geometry`, () => {
      for (const c of cases) {
        const { cols, bias } = data(c);
        const want = new Float32Array(c.channels * c.p.OD * c.p.OH * c.p.OW);
        col2imF32Ref(c.p, c.channels, cols, bias, want);
        const y = new Float32Array(want.length).fill(Number.NaN);
        be.col2imF32(col2imFields(c.p), c.channels, cols, bias, y);
        expect(bits(y), `${be.name} ${JSON.stringify(c)}`).toEqual(bits(want));
      }
    });

  it('bad arguments: refused with the same words on every backend', () => {
    const p: Col2ImGeom = {
      D: 1,
      H: 2,
      W: 2,
      KD: 1,
      KH: 2,
      KW: 2,
      OD: 1,
      OH: 4,
      OW: 4,
      sd: 1,
      sh: 2,
      sw: 2,
      dd: 1,
      dh: 1,
      dw: 1,
      pd: 0,
      ph: 0,
      pw: 0,
    };
    const geo = col2imFields(p);
    const cols = new Float32Array(3 * 4 * 4),
      y = new Float32Array(3 * 16);
    const bad = (i: number, v: number) => {
      const g = geo.slice();
      g[i] = v;
      return g;
    };
    for (const be of [...loadedBackends, jsBackend]) {
      expectKernelArgument(() => be.col2imF32(geo.subarray(0, 17), 3, cols, null, y), /geo must be an Int32Array of 18 fields/);
      expectKernelArgument(() => be.col2imF32(bad(10, 0), 3, cols, null, y), /a kernel, stride or dilation is below 1/);
      expectKernelArgument(() => be.col2imF32(bad(16, -1), 3, cols, null, y), /a size or pad is negative/);
      expectKernelArgument(() => be.col2imF32(geo, 3, cols.subarray(1), null, y), /buffer cols must have/);
      expectKernelArgument(() => be.col2imF32(geo, 3, cols, null, y.subarray(1)), /buffer y must have/);
      expectKernelArgument(() => be.col2imF32(geo, 3, cols, new Float32Array(2), y), /bias must have 0 or channels entries/);
      const mem = new Float32Array(200);
      expectKernelArgument(() => be.col2imF32(geo, 3, mem.subarray(0, 48), null, mem.subarray(40, 88)), /y overlaps cols/);
    }
  });
});
