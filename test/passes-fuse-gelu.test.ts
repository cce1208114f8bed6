// FuseGeluPass: before graph, expected graph, the float function kept, and the cases where it must not fire.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Model, type Node } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { InferenceSession, cloneModel } from '../src/runtime/session.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { FuseGeluPass } from '../src/passes/fuse-gelu.js';
import { quantize } from '../src/ptq/quantize.js';
import { OnnxPtqError } from '../src/errors.js';
import { model, rand } from './passes-helpers.js';

const f = (v: number, dims: number[] = []): Tensor => new Tensor('float32', Float32Array.of(v), dims);

interface Form {
  approx: 'none' | 'tanh';
  /** Where the 0.5 multiplies: the product x (1 + f) last, x first, or (1 + f) first. */
  half: 'last' | 'x' | 'sum';
  /** Every commutative Mul/Add with its operands the other way round. */
  swap?: boolean;
  /** erf: x * (1/sqrt 2) instead of x / sqrt 2. */
  mulRsqrt2?: boolean;
  /** tanh: how x^3 is written. */
  cube?: 'pow' | 'mul' | 'mul-swapped';
  /** Constant overrides (wrong values), by initializer name. */
  consts?: Partial<Record<'half' | 'one' | 'sqrt2' | 'coef' | 'scale' | 'three', number>>;
  /** Initializers written with shape [1, 1, 1] instead of []. */
  wide?: string[];
}

/** x (graph input, [2, 3, 8]) -> decomposed GELU -> y, written as `form` says. */
function decomposed(form: Form): Model {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3, 8] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  const c = (name: 'half' | 'one' | 'sqrt2' | 'coef' | 'scale' | 'three', v: number) => {
    g.initializers.set(name, f(form.consts?.[name] ?? v, form.wide?.includes(name) ? [1, 1, 1] : []));
    return name;
  };
  const op = (type: string, a: string, b: string, out: string, commutative = true) =>
    g.nodes.push(makeNode(type, form.swap && commutative ? [b, a] : [a, b], [out], {}, out));
  let fx: string;
  if (form.approx === 'none') {
    if (form.mulRsqrt2) op('Mul', 'x', c('sqrt2', Math.SQRT1_2), 'scaled');
    else op('Div', 'x', c('sqrt2', Math.SQRT2), 'scaled', false);
    g.nodes.push(makeNode('Erf', ['scaled'], ['fx'], {}, 'erf'));
    fx = 'fx';
  } else {
    if (form.cube === 'mul' || form.cube === 'mul-swapped') {
      op('Mul', 'x', 'x', 'sq');
      if (form.cube === 'mul') g.nodes.push(makeNode('Mul', ['sq', 'x'], ['cube'], {}, 'cube'));
      else g.nodes.push(makeNode('Mul', ['x', 'sq'], ['cube'], {}, 'cube'));
    } else op('Pow', 'x', c('three', 3), 'cube', false);
    op('Mul', 'cube', c('coef', 0.044715), 'cubic');
    op('Add', 'x', 'cubic', 'inner');
    op('Mul', 'inner', c('scale', Math.sqrt(2 / Math.PI)), 'u');
    g.nodes.push(makeNode('Tanh', ['u'], ['fx'], {}, 'tanh'));
    fx = 'fx';
  }
  op('Add', fx, c('one', 1), 'sum');
  if (form.half === 'last') {
    op('Mul', 'x', 'sum', 'prod');
    op('Mul', 'prod', c('half', 0.5), 'y');
  } else if (form.half === 'x') {
    op('Mul', 'x', c('half', 0.5), 'hx');
    op('Mul', 'hx', 'sum', 'y');
  } else {
    op('Mul', 'sum', c('half', 0.5), 'hs');
    op('Mul', 'x', 'hs', 'y');
  }
  return model(g, 20);
}

/** Float runs with the session's own layer folds off, so that `before` runs its decomposed steps. */
async function runPlain(m: Model, x: Tensor): Promise<Float32Array> {
  const s = await InferenceSession.create(m, { optimize: false });
  return s.runSync({ x }).y!.data as Float32Array;
}

const feed = () => new Tensor('float32', rand(48, 6), [2, 3, 8]); // in [-6, 6]

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const ops = (m: Model) => m.graph.nodes.map((n) => n.opType);

