// quantize() end to end on real models: mnist-8 accuracy in onnxruntime, options changing the
// stored parameters, the no-rounding debug mode, super-resolution PSNR, and bad input.
import { describe, expect, it, beforeAll } from 'vitest';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { quantize, type QuantizeResult } from '../src/ptq/quantize.js';
import { resolveQuantizeOptions } from '../src/ptq/options.js';
import { modelToBytes, loadModel, loadTensorProto, saveModel } from '../src/onnx/io.js';
import { readIdx } from '../src/io/idx.js';
import { Tensor } from '../src/tensor.js';
import { InferenceSession } from '../src/runtime/session.js';
import { createQdqRegistry } from '../src/runtime/integer/qdq-registry.js';
import { OnnxPtqError } from '../src/errors.js';
import { fixture } from './fixtures.js';

ort.env.logLevel = 'error';
const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const srPath = fixture('models', 'super-resolution-10', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
const labelsPath = fixture('data', 'mnist', 't10k-labels-idx1-ubyte.gz');
const haveMnist = !!(mnistPath && imagesPath && labelsPath);

let images: Uint8Array, labels: Uint8Array;
function sample(i: number): Tensor {
  return new Tensor('float32', Float32Array.from(images.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]);
}
function* calib(n: number, from = 0) {
  for (let i = from; i < from + n; i++) yield { Input3: sample(i) };
}

async function ortAccuracy(bytes: Uint8Array, n = 10000): Promise<{ acc: number; preds: Int32Array }> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const preds = new Int32Array(n);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const out = await s.run({
      Input3: new ort.Tensor('float32', Float32Array.from(images.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]),
    });
    const d = out[s.outputNames[0]].data as Float32Array;
    let b = 0;
    for (let j = 1; j < d.length; j++) if (d[j] > d[b]) b = j;
    preds[i] = b;
    if (b === labels[i]) ok++;
  }
  return { acc: ok / n, preds };
}

describe.skipIf(!haveMnist)('quantize mnist-8', () => {
  let perChannel: QuantizeResult;
  beforeAll(async () => {
    images = readIdx(imagesPath!).data as Uint8Array;
    labels = readIdx(labelsPath!).data as Uint8Array;
    perChannel = await quantize(mnistPath!, { calibration: calib(100) });
  });

  it('per-channel int8 from 100 calibration images keeps 98.91% within 0.2 points in onnxruntime (all 10,000 images)', async () => {
    const { acc } = await ortAccuracy(modelToBytes(perChannel.model));
    expect(acc).toBeGreaterThanOrEqual(0.9871);
    expect(perChannel.report.calibration.samples).toBe(100);
    expect(perChannel.report.layers.map((l) => l.op)).toEqual(['Conv', 'Conv', 'Gemm']);
    expect(perChannel.report.layers.every((l) => l.biasQuantized)).toBe(true);
  });

  it('writes standard QDQ: int8 weights with per-channel scales, int32 biases, Q/DQ pairs, metadata', () => {
    const g = perChannel.model.graph;
    const ops = g.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'QuantizeLinear').length).toBe(
      perChannel.report.activations.length + perChannel.report.activations.reduce((a, r) => a + r.aliases.length, 0),
    );
    const int8 = [...g.initializers.values()].filter((t) => t.dtype === 'int8' && t.rank === 4);
    expect(int8.map((t) => t.dims[0])).toEqual([8, 16]);
    const scales = [...g.initializers.entries()].filter(([k, t]) => k.endsWith('_scale') && t.rank === 1 && t.dtype === 'float32');
    expect(scales.some(([, t]) => t.dims[0] === 16)).toBe(true);
    expect([...g.initializers.values()].some((t) => t.dtype === 'int32' && t.dims[0] === 16)).toBe(true);
    expect(perChannel.model.metadata.get('onnx_ptq.requant_mode')).toBe('fixed-point');
    expect(perChannel.model.opsetImports.find((o) => o.domain === '')!.version).toBe(13);
  });

  it('bit width and granularity change the stored parameters as they should', async () => {
    const pt4 = await quantize(mnistPath!, { calibration: calib(20), weightBits: 4, weightGranularity: 'per-tensor' });
    const g = pt4.model.graph;
    const w = [...g.initializers.values()].filter((t) => t.dtype === 'int8' && t.rank === 4);
    for (const t of w) {
      const d = t.data as Int8Array;
      expect(Math.max(...d)).toBeLessThanOrEqual(7);
      expect(Math.min(...d)).toBeGreaterThanOrEqual(-7);
      expect(Math.max(...Array.from(d, Math.abs))).toBe(7); // the range is used
    }
    const scales = [...g.initializers.entries()].filter(
      ([k, t]) => k.includes('_quantized_scale') || (k.endsWith('_scale') && t.dtype === 'float32'),
    );
    expect(scales.every(([, t]) => t.rank === 0)).toBe(true); // per-tensor: scalars only
    const grouped = await quantize(mnistPath!, { calibration: calib(5), weightGranularity: 'per-group', weightGroupSize: 25 });
    expect(grouped.report.layers.every((l) => l.baked)).toBe(true);
    const wo = await quantize(mnistPath!, { weightOnly: true });
    expect(wo.report.activations).toHaveLength(0);
    expect(wo.model.graph.nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(0);
    expect(wo.model.graph.nodes.filter((n) => n.opType === 'DequantizeLinear')).toHaveLength(3);
    const keep = await quantize(mnistPath!, { calibration: calib(5), keepFirstLayerFloat: true, keepLastLayerFloat: true });
    expect(keep.report.layers.map((l) => l.op)).toEqual(['Conv']);
    expect(keep.report.keptFloat.map((k) => k.why)).toEqual(['keepFirstLayerFloat', 'keepLastLayerFloat']);
  });

  it('without rounding, the fake-quantized model reproduces the float model within clipping error', async () => {
    const nr = await quantize(mnistPath!, { calibration: calib(50), noRounding: true });
    expect(nr.model.metadata.get('onnx_ptq.no_rounding')).toBe('true');
    const floatS = await InferenceSession.create(mnistPath!);
    const unrounded = await InferenceSession.create(nr.model, { registry: createQdqRegistry({ rounding: false }) });
    const rounded = await InferenceSession.create(nr.model, { registry: createQdqRegistry({ rounding: true }) });
    let errU = 0,
      errR = 0,
      mag = 0;
    // Samples from the calibration set: minmax saw them, so nothing is clipped and only float
    // rounding separates the unrounded model from the float one.
    for (let i = 0; i < 20; i++) {
      const f = floatS.runSync({ Input3: sample(i) })[floatS.outputNames[0]].data as Float32Array;
      const u = unrounded.runSync({ Input3: sample(i) })[unrounded.outputNames[0]].data as Float32Array;
      const q = rounded.runSync({ Input3: sample(i) })[rounded.outputNames[0]].data as Float32Array;
      for (let j = 0; j < f.length; j++) {
        mag = Math.max(mag, Math.abs(f[j]));
        errU = Math.max(errU, Math.abs(f[j] - u[j]));
        errR = Math.max(errR, Math.abs(f[j] - q[j]));
      }
    }
    expect(errU / mag).toBeLessThan(1e-4);
    expect(errR).toBeGreaterThan(100 * errU); // rounding is where the error comes from
  });

  it('the saved file loads back and onnxruntime agrees with the in-memory model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-q-'));
    const p = join(dir, 'q.onnx');
    saveModel(perChannel.model, p);
    expect(readdirSync(dir)).toEqual(['q.onnx']); // no temporary left behind
    const a = await ort.InferenceSession.create(p);
    const b = await ort.InferenceSession.create(modelToBytes(loadModel(p)));
    const x = { Input3: new ort.Tensor('float32', Float32Array.from(images.subarray(0, 784)), [1, 1, 28, 28]) };
    expect(Array.from((await a.run(x))[a.outputNames[0]].data as Float32Array)).toEqual(
      Array.from((await b.run(x))[b.outputNames[0]].data as Float32Array),
    );
  });
});

