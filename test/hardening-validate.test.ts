// Issue 17, one validator (src/ir/validate-nodes.ts): structured mutations of real fixture models
// (mnist-8, its QDQ form, super-resolution-10) go through the float InferenceSession and the
// IntegerSession on every loaded backend. None may end in a raw exception or INTERNAL, and both
// sessions must accept or refuse each model alike. Before the validator: a RangeError (MaxPool pads
// of 1e9), TypeErrors (an op turned into QLinearConv, a Reshape into QuantizeLinear), INTERNAL
// (stride 0, extra outputs), and a MaxPool pad of -1 refused by the float session but run by the
// integer one.
import { beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession, loadModel, Tensor } from '../src/onnx-api.js';
import { cloneModel, Graph, makeNode } from '../src/tools.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { quantize } from '../src/ptq/quantize.js';
import { OnnxPtqError } from '../src/errors.js';
import type { Attribute, Model, Node } from '../src/ir/graph.js';
import { fixture } from './fixtures.js';
import { loadedBackends } from './backends.js';

const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const srPath = fixture('models', 'super-resolution-10', 'model.onnx');

type Outcome = string; // 'ok' or an error code; 'RAW ...' for anything that is not an OnnxPtqError

function outcome(e: unknown): Outcome {
  return e instanceof OnnxPtqError ? e.code : `RAW ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
}

interface Mutation {
  name: string;
  /** Changes the model in place; false when it does not apply. */
  apply: (m: Model) => boolean;
}

const ints = (value: number[]): Attribute => ({ type: 'ints', value });
const int = (value: number): Attribute => ({ type: 'int', value });

function onFirst(op: string, f: (n: Node, m: Model) => void): (m: Model) => boolean {
  return (m) => {
    const n = m.graph.nodes.find((x) => x.opType === op);
    if (!n) return false;
    f(n, m);
    return true;
  };
}

/** The audit's cases plus a grid of bad attribute values, op type swaps and arity changes. */
function mutations(): Mutation[] {
  const out: Mutation[] = [];
  const bad: Record<string, Attribute[]> = {
    strides: [ints([0, 1]), ints([-1, 1]), ints([1]), ints([1e9, 1])],
    pads: [ints([1e9, 0, 0, 0]), ints([-1, 0, 0, 0]), ints([-5, -5, -5, -5]), ints([0, 0]), ints([40, 40, 40, 40])],
    dilations: [ints([0, 1]), ints([1e9, 1]), ints([30, 30])],
    kernel_shape: [ints([0, 2]), ints([1e9, 2]), ints([2]), ints([40, 40])],
    group: [int(0), int(3), int(-1)],
    axis: [int(5), int(-9), int(1e9)],
    auto_pad: [{ type: 'string', value: 'SIDEWAYS' }],
  };
  for (const op of ['Conv', 'MaxPool', 'Reshape', 'Gemm', 'Add', 'QuantizeLinear', 'DequantizeLinear', 'Relu']) {
    for (const [a, vals] of Object.entries(bad)) {
      for (const v of vals) out.push({ name: `${op}.${a}=${JSON.stringify(v.value)}`, apply: onFirst(op, (n) => n.attributes.set(a, v)) });
    }
    for (const to of [
      'QLinearConv',
      'QuantizeLinear',
      'DequantizeLinear',
      'MaxPool',
      'Conv',
      'QLinearMatMul',
      'ConvInteger',
      'MatMulInteger',
      'Gemm',
      'Softmax',
      'Concat',
      'Reshape',
      'Flatten',
    ]) {
      out.push({
        name: `${op}->${to}`,
        apply: onFirst(op, (n) => {
          n.opType = to;
        }),
      });
    }
    out.push({
      name: `${op}+output`,
      apply: onFirst(op, (n) => {
        n.outputs.push(`${n.outputs[0]}_extra`);
      }),
    });
    out.push({
      name: `${op}-input`,
      apply: onFirst(op, (n) => {
        n.inputs.pop();
      }),
    });
    out.push({
      name: `${op}+input`,
      apply: onFirst(op, (n) => {
        n.inputs.push(n.inputs[0]!);
      }),
    });
  }
  return out;
}

const input = () =>
  new Tensor(
    'float32',
    Float32Array.from({ length: 784 }, (_, i) => (i * 37) % 255),
    [1, 1, 28, 28],
  );

async function floatOutcome(m: Model, run: boolean): Promise<Outcome> {
  try {
    const s = await InferenceSession.create(m);
    if (run) s.runSync({ [s.inputNames[0]!]: input() });
    return 'ok';
  } catch (e) {
    return outcome(e);
  }
}

async function integerOutcome(m: Model, backend: string, run: boolean): Promise<Outcome> {
  try {
    const s = await IntegerSession.create(m, { backend: backend as 'js' });
    if (run) s.runSync({ [s.inputNames[0]!]: input() });
    return 'ok';
  } catch (e) {
    return outcome(e);
  }
}

/** The audit's named regressions: both sessions refuse with INVALID_MODEL naming node and attribute. */
const named: { name: string; on: 'float' | 'qdq'; message: RegExp }[] = [
  {
    name: 'MaxPool.pads=[1000000000,0,0,0]',
    on: 'qdq',
    message: /MaxPool node 'Pooling66': attribute 'pads' entries must be integers in \[0, 65536\]/,
  },
  { name: 'MaxPool.pads=[-1,0,0,0]', on: 'qdq', message: /MaxPool node 'Pooling66': attribute 'pads'/ },
  { name: 'MaxPool.pads=[-1,0,0,0]', on: 'float', message: /MaxPool node 'Pooling66': attribute 'pads'/ },
  { name: 'Conv.strides=[0,1]', on: 'float', message: /Conv node 'Convolution28': attribute 'strides'/ },
  { name: 'Conv.strides=[0,1]', on: 'qdq', message: /Conv node 'Convolution28': attribute 'strides'/ },
  { name: 'Conv->QLinearConv', on: 'qdq', message: /QLinearConv node 'Convolution28': has 3 inputs; QLinearConv takes 8 to 9/ },
  { name: 'Reshape->QuantizeLinear', on: 'qdq', message: /QuantizeLinear node 'Times212_reshape0': input #1 '.*' is int64/ },
  { name: 'Conv+output', on: 'qdq', message: /Conv node 'Convolution28': declares 2 outputs; Conv has 1/ },
  { name: 'Relu+output', on: 'float', message: /Relu node 'ReLU32': declares 2 outputs/ },
];

it('BatchNormalization with a running-statistics output but no training_mode: UNSUPPORTED_OP from both sessions (the float one ended in INTERNAL)', async () => {
  const g = new Graph({
    name: 'bn',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 3, 3] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: new Map(['s', 'b', 'm', 'v'].map((k) => [k, new Tensor('float32', Float32Array.from([1, 1]), [2])] as const)),
    nodes: [makeNode('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['y', 'running_mean'], {}, 'bn')],
  });
  const m: Model = {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: g,
  };
  const x = new Tensor('float32', new Float32Array(18), [1, 2, 3, 3]);
  for (const create of [
    () => InferenceSession.create(cloneModel(m)).then((s) => s.runSync({ x })),
    () => IntegerSession.create(cloneModel(m), { backend: 'js' }).then((s) => s.runSync({ x })),
  ]) {
    const e = await create().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(OnnxPtqError);
    expect((e as OnnxPtqError).code).toBe('UNSUPPORTED_OP');
    expect((e as OnnxPtqError).message).toMatch(/BatchNormalization node 'bn': declares 2 outputs/);
  }
});

describe.skipIf(!mnistPath)('one validator: mutated fixture models', () => {
  let models: Record<'float' | 'qdq', Model>;
  beforeAll(async () => {
    const float = loadModel(mnistPath!);
    const qdq = (
      await quantize(mnistPath!, {
        calibration: (function* () {
          for (let i = 0; i < 4; i++) yield { Input3: input() };
        })(),
      })
    ).model;
    models = { float, qdq };
  });
  const backends = loadedBackends.map((b) => b.name);

  for (const c of named) {
    it(`${c.on} ${c.name}: INVALID_MODEL from both sessions, naming the node and attribute`, async () => {
      const m = cloneModel(models[c.on]);
      expect(
        mutations()
          .find((x) => x.name === c.name)!
          .apply(m),
      ).toBe(true);
      const errors: unknown[] = [];
      await InferenceSession.create(m)
        .then((s) => s.runSync({ Input3: input() }))
        .catch((e) => errors.push(e));
      for (const b of backends)
        await IntegerSession.create(m, { backend: b as 'js' })
          .then((s) => s.runSync({ Input3: input() }))
          .catch((e) => errors.push(e));
      expect(errors.length).toBe(1 + backends.length);
      for (const e of errors) {
        expect(e).toBeInstanceOf(OnnxPtqError);
        expect((e as OnnxPtqError).code).toBe('INVALID_MODEL');
        expect((e as OnnxPtqError).message).toMatch(c.message);
      }
    });
  }

  for (const base of ['float', 'qdq'] as const) {
    it(`${base} mnist-8: no raw exception or INTERNAL, float and integer sessions agree on every backend`, async () => {
      const problems: string[] = [];
      let tried = 0;
      for (const mu of mutations()) {
        const m = cloneModel(models[base]);
        if (!mu.apply(m)) continue;
        tried++;
        const f = await floatOutcome(m, true);
        const ints = await Promise.all(backends.map(async (b) => [b, await integerOutcome(m, b, true)] as const));
        for (const [who, o] of [['float', f] as const, ...ints]) {
          if (o.startsWith('RAW') || o === 'INTERNAL') problems.push(`${mu.name}: ${who} ${o}`);
        }
        // Accept or refuse alike. The float session has no QOperator kernels: its UNSUPPORTED_OP
        // for those is a refusal too.
        const ok = (o: Outcome) => o === 'ok';
        for (const [b, o] of ints) if (ok(o) !== ok(f)) problems.push(`${mu.name}: float ${f}, integer ${b} ${o}`);
      }
      expect(tried).toBeGreaterThan(150);
      expect(problems).toEqual([]);
    });
  }

  it.skipIf(!srPath)('super-resolution-10: attribute mutations refused alike at creation, no raw exception or INTERNAL', async () => {
    const sr = loadModel(srPath!);
    const problems: string[] = [];
    let tried = 0;
    for (const mu of mutations().filter((x) => x.name.startsWith('Conv.') || x.name.startsWith('Reshape'))) {
      const m = cloneModel(sr);
      if (!mu.apply(m)) continue;
      tried++;
      const f = await floatOutcome(m, false);
      const i = await integerOutcome(m, 'js', false);
      for (const [who, o] of [
        ['float', f],
        ['integer', i],
      ])
        if (o!.startsWith('RAW') || o === 'INTERNAL') problems.push(`${mu.name}: ${who} ${o}`);
      if ((f === 'ok') !== (i === 'ok')) problems.push(`${mu.name}: float ${f}, integer ${i}`);
    }
    expect(tried).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});
