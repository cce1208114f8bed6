// Session feeds and options: wrong or missing names, shapes and dtypes; typed-array feeds; backend option.
import { describe, expect, it } from 'vitest';
import { OnnxPtqError } from '../src/errors.js';
import { InferenceSession, Tensor, type Model } from '../src/onnx-api.js';
import { Graph, makeNode } from '../src/tools.js';

function model(): Model {
  const graph = new Graph({
    name: 'm',
    inputs: [
      { name: 'a', dtype: 'float32', shape: ['N', 3] },
      { name: 'b', dtype: 'float32', shape: ['N', 3] },
    ],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: [makeNode('Mul', ['a', 'b'], ['y'])],
  });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph,
  };
}

async function rejects(p: Promise<unknown>, code: string, msg: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OnnxPtqError);
  expect((e as OnnxPtqError).code).toBe(code);
  expect((e as Error).message).toMatch(msg);
}

describe('session feeds', () => {
  const a = Tensor.float32([1, 2, 3], [1, 3]);
  const b = Tensor.float32([4, 5, 6], [1, 3]);

  it('runs with Tensors and with {data, dims}', async () => {
    const s = await InferenceSession.create(model());
    expect(s.inputNames).toEqual(['a', 'b']);
    expect([...((await s.run({ a, b })).y!.data as Float32Array)]).toEqual([4, 10, 18]);
    const y = (
      await s.run({ a: { data: Float32Array.of(1, 1, 1, 2, 2, 2), dims: [2, 3] }, b: new Tensor(new Float32Array(6).fill(3), [2, 3]) })
    ).y!;
    expect(y.dims).toEqual([2, 3]);
    expect([...(y.data as Float32Array)]).toEqual([3, 3, 3, 6, 6, 6]);
  });

  it('rejects unknown, missing, mistyped and misshaped inputs', async () => {
    const s = await InferenceSession.create(model());
    await rejects(s.run({ a, b, c: a }), 'INVALID_INPUT', /unknown input 'c'; the model's inputs are: a, b/);
    await rejects(s.run({ a }), 'INVALID_INPUT', /missing input 'b'/);
    await rejects(s.run({ a, b: new Tensor(Int32Array.of(1, 2, 3), [1, 3]) }), 'INVALID_INPUT', /input 'b' must be float32, got int32/);
    await rejects(
      s.run({ a, b: Tensor.float32([1, 2, 3, 4], [1, 4]) }),
      'INVALID_INPUT',
      /input 'b' must have dims float32\[N, 3\], got \[1, 4\]/,
    );
    await rejects(s.run({ a, b: Tensor.float32([1, 2, 3], [3]) }), 'INVALID_INPUT', /input 'b' must have rank 2/);
    await rejects(
      s.run({ a, b: Tensor.float32([1, 2, 3, 4, 5, 6], [2, 3]) }),
      'INVALID_INPUT',
      /binds dimension 'N' to 2, but another input bound it to 1/,
    );
    await rejects(s.run({ a, b: Float32Array.of(1, 2, 3) }), 'INVALID_INPUT', /bare array.*pass a Tensor with dims/);
    await rejects(
      s.run({ a, b: { data: Float32Array.of(1, 2), dims: [1, 3] } }),
      'INVALID_INPUT',
      /input 'b'.*needs 3 elements, data has 2/,
    );
    await rejects(s.run({ a, b: 'nope' as never }), 'INVALID_INPUT', /input 'b' must be a Tensor/);
  });

  it('accepts a bare Float32Array when the input shape is static', async () => {
    const m = model();
    m.graph.inputs.forEach((v) => (v.shape = [1, 3]));
    const s = await InferenceSession.create(m);
    expect([...((await s.run({ a: Float32Array.of(1, 2, 3), b: Float32Array.of(2, 2, 2) })).y!.data as Float32Array)]).toEqual([2, 4, 6]);
  });

  it('validates and keeps the backend option', async () => {
    expect((await InferenceSession.create(model())).backend).toBe('auto');
    expect((await InferenceSession.create(model(), { backend: 'js' })).backend).toBe('js');
    await rejects(
      InferenceSession.create(model(), { backend: 'cuda' as never }),
      'INVALID_OPTION',
      /backend must be one of auto, native, wasm, js; got 'cuda'/,
    );
    await rejects(InferenceSession.create(model(), { inputShapes: { zz: [1] } }), 'INVALID_OPTION', /'zz'/);
  });

  it('does not modify the Model it was created from', async () => {
    const m = model();
    m.graph.initializers.set('k', Tensor.float32([2], [1]));
    m.graph.nodes.push(makeNode('Constant', [], ['c'], { value: { type: 'tensor', value: Tensor.float32([1], [1]) } }));
    await InferenceSession.create(m);
    expect(m.graph.nodes.length).toBe(2);
  });

  it('op errors name the node', async () => {
    const m = model();
    m.graph.inputs[1]!.shape = ['N', 4];
    const s = await InferenceSession.create(m);
    await rejects(
      s.run({ a, b: Tensor.float32([1, 2, 3, 4], [1, 4]) }),
      'SHAPE_MISMATCH',
      /Mul node producing 'y': shapes \[1, 3\] and \[1, 4\] do not broadcast/,
    );
  });
});
