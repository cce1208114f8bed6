// mnist-8 quantized by quantize() (per-channel int8, 100 calibration images) through the integer
// executor: fully integer lowering, accuracy on the 10,000 test images, identical predictions on
// every backend (js, the slow reference, on the first 1,000).
import { beforeAll, describe, expect, it } from 'vitest';
import { readIdx } from '../src/io/idx.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { Tensor, type Model } from '../src/onnx-api.js';
import { loadedBackends } from './backends.js';
import { fixture } from './fixtures.js';

const mnist = fixture('models', 'mnist-8', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
const labelsPath = fixture('data', 'mnist', 't10k-labels-idx1-ubyte.gz');

describe.skipIf(!(mnist && imagesPath && labelsPath))('mnist-8 through the integer executor', () => {
  let images: Uint8Array, labels: Uint8Array, model: Model;
  const sample = (i: number) => new Tensor('float32', Float32Array.from(images.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]);
  beforeAll(async () => {
    images = readIdx(imagesPath!).data as Uint8Array;
    labels = readIdx(labelsPath!).data as Uint8Array;
    model = (
      await quantize(mnist!, {
        calibration: (function* () {
          for (let i = 0; i < 100; i++) yield { Input3: sample(i) };
        })(),
      })
    ).model;
  }, 120_000);

  function predict(s: IntegerSession, n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const d = s.runSync({ Input3: sample(i) })[s.outputNames[0]!]!.data as Float32Array;
      let b = 0;
      for (let j = 1; j < d.length; j++) if (d[j]! > d[b]!) b = j;
      p[i] = b;
    }
    return p;
  }

  it('lowers every Conv, MaxPool, Reshape and Gemm to integer kernels', async () => {
    const s = await IntegerSession.create(model, { backend: 'js' });
    const rep = s.loweringReport();
    expect(rep.filter((e) => e.execution === 'float')).toEqual([]);
    expect(rep.filter((e) => e.execution === 'integer').map((e) => e.opType)).toEqual([
      'Conv',
      'MaxPool',
      'Conv',
      'MaxPool',
      'Reshape',
      'Gemm',
    ]);
  });

  it('scores within 0.2 points of 98.91% on 10,000 images (fixed-point), same predictions on every backend', async () => {
    let ref: Int32Array | undefined;
    for (const b of loadedBackends) {
      const n = b.name === 'js' ? 1000 : 10000;
      const p = predict(await IntegerSession.create(model, { backend: b.name }), n);
      if (n === 10000) {
        let ok = 0;
        for (let i = 0; i < n; i++) if (p[i] === labels[i]) ok++;
        expect(ok / n, b.name).toBeGreaterThanOrEqual(0.9871);
      }
      if (ref) expect(Array.from(p), b.name).toEqual(Array.from(ref.subarray(0, n)));
      else ref = p;
    }
  }, 300_000);
});
