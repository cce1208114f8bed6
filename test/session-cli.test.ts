// CLI commands `inspect` and `run`, called through their exported main().
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main as inspect } from '../src/cli/commands/inspect.js';
import { main as run } from '../src/cli/commands/run.js';
import { OnnxPtqError } from '../src/errors.js';
import { InferenceSession, loadTensorProto, parseNpy, saveModel, Tensor, writeNpy } from '../src/onnx-api.js';
import { Graph, makeNode } from '../src/tools.js';
import { fixture } from './fixtures.js';

function capture(): { out: () => string } {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  return { out: () => lines.join('\n') };
}
afterEach(() => vi.restoreAllMocks());

const mnist = fixture('models', 'mnist-8', 'model.onnx');

describe('onnx-ptq inspect', () => {
  it.skipIf(!mnist)('reports opsets, io, op counts and parameters as JSON', async () => {
    const c = capture();
    expect(await inspect([mnist!, '--json'])).toBe(0);
    const r = JSON.parse(c.out());
    expect(r.opsets).toEqual([{ domain: 'ai.onnx', version: 8 }]);
    expect(r.inputs).toEqual([{ name: 'Input3', dtype: 'float32', shape: [1, 1, 28, 28] }]);
    expect(r.opCounts).toEqual({ Add: 3, Conv: 2, MaxPool: 2, Relu: 2, Reshape: 2, MatMul: 1 });
    expect(r.parameters).toBe(200 + 8 + 3200 + 16 + 2 + 2560 + 2 + 10);
    expect(r.unsupported).toEqual([]);
  });

  it('lists unsupported ops by node name and exits 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-cli-'));
    const path = join(dir, 'm.onnx');
    const graph = new Graph({
      name: 'g',
      inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [makeNode('Einsum', ['x'], ['y'], {}, 'my_einsum')],
    });
    saveModel(
      {
        irVersion: 8,
        opsetImports: [{ domain: '', version: 13 }],
        producerName: '',
        producerVersion: '',
        domain: '',
        modelVersion: 0,
        docString: '',
        metadata: new Map(),
        graph,
      },
      path,
    );
    const c = capture();
    expect(await inspect([path])).toBe(3);
    expect(c.out()).toMatch(/unsupported ops\n {2}Einsum \(node 'my_einsum'\)/);
  });

  it('prints help with an example', async () => {
    const c = capture();
    expect(await inspect(['--help'])).toBe(0);
    expect(c.out()).toMatch(/example:\n {2}onnx-ptq inspect/);
  });
});

describe('onnx-ptq run', () => {
  it.skipIf(!mnist)('runs on .pb and .npy inputs, writes .npy outputs and prints stats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-cli-'));
    const pb = fixture('models', 'mnist-8', 'test_data_set_0', 'input_0.pb')!;
    const x = loadTensorProto(pb).tensor;
    const want = (await (await InferenceSession.create(mnist!)).run({ Input3: x })).Plus214_Output_0!;
    const c = capture();
    expect(await run([mnist!, '--input', `Input3=${pb}`, '--output-dir', join(dir, 'a'), '--json'])).toBe(0);
    const r = JSON.parse(c.out());
    expect(r.outputs[0].name).toBe('Plus214_Output_0');
    expect(r.outputs[0].shape).toEqual([1, 10]);
    expect(r.outputs[0].max).toBeCloseTo(Math.max(...(want.data as Float32Array)), 3);
    const written = parseNpy(readFileSync(join(dir, 'a', 'Plus214_Output_0.npy')));
    expect(written.data).toEqual(want.data);
    // the same input as .npy, name omitted (single-input model)
    writeNpy(join(dir, 'x.npy'), x);
    expect(await run([mnist!, '--input', join(dir, 'x.npy'), '--output-dir', join(dir, 'b')])).toBe(0);
    expect(parseNpy(readFileSync(join(dir, 'b', 'Plus214_Output_0.npy'))).data).toEqual(want.data);
  });

  it.skipIf(!mnist)('refuses unknown file types, bad backends and wrong input names', async () => {
    capture();
    const code = async (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof OnnxPtqError ? e.code : String(e)),
      );
    expect(await code(run([mnist!, '--input', 'Input3=x.txt']))).toBe('INVALID_OPTION');
    expect(await code(run([mnist!, '--backend', 'gpu']))).toBe('INVALID_OPTION');
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-cli-'));
    writeNpy(join(dir, 'x.npy'), Tensor.float32(new Float32Array(784), [1, 1, 28, 28]));
    expect(await code(run([mnist!, '--input', `Wrong=${join(dir, 'x.npy')}`]))).toBe('INVALID_INPUT');
    writeNpy(join(dir, 'y.npy'), Tensor.float32(new Float32Array(28 * 28 * 2), [2, 1, 28, 28]));
    expect(await code(run([mnist!, '--input', `Input3=${join(dir, 'y.npy')}`]))).toBe('INVALID_INPUT');
  });
});
