// The Gelu op (opset 20, approximate 'none' and 'tanh') against onnxruntime-node, the exact tails,
// the refusal of other approximations, and a quantized Gelu running as one integer table.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Attribute, type Model, type Node } from '../src/ir/graph.js';
import { modelToBytes } from '../src/onnx-api.js';
import { InferenceSession } from '../src/runtime/session.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { Tensor } from '../src/tensor.js';
import { OnnxPtqError } from '../src/errors.js';
import { model } from './passes-helpers.js';
import { qdq } from './integer-models.js';

const approx = (a: string): Record<string, Attribute> => ({ approximate: { type: 'string', value: a } });

function geluModel(n: number, attrs: Record<string, Attribute>): Model {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [n] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.nodes.push(makeNode('Gelu', ['x'], ['y'], attrs, 'gelu'));
  return model(g, 20);
}

async function ours(m: Model, x: Float32Array): Promise<Float32Array> {
  const s = await InferenceSession.create(m, { allowNonFinite: true });
  return s.runSync({ x: new Tensor('float32', x, [x.length]) }).y!.data as Float32Array;
}

async function ortGelu(m: Model, x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(modelToBytes(m), { intraOpNumThreads: 1 });
  return (await s.run({ x: new ort.Tensor('float32', x, [x.length]) })).y!.data as Float32Array;
}

/** Distance in float32 steps (+0 and -0 are one point). */
function ulps(a: number, b: number): number {
  const i = new Int32Array(Float32Array.of(a, b).buffer);
  const ord = (v: number) => (v < 0 ? -(v & 0x7fffffff) : v);
  return Math.abs(ord(i[0]!) - ord(i[1]!));
}

// [-10, 10] in steps of 1/512 (exact in float32), zeros of both signs, tiny, large and non-finite values.
const X = Float32Array.from([
  ...Array.from({ length: 10241 }, (_, i) => -10 + i / 512),
  0,
  -0,
  1e-30,
  -1e-30,
  1e-5,
  -1e-5,
  20,
  -20,
  100,
  -100,
  1e5,
  -1e5,
  1e20,
  -1e20,
  3e38,
  -3e38,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
]);

