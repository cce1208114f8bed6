// Quantized files carry nothing unused: every initializer is read by a node (folded-away float
// weights, `*_bnfold` and `*_bias_corrected` originals are gone), the file is smaller than the
// float model, and onnxruntime loads it without a warning (its log captured from a child process,
// because onnxruntime writes it from native code).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../src/onnx/io.js';
import { quantize } from '../src/ptq/quantize.js';
import { loadTensorProto } from '../src/onnx/io.js';
import { Tensor } from '../src/tensor.js';
import type { Graph } from '../src/ir/graph.js';
import { fixture } from './fixtures.js';
import { rng } from './backends.js';

const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-lean-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** onnxruntime's full log (verbose) while it creates a session on `file`. */
function ortLog(file: string): string {
  const script =
    "import * as ort from 'onnxruntime-node'; await ort.InferenceSession.create(process.argv[1], { logSeverityLevel: 0, logVerbosityLevel: 0 });";
  return (
    execFileSync(process.execPath, ['--input-type=module', '-e', script, file], {
      cwd: process.cwd(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }) + ''
  );
}

function unread(src: string | Graph): string[] {
  const g = typeof src === 'string' ? loadModel(src).graph : src;
  const read = g.readNames();
  return [...g.initializers.keys()].filter((k) => !read.has(k));
}

const r = rng(5);
const mnist = fixture('models', 'mnist-8', 'model.onnx');
const sr = fixture('models', 'super-resolution-10', 'model.onnx');

describe('lean QDQ files', () => {
  const cases = [
    {
      name: 'mnist-8',
      path: mnist,
      maxRatio: 0.6,
      calib: () =>
        [0, 1, 2].map((i) => ({ Input3: loadTensorProto(fixture('models', 'mnist-8', `test_data_set_${i}`, 'input_0.pb')!).tensor })),
    },
    {
      name: 'super-resolution-10',
      path: sr,
      maxRatio: 0.35,
      calib: () =>
        [0, 1].map(() => ({
          input: new Tensor(
            'float32',
            Float32Array.from({ length: 224 * 224 }, () => r()),
            [1, 1, 224, 224],
          ),
        })),
    },
  ];
  for (const c of cases) {
    it.skipIf(!c.path)(
      `${c.name}: every initializer read, file <= ${c.maxRatio}x the float one, onnxruntime loads it without a warning`,
      async () => {
        const { model, report } = await quantize(c.path!, { calibration: c.calib() });
        const out = join(dir, `${c.name}.onnx`);
        saveModel(model, out);
        expect(unread(out)).toEqual([]);
        expect(report.size.quantizedBytes).toBe(statSync(out).size);
        expect(statSync(out).size / statSync(c.path!).size).toBeLessThanOrEqual(c.maxRatio);
        const log = ortLog(out);
        expect(log).not.toMatch(/\[W:onnxruntime/);
        expect(log).not.toMatch(/not used by any node/);
      },
    );
  }

  it.skipIf(!mnist)('the check can fail: an initializer no node reads is found in memory, and saveModel does not write it', () => {
    const m = loadModel(mnist!);
    m.graph.initializers.set('ghost', new Tensor('float32', new Float32Array(4), [4]));
    expect(unread(m.graph)).toEqual(['ghost']);
    const p = join(dir, 'ghost.onnx');
    saveModel(m, p);
    // saveModel writes read initializers only: the ghost is gone from the file.
    expect(unread(p)).toEqual([]);
    expect(readFileSync(p).includes(Buffer.from('ghost'))).toBe(false);
  });
});
