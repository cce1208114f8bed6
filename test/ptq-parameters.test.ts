// Constants that scale or shift activations (MobileOne's learnable Mul/Add, a ConvTranspose's
// separate bias and BatchNormalization): folded into the layer where the layer is the op's only
// producer, and otherwise quantized as parameters of their own so that the op runs integer.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { foldIntoLayers } from '../src/passes/fold-into-layers.js';
import { FoldBiasAddPass } from '../src/passes/fold-bias-add.js';
import { inferAndFold } from '../src/ir/infer.js';
import { InferenceSession, cloneModel } from '../src/runtime/session.js';
import { IntegerSession } from '../src/runtime/integer/session.js';
import { rng } from './backends.js';

const r = rng(7);
const rand = (n: number, s = 1, o = 0) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s + o);
const init = (g: Graph, name: string, data: Float32Array, dims: number[]) => g.initializers.set(name, new Tensor('float32', data, dims));

function model(g: Graph): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 't',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: g,
  };
}

async function run(m: Model, x: Tensor): Promise<Float32Array> {
  const s = await InferenceSession.create(m);
  return s.runSync({ x })[s.outputNames[0]!]!.data as Float32Array;
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 0,
    err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

function sqnrDb(ref: Float32Array, got: Float32Array): number {
  let s = 0,
    n = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! ** 2;
    n += (ref[i]! - got[i]!) ** 2;
  }
  return 10 * Math.log10(s / n);
}

describe('scale and shift folds into the layer', () => {
  it('Conv -> Mul(scalar) -> Add([C,1,1]) and ConvTranspose -> Add(bias) -> BatchNormalization fold to one layer each, function kept', async () => {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 7, 7] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    init(g, 'w', rand(4 * 3 * 9), [4, 3, 3, 3]);
    init(g, 's', Float32Array.of(0.75), [1]);
    init(g, 'c', rand(4), [4, 1, 1]);
    init(g, 'wt', rand(4 * 2 * 4), [4, 2, 2, 2]); // ConvTranspose [Cin, Cout/g, kh, kw], group 2: Cout = 4
    init(g, 'bt', rand(4), [4, 1, 1]);
    for (const [k, sc, o] of [
      ['gamma', 0.5, 1],
      ['beta', 1, 0],
      ['mean', 1, 0],
      ['var', 0.4, 0.6],
    ] as const)
      init(g, k, rand(4, sc, o), [4]);
    g.nodes.push(
      makeNode('Conv', ['x', 'w'], ['c0'], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, 'conv'),
      makeNode('Mul', ['s', 'c0'], ['c1'], {}, 'scale'),
      makeNode('Add', ['c1', 'c'], ['c2'], {}, 'shift'),
      makeNode('ConvTranspose', ['c2', 'wt'], ['t0'], { strides: { type: 'ints', value: [2, 2] }, group: { type: 'int', value: 2 } }, 'up'),
      makeNode('Add', ['t0', 'bt'], ['t1'], {}, 'up_bias'),
      makeNode('BatchNormalization', ['t1', 'gamma', 'beta', 'mean', 'var'], ['y'], {}, 'bn'),
    );
    const before = model(g),
      after = cloneModel(before);
    const { types } = inferAndFold(after);
    const reps = foldIntoLayers(after, types, { batchNorm: true, hardSwish: true, gelu: true, layerNorm: true });
    expect(reps.reduce((a, p) => a + p.changed, 0)).toBe(4);
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'ConvTranspose']);
    expect(after.graph.nodes[1]!.outputs).toEqual(['y']);
    for (let t = 0; t < 3; t++) {
      const x = new Tensor('float32', rand(3 * 49, 2), [1, 3, 7, 7]);
      expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
    }
  });

  it('does not fold a constant whose broadcast does not follow the output channels', () => {
    // [C] against [N, C, H, W] broadcasts along W, not C (W = C here, so the shapes do broadcast).
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 4, 4] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    init(g, 'w', rand(4 * 3), [4, 3, 1, 1]);
    init(g, 'c', rand(4), [4]);
    g.nodes.push(makeNode('Conv', ['x', 'w'], ['c0'], {}, 'conv'), makeNode('Mul', ['c0', 'c'], ['y'], {}, 'mul'));
    const m = model(g);
    expect(new FoldBiasAddPass().apply(m).changed).toBe(0);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Mul']);
  });
  it('folds Mul/Add after an activation into the following unpadded Conv (input side); not into a padded one', async () => {
    // HardSwish -> Mul([C,1,1]) -> Add(scalar) -> Conv 1x1 (PP-OCRv4 det's affine after each HardSwish).
    const build = (pads: number[]) => {
      const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 5, 5] }], outputs: [{ name: 'y', dtype: 'float32' }] });
      init(g, 'k', rand(3, 0.5, 1), [3, 1, 1]);
      init(g, 't', Float32Array.of(0.25), []);
      init(g, 'w', rand(4 * 3 * 9), [4, 3, 3, 3]);
      init(g, 'b', rand(4), [4]);
      g.nodes.push(
        makeNode('HardSwish', ['x'], ['h'], {}, 'hs'),
        makeNode('Mul', ['h', 'k'], ['m'], {}, 'scale'),
        makeNode('Add', ['t', 'm'], ['a'], {}, 'shift'),
        makeNode('Conv', ['a', 'w', 'b'], ['y'], { pads: { type: 'ints', value: pads } }, 'conv'),
      );
      return model(g);
    };
    const before = build([0, 0, 0, 0]),
      after = cloneModel(before);
    const rep = new FoldBiasAddPass().apply(after);
    expect(rep.changed).toBe(2);
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['HardSwish', 'Conv']);
    expect(after.graph.nodes[1]!.inputs[0]).toBe('h');
    expect([...after.graph.initializers.keys()].some((k) => k === 'k' || k === 't')).toBe(false);
    for (let i = 0; i < 3; i++) {
      const x = new Tensor('float32', rand(75, 4), [1, 3, 5, 5]);
      expect(maxRelErr(await run(before, x), await run(after, x))).toBeLessThan(1e-5);
    }
    // Zero padding reads 0, not the shift: folding the Add into a padded Conv would change the border.
    const padded = build([1, 1, 1, 1]);
    expect(new FoldBiasAddPass().apply(padded).changed).toBe(0);
    expect(padded.graph.nodes.map((n) => n.opType)).toEqual(['HardSwish', 'Mul', 'Add', 'Conv']);
  });
});

