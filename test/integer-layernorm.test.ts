// Integer LayerNorm (issue 13): the kernel against float LayerNorm of the dequantized input, and the
// decomposed pattern (ReduceMean -> Sub -> Pow -> ReduceMean -> Add eps -> Sqrt -> Div) quantized as
// one unit and lowered to one integer step; cases where the pattern must not fire.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { layerNormAffine, layerNormParams, qlayerNormRef, rowMultiplier, rowMultiplierExact } from '../src/kernels/int8/qlayernorm-ref.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { modelToBytes } from '../src/onnx/io.js';
import { loadedBackends, rng } from './backends.js';
import { model, sqnr } from './passes-helpers.js';

describe('integer LayerNorm kernel against float', () => {
  it('is within one output step of round(layernorm(dequantized x) / Sy) + Zy, and exact for nearly every output', () => {
    const r = rng(13);
    let total = 0,
      off = 0;
    for (const C of [1, 2, 3, 5, 8, 13, 16, 17, 31, 32, 33, 63, 64, 65, 120, 384, 1000]) {
      for (let trial = 0; trial < 6; trial++) {
        const sx = 0.005 + r() * 0.1,
          sy = 0.01 + r() * 0.04,
          zx = Math.floor(r() * 256),
          zy = 100 + Math.floor(r() * 50),
          eps = [0, 1e-6, 1e-5, 1e-3][trial % 4]!;
        const rows = 3;
        const x = Uint8Array.from({ length: rows * C }, () => Math.floor(r() * 256));
        const p = layerNormParams(C, eps, sx, sy, { zeroPoint: zy, min: 0, max: 255 });
        if (typeof p === 'string') throw new Error(p);
        const y = new Uint8Array(rows * C);
        qlayerNormRef(x, zx, rows, p, y);
        for (let row = 0; row < rows; row++) {
          const v = Array.from(x.subarray(row * C, row * C + C), (q) => Math.fround(sx) * (q - zx));
          const mean = v.reduce((a, b) => a + b, 0) / C;
          const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
          for (let i = 0; i < C; i++) {
            const n = variance + eps > 0 ? (v[i]! - mean) / Math.sqrt(variance + eps) : 0;
            const want = Math.min(255, Math.max(0, Math.round(n / Math.fround(sy)) + zy));
            const d = Math.abs(y[row * C + i]! - want);
            expect(d, `C ${C} trial ${trial} row ${row} i ${i}`).toBeLessThanOrEqual(1);
            total++;
            if (d) off++;
          }
        }
      }
    }
    expect(off / total).toBeLessThan(0.01);
  });

  it('with Scale and B inside (LayerNormalization): within one step of the float result, exact for nearly every output', () => {
    const r = rng(17);
    let total = 0,
      off = 0;
    for (const C of [1, 2, 3, 7, 16, 17, 31, 32, 33, 63, 64, 65, 384, 768, 4096]) {
      for (let trial = 0; trial < 4; trial++) {
        const sx = 0.005 + r() * 0.1,
          zx = Math.floor(r() * 256) - 128,
          eps = [1e-12, 1e-5, 0, 1e-3][trial]!;
        // Scales of mixed sign and spread (one near zero), shifts up to a few output ranges.
        const gamma = Float32Array.from({ length: C }, (_, i) => (i === 1 ? 1e-4 : (r() - 0.3) * 3));
        const beta = Float32Array.from({ length: C }, () => (r() - 0.5) * 4);
        const sy = 0.02 + r() * 0.05,
          zy = Math.floor(r() * 40) - 20;
        const a = layerNormAffine(gamma, trial === 2 ? undefined : beta, sy);
        if (typeof a === 'string') throw new Error(a);
        const p = layerNormParams(C, eps, sx, sy, { zeroPoint: zy, min: -128, max: 127 }, a.gain);
        if (typeof p === 'string') throw new Error(p);
        const rows = C > 1000 ? 1 : 3;
        const x = Int8Array.from({ length: rows * C }, () => Math.floor(r() * 256) - 128);
        const y = new Int8Array(rows * C);
        qlayerNormRef(x, zx, rows, p, y, a.affine);
        for (let row = 0; row < rows; row++) {
          const v = Array.from(x.subarray(row * C, row * C + C), (q) => Math.fround(sx) * (q - zx));
          const mean = v.reduce((s, b) => s + b, 0) / C;
          const variance = v.reduce((s, b) => s + (b - mean) ** 2, 0) / C;
          for (let i = 0; i < C; i++) {
            const n = variance + eps > 0 ? (v[i]! - mean) / Math.sqrt(variance + eps) : 0;
            const f = n * gamma[i]! + (trial === 2 ? 0 : beta[i]!);
            const want = Math.min(127, Math.max(-128, Math.round(f / Math.fround(sy)) + zy));
            const d = Math.abs(y[row * C + i]! - want);
            expect(d, `C ${C} trial ${trial} row ${row} i ${i}`).toBeLessThanOrEqual(1);
            total++;
            if (d) off++;
          }
        }
      }
    }
    expect(off / total).toBeLessThan(0.01);
  });

  it("the row multiplier's double fast path gives the BigInt reference's Mr and sr, near-integer quotients included", () => {
    const r = rng(29);
    let nearTies = 0;
    for (let t = 0; t < 20000; t++) {
      const gm = 2 ** 30 + Math.floor(r() * 2 ** 30),
        gs = Math.floor(r() * 40) - 5;
      let T = Math.floor(2 ** (r() * 52)) + 1;
      if (t % 2) {
        // T = gm^2 4^k / m^2 (+-1) puts G 2^sr / sqrt(T) within m / 2T of the integer m: for T near
        // 2^52 that is 2^-22, inside the doubles' own error, where only the BigInt path is right.
        const m = BigInt(2 ** 30 + Math.floor(r() * 2 ** 30)),
          k = BigInt(10 + Math.floor(r() * 16));
        T = Number(((BigInt(gm) * BigInt(gm)) << (2n * k)) / (m * m)) + Math.floor(r() * 3) - 1;
        nearTies++;
      }
      if (T < 1) continue;
      expect(rowMultiplier(T, { gm, gs }), `T ${T} gm ${gm} gs ${gs}`).toEqual(rowMultiplierExact(T, { gm, gs }));
    }
    expect(nearTies).toBe(10000);
  });

  it('with Scale and B: a constant row gives B alone; non-finite Scale or B is refused with a reason', () => {
    const a = layerNormAffine(Float32Array.of(1, 2), Float32Array.of(0.5, -0.25), 0.05);
    if (typeof a === 'string') throw new Error(a);
    const p = layerNormParams(2, 0, 0.1, 0.05, { zeroPoint: 3, min: -128, max: 127 }, a.gain);
    if (typeof p === 'string') throw new Error(p);
    const y = new Int8Array(2);
    qlayerNormRef(Int8Array.of(9, 9), 0, 1, p, y, a.affine);
    expect(Array.from(y)).toEqual([3 + 10, 3 - 5]);
    expect(layerNormAffine(Float32Array.of(1, Number.NaN), undefined, 0.1)).toMatch(/Scale holds NaN/);
    expect(layerNormAffine(Float32Array.of(1, 1), Float32Array.of(0, Infinity), 0.1)).toMatch(/B holds Infinity/);
  });

  it('a constant row with eps 0 gives the zero point; lengths past the limit are refused with a reason', () => {
    const p = layerNormParams(4, 0, 0.1, 0.02, { zeroPoint: 7, min: 0, max: 255 });
    if (typeof p === 'string') throw new Error(p);
    const y = new Uint8Array(4);
    qlayerNormRef(new Uint8Array(4).fill(200), 3, 1, p, y);
    expect(Array.from(y)).toEqual([7, 7, 7, 7]);
    expect(layerNormParams(5000, 1e-5, 0.1, 0.02, { zeroPoint: 0, min: 0, max: 255 })).toMatch(/1\.\.4096/);
  });
});

