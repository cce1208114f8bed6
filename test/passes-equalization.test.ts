// EqualizationPass in TVM's style: before graph, expected graph, cases where it must not fire,
// float function preserved, and the seeds' example measured as per-tensor int8 SQNR.
import { describe, expect, it } from 'vitest';
import { cloneModel } from '../src/runtime/session.js';
import { EqualizationPass } from '../src/passes/equalization.js';
import { OnnxPtqError } from '../src/errors.js';
import { LayerSplitPass } from '../src/passes/layer-split.js';
import { makeNode } from '../src/ir/graph.js';
import { fakeQuantWeights, maxRelErr, run, sqnr, twoConv, xFeed } from './passes-helpers.js';

const ranges = (m: ReturnType<typeof twoConv>, name: string, c: number) => {
  const w = m.graph.initializers.get(m.graph.nodes.find((n) => n.name === name)!.inputs[1])!.data as Float32Array;
  const per = w.length / c,
    r: number[] = [];
  for (let i = 0; i < c; i++) r.push(Math.max(...Array.from(w.subarray(i * per, (i + 1) * per), Math.abs)));
  return r;
};

describe('EqualizationPass', () => {
  it('equalizes conv1 -> ReLU -> conv2: same graph, balanced ranges, float function kept (1e-5)', async () => {
    const before = twoConv('relu');
    const after = cloneModel(before);
    const rep = new EqualizationPass({ verbose: true }).apply(after);
    expect(rep.changed).toBe(1);
    expect(rep.details[0]).toMatch(/conv1.*conv2/);
    // expected graph: the same nodes, new weights
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv']);
    const r1 = ranges(after, 'conv1', 4);
    // the range spread of conv1's output channels collapses (it was > 256)
    expect(Math.max(...r1) / Math.min(...r1)).toBeLessThan(
      Math.max(...ranges(before, 'conv1', 4)) / Math.min(...ranges(before, 'conv1', 4)) / 8,
    );
    for (let t = 0; t < 3; t++) {
      const x = xFeed();
      expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
    }
  });

  it("improves per-tensor int8 SQNR on the seeds' example (channels in [-128, 128] and (-0.5, 0.5))", async () => {
    const before = twoConv('relu');
    const after = cloneModel(before);
    new EqualizationPass().apply(after);
    const xs = [xFeed(), xFeed(), xFeed(), xFeed()];
    let s0 = 0,
      s1 = 0;
    for (const x of xs) {
      const ref = await run(before, x);
      s0 += sqnr(ref, await run(fakeQuantWeights(before), x)) / xs.length;
      s1 += sqnr(ref, await run(fakeQuantWeights(after), x)) / xs.length;
    }
    console.log(`seeds' example, per-tensor int8 weights: output SQNR ${s0.toFixed(2)} dB before equalization, ${s1.toFixed(2)} dB after`);
    expect(s1).toBeGreaterThan(s0 + 6);
  });

  it('with optimize_level 2 crosses MaxPool; level 1 does not', async () => {
    expect(new EqualizationPass().apply(twoConv('maxpool')).changed).toBe(0);
    const before = twoConv('maxpool');
    const after = cloneModel(before);
    expect(new EqualizationPass({ optimize_level: 2 }).apply(after).changed).toBe(1);
    const x = xFeed();
    expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
  });

  it('optimize_level 2 crosses a zero Pad (spatial only) and AveragePool, not a Pad of 1 or a channel Pad', async () => {
    const { Tensor } = await import('../src/tensor.js');
    const build = (pads: number[], value: number, pool: boolean) => {
      const m = twoConv('relu');
      const g = m.graph;
      const conv2 = g.nodes.find((n) => n.name === 'conv2')!;
      g.initializers.set('pads', new Tensor('int64', BigInt64Array.from(pads.map(BigInt)), [8]));
      g.initializers.set('pv', new Tensor('float32', Float32Array.of(value), []));
      const nodes = [makeNode('Pad', ['a', 'pads', 'pv'], ['p'], {}, 'pad')];
      if (pool) nodes.push(makeNode('AveragePool', ['p'], ['q'], { kernel_shape: { type: 'ints', value: [2, 2] } }, 'avg'));
      g.nodes.splice(g.nodes.indexOf(conv2), 0, ...nodes);
      conv2.inputs[0] = pool ? 'q' : 'p';
      return m;
    };
    const before = build([0, 0, 1, 1, 0, 0, 1, 1], 0, true);
    const after = cloneModel(before);
    expect(new EqualizationPass({ optimize_level: 1 }).apply(cloneModel(before)).changed).toBe(0);
    expect(new EqualizationPass({ optimize_level: 2 }).apply(after).changed).toBe(1);
    const x = xFeed();
    expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
    expect(new EqualizationPass({ optimize_level: 2 }).apply(build([0, 0, 1, 1, 0, 0, 1, 1], 1, false)).changed).toBe(0);
    expect(new EqualizationPass({ optimize_level: 2 }).apply(build([0, 1, 0, 0, 0, 0, 0, 0], 0, false)).changed).toBe(0);
  });

  it('crosses ReLU6 (Clip(0, 6)) as Relu + Min with a per-channel bound 6 / s_i: float function kept, ranges balanced', async () => {
    const before = twoConv('relu6');
    const after = cloneModel(before);
    const rep = new EqualizationPass({ verbose: true }).apply(after);
    expect(rep.changed).toBe(1);
    expect(rep.details[0]).toMatch(/across Clip\(0, 6\), now Relu \+ per-channel Min/);
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Min', 'Conv']);
    const min = after.graph.nodes.find((n) => n.opType === 'Min')!;
    const c = after.graph.initializers.get(min.inputs[1])!;
    expect(c.dims).toEqual([4, 1, 1]);
    // c_i * s_i = 6, with s_i what the pass divided conv1's channel i by.
    const w0 = before.graph.initializers.get('w1')!.data as Float32Array,
      w1 = after.graph.initializers.get(after.graph.nodes[0].inputs[1])!.data as Float32Array;
    for (let i = 0; i < 4; i++) expect((c.data as Float32Array)[i] * (w0[i * 27 + 1] / w1[i * 27 + 1])).toBeCloseTo(6, 3);
    const r1 = ranges(after, 'conv1', 4);
    expect(Math.max(...r1) / Math.min(...r1)).toBeLessThan(
      Math.max(...ranges(before, 'conv1', 4)) / Math.min(...ranges(before, 'conv1', 4)) / 8,
    );
    // Channel 0 (weights up to 128) runs far past 6 and below 0: both bounds are exercised.
    for (let t = 0; t < 3; t++) {
      const x = xFeed();
      expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
    }
  });

  it('does not cross HardSwish, Sigmoid or Clip(-1, 1), and says so; nor a conv with a second reader (silently: no pair)', () => {
    for (const [op, why] of [
      ['HardSwish', /HardSwish is not positively homogeneous/],
      ['Sigmoid', /Sigmoid is not positively homogeneous/],
      ['Clip', /Clip\(-1, 6\) has a lower bound other than 0/],
    ] as const) {
      const m = twoConv('relu6');
      const clip = m.graph.nodes.find((n) => n.opType === 'Clip')!;
      if (op === 'Clip') (m.graph.initializers.get('lo')!.data as Float32Array)[0] = -1;
      else {
        clip.opType = op;
        clip.inputs = clip.inputs.slice(0, 1);
      }
      const w = m.graph.initializers.get('w1');
      const rep = new EqualizationPass().apply(m);
      expect(rep.changed).toBe(0);
      expect(m.graph.initializers.get('w1')).toBe(w);
      expect(rep.skipped).toHaveLength(1);
      expect(rep.skipped![0]).toMatch(/Conv node 'conv1' -> Conv node 'conv2': not crossed at/);
      expect(rep.skipped![0]).toMatch(why);
    }
    const m = twoConv('relu', true);
    const w = m.graph.initializers.get('w1');
    expect(new EqualizationPass().apply(m).changed).toBe(0);
    expect(m.graph.initializers.get('w1')).toBe(w);
  });

  it('equalizes into a downstream group (the two halves of a split conv2), not into a non-layer reader', async () => {
    const before = twoConv('relu');
    new LayerSplitPass({ interested_layers: ['conv2'], value_threshold: 0.5 }).apply(before);
    const after = cloneModel(before);
    const rep = new EqualizationPass({ verbose: true }).apply(after);
    expect(rep.changed).toBe(1);
    expect(rep.details[0]).toMatch(/conv1.*conv2_split_a.*\+.*conv2_split_b/);
    const x = xFeed();
    expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
    // a second reader that is not a layer (a Sigmoid branch) blocks the pair
    const m = twoConv('relu');
    m.graph.nodes.push(makeNode('Sigmoid', ['a'], ['side'], {}, 'side'));
    m.graph.outputs.push({ name: 'side', dtype: 'float32' });
    expect(new EqualizationPass().apply(m).changed).toBe(0);
  });

  it('including_bias and including_activation (calibrated ranges) keep the function', async () => {
    const before = twoConv('relu');
    const after = cloneModel(before);
    const act = new Map([['h', Float32Array.of(300, 2, 5, 5)]]);
    expect(new EqualizationPass({ including_bias: true, including_activation: true, iterations: 3 }, act).apply(after).changed).toBe(1);
    const x = xFeed();
    expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
  });

  it('interested_layers filters pairs and must name existing nodes; bad options name the pass and option', () => {
    expect(new EqualizationPass({ interested_layers: ['conv2'] }).apply(twoConv()).changed).toBe(1);
    expect(() => new EqualizationPass({ interested_layers: ['nope'] }).apply(twoConv())).toThrow(
      /equalization: option 'interested_layers' names node 'nope'/,
    );
    expect(() => new EqualizationPass({ interested_layers: ['relu'] }).apply(twoConv())).toThrow(
      /equalization: option 'interested_layers': Relu node 'relu' is in no equalizable pair \(not a Conv/,
    );
    expect(() => new EqualizationPass({ interested_layers: ['conv1'] }).apply(twoConv('relu', true))).toThrow(
      /equalization: option 'interested_layers': Conv node 'conv1' is in no equalizable pair/,
    );
    expect(() => new EqualizationPass({ iterations: 0 })).toThrow(OnnxPtqError);
    expect(() => new EqualizationPass({ weight_threshold: 'x' as never })).toThrow(/equalization: option 'weight_threshold'/);
    expect(() => new EqualizationPass({ optimize_level: 3 })).toThrow(/optimize_level/);
    expect(() => new EqualizationPass({ bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => new EqualizationPass({ including_activation: true }).apply(twoConv())).toThrow(/including_activation.*conv1/);
  });
});

describe('EqualizationPass and LayerSplitPass on Gemm', () => {
  it('Gemm(transB=1) -> Relu -> Gemm(transB=0): equalized, then split, function kept (1e-5)', async () => {
    const { Graph } = await import('../src/ir/graph.js');
    const { Tensor } = await import('../src/tensor.js');
    const { model, rand } = await import('./passes-helpers.js');
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [2, 5] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    const w1 = rand(6 * 5, 1);
    for (let k = 0; k < 5; k++) w1[k] *= 100; // output channel 0 of the first Gemm is wide
    g.initializers.set('w1', new Tensor('float32', w1, [6, 5]));
    g.initializers.set('b1', new Tensor('float32', rand(6, 0.2), [6]));
    g.initializers.set('w2', new Tensor('float32', rand(6 * 3, 1), [6, 3]));
    g.nodes.push(
      makeNode('Gemm', ['x', 'w1', 'b1'], ['h'], { transB: { type: 'int', value: 1 } }, 'fc1'),
      makeNode('Relu', ['h'], ['a'], {}, 'relu'),
      makeNode('Gemm', ['a', 'w2'], ['y'], {}, 'fc2'),
    );
    const before = model(g);
    const after = cloneModel(before);
    expect(new EqualizationPass().apply(after).changed).toBe(1);
    expect(new LayerSplitPass({ interested_layers: ['fc1'], value_threshold: 1 }).apply(after).changed).toBe(1);
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Gemm', 'Add', 'Relu', 'Gemm']);
    const x = { x: new Tensor('float32', rand(10, 2), [2, 5]) };
    expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
  });
});