describe('constant operands quantized as parameters', () => {
  // Relu -> Mul(scalar) -> Add([1,C,1,1]) -> Conv(pads 1): nothing to fold into, so the Mul and Add
  // must read their constants through DequantizeLinear and run integer.
  function affineAfterRelu(): Model {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 6, 6] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    init(g, 's', Float32Array.of(-0.6), []);
    init(g, 'c', Float32Array.of(0.3, -0.2, 0.5, 0.1), [1, 4, 1, 1]);
    init(g, 'w', rand(3 * 4 * 9, 0.5), [3, 4, 3, 3]);
    g.nodes.push(
      makeNode('Relu', ['x'], ['a'], {}, 'relu'),
      makeNode('Mul', ['a', 's'], ['b'], {}, 'lab_scale'),
      makeNode('Add', ['b', 'c'], ['d'], {}, 'lab_shift'),
      makeNode('Conv', ['d', 'w'], ['y'], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, 'conv'),
    );
    return model(g);
  }
  const data = Array.from({ length: 16 }, () => ({ x: new Tensor('float32', rand(144, 2), [1, 4, 6, 6]) }));

  for (const activationSigned of [false, true]) {
    it(`reads each constant through an 8-bit DequantizeLinear and runs every node integer (${activationSigned ? 'int8' : 'uint8'} activations)`, async () => {
      const m = affineAfterRelu();
      const { model: q } = await quantize(m, { calibration: data, activationSigned });
      for (const op of ['lab_scale', 'lab_shift']) {
        const n = q.graph.nodes.find((x) => x.name === op)!;
        const dq = n.inputs.map((i) => q.graph.producerOf(i)).filter((p) => p?.opType === 'DequantizeLinear');
        expect(dq).toHaveLength(2);
        expect(dq.some((p) => q.graph.initializers.get(p!.inputs[0]!)?.dtype === (activationSigned ? 'int8' : 'uint8'))).toBe(true);
      }
      expect(q.graph.initializers.has('s') || q.graph.initializers.has('c')).toBe(false);
      const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
      expect(
        s
          .loweringReport()
          .filter((e) => e.execution === 'float')
          .map((e) => e.node),
      ).toEqual([]);
      const x = data[3]!.x;
      const want = await run(m, x);
      const got = s.runSync({ x }).y!.data as Float32Array;
      expect(sqnrDb(want, got)).toBeGreaterThan(30);
    });
  }
});