// x [2, 6, 16] -> Add(x, r) -> h -> decomposed LayerNorm over the last axis -> Mul gamma -> Add beta -> y
function lnModel(variant: 'plain' | 'mulsq' | 'axis1' | 'eps-input' = 'plain') {
  const inputs = [{ name: 'x', dtype: 'float32' as const, shape: [2, 6, 16] }];
  if (variant === 'eps-input') inputs.push({ name: 'e', dtype: 'float32' as const, shape: [] as number[] } as never);
  const g = new Graph({ inputs, outputs: [{ name: 'y', dtype: 'float32' }] });
  const c = (name: string, v: number[] | number, dims: number[]) =>
    g.initializers.set(name, new Tensor('float32', Float32Array.from(Array.isArray(v) ? v : [v]), dims));
  c(
    'r',
    Array.from({ length: 16 }, (_, i) => Math.sin(i) * 0.5),
    [16],
  );
  c('two', 2, []);
  c('eps', 1e-5, []);
  c(
    'gamma',
    Array.from({ length: 16 }, (_, i) => 0.5 + i / 16),
    [16],
  );
  c(
    'beta',
    Array.from({ length: 16 }, (_, i) => Math.cos(i) * 0.2),
    [16],
  );
  const axes = { axes: { type: 'ints' as const, value: [variant === 'axis1' ? 1 : -1] } };
  g.nodes.push(makeNode('Add', ['x', 'r'], ['h'], {}, 'residual'));
  g.nodes.push(makeNode('ReduceMean', ['h'], ['m'], axes, 'mean'));
  g.nodes.push(makeNode('Sub', ['h', 'm'], ['d'], {}, 'sub'));
  g.nodes.push(variant === 'mulsq' ? makeNode('Mul', ['d', 'd'], ['p'], {}, 'square') : makeNode('Pow', ['d', 'two'], ['p'], {}, 'square'));
  g.nodes.push(makeNode('ReduceMean', ['p'], ['v'], axes, 'var'));
  g.nodes.push(makeNode('Add', ['v', variant === 'eps-input' ? 'e' : 'eps'], ['ve'], {}, 'add_eps'));
  g.nodes.push(makeNode('Sqrt', ['ve'], ['s'], {}, 'sqrt'));
  g.nodes.push(makeNode('Div', ['d', 's'], ['n'], {}, 'div'));
  g.nodes.push(makeNode('Mul', ['n', 'gamma'], ['ng'], {}, 'gamma'));
  g.nodes.push(makeNode('Add', ['ng', 'beta'], ['y'], {}, 'beta'));
  return model(g, 13);
}
const feeds = (i: number, eps = false) => ({
  x: new Tensor(
    'float32',
    Float32Array.from({ length: 192 }, (_, j) => Math.sin(i * 192 + j * 0.7) * 3 + (j % 16) * 0.1),
    [2, 6, 16],
  ),
  ...(eps ? { e: new Tensor('float32', Float32Array.of(1e-5), []) } : {}),
});

