// The float steps of an IntegerSession (float fallbacks, the float layers of a dynamic-mode file) run
// as the float session runs them: on the session backend's float kernels, with their arrays recycled
// between runs. Before, they ran on the pure-JS kernels with fresh arrays on every backend, which
// made mnist-8's and PaddleOCR cls's dynamic files 15-40x slower than the float session.
// Tables that lowering builds from a float op (16-bit unary ops) stay on the pure-JS kernels: a
// native float kernel may differ in the last ulp, which moves an entry by one code.
import { describe, expect, it } from 'vitest';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { loadTensorProto } from '../src/onnx/io.js';
import { quantize } from '../src/ptq/quantize.js';
import { Tensor } from '../src/tensor.js';
import { Graph, makeNode } from '../src/ir/graph.js';
import { loadedBackends } from './backends.js';
import { model } from './passes-helpers.js';
import { bertEncoder, bertFeeds } from './bert-model.js';
import { fixture } from './fixtures.js';

const mnist = fixture('models', 'mnist-8', 'model.onnx');

const cases = [
  {
    name: 'BERT-style encoder (LayerNorm, Softmax, GELU, attention MatMuls in float)',
    model: () => bertEncoder('opset13'),
    feeds: () => bertFeeds(3),
  },
  ...(mnist
    ? [
        {
          name: 'mnist-8 (convolutions and pools in float)',
          model: () => mnist,
          feeds: () => ({ Input3: loadTensorProto(fixture('models', 'mnist-8', 'test_data_set_0', 'input_0.pb')!).tensor }),
        },
      ]
    : []),
];

const bits = (t: Tensor) => new Uint32Array((t.data as Float32Array).slice().buffer);

describe('IntegerSession float steps', () => {
  for (const c of cases)
    for (const backend of loadedBackends)
      it(`${c.name}, ${backend.name}: the float session's bits on that backend, run after run`, async () => {
        const { model: q } = await quantize(c.model(), { mode: 'dynamic' });
        // optimize: false runs the same ops node by node (no folds or fusions), as the integer session does.
        const f = await InferenceSession.create(q, { backend: backend.name, optimize: false });
        const want = Object.values(await f.run(c.feeds()))[0]!;
        const s = await IntegerSession.create(q, { backend: backend.name, runInWorker: false });
        expect(s.loweringReport().some((e) => e.execution === 'float')).toBe(true);
        const first = Object.values(s.runSync(c.feeds()))[0]!;
        const kept = bits(first);
        // Later runs take their float intermediates from the recycled arrays (and, on native, replay).
        for (let r = 0; r < 3; r++) expect(bits(Object.values(s.runSync(c.feeds()))[0]!)).toEqual(bits(want));
        expect(bits(first)).toEqual(bits(want));
        // An output handed to the caller is never recycled into a later run.
        expect(bits(first)).toEqual(kept);
        s.release();
      });
});

// x -> Q int16 -> DQ -> op -> Q int16 -> DQ -> y: every int16 code goes through the op's 65,536-entry table.
function wideUnary(op: string) {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [65536] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  const scalar = (name: string, t: Tensor) => g.initializers.set(name, t);
  scalar('sx', new Tensor('float32', Float32Array.of(8 / 32768), []));
  scalar('sy', new Tensor('float32', Float32Array.of(8 / 32768), []));
  scalar('z', new Tensor('int16', new Int16Array(1), []));
  g.nodes.push(makeNode('QuantizeLinear', ['x', 'sx', 'z'], ['xq'], {}, 'qx'));
  g.nodes.push(makeNode('DequantizeLinear', ['xq', 'sx', 'z'], ['xd'], {}, 'dqx'));
  g.nodes.push(makeNode(op, ['xd'], ['f'], {}, 'op'));
  g.nodes.push(makeNode('QuantizeLinear', ['f', 'sy', 'z'], ['yq'], {}, 'qy'));
  g.nodes.push(makeNode('DequantizeLinear', ['yq', 'sy', 'z'], ['y'], {}, 'dqy'));
  return model(g, 21);
}

describe('IntegerSession tables built from float ops', () => {
  const x = new Tensor(
    'float32',
    Float32Array.from({ length: 65536 }, (_, i) => ((i - 32768) * 8) / 32768),
    [65536],
  );
  for (const op of ['HardSwish', 'Sigmoid', 'Tanh', 'Exp'])
    it(`${op} on int16: every code, the same bits on every backend`, async () => {
      const outs: Uint32Array[] = [];
      for (const backend of loadedBackends) {
        const s = await IntegerSession.create(wideUnary(op), { backend: backend.name, runInWorker: false });
        expect(s.loweringReport().find((e) => e.node === 'op')).toMatchObject({ execution: 'integer', kernel: 'lut16' });
        outs.push(bits(s.runSync({ x }).y!));
        s.release();
      }
      for (const o of outs.slice(1)) expect(o).toEqual(outs[0]);
    });
});
