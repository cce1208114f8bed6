// A16W8 (issue 16): 16-bit activations with 8-bit weights on mnist-8, whole model (activationBits 16)
// and per tensor (activation16). The quantized file is standard QDQ at opset 21 that onnxruntime runs;
// the integer executor lowers it with no float node, gives the same bits on every backend, and keeps
// more of the float output than A8W8.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { readIdx } from '../src/io/idx.js';
import { Tensor } from '../src/tensor.js';
import { modelToBytes } from '../src/onnx/io.js';
import type { Model } from '../src/ir/graph.js';
import { OnnxPtqError } from '../src/errors.js';
import { Graph, makeNode } from '../src/ir/graph.js';
import { fixture } from './fixtures.js';
import { model } from './passes-helpers.js';
import { loadedBackends } from './backends.js';

const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');

function sqnr(ref: Float32Array[], got: Float32Array[]): number {
  let s = 0,
    e = 0;
  for (let i = 0; i < ref.length; i++)
    for (let j = 0; j < ref[i]!.length; j++) {
      s += ref[i]![j]! ** 2;
      e += (ref[i]![j]! - got[i]![j]!) ** 2;
    }
  return 10 * Math.log10(s / e);
}

describe.skipIf(!(mnistPath && imagesPath))('A16W8 on mnist-8', () => {
  let images: Uint8Array;
  const sample = (i: number) => new Tensor('float32', Float32Array.from(images.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]);
  const calib = () =>
    (function* () {
      for (let i = 0; i < 50; i++) yield { Input3: sample(i) };
    })();
  let a16: Model, a8: Model, mixed: Model, logits16: Model;
  const EVAL = 200;
  beforeAll(async () => {
    images = readIdx(imagesPath!).data as Uint8Array;
    a16 = (await quantize(mnistPath!, { calibration: calib(), activationBits: 16 })).model;
    a8 = (await quantize(mnistPath!, { calibration: calib() })).model;
    // The first ReLU's output (and the pool that shares its parameters) in 16 bits, the rest in 8:
    // the first conv writes 16 bits from 8, the second reads 16 and writes 8.
    mixed = (await quantize(mnistPath!, { calibration: calib(), activation16: ['ReLU32_Output_0'] })).model;
    // Only the logits in 16 bits: on mnist-8 the output's own rounding dominates A8W8's error.
    logits16 = (await quantize(mnistPath!, { calibration: calib(), activation16: ['Plus214_Output_0'] })).model;
  });

  async function outputs(m: Model, backend: string, n = EVAL): Promise<Float32Array[]> {
    const s = await IntegerSession.create(m, { backend: backend as 'native', runInWorker: false, strictInteger: true });
    const out: Float32Array[] = [];
    for (let i = 0; i < n; i++) out.push(s.runSync({ Input3: sample(EVAL + i) })[s.outputNames[0]!]!.data as Float32Array);
    s.release();
    return out;
  }

  it('writes int16 QDQ at opset 21, which onnxruntime loads and runs', async () => {
    expect(a16.opsetImports.find((o) => o.domain === '')?.version).toBe(21);
    const q16 = a16.graph.nodes.filter((n) => n.opType === 'QuantizeLinear').map((n) => a16.graph.initializers.get(n.inputs[2]!)!.dtype);
    expect(q16.length).toBeGreaterThan(0);
    expect(new Set(q16)).toEqual(new Set(['int16']));
    const s = await ort.InferenceSession.create(modelToBytes(ortExactModel(a16)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
    const ours = await outputs(a16, loadedBackends[0]!.name, 20);
    for (let i = 0; i < 20; i++) {
      const r = await s.run({ Input3: new ort.Tensor('float32', sample(EVAL + i).data as Float32Array, [1, 1, 28, 28]) });
      const want = r[s.outputNames[0]!]!.data as Float32Array;
      // onnxruntime runs these QDQ nodes in float (no 16-bit integer kernels): agreement, not bits.
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let j = 0; j < want.length; j++) expect(Math.abs(ours[i]![j]! - want[j]!)).toBeLessThan(1e-3 * scale);
    }
  });

  it('lowers with no float node and gives the same bits on every backend', async () => {
    const s = await IntegerSession.create(a16, { backend: 'js', runInWorker: false });
    const rep = s.loweringReport();
    expect(rep.filter((e) => e.execution === 'float')).toEqual([]);
    expect(rep.filter((e) => e.kernel === 'qconv16').map((e) => e.opType)).toEqual(['Conv', 'Conv', 'Gemm']);
    s.release();
    const outs = await Promise.all(loadedBackends.map((b) => outputs(a16, b.name, 60)));
    for (let k = 1; k < outs.length; k++)
      for (let i = 0; i < outs[0]!.length; i++)
        expect(Array.from(outs[k]![i]!), `${loadedBackends[k]!.name} image ${i}`).toEqual(Array.from(outs[0]![i]!));
  });

  it('keeps more of the float output than A8W8 (SQNR), and so does one 16-bit tensor', async () => {
    const f = await InferenceSession.create(mnistPath!);
    const ref: Float32Array[] = [];
    for (let i = 0; i < EVAL; i++) ref.push((await f.run({ Input3: sample(EVAL + i) }))[f.outputNames[0]!]!.data as Float32Array);
    const b = loadedBackends[0]!.name;
    const s16 = sqnr(ref, await outputs(a16, b)),
      s8 = sqnr(ref, await outputs(a8, b)),
      sm = sqnr(ref, await outputs(logits16, b));
    console.log(
      `mnist-8 output SQNR vs float (${EVAL} images): A8W8 ${s8.toFixed(2)} dB, A16W8 ${s16.toFixed(2)} dB, 16-bit logits only ${sm.toFixed(2)} dB`,
    );
    expect(s16).toBeGreaterThan(s8 + 6);
    expect(sm).toBeGreaterThan(s8 + 3);
  });

  it('mixed precision: 8-bit to 16-bit and back inside the convolutions, and every backend agrees', async () => {
    const s = await IntegerSession.create(mixed, { backend: 'js', runInWorker: false });
    const rep = s.loweringReport();
    s.release();
    expect(rep.filter((e) => e.execution === 'float')).toEqual([]);
    const wide = rep.filter((e) => e.kernel === 'qconv16').map((e) => `${e.node}: ${e.reason}`);
    expect(wide).toEqual(['Convolution28: 8-bit in, 16-bit out; fused Relu', 'Convolution110: 16-bit in, 8-bit out; fused Relu']);
    expect(rep.find((e) => e.node === 'Pooling66')?.kernel).toBe('maxPool (16-bit, reference)');
    const outs = await Promise.all(loadedBackends.map((b) => outputs(mixed, b.name, 30)));
    for (let k = 1; k < outs.length; k++)
      for (let i = 0; i < outs[0]!.length; i++) expect(Array.from(outs[k]![i]!)).toEqual(Array.from(outs[0]![i]!));
  });

  it('refuses an activation16 name that is no quantized tensor, and the 8-bit parameter passes', async () => {
    await expect(quantize(mnistPath!, { calibration: calib(), activation16: ['no_such_tensor'] })).rejects.toThrow(
      /activation16 names 'no_such_tensor'/,
    );
    await expect(quantize(mnistPath!, { calibration: calib(), activationBits: 16, passes: ['sign-map'] })).rejects.toThrow(
      /sign-map.*16-bit/,
    );
    await expect(quantize(mnistPath!, { calibration: calib(), activationBits: 12 })).rejects.toBeInstanceOf(OnnxPtqError);
  });
});

/** Sample i of a [1, 2, 4, 4] input x (cosines: every sample differs). */
function imageFeeds(i: number) {
  return {
    x: new Tensor(
      'float32',
      Float32Array.from({ length: 32 }, (_, j) => Math.cos(i * 32 + j)),
      [1, 2, 4, 4],
    ),
  };
}

describe('A16W8 on an op with no 16-bit integer form', () => {
  // x -> Conv -> c (16-bit) -> ReduceMean -> y: ReduceMean has an 8-bit integer form only.
  function graph() {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    g.initializers.set(
      'w',
      new Tensor(
        'float32',
        Float32Array.from({ length: 12 }, (_, i) => ((i * 5) % 7) / 7 - 0.4),
        [6, 2, 1, 1],
      ),
    );
    g.nodes.push(makeNode('Conv', ['x', 'w'], ['c'], {}, 'conv'));
    g.nodes.push(makeNode('ReduceMean', ['c'], ['y'], { axes: { type: 'ints', value: [2, 3] } }, 'mean'));
    return model(g, 13);
  }
  const feeds = imageFeeds;

  it('runs that op in float with the reason, close to the float model; strictInteger makes it an error naming the node', async () => {
    const { model: q } = await quantize(graph(), { calibration: [0, 1, 2, 3].map(feeds), activation16: ['c'] });
    for (const [name, t] of q.graph.initializers) {
      const d = t.data as ArrayLike<number>;
      if (t.dtype === 'float32') for (let i = 0; i < t.size; i++) expect(Number.isFinite(d[i]!), name).toBe(true);
    }
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
    const mean = s.loweringReport().find((e) => e.node === 'mean')!;
    expect(mean.execution).toBe('float');
    expect(mean.reason).toMatch(/int16.*no 16-bit integer form for ReduceMean/);
    expect(s.loweringReport().find((e) => e.node === 'conv')!.kernel).toBe('qconv16');
    const want = (await (await InferenceSession.create(graph())).run(feeds(9))).y!.data as Float32Array;
    const got = s.runSync(feeds(9)).y!.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(0.02);
    await expect(IntegerSession.create(q, { backend: 'js', runInWorker: false, strictInteger: true })).rejects.toThrow(/mean/);
  });
});

describe('A16W8 Gemm alpha', () => {
  function gemm(alpha: number) {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [3, 6] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    g.initializers.set(
      'w',
      new Tensor(
        'float32',
        Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 0.5),
        [6, 4],
      ),
    );
    // No C: a quantized C is in the scale Sx * Sw, which alpha would change (that case stays float).
    g.nodes.push(makeNode('Gemm', ['x', 'w'], ['y'], { alpha: { type: 'float', value: alpha } }, 'gemm'));
    return model(g, 13);
  }
  const feeds = (i: number) => ({
    x: new Tensor(
      'float32',
      Float32Array.from({ length: 18 }, (_, j) => Math.cos(i * 18 + j)),
      [3, 6],
    ),
  });

  it('folds a positive alpha into the multiplier; a negative one runs in float with the reason, no error', async () => {
    for (const alpha of [2, -1]) {
      // biasCorrection off: its corrected C would be a quantized C.
      const { model: q } = await quantize(gemm(alpha), { calibration: [0, 1, 2].map(feeds), activationBits: 16, biasCorrection: false });
      const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
      const e = s.loweringReport().find((r) => r.node === 'gemm')!;
      if (alpha > 0) expect([e.execution, e.kernel]).toEqual(['integer', 'qconv16']);
      else expect([e.execution, e.reason]).toEqual(['float', 'Gemm with alpha -1']);
      const want = (await (await InferenceSession.create(gemm(alpha))).run(feeds(7))).y!.data as Float32Array;
      const got = s.runSync(feeds(7)).y!.data as Float32Array;
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(0.01);
      s.release();
    }
  });
});

