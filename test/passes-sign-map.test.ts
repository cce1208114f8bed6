// SignMapPass in TVM's style: which tensors are provably non-negative, the parameters they get,
// and cases where it must not fire.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { nonNegativeTensors } from '../src/passes/sign-map.js';
import { model, twoConv, xFeed } from './passes-helpers.js';

function chain(): ReturnType<typeof model> {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }], outputs: [{ name: 'o', dtype: 'float32' }] });
  const c = (n: string, v: number) => g.initializers.set(n, new Tensor('float32', Float32Array.of(v), []));
  c('zero', 0);
  c('six', 6);
  c('m1', -1);
  c('one', 1);
  g.nodes.push(
    makeNode('Clip', ['x', 'zero', 'six'], ['r6']), // ReLU6: non-negative
    makeNode('Clip', ['x', 'm1', 'one'], ['c11']), // may be negative
    makeNode('Sigmoid', ['x'], ['sg']),
    makeNode('HardSigmoid', ['x'], ['hs']),
    makeNode('Add', ['r6', 'sg'], ['s1']), // sum of non-negatives
    makeNode('Add', ['r6', 'c11'], ['s2']), // not provable
    makeNode('Reshape', ['s1', 'shape'], ['rs']),
    makeNode('Mul', ['rs', 'hs'], ['o']),
  );
  g.initializers.set('shape', new Tensor('int64', BigInt64Array.of(1n, 4n), [2]));
  return model(g);
}

describe('SignMapPass', () => {
  it('proves Relu-like Clip, Sigmoid, HardSigmoid, and sums/reshapes/products of them non-negative', () => {
    const pos = nonNegativeTensors(chain().graph);
    expect([...pos].sort()).toEqual(['hs', 'o', 'r6', 'rs', 's1', 'sg'].sort());
  });

  it('gives a ReLU output uint8 with zero point 0 (step max/255 instead of max/127 with int8 symmetric activations)', async () => {
    const calib = Array.from({ length: 8 }, () => xFeed());
    const opts = { calibration: calib, activationSigned: true, activationSymmetric: true };
    const m = twoConv('relu'); // quantize() works on a copy
    const without = await quantize(m, opts);
    const withMap = await quantize(m, { ...opts, passes: ['sign-map'], passOptions: { 'sign-map': { verbose: true } } });
    const act = (r: typeof without.report, t: string) => r.activations.find((a) => a.tensor === t)!;
    // 'a' (the Relu output, fused into conv1's output point) becomes unsigned, zero point 0, step halves
    expect(act(without.report, 'a').zeroPoint).toBe(0);
    expect(act(withMap.report, 'a').zeroPoint).toBe(0);
    expect(act(withMap.report, 'a').scale / act(without.report, 'a').scale).toBeCloseTo(127 / 255, 5);
    const zp = withMap.model.graph.initializers.get('a_zero_point')!;
    expect(zp.dtype).toBe('uint8');
    // must not fire: the input x and the final output y can be negative
    expect(act(withMap.report, 'x').scale).toBe(act(without.report, 'x').scale);
    expect(withMap.model.graph.initializers.get('x_zero_point')!.dtype).toBe('int8');
    expect(withMap.report.passes.find((p) => p.pass === 'sign-map')!.details.join('\n')).toMatch(/'a'.*uint8 with zero point 0/);
  });
});
