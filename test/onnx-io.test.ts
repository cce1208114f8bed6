// ONNX protobuf in and out: round trips, external data, typed fields, metadata, and bad files.
import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxPtqError } from '../src/errors.js';
import { ModelProto, TensorProto } from '../src/onnx/proto.js';
import { tensorFromProto } from '../src/onnx/tensor-proto.js';
import { InferenceSession, loadModel, modelToBytes, saveModel, Tensor, type Model } from '../src/onnx-api.js';
import { Graph, makeNode } from '../src/tools.js';
import { fixture } from './fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'onnx-ptq-io-'));

function tinyModel(): Model {
  const graph = new Graph({
    name: 'tiny',
    inputs: [{ name: 'X', dtype: 'float32', shape: ['N', 4] }],
    outputs: [{ name: 'Y', dtype: 'float32', shape: ['N', 4] }],
    initializers: new Map([['W', Tensor.float32([1, 2, 3, 4], [4])]]),
    nodes: [makeNode('Add', ['X', 'W'], ['T'], {}, 'add'), makeNode('Relu', ['T'], ['Y'], {}, 'relu')],
  });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 'onnx-ptq-test',
    producerVersion: '0',
    domain: '',
    modelVersion: 1,
    docString: '',
    metadata: new Map([['quant.mode', 'fixed-point']]),
    graph,
  };
}

function expectCode(fn: () => unknown, code: string, msg?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxPtqError);
    expect((e as OnnxPtqError).code).toBe(code);
    if (msg) expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error(`expected OnnxPtqError ${code}`);
}

