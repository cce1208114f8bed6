// --strict-integer / strictInteger: a float fallback is an error naming the node; shape arithmetic
// (an exporter's Shape -> Slice -> Concat -> Reshape) is not a fallback, and the Reshape it feeds
// runs on 8-bit data.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/session.js';
import { rng } from './backends.js';

const r = rng(11);
const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);

function model(withSoftmax: boolean): Model {
  // x [N,4,3,3] -> Conv -> Relu -> Reshape(x, Concat(Slice(Shape(x), 0, 1), [-1])) -> [LogSoftmax] -> MatMul(w) -> y
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4, 3, 3] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('w', new Tensor('float32', rand(4 * 4 * 9, 0.5), [4, 4, 3, 3]));
  g.initializers.set('m', new Tensor('float32', rand(36 * 5, 0.5), [36, 5]));
  g.initializers.set('st', new Tensor('int64', BigInt64Array.of(0n), [1]));
  g.initializers.set('en', new Tensor('int64', BigInt64Array.of(1n), [1]));
  g.initializers.set('rest', new Tensor('int64', BigInt64Array.of(-1n), [1]));
  g.nodes.push(
    makeNode('Conv', ['x', 'w'], ['c'], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, 'conv'),
    makeNode('Relu', ['c'], ['a'], {}, 'relu'),
    makeNode('Shape', ['a'], ['s'], {}, 'shape'),
    makeNode('Slice', ['s', 'st', 'en'], ['n'], {}, 'batch'),
    makeNode('Concat', ['n', 'rest'], ['target'], { axis: { type: 'int', value: 0 } }, 'target'),
    makeNode('Reshape', ['a', 'target'], ['f'], {}, 'flatten'),
  );
  // LogSoftmax: an op with no integer form (Softmax has one).
  if (withSoftmax) g.nodes.push(makeNode('LogSoftmax', ['f'], ['p'], { axis: { type: 'int', value: 1 } }, 'softmax'));
  g.nodes.push(makeNode('MatMul', [withSoftmax ? 'p' : 'f', 'm'], ['y'], {}, 'fc'));
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 't',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: g,
  };
}
const data = Array.from({ length: 8 }, () => ({ x: new Tensor('float32', rand(36, 2), [1, 4, 3, 3]) }));

describe('strictInteger', () => {
  it('shape arithmetic is not a float fallback: the dynamic Reshape runs on 8-bit data', async () => {
    const { model: q } = await quantize(model(false), { calibration: data, strictInteger: true });
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false, strictInteger: true });
    const byNode = new Map(s.loweringReport().map((e) => [e.node, e]));
    for (const n of ['shape', 'batch', 'target']) expect(byNode.get(n)!.execution).toBe('shape');
    expect(byNode.get('flatten')!.execution).toBe('integer');
    // Batch 3 through the same plan: the runtime shape is read per run.
    const x = new Tensor('float32', rand(3 * 36, 2), [3, 4, 3, 3]);
    expect(s.runSync({ x }).y!.dims).toEqual([3, 5]);
  });

  it('a node that would run in float fails quantize() and IntegerSession with FLOAT_FALLBACK naming it', async () => {
    await expect(quantize(model(true), { calibration: data, strictInteger: true })).rejects.toMatchObject({
      code: 'FLOAT_FALLBACK',
      message: expect.stringContaining(`node 'softmax'`),
    });
    const { model: q } = await quantize(model(true), { calibration: data });
    await expect(IntegerSession.create(q, { backend: 'js', runInWorker: false, strictInteger: true })).rejects.toMatchObject({
      code: 'FLOAT_FALLBACK',
      message: expect.stringContaining('LogSoftmax'),
    });
    // Without the option the same model runs, with the LogSoftmax listed as float.
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
    expect(
      s
        .loweringReport()
        .filter((e) => e.execution === 'float')
        .map((e) => e.node),
    ).toEqual(['softmax']);
  });
});
