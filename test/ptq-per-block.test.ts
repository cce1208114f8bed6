// Per-block weights (issue 13's blocked weight-only 4-bit): blocks along the input channel, written
// as opset 21's blocked DequantizeLinear with int4 storage or as com.microsoft MatMulNBits; both run
// in our sessions and in onnxruntime and stand for the same values.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { layerWeightParams } from '../src/ptq/qdq-export.js';
import { dequantizeTensor, quantizeTensor } from '../src/quant/scheme.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { loadModel, modelToBytes } from '../src/onnx/io.js';
import { OnnxPtqError } from '../src/errors.js';
import { bertEncoder, bertFeeds } from './bert-model.js';
import { model, rand, sqnr } from './passes-helpers.js';

/** x [2, K] -> MatMul by a [K, N] constant -> y; K not a multiple of the block. */
function mlp(K: number, N: number, transB = false) {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [2, K] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('w', new Tensor('float32', rand(K * N), transB ? [N, K] : [K, N]));
  if (transB) {
    g.initializers.set('b', new Tensor('float32', rand(N), [N]));
    g.nodes.push(makeNode('Gemm', ['x', 'w', 'b'], ['y'], { transB: { type: 'int', value: 1 } }, 'fc'));
  } else g.nodes.push(makeNode('MatMul', ['x', 'w'], ['y'], {}, 'fc'));
  return model(g, 13);
}
const feedsOf = (K: number, i: number) => ({ x: new Tensor('float32', rand(2 * K, 1, i * 0.01), [2, K]) });

async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>, out: string): Promise<Float32Array> {
  const o = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
  const f = Object.fromEntries(
    Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, [...t.dims])]),
  );
  return (await o.run(f))[out]!.data as Float32Array;
}