describe('decomposed LayerNorm, quantized and lowered as one unit', () => {
  // fuseLayerNorm: false keeps the pattern, as other tools' QDQ files have it.
  for (const variant of ['plain', 'mulsq'] as const) {
    it(`${variant}: Q/DQ on its input and output only, one integer step, close to float and to onnxruntime`, async () => {
      const { model: q } = await quantize(lnModel(variant), { calibration: [0, 1, 2, 3].map((i) => feeds(i)), fuseLayerNorm: false });
      const quantized = new Set(q.graph.nodes.filter((n) => n.opType === 'QuantizeLinear').map((n) => n.inputs[0]!.replace(/_float$/, '')));
      for (const inner of ['m', 'd', 'p', 'v', 've', 's']) expect(quantized.has(inner), inner).toBe(false);
      expect(quantized.has('h') && quantized.has('n')).toBe(true);
      const outs: number[][] = [];
      for (const b of loadedBackends) {
        const s = await IntegerSession.create(q, { backend: b.name, runInWorker: false, strictInteger: true });
        const rep = s.loweringReport();
        expect(rep.find((e) => e.node === 'mean')!.kernel).toBe('layernorm');
        for (const n of ['sub', 'square', 'var', 'add_eps', 'sqrt', 'div'])
          expect(rep.find((e) => e.node === n)!.execution, n).toBe('fused');
        outs.push(Array.from(s.runSync(feeds(9)).y!.data as Float32Array));
        s.release();
      }
      for (let k = 1; k < outs.length; k++) expect(outs[k]).toEqual(outs[0]);
      const want = (await (await InferenceSession.create(lnModel(variant))).run(feeds(9))).y!.data as Float32Array;
      let sig = 0,
        err = 0;
      for (let i = 0; i < want.length; i++) {
        sig += want[i]! ** 2;
        err += (want[i]! - outs[0]![i]!) ** 2;
      }
      expect(10 * Math.log10(sig / err)).toBeGreaterThan(25);
      const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(q)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
      const r = (await o.run({ x: new ort.Tensor('float32', feeds(9).x.data as Float32Array, [2, 6, 16]) })).y!.data as Float32Array;
      let e2 = 0;
      for (let i = 0; i < r.length; i++) e2 += (r[i]! - outs[0]![i]!) ** 2;
      expect(10 * Math.log10(sig / e2)).toBeGreaterThan(25);
    });
  }

  it('fused by default: one LayerNormalization (opset 17), gamma and beta inside the integer step, closer to float', async () => {
    const calibration = [0, 1, 2, 3].map((i) => feeds(i));
    const { model: q, report } = await quantize(lnModel('plain'), { calibration });
    expect(report.opset.to).toBe(17);
    const ln = q.graph.nodes.filter((n) => n.opType === 'LayerNormalization');
    expect(ln).toHaveLength(1);
    for (const op of ['ReduceMean', 'Sqrt', 'Pow'])
      expect(
        q.graph.nodes.some((n) => n.opType === op),
        op,
      ).toBe(false);
    // Quantized: the residual sum h and the output y only.
    expect(
      q.graph.nodes
        .filter((n) => n.opType === 'QuantizeLinear')
        .map((n) => n.inputs[0]!.replace(/_float$/, ''))
        .sort(),
    ).toEqual(['h', 'x', 'y']);
    const want = (await (await InferenceSession.create(lnModel('plain'))).run(feeds(9))).y!.data as Float32Array;
    const db = (got: Float32Array) => sqnr(want, got);
    const outs: number[][] = [];
    for (const b of loadedBackends) {
      const s = await IntegerSession.create(q, { backend: b.name, runInWorker: false, strictInteger: true });
      expect(s.loweringReport().find((e) => e.opType === 'LayerNormalization')!.kernel).toBe('layernorm');
      outs.push(Array.from(s.runSync(feeds(9)).y!.data as Float32Array));
      s.release();
    }
    for (let k = 1; k < outs.length; k++) expect(outs[k]).toEqual(outs[0]);
    const fused = db(Float32Array.from(outs[0]!));
    // The unfused unit rounds the normalized tensor to 8 bits before gamma and beta.
    const { model: u } = await quantize(lnModel('plain'), { calibration, fuseLayerNorm: false });
    const su = await IntegerSession.create(u, { backend: 'js', runInWorker: false });
    const unfused = db(su.runSync(feeds(9)).y!.data as Float32Array);
    su.release();
    expect(fused).toBeGreaterThan(unfused);
    const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(q)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
    const r = (await o.run({ x: new ort.Tensor('float32', feeds(9).x.data as Float32Array, [2, 6, 16]) })).y!.data as Float32Array;
    // onnxruntime runs the same file's LayerNormalization in float between DQ and Q: one step apart at most.
    const ys = (
      q.graph.initializers.get(q.graph.nodes.find((n) => n.opType === 'DequantizeLinear' && n.outputs[0] === 'y')!.inputs[1]!)!
        .data as Float32Array
    )[0]!;
    for (let i = 0; i < r.length; i++) expect(Math.abs(r[i]! - outs[0]![i]!)).toBeLessThanOrEqual(ys * 1.001);
  });

  it('does not fire over a non-last axis or with a non-constant eps: those nodes keep their own forms', async () => {
    for (const variant of ['axis1', 'eps-input'] as const) {
      const eps = variant === 'eps-input';
      const { model: q } = await quantize(lnModel(variant), { calibration: [0, 1, 2].map((i) => feeds(i, eps)) });
      const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
      const rep = s.loweringReport();
      expect(
        rep.some((e) => e.kernel === 'layernorm'),
        variant,
      ).toBe(false);
      expect(rep.find((e) => e.node === 'sqrt')!.execution, variant).toBe('float');
      s.release();
    }
  });
});
