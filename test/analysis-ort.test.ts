// validate --against onnxruntime: mnist-8 quantized by quantize() is bit-exact against onnxruntime-node
// in float requantization mode, per output and per layer; a missing onnxruntime is an OnnxPtqError.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { crossCheckOnnxRuntime, quantRunner } from '../src/ptq/validate.js';
import { OnnxPtqError } from '../src/errors.js';
import type { Model } from '../src/ir/graph.js';
import { readIdx } from '../src/io/idx.js';
import { quantize } from '../src/ptq/quantize.js';
import { Tensor } from '../src/tensor.js';
import { loadedBackends } from './backends.js';
import { fixture } from './fixtures.js';

const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');

describe.skipIf(!(mnistPath && imagesPath))('cross-check against onnxruntime-node', () => {
  let q: Model;
  let samples: { Input3: Tensor }[];
  beforeAll(async () => {
    const px = readIdx(imagesPath!).data as Uint8Array;
    samples = Array.from({ length: 600 }, (_, i) => ({
      Input3: new Tensor('float32', Float32Array.from(px.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]),
    }));
    q = (await quantize(mnistPath!, { calibration: samples.slice(0, 100) })).model;
  });

  it('mnist-8 is bit-exact per output and per layer in float mode, on every backend', async () => {
    for (const b of loadedBackends.filter((x) => x.name !== 'js')) {
      const r = await crossCheckOnnxRuntime(q, samples.slice(100), { backend: b.name as 'native' });
      expect(r.requantMode).toBe('float');
      expect(r.layers.map((l) => l.name).sort()).toEqual(['Convolution110', 'Convolution28', 'Times212']);
      expect(r.outputs[0].maxLsb).toBe(0);
      expect(r.bitExact, JSON.stringify(r)).toBe(true);
    }
  });

  it('names the differences in fixed-point mode (a different rounding rule from onnxruntime)', async () => {
    const r = await crossCheckOnnxRuntime(q, samples.slice(100, 200), { requantMode: 'fixed-point' });
    // The same model is bit-exact in float mode (above): here the rounding rule is the difference.
    expect(r.bitExact).toBe(false);
    const bad = r.layers.filter((l) => !l.bitExact);
    expect(bad[0].cause).toMatch(/requantization rule: onnx-ptq ran in 'fixed-point' mode/);
    expect(bad[0].maxLsb).toBeGreaterThan(0);
  });

  it('a missing onnxruntime-node is an OnnxPtqError saying what to install', async () => {
    vi.resetModules();
    vi.doMock('onnxruntime-node', () => {
      throw new Error("Cannot find package 'onnxruntime-node'");
    });
    const mod = await import('../src/ptq/validate.js');
    const err = await mod.crossCheckOnnxRuntime(q, samples.slice(0, 1)).catch((e) => e);
    vi.doUnmock('onnxruntime-node');
    expect(err.name).toBe('OnnxPtqError');
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(err.message).toMatch(/npm install onnxruntime-node/);
  });

  it('refuses a model that is not QDQ', async () => {
    const err = await crossCheckOnnxRuntime(mnistPath!, samples.slice(0, 1)).catch((e) => e);
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect(err.message).toMatch(/no quantized layers/);
  });

  it("a model onnxruntime refuses is an OnnxPtqError naming it, not onnxruntime's own exception", async () => {
    const err = await quantRunner(imagesPath!, { executor: 'onnxruntime' }).catch((e) => e);
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect(err.code).toBe('INVALID_MODEL');
    expect(err.message).toContain(`onnxruntime-node failed on model '${imagesPath}'`);
  });
});
