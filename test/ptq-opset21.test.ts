// The move to opset 21 that 16-bit QuantizeLinear/DequantizeLinear need (src/ptq/opset.ts): a
// reduction's axes attribute becomes an input (opset 18) with the float result unchanged; nothing
// moves without a 16-bit activation; ops whose meaning changed before 21 are refused by name.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { upgradeOpset } from '../src/ptq/opset.js';
import { quantize } from '../src/ptq/quantize.js';
import { InferenceSession } from '../src/runtime/session.js';
import { model } from './passes-helpers.js';

function reduceModel() {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 4, 4] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set(
    'w',
    new Tensor(
      'float32',
      Float32Array.from({ length: 9 }, (_, i) => ((i * 7) % 5) / 5 - 0.4),
      [3, 3, 1, 1],
    ),
  );
  g.nodes.push(makeNode('Conv', ['x', 'w'], ['c'], {}, 'conv'));
  g.nodes.push(
    makeNode('ReduceMean', ['c'], ['y'], { axes: { type: 'ints', value: [2, 3] }, keepdims: { type: 'int', value: 1 } }, 'mean'),
  );
  return model(g, 13);
}
const feeds = (i: number) => ({
  x: new Tensor(
    'float32',
    Float32Array.from({ length: 48 }, (_, j) => Math.sin(i * 48 + j)),
    [1, 3, 4, 4],
  ),
});

describe('opset 21 for 16-bit activations', () => {
  it('before/after: ReduceMean axes move to an input, the float output is unchanged', async () => {
    const before = reduceModel();
    const want = (await (await InferenceSession.create(before)).run(feeds(0))).y!.data;
    const after = reduceModel();
    expect(upgradeOpset(after, undefined, 21)).toEqual({ from: 13, to: 21, wrapped: [] });
    expect(after.irVersion).toBeGreaterThanOrEqual(10);
    const mean = after.graph.nodes.find((n) => n.opType === 'ReduceMean')!;
    expect(mean.attributes.has('axes')).toBe(false);
    expect(Array.from(after.graph.initializers.get(mean.inputs[1]!)!.data as BigInt64Array, Number)).toEqual([2, 3]);
    expect((await (await InferenceSession.create(after)).run(feeds(0))).y!.data).toEqual(want);
  });

  it('does not fire without 16-bit activations: an 8-bit model stays at opset 13', async () => {
    const r8 = await quantize(reduceModel(), { calibration: [0, 1, 2].map(feeds) });
    expect(r8.report.opset).toEqual({ from: 13, to: 13 });
    expect(r8.model.graph.nodes.find((n) => n.opType === 'ReduceMean')!.attributes.has('axes')).toBe(true);
    const r16 = await quantize(reduceModel(), { calibration: [0, 1, 2].map(feeds), activation16: ['c'] });
    expect(r16.report.opset).toEqual({ from: 13, to: 21 });
    expect(r16.report.activations.find((a) => a.tensor === 'c')!.bits).toBe(16);
  });

  it('refuses an op whose meaning changed before 21, naming it', () => {
    const m = reduceModel();
    m.graph.nodes.push(makeNode('GroupNormalization', ['y', 's', 'b'], ['z'], { num_groups: { type: 'int', value: 1 } }, 'gn'));
    expect(() => upgradeOpset(m, undefined, 21)).toThrow(/gn.*GroupNormalization changed meaning/);
  });
});