describe('Gelu against onnxruntime-node (opset 20)', () => {
  // onnxruntime computes 0.5 x (1 + erf(x / sqrt 2)) and 0.5 x (1 + tanh(u)) in float32 (MLAS erf and
  // tanh, a few ulps each). For x < 0 the sum 1 + erf or 1 + tanh cancels, so its result there carries
  // an absolute error of a few ulps of 1 times 0.5 |x|: up to 8e-8 for erf (ours is the true value,
  // its result is 0 from x = -5.5 on), up to 2.2 |x| 2^-24 for tanh (6e-7 at x = -4.94, where its
  // result even has the wrong sign), bounded here by |x| 2^-22. Elsewhere the two agree within 2 ulps.
  for (const [name, attrs, tailAbs] of [
    ['none', {}, () => 0],
    ['none (explicit)', approx('none'), () => 0],
    ['tanh', approx('tanh'), (x: number) => Math.abs(x) * 2 ** -22],
  ] as const) {
    it(`approximate = ${name}: within 2 ulps, or 1e-7 absolute near 0${name === 'tanh' ? ' (|x| 2^-22 where 1 + tanh cancels)' : ''}`, async () => {
      const m = geluModel(X.length, attrs);
      const [got, want] = [await ours(m, X), await ortGelu(m, X)];
      const bad: string[] = [];
      for (let i = 0; i < X.length; i++) {
        const a = got[i]!,
          b = want[i]!;
        if (Number.isNaN(a) || Number.isNaN(b)) {
          if (!Number.isNaN(a) || !Number.isNaN(b)) bad.push(`x=${X[i]}: ${a} vs ${b}`);
          continue;
        }
        const u = ulps(a, b);
        if (u <= 2) continue;
        if (Math.abs(a - b) <= Math.max(1e-7, tailAbs(X[i]!))) continue;
        bad.push(`x=${X[i]}: ${a} vs ${b} (${u} ulps)`);
      }
      expect(bad).toEqual([]);
      // NaN in, NaN out; +Infinity stays; -Infinity gives NaN (-inf times 0), as onnxruntime.
      const at = (v: number) => got[X.findIndex((u) => Object.is(u, Math.fround(v)))]!;
      expect(at(Number.NaN)).toBeNaN();
      expect(at(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
      expect(at(Number.NEGATIVE_INFINITY)).toBeNaN();
      expect(at(3e38)).toBe(Math.fround(3e38));
      expect(Math.abs(at(-3e38))).toBe(0);
      expect(Object.is(at(-0), -0)).toBe(true);
    });
  }

  it("keeps the exact tails where 1 + erf and 1 + tanh cancel (x Phi(x) from the normal's tail values)", async () => {
    // Phi(x), the standard normal CDF, at x = -3, -5, -6, -8, -10: Gelu(x) = x Phi(x).
    const phi: [number, number][] = [
      [-3, 1.3498980316300946e-3],
      [-5, 2.866515718791939e-7],
      [-6, 9.865876450376981e-10],
      [-8, 6.220960574271785e-16],
      [-10, 7.619853024160527e-24],
    ];
    const got = await ours(geluModel(phi.length, {}), Float32Array.from(phi.map(([x]) => x)));
    phi.forEach(([x, p], i) => expect(ulps(got[i]!, x * p), `x = ${x}`).toBeLessThanOrEqual(1));
    // tanh: float64 0.5 x (1 + tanh u) is still well conditioned down to x = -5 (1 + tanh u > 1e-7).
    const xs = Float32Array.from({ length: 401 }, (_, i) => -5 + i / 100);
    const t = await ours(geluModel(xs.length, approx('tanh')), xs);
    xs.forEach((x, i) => {
      const ref = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      expect(ulps(t[i]!, ref), `x = ${x}`).toBeLessThanOrEqual(1);
    });
  });

  it('refuses another approximation at session creation, naming the node', async () => {
    const err = await InferenceSession.create(geluModel(4, approx('erf'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect((err as OnnxPtqError).code).toBe('INVALID_MODEL');
    expect((err as OnnxPtqError).message).toMatch(/Gelu node 'gelu'.*approximate.*'erf'/);
  });
});

describe('quantized Gelu in the integer executor', () => {
  for (const a of ['none', 'tanh']) {
    it(`runs as one table (approximate = ${a}) and agrees with the fake-quantized float model to one step`, async () => {
      const nodes: Node[] = [],
        inits: [string, Tensor][] = [];
      const xq = qdq(nodes, inits, 'x', 6 / 255, 128);
      nodes.push(makeNode('Gelu', [xq], ['g'], a === 'tanh' ? approx('tanh') : {}, 'gelu'));
      const yq = qdq(nodes, inits, 'g', 3.2 / 255, 12);
      nodes.push(makeNode('Identity', [yq], ['y'], {}, 'out'));
      const g = new Graph({
        nodes,
        initializers: new Map(inits),
        inputs: [{ name: 'x', dtype: 'float32', shape: [256] }],
        outputs: [{ name: 'y', dtype: 'float32' }],
      });
      const m = model(g, 20);
      const x = new Tensor(
        'float32',
        Float32Array.from({ length: 256 }, (_, i) => -3 + (6 * i) / 255),
        [256],
      );
      const float = (await InferenceSession.create(m)).runSync({ x }).y!.data as Float32Array;
      const s = await IntegerSession.create(m, { backend: 'js', runInWorker: false });
      expect(s.loweringReport().find((e) => e.opType === 'Gelu')).toMatchObject({ execution: 'integer', kernel: 'lut' });
      const y = s.runSync({ x }).y!.data as Float32Array;
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - float[i]!)).toBeLessThanOrEqual(3.2 / 255 + 1e-6);
    });
  }
});