describe('per-block weights', () => {
  it('the scheme indexes blocks as DequantizeLinear does: the written file dequantizes to the scheme values', async () => {
    for (const [K, N, transB] of [
      [70, 5, false],
      [33, 17, true],
    ] as const) {
      const m = mlp(K, N, transB);
      const fc = m.graph.nodes[0]!;
      const scheme = { bits: 4, signed: true, symmetric: true, granularity: 'per-block' as const, groupSize: 16 };
      const p = layerWeightParams(m.graph, fc, scheme);
      const w = m.graph.initializers.get('w')!;
      // One scale per block of 16 along K and per output channel.
      expect(p.scale.length).toBe(Math.ceil(K / 16) * N);
      const want = dequantizeTensor(quantizeTensor(w.data as Float32Array, w.dims, p), w.dims, p);
      const { model: q } = await quantize(m, { weightOnly: true, weightGranularity: 'per-block', weightBits: 4, weightGroupSize: 16 });
      const back = loadModel(modelToBytes(q));
      const dq = back.graph.nodes.find((n) => n.opType === 'DequantizeLinear')!;
      expect(dq.attributes.get('block_size')?.value).toBe(16);
      expect(back.graph.initializers.get(dq.inputs[0]!)!.dtype).toBe('int4');
      expect(back.opsetImports.find((o) => o.domain === '')!.version).toBe(21);
      // Only the DequantizeLinear: its output is the weight the file stands for.
      const dqOnly = new Graph({ inputs: [], outputs: [{ name: dq.outputs[0]!, dtype: 'float32' }] });
      for (const i of dq.inputs) dqOnly.initializers.set(i, back.graph.initializers.get(i)!);
      dqOnly.nodes.push(dq);
      const s = await InferenceSession.create(model(dqOnly, 21));
      expect(Array.from(s.runSync({})[dq.outputs[0]!]!.data as Float32Array)).toEqual(Array.from(want));
    }
  });

  it('BERT-style encoder, weight-only 4-bit: QDQ and MatMulNBits files agree with each other, with onnxruntime, and are smaller', async () => {
    const f = bertEncoder('opset17');
    const feed = bertFeeds(100);
    const want = (await (await InferenceSession.create(f)).run(feed)).last_hidden_state!.data as Float32Array;
    const ids = { input_ids: feed.input_ids };
    const outs: Float32Array[] = [];
    let int8Bytes = 0;
    const weightCount = f.graph.nodes
      .filter((n) => n.opType === 'MatMul' && f.graph.initializers.has(n.inputs[1]!))
      .reduce((a, n) => a + f.graph.initializers.get(n.inputs[1]!)!.size, 0);
    {
      const { model: q8 } = await quantize(f, { weightOnly: true, weightGranularity: 'per-block', weightBits: 8, weightGroupSize: 32 });
      int8Bytes = modelToBytes(q8).length;
    }
    for (const weightFormat of ['qdq', 'matmulnbits'] as const) {
      const { model: q, report } = await quantize(f, {
        weightOnly: true,
        weightGranularity: 'per-block',
        weightBits: 4,
        weightGroupSize: 32,
        weightFormat,
      });
      const ops = q.graph.nodes.map((n) => n.opType);
      // 2 layers x 6 linear layers; the attention MatMuls of two activations have no weight.
      expect(ops.filter((o) => o === (weightFormat === 'qdq' ? 'DequantizeLinear' : 'MatMulNBits'))).toHaveLength(12);
      expect(report.layers.filter((l) => l.format === 'MatMulNBits')).toHaveLength(weightFormat === 'qdq' ? 0 : 12);
      const bytes = modelToBytes(q);
      // int4 packs two weights a byte: the file is smaller than the 8-bit per-block one by half the weights' bytes.
      expect(int8Bytes - bytes.length).toBeGreaterThan(weightCount / 2 - 256);
      const s = await IntegerSession.create(loadModel(bytes), { backend: 'js', runInWorker: false });
      const ours = Float32Array.from(s.runSync(ids).last_hidden_state!.data as Float32Array);
      s.release();
      const theirs = await ortRun(bytes, ids, 'last_hidden_state');
      // Measured 16.8 dB at block 16 (random Gaussian weights, 15 levels); block 32 is a little lower.
      expect(sqnr(want, ours)).toBeGreaterThan(12);
      expect(sqnr(want, theirs)).toBeGreaterThan(12);
      // onnxruntime runs MatMulNBits in float (131 dB apart from ours); blocked QDQ it fuses into its
      // own MatMulNBits with int8-quantized activations (about 41 dB apart).
      expect(sqnr(theirs, ours)).toBeGreaterThan(weightFormat === 'qdq' ? 30 : 80);
      outs.push(ours);
    }
    // The two formats hold the same values: the same float results.
    expect(sqnr(outs[0]!, outs[1]!)).toBeGreaterThan(100);
  });

  it('asymmetric 4-bit blocks (zero points), K off the block, MatMul and Gemm (transB, bias): MatMulNBits stands for the same weights as QDQ', async () => {
    const held = feedsOf(70, 3);
    const models = [mlp(70, 5), mlp(70, 5, true)];
    const ys: Float32Array[][] = [[], []];
    for (const weightFormat of ['qdq', 'matmulnbits'] as const) {
      const opts = {
        weightOnly: true,
        weightGranularity: 'per-block',
        weightBits: 4,
        weightGroupSize: 32,
        weightSymmetric: false,
        weightFormat,
      } as const;
      for (const [i, m] of models.entries()) {
        const { model: q } = await quantize(m, opts);
        const ops = q.graph.nodes.map((n) => n.opType);
        expect(ops).toEqual(weightFormat === 'qdq' ? ['DequantizeLinear', i ? 'Gemm' : 'MatMul'] : ['MatMulNBits']);
        // Zero points (asymmetric), and for the Gemm its bias as input 5.
        if (weightFormat === 'matmulnbits') expect(q.graph.nodes[0]!.inputs).toHaveLength(i ? 6 : 4);
        const bytes = modelToBytes(q);
        const ours = (await InferenceSession.create(loadModel(bytes))).runSync(held).y!.data as Float32Array;
        expect(sqnr(await ortRun(bytes, held, 'y'), ours)).toBeGreaterThan(weightFormat === 'qdq' ? 30 : 80);
        ys[i]!.push(Float32Array.from(ours));
      }
    }
    for (const [qdq, nbits] of ys) expect(sqnr(qdq!, nbits!)).toBeGreaterThan(100);
  });

  it('4-bit per-channel int4 weights lower to the integer kernels like int8 ones, with the same bits', async () => {
    const m = mlp(40, 9);
    const calibration = [0, 1, 2].map((i) => feedsOf(40, i));
    const { model: q } = await quantize(m, { calibration, weightBits: 4 });
    const wName = q.graph.nodes.find((n) => n.opType === 'DequantizeLinear' && n.inputs[0]!.startsWith('w_'))!.inputs[0]!;
    const w = q.graph.initializers.get(wName)!;
    expect(w.dtype).toBe('int8');
    // The same values in int4 storage (opset 21), as another tool would write them.
    const q4 = loadModel(modelToBytes(q));
    q4.graph.initializers.set(wName, new Tensor('int4', Int8Array.from(w.data as Int8Array), w.dims));
    q4.opsetImports.find((o) => o.domain === '')!.version = 21;
    const held = feedsOf(40, 9);
    const runOf = async (mm: typeof q) => {
      const s = await IntegerSession.create(loadModel(modelToBytes(mm)), { backend: 'js', runInWorker: false, strictInteger: true });
      const y = Array.from(s.runSync(held).y!.data as Float32Array);
      expect(s.loweringReport().find((e) => e.node === 'fc')!.execution).toBe('integer');
      s.release();
      return y;
    };
    expect(await runOf(q4)).toEqual(await runOf(q));
  });

  it('refuses block sizes onnxruntime cannot take, and passes and modes that need per-channel scales', async () => {
    const m = mlp(40, 9);
    const bad = async (o: Record<string, unknown>, msg: RegExp) => {
      const e = await quantize(m, { weightOnly: true, weightGranularity: 'per-block', weightBits: 4, ...o }).catch((x) => x);
      expect(e).toBeInstanceOf(OnnxPtqError);
      expect((e as OnnxPtqError).code).toBe('INVALID_OPTION');
      expect((e as Error).message).toMatch(msg);
    };
    await bad({ weightGroupSize: 24 }, /weightGroupSize' is 24; per-block weights need a power of two >= 16/);
    await bad({ weightGroupSize: 8 }, /power of two >= 16/);
    await bad({ passes: ['single-shift'] }, /'single-shift' works on per-tensor or per-channel/);
    await bad({ weightOnly: false, weightBits: 8, calibration: [feedsOf(40, 0)] }, /needs weightOnly/);
    await bad({ mode: 'dynamic', weightOnly: false }, /'dynamic' writes MatMulInteger/);
    await bad(
      { weightGranularity: 'per-channel', weightFormat: 'matmulnbits' },
      /'matmulnbits' needs weightGranularity 'per-block' and weightBits 4/,
    );
  });
});