describe('FuseGeluPass', () => {
  const forms: [string, Form][] = [
    ['erf, torch.onnx order: Mul(Mul(x, 1 + erf(x / sqrt 2)), 0.5)', { approx: 'none', half: 'last' }],
    ['erf, Hugging Face order: Mul(Mul(x, 0.5), 1 + erf), operands swapped', { approx: 'none', half: 'x', swap: true }],
    ['erf, Mul by 1/sqrt 2, 0.5 into 1 + erf first', { approx: 'none', half: 'sum', mulRsqrt2: true }],
    ['erf, Mul by 1/sqrt 2, operands swapped, 0.5 last', { approx: 'none', half: 'last', mulRsqrt2: true, swap: true }],
    ['tanh, GPT-2: Pow(x, 3), Mul(Mul(x, 0.5), 1 + tanh)', { approx: 'tanh', half: 'x', cube: 'pow' }],
    ['tanh, Mul(Mul(x, x), x), operands swapped, 0.5 last', { approx: 'tanh', half: 'last', cube: 'mul', swap: true }],
    ['tanh, Mul(x, Mul(x, x)), 0.5 into 1 + tanh first', { approx: 'tanh', half: 'sum', cube: 'mul-swapped' }],
  ];
  for (const [name, form] of forms) {
    it(`fuses ${name} into one Gelu with the same function`, async () => {
      const before = decomposed(form),
        after = cloneModel(before);
      const rep = new FuseGeluPass().apply(after);
      expect(rep.changed).toBe(1);
      expect(rep.details[0]).toMatch(/fused into Gelu\(x/);
      // expected graph: one Gelu(x) writing y, the approximation as an attribute, no constants left
      expect(ops(after)).toEqual(['Gelu']);
      const gelu = after.graph.nodes[0]!;
      expect(gelu.inputs).toEqual(['x']);
      expect(gelu.outputs).toEqual(['y']);
      expect(gelu.domain).toBe('');
      if (form.approx === 'tanh') expect(gelu.attributes.get('approximate')).toEqual({ type: 'string', value: 'tanh' });
      else expect(gelu.attributes.size).toBe(0);
      expect(after.graph.initializers.size).toBe(0);
      after.graph.validate();
      for (let i = 0; i < 3; i++) {
        const x = feed();
        expect(maxAbs(await runPlain(before, x), await runPlain(after, x))).toBeLessThan(1e-6);
      }
    });
  }

  it('fuses every site of a graph and keeps what else reads x', () => {
    // x -> erf GELU -> g -> tanh GELU -> y; x is also an output, g also read by a Relu.
    const erf = decomposed({ approx: 'none', half: 'last' });
    const g = erf.graph;
    for (const n of g.nodes) n.outputs = n.outputs.map((o) => (o === 'y' ? 'g' : o));
    const tanh = decomposed({ approx: 'tanh', half: 'x', cube: 'pow' }).graph;
    const rename = (v: string) => (v === 'x' ? 'g' : v === 'y' ? 'y' : `t_${v}`);
    for (const n of tanh.nodes) g.nodes.push({ ...n, name: `t_${n.name}`, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) });
    for (const [k, v] of tanh.initializers) g.initializers.set(`t_${k}`, v);
    g.nodes.push(makeNode('Relu', ['g'], ['r'], {}, 'relu'));
    g.outputs.push({ name: 'r', dtype: 'float32' }, { name: 'x', dtype: 'float32' });
    const rep = new FuseGeluPass().apply(erf);
    expect(rep.changed).toBe(2);
    expect(g.nodes.map((n) => `${n.opType}(${n.inputs.join(',')})->${n.outputs.join(',')}`)).toEqual([
      'Gelu(x)->g',
      'Gelu(g)->y',
      'Relu(g)->r',
    ]);
    expect(g.initializers.size).toBe(0);
    g.validate();
  });

  it('does not fire when an intermediate has a second reader or is a graph output', () => {
    for (const v of ['scaled', 'fx', 'sum', 'prod']) {
      const m = decomposed({ approx: 'none', half: 'last' });
      m.graph.nodes.push(makeNode('Relu', [v], ['r'], {}, 'relu'));
      m.graph.outputs.push({ name: 'r', dtype: 'float32' });
      expect(new FuseGeluPass().apply(m).changed, v).toBe(0);
      const out = decomposed({ approx: 'none', half: 'last' });
      out.graph.outputs.push({ name: v, dtype: 'float32' });
      expect(new FuseGeluPass().apply(out).changed, `${v} as output`).toBe(0);
      expect(out.graph.nodes).toHaveLength(5);
    }
    for (const v of ['sq', 'cube', 'cubic', 'inner', 'u', 'hx']) {
      const m = decomposed({ approx: 'tanh', half: 'x', cube: 'mul' });
      m.graph.outputs.push({ name: v, dtype: 'float32' });
      expect(new FuseGeluPass().apply(m).changed, v).toBe(0);
      expect(m.graph.nodes).toHaveLength(9);
    }
  });

  it('does not fire on a wrong constant (0.6 for 0.5, and each other constant off), or on another tensor than x', () => {
    const wrong: [Form['approx'], Form['consts']][] = [
      ['none', { half: 0.6 }],
      ['none', { one: 2 }],
      ['none', { sqrt2: 1.5 }],
      ['none', { sqrt2: Math.SQRT2 * (1 + 1e-5) }], // off by 1e-5 relative: beyond float32 precision
      ['tanh', { half: 0.6 }],
      ['tanh', { coef: 0.05 }],
      ['tanh', { scale: 0.8 }],
      ['tanh', { three: 2 }],
    ];
    for (const [approx, consts] of wrong) {
      const m = decomposed({ approx, half: 'last', cube: 'pow', consts });
      expect(new FuseGeluPass().apply(m).changed, JSON.stringify(consts)).toBe(0);
      expect(m.graph.initializers.size).toBeGreaterThan(0);
    }
    // z * (1 + erf(x / sqrt 2)) / 2 is no GELU of anything
    const other = decomposed({ approx: 'none', half: 'last' });
    other.graph.inputs.push({ name: 'z', dtype: 'float32', shape: [2, 3, 8] });
    other.graph.nodes.find((n) => n.name === 'prod')!.inputs[0] = 'z';
    expect(new FuseGeluPass().apply(other).changed).toBe(0);
    // x + 0.044715 z^3
    const cube = decomposed({ approx: 'tanh', half: 'last', cube: 'mul' });
    cube.graph.inputs.push({ name: 'z', dtype: 'float32', shape: [2, 3, 8] });
    cube.graph.nodes.find((n) => n.name === 'sq')!.inputs = ['z', 'z'];
    expect(new FuseGeluPass().apply(cube).changed).toBe(0);
  });

  it('does not fire when a constant is not a scalar ([1, 1, 1] would broadcast x to rank 3 or more)', () => {
    for (const [approx, c] of [
      ['none', 'half'],
      ['none', 'sqrt2'],
      ['none', 'one'],
      ['tanh', 'coef'],
      ['tanh', 'scale'],
    ] as const) {
      const m = decomposed({ approx, half: 'last', cube: 'pow', wide: [c] });
      expect(new FuseGeluPass().apply(m).changed, c).toBe(0);
    }
  });

  it('refuses unknown options', () => {
    expect(() => new FuseGeluPass({ verbos: true } as never)).toThrow(OnnxPtqError);
  });
});