describe.skipIf(!srPath)('quantize super-resolution-10', () => {
  it('keeps at least 35 dB PSNR against the float output (onnxruntime running both)', async () => {
    const x = loadTensorProto(fixture('models', 'super-resolution-10', 'test_data_set_0', 'input_0.pb')!).tensor;
    const xd = x.data as Float32Array;
    // Calibration: the test image and its mirror images (the only real data shipped with the model).
    const flips = [0, 1, 2, 3].map((k) => {
      const out = new Float32Array(xd.length);
      const [h, w] = [x.dims[2], x.dims[3]];
      for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[i * w + j] = xd[(k & 1 ? h - 1 - i : i) * w + (k & 2 ? w - 1 - j : j)];
      return { [loadModel(srPath!).graph.inputs[0].name]: new Tensor('float32', out, x.dims) };
    });
    const { model } = await quantize(srPath!, { calibration: flips });
    const name = model.graph.inputs[0].name;
    const fs = await ort.InferenceSession.create(srPath!);
    const qs = await ort.InferenceSession.create(modelToBytes(model));
    const feed = { [name]: new ort.Tensor('float32', xd, [...x.dims]) };
    const f = (await fs.run(feed))[fs.outputNames[0]].data as Float32Array;
    const q = (await qs.run(feed))[qs.outputNames[0]].data as Float32Array;
    let mse = 0,
      peak = 0;
    for (let i = 0; i < f.length; i++) {
      mse += (f[i] - q[i]) ** 2;
      peak = Math.max(peak, Math.abs(f[i]));
    }
    mse /= f.length;
    const psnr = 10 * Math.log10((peak * peak) / mse);
    console.log(`super-resolution-10 int8 PSNR vs float: ${psnr.toFixed(2)} dB`);
    expect(psnr).toBeGreaterThanOrEqual(35);
  });
});

describe('quantize: bad input', () => {
  it('refuses unknown and out-of-range options, naming them', () => {
    const err = (o: Record<string, unknown>) => {
      try {
        resolveQuantizeOptions(o, 'ptq.json');
      } catch (e) {
        expect(e).toBeInstanceOf(OnnxPtqError);
        return (e as OnnxPtqError).message;
      }
      throw new Error('no error');
    };
    expect(err({ weightBitz: 8 })).toMatch(/ptq\.json: option 'weightBitz' is unknown/);
    expect(err({ weightBits: 9 })).toMatch(/weightBits' must be an integer in \[2, 8\]/);
    expect(err({ observer: 'median' })).toMatch(/observer' must be one of/);
    expect(err({ observerOptions: { percentle: 99 } })).toMatch(/observerOptions.percentle/);
    expect(err({ keepFloat: 'conv1' })).toMatch(/keepFloat/);
  });
  it.skipIf(!haveMnist)('needs calibration data, refuses empty data and unknown keepFloat names', async () => {
    await expect(quantize(mnistPath!, {})).rejects.toThrow(/calibration data is required/);
    await expect(quantize(mnistPath!, { calibration: [] })).rejects.toThrow(/calibration data is empty/);
    await expect(quantize(mnistPath!, { calibration: calib(1), keepFloat: ['nope'] })).rejects.toThrow(/keepFloat names node 'nope'/);
    const wrong = [{ Input3: new Tensor('float32', new Float32Array(10), [1, 10]) }];
    await expect(quantize(mnistPath!, { calibration: wrong })).rejects.toBeInstanceOf(OnnxPtqError);
  });
});
