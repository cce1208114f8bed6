// onnxruntime's dynamic quantization format (quantize_dynamic: DynamicQuantizeLinear -> MatMulInteger
// -> Cast -> Mul by the scales -> Add bias) runs in both our sessions with onnxruntime's results: the
// 8-bit parameters and the int32 products are exact, the float tail is the same float32 ops.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { modelToBytes } from '../src/onnx/io.js';
import { OnnxPtqError } from '../src/errors.js';
import { quantize } from '../src/ptq/quantize.js';
import { loadedBackends, rng } from './backends.js';
import { bertEncoder, bertFeeds } from './bert-model.js';
import { model } from './passes-helpers.js';

// x [2, 3, K] -> y [2, 3, N], per-column int8 weights (zero point 0), as quantize_dynamic writes with per_channel.
function dynamicMatMul(K: number, N: number) {
  const r = rng(K * 31 + N);
  // The intermediates are outputs too, so that onnxruntime can be asked for them.
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3, K] }],
    outputs: [{ name: 'y', dtype: 'float32' }, { name: 'x_q' }, { name: 'x_scale' }, { name: 'x_zp' }, { name: 'acc' }],
  });
  g.initializers.set(
    'w_q',
    new Tensor(
      'int8',
      Int8Array.from({ length: K * N }, () => Math.floor(r() * 255) - 127),
      [K, N],
    ),
  );
  g.initializers.set('w_zp', new Tensor('int8', new Int8Array(N), [N]));
  g.initializers.set(
    'w_scale',
    new Tensor(
      'float32',
      Float32Array.from({ length: N }, () => 0.001 + r() * 0.01),
      [N],
    ),
  );
  g.initializers.set(
    'bias',
    new Tensor(
      'float32',
      Float32Array.from({ length: N }, () => r() - 0.5),
      [N],
    ),
  );
  g.nodes.push(makeNode('DynamicQuantizeLinear', ['x'], ['x_q', 'x_scale', 'x_zp'], {}, 'x_dql'));
  g.nodes.push(makeNode('MatMulInteger', ['x_q', 'w_q', 'x_zp', 'w_zp'], ['acc'], {}, 'mmi'));
  g.nodes.push(makeNode('Cast', ['acc'], ['accf'], { to: { type: 'int', value: 1 } }, 'cast'));
  g.nodes.push(makeNode('Mul', ['x_scale', 'w_scale'], ['s'], {}, 'scales'));
  g.nodes.push(makeNode('Mul', ['accf', 's'], ['yb'], {}, 'rescale'));
  g.nodes.push(makeNode('Add', ['yb', 'bias'], ['y'], {}, 'bias_add'));
  return model(g, 13);
}

const input = (K: number, seed: number, f = (v: number) => v) => {
  const r = rng(seed);
  return new Tensor(
    'float32',
    Float32Array.from({ length: 6 * K }, () => f((r() - 0.3) * 4)),
    [2, 3, K],
  );
};

describe('dynamic quantization (onnxruntime quantize_dynamic format)', () => {
  for (const [K, N] of [
    [1, 1],
    [17, 5],
    [33, 64],
    [65, 31],
  ] as const) {
    it(`K ${K}, N ${N}: the same bits as onnxruntime in the float session and on every integer backend`, async () => {
      const m = dynamicMatMul(K, N);
      const x = input(K, K + N);
      const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
      const want = await o.run({ x: new ort.Tensor('float32', x.data as Float32Array, [2, 3, K]) }, ['y', 'x_q', 'x_scale', 'x_zp', 'acc']);
      const f = await InferenceSession.create(m);
      const got = await f.run({ x }, ['y', 'x_q', 'x_scale', 'x_zp', 'acc']);
      for (const t of ['x_q', 'x_scale', 'x_zp', 'acc', 'y'])
        expect(Array.from(got[t]!.data as ArrayLike<number>), t).toEqual(Array.from(want[t]!.data as ArrayLike<number>));
      for (const b of loadedBackends) {
        const s = await IntegerSession.create(m, { backend: b.name, runInWorker: false });
        expect(s.loweringReport().find((e) => e.node === 'mmi')!.execution, b.name).toBe('integer');
        // DynamicQuantizeLinear on the backend's scan and quantize kernels: the op's bits (y depends on every code).
        expect(s.loweringReport().find((e) => e.node === 'x_dql')!.kernel, b.name).toBe('scanF32 + quantizeLinear');
        expect(Array.from(s.runSync({ x }).y!.data as Float32Array), b.name).toEqual(Array.from(want.y!.data as Float32Array));
        s.release();
      }
    });
  }

  it('an all-zero input has scale 1, zero point 0 and all-zero codes, as onnxruntime gives', async () => {
    const m = dynamicMatMul(4, 2);
    const x = new Tensor('float32', new Float32Array(24), [2, 3, 4]);
    const got = await (await InferenceSession.create(m)).run({ x }, ['x_q', 'x_scale', 'x_zp']);
    const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), ORT_EXACT_INTEGER);
    const want = await o.run({ x: new ort.Tensor('float32', new Float32Array(24), [2, 3, 4]) }, ['x_q', 'x_scale', 'x_zp']);
    for (const t of ['x_q', 'x_scale', 'x_zp'])
      expect(Array.from(got[t]!.data as ArrayLike<number>), t).toEqual(Array.from(want[t]!.data as ArrayLike<number>));
    for (const b of loadedBackends) {
      const s = await IntegerSession.create(m, { backend: b.name, runInWorker: false });
      const y = s.runSync({ x }).y!.data as Float32Array;
      // Scale 1 and zero point 0: codes 0, products 0, y = the bias.
      expect(Array.from(y), b.name).toEqual(
        Array.from((await o.run({ x: new ort.Tensor('float32', new Float32Array(24), [2, 3, 4]) })).y!.data as Float32Array),
      );
      s.release();
    }
  });

  it('NaN or infinity in the input is refused with the tensor named', async () => {
    // The session refuses a non-finite feed by default; with allowNonFinite the op itself refuses it.
    const strict = await InferenceSession.create(dynamicMatMul(4, 2));
    const lax = await InferenceSession.create(dynamicMatMul(4, 2), { allowNonFinite: true });
    const laxInt = loadedBackends.map((b) =>
      IntegerSession.create(dynamicMatMul(4, 2), { backend: b.name, runInWorker: false, allowNonFinite: true }),
    );
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const x = input(4, 1, (v) => v);
      (x.data as Float32Array)[5] = bad;
      for (const [s, msg] of [
        [strict, /input 'x'/],
        [lax, new RegExp(`input 'x' holds ${bad} at index 5`)],
      ] as const) {
        const err = await s.run({ x }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OnnxPtqError);
        expect(String((err as Error).message)).toMatch(msg);
      }
      // The integer executor's lowering (the backend's scan) names the same index.
      for (const p of laxInt) {
        const s = await p;
        expect(() => s.runSync({ x })).toThrow(new RegExp(`input 'x' holds ${bad} at index 5`));
      }
    }
  });
});