describe('save and load', () => {
  it('round-trips a built model with opsets and metadata_props, and onnxruntime runs it', async () => {
    const dir = tmp();
    const path = join(dir, 'tiny.onnx');
    saveModel(tinyModel(), path);
    expect(readdirSync(dir)).toEqual(['tiny.onnx']); // no temporary file left behind
    const back = loadModel(path);
    expect(back.opsetImports).toEqual([{ domain: '', version: 13 }]);
    expect(back.metadata.get('quant.mode')).toBe('fixed-point');
    expect(back.graph.inputs[0]).toEqual({ name: 'X', dtype: 'float32', shape: ['N', 4] });
    expect(back.graph.nodes.map((n) => n.opType)).toEqual(['Add', 'Relu']);
    const x = Tensor.float32([-5, 0, 1, -1, 2, -3, 0.5, -10], [2, 4]);
    const ours = (await (await InferenceSession.create(back)).run({ X: x })).Y!;
    expect([...(ours.data as Float32Array)]).toEqual([0, 2, 4, 3, 3, 0, 3.5, 0]);
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
    const r = await s.run({ X: new ort.Tensor('float32', x.data as Float32Array, [2, 4]) });
    expect([...(r.Y!.data as Float32Array)]).toEqual([0, 2, 4, 3, 3, 0, 3.5, 0]);
  });

  const mnist = fixture('models', 'mnist-8', 'model.onnx');
  it.skipIf(!mnist)('mnist-8 saved by us keeps its outputs, and onnxruntime loads and agrees', async () => {
    const dir = tmp();
    const path = join(dir, 'mnist.onnx');
    const orig = loadModel(mnist!);
    saveModel(orig, path);
    const back = loadModel(path);
    expect(back.graph.nodes.length).toBe(orig.graph.nodes.length);
    for (const [k, t] of orig.graph.initializers) expect(back.graph.initializers.get(k)!.data).toEqual(t.data);
    const input = fixture('models', 'mnist-8', 'test_data_set_0', 'input_0.pb')!;
    const { tensor: x } = (await import('../src/onnx-api.js')).loadTensorProto(input);
    const a = (await (await InferenceSession.create(orig)).run({ Input3: x })).Plus214_Output_0!;
    const b = (await (await InferenceSession.create(path)).run({ Input3: x })).Plus214_Output_0!;
    expect(b.data).toEqual(a.data);
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
    const r = (await s.run({ Input3: new ort.Tensor('float32', x.data as Float32Array, [1, 1, 28, 28]) })).Plus214_Output_0!;
    const R = r.data as Float32Array;
    const A = a.data as Float32Array;
    for (let i = 0; i < 10; i++) expect(Math.abs(R[i]! - A[i]!)).toBeLessThan(1e-2); // logits ~1e3
  });

  const sr = fixture('models', 'super-resolution-10', 'model.onnx');
  it.skipIf(!sr)('writes and reads external data next to the model; onnxruntime loads it', async () => {
    const dir = tmp();
    const path = join(dir, 'sr.onnx');
    const orig = loadModel(sr!);
    saveModel(orig, path, { externalData: { location: 'sr.weights', threshold: 1024 } });
    expect(statSync(path).size).toBeLessThan(20_000);
    expect(statSync(join(dir, 'sr.weights')).size).toBeGreaterThan(200_000);
    const back = loadModel(path);
    for (const [k, t] of orig.graph.initializers) expect(back.graph.initializers.get(k)!.data).toEqual(t.data);
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
    expect(s.inputNames).toEqual(['input']);
  });

  it('refuses external data locations that escape the model directory', () => {
    const dir = tmp();
    for (const location of ['../secret.bin', '/etc/passwd', 'a/../../x.bin']) {
      const bytes = modelBytesWithInitializer({
        name: 'W',
        dims: [1],
        data_type: 1,
        data_location: 1,
        external_data: [{ key: 'location', value: location }],
      });
      writeFileSync(join(dir, 'm.onnx'), bytes);
      expectCode(() => loadModel(join(dir, 'm.onnx')), 'INVALID_MODEL', /escapes the model directory/);
    }
  });

  it('refuses external data reached through a symbolic link that points outside the model directory', () => {
    const outside = tmp(),
      dir = tmp();
    writeFileSync(join(outside, 'secret.bin'), Float32Array.from([42, 43, 44, 45]));
    symlinkSync(join(outside, 'secret.bin'), join(dir, 'w.bin')); // a file link
    symlinkSync(outside, join(dir, 'sub')); // a directory link
    for (const location of ['w.bin', 'sub/secret.bin']) {
      const bytes = modelBytesWithInitializer({
        name: 'W',
        dims: [4],
        data_type: 1,
        data_location: 1,
        external_data: [{ key: 'location', value: location }],
      });
      writeFileSync(join(dir, 'm.onnx'), bytes);
      expectCode(() => loadModel(join(dir, 'm.onnx')), 'INVALID_MODEL', /outside the model directory/);
    }
    // A link that stays inside the folder is followed, and a FIFO is refused rather than opened.
    writeFileSync(join(dir, 'real.bin'), Float32Array.from([1, 2, 3, 4]));
    symlinkSync('real.bin', join(dir, 'inside.bin'));
    writeFileSync(
      join(dir, 'm.onnx'),
      modelBytesWithInitializer({
        name: 'W',
        dims: [4],
        data_type: 1,
        data_location: 1,
        external_data: [{ key: 'location', value: 'inside.bin' }],
      }),
    );
    expect(Array.from(loadModel(join(dir, 'm.onnx')).graph.initializers.get('W')!.data as Float32Array)).toEqual([1, 2, 3, 4]);
    execFileSync('mkfifo', [join(dir, 'fifo.bin')]);
    writeFileSync(
      join(dir, 'm.onnx'),
      modelBytesWithInitializer({
        name: 'W',
        dims: [4],
        data_type: 1,
        data_location: 1,
        external_data: [{ key: 'location', value: 'fifo.bin' }],
      }),
    );
    expectCode(() => loadModel(join(dir, 'm.onnx')), 'INVALID_MODEL', /not a regular file/);
  });

  it('refuses external data that is shorter than declared, and external data loaded from bytes', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'w.bin'), new Uint8Array(8));
    const bytes = modelBytesWithInitializer({
      name: 'W',
      dims: [4],
      data_type: 1,
      data_location: 1,
      external_data: [{ key: 'location', value: 'w.bin' }],
    });
    writeFileSync(join(dir, 'm.onnx'), bytes);
    expectCode(() => loadModel(join(dir, 'm.onnx')), 'INVALID_MODEL', /runs past the end/);
    expectCode(() => loadModel(bytes), 'IO_ERROR', /external file 'w.bin'/);
  });
});

/** A one-node Identity model whose single initializer is `tp` (a TensorProto plain object). */
function modelBytesWithInitializer(tp: Record<string, unknown>): Uint8Array {
  const m = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [{ op_type: 'Identity', input: ['W'], output: ['Y'] }],
      initializer: [tp],
      output: [{ name: 'Y', type: { tensor_type: { elem_type: 1 } } }],
    },
  };
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

