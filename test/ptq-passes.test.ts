// Preprocessing passes in TVM's style: a before graph, the expected graph, a case where the pass
// must not fire, and the float function preserved on random inputs.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { InferenceSession, cloneModel } from '../src/runtime/session.js';
import { FoldBatchNormPass } from '../src/passes/fold-batchnorm.js';
import { FoldBiasAddPass } from '../src/passes/fold-bias-add.js';
import { inferAndFold } from '../src/ir/infer.js';
import { OnnxPtqError } from '../src/errors.js';
import { rng } from './backends.js';

const r = rng(42);
const rand = (n: number, s = 1, o = 0) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s + o);

function model(g: Graph, opset = 13): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: opset }],
    producerName: 't',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: g,
  };
}

function convBn(extraReader = false, withBias = true): Model {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 9, 9] }],
    outputs: [{ name: 'y', dtype: 'float32' }, ...(extraReader ? [{ name: 'c', dtype: 'float32' as const }] : [])],
  });
  g.initializers.set('w', new Tensor('float32', rand(5 * 3 * 3 * 3), [5, 3, 3, 3]));
  if (withBias) g.initializers.set('b', new Tensor('float32', rand(5), [5]));
  g.initializers.set('gamma', new Tensor('float32', rand(5, 0.5, 1), [5]));
  g.initializers.set('beta', new Tensor('float32', rand(5), [5]));
  g.initializers.set('mean', new Tensor('float32', rand(5), [5]));
  g.initializers.set('var', new Tensor('float32', rand(5, 0.4, 0.6), [5]));
  g.nodes.push(makeNode('Conv', withBias ? ['x', 'w', 'b'] : ['x', 'w'], ['c'], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, 'conv'));
  g.nodes.push(
    makeNode('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'var'], ['y'], { epsilon: { type: 'float', value: 1e-3 } }, 'bn'),
  );
  return model(g);
}

async function outputs(m: Model, feeds: Record<string, Tensor>): Promise<Float32Array> {
  const s = await InferenceSession.create(m);
  return s.runSync(feeds)[s.outputNames[0]].data as Float32Array;
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 0,
    err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / scale;
}

describe('FoldBatchNormPass', () => {
  for (const withBias of [true, false]) {
    it(`folds Conv${withBias ? '+bias' : ''} -> BN into one Conv and keeps the function (1e-5)`, async () => {
      const before = convBn(false, withBias);
      const after = cloneModel(before);
      const rep = new FoldBatchNormPass().apply(after);
      expect(rep.changed).toBe(1);
      // expected graph: a single Conv writing y, with a bias
      expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Conv']);
      expect(after.graph.nodes[0].outputs).toEqual(['y']);
      expect(after.graph.nodes[0].inputs).toHaveLength(3);
      expect(after.graph.initializers.has('gamma')).toBe(false);
      for (let t = 0; t < 3; t++) {
        const x = { x: new Tensor('float32', rand(3 * 81, 3), [1, 3, 9, 9]) };
        expect(maxRelErr(await outputs(before, x), await outputs(after, x))).toBeLessThan(1e-5);
      }
    });
  }
  it('does not fire when the Conv output has a second reader', () => {
    const m = convBn(true);
    const rep = new FoldBatchNormPass().apply(m);
    expect(rep.changed).toBe(0);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'BatchNormalization']);
  });
  it('does not fire when BN parameters are not constant', () => {
    const m = convBn();
    m.graph.initializers.delete('gamma');
    m.graph.inputs.push({ name: 'gamma', dtype: 'float32', shape: [5] });
    expect(new FoldBatchNormPass().apply(m).changed).toBe(0);
  });
  it('folds Gemm (transB=1) -> BN', async () => {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    g.initializers.set('w', new Tensor('float32', rand(12), [3, 4]));
    g.initializers.set('b', new Tensor('float32', rand(3), [3]));
    for (const [k, s, o] of [
      ['gamma', 0.5, 1],
      ['beta', 1, 0],
      ['mean', 1, 0],
      ['var', 0.4, 0.6],
    ] as const)
      g.initializers.set(k, new Tensor('float32', rand(3, s, o), [3]));
    g.nodes.push(makeNode('Gemm', ['x', 'w', 'b'], ['c'], { transB: { type: 'int', value: 1 } }, 'gemm'));
    g.nodes.push(makeNode('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'var'], ['y'], {}, 'bn'));
    const before = model(g),
      after = cloneModel(before);
    expect(new FoldBatchNormPass().apply(after).changed).toBe(1);
    const x = { x: new Tensor('float32', rand(8, 2), [2, 4]) };
    expect(maxRelErr(await outputs(before, x), await outputs(after, x))).toBeLessThan(1e-5);
  });
  it('refuses unknown options', () => {
    expect(() => new FoldBatchNormPass({ verbos: true } as never)).toThrow(OnnxPtqError);
  });
});

describe('FoldBiasAddPass', () => {
  it('folds Conv -> Add(const [C,1,1]) into the Conv bias and MatMul -> Add(const [1,N]) into a Gemm', async () => {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 6, 6] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    g.initializers.set('w', new Tensor('float32', rand(4 * 2 * 9), [4, 2, 3, 3]));
    g.initializers.set('cb', new Tensor('float32', rand(4), [4, 1, 1]));
    g.initializers.set('shape', new Tensor('int64', BigInt64Array.of(1n, 64n), [2]));
    g.initializers.set('m', new Tensor('float32', rand(64 * 5), [64, 5]));
    g.initializers.set('mb', new Tensor('float32', rand(5), [1, 5]));
    g.nodes.push(makeNode('Conv', ['x', 'w'], ['c'], {}, 'conv'));
    g.nodes.push(makeNode('Add', ['c', 'cb'], ['c2'], {}, 'add1'));
    g.nodes.push(makeNode('Reshape', ['c2', 'shape'], ['f'], {}, 'flat'));
    g.nodes.push(makeNode('MatMul', ['f', 'm'], ['mm'], {}, 'mm'));
    g.nodes.push(makeNode('Add', ['mb', 'mm'], ['y'], {}, 'add2'));
    const before = model(g),
      after = cloneModel(before);
    const { types } = inferAndFold(after);
    const rep = new FoldBiasAddPass({}, types).apply(after);
    expect(rep.changed).toBe(2);
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Reshape', 'Gemm']);
    const x = { x: new Tensor('float32', rand(72, 2), [1, 2, 6, 6]) };
    expect(maxRelErr(await outputs(before, x), await outputs(after, x))).toBeLessThan(1e-5);
  });
  it('does not fire when the added value is not constant', () => {
    const g = new Graph({
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 2, 6, 6] },
        { name: 'z', dtype: 'float32', shape: [1, 4, 4, 4] },
      ],
      outputs: [{ name: 'y', dtype: 'float32' }],
    });
    g.initializers.set('w', new Tensor('float32', rand(72), [4, 2, 3, 3]));
    g.nodes.push(makeNode('Conv', ['x', 'w'], ['c'], {}, 'conv'));
    g.nodes.push(makeNode('Add', ['c', 'z'], ['y'], {}, 'add'));
    expect(new FoldBiasAddPass().apply(model(g)).changed).toBe(0);
  });
});
