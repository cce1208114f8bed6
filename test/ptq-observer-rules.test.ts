// Ranges no observer may clip: the output of a saturating op (its op already bounds it; clipping cut
// PaddleOCR's squeeze-excitation gates from [0, 0.74] to [0, 0.11]) and the logits of a final
// Softmax (their argmax is the class a user reads). A tensor with neither role is clipped as asked.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { rng } from './backends.js';

function model(): Model {
  // x -> Mul(x, 1) = u -> Sigmoid(u) = g -> Mul(u, g) = v -> Mul(v, 2) = logits -> Softmax -> y
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('one', new Tensor('float32', Float32Array.of(1), []));
  g.initializers.set('two', new Tensor('float32', Float32Array.of(2), []));
  g.nodes.push(
    makeNode('Mul', ['x', 'one'], ['u'], {}, 'scale'),
    makeNode('Sigmoid', ['u'], ['g'], {}, 'gate'),
    makeNode('Mul', ['u', 'g'], ['v'], {}, 'gated'),
    makeNode('Mul', ['v', 'two'], ['logits'], {}, 'head'),
    makeNode('Softmax', ['logits'], ['y'], { axis: { type: 'int', value: 1 } }, 'softmax'),
  );
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

// Mostly small values with rare large ones: a percentile observer clips the large ones.
const r = rng(42);
const data = Array.from({ length: 32 }, () => ({
  x: new Tensor(
    'float32',
    Float32Array.from({ length: 64 }, () => (r() < 0.005 ? 6 : -1 + r())),
    [1, 64],
  ),
}));

/** The [lo, hi] the exported QuantizeLinear of tensor `t` (written as `${t}_float` before its Q) can represent. */
function qRange(m: Model, t: string): [number, number] {
  const q = m.graph.nodes.find((n) => n.opType === 'QuantizeLinear' && (n.inputs[0] === t || n.inputs[0] === `${t}_float`))!;
  const s = m.graph.initializers.get(q.inputs[1]!)!.data[0] as number,
    z = Number(m.graph.initializers.get(q.inputs[2]!)!.data[0]);
  return [-z * s, (255 - z) * s];
}

describe('observer ranges that are never clipped', () => {
  it('a saturating op keeps its observed range and a final Softmax its logits; other tensors are clipped', async () => {
    const { model: q } = await quantize(model(), { calibration: data, observer: 'percentile', observerOptions: { percentile: 99 } });
    const sigmoidMax = 1 / (1 + Math.exp(-6)),
      vMax = 6 * sigmoidMax;
    expect(qRange(q, 'g')[1]).toBeGreaterThanOrEqual(sigmoidMax * 0.999);
    expect(qRange(q, 'logits')[1]).toBeGreaterThanOrEqual(2 * vMax * 0.999);
    // The same distribution one op earlier, with neither role: the observer clips it.
    expect(qRange(q, 'v')[1]).toBeLessThan(vMax * 0.5);
  });
});

describe('inputs read only by saturating ops', () => {
  // x -> Mul(x, 20) = z -> Sigmoid -> p; with `tap`, z is also a graph output (a reader that does not saturate).
  function sigmoidModel(tap: boolean, op: 'Sigmoid' | 'Tanh' | 'HardSigmoid'): Model {
    const g = new Graph({
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }],
      outputs: [{ name: 'p', dtype: 'float32' }, ...(tap ? [{ name: 'z2', dtype: 'float32' as const }] : [])],
    });
    g.initializers.set('k', new Tensor('float32', Float32Array.of(20), []));
    g.nodes.push(makeNode('Mul', ['x', 'k'], ['z'], {}, 'logit'), makeNode(op, ['z'], ['p'], {}, 'act'));
    if (tap) {
      g.initializers.set('one', new Tensor('float32', Float32Array.of(1), []));
      g.nodes.push(makeNode('Mul', ['z', 'one'], ['z2'], {}, 'tap'));
    }
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
  const wide = Array.from({ length: 8 }, () => ({
    x: new Tensor(
      'float32',
      Float32Array.from({ length: 64 }, () => (r() * 2 - 1) * 5),
      [1, 64],
    ),
  }));

  it('spend no levels where Sigmoid, Tanh or HardSigmoid is within half an output step of its bound', async () => {
    const h = 1 / 510; // half a uint8 step of the output range
    for (const [op, bound] of [
      ['Sigmoid', Math.log((1 - h) / h)],
      ['Tanh', Math.log((1 - h) / h) / 2],
      ['HardSigmoid', 2.5],
    ] as const) {
      const { model: q } = await quantize(sigmoidModel(false, op), { calibration: wide });
      const [lo, hi] = qRange(q, 'z');
      // Observed about [-100, 100]; the range kept is the unsaturated interval (to the zero point's rounding).
      expect(lo, op).toBeGreaterThan(-bound * 1.02);
      expect(hi, op).toBeLessThan(bound * 1.02);
      expect(hi, op).toBeGreaterThan(bound * 0.98);
    }
  });

  it('keeps the observed range when another reader needs the large values', async () => {
    const { model: q } = await quantize(sigmoidModel(true, 'Sigmoid'), { calibration: wide });
    expect(qRange(q, 'z')[1]).toBeGreaterThan(90);
  });
});
