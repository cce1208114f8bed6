// The float steps of an IntegerSession (float fallbacks, the float layers of a dynamic-mode file) run
// as the float session runs them: on the session backend's float kernels, with their arrays recycled
// between runs. Before, they ran on the pure-JS kernels with fresh arrays on every backend, which
// made mnist-8's and PaddleOCR cls's dynamic files 15-40x slower than the float session.
import { describe, expect, it } from 'vitest';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { loadTensorProto } from '../src/onnx/io.js';
import { quantize } from '../src/ptq/quantize.js';
import type { Tensor } from '../src/tensor.js';
import { loadedBackends } from './backends.js';
import { bertEncoder, bertFeeds } from './bert-model.js';
import { fixture } from './fixtures.js';

const mnist = fixture('models', 'mnist-8', 'model.onnx');

const cases = [
  {
    name: 'BERT-style encoder (LayerNorm, Softmax, GELU, attention MatMuls in float)',
    model: () => bertEncoder('opset13'),
    feeds: () => bertFeeds(3),
  },
  ...(mnist
    ? [
        {
          name: 'mnist-8 (convolutions and pools in float)',
          model: () => mnist,
          feeds: () => ({ Input3: loadTensorProto(fixture('models', 'mnist-8', 'test_data_set_0', 'input_0.pb')!).tensor }),
        },
      ]
    : []),
];

const bits = (t: Tensor) => new Uint32Array((t.data as Float32Array).slice().buffer);

describe('IntegerSession float steps', () => {
  for (const c of cases)
    for (const backend of loadedBackends)
      it(`${c.name}, ${backend.name}: the float session's bits on that backend, run after run`, async () => {
        const { model: q } = await quantize(c.model(), { mode: 'dynamic' });
        // optimize: false runs the same ops node by node (no folds or fusions), as the integer session does.
        const f = await InferenceSession.create(q, { backend: backend.name, optimize: false });
        const want = Object.values(await f.run(c.feeds()))[0]!;
        const s = await IntegerSession.create(q, { backend: backend.name, runInWorker: false });
        expect(s.loweringReport().some((e) => e.execution === 'float')).toBe(true);
        const first = Object.values(s.runSync(c.feeds()))[0]!;
        const kept = bits(first);
        // Later runs take their float intermediates from the recycled arrays (and, on native, replay).
        for (let r = 0; r < 3; r++) expect(bits(Object.values(s.runSync(c.feeds()))[0]!)).toEqual(bits(want));
        expect(bits(first)).toEqual(bits(want));
        // An output handed to the caller is never recycled into a later run.
        expect(bits(first)).toEqual(kept);
        s.release();
      });
});
