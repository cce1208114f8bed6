// FuseHardSwishPass: before graph, expected graph, and the cases where it must not fire.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Attribute } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { cloneModel } from '../src/runtime/session.js';
import { FuseHardSwishPass } from '../src/passes/fuse-hardswish.js';
import { upgradeOpset } from '../src/ptq/opset.js';
import { quantize } from '../src/ptq/quantize.js';
import { OnnxPtqError } from '../src/errors.js';
import { model, rand, run, maxRelErr } from './passes-helpers.js';

const f = (v: number): Tensor => new Tensor('float32', Float32Array.of(v), []);
const fa = (v: number): Attribute => ({ type: 'float', value: v });

type Form = 'div' | 'mul-sixth' | 'div-first' | 'hardsigmoid';

/**
 * x -> Conv(1x1) -> t -> decomposed hardswish(t) -> y. `opset` < 11 writes Clip's bounds as
 * attributes; `mulSwap` puts t second in the Mul; `consts` overrides the constants 3, 0, 6.
 */
function decomposed(form: Form, opts: { opset?: number; mulSwap?: boolean; consts?: [number, number, number]; alpha?: number } = {}) {
  const opset = opts.opset ?? 13;
  const [three, lo, six] = opts.consts ?? [3, 0, 6];
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('w', new Tensor('float32', rand(3 * 2, 2), [3, 2, 1, 1]));
  g.nodes.push(makeNode('Conv', ['x', 'w'], ['t'], {}, 'conv'));
  const mul = (a: string, b: string, out: string, name: string) => makeNode('Mul', opts.mulSwap ? [b, a] : [a, b], [out], {}, name);
  if (form === 'hardsigmoid') {
    g.nodes.push(makeNode('HardSigmoid', ['t'], ['h'], { alpha: fa(opts.alpha ?? 1 / 6), beta: fa(0.5) }, 'hsig'));
    g.nodes.push(mul('t', 'h', 'y', 'mul'));
    return model(g, opset);
  }
  g.initializers.set('three', f(three));
  g.initializers.set('six', f(six));
  g.nodes.push(makeNode('Add', ['t', 'three'], ['a'], {}, 'add'));
  if (opset < 11) {
    g.nodes.push(makeNode('Clip', ['a'], ['c'], { min: fa(lo), max: fa(six) }, 'clip'));
  } else {
    g.initializers.set('lo', f(lo));
    g.nodes.push(makeNode('Clip', ['a', 'lo', 'six'], ['c'], {}, 'clip'));
  }
  if (form === 'div-first') {
    g.nodes.push(makeNode('Div', ['c', 'six'], ['d'], {}, 'div'));
    g.nodes.push(mul('t', 'd', 'y', 'mul'));
  } else {
    g.nodes.push(mul('t', 'c', 'm', 'mul'));
    if (form === 'div') g.nodes.push(makeNode('Div', ['m', 'six'], ['y'], {}, 'div'));
    else {
      g.initializers.set('sixth', f(1 / 6));
      g.nodes.push(makeNode('Mul', ['sixth', 'm'], ['y'], {}, 'scale'));
    }
  }
  return model(g, opset);
}

const feeds = () => ({ x: new Tensor('float32', rand(32, 4), [1, 2, 4, 4]) });

