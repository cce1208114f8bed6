// MatMul of two activations (issue 13: attention's Q K^T and weights x V): the quantizer gives both
// inputs and the output Q/DQ, and IntegerSession runs it as qgemm with B read at run time (a uint8 B
// shifted to int8 with its zero point), batched over leading axes, the same bits on every backend.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { modelToBytes } from '../src/onnx/io.js';
import { loadedBackends } from './backends.js';
import { model } from './passes-helpers.js';

// x [2, 5, 8] -> q = x Wq, k = x Wk -> scores = q k^T [2, 5, 5] -> softmax -> out = p x [2, 5, 8]
function attention() {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [2, 5, 8] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  const w = (name: string, seed: number) =>
    g.initializers.set(
      name,
      new Tensor(
        'float32',
        Float32Array.from({ length: 64 }, (_, i) => Math.sin(seed * 100 + i * 1.7) * 0.4),
        [8, 8],
      ),
    );
  w('wq', 1);
  w('wk', 2);
  g.nodes.push(makeNode('MatMul', ['x', 'wq'], ['q'], {}, 'proj_q'));
  g.nodes.push(makeNode('MatMul', ['x', 'wk'], ['k'], {}, 'proj_k'));
  g.nodes.push(makeNode('Transpose', ['k'], ['kt'], { perm: { type: 'ints', value: [0, 2, 1] } }, 'kt'));
  g.nodes.push(makeNode('MatMul', ['q', 'kt'], ['s'], {}, 'scores'));
  g.nodes.push(makeNode('Softmax', ['s'], ['p'], { axis: { type: 'int', value: -1 } }, 'softmax'));
  g.nodes.push(makeNode('MatMul', ['p', 'x'], ['y'], {}, 'weighted'));
  return model(g, 13);
}
const feeds = (i: number) => ({
  x: new Tensor(
    'float32',
    Float32Array.from({ length: 80 }, (_, j) => Math.cos(i * 80 + j * 0.37) * 2),
    [2, 5, 8],
  ),
});

describe('MatMul of two activations', () => {
  it('quantizes both inputs, runs integer with the same bits on every backend, close to float and to onnxruntime', async () => {
    const { model: q } = await quantize(attention(), { calibration: [0, 1, 2, 3, 4, 5].map(feeds) });
    const scores = q.graph.nodes.find((n) => n.name === 'scores')!;
    for (const i of scores.inputs) expect(q.graph.producerOf(i)?.opType).toBe('DequantizeLinear');
    const outs: Float32Array[] = [];
    for (const b of loadedBackends) {
      const s = await IntegerSession.create(q, { backend: b.name, runInWorker: false, strictInteger: true });
      const rep = s.loweringReport();
      for (const name of ['scores', 'weighted']) {
        const e = rep.find((r) => r.node === name)!;
        expect([e.execution, e.kernel], name).toEqual(['integer', 'qgemm']);
        expect(e.reason).toMatch(/both operands activations/);
      }
      outs.push(Float32Array.from(s.runSync(feeds(9)).y!.data as Float32Array));
      s.release();
    }
    for (let k = 1; k < outs.length; k++) expect(Array.from(outs[k]!), loadedBackends[k]!.name).toEqual(Array.from(outs[0]!));
    const want = (await (await InferenceSession.create(attention())).run(feeds(9))).y!.data as Float32Array;
    let sig = 0,
      err = 0;
    for (let i = 0; i < want.length; i++) {
      sig += want[i]! ** 2;
      err += (want[i]! - outs[0]![i]!) ** 2;
    }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(25);
    // onnxruntime runs the same QDQ file; the outputs agree to a few output steps.
    const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(q)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
    const r = (await o.run({ x: new ort.Tensor('float32', feeds(9).x.data as Float32Array, [2, 5, 8]) })).y!.data as Float32Array;
    const ys = q.graph.initializers.get(q.graph.nodes.find((n) => n.opType === 'DequantizeLinear' && n.outputs[0] === 'y')!.inputs[1]!)!
      .data[0] as number;
    for (let i = 0; i < r.length; i++) expect(Math.abs(r[i]! - outs[0]![i]!)).toBeLessThanOrEqual(3 * ys + 1e-6);
  });

  it('does not fire on a MatMul with a constant weight (a layer, as before)', async () => {
    const { model: q } = await quantize(attention(), { calibration: [0, 1].map(feeds) });
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
    const e = s.loweringReport().find((r) => r.node === 'proj_q')!;
    expect([e.execution, e.kernel, e.reason ?? '']).toEqual(['integer', 'qgemm', expect.not.stringMatching(/both operands/)]);
    s.release();
  });
});
