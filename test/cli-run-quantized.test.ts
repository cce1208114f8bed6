// `onnx-ptq run` on quantized models: the ONNX backend node tests of the QOperator and QDQ ops through
// the CLI's own code path (its exported main(), in process, on every backend that loaded), one spawn
// of the built CLI, the executor picked by model, the backend that ran named, and the errors of a
// model the integer executor cannot run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main as run, type RunSummary } from '../src/cli/commands/run.js';
import { compareTensors } from '../src/conformance/runner.js';
import { loadTensorProto, parseNpy, saveModel, Tensor, writeNpy, type Model } from '../src/onnx-api.js';
import { Graph, makeNode } from '../src/tools.js';
import { loadedBackends } from './backends.js';
import { fixture } from './fixtures.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const nodeTests = fixture('onnx-node');
const mnist = fixture('models', 'mnist-8', 'model.onnx');

/**
 * The node tests of QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, QuantizeLinear and
 * DequantizeLinear for the element types onnx-ptq supports (4-, 8- and 16-bit integers; per tensor, per
 * axis and blocked). Not run: int2/uint2 and float8/float4 (the tensor layer has no such types).
 */
const TESTS = [
  'test_qlinearconv',
  'test_qlinearmatmul_2D_int8_float32',
  'test_qlinearmatmul_2D_uint8_float32',
  'test_qlinearmatmul_3D_int8_float32',
  'test_qlinearmatmul_3D_uint8_float32',
  'test_qlinearmatmul_2D_int8_float16',
  'test_qlinearmatmul_2D_uint8_float16',
  'test_qlinearmatmul_3D_int8_float16',
  'test_qlinearmatmul_3D_uint8_float16',
  'test_convinteger_with_padding',
  'test_convinteger_without_padding',
  'test_matmulinteger',
  'test_quantizelinear',
  'test_quantizelinear_axis',
  'test_quantizelinear_int16',
  'test_quantizelinear_uint16',
  'test_quantizelinear_int4',
  'test_quantizelinear_uint4',
  'test_dequantizelinear_int4',
  'test_dequantizelinear_uint4',
  'test_quantizelinear_blocked_asymmetric',
  'test_quantizelinear_blocked_symmetric',
  'test_dequantizelinear',
  'test_dequantizelinear_axis',
  'test_dequantizelinear_int16',
  'test_dequantizelinear_uint16',
  'test_dequantizelinear_blocked',
];

function capture(): { out: () => string } {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  return { out: () => lines.join('\n') };
}
afterEach(() => vi.restoreAllMocks());

async function runJson(argv: string[]): Promise<RunSummary> {
  const c = capture();
  expect(await run([...argv, '--json'])).toBe(0);
  vi.restoreAllMocks();
  return JSON.parse(c.out()) as RunSummary;
}

function model(
  nodes: ReturnType<typeof makeNode>[],
  inputs: Graph['inputs'],
  outputs: Graph['outputs'],
  inits: [string, Tensor][] = [],
  opset = 13,
  extra: { domain: string; version: number }[] = [],
): Model {
  const graph = new Graph({ name: 'g', inputs, outputs, nodes, initializers: new Map(inits) });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: opset }, ...extra],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph,
  };
}