describe('FuseHardSwishPass', () => {
  const cases: [Form, { opset?: number; mulSwap?: boolean }][] = [
    ['div', { opset: 9 }],
    ['div', { mulSwap: true }],
    ['mul-sixth', {}],
    ['div-first', { mulSwap: true }],
    ['hardsigmoid', {}],
    ['hardsigmoid', { mulSwap: true }],
  ];
  for (const [form, o] of cases) {
    it(`fuses the ${form} form${o.opset ? ` (opset ${o.opset}, Clip attributes)` : ''}${o.mulSwap ? ' (Mul operands swapped)' : ''} into one HardSwish with the same function`, async () => {
      const before = decomposed(form, o),
        after = cloneModel(before);
      const rep = new FuseHardSwishPass().apply(after);
      expect(rep.changed).toBe(1);
      // expected graph: Conv -> HardSwish(t) writing y, constants gone
      expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'HardSwish']);
      expect(after.graph.nodes[1].inputs).toEqual(['t']);
      expect(after.graph.nodes[1].outputs).toEqual(['y']);
      expect([...after.graph.initializers.keys()]).toEqual(['w']);
      for (let i = 0; i < 3; i++) {
        const x = feeds();
        expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-6);
      }
    });
  }

  it("does not fire when a constant is off (Add 2.9, Clip min -1, Clip max 5, Div by 6.5) or not a scalar, or HardSigmoid has Paddle's slope 0.2", () => {
    for (const consts of [
      [2.9, 0, 6],
      [3, -1, 6],
      [3, 0, 5],
    ] as [number, number, number][]) {
      const m = decomposed('div', { consts });
      expect(new FuseHardSwishPass().apply(m).changed).toBe(0);
      expect(m.graph.nodes).toHaveLength(5);
    }
    const m = decomposed('div');
    m.graph.initializers.set('six', f(6.5)); // Clip max and Div share it: both off
    expect(new FuseHardSwishPass().apply(m).changed).toBe(0);
    const wide = decomposed('div');
    wide.graph.initializers.set('three', new Tensor('float32', Float32Array.of(3), [1, 1, 1, 1, 1])); // broadcasts t to rank 5
    expect(new FuseHardSwishPass().apply(wide).changed).toBe(0);
    const h = decomposed('hardsigmoid', { alpha: 0.2 });
    expect(new FuseHardSwishPass().apply(h).changed).toBe(0);
    expect(h.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'HardSigmoid', 'Mul']);
  });

  it('does not fire when an intermediate has a second reader or is a graph output, or the Mul reads another tensor', () => {
    const branch = decomposed('div');
    branch.graph.nodes.push(makeNode('Relu', ['c'], ['r'], {}, 'relu'));
    branch.graph.outputs.push({ name: 'r', dtype: 'float32' });
    expect(new FuseHardSwishPass().apply(branch).changed).toBe(0);
    const out = decomposed('div');
    out.graph.outputs.push({ name: 'm', dtype: 'float32' });
    expect(new FuseHardSwishPass().apply(out).changed).toBe(0);
    const other = decomposed('div');
    other.graph.inputs.push({ name: 'z', dtype: 'float32', shape: [1, 3, 4, 4] });
    other.graph.nodes.find((n) => n.name === 'mul')!.inputs[0] = 'z'; // z * relu6(t + 3) / 6 is no hardswish
    expect(new FuseHardSwishPass().apply(other).changed).toBe(0);
  });

  it('refuses unknown options', () => {
    expect(() => new FuseHardSwishPass({ verbos: true } as never)).toThrow(OnnxPtqError);
  });
});

describe('opset for a fused model', () => {
  it('moves an opset-9 graph with HardSwish to 14 (Clip attributes become inputs on the way) and one without to 13', () => {
    const m = decomposed('div', { opset: 9 });
    const plain = cloneModel(m);
    new FuseHardSwishPass().apply(m);
    expect(upgradeOpset(m)).toEqual({ from: 9, to: 14, wrapped: [] });
    expect(m.opsetImports[0].version).toBe(14);
    expect(upgradeOpset(plain)).toEqual({ from: 9, to: 13, wrapped: [] });
    expect(plain.graph.nodes.find((n) => n.opType === 'Clip')!.inputs).toHaveLength(3);
  });

  it('refuses opset 14 when a BatchNormalization running-statistics output is read', () => {
    const m = decomposed('hardsigmoid');
    const g = m.graph;
    for (const k of ['s', 'b', 'mu', 'v']) g.initializers.set(k, new Tensor('float32', Float32Array.of(1, 1, 1), [3]));
    g.nodes.push(makeNode('BatchNormalization', ['y', 's', 'b', 'mu', 'v'], ['bn', 'rm'], {}, 'bn'));
    g.outputs.push({ name: 'rm', dtype: 'float32' });
    new FuseHardSwishPass().apply(m);
    expect(() => upgradeOpset(m)).toThrow(/bn.*running-statistics/);
    g.outputs.pop();
    upgradeOpset(m);
    expect(g.nodes.find((n) => n.opType === 'BatchNormalization')!.outputs).toEqual(['bn']);
  });

  it('quantize() fuses by default, writes opset 14 and quantizes HardSwish once; fuseHardSwish: false keeps the four steps', async () => {
    const m = decomposed('div', { opset: 11 });
    const calibration = Array.from({ length: 4 }, feeds);
    const fused = await quantize(m, { calibration });
    expect(fused.report.opset).toEqual({ from: 11, to: 14 });
    const ops = fused.model.graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'HardSwish')).toHaveLength(1);
    expect(ops.filter((o) => o === 'QuantizeLinear')).toHaveLength(3); // x, t, y
    const plain = await quantize(m, { calibration, fuseHardSwish: false });
    expect(plain.report.opset).toEqual({ from: 11, to: 13 });
    // x, t, a, c, m, y: five roundings inside the activation (the Div by 6 is a table over m)
    expect(plain.model.graph.nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(6);
  });
});
