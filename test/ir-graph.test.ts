// Graph IR: edits, topological order, cycle and dangling-input detection, shape inference and
// constant folding.
import { describe, expect, it } from 'vitest';
import { OnnxPtqError } from '../src/errors.js';
import { InferenceSession, loadModel, Tensor, type Model } from '../src/onnx-api.js';
import { Graph, inferAndFold, makeNode } from '../src/tools.js';
import { fixture } from './fixtures.js';

function model(graph: Graph, opset = 13): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: opset }],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph,
  };
}

function chain(): Graph {
  return new Graph({
    name: 'g',
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
    outputs: [{ name: 'z', dtype: 'float32' }],
    nodes: [makeNode('Relu', ['x'], ['y'], {}, 'r'), makeNode('Sigmoid', ['y'], ['z'], {}, 's')],
  });
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxPtqError);
    return `${(e as OnnxPtqError).code}: ${(e as Error).message}`;
  }
  return undefined;
}

describe('Graph edits', () => {
  it('insert, replace and remove keep a valid graph', () => {
    const g = chain();
    const relu = g.nodes[0]!;
    g.insertAfter(relu, makeNode('Neg', ['y'], ['y2'], {}, 'neg'));
    g.nodes[2]!.inputs = ['y2'];
    g.validate();
    expect(g.nodes.map((n) => n.name)).toEqual(['r', 'neg', 's']);
    expect(g.producerOf('y2')!.name).toBe('neg');
    expect(g.consumersOf('y').map((n) => n.name)).toEqual(['neg']);
    g.replaceNode(g.nodes[1]!, makeNode('Abs', ['y'], ['y2'], {}, 'abs'));
    expect(g.nodes.map((n) => n.opType)).toEqual(['Relu', 'Abs', 'Sigmoid']);
    g.removeNode(g.nodes[1]!, 'y');
    expect(g.nodes.map((n) => n.opType)).toEqual(['Relu', 'Sigmoid']);
    expect(g.nodes[1]!.inputs).toEqual(['y']);
    g.validate();
    expect(g.uniqueName('y')).toBe('y_1');
  });

  it('topological order sorts nodes stored out of order', () => {
    const g = chain();
    g.nodes.reverse();
    expect(g.topologicalOrder().map((n) => n.name)).toEqual(['r', 's']);
  });

  it('detects cycles and names the nodes', async () => {
    const g = new Graph({
      name: 'cyc',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
      outputs: [{ name: 'b', dtype: 'float32' }],
      nodes: [makeNode('Add', ['x', 'b'], ['a'], {}, 'first'), makeNode('Relu', ['a'], ['b'], {}, 'second')],
    });
    expect(() => g.topologicalOrder()).toThrow(/cycle through Add node 'first', Relu node 'second'/);
    expect(await codeOf(InferenceSession.create(model(g)))).toMatch(/^INVALID_MODEL: .*cycle/);
  });

  it('detects dangling inputs and doubly-produced values', async () => {
    const g = chain();
    g.nodes[1]!.inputs = ['ghost'];
    expect(await codeOf(() => g.validate())).toMatch(/^INVALID_MODEL: Sigmoid node 's' reads 'ghost'.*dangling/);
    const h = chain();
    h.nodes[1]!.outputs = ['y'];
    expect(await codeOf(() => h.validate())).toMatch(/^INVALID_MODEL: value 'y' is produced twice/);
    const k = chain();
    k.outputs.push({ name: 'nowhere' });
    expect(await codeOf(InferenceSession.create(model(k)))).toMatch(/^INVALID_MODEL: graph output 'nowhere'/);
  });

  it('unknown ops are listed by node name', async () => {
    const g = chain();
    g.insertNode(makeNode('FancyOp', ['x'], ['q'], {}, 'fancy1'));
    g.insertNode(makeNode('Gelu', ['q'], ['w'], {}, 'custom', 'com.example'));
    expect(await codeOf(InferenceSession.create(model(g)))).toMatch(
      /^UNSUPPORTED_OP: .*FancyOp \(node 'fancy1'\), com.example::Gelu \(node 'custom'\)/,
    );
  });
});

