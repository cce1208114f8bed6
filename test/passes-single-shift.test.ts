// single-shift on mnist-8: every layer multiplier a power of two (ratio folded into the weight
// scales), the metadata selects shift mode, and the integer executor runs it on all 10,000 images.
import { beforeAll, describe, expect, it } from 'vitest';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { readIdx } from '../src/io/idx.js';
import { Tensor } from '../src/tensor.js';
import { fixture } from './fixtures.js';
import { loadedBackends } from './backends.js';

const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
const labelsPath = fixture('data', 'mnist', 't10k-labels-idx1-ubyte.gz');

describe.skipIf(!(mnistPath && imagesPath && labelsPath))('single-shift on mnist-8', () => {
  let images: Uint8Array, labels: Uint8Array;
  const sample = (i: number) => new Tensor('float32', Float32Array.from(images.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]);
  const calib = () => Array.from({ length: 100 }, (_, i) => ({ Input3: sample(i) }));
  beforeAll(() => {
    images = readIdx(imagesPath!).data as Uint8Array;
    labels = readIdx(labelsPath!).data as Uint8Array;
  });
  const argmax = (d: Float32Array) => d.reduce((b, v, j) => (v > d[b] ? j : b), 0);

  async function accuracy(
    passes: string[],
    requantMode?: 'shift',
    backend = loadedBackends.find((b) => b.name !== 'js')?.name ?? 'js',
    n = 10000,
  ): Promise<{ acc: number; outs: Float32Array[]; mode: string }> {
    const { model } = await quantize(mnistPath!, { calibration: calib(), passes });
    const s = await IntegerSession.create(model, { backend: backend as 'native', ...(requantMode ? { requantMode } : {}) });
    const outs: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      outs.push(s.runSync({ Input3: sample(i) })[s.outputNames[0]].data as Float32Array);
      // let the test runner's RPC breathe
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 0));
    }
    return { acc: outs.filter((d, i) => argmax(d) === labels[i]).length / n, outs, mode: model.metadata.get('onnx_ptq.requant_mode')! };
  }

  it('keeps the fixed-point accuracy in shift mode, the same bits on every backend', async () => {
    const plain = await accuracy([], 'shift');
    const shifted = await accuracy(['single-shift']);
    const fixed = await accuracy([]);
    console.log(
      `mnist-8 per-channel int8, integer executor: fixed-point ${(100 * fixed.acc).toFixed(2)}%, shift mode without the fold ${(100 * plain.acc).toFixed(2)}%, single-shift pass (shift mode) ${(100 * shifted.acc).toFixed(2)}%`,
    );
    expect(shifted.mode).toBe('shift');
    expect(shifted.acc).toBeGreaterThan(plain.acc);
    expect(shifted.acc).toBeGreaterThanOrEqual(fixed.acc - 0.002);
    for (const b of loadedBackends) {
      const o = await accuracy(['single-shift'], undefined, b.name, 500);
      for (let i = 0; i < 500; i++) expect(Array.from(o.outs[i]), `${b.name} image ${i}`).toEqual(Array.from(shifted.outs[i]));
    }
  }, 600_000);
});