describe('GELU fusion in the sessions and in quantize()', () => {
  it('the float session fuses at creation (optimize) with the same outputs', async () => {
    const m = decomposed({ approx: 'tanh', half: 'x', cube: 'pow' });
    const s = await InferenceSession.create(m);
    expect(s.graph.nodes.map((n) => n.opType)).toEqual(['Gelu']);
    const x = feed();
    expect(maxAbs(s.runSync({ x }).y!.data as Float32Array, await runPlain(m, x))).toBeLessThan(1e-6);
  });

  /** x -> MatMul -> decomposed erf GELU -> MatMul -> y, at opset 20. */
  function mlp(): Model {
    const inner = decomposed({ approx: 'none', half: 'x' }).graph;
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [4, 8] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    g.initializers.set('w1', new Tensor('float32', rand(8 * 16, 0.5), [8, 16]));
    g.initializers.set('w2', new Tensor('float32', rand(16 * 8, 0.5), [16, 8]));
    g.nodes.push(makeNode('MatMul', ['x', 'w1'], ['h'], {}, 'fc1'));
    const rename = (v: string) => (v === 'x' ? 'h' : v === 'y' ? 'a' : v);
    for (const n of inner.nodes) g.nodes.push({ ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) } as Node);
    for (const [k, v] of inner.initializers) g.initializers.set(k, v);
    g.nodes.push(makeNode('MatMul', ['a', 'w2'], ['y'], {}, 'fc2'));
    return model(g, 20);
  }

  it('quantize() fuses by default and the Gelu runs as one integer table; fuseGelu: false keeps the steps', async () => {
    const m = mlp();
    const calibration = Array.from({ length: 4 }, () => ({ x: new Tensor('float32', rand(32, 2), [4, 8]) }));
    const fused = await quantize(m, { calibration });
    expect(fused.report.passes.find((p) => p.pass === 'fuse-gelu')?.changed).toBe(1);
    const fops = ops(fused.model);
    expect(fops.filter((o) => o === 'Gelu')).toHaveLength(1);
    expect(fops).not.toContain('Erf');
    const s = await IntegerSession.create(fused.model, { backend: 'js', runInWorker: false });
    expect(s.loweringReport().find((e) => e.opType === 'Gelu')).toMatchObject({ execution: 'integer', kernel: 'lut' });
    const plain = await quantize(m, { calibration, fuseGelu: false });
    expect(plain.report.passes.some((p) => p.pass === 'fuse-gelu')).toBe(false);
    expect(ops(plain.model)).toContain('Erf');
    expect(ops(plain.model)).not.toContain('Gelu');
  });

  it('refuses a non-boolean fuseGelu', async () => {
    await expect(quantize(mlp(), { fuseGelu: 'yes' as never })).rejects.toThrow(/fuseGelu/);
  });
});