describe('A16W8 through a pool', () => {
  // x -> Conv -> c (16-bit) -> GlobalAveragePool -> p -> Conv -> y. The pool keeps its input's
  // width, so p must be 16-bit too; otherwise the pool runs in float ("input and output types differ").
  function graph() {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    const w = (name: string, n: number, shape: number[]) =>
      g.initializers.set(
        name,
        new Tensor(
          'float32',
          Float32Array.from({ length: n }, (_, i) => ((i * 5) % 7) / 7 - 0.4),
          shape,
        ),
      );
    w('w1', 12, [6, 2, 1, 1]);
    w('w2', 18, [3, 6, 1, 1]);
    g.nodes.push(makeNode('Conv', ['x', 'w1'], ['c'], {}, 'conv1'));
    g.nodes.push(makeNode('GlobalAveragePool', ['c'], ['p'], {}, 'pool'));
    g.nodes.push(makeNode('Conv', ['p', 'w2'], ['y'], {}, 'conv2'));
    return model(g, 13);
  }
  const feeds = imageFeeds;

  it("widens the pool's output with its input, and every node lowers to integer", async () => {
    const { model: q } = await quantize(graph(), { calibration: [0, 1, 2, 3].map(feeds), activation16: ['c'] });
    const qOf = (t: string) => q.graph.nodes.find((n) => n.opType === 'QuantizeLinear' && n.outputs[0] === `${t}_quantized`)!;
    for (const t of ['c', 'p']) expect(q.graph.initializers.get(qOf(t).inputs[2]!)!.dtype, t).toBe('int16');
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
    expect(s.loweringReport().filter((e) => e.execution === 'float')).toEqual([]);
  });
});