describe('tensor data forms', () => {
  const decode = (o: Record<string, unknown>) =>
    tensorFromProto(TensorProto.toObject(TensorProto.decode(TensorProto.encode(TensorProto.fromObject(o)).finish())) as never);
  it('reads typed fields for every supported type', () => {
    expect(decode({ dims: [2], data_type: 1, float_data: [1.5, -2] }).data).toEqual(Float32Array.of(1.5, -2));
    expect(decode({ dims: [3], data_type: 3, int32_data: [-128, 0, 127] }).data).toEqual(Int8Array.of(-128, 0, 127));
    expect(decode({ dims: [2], data_type: 2, int32_data: [0, 255] }).data).toEqual(Uint8Array.of(0, 255));
    expect(decode({ dims: [2], data_type: 6, int32_data: [-7, 2147483647] }).data).toEqual(Int32Array.of(-7, 2147483647));
    expect(decode({ dims: [2], data_type: 7, int64_data: ['-9223372036854775808', '42'] }).data).toEqual(
      BigInt64Array.of(-(2n ** 63n), 42n),
    );
    expect(decode({ dims: [1], data_type: 13, uint64_data: ['18446744073709551615'] }).data).toEqual(BigUint64Array.of(2n ** 64n - 1n));
    expect(decode({ dims: [2], data_type: 11, double_data: [0.1, 1e300] }).data).toEqual(Float64Array.of(0.1, 1e300));
    expect(decode({ dims: [2], data_type: 9, int32_data: [1, 0] }).dtype).toBe('bool');
    // int4/uint4: two per byte, element 0 in the low nibble; int32_data holds one packed byte an entry.
    expect(decode({ dims: [3], data_type: 22, raw_data: Uint8Array.of(0x8f, 0x07) }).data).toEqual(Int8Array.of(-1, -8, 7));
    expect(decode({ dims: [3], data_type: 21, int32_data: [0x8f, 0x07] }).data).toEqual(Uint8Array.of(15, 8, 7));
    expect(() => decode({ dims: [3], data_type: 22, raw_data: Uint8Array.of(0x8f, 0x07, 0) })).toThrow(/3 int4 elements \(2 bytes\)/);
    expect(decode({ dims: [2], data_type: 8, string_data: [Buffer.from('a'), Buffer.from('bé')] }).data).toEqual(['a', 'bé']);
    expect(decode({ dims: [2, 1], data_type: 1, raw_data: new Uint8Array(Float32Array.of(3, 4).buffer) }).data).toEqual(
      Float32Array.of(3, 4),
    );
    expect(decode({ dims: [], data_type: 7, raw_data: new Uint8Array(BigInt64Array.of(-3n).buffer) }).data).toEqual(BigInt64Array.of(-3n));
  });
});

describe('bad model files', () => {
  it('empty, truncated, non-ONNX and missing files raise OnnxPtqError', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'empty.onnx'), new Uint8Array(0));
    expectCode(() => loadModel(join(dir, 'empty.onnx')), 'INVALID_MODEL', /empty/);
    writeFileSync(join(dir, 'text.onnx'), 'this is not a model, just some text\n');
    expectCode(() => loadModel(join(dir, 'text.onnx')), 'INVALID_MODEL', /text.onnx/);
    expectCode(() => loadModel(join(dir, 'nope.onnx')), 'IO_ERROR', /nope.onnx/);
    expectCode(() => loadModel(new Uint8Array([8, 7])), 'INVALID_MODEL'); // ir_version only, no graph
    const full = modelToBytes(tinyModel());
    for (const cut of [1, 5, Math.floor(full.length / 2), full.length - 3])
      expectCode(() => loadModel(full.subarray(0, cut)), 'INVALID_MODEL');
  });

  const mnist = fixture('models', 'mnist-8', 'model.onnx');
  it.skipIf(!mnist)('a truncated real model file is refused', () => {
    const dir = tmp();
    const bytes = readFileSync(mnist!);
    writeFileSync(join(dir, 'cut.onnx'), bytes.subarray(0, bytes.length - 1000));
    expectCode(() => loadModel(join(dir, 'cut.onnx')), 'INVALID_MODEL');
  });

  it('declared size vs data mismatch names the tensor', () => {
    const raw = new Uint8Array(Float32Array.of(1, 2).buffer);
    expectCode(
      () => loadModel(modelBytesWithInitializer({ name: 'W', dims: [3], data_type: 1, raw_data: raw })),
      'INVALID_MODEL',
      /tensor 'W' declares 3 float32 elements \(12 bytes\) but its data holds 8 bytes/,
    );
    expectCode(
      () => loadModel(modelBytesWithInitializer({ name: 'K', dims: [4], data_type: 1, float_data: [1] })),
      'INVALID_MODEL',
      /tensor 'K' declares 4/,
    );
    expectCode(
      () => loadModel(modelBytesWithInitializer({ name: 'N', dims: [-1], data_type: 1, float_data: [1] })),
      'INVALID_MODEL',
      /invalid dims/,
    );
  });

  it('huge declared sizes are refused before allocation', () => {
    const t0 = performance.now();
    const raw = new Uint8Array(4);
    expectCode(
      () => loadModel(modelBytesWithInitializer({ name: 'Huge', dims: [1_000_000, 1_000_000, 1000], data_type: 1, raw_data: raw })),
      'INVALID_MODEL',
      /tensor 'Huge'.*refused before allocation/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('unsupported element types are named', () => {
    expectCode(
      () => loadModel(modelBytesWithInitializer({ name: 'B', dims: [1], data_type: 16, raw_data: new Uint8Array(2) })),
      'UNSUPPORTED_OP',
      /tensor 'B' has data type BFLOAT16/,
    );
  });

  it('save leaves no file behind when it fails', () => {
    const dir = tmp();
    const m = tinyModel();
    expectCode(() => saveModel(m, join(dir, 'no-such-dir', 'x.onnx')), 'IO_ERROR');
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
