// LayerSplitPass in TVM's style, the float function preserved, and Widrow's scale^2/12 measured.
import { describe, expect, it } from 'vitest';
import { cloneModel } from '../src/runtime/session.js';
import { LayerSplitPass } from '../src/passes/layer-split.js';
import { layerWeightFakeQuant } from '../src/ptq/qdq-export.js';
import type { Model } from '../src/ir/graph.js';
import { maxRelErr, run, twoConv, xFeed } from './passes-helpers.js';

const scheme = { bits: 8, signed: true, symmetric: true, granularity: 'per-tensor' as const, groupSize: 64 };

/** Mean squared per-tensor int8 quantization error of the named layers' weights, summed per element. */
function noisePower(m: Model, layers: string[]): { perTensor: number[]; total: number } {
  const perTensor: number[] = [];
  let sum: Float64Array | undefined;
  for (const name of layers) {
    const n = m.graph.nodes.find((x) => x.name === name)!;
    const w = m.graph.initializers.get(n.inputs[1])!.data as Float32Array;
    const fq = layerWeightFakeQuant(m.graph, n, scheme);
    sum ??= new Float64Array(w.length);
    let p = 0;
    for (let i = 0; i < w.length; i++) {
      p += (w[i] - fq[i]) ** 2;
      sum[i] += w[i] - fq[i];
    }
    perTensor.push(p / w.length);
  }
  return { perTensor, total: sum!.reduce((s, e) => s + e * e, 0) / sum!.length };
}

describe('LayerSplitPass', () => {
  it('splits conv1 into two Convs and an Add (balance), keeping the function (1e-5)', async () => {
    const before = twoConv('relu');
    const after = cloneModel(before);
    const rep = new LayerSplitPass({ interested_layers: ['conv1'], value_threshold: 64, verbose: true }).apply(after);
    expect(rep.changed).toBe(1);
    expect(rep.details[0]).toMatch(/conv1.*split \(balance\)/);
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Conv', 'Add', 'Relu', 'Conv']);
    const [a, b, add] = after.graph.nodes;
    expect(a.inputs[0]).toBe('x');
    expect(b.inputs[0]).toBe('x');
    expect(a.inputs).toHaveLength(3); // the bias stays on one half
    expect(b.inputs).toHaveLength(2);
    expect(add.inputs).toEqual([a.outputs[0], b.outputs[0]]);
    expect(add.outputs).toEqual(['h']);
    for (let t = 0; t < 3; t++) {
      const x = xFeed();
      expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
    }
  });

  it('halving the range cuts the weight quantization noise power by about 75% (Widrow: scale^2 / 12)', () => {
    const before = twoConv('relu');
    const after = cloneModel(before);
    new LayerSplitPass({ interested_layers: ['conv1'], value_threshold: 64 }).apply(after);
    const [a, b] = after.graph.nodes;
    const n0 = noisePower(before, ['conv1']),
      n1 = noisePower(after, [a.name, b.name]);
    const scale = 128 / 127;
    console.log(
      `layer split, per-tensor int8 weight noise power: ${n0.perTensor[0].toExponential(4)} (Widrow ${(scale ** 2 / 12).toExponential(4)}) -> ` +
        `${n1.perTensor[0].toExponential(4)} in W1 (Widrow ${((scale / 2) ** 2 / 12).toExponential(4)}), ${n1.total.toExponential(4)} in W1 + W2; ` +
        `W1 falls by ${(100 * (1 - n1.perTensor[0] / n0.perTensor[0])).toFixed(1)}%, W1 + W2 by ${(100 * (1 - n1.total / n0.perTensor[0])).toFixed(1)}%`,
    );
    expect(n1.perTensor[0] / n0.perTensor[0]).toBeGreaterThan(0.15);
    expect(n1.perTensor[0] / n0.perTensor[0]).toBeLessThan(0.35);
    expect(n1.total / n0.perTensor[0]).toBeLessThan(0.4);
  });

  it('random method is seeded and keeps the function; Gemm splits too', async () => {
    const before = twoConv('none');
    const a1 = cloneModel(before),
      a2 = cloneModel(before);
    new LayerSplitPass({ interested_layers: ['conv1'], value_threshold: 1, method: 'random', seed: 5 }).apply(a1);
    new LayerSplitPass({ interested_layers: ['conv1'], value_threshold: 1, method: 'random', seed: 5 }).apply(a2);
    expect(a1.graph.initializers.get(a1.graph.nodes[0].inputs[1])!.data).toEqual(
      a2.graph.initializers.get(a2.graph.nodes[0].inputs[1])!.data,
    );
    const x = xFeed();
    expect(maxRelErr(await run(before, x), await run(a1, x))).toBeLessThan(1e-5);
  });

  it('does not fire with no interested layers or nothing above the threshold', () => {
    for (const opts of [{}, { interested_layers: [] }, { interested_layers: ['conv2'], value_threshold: 1000 }]) {
      const m = twoConv();
      expect(new LayerSplitPass(opts).apply(m).changed).toBe(0);
      expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv']);
    }
  });

  it('bad input names the pass, option and node', () => {
    expect(() => new LayerSplitPass({ interested_layers: ['nope'] }).apply(twoConv())).toThrow(
      /layer-split: option 'interested_layers' names node 'nope'/,
    );
    expect(() => new LayerSplitPass({ interested_layers: ['relu'] }).apply(twoConv())).toThrow(/layer-split: node Relu node 'relu'/);
    expect(() => new LayerSplitPass({ method: 'half' as never })).toThrow(/layer-split: option 'method'/);
    expect(() => new LayerSplitPass({ value_threshold: -1 })).toThrow(/layer-split: option 'value_threshold'/);
  });
});
