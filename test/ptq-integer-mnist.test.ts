// The product's core promise on mnist-8: quantized per-channel int8 from 100 calibration images, it
// keeps the float accuracy (98.91%) within 0.2 points on all 10,000 test images in our integer-only
// executor, with identical outputs on every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { readIdx } from '../src/io/idx.js';
import { Tensor } from '../src/tensor.js';
import type { Model } from '../src/ir/graph.js';
import { fixture } from './fixtures.js';
import { loadedBackends } from './backends.js';

const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
const labelsPath = fixture('data', 'mnist', 't10k-labels-idx1-ubyte.gz');

describe.skipIf(!(mnistPath && imagesPath && labelsPath))('mnist-8 in the integer executor', () => {
  let images: Uint8Array, labels: Uint8Array, model: Model;
  const sample = (i: number) => new Tensor('float32', Float32Array.from(images.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]);
  beforeAll(async () => {
    images = readIdx(imagesPath!).data as Uint8Array;
    labels = readIdx(labelsPath!).data as Uint8Array;
    model = (
      await quantize(mnistPath!, {
        calibration: (function* () {
          for (let i = 0; i < 100; i++) yield { Input3: sample(i) };
        })(),
      })
    ).model;
  });

  async function outputs(backend: string, n: number, requantMode?: 'fixed-point' | 'float' | 'shift'): Promise<Float32Array[]> {
    const s = await IntegerSession.create(model, { backend: backend as 'native', ...(requantMode ? { requantMode } : {}) });
    const out: Float32Array[] = [];
    for (let i = 0; i < n; i++) out.push(s.runSync({ Input3: sample(i) })[s.outputNames[0]].data as Float32Array);
    return out;
  }
  const argmax = (d: Float32Array) => d.reduce((b, v, j) => (v > d[b] ? j : b), 0);

  it('keeps 98.91% within 0.2 points on all 10,000 images, identical on native and wasm', async () => {
    const fast = loadedBackends.filter((b) => b.name !== 'js').map((b) => b.name);
    expect(fast.length).toBeGreaterThan(0);
    const ref = await outputs(fast[0], 10000);
    const acc = ref.filter((d, i) => argmax(d) === labels[i]).length / 10000;
    console.log(`mnist-8 per-channel int8, integer executor (${fast[0]}): ${(100 * acc).toFixed(2)}%`);
    expect(acc).toBeGreaterThanOrEqual(0.9871);
    for (const b of fast.slice(1)) {
      const other = await outputs(b, 10000);
      for (let i = 0; i < 10000; i++)
        if (Array.from(other[i]).join() !== Array.from(ref[i]).join()) throw new Error(`${b} differs from ${fast[0]} on image ${i}`);
    }
  });

  it('the pure-JS backend gives the same bits (first 300 images) in every requant mode', async () => {
    for (const mode of ['fixed-point', 'float', 'shift'] as const) {
      const outs = await Promise.all(loadedBackends.map((b) => outputs(b.name, 300, mode)));
      for (let k = 1; k < outs.length; k++) {
        for (let i = 0; i < 300; i++)
          expect(Array.from(outs[k][i]), `${mode} ${loadedBackends[k].name} image ${i}`).toEqual(Array.from(outs[0][i]));
      }
    }
  });
});