describe("quantize({ mode: 'dynamic' })", () => {
  it('writes MatMulInteger for every linear layer of the BERT-style encoder, no data needed; both sessions and onnxruntime agree', async () => {
    const { model: q, report } = await quantize(bertEncoder('opset13'), { mode: 'dynamic' });
    const ops = q.graph.nodes.map((n) => n.opType);
    // 2 layers x (Q, K, V, output, 2 feed-forward) linear layers; the attention MatMuls of two activations stay float.
    expect(ops.filter((o) => o === 'MatMulInteger')).toHaveLength(12);
    expect(ops.filter((o) => o === 'MatMul')).toHaveLength(4);
    // One DynamicQuantizeLinear per quantized activation: Q, K and V share the LayerNorm output's.
    expect(ops.filter((o) => o === 'DynamicQuantizeLinear')).toHaveLength(8);
    expect(ops).not.toContain('QuantizeLinear');
    expect(report.layers).toHaveLength(12);
    // int8 linear weights; the embedding tables stay float in this mode.
    expect(report.size.quantizedBytes).toBeLessThan(report.size.floatBytes);
    const want = (await (await InferenceSession.create(bertEncoder('opset13'))).run(bertFeeds(100))).last_hidden_state!
      .data as Float32Array;
    const ours = (await (await InferenceSession.create(q)).run(bertFeeds(100))).last_hidden_state!.data as Float32Array;
    const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(q)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
    const ids = bertFeeds(100).input_ids;
    const r = (await o.run({ input_ids: new ort.Tensor('int64', ids.data as BigInt64Array, [...ids.dims]) })).last_hidden_state!
      .data as Float32Array;
    const db = (a: Float32Array, b: Float32Array) => {
      let s = 0,
        e = 0;
      for (let i = 0; i < a.length; i++) {
        s += a[i]! ** 2;
        e += (a[i]! - b[i]!) ** 2;
      }
      return 10 * Math.log10(s / e);
    };
    // Measured: 37.4 dB against float (static int8: 28.7); onnxruntime on the same file 137 dB from ours.
    expect(db(want, ours)).toBeGreaterThan(28);
    expect(db(r, ours)).toBeGreaterThan(60);
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
    expect(
      s
        .loweringReport()
        .filter((e) => e.opType === 'MatMulInteger')
        .every((e) => e.execution === 'integer'),
    ).toBe(true);
    // The float steps between (LayerNorm, Softmax, GELU) run on other code paths than the float session's.
    expect(db(ours, s.runSync(bertFeeds(100)).last_hidden_state!.data as Float32Array)).toBeGreaterThan(60);
    s.release();
  });

  it('refuses what it cannot write: per-group or 4-bit weights, passes on static parameters, statistics', async () => {
    const m = bertEncoder('opset13');
    for (const [opts, msg] of [
      [{ weightGranularity: 'per-group' }, /per-group/],
      [{ weightBits: 4 }, /8-bit/],
      [{ passes: ['single-shift'] }, /static activation parameters/],
    ] as const) {
      const err = await quantize(m, { mode: 'dynamic', ...opts } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OnnxPtqError);
      expect(String((err as Error).message)).toMatch(msg);
    }
  });
});