describe.skipIf(!nodeTests)('onnx-ptq run passes the ONNX node tests of the quantization ops', () => {
  const backends = loadedBackends.map((b) => b.name);

  it('loaded backends', () => {
    expect(backends).toContain('js');
    if (process.env.CI === 'true') expect(backends).toEqual(['native', 'wasm', 'js']);
  });

  for (const name of TESTS) {
    it(`${name} on ${backends.join(', ')}`, async () => {
      const dir = join(nodeTests!, name);
      const data = join(dir, 'test_data_set_0');
      const want = loadTensorProto(join(data, 'output_0.pb'));
      for (const b of backends) {
        const out = mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-'));
        // float requantization: the reference outputs are numpy's float arithmetic (as onnxruntime's).
        const r = await runJson([
          join(dir, 'model.onnx'),
          '--input-dir',
          data,
          '--backend',
          b,
          '--requant-mode',
          'float',
          '--output-dir',
          out,
        ]);
        expect(r.executor, `${name} ${b}`).toBe('integer');
        expect(r.backend, `${name}`).toBe(b);
        expect(r.requantMode).toBe('float');
        expect(r.quantization).toBe(/quantizelinear/.test(name) ? 'qdq' : 'qoperator');
        expect(r.outputs.map((o) => o.name)).toEqual([want.name]);
        let got = parseNpy(readFileSync(r.outputs[0]!.file));
        // .npy has no 4-bit type: int4/uint4 outputs are written one per byte as int8/uint8.
        if (want.tensor.dtype === 'int4' || want.tensor.dtype === 'uint4') {
          expect(got.dtype).toBe(want.tensor.dtype === 'int4' ? 'int8' : 'uint8');
          got = new Tensor(want.tensor.dtype, got.data, got.dims);
        }
        expect(compareTensors(got, want.tensor) ?? 'ok', `${name} on ${b}`).toBe('ok');
      }
    });
  }

  it('inputs by --input file.pb (the TensorProto names the input) and name=file give the same result', async () => {
    const dir = join(nodeTests!, 'test_matmulinteger');
    const data = join(dir, 'test_data_set_0');
    const files = ['input_0.pb', 'input_1.pb', 'input_2.pb', 'input_3.pb'].map((f) => join(data, f));
    const out = mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-'));
    const r = await runJson([join(dir, 'model.onnx'), ...files.flatMap((f) => ['--input', f]), '--output-dir', out, '--backend', 'js']);
    const got = parseNpy(readFileSync(r.outputs[0]!.file));
    expect(compareTensors(got, loadTensorProto(join(data, 'output_0.pb')).tensor) ?? 'ok').toBe('ok');
    const r2 = await runJson([
      join(dir, 'model.onnx'),
      '--input',
      `B=${files[1]}`,
      '--input',
      files[0]!,
      '--input',
      files[2]!,
      '--input',
      files[3]!,
      '--output-dir',
      join(out, 'b'),
      '--backend',
      'js',
    ]);
    expect(parseNpy(readFileSync(r2.outputs[0]!.file)).data).toEqual(got.data);
  });

  it('the default requantization is the session default (fixed-point here), within one step of the float reference', async () => {
    const dir = join(nodeTests!, 'test_qlinearconv');
    const r = await runJson([
      join(dir, 'model.onnx'),
      '--input-dir',
      join(dir, 'test_data_set_0'),
      '--output-dir',
      mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-')),
    ]);
    expect(r.requantMode).toBe('fixed-point');
    expect(['native', 'wasm', 'js']).toContain(r.backend);
    const got = parseNpy(readFileSync(r.outputs[0]!.file)).data as Uint8Array;
    const want = loadTensorProto(join(dir, 'test_data_set_0', 'output_0.pb')).tensor.data as Uint8Array;
    expect(Math.max(...Array.from(want, (w, i) => Math.abs(w - got[i]!)))).toBeLessThanOrEqual(1);
  });

  it('--executor float runs a QDQ model on the float engine; QOperator ops have no float form', async () => {
    const dir = join(nodeTests!, 'test_quantizelinear');
    const r = await runJson([
      join(dir, 'model.onnx'),
      '--input-dir',
      join(dir, 'test_data_set_0'),
      '--executor',
      'float',
      '--output-dir',
      mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-')),
    ]);
    expect(r.executor).toBe('float');
    expect(['native', 'wasm', 'js']).toContain(r.backend);
    expect(
      compareTensors(parseNpy(readFileSync(r.outputs[0]!.file)), loadTensorProto(join(dir, 'test_data_set_0', 'output_0.pb')).tensor) ??
        'ok',
    ).toBe('ok');
    capture();
    const q = join(nodeTests!, 'test_qlinearconv');
    await expect(run([join(q, 'model.onnx'), '--input-dir', join(q, 'test_data_set_0'), '--executor', 'float'])).rejects.toMatchObject({
      code: 'UNSUPPORTED_OP',
    });
    await expect(run([join(q, 'model.onnx'), '--executor', 'float', '--requant-mode', 'float'])).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(run([join(q, 'model.onnx'), '--executor', 'gpu'])).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('the built CLI (dist/cli/main.js), spawned: names the backend that ran', () => {
    const cli = join(root, 'dist', 'cli', 'main.js');
    if (!existsSync(cli)) return; // `npm run build` makes it; the in-process runs above cover the code
    const dir = join(nodeTests!, 'test_qlinearconv');
    const out = mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-'));
    const forced = backends.includes('wasm') ? 'wasm' : 'js';
    const text = execFileSync(
      process.execPath,
      [cli, 'run', join(dir, 'model.onnx'), '--input-dir', join(dir, 'test_data_set_0'), '--requant-mode', 'float', '--output-dir', out],
      {
        encoding: 'utf8',
        env: { ...process.env, ONNX_PTQ_BACKEND: forced },
      },
    );
    expect(text).toMatch(
      new RegExp(`^ran .* on the integer executor on the ${forced} backend \\(float requantization; qoperator model\\)`),
    );
    expect(text).not.toMatch(/auto/);
    expect(
      compareTensors(parseNpy(readFileSync(join(out, 'y.npy'))), loadTensorProto(join(dir, 'test_data_set_0', 'output_0.pb')).tensor) ??
        'ok',
    ).toBe('ok');
  }, 30_000);
});

describe('onnx-ptq run picks the executor by model and explains what cannot run integer', () => {
  it.skipIf(!mnist)('a float model runs on the float engine; JSON and text name the backend, never auto', async () => {
    const pb = fixture('models', 'mnist-8', 'test_data_set_0', 'input_0.pb')!;
    const out = mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-'));
    const r = await runJson([mnist!, '--input', pb, '--output-dir', out]);
    expect(r.executor).toBe('float');
    expect(r.quantization).toBe('float');
    expect(['native', 'wasm', 'js']).toContain(r.backend);
    const c = capture();
    expect(await run([mnist!, '--input', pb, '--output-dir', out, '--backend', 'js'])).toBe(0);
    expect(c.out()).toMatch(/^ran .* on the float engine on the js backend\n/);
  });

  it.skipIf(!mnist)(
    'a model from quantize() runs integer on every backend, bit-identical, with no float nodes',
    async () => {
      const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
      if (!images) return;
      const { openDataset } = await import('../src/data/dataset.js');
      const { quantize } = await import('../src/ptq/quantize.js');
      const ds = openDataset(images, { inputName: 'Input3', inputDims: [1, 1, 28, 28], limit: 16 });
      const { model: q } = await quantize(mnist!, { calibration: [...ds.samples()] });
      const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-'));
      saveModel(q, join(dir, 'q.onnx'));
      const pb = fixture('models', 'mnist-8', 'test_data_set_0', 'input_0.pb')!;
      let first: unknown;
      for (const b of loadedBackends.map((x) => x.name)) {
        const r = await runJson([join(dir, 'q.onnx'), '--input', pb, '--backend', b, '--output-dir', join(dir, b)]);
        expect(r).toMatchObject({ executor: 'integer', backend: b, quantization: 'qdq', requantMode: 'fixed-point', floatNodes: [] });
        const y = Array.from(parseNpy(readFileSync(r.outputs[0]!.file)).data as Float32Array);
        if (first === undefined) first = y;
        else expect(y, b).toEqual(first);
      }
    },
    60_000,
  );

  // x -> Q -> DQ -> Softmax -> y: Softmax has no integer form here, so it runs in float.
  const scale = Tensor.float32([0.05], []);
  const zp = new Tensor('uint8', new Uint8Array([128]), []);
  const qdqSoftmax = model(
    [
      makeNode('QuantizeLinear', ['x', 's', 'z'], ['xq'], {}, 'q'),
      makeNode('DequantizeLinear', ['xq', 's', 'z'], ['xd'], {}, 'dq'),
      makeNode('Softmax', ['xd'], ['y'], { axis: { type: 'int', value: 1 } }, 'the_softmax'),
    ],
    [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
    [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
    [
      ['s', scale],
      ['z', zp],
    ],
  );

  it('float fallbacks are listed with the reason; --strict-integer refuses them, names the node and suggests --executor float', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-'));
    saveModel(qdqSoftmax, join(dir, 'm.onnx'));
    writeNpy(join(dir, 'x.npy'), Tensor.float32([0.1, 0.2, -0.3, 1], [1, 4]));
    const r = await runJson([join(dir, 'm.onnx'), '--input', join(dir, 'x.npy'), '--output-dir', dir, '--backend', 'js']);
    expect(r.executor).toBe('integer');
    expect(r.floatNodes).toEqual([{ node: 'the_softmax', opType: 'Softmax', reason: expect.any(String) }]);
    const c = capture();
    expect(await run([join(dir, 'm.onnx'), '--input', join(dir, 'x.npy'), '--output-dir', dir])).toBe(0);
    expect(c.out()).toMatch(/1 node\(s\) ran in float .*\n {2}Softmax 'the_softmax': /);
    const err = await run([join(dir, 'm.onnx'), '--input', join(dir, 'x.npy'), '--output-dir', dir, '--strict-integer']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'FLOAT_FALLBACK' });
    expect((err as Error).message).toMatch(/Softmax node 'the_softmax' would run in float \(.+\).*use --executor float/);
  });

  it('a QOperator op with no integer and no float form: names the node, says the float engine cannot run it either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-run-q-'));
    const m = model(
      [makeNode('QLinearSigmoid', ['x', 's', 'z', 's', 'z'], ['y'], {}, 'qsig', 'com.microsoft')],
      [{ name: 'x', dtype: 'uint8', shape: [4] }],
      [{ name: 'y', dtype: 'uint8', shape: [4] }],
      [
        ['s', scale],
        ['z', zp],
      ],
      13,
      [{ domain: 'com.microsoft', version: 1 }],
    );
    saveModel(m, join(dir, 'm.onnx'));
    writeNpy(join(dir, 'x.npy'), new Tensor('uint8', new Uint8Array([1, 2, 3, 4]), [4]));
    capture();
    const err = await run([join(dir, 'm.onnx'), '--input', join(dir, 'x.npy'), '--output-dir', dir]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'UNSUPPORTED_OP' });
    expect((err as Error).message).toMatch(
      /integer executor cannot run this quantized model: .*qsig.*QLinearSigmoid.*the float engine cannot run it either/,
    );
    expect((err as Error).message).not.toMatch(/use --executor float/);
  });
});