describe('shape inference and constant folding', () => {
  it('folds an exporter-style shape subgraph into a constant Reshape target', () => {
    // y = Reshape(x, Concat(Gather(Shape(x), 0), [-1])) with x: [N, 2, 3]
    const g = new Graph({
      name: 'shape-subgraph',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 2, 3] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: new Map([
        ['zero', Tensor.int64([0], [])],
        ['minus1', Tensor.int64([-1])],
        ['axes', Tensor.int64([0])],
      ]),
      nodes: [
        makeNode('Shape', ['x'], ['s']),
        makeNode('Gather', ['s', 'zero'], ['n'], { axis: { type: 'int', value: 0 } }),
        makeNode('Unsqueeze', ['n', 'axes'], ['n1']),
        makeNode('Cast', ['n1'], ['n2'], { to: { type: 'int', value: 7 } }),
        makeNode('Concat', ['n2', 'minus1'], ['target'], { axis: { type: 'int', value: 0 } }),
        makeNode('Reshape', ['x', 'target'], ['y']),
      ],
    });
    // Unbound: Shape stays, types stay symbolic.
    const m1 = model(new Graph({ ...g, nodes: [...g.nodes], initializers: new Map(g.initializers) }));
    const r1 = inferAndFold(m1, { fold: true });
    expect(r1.folded).toBe(0);
    expect(r1.types.get('s')!.shape).toEqual([3]);
    // Bound: everything but the Reshape folds away.
    const m2 = model(g);
    const r2 = inferAndFold(m2, { fold: true, inputShapes: { x: [5, 2, 3] } });
    expect(r2.folded).toBe(5);
    expect(g.nodes.map((n) => n.opType)).toEqual(['Reshape']);
    expect([...g.initializers.get('target')!.data]).toEqual([5n, -1n]);
    expect(r2.types.get('y')!.shape).toEqual([5, 6]);
    expect(g.initializers.has('zero')).toBe(false); // folded intermediates pruned
  });

  const sr = fixture('models', 'super-resolution-10', 'model.onnx');
  it.skipIf(!sr)('infers super-resolution-10 shapes with a bound batch dimension and folds its Constants', () => {
    const m = loadModel(sr!);
    const r = inferAndFold(m, { fold: true, inputShapes: { input: [1, 1, 224, 224] } });
    expect(r.folded).toBe(2); // the two Constant nodes feeding Reshape
    expect(r.types.get('output')!.shape).toEqual([1, 1, 672, 672]);
    const unbound = inferAndFold(loadModel(sr!));
    expect(unbound.types.get(m.graph.nodes[0]!.outputs[0]!)!.shape).toEqual(['batch_size', 64, 224, 224]);
  });

  it('conv, pool and gemm shape rules follow the spec (auto_pad, ceil_mode)', () => {
    const g = new Graph({
      name: 'shapes',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 11, 11] }],
      outputs: [{ name: 'p', dtype: 'float32' }],
      initializers: new Map([['w', Tensor.zeros('float32', [8, 3, 3, 3])]]),
      nodes: [
        makeNode('Conv', ['x', 'w'], ['c'], {
          strides: { type: 'ints', value: [2, 2] },
          auto_pad: { type: 'string', value: 'SAME_UPPER' },
        }),
        makeNode('MaxPool', ['c'], ['p'], {
          kernel_shape: { type: 'ints', value: [2, 2] },
          strides: { type: 'ints', value: [2, 2] },
          ceil_mode: { type: 'int', value: 1 },
        }),
      ],
    });
    const r = inferAndFold(model(g));
    expect(r.types.get('c')!.shape).toEqual([1, 8, 6, 6]);
    expect(r.types.get('p')!.shape).toEqual([1, 8, 3, 3]);
  });
});
